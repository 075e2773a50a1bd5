#!/usr/bin/env bash
#
# tests/kernels/test_hooks.sh - every BPF program loads and attaches on this
# kernel with the throttle-episode hook the agent chooses, the agent says which
# and why, and the other hook, forced, runs too where the kernel allows it and
# is refused clearly where it does not.
#
# The expected choice comes from outside the agent: fentry where the kernel
# has BPF trampolines (bpftrace's own probe, "kfunc: yes") and
# unthrottle_cfs_rq can be traced (available_filter_functions), else
# tp_btf/sched_switch. KG_EXPECT_HOOK=fentry|switch states it instead (the
# kernel matrix says fentry for Debian's 6.1 and 6.12, whose configurations it
# knows).
#
# Programs: every one in the object (build/kernel_gossip.bpf.o) must be loaded
# and attached, except kg_sys_enter/kg_sys_exit, attached only while a start is
# recorded (checked: they attach when a pod cgroup appears), kg_unthr_* only
# with the fentry hook, and kg_cfs_csd only where the kernel has the
# csd_function_exit tracepoint (6.3+: remote unthrottles by IPI).
#
# Writes KG_RESULTS rows "load" (one per hook) and, for suite.sh, the hooks
# that run on this kernel to $KG_HOOKS_FILE: "CHOSEN [OTHER]" (fentry, switch).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containers.sh
. "$here/../lib/containers.sh"
# shellcheck source=../lib/agent.sh
. "$here/../lib/agent.sh"
trap 'kg_agent_kill; kg_cleanup_all' EXIT
KG_CONCERN=load
unset KG_EPISODE_HOOK	# this test chooses

out=$(kg_tmpdir)/out
obj=$KG_ROOT/build/kernel_gossip.bpf.o
[[ -f $obj ]] || kg_fail "$obj missing: run make first"

# ---- what this kernel allows, found independently of the agent ----
kfunc=no
info=$(bpftrace --info 2>&1) || true	# (not piped into grep -q: pipefail, SIGPIPE)
[[ $info == *"kfunc: yes"* ]] && kfunc=yes
traceable=no
kg_tracefs_ensure
grep -qw unthrottle_cfs_rq /sys/kernel/tracing/available_filter_functions 2>/dev/null && traceable=yes
csd=0
[[ -d /sys/kernel/tracing/events/csd/csd_function_exit ]] && csd=1
probed=switch
[[ $kfunc == yes && $traceable == yes ]] && probed=fentry
expect=${KG_EXPECT_HOOK:-$probed}
facts="BPF trampolines (bpftrace kfunc) $kfunc, unthrottle_cfs_rq traceable $traceable"
echo "hooks: $(uname -r): $facts, csd tracepoint $csd: expect $expect (probe: $probed)"
[[ $expect == "$probed" ]] ||
	kg_fail "this kernel was expected to allow the $expect hook, but the probe says $probed ($facts)"
hook_name() { [[ $1 == fentry ]] && echo fentry || echo tp_btf/sched_switch; }

# programs: global functions in their own SEC() sections; global functions
# in .text are subprograms (called, not loaded on their own)
text=$(llvm-readelf -SW "$obj" 2>/dev/null | sed -n 's/^ *\[ *\([0-9]*\)\] \.text .*/\1/p')
mapfile -t all_progs < <(llvm-readelf -sW "$obj" 2>/dev/null |
	awk -v text="${text:--1}" '$4 == "FUNC" && $5 == "GLOBAL" && $7 != text { print $8 }' | sort)
((${#all_progs[@]} > 0)) || kg_fail "no programs found in $obj"

# check_programs HOOK - the agent's programs (loaded, attached) against the
# object's; prints "LOADED ATTACHED SYSCALL_COUNTERS_ATTACHED"
check_programs() {
	local hook=$1 p id loaded=() attached=() want_attached=() want_loaded=() sys=0
	local -A name_of=()
	while read -r id p; do
		name_of[$id]=$p
		loaded+=("$p")
	done < <(kg_agent_bpf_names prog)
	while read -r _ id; do
		p=${name_of[$id]:-"prog $id"}
		if [[ $p == kg_sys_enter || $p == kg_sys_exit ]]; then
			sys=$((sys + 1))
		else
			attached+=("$p")
		fi
	done < <(kg_agent_bpf_ids link)
	for p in "${all_progs[@]}"; do
		case $p in
		kg_unthr_*) [[ $hook == fentry ]] || continue ;;
		kg_cfs_csd) [[ $csd == 1 ]] || continue ;;
		esac
		want_loaded+=("$p")
		[[ $p == kg_sys_enter || $p == kg_sys_exit ]] || want_attached+=("$p")
	done
	for p in "${want_loaded[@]}"; do
		[[ " ${loaded[*]} " == *" $p "* ]] || kg_fail "$hook: program $p is not loaded (loaded: ${loaded[*]})"
	done
	for p in "${loaded[@]}"; do
		[[ " ${want_loaded[*]} " == *" $p "* ]] || kg_fail "$hook: program $p is loaded but should not be"
	done
	for p in "${want_attached[@]}"; do
		[[ " ${attached[*]} " == *" $p "* ]] ||
			kg_fail "$hook: program $p is not attached (attached: ${attached[*]})"
	done
	echo "${#loaded[@]} ${#attached[@]} $sys"
}

# syscall counters: attached once a pod cgroup appears (a birth is recorded)
check_sys_attach() {
	local uid deadline n
	uid=$(kg_new_uid)
	kg_pod_cgroup_create "/kubepods/besteffort/pod$uid"
	deadline=$((SECONDS + 15))
	while n=$(check_programs "$1" | cut -d' ' -f3); [[ $n != 2 ]]; do
		((SECONDS < deadline)) || kg_fail "$1: the syscall counters did not attach when a pod cgroup appeared"
		sleep 0.2
	done
	kg_cgroup_remove "/kubepods/besteffort/pod$uid"
}

start_line() {
	grep -m1 'event=agent.started' "$(kg_agent_log)"
}

# ---- the agent's own choice ----
kg_agent_start "$out"
line=$(start_line)
chosen=$(sed -n 's/.* throttle_episodes=\([^ ]*\).*/\1/p' <<<"$line")
reason=$(sed -n 's/.* episode_hook_reason=\("[^"]*"\).*/\1/p' <<<"$line")
agent_csd=$(sed -n 's/.* csd_hook=\([01]\).*/\1/p' <<<"$line")
echo "  ==   the agent chose $chosen (reason ${reason:-none}); csd hook $agent_csd"
kg_check "the agent chose the $expect hook" [ "$chosen" = "$(hook_name "$expect")" ]
kg_check "the start-up line says why (episode_hook_reason)" [ -n "$reason" ]
[[ $expect == fentry ]] || kg_check "the fallback's reason is not empty" [ "$reason" != '""' ]
kg_check "the agent's csd hook ($agent_csd) matches the kernel's tracepoint ($csd)" [ "$agent_csd" = "$csd" ]
read -r nload natt _ < <(check_programs "$expect")
check_sys_attach "$expect"
kg_pass "$nload programs loaded, $natt attached, the syscall counters attach for a birth"
kg_result load PASS "$nload/$nload programs loaded, $natt attached + 2 syscall counters on a \
birth; chosen: $chosen; reason: ${reason:-\"\"}" \
	"programs=$nload attached=$natt csd=$csd"
kg_agent_stop

# ---- the other hook, forced ----
if [[ $expect == fentry ]]; then
	other=switch
	KG_EPISODE_HOOK=switch kg_agent_start "$out"
	line=$(start_line)
	chosen=$(sed -n 's/.* throttle_episodes=\([^ ]*\).*/\1/p' <<<"$line")
	reason=$(sed -n 's/.* episode_hook_reason=\("[^"]*"\).*/\1/p' <<<"$line")
	kg_check "forced: the agent runs the switch hook" [ "$chosen" = tp_btf/sched_switch ]
	kg_check "forced: the reason says so ($reason)" [ "$reason" = '"chosen by --episode-hook"' ]
	read -r nload natt _ < <(check_programs switch)
	kg_pass "forced switch: $nload programs loaded, $natt attached"
	kg_result load PASS \
		"forced with KG_EPISODE_HOOK=switch: $nload programs loaded, $natt attached; reason: $reason" \
		"programs=$nload attached=$natt forced=1"
	kg_agent_stop
	echo "fentry switch" >"${KG_HOOKS_FILE:-/dev/null}"
else
	other=fentry
	rc=0
	KG_EPISODE_HOOK=fentry timeout 60 "$KG_AGENT" --output-dir "$out" --debug-socket off \
		--metrics-addr off >"$(kg_tmpdir)/forced.log" 2>&1 || rc=$?
	why=$(sed -n 's/.*event=agent\.failed reason=//p' "$(kg_tmpdir)/forced.log")
	echo "  ==   forced fentry: exit $rc: $why"
	kg_check "forced fentry: the agent exits with status 1" [ "$rc" = 1 ]
	kg_check "forced fentry: the reason says fentry is not possible here" \
		grep -q 'episode-hook=fentry is not possible' <<<"$why"
	# the table shows the hook the agent was asked for: it never started
	# (the reason without libbpf's detail, which is in the log)
	KG_RESULT_HOOK=fentry kg_result load PASS \
		"forced with KG_EPISODE_HOOK=fentry: refused at start-up, exit 1: ${why%% (loading*}\"" \
		"forced=1 refused=1"
	echo "switch" >"${KG_HOOKS_FILE:-/dev/null}"
fi
echo "hooks: all checks passed (chosen $expect, forced $other)"
