/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.bpf.h - what every kernel-gossip BPF program shares: the load-time
 * configuration, the per-CPU ring buffers, the drop counters, the birth
 * records and the helpers that fill events.
 *
 * The concerns (lifecycle, birth, sched, throttle) are separate compilation
 * units statically linked into one object (bpftool gen object), so that one
 * skeleton loads them all and the maps below exist once. maps.bpf.c defines
 * them (KG_DEFINE_GLOBALS); every other unit sees extern declarations of the
 * same shape. Every event goes out through kg_event_reserve()/kg_event_submit():
 * one hot path, easy to audit.
 */
#ifndef KG_COMMON_BPF_H
#define KG_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kg_events.h"

#ifdef KG_DEFINE_GLOBALS
#define KG_GLOBAL(decl, init) decl = init
#define KG_MAP(def, name) def name SEC(".maps")
#else
#define KG_GLOBAL(decl, init) extern decl
#define KG_MAP(def, name) extern def name SEC(".maps")
#endif

/* ---- load-time configuration (.rodata, set by the agent before load) ---- */

/* 1 when no unified hierarchy is mounted: identify cgroups by their v1 cpu cgroup */
KG_GLOBAL(const volatile __u32 kg_cfg_identity_v1, 0);
/* hierarchy id whose mkdirs open birth records: 0 (unified) or the v1 cpu hierarchy */
KG_GLOBAL(const volatile __u32 kg_cfg_identity_hier, 0);
KG_GLOBAL(const volatile __u32 kg_cfg_nr_prefixes, 0);
KG_GLOBAL(const volatile char kg_cfg_prefixes[KG_MAX_PREFIXES][KG_PREFIX_LEN], {});
/* possible CPUs (nr_cpu_ids): bounds the loops over per-CPU kernel arrays */
KG_GLOBAL(const volatile __u32 kg_cfg_nr_cpus, 1);
/* unconsumed bytes in a ring buffer above which the consumer is woken at once */
KG_GLOBAL(const volatile __u64 kg_cfg_wakeup_bytes, 65536);

/* ---- runtime switches (.bss, the agent may flip them while attached) ---- */

/* enum kg_episode_hook: which hook records CFS throttle episodes */
KG_GLOBAL(volatile __u32 kg_episode_hook, 0);

/* ---- maps ---- */

/* One BPF ring buffer per CPU, created and inserted by the agent. */
KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);	/* set to the number of possible CPUs at load */
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_RINGBUF);
		__uint(max_entries, 1 << 20);	/* resized by the agent at load */
	});
}, kg_rings);

KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
}, kg_counters);

/* Birth records, keyed by cgroup id in the identity hierarchy. */
KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);	/* --max-births */
	__type(key, __u64);
	__type(value, struct kg_birth_counts);
}, kg_births);

/* An all-zero birth record to copy from: too large for the 512-byte BPF stack. Never written. */
KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kg_birth_counts);
}, kg_birth_zero);

/* Scratch space for strings too large for the 512-byte BPF stack. */
struct kg_scratch {
	char path[KG_PATH_LEN];
};

KG_MAP(struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kg_scratch);
}, kg_scratch_map);

/* ---- helpers ---- */

static __always_inline void kg_count(enum kg_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&kg_counters, &key);

	if (v)
		*v += 1;	/* per-CPU slot, preemption is off in these programs */
}

/*
 * cgroup id of a task in the identity hierarchy. t must be a BTF pointer
 * (tp_btf/fentry arguments, bpf_get_current_task_btf()): the chain is read
 * with direct loads, which the verifier guards against faults, not with a
 * bpf_probe_read_kernel() call per hop as BPF_CORE_READ() does; on
 * sched_switch, twice per switch, that is most of the program's cost.
 */
static __always_inline __u64 kg_task_cgid(struct task_struct *t)
{
	if (kg_cfg_identity_v1) {
		int cpu_id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);

		return t->cgroups->subsys[cpu_id]->cgroup->kn->id;
	}
	return t->cgroups->dfl_cgrp->kn->id;
}

static __always_inline __u64 kg_current_cgid(void)
{
	if (kg_cfg_identity_v1)
		return kg_task_cgid(bpf_get_current_task_btf());
	return bpf_get_current_cgroup_id();
}

static __always_inline struct kg_birth_counts *kg_birth_of(__u64 cgid)
{
	return bpf_map_lookup_elem(&kg_births, &cgid);
}

/*
 * Reserve an event in this CPU's ring buffer. On failure the drop is counted
 * globally and, when the event belongs to a birth, in that birth's record, so
 * the certificate can say how complete its detail is.
 */
static __always_inline void *kg_event_reserve(void **ring, __u32 size,
					      struct kg_birth_counts *birth)
{
	__u32 cpu = bpf_get_smp_processor_id();
	void *rb = bpf_map_lookup_elem(&kg_rings, &cpu);
	void *e;

	if (!rb) {
		kg_count(KG_CNT_RB_MISSING);
		return NULL;
	}
	e = bpf_ringbuf_reserve(rb, size, 0);
	if (!e) {
		kg_count(KG_CNT_RB_DROP);
		if (birth)
			__sync_fetch_and_add(&birth->events_dropped, 1);
		return NULL;
	}
	*ring = rb;
	return e;
}

/*
 * Submit with batched wake-ups: the consumer polls on a short timer, so it is
 * woken only when a buffer fills past kg_cfg_wakeup_bytes or the event is
 * urgent (the agent must react to it, e.g. to start recording a birth).
 */
static __always_inline void kg_event_submit(void *ring, void *e, bool urgent)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (urgent || bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >= kg_cfg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	kg_count(KG_CNT_EVENTS);
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void kg_fill_hdr(struct kg_event_hdr *h, __u32 type, __u64 cgid)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	h->type = type;
	h->pid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->cgid = cgid;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* floor(log2(v)) without loops (bit-twiddling binary search), v > 0 */
static __always_inline __u32 kg_log2_32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

/* histogram slot of a duration: slot i holds [2^i, 2^(i+1)) ns, the last slot the rest */
static __always_inline __u64 kg_hist_slot(__u64 ns)
{
	__u32 hi = ns >> 32;
	__u64 slot = hi ? 32 + kg_log2_32(hi) : kg_log2_32((__u32)ns);

	/*
	 * Clamp with a 64-bit compare the compiler cannot narrow: older verifiers
	 * (6.1) mark the whole register unknown after a 32-bit OR with a
	 * non-constant operand (kg_log2_32), so a 32-bit compare bounds only the
	 * low half and the array index is rejected.
	 */
	barrier_var(slot);
	if (slot >= KG_HIST_SLOTS)
		slot = KG_HIST_SLOTS - 1;
	return slot;
}

#endif /* KG_COMMON_BPF_H */
