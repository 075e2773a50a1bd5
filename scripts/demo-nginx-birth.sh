#!/usr/bin/env bash
#
# demo-nginx-birth.sh - "N syscalls just to start nginx", measured.
#
# Starts the agent, then nginx in a real runc container under a kubelet-style
# cgroup path (/kubepods/burstable/pod<uid>/<container-id>), waits for its
# PodBirthCertificate and prints what the kernel did to start it. The
# certificate stays in $KG_DEMO_DIR (default /var/lib/kernel-gossip-demo), or
# with --kubeconfig FILE in that API server (kubectl describe pbc -n
# kernel-gossip-demo nginx-birth).
set -euo pipefail
# shellcheck source=lib/demo.sh
. "$(dirname "$0")/lib/demo.sh"
demo_args "$@"
demo_setup

out=${KG_DEMO_DIR:-/var/lib/kernel-gossip-demo}
demo_agent_start "$out"

uid=$(demo_new_pod nginx)
cid=$(kg_new_cid)
path=$(kg_cgpath_cgroupfs burstable "$uid" "$cid")
kg_pod_cgroup_create "$(dirname "$path")"
bundle=$(kg_tmpdir)/nginx
kg_bundle_nginx "$bundle"
echo "starting nginx in a runc container, cgroup $path"
kg_run_detached "demo-nginx-${uid:0:8}" "$bundle" "$path"
kg_nginx_wait_listening "demo-nginx-${uid:0:8}" 30
cert=$(demo_resource pbc -birth nginx "$uid" "$out" 30)
kg_kill "demo-nginx-${uid:0:8}"
kg_agent_stop

echo
echo "$(demo_jq "$cert" .status.syscalls.total) syscalls just to start nginx" \
	"($(demo_jq "$cert" .status.durationMs) ms from cgroup creation to its first listen())"
echo
echo "timeline (ms after the container's cgroup was created):"
demo_jq "$cert" '.status.timeline[] | "  \(.atMs | tostring | .[0:8])\t\(.phase)\t\(.detail // "")"'
echo
echo "where the syscalls went:"
demo_jq "$cert" '.status.containers[0].syscalls.top[:8][] | "  \(.count)\t\(.name)"'
echo "  processes $(demo_jq "$cert" .status.containers[0].processes.total)," \
	"execs $(demo_jq "$cert" .status.execs.total)," \
	"files opened $(demo_jq "$cert" .status.files.opened) ($(demo_jq "$cert" .status.files.failed) failed)," \
	"namespaces $(demo_jq "$cert" .status.namespaces.created)," \
	"cgroups $(demo_jq "$cert" .status.cgroups.created)," \
	"mounts $(demo_jq "$cert" .status.mounts.succeeded)"
echo
echo "insights:"
demo_insights "$cert"
echo
if [[ -n $DEMO_KUBECONFIG ]]; then
	demo_kubectl get pbc -n "$DEMO_NS"
	echo "certificate: kubectl describe pbc -n $DEMO_NS nginx-birth"
else
	echo "certificate: $cert"
fi
