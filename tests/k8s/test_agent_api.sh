#!/usr/bin/env bash
#
# tests/k8s/test_agent_api.sh - the agent writes its resources to a Kubernetes
# API server: real BPF, real runc containers, the test API server of
# tests/k8s/apiserver.py (TLS, tokens, RBAC from deploy/, CRD validation and
# pruning, server-side apply, faults), real kubectl to read the result.
#
# Asserted: the agent runs with the least-privilege RBAC of deploy/ (its
# service account's token); a container of a pod gets <pod>-birth in the
# pod's namespace, owned by the pod, with the measured status readable with
# kubectl get/describe; writes are server-side applies with fieldManager
# kernel-gossip; a restart duplicates nothing; kube-system pods are skipped;
# the annotated mode writes only for pods annotated kernel-gossip.io/monitor;
# 429 (with Retry-After) and 503 are retried until written; a missing CRD is
# reported with the fix and written once installed; a 422 is not retried;
# in-cluster configuration works, and a rotated service-account token is
# picked up after a 401; a throttled container gets a KernelWhisper.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containers.sh
. "$here/../lib/containers.sh"
# shellcheck source=../lib/agent.sh
. "$here/../lib/agent.sh"

tmp=$(kg_tmpdir)
api=$tmp/api
server_pid=
stop_server() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	server_pid=
}
trap 'kg_agent_kill; stop_server; kg_cleanup_all' EXIT

command -v kubectl >/dev/null || kg_fail "kubectl is missing (see tests/k8s/README.md)"
# the same floor as test_kubectl.sh: Debian 12's kubernetes-client (1.20) cannot apply -k
minor=$(kubectl version --client -o json 2>/dev/null | jq -r '.clientVersion.minor' | tr -dc 0-9)
((${minor:-0} >= 27)) || kg_fail "kubectl 1.${minor:-?} is too old: kubectl >= 1.27 is needed (see tests/k8s/README.md)"
mkdir -p "$api"
: >"$tmp/apiserver.log"
python3 "$here/apiserver.py" --port 0 --dir "$api" >"$tmp/apiserver.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q '^ready' "$tmp/apiserver.log" && break; sleep 0.1; done
grep -q '^ready' "$tmp/apiserver.log" || kg_fail "the test API server did not start: $(cat "$tmp/apiserver.log")"
url=$(cat "$api/url")
admin_token=$(cat "$api/token")
k() { kubectl --kubeconfig "$api/kubeconfig" "$@"; }
admin() {	# METHOD PATH [BODY]
	curl -sS --cacert "$api/ca.crt" -H "Authorization: Bearer $admin_token" \
		-H 'Content-Type: application/json' -X "$1" "$url$2" ${3:+-d "$3"}
}
# requests the agent sent: admin GET /_admin/requests, filtered with jq
agent_requests() {
	admin GET /_admin/requests | jq -rc "[.items[] | select(.userAgent // \"\" | startswith(\"kernel-gossip\"))] | $1"
}

# metrics.k8s.io served from the start, as metrics-server usually is
admin POST /_admin/metrics '{"mode": "on"}' >/dev/null
echo "api: CRDs and the deploy/ manifests applied with kubectl"
k apply -f "$KG_ROOT/crds/" >/dev/null || kg_fail "kubectl apply -f crds/"
k apply -k "$KG_ROOT/deploy/" >/dev/null || kg_fail "kubectl apply -k deploy/"
k create namespace demo >/dev/null

node=kg-test-node
# new_pod NAMESPACE NAME [annotate] [CID] -> prints the pod's UID. With CID,
# the status a kubelet would report once that container runs (the test
# server keeps a created pod's status).
new_pod() {
	local ann='' status=''
	[[ ${3:-} == annotate ]] && ann='"annotations": {"kernel-gossip.io/monitor": "true"},'
	[[ -n ${4:-} ]] && status=", \"status\": {\"containerStatuses\": [{\"name\": \"app\", \"containerID\": \"containerd://$4\"}]}"
	k apply -f - >/dev/null <<EOF
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "$2", "namespace": "$1", $ann "labels": {"app": "$2"}},
 "spec": {"nodeName": "$node", "containers": [{"name": "app", "image": "busybox",
   "resources": {"limits": {"cpu": "500m"}}}]}$status}
EOF
	k get pod -n "$1" "$2" -o jsonpath='{.metadata.uid}'
}
# start_container UID [CID] -> runs a short busybox container in that pod's cgroup
start_container() {
	local uid=$1 cid=${2:-} path bundle
	[[ -n $cid ]] || cid=$(kg_new_cid)
	path=$(kg_cgpath_cgroupfs burstable "$uid" "$cid")
	kg_pod_cgroup_create "$(dirname "$path")"
	bundle=$tmp/bundle-$cid
	kg_bundle_busybox "$bundle" sh -c 'echo hello; cat /etc/hostname'
	kg_run "api-${cid:0:8}" "$bundle" "$path" >/dev/null || kg_fail "container failed"
	echo "$cid"
}
wait_object() {	# NAMESPACE KIND NAME TIMEOUT_S
	local deadline=$((SECONDS + $4))
	until k get "$2" -n "$1" "$3" -o json 2>/dev/null | jq -e '.status.syscalls.total // .status.kernelTruth.periods' >/dev/null; do
		((SECONDS < deadline)) || kg_fail "no $2 $1/$3 with a status after $4 s"
		sleep 0.2
	done
}

start_agent() {
	kg_agent_start "$tmp/unused" --kubeconfig "$api/kubeconfig-agent" --node-name "$node" \
		--birth-quiet-ms 500 "$@"
	grep -q 'event=k8s.pods_listed' "$(kg_agent_log)" || sleep 1
}

echo "api: a container's certificate, written with the agent's least-privilege RBAC"
cid=$(kg_new_cid)
web=$(new_pod demo web annotate "$cid")
start_agent
start_container "$web" "$cid" >/dev/null
wait_object demo pbc web-birth 20
obj=$(k get pbc -n demo web-birth -o json)
kg_check "owned by the pod" [ "$(jq -r '.metadata.ownerReferences[0] | "\(.kind)/\(.name)/\(.uid)"' <<<"$obj")" = "Pod/web/$web" ]
kg_check "spec names the pod and container" \
	[ "$(jq -r '"\(.spec.podName)/\(.spec.podNamespace)/\(.spec.containerID)/\(.spec.containerName)"' <<<"$obj")" = "web/demo/$cid/app" ]
total=$(jq -r .status.syscalls.total <<<"$obj")
kg_check "status holds the measured syscalls ($total)" [ "$total" -gt 100 ]
kg_check "observedGeneration follows the object" \
	[ "$(jq -r '.status.observedGeneration == .metadata.generation' <<<"$obj")" = true ]
kg_check "kubectl get pbc shows the columns" \
	grep -q "web-birth *web *$total" <<<"$(k get pbc -n demo)"
k describe pbc -n demo web-birth | grep -q "Syscalls:" || kg_fail "kubectl describe pbc"
kg_pass "kubectl describe pbc"
kg_check "every write was a server-side apply by fieldManager kernel-gossip" \
	[ "$(agent_requests 'map(select(.method == "PATCH")) | all(.contentType == "application/apply-patch+yaml" and .query.fieldManager == "kernel-gossip" and .query.force == "true")')" = true ]
kg_check "the agent never deleted anything" \
	[ "$(agent_requests 'map(select(.method == "DELETE")) | length')" = 0 ]

echo "api: a restart duplicates nothing"
kg_agent_stop
start_agent
start_container "$web" >/dev/null
sleep 2
wait_object demo pbc web-birth 20
kg_check "still one certificate in demo" [ "$(k get pbc -n demo -o json | jq '.items | length')" = 1 ]

echo "api: kube-system is skipped, annotated mode writes only annotated pods"
sys=$(new_pod kube-system sysd annotate)
plain=$(new_pod demo plain)
start_container "$sys" >/dev/null
sleep 3
kg_check "no certificate in kube-system" [ "$(k get pbc -n kube-system -o json | jq '.items | length')" = 0 ]
kg_agent_stop
start_agent --pod-selection annotated
start_container "$plain" >/dev/null
web2=$(new_pod demo web2 annotate)
start_container "$web2" >/dev/null
wait_object demo pbc web2-birth 20
kg_check "the unannotated pod got nothing" [ "$(k get pbc -n demo plain-birth 2>/dev/null | wc -l)" = 0 ]

echo "api: 429 with Retry-After, then 503, are retried until written"
admin POST /_admin/faults '{"path_regex": "podbirthcertificates/web3-birth$", "method": "PATCH", "status": 429, "retry_after": 1, "count": 2}' >/dev/null
admin POST /_admin/faults '{"path_regex": "podbirthcertificates/web3-birth/status", "method": "PATCH", "status": 503, "count": 2}' >/dev/null
web3=$(new_pod demo web3 annotate)
start_container "$web3" >/dev/null
wait_object demo pbc web3-birth 30
codes=$(agent_requests 'map(select(.path | test("web3-birth"))) | map(.status) | join(",")')
kg_check "the agent saw 429,429,201 (created) then 503,503,200 on /status ($codes)" \
	[ "$codes" = "429,429,201,503,503,200" ]
gap=$(agent_requests 'map(select(.path | test("web3-birth$"))) | .[1].time - .[0].time')
kg_check "it waited for Retry-After (${gap} s)" awk -v g="$gap" 'BEGIN { exit !(g >= 0.95) }'

echo "api: a 422 is not retried"
admin POST /_admin/faults '{"path_regex": "podbirthcertificates/web4-birth$", "method": "PATCH", "status": 422, "count": 5}' >/dev/null
web4=$(new_pod demo web4 annotate)
start_container "$web4" >/dev/null
sleep 4
kg_check "one attempt only" [ "$(agent_requests 'map(select(.path | test("web4-birth"))) | length')" = 1 ]
grep -q 'event=k8s.rejected .*web4-birth.*status=422' "$(kg_agent_log)" || kg_fail "no k8s.rejected log line"
kg_pass "the refusal is logged with its status"

echo "api: a missing CRD is reported with the fix, and the resource written once installed"
k delete crd podbirthcertificates.kernel.gossip.io >/dev/null
web5=$(new_pod demo web5 annotate)
start_container "$web5" >/dev/null
deadline=$((SECONDS + 15))
until grep -q 'event=k8s.crd_missing .*kubectl apply -f crds/' "$(kg_agent_log)"; do
	((SECONDS < deadline)) || kg_fail "no k8s.crd_missing line with the fix"
	sleep 0.2
done
kg_pass "404 logged with the fix"
k apply -f "$KG_ROOT/crds/" >/dev/null
wait_object demo pbc web5-birth 40
kg_agent_stop

echo "api: in-cluster configuration, and a rotated token after a 401"
host=${url#https://}
cat >"$tmp/incluster.sh" <<EOF
mount --bind "$api/serviceaccount" /var/run/secrets/kubernetes.io/serviceaccount 2>/dev/null ||
	{ mkdir -p /var/run/secrets/kubernetes.io && mount -t tmpfs none /var/run/secrets/kubernetes.io &&
	  mkdir -p /var/run/secrets/kubernetes.io/serviceaccount &&
	  mount --bind "$api/serviceaccount" /var/run/secrets/kubernetes.io/serviceaccount; }
exec env KUBERNETES_SERVICE_HOST=${host%:*} KUBERNETES_SERVICE_PORT=${host##*:} "\$@"
EOF
KG_AGENT_SAVED=$KG_AGENT
KG_AGENT="$tmp/agent-incluster"
printf '#!/bin/sh\nexec unshare -m sh %s %s "$@"\n' "$tmp/incluster.sh" "$KG_AGENT_SAVED" >"$KG_AGENT"
chmod +x "$KG_AGENT"
kg_agent_start "$tmp/unused" --kubernetes --node-name "$node" --birth-quiet-ms 500
KG_AGENT=$KG_AGENT_SAVED
grep -q 'source="in-cluster service account"' "$(kg_agent_log)" || kg_fail "not in-cluster"
kg_pass "in-cluster: service account token and CA"
web6=$(new_pod demo web6 annotate)
start_container "$web6" >/dev/null
wait_object demo pbc web6-birth 20
admin POST /_admin/rotate-token '{"who": "agent", "revoke_old": true}' >/dev/null
web7=$(new_pod demo web7 annotate)
start_container "$web7" >/dev/null
wait_object demo pbc web7-birth 30
kg_check "a 401 came, and the token was read again at once (401,201)" \
	[ "$(agent_requests 'map(select(.path | test("web7-birth$"))) | map(.status) | join(",")')" = "401,201" ]

echo "api: a throttled container gets a KernelWhisper, with the metrics API's view"
cid=$(kg_new_cid)
hot=$(new_pod demo hot annotate "$cid")
admin POST /_admin/podmetrics "{\"apiVersion\": \"metrics.k8s.io/v1beta1\", \"kind\": \"PodMetrics\",
	\"metadata\": {\"name\": \"hot\", \"namespace\": \"demo\"}, \"timestamp\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",
	\"window\": \"30s\", \"containers\": [{\"name\": \"app\", \"usage\": {\"cpu\": \"123m\", \"memory\": \"4Mi\"}}]}" >/dev/null
path=$(kg_cgpath_cgroupfs burstable "$hot" "$cid")
kg_pod_cgroup_create "$(dirname "$path")"
bundle=$tmp/bundle-hot
kg_bundle_busybox "$bundle" /bursty --threads 2 --burst-ms 60 --interval-ms 500 --duration-s 4
cp "$KG_ROOT/build/bursty" "$bundle/rootfs/bursty"
jq '.linux.resources.cpu = {"quota": 20000, "period": 100000}' "$bundle/config.json" >"$bundle/c.json"
mv "$bundle/c.json" "$bundle/config.json"
kg_run "api-hot" "$bundle" "$path" >/dev/null || kg_fail "throttled container failed"
wait_object demo kw hot-cpu-throttle 20
sleep 3	# the last periods' counters arrive with the next samples
kw=$(k get kw -n demo hot-cpu-throttle -o json)
kg_check "the whisper is the pod's, with kernel truth" \
	[ "$(jq -r '"\(.spec.podName) \(.status.kernelTruth.throttledPeriods > 0)"' <<<"$kw")" = "hot true" ]
kg_check "the metrics view is what kubectl top shows (123m over 30 s)" \
	[ "$(jq -r '"\(.status.metricsView.source) \(.status.metricsView.averageMillicores) \(.status.metricsView.windowSeconds)"' <<<"$kw")" = "metrics.k8s.io PodMetrics (kubectl top) 123 30" ]
kg_check "the local computation stays beside it" \
	[ "$(jq -r '.status.metricsView.local.source' <<<"$kw")" = cpuacct.usage ]
kg_check "kubectl get kw shows the throttled share" \
	grep -q "hot-cpu-throttle *hot *$(jq -r .status.kernelTruth.throttledPercent <<<"$kw")" <<<"$(k get kw -n demo)"
kg_agent_stop
echo "api: all checks passed"
