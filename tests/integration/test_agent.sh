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

echo "agent: flags and configuration errors"
kg_expect_exit 0 "KG_TRACK_CGROUPS" "$KG_AGENT" --help
kg_expect_exit 0 "kernel-gossip-agent " "$KG_AGENT" --version
kg_expect_exit 2 "unknown argument --bogus" "$KG_AGENT" --bogus
kg_expect_exit 2 "flag --window-s=0: must be between 1 and 3600" "$KG_AGENT" --window-s 0
kg_expect_exit 2 "must be a power of two" "$KG_AGENT" --ring-bytes 5000
kg_expect_exit 2 "a cgroup path prefix starts with '/'" "$KG_AGENT" --track-cgroup kubepods
kg_expect_exit 2 "environment variable KG_SAMPLE_MS=abc: expected a whole number" \
	env KG_SAMPLE_MS=abc "$KG_AGENT"
kg_expect_exit 2 "flag --log-level needs a value" "$KG_AGENT" --log-level

echo "agent: clear failures"
kg_expect_exit 1 "missing capabilities: need CAP_BPF and CAP_PERFMON" \
	setpriv --bounding-set -all "$KG_AGENT" --output-dir "$out"
kg_expect_exit 1 "missing capability CAP_DAC_READ_SEARCH" \
	setpriv --bounding-set -dac_read_search "$KG_AGENT" --output-dir "$out"
kg_expect_exit 1 "cannot create output directory /proc/kg-nope" \
	"$KG_AGENT" --output-dir /proc/kg-nope
kg_expect_exit 1 "kernel BTF not found at /sys/kernel/btf/vmlinux" \
	unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec "$0" --output-dir "$1"' \
	"$KG_AGENT" "$out"
kg_expect_exit 1 "cannot open cgroup mount" \
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

kg_check "syscall counters detached while no container starts" [ "$(kg_agent_sys_links)" = 0 ]
uid=$(kg_new_uid)
kg_pod_cgroup_create "$(kg_cgpath_cgroupfs besteffort "$uid" x | xargs dirname)"
deadline=$((SECONDS + 5))
until [[ $(kg_agent_sys_links) == 2 ]]; do
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
