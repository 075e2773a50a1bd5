#!/usr/bin/env bash
#
# tests/integration/test_agent.sh - the agent's contract with its operator:
# flags and exit codes, clear failures (no capabilities, no BTF, no cgroup
# hierarchy, unwritable output), named programs visible to bpftool while it
# runs, the syscall counters attached only while a start is recorded, and a
# clean stop that leaves no program behind.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/containers.sh
. "$here/../lib/containers.sh"
# shellcheck source=../lib/agent.sh
. "$here/../lib/agent.sh"
trap 'kg_agent_kill; kg_cleanup_all' EXIT

tmp=$(kg_tmpdir)
out=$tmp/out

# expect_exit CODE PATTERN CMD... : CMD exits with CODE and says PATTERN on stderr
expect_exit() {
	local code=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
	[[ $rc == "$code" ]] || kg_fail "exit $rc (want $code) from: $* -- $(cat "$tmp/stderr")"
	grep -q -- "$pattern" "$tmp/stderr" "$tmp/stdout" ||
		kg_fail "no \"$pattern\" in the output of: $* -- $(cat "$tmp/stderr")"
	kg_pass "exit $code, \"$pattern\": ${*#"$KG_AGENT"}"
}

echo "agent: flags and configuration errors"
expect_exit 0 "KG_TRACK_CGROUPS" "$KG_AGENT" --help
expect_exit 0 "kernel-gossip-agent " "$KG_AGENT" --version
expect_exit 2 "unknown argument --bogus" "$KG_AGENT" --bogus
expect_exit 2 "flag --window-s=0: must be between 1 and 3600" "$KG_AGENT" --window-s 0
expect_exit 2 "must be a power of two" "$KG_AGENT" --ring-bytes 5000
expect_exit 2 "a cgroup path prefix starts with '/'" "$KG_AGENT" --track-cgroup kubepods
expect_exit 2 "environment variable KG_SAMPLE_MS=abc: expected a whole number" \
	env KG_SAMPLE_MS=abc "$KG_AGENT"
expect_exit 2 "flag --log-level needs a value" "$KG_AGENT" --log-level

echo "agent: clear failures"
expect_exit 1 "missing capabilities: need CAP_BPF and CAP_PERFMON" \
	setpriv --bounding-set -all "$KG_AGENT" --output-dir "$out"
expect_exit 1 "missing capability CAP_DAC_READ_SEARCH" \
	setpriv --bounding-set -dac_read_search "$KG_AGENT" --output-dir "$out"
expect_exit 1 "cannot create output directory /proc/kg-nope" \
	"$KG_AGENT" --output-dir /proc/kg-nope
expect_exit 1 "kernel BTF not found at /sys/kernel/btf/vmlinux" \
	unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec "$0" --output-dir "$1"' \
	"$KG_AGENT" "$out"
expect_exit 1 "cannot open cgroup mount" \
	unshare -m sh -c 'mount -t tmpfs none /sys/fs/cgroup && exec "$0" --output-dir "$1"' \
	"$KG_AGENT" "$out"

echo "agent: programs named, inspectable and attached as reported"
kg_agent_start "$out"
progs=$(bpftool prog show)
for p in kg_cg_mkdir kg_cg_rmdir kg_cg_attach kg_exec kg_fork kg_exit kg_sched_switch \
	kg_cfs_tmr_in kg_cfs_tmr_out kg_sys_enter kg_sys_exit; do
	grep -q "name $p " <<<"$progs" || kg_fail "bpftool prog show has no $p"
done
kg_pass "bpftool prog show lists every kg_ program by name"
maps=$(bpftool map show)
for m in kg_rings kg_counters kg_births kg_sched kg_cfs kg_episodes kg_ring_0; do
	grep -q "name $m " <<<"$maps" || kg_fail "bpftool map show has no $m"
done
kg_pass "bpftool map show lists the kg_ maps and one ring per CPU"
grep -q 'event=agent.started .*throttle_episodes=[a-z_/]* episode_hook_reason=' "$(kg_agent_log)" ||
	kg_fail "the start line does not say which throttle hook was chosen and why"
kg_pass "start-up log names the throttle-episode hook and why"

# (this agent's own links and programs: other agents may run on the machine)
sys_links() {	# number of links of the syscall counters (0 when detached)
	local id name prog n=0
	local -A name_of=()
	while read -r id name; do name_of[$id]=$name; done < <(kg_agent_bpf_names prog)
	while read -r _ prog; do
		[[ ${name_of[$prog]:-} == kg_sys_e* ]] && n=$((n + 1))
	done < <(kg_agent_bpf_ids link)
	echo "$n"
}
kg_check "syscall counters detached while no container starts" [ "$(sys_links)" = 0 ]
uid=$(kg_new_uid)
kg_pod_cgroup_create "$(kg_cgpath_cgroupfs besteffort "$uid" x | xargs dirname)"
deadline=$((SECONDS + 5))
until [[ $(sys_links) == 2 ]]; do
	((SECONDS < deadline)) || kg_fail "syscall counters not attached after a pod cgroup appeared"
	sleep 0.05
done
kg_pass "syscall counters attached when a pod cgroup appears"

mapfile -t ours < <(kg_agent_bpf_ids prog)
kg_agent_stop
# the kernel frees programs after an RCU grace period: give it a moment
deadline=$((SECONDS + 5))
while left=0; for id in "${ours[@]}"; do
	bpftool prog show id "$id" >/dev/null 2>&1 && left=$((left + 1))
done; [[ $left != 0 ]]; do
	((SECONDS < deadline)) || break
	sleep 0.1
done
kg_check "no kg_ program left after a clean stop" [ "$left" = 0 ]
grep -q 'event=agent.stopped' "$(kg_agent_log)" || kg_fail "no agent.stopped line"
kg_pass "stop is logged with the agent's totals"
echo "agent: all checks passed"
