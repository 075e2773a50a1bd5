// SPDX-License-Identifier: GPL-2.0
/*
 * sched.bpf.c - per-cgroup scheduler facts from one program on sched_switch.
 *
 * runqlat-style tools hook wakeups too and keep a hash of per-task
 * timestamps (~280 ns per switch, measured). The kernel already keeps those
 * timestamps in task->sched_info (CONFIG_SCHED_INFO, the source of
 * /proc/<pid>/schedstat): last_queued is when the task became runnable,
 * last_arrival when it last got a CPU. Subtracting them from the run-queue
 * clock at the switch gives on-CPU time and run-queue delay exactly as the
 * kernel accounts them, with no wakeup hook and no map of every task.
 *
 * The same switch also sees CFS throttling: the task that goes off CPU
 * because its group ran out of quota. Throttled tasks are stamped in
 * kg_tstamp so that their wait until they run again is charged to the
 * run-queue delay (since 6.18 a throttled task leaves the run queue, so the
 * kernel's own run_delay no longer includes that wait). When no fentry hook
 * is available the switch also opens throttle episodes (throttle.bpf.h).
 */
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "throttle.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);	/* entries of removed cgroups age out */
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct kg_sched_stats);
} kg_sched SEC(".maps");

/*
 * When a throttled task was taken off CPU, in run-queue clock, by thread id,
 * until it runs again (a task must run to exit, so every stamp is taken back
 * here). A preallocated hash, not task storage: this program runs under the
 * run-queue lock, and task storage allocates on a task's first use (kmalloc
 * on 6.1); an allocation that wakes kswapd takes a run-queue lock and can
 * deadlock the CPU. A preallocated map never allocates.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} kg_tstamp SEC(".maps");

/* entries in kg_tstamp: the switch skips its lookup of next while there are none */
volatile __s64 kg_stamps_outstanding = 0;

static __always_inline struct kg_sched_stats *kg_sched_of(__u64 cgid)
{
	struct kg_sched_stats *s = bpf_map_lookup_elem(&kg_sched, &cgid);

	if (s)
		return s;
	{
		struct kg_sched_stats zero = {};

		if (bpf_map_update_elem(&kg_sched, &cgid, &zero, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&kg_sched, &cgid)) {
			kg_count(KG_CNT_SCHED_MAP_FULL);
			return NULL;
		}
	}
	return bpf_map_lookup_elem(&kg_sched, &cgid);
}

/*
 * How long prev ran in the stint that ends at this switch: from its arrival
 * to where the kernel stopped charging it (its last update_curr(), which set
 * se.exec_start), not to the tracepoint. In between, pick_next_task() may have
 * balanced with the run-queue lock dropped (newidle balance on a CPU about to
 * idle, frequent when a group is throttled) while other CPUs' wake-ups and the
 * tasks pulled here moved the clock on: that time is not prev's, and cpu.stat
 * does not charge it to prev's cgroup (measured on 6.18: +0.03 % of a
 * cgroup's CPU time without this, equal to the nanosecond with it).
 * exec_start is on the task clock, which leaves out IRQ and steal time where
 * the kernel accounts them, so only the gap since it is taken from that clock.
 */
static __always_inline __u64 kg_stint(struct rq *rq, struct task_struct *prev, __u64 ran)
{
	__u64 task_now = rq->clock_task, stop = prev->se.exec_start;

	if (task_now > stop && task_now - stop < ran)
		ran -= task_now - stop;
	return ran;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(kg_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	/*
	 * This CPU's run-queue clock, updated by __schedule() before the
	 * tracepoint. prev ran here, so its group runqueue belongs to this CPU
	 * (set for every task, whatever its class, under FAIR_GROUP_SCHED).
	 * Not the per-CPU "runqueues" ksym: kallsyms lacks data symbols on
	 * kernels without CONFIG_KALLSYMS_ALL.
	 */
	struct rq *rq = prev->se.cfs_rq->rq;
	__u64 now = rq->clock;
	struct kg_sched_stats *s = NULL;
	__u64 cgid = 0, next_cgid;

	if (prev->pid) {
		bool throttled = kg_task_throttled(prev, prev_state);

		cgid = kg_task_cgid(prev);
		s = kg_sched_of(cgid);
		if (s) {
			__u64 arrival = prev->sched_info.last_arrival;

			if (arrival && now > arrival)
				s->oncpu_ns += kg_stint(rq, prev, now - arrival);
			/* the kernel's own rule for nvcsw/nivcsw */
			if (!preempt && prev_state)
				s->switches_voluntary++;
			else
				s->switches_involuntary++;
			if (throttled)
				s->throttled_tasks++;
		}
		if (throttled) {
			__u32 tid = prev->pid;
			__u64 *stamp = bpf_map_lookup_elem(&kg_tstamp, &tid);

			if (stamp)
				*stamp = now;
			else if (!bpf_map_update_elem(&kg_tstamp, &tid, &now, BPF_NOEXIST))
				__sync_fetch_and_add(&kg_stamps_outstanding, 1);
			else
				kg_count(KG_CNT_TSTAMP_MAP_FULL);
			if (kg_episode_hook == KG_EPISODE_SWITCH)
				kg_switch_open_episodes(prev);
		}
	}

	if (next->pid) {
		__u64 queued = next->sched_info.last_queued, start = queued, held = 0;

		if (kg_stamps_outstanding > 0) {
			__u32 tid = next->pid;
			__u64 *stamp = bpf_map_lookup_elem(&kg_tstamp, &tid), stamped;

			if (stamp) {
				stamped = *stamp;
				/* held by the throttle from the stamp until re-queued */
				if (queued > stamped)
					held = queued - stamped;
				if (!queued || stamped < queued)
					start = stamped;
				if (!bpf_map_delete_elem(&kg_tstamp, &tid))
					__sync_fetch_and_add(&kg_stamps_outstanding, -1);
			}
		}
		if (start && now > start) {
			__u64 delay = now - start;

			/* a switch between two tasks of one cgroup: one lookup, not two */
			next_cgid = kg_task_cgid(next);
			if (!s || next_cgid != cgid)
				s = kg_sched_of(next_cgid);
			if (s) {
				s->runq_delay_ns += delay;
				s->runq_waits++;
				s->throttle_wait_ns += held;
				if (delay > s->runq_delay_max_ns)
					s->runq_delay_max_ns = delay;
				s->runq_hist[kg_hist_slot(delay)]++;
			}
		}
	}
	return 0;
}
