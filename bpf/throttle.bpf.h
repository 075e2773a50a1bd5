/* SPDX-License-Identifier: GPL-2.0 */
/*
 * throttle.bpf.h - CFS-bandwidth state shared by throttle.bpf.c (period timer,
 * fentry episode hooks) and sched.bpf.c (the sched_switch episode fallback).
 */
#ifndef KG_THROTTLE_BPF_H
#define KG_THROTTLE_BPF_H

#include "common.bpf.h"
#include "core_fixes.bpf.h"

/* Per cgroup with a quota, keyed by its id in the cpu controller's hierarchy. */
KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct kg_cfs_stats);
}, kg_cfs);

/* All zero, never written: new kg_cfs entries are copied from it (too big for the stack). */
KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kg_cfs_stats);
}, kg_cfs_zero);

KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);	/* struct cfs_rq * */
	__type(value, struct kg_episode);
}, kg_episodes);

/*
 * The switch hook's open episodes by CPU: an episode's cfs_rq belongs to the
 * CPU whose switch opened it, and the remote-unthrottle IPI runs on that CPU,
 * so the IPI checks these few slots, not the whole of kg_episodes. Written
 * only on its own CPU with interrupts off (under the run-queue lock, in the
 * IPI): no lock. A slot whose episode another CPU closed is reused or cleared
 * when next seen.
 */
#define KG_EP_SLOTS 32

struct kg_ep_slots {
	__u64 key[KG_EP_SLOTS];
};

KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kg_ep_slots);
}, kg_ep_index);

static __always_inline __u64 kg_tg_cgid(struct task_group *tg)
{
	return BPF_CORE_READ(tg, css.cgroup, kn, id);
}

/* The cgroup's record, created with the kernel's counters as its baseline. */
static __always_inline struct kg_cfs_stats *kg_cfs_of(struct task_group *tg, __u64 cgid)
{
	struct kg_cfs_stats *s = bpf_map_lookup_elem(&kg_cfs, &cgid), *zero;
	__u32 key = 0;

	if (s)
		return s;
	zero = bpf_map_lookup_elem(&kg_cfs_zero, &key);
	if (!zero)
		return NULL;
	if (bpf_map_update_elem(&kg_cfs, &cgid, zero, BPF_NOEXIST)) {
		s = bpf_map_lookup_elem(&kg_cfs, &cgid);	/* another CPU created it */
		if (!s)
			kg_count(KG_CNT_CFS_MAP_FULL);
		return s;
	}
	s = bpf_map_lookup_elem(&kg_cfs, &cgid);
	if (!s)
		return NULL;
	s->base_nr_periods = (__u32)BPF_CORE_READ(tg, cfs_bandwidth.nr_periods);
	s->base_nr_throttled = (__u32)BPF_CORE_READ(tg, cfs_bandwidth.nr_throttled);
	s->base_throttled_time_ns = BPF_CORE_READ(tg, cfs_bandwidth.throttled_time);
	s->nr_periods = s->base_nr_periods;
	s->nr_throttled = s->base_nr_throttled;
	s->throttled_time_ns = s->base_throttled_time_ns;
	s->base_ts_ns = bpf_ktime_get_ns();
	return s;
}

/*
 * Copy the kernel's counters of tg. Done at every period timer and after
 * every unthrottle we see: the last unthrottle of a burst can come after the
 * last period timer (an IPI to another CPU), and its throttled time must
 * not wait for a timer that may never fire again.
 */
static __always_inline void kg_cfs_refresh(struct task_group *tg, struct kg_cfs_stats *s)
{
	s->nr_periods = (__u32)BPF_CORE_READ(tg, cfs_bandwidth.nr_periods);
	s->nr_throttled = (__u32)BPF_CORE_READ(tg, cfs_bandwidth.nr_throttled);
	s->throttled_time_ns = BPF_CORE_READ(tg, cfs_bandwidth.throttled_time);
	s->last_ts_ns = bpf_ktime_get_ns();
}

static __always_inline void kg_episode_closed(struct task_group *tg, __u64 cgid, __u64 start,
					      __u64 now)
{
	struct kg_cfs_stats *s = bpf_map_lookup_elem(&kg_cfs, &cgid);
	__u64 d;

	if (!s)
		return;
	kg_cfs_refresh(tg, s);
	if (!start || now <= start)
		return;
	d = now - start;
	__sync_fetch_and_add(&s->episodes_closed, 1);
	__sync_fetch_and_add(&s->episode_ns, d);
	if (d > s->episode_max_ns)
		s->episode_max_ns = d;	/* racy max: a lost update understates by one episode */
	__sync_fetch_and_add(&s->episode_hist[kg_hist_slot(d)], 1);
}

/* Index a new episode of this CPU (kg_ep_index). */
static __always_inline void kg_ep_index_add(__u64 key)
{
	__u32 zero = 0;
	struct kg_ep_slots *idx = bpf_map_lookup_elem(&kg_ep_index, &zero);

	if (!idx)
		return;
	for (int j = 0; j < KG_EP_SLOTS; j++) {
		__u64 k = idx->key[j];

		if (k == key)
			return;
		/* free, or its episode was closed by another CPU */
		if (!k || !bpf_map_lookup_elem(&kg_episodes, &k)) {
			idx->key[j] = key;
			return;
		}
	}
	kg_count(KG_CNT_EPISODE_INDEX_FULL);
}

/*
 * Fallback episode recorder (no fentry): prev was just throttled; walk up its
 * scheduling entities, because the quota may sit on an ancestor (a pod-level
 * limit above the container), and open an episode for each throttled cfs_rq
 * not already open.
 */
static __always_inline void kg_switch_open_episodes(struct task_struct *prev)
{
	struct sched_entity *se = &prev->se;

	for (int i = 0; i < 8 && se; i++) {
		struct cfs_rq___kg *cfs_rq = (void *)BPF_CORE_READ(se, cfs_rq);
		struct kg_episode *open, ep;
		struct task_group *tg;
		struct kg_cfs_stats *s;
		__u64 key;

		if (!cfs_rq)
			break;
		if (kg_cfs_rq_throttled(cfs_rq)) {
			key = (__u64)cfs_rq;
			ep.start = BPF_CORE_READ(cfs_rq, throttled_clock);
			open = bpf_map_lookup_elem(&kg_episodes, &key);
			if (!open || open->start != ep.start) {
				tg = BPF_CORE_READ(cfs_rq, tg);
				ep.cgid = kg_tg_cgid(tg);
				s = kg_cfs_of(tg, ep.cgid);
				if (bpf_map_update_elem(&kg_episodes, &key, &ep, BPF_ANY)) {
					kg_count(KG_CNT_EPISODE_MAP_FULL);
				} else {
					if (s)
						__sync_fetch_and_add(&s->episodes, 1);
					kg_ep_index_add(key);
				}
			}
		}
		se = BPF_CORE_READ(se, parent);
	}
}

#endif /* KG_THROTTLE_BPF_H */
