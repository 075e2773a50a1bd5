# shellcheck shell=bash
#
# tests/lib/agent.sh - start, watch and stop kernel-gossip-agent in
# integration tests, and read the resources it writes. Sourced; needs
# containers.sh first (for kg_tmpdir and the EXIT trap).
#
#   kg_agent_start OUTDIR [FLAGS...]   start in the background, wait until it
#                                      has attached its programs and opened its
#                                      debug socket (or fail). Unless FLAGS say
#                                      otherwise, the debug socket is private to
#                                      the test ($KG_AGENT_SOCKET) and there is no
#                                      HTTP endpoint, so that agents of tests
#                                      run side by side never collide
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
KG_AGENT_SOCKET=

kg_fail() {
	local why=''
	echo "FAIL: $*" >&2
	if [[ -n ${KG_CONCERN:-} && -n ${KG_RESULTS:-} ]]; then
		[[ -n $KG_AGENT_LOG && -f $KG_AGENT_LOG ]] &&
			why=$(sed -n 's/.*event=agent\.failed reason=//p' "$KG_AGENT_LOG" | head -c 300)
		kg_result "$KG_CONCERN" FAIL "$*${why:+ (agent: $why)}"
	fi
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
	local out=$1 deadline ops=()
	shift
	[[ -x $KG_AGENT ]] || kg_fail "agent binary $KG_AGENT missing: run make first"
	KG_AGENT_LOG=$(kg_tmpdir)/agent.$RANDOM.log
	KG_AGENT_SOCKET=
	if [[ "$*" != *--debug-socket* ]]; then
		KG_AGENT_SOCKET=$(kg_tmpdir)/run.$RANDOM/debug.sock
		ops+=(--debug-socket "$KG_AGENT_SOCKET")
	fi
	[[ "$*" == *--metrics-addr* ]] || ops+=(--metrics-addr off)
	"$KG_AGENT" --output-dir "$out" "${ops[@]}" "$@" >"$KG_AGENT_LOG" 2>&1 &
	KG_AGENT_PID=$!
	deadline=$((SECONDS + 30))
	until grep -q 'event=ops.started' "$KG_AGENT_LOG" 2>/dev/null; do
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

# kg_expect_exit CODE TEXT CMD... - CMD exits with CODE and says TEXT (a fixed
# string) on stderr or stdout, which stay in $(kg_tmpdir)/expect.{stdout,stderr}
kg_expect_exit() {
	local code=$1 text=$2 rc=0 dir
	shift 2
	dir=$(kg_tmpdir)
	"$@" >"$dir/expect.stdout" 2>"$dir/expect.stderr" || rc=$?
	[[ $rc == "$code" ]] ||
		kg_fail "exit $rc (want $code) from: $* -- $(tail -n 5 "$dir/expect.stderr")"
	grep -qF -- "$text" "$dir/expect.stderr" "$dir/expect.stdout" ||
		kg_fail "no \"$text\" in the output of: $* -- $(tail -n 5 "$dir/expect.stderr")"
	kg_pass "exit $code, \"$text\": ${*#"$KG_AGENT"}"
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

# ---------------------------------------------------------------------------
# The running agent's own BPF objects. bpftool lists every program and map of
# the machine, and other agents may run beside this test's (with the same
# kg_ names): /proc/PID/fdinfo says which ones this agent holds.
# ---------------------------------------------------------------------------

# kg_agent_bpf_ids KIND - ids of the agent's open BPF objects of KIND (map,
# prog or link), one per line; a link's line is "LINK_ID PROG_ID".
kg_agent_bpf_ids() {
	[[ -n $KG_AGENT_PID ]] || { echo "kg: no agent running" >&2; return 1; }
	# one awk over every fdinfo file: a process per fd is slow under emulation
	{
		awk -v kind="$1" '
			function flush() {
				if (kind == "link" && l != "") print l, p
				else if (kind == "prog" && l == "" && p != "") print p
				else if (kind == "map" && m != "") print m
				l = p = m = ""
			}
			FNR == 1 { flush() }
			$1 == "link_id:" { l = $2 }
			$1 == "prog_id:" { p = $2 }
			$1 == "map_id:" { m = $2 }
			END { flush() }' /proc/"$KG_AGENT_PID"/fdinfo/* 2>/dev/null || true
	} | sort -u
}

# kg_agent_bpf_names map|prog - "ID NAME" of each of the agent's maps or
# programs. Both sets are fixed for an agent's life: listed once (one bpftool
# call: bpftool is slow under emulation) and kept in a file per agent.
kg_agent_bpf_names() {
	local kind=$1 f ids
	f=$(kg_tmpdir)/bpf-$kind.$KG_AGENT_PID
	if [[ ! -s $f ]]; then
		ids=$(kg_agent_bpf_ids "$kind" | jq -cRs 'split("\n") | map(select(length > 0) | tonumber)')
		bpftool -j "$kind" show | jq -r --argjson ids "$ids" \
			'.[] | select(.id as $i | $ids | index($i)) | "\(.id) \(.name)"' >"$f.tmp" &&
			mv "$f.tmp" "$f"
	fi
	cat "$f"
}

# kg_agent_sys_links - how many links of the agent's syscall counters
# (kg_sys_enter/kg_sys_exit) exist: 2 while attached, 0 when detached
kg_agent_sys_links() {
	local id name prog n=0
	local -A name_of=()
	while read -r id name; do name_of[$id]=$name; done < <(kg_agent_bpf_names prog)
	while read -r _ prog; do
		[[ ${name_of[$prog]:-} == kg_sys_e* ]] && n=$((n + 1))
	done < <(kg_agent_bpf_ids link)
	echo "$n"
}

# kg_agent_map_id NAME - the id of the agent's map NAME (bpftool truncates
# names to 15 characters, as the kernel does).
kg_agent_map_id() {
	local id name
	while read -r id name; do
		[[ $name == "${1:0:15}" ]] && echo "$id" && return 0
	done < <(kg_agent_bpf_names map)
	echo "kg: the agent has no map $1" >&2
	return 1
}

# kg_agent_map_dump NAME - the agent's map NAME as JSON, decoded with its BTF:
# [{"key": K, "value": V}] or, per CPU, [{"key": K, "values": [{"cpu": C,
# "value": V}]}] (bpftool's "formatted" view).
kg_agent_map_dump() {
	local id
	id=$(kg_agent_map_id "$1") || return 1
	bpftool -j map dump id "$id" | jq '[.[] | .formatted // .]'
}

# ---------------------------------------------------------------------------
# Result rows for the kernel matrix (tests/kernels/run.sh). When KG_RESULTS
# names a file, a test reports each concern it checks as one tab-separated
# line:  CONCERN  HOOK  PASS|FAIL  AGREEMENT  [KEY=VALUE...]
# HOOK is the throttle-episode hook the agent reported at start-up, AGREEMENT
# the measured agreement for people, the key=value pairs the same numbers for
# the matrix to compare between hooks. A test sets KG_CONCERN to the concern
# it is checking, so that kg_fail reports which one failed and why.
# ---------------------------------------------------------------------------
KG_CONCERN=${KG_CONCERN:-}

# kg_agent_hook - the hook the last agent started reported ("-" if none)
kg_agent_hook() {
	local h=''
	[[ -n $KG_AGENT_LOG && -f $KG_AGENT_LOG ]] &&
		h=$(sed -n 's/.*event=agent\.started .*throttle_episodes=\([^ ]*\).*/\1/p' "$KG_AGENT_LOG" |
			tail -n 1)
	echo "${h:-"${KG_EPISODE_HOOK:-auto} (did not start)"}"
}

# kg_result CONCERN PASS|FAIL AGREEMENT [METRICS] - one row; the hook is the
# last agent's, or KG_RESULT_HOOK (e.g. for an agent that refused to start)
kg_result() {
	[[ -n ${KG_RESULTS:-} ]] || return 0
	local text=${3//$'\t'/ }
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "${KG_RESULT_HOOK:-$(kg_agent_hook)}" "$2" \
		"${text//$'\n'/ }" "${4:-}" >>"$KG_RESULTS"
}
