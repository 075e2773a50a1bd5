// SPDX-License-Identifier: GPL-2.0
/*
 * throttle.bpf.c - CPU throttling (CFS bandwidth) per cgroup with a quota.
 *
 * Exact counters, on every kernel, without fentry or kprobes: the cgroup's
 * period timer is an hrtimer whose callback is sched_cfs_period_timer(). It
 * is the code that starts each period, counts nr_periods / nr_throttled and
 * (with the unthrottles it triggers) throttled_time: the numbers cpu.stat
 * prints. The hrtimer_expire_entry/exit tracepoints around it let us copy
 * those counters from the cfs_bandwidth the timer is embedded in, so the
 * agent's view of a window equals the kernel's own to the nanosecond.
 *
 * Throttle episodes (how long each per-CPU runqueue stayed throttled) come
 * from the best hook the kernel offers, chosen by the agent at load time:
 * fentry/fexit on unthrottle_cfs_rq where trampolines work, else the
 * sched_switch walk of sched.bpf.c, closed here at each period timer and at
 * the remote-unthrottle IPI.
 */
#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "throttle.bpf.h"

/* typeless ksyms: libbpf resolves the addresses from /proc/kallsyms */
extern const void sched_cfs_period_timer __ksym;
extern const void sched_cfs_slack_timer __ksym;
extern const void __cfsb_csd_unthrottle __ksym __weak;

/* The task group a CFS-bandwidth timer belongs to, or NULL for any other hrtimer. */
static __always_inline struct task_group *kg_timer_tg(struct hrtimer *t, bool *period)
{
	void *fn = BPF_CORE_READ(t, function);
	struct cfs_bandwidth *cfs_b;

	*period = fn == (void *)&sched_cfs_period_timer;
	if (*period)
		cfs_b = (void *)t - bpf_core_field_offset(struct cfs_bandwidth, period_timer);
	else if (fn == (void *)&sched_cfs_slack_timer)
		cfs_b = (void *)t - bpf_core_field_offset(struct cfs_bandwidth, slack_timer);
	else
		return NULL;
	return (void *)cfs_b - bpf_core_field_offset(struct task_group, cfs_bandwidth);
}

/* CPU time of a task group: the sum of its per-CPU scheduling entities' runtime. */
static __always_inline __u64 kg_tg_usage(struct task_group *tg)
{
	struct sched_entity **ses = BPF_CORE_READ(tg, se);
	__u64 sum = 0;

	for (__u32 i = 0; i < KG_MAX_CPUS; i++) {
		struct sched_entity *se = NULL;

		if (i >= kg_cfg_nr_cpus || bpf_probe_read_kernel(&se, sizeof(se), &ses[i]))
			break;
		if (se)
			sum += BPF_CORE_READ(se, sum_exec_runtime);
	}
	return sum;
}

static __always_inline __u32 kg_slot(__u64 ns, __u64 quota, __u32 slots)
{
	__u64 tenths = ns * 10 / quota;

	return tenths < slots ? tenths : slots - 1;
}

/*
 * A period just ended (the timer accounted periods periods, throttled of them
 * throttled): record what it used and, at the end of a throttled burst, what
 * the burst asked for.
 */
static __always_inline void kg_account_demand(struct kg_cfs_stats *s, struct task_group *tg,
					      __u64 periods, __u64 throttled)
{
	__u64 usage = kg_tg_usage(tg), quota = s->quota_ns, used, per_period;

	if (s->usage_ns && usage >= s->usage_ns && periods && quota && quota != ~0ULL) {
		bool burst_end = !throttled && s->burst_periods;

		used = usage - s->usage_ns;
		per_period = used / periods;
		s->usage_hist[kg_slot(per_period, quota, KG_USAGE_SLOTS)] += periods;
		if (throttled) {
			/*
			 * The kernel counts a period as throttled only once the
			 * quota ran out: a burst that began late in the period
			 * before did part of its work there. (Measured: a 120 ms
			 * burst under 500m read as 900m without it.)
			 */
			if (!s->burst_periods)
				s->burst_work_ns = s->prev_used_ns;
			s->burst_work_ns += used;
			s->burst_periods += periods;
		} else if (s->burst_periods) {
			/* the burst's backlog was worked off in this period */
			s->demand_hist[kg_slot(s->burst_work_ns + used, quota, KG_DEMAND_SLOTS)]++;
			s->bursts++;
			s->burst_work_ns = 0;
			s->burst_periods = 0;
		} else {
			s->demand_hist[kg_slot(per_period, quota, KG_DEMAND_SLOTS)] += periods;
		}
		s->prev_used_ns = throttled || burst_end ? 0 : used;
	}
	s->usage_ns = usage;
}

/* First sight of a cgroup: its record starts from the counters before this period. */
SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(kg_cfs_tmr_in, struct hrtimer *t, ktime_t *now)
{
	bool period;
	struct task_group *tg = kg_timer_tg(t, &period);

	if (tg)
		kg_cfs_of(tg, kg_tg_cgid(tg));
	return 0;
}

/*
 * Close the switch-recorded episode of the cfs_rq at key if that runqueue is
 * no longer throttled (or was throttled again since: a new episode). Returns
 * 0 while it stays open. Global, so that the verifier checks it once, not in
 * every turn of the loops that call it.
 */
__noinline int kg_episode_check(__u64 key)
{
	struct cfs_rq___kg *cfs_rq = (void *)key;
	struct kg_episode *ep = bpf_map_lookup_elem(&kg_episodes, &key);
	__u64 start, cgid, now;

	if (!ep)
		return 1;
	start = ep->start;
	cgid = ep->cgid;
	if (kg_cfs_rq_throttled(cfs_rq) && BPF_CORE_READ(cfs_rq, throttled_clock) == start)
		return 0;
	now = BPF_CORE_READ(cfs_rq, rq, clock);	/* the clock the unthrottle charged */
	if (bpf_map_delete_elem(&kg_episodes, &key))
		return 1;	/* another CPU closed it first */
	kg_episode_closed(BPF_CORE_READ(cfs_rq, tg), cgid, start, now);
	return 1;
}

/*
 * The timer unthrottles its own group's runqueues: check that group's per-CPU
 * cfs_rqs, a lookup each. (A sweep of all of kg_episodes here made this
 * program 10.4 us per run in make bench's throttle storm; now 0.3 us.)
 */
static __always_inline void kg_check_tg_episodes(struct task_group *tg)
{
	struct cfs_rq **rqs = BPF_CORE_READ(tg, cfs_rq);

	for (__u32 i = 0; i < KG_MAX_CPUS; i++) {
		struct cfs_rq *c = NULL;

		if (i >= kg_cfg_nr_cpus || bpf_probe_read_kernel(&c, sizeof(c), &rqs[i]))
			break;
		if (c)
			kg_episode_check((__u64)c);
	}
}

/*
 * After the period timer (a new period: counters, quota) and after the slack
 * timer, which hands runtime returned by sleeping or exiting tasks to
 * throttled runqueues and so unthrottles them too.
 */
SEC("tp_btf/hrtimer_expire_exit")
int BPF_PROG(kg_cfs_tmr_out, struct hrtimer *t)
{
	bool period, throttling = false;
	struct cfs_bandwidth___kg *bw;
	struct kg_cfs_stats *s;
	struct task_group *tg;

	tg = kg_timer_tg(t, &period);
	if (!tg)
		return 0;
	s = kg_cfs_of(tg, kg_tg_cgid(tg));
	if (s && period) {
		__u64 periods = s->nr_periods, throttled = s->nr_throttled;

		kg_cfs_refresh(tg, s);
		s->quota_ns = BPF_CORE_READ(tg, cfs_bandwidth.quota);
		s->period_ns = BPF_CORE_READ(tg, cfs_bandwidth.period);
		bw = (void *)&tg->cfs_bandwidth;
		if (bpf_core_field_exists(bw->burst))
			s->burst_ns = BPF_CORE_READ(bw, burst);
		s->timer_fires++;
		kg_account_demand(s, tg, s->nr_periods - periods, s->nr_throttled - throttled);
		throttling = s->nr_throttled != throttled;
	} else if (s) {
		kg_cfs_refresh(tg, s);
	}
	/*
	 * A period timer that unthrottles counts a throttled period; the slack
	 * timer runs only to unthrottle; an episode left open from before (a
	 * quota change unthrottled it) shows as opened but not closed.
	 */
	if (s && kg_episode_hook == KG_EPISODE_SWITCH &&
	    (!period || throttling || s->episodes != s->episodes_closed))
		kg_check_tg_episodes(tg);
	return 0;
}

/*
 * Remote runqueues are unthrottled by an IPI after the timer (since 6.3), on
 * their own CPU: check this CPU's open episodes.
 */
SEC("raw_tp/csd_function_exit")	/* tp_btf rejects the function-pointer argument */
int BPF_PROG(kg_cfs_csd, void *func, void *csd)
{
	struct kg_ep_slots *idx;
	__u32 zero = 0;

	if (func != (void *)&__cfsb_csd_unthrottle || kg_episode_hook != KG_EPISODE_SWITCH)
		return 0;
	idx = bpf_map_lookup_elem(&kg_ep_index, &zero);
	if (!idx)
		return 0;
	for (int j = 0; j < KG_EP_SLOTS; j++) {
		__u64 key = idx->key[j];

		if (key && kg_episode_check(key))
			idx->key[j] = 0;
	}
	return 0;
}

/*
 * fentry path: unthrottle_cfs_rq() charges rq_clock - throttled_clock to
 * cfs_b->throttled_time after updating the clock itself, so keep the start
 * at entry and read the clock at exit.
 */
SEC("fentry/unthrottle_cfs_rq")
int BPF_PROG(kg_unthr_in, struct cfs_rq *cfs_rq)
{
	struct cfs_rq___kg *c = (void *)cfs_rq;
	__u64 key = (__u64)cfs_rq;
	struct kg_episode ep;
	struct task_group *tg;

	ep.start = BPF_CORE_READ(c, throttled_clock);
	if (!ep.start)
		return 0;
	tg = BPF_CORE_READ(c, tg);
	ep.cgid = kg_tg_cgid(tg);
	if (!kg_cfs_of(tg, ep.cgid))
		return 0;
	if (bpf_map_update_elem(&kg_episodes, &key, &ep, BPF_ANY))
		kg_count(KG_CNT_EPISODE_MAP_FULL);
	return 0;
}

SEC("fexit/unthrottle_cfs_rq")
int BPF_PROG(kg_unthr_out, struct cfs_rq *cfs_rq)
{
	__u64 key = (__u64)cfs_rq;
	struct kg_episode *ep = bpf_map_lookup_elem(&kg_episodes, &key);
	struct kg_cfs_stats *s;
	struct kg_episode copy;

	if (!ep)
		return 0;
	copy = *ep;
	bpf_map_delete_elem(&kg_episodes, &key);
	s = bpf_map_lookup_elem(&kg_cfs, &copy.cgid);
	if (s)
		__sync_fetch_and_add(&s->episodes, 1);
	kg_episode_closed(BPF_CORE_READ((struct cfs_rq___kg *)cfs_rq, tg), copy.cgid, copy.start,
			  BPF_CORE_READ((struct cfs_rq___kg *)cfs_rq, rq, clock));
	return 0;
}
