#!/usr/bin/env bash
#
# tests/integration/test_birth.sh - real runc containers get PodBirthCertificates
# whose numbers agree with an independent count.
#
# For each kubelet cgroup layout (cgroupfs driver, systemd driver with the
# containerd and CRI-O scope names, guaranteed and burstable/besteffort QoS) a
# busybox container runs `sh -c 'echo hello; cat /etc/hostname; ls /; sleep 1'`
# while bpftrace counts every syscall of the same cgroup. Then nginx starts
# detached and its certificate must settle on readiness (listen()).
# Asserted for each: the pod and container are identified from the cgroup
# path, the entrypoint and its children are in the exec chain in order, the
# timeline is ordered, counts are consistent (execs <= processes <= syscalls),
# and the syscall total equals bpftrace's (tolerance: KG_SYSCALL_TOLERANCE, 0).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containers.sh
. "$here/../lib/containers.sh"
# shellcheck source=../lib/agent.sh
. "$here/../lib/agent.sh"
trap 'kg_agent_kill; kg_cleanup_all' EXIT

TOLERANCE=${KG_SYSCALL_TOLERANCE:-0}
out=$(kg_tmpdir)/out
report=${KG_REPORT:-/dev/null}
KG_CONCERN=birth
agreement=''	# "label agent=bpftrace, ..." for the kernel matrix's row

# quiet 3 s: the busybox entrypoint sleeps 1 s, and must settle by exiting
kg_agent_start "$out" --birth-quiet-ms 3000

check_cert() {
	local cert=$1 uid=$2 cid=$3 path=$4 driver=$5 qos=$6 settled=$7 counted=$8 label=$9
	local total execs procs diff prev t

	kg_check "$label: pod uid from the path" [ "$(kg_jq "$cert" .spec.podUID)" = "$uid" ]
	kg_check "$label: container id from the path" [ "$(kg_jq "$cert" .spec.containerID)" = "$cid" ]
	kg_check "$label: cgroup path" [ "$(kg_jq "$cert" .spec.cgroupPath)" = "$path" ]
	kg_check "$label: cgroup driver $driver" [ "$(kg_jq "$cert" .spec.cgroupDriver)" = "$driver" ]
	kg_check "$label: QoS class $qos" [ "$(kg_jq "$cert" .spec.qosClass)" = "$qos" ]
	kg_check "$label: settled by $settled" \
		[ "$(kg_jq "$cert" '.status.containers[0].settledBy')" = "$settled" ]
	kg_check "$label: events complete" \
		[ "$(kg_jq "$cert" '.status.containers[0].completeness.complete')" = true ]

	total=$(kg_jq "$cert" .status.syscalls.total)
	execs=$(kg_jq "$cert" .status.execs.total)
	procs=$(kg_jq "$cert" '.status.containers[0].processes.total')
	kg_check "$label: execs ($execs) >= 1" [ "$execs" -ge 1 ]
	kg_check "$label: execs ($execs) <= processes ($procs)" [ "$execs" -le "$procs" ]
	kg_check "$label: processes ($procs) <= syscalls ($total)" [ "$procs" -le "$total" ]
	kg_check "$label: namespaces created" [ "$(kg_jq "$cert" .status.namespaces.created)" -ge 5 ]
	kg_check "$label: files opened" [ "$(kg_jq "$cert" .status.files.opened)" -gt 0 ]

	# the timeline is ordered and has the phases every container start has
	prev=-1
	for t in $(kg_jq "$cert" '.status.timeline[].atMs'); do
		awk -v a="$prev" -v b="$t" 'BEGIN { exit !(b >= a) }' ||
			kg_fail "$label: timeline not ordered ($prev then $t)"
		prev=$t
	done
	for phase in cgroupCreated runtimeAttached firstSyscall namespacesCreated entrypointExec settled; do
		kg_check "$label: timeline has $phase" \
			[ "$(kg_jq "$cert" "[.status.timeline[].phase] | index(\"$phase\") != null")" = true ]
	done

	diff=$((total - counted))
	diff=${diff#-}
	echo "  ==   $label: agent counted $total syscalls, bpftrace $counted (difference $diff)"
	printf '| %s | %s | %s | %s |\n' "$label" "$total" "$counted" "$diff" >>"$report"
	agreement+="${agreement:+, }${label#busybox } $total=$counted"
	kg_check "$label: syscall total within $TOLERANCE of the independent count" \
		[ "$diff" -le "$TOLERANCE" ]
}

busybox_case() {
	local layout=$1 qos=$2 runtime=$3 label=$4 uid cid path bundle cert cnt counted chain
	uid=$(kg_new_uid)
	cid=$(kg_new_cid)
	if [[ $layout == cgroupfs ]]; then
		path=$(kg_cgpath_cgroupfs "$qos" "$uid" "$cid")
	else
		path=$(kg_cgpath_systemd "$qos" "$uid" "$cid" "$runtime")
	fi
	kg_pod_cgroup_create "$(dirname "$path")"
	kg_container_cgroup_precreate "$path"
	cnt=$(kg_tmpdir)/count.$uid
	kg_syscount_start "$path" "$cnt"
	bundle=$(kg_tmpdir)/bundle.$uid
	kg_bundle_busybox "$bundle" sh -c 'echo hello; cat /etc/hostname; ls /; sleep 1'
	kg_run "bb-${uid:0:8}" "$bundle" "$path" || kg_fail "$label: busybox container failed"
	cert=$out/podbirthcertificates/pod-$uid-birth.json
	kg_wait_file "$cert" 20
	counted=$(kg_syscount_stop "$cnt")
	check_cert "$cert" "$uid" "$cid" "$path" "$layout" "$qos" exited "$counted" "$label"
	# busybox runs cat by re-executing itself (/proc/self/exe), ls in-process
	# (a NOFORK applet) and the last command, sleep, in place of the shell:
	# the chain shows what really ran
	chain=$(kg_jq "$cert" '[.status.containers[0].execs.chain[] | .exe + ":" + .args] | join(",")')
	# runc init re-executes itself from a sealed copy of its binary (the
	# CVE-2019-5736 defence) as it starts; on a slow machine (a guest under
	# emulation) that exec comes after runc has moved it into the cgroup, so
	# it is, truthfully, the first exec of the birth: not the entrypoint
	if [[ $chain == "runc:runc init,"* ]]; then
		echo "  ==   $label: runc init re-executed itself inside the cgroup first"
		chain=${chain#runc:runc init,}
		agreement+=" (runc init exec'd in the cgroup)"
	fi
	kg_check "$label: exec chain is the entrypoint then its children ($chain)" \
		[ "$chain" = "busybox:sh -c echo hello; cat /etc/hostname; ls /; sleep 1,busybox:cat /etc/hostname,busybox:sleep 1" ]
	[[ $runtime == "" ]] || kg_check "$label: runtime $runtime" \
		[ "$(kg_jq "$cert" '.status.containers[0].runtime')" = "$runtime" ]
}

nginx_case() {
	local uid cid path cnt bundle cert counted
	uid=$(kg_new_uid)
	cid=$(kg_new_cid)
	path=$(kg_cgpath_cgroupfs burstable "$uid" "$cid")
	kg_pod_cgroup_create "$(dirname "$path")"
	kg_container_cgroup_precreate "$path"
	cnt=$(kg_tmpdir)/count.nginx
	kg_syscount_start "$path" "$cnt"
	bundle=$(kg_tmpdir)/bundle.nginx
	kg_bundle_nginx "$bundle"
	kg_run_detached "ng-${uid:0:8}" "$bundle" "$path" || kg_fail "nginx container failed to start"
	kg_nginx_wait_listening "ng-${uid:0:8}" 20 || kg_fail "nginx never listened"
	cert=$out/podbirthcertificates/pod-$uid-birth.json
	kg_wait_file "$cert" 20
	counted=$(kg_syscount_stop "$cnt")
	check_cert "$cert" "$uid" "$cid" "$path" cgroupfs burstable ready "$counted" "nginx cgroupfs burstable"
	# (after runc init's own re-exec, when that came after the move: see busybox_case)
	kg_check "nginx: entrypoint is nginx" \
		[ "$(kg_jq "$cert" '[.status.containers[0].execs.chain[] | select(.args | startswith("runc init") | not)][0].binary')" = /usr/sbin/nginx ]
	kg_check "nginx: timeline has ready" \
		[ "$(kg_jq "$cert" '[.status.timeline[].phase] | index("ready") != null')" = true ]
	kg_nginx_get "ng-${uid:0:8}" >/dev/null || kg_fail "nginx did not serve a page"
	kg_kill "ng-${uid:0:8}"
}

# KG_BIRTH_CASES picks some of the cases (the kernel matrix runs a few in
# slow emulated guests: the layouts are parsed the same on every kernel).
# (if, not ||: set -e must still stop a case at its first failing command)
cases=${KG_BIRTH_CASES:-cgroupfs-besteffort cgroupfs-guaranteed systemd-containerd systemd-crio nginx}
ncases=0
want() {
	[[ " $cases " == *" $1 "* ]] || return 1
	ncases=$((ncases + 1))
}

echo "birth: busybox containers under each kubelet cgroup layout"
if want cgroupfs-besteffort; then
	busybox_case cgroupfs besteffort "" "busybox cgroupfs besteffort"
fi
if want cgroupfs-guaranteed; then
	busybox_case cgroupfs guaranteed "" "busybox cgroupfs guaranteed"
fi
if want systemd-containerd; then
	busybox_case systemd burstable containerd "busybox systemd containerd"
fi
if want systemd-crio; then
	busybox_case systemd besteffort cri-o "busybox systemd cri-o"
fi

echo "birth: nginx settles when it listens"
if want nginx; then
	nginx_case
fi

kg_agent_stop
((ncases > 0)) || kg_fail "KG_BIRTH_CASES='$cases' names no case"
kg_result birth PASS "$ncases certificates identified to pod UID and container id; syscalls agent = bpftrace: $agreement"
echo "birth: all checks passed"
