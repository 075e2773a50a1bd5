# shellcheck shell=bash
#
# tests/lib/agent.sh - start, watch and stop kernel-gossip-agent in
# integration tests, and read the resources it writes. Sourced; needs
# containers.sh first (for kg_tmpdir and the EXIT trap).
#
#   kg_agent_start OUTDIR [FLAGS...]   start in the background, wait until it
#                                      has attached its programs (or fail)
#   kg_agent_stop                      SIGTERM, wait, require exit status 0
#   kg_agent_log                       path of its log
#   kg_wait_file PATH TIMEOUT_S        wait until a resource file exists
#   kg_jq FILE EXPR                    one value from a JSON file (jq -r)
#   kg_pass / kg_fail MSG              report; kg_fail exits 1
#   kg_check DESC COND...              evaluate a [[ ]]-style test, report it

KG_ROOT=${KG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KG_AGENT=${KG_AGENT:-$KG_ROOT/build/kernel-gossip-agent}
KG_AGENT_PID=
KG_AGENT_LOG=

kg_fail() {
	echo "FAIL: $*" >&2
	if [[ -n $KG_AGENT_LOG && -s $KG_AGENT_LOG ]]; then
		echo "---- agent log (last 30 lines, libbpf debug omitted) ----" >&2
		grep -v 'event=libbpf' "$KG_AGENT_LOG" | tail -n 30 >&2
	fi
	exit 1
}

kg_pass() {
	echo "  ok   $*"
}

# kg_check DESC ARGS... : run `[[ ARGS ]]`-like test via test(1) semantics
kg_check() {
	local desc=$1
	shift
	if "$@"; then
		kg_pass "$desc"
	else
		kg_fail "$desc (check: $*)"
	fi
}

kg_agent_log() {
	printf '%s\n' "$KG_AGENT_LOG"
}

kg_agent_start() {
	local out=$1 deadline
	shift
	[[ -x $KG_AGENT ]] || kg_fail "agent binary $KG_AGENT missing: run make first"
	KG_AGENT_LOG=$(kg_tmpdir)/agent.$RANDOM.log
	"$KG_AGENT" --output-dir "$out" "$@" >"$KG_AGENT_LOG" 2>&1 &
	KG_AGENT_PID=$!
	deadline=$((SECONDS + 30))
	until grep -q 'event=agent.started' "$KG_AGENT_LOG"; do
		if ! kill -0 "$KG_AGENT_PID" 2>/dev/null; then
			wait "$KG_AGENT_PID" || true
			KG_AGENT_PID=
			kg_fail "the agent exited during start-up (BPF could not load or attach?)"
		fi
		((SECONDS < deadline)) || kg_fail "the agent did not start within 30 s"
		sleep 0.05
	done
}

kg_agent_stop() {
	local rc=0
	[[ -n $KG_AGENT_PID ]] || return 0
	kill -TERM "$KG_AGENT_PID" 2>/dev/null || true
	wait "$KG_AGENT_PID" || rc=$?
	KG_AGENT_PID=
	((rc == 0)) || kg_fail "the agent exited with status $rc on SIGTERM"
}

# kill a still-running agent from an EXIT trap (no status check)
kg_agent_kill() {
	[[ -n $KG_AGENT_PID ]] || return 0
	kill -KILL "$KG_AGENT_PID" 2>/dev/null || true
	wait "$KG_AGENT_PID" 2>/dev/null || true
	KG_AGENT_PID=
}

kg_wait_file() {
	local path=$1 deadline=$((SECONDS + $2))
	until [[ -s $path ]]; do
		((SECONDS < deadline)) || kg_fail "no $path after $2 s"
		sleep 0.1
	done
}

kg_jq() {
	jq -r "$2" "$1"
}
