# shellcheck shell=bash
#
# scripts/lib/demo.sh - what the two demos share: set-up on a fresh machine,
# the agent started beside real runc containers (through the test harness in
# tests/lib, the same code the integration tests trust), and printing.
set -euo pipefail

KG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../tests/lib/containers.sh
. "$KG_ROOT/tests/lib/containers.sh"
# shellcheck source=../../tests/lib/agent.sh
. "$KG_ROOT/tests/lib/agent.sh"

demo_setup() {
	if [[ $(id -u) != 0 ]]; then
		echo "$0: run as root (sudo): the demo loads BPF programs and starts containers" >&2
		exit 1
	fi
	bash "$KG_ROOT/scripts/install-deps.sh" >/dev/null
	make -s -C "$KG_ROOT" -j"$(nproc)" all >/dev/null
	trap 'kg_agent_kill; kg_cleanup_all >/dev/null' EXIT
}

# jq over a resource, numbers and all: demo_jq FILE EXPR
demo_jq() {
	jq -r "$2" "$1"
}

demo_insights() {
	jq -r '.status.insights[] | "  [\(.severity)] \(.headline)\n      impact: \(.impact)\n      advice: \(.recommendation)\n      evidence: \([.evidence[] | "\(.name)=\(.value) \(.unit)"] | join(", "))"' "$1"
}

# ---- standalone or against an API server (--kubeconfig FILE) ----
#
# With --kubeconfig the agent writes to that API server (the test stand-in of
# tests/k8s/apiserver.py, or a real one you can create pods in): each demo
# container gets a Pod object there first (namespace kernel-gossip-demo, node
# $DEMO_NODE), whose UID names its cgroup, as the kubelet would do.
DEMO_KUBECONFIG=
DEMO_NS=kernel-gossip-demo
DEMO_NODE=${KG_DEMO_NODE:-$(hostname)}
DEMO_REST=()

demo_args() {	# the demo's own flags; the others are left in DEMO_REST
	while [[ $# -gt 0 ]]; do
		case $1 in
		--kubeconfig)
			[[ $# -ge 2 ]] || { echo "$0: --kubeconfig needs a file" >&2; exit 2; }
			DEMO_KUBECONFIG=$2
			shift 2
			;;
		*)
			DEMO_REST+=("$1")
			shift
			;;
		esac
	done
}

demo_kubectl() {
	kubectl --kubeconfig "$DEMO_KUBECONFIG" "$@"
}

demo_agent_start() {	# OUTDIR [AGENT FLAGS...]
	local out=$1
	shift
	if [[ -n $DEMO_KUBECONFIG ]]; then
		kg_agent_start "$out" --kubeconfig "$DEMO_KUBECONFIG" --node-name "$DEMO_NODE" "$@"
	else
		kg_agent_start "$out" "$@"
	fi
}

# demo_new_pod NAME [CPU_LIMIT] -> the pod UID its container's cgroup will carry
demo_new_pod() {
	local res=''
	if [[ -z $DEMO_KUBECONFIG ]]; then
		kg_new_uid
		return
	fi
	[[ -n ${2:-} ]] && res=", \"resources\": {\"limits\": {\"cpu\": \"$2\"}}"
	demo_kubectl get namespace "$DEMO_NS" >/dev/null 2>&1 ||
		demo_kubectl create namespace "$DEMO_NS" >/dev/null
	demo_kubectl delete pod -n "$DEMO_NS" "$1" --ignore-not-found >/dev/null
	printf '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "%s", "namespace": "%s"}, "spec": {"nodeName": "%s", "containers": [{"name": "app", "image": "demo"%s}]}}\n' \
		"$1" "$DEMO_NS" "$DEMO_NODE" "$res" | demo_kubectl apply -f - >/dev/null
	demo_kubectl get pod -n "$DEMO_NS" "$1" -o jsonpath='{.metadata.uid}'
}

# demo_resource KIND SUFFIX POD UID OUTDIR TIMEOUT_S -> the resource, as a local JSON file
demo_resource() {
	local kind=$1 suffix=$2 pod=$3 uid=$4 out=$5 deadline=$((SECONDS + $6)) f plural
	if [[ -z $DEMO_KUBECONFIG ]]; then
		plural=kernelwhispers
		[[ $kind == pbc ]] && plural=podbirthcertificates
		f=$out/$plural/pod-$uid$suffix.json
		kg_wait_file "$f" "$6"
		echo "$f"
		return
	fi
	f=$(kg_tmpdir)/$pod$suffix.json
	until demo_kubectl get "$kind" -n "$DEMO_NS" "$pod$suffix" -o json >"$f" 2>/dev/null &&
		jq -e .status >/dev/null "$f"; do
		((SECONDS < deadline)) || kg_fail "no $kind $DEMO_NS/$pod$suffix after $6 s"
		sleep 0.3
	done
	echo "$f"
}
