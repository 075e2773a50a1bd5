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
