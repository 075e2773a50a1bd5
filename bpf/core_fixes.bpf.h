/* SPDX-License-Identifier: GPL-2.0 */
/*
 * core_fixes.bpf.h - kernel-version differences, in one place.
 *
 * Each "___kg" struct is a CO-RE shadow: libbpf matches it to the running
 * kernel's struct by name (the suffix is ignored) and relocates every field
 * access, or reports the field missing to bpf_core_field_exists(), so one
 * object runs on every kernel we support.
 */
#ifndef KG_CORE_FIXES_BPF_H
#define KG_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* 6.18+: CFS throttling is per task; a task being throttled has ->throttled set. */
struct task_struct___kg {
	bool throttled;
} __attribute__((preserve_access_index));

/*
 * Only the cfs_rq fields we read. A local shadow rather than vmlinux.h's
 * struct cfs_rq because clang 14 cannot emit a bitfield relocation inside a
 * 64-byte aligned struct ("requiring too big alignment"). ->throttled is a
 * bool bitfield since 6.18 and an int before: the PROBED bitfield read copes
 * with both.
 */
struct cfs_rq___kg {
	struct rq *rq;
	struct task_group *tg;
	int throttle_count;
	__u64 throttled_clock;
	bool throttled : 1;
} __attribute__((preserve_access_index));

/* cpu.max.burst / cpu.cfs_burst_us exist since 5.14 */
struct cfs_bandwidth___kg {
	__u64 burst;
} __attribute__((preserve_access_index));

/*
 * Was prev taken off the CPU because its CFS group ran out of quota?
 * 6.18+: the task throttles itself on its way back to user mode and sets
 * ->throttled. Before: the whole group runqueue is dequeued at once, and the
 * switch sees it only as the running task being preempted (still runnable)
 * while its cfs_rq is throttled.
 */
static __always_inline bool kg_task_throttled(struct task_struct *prev, unsigned int prev_state)
{
	struct task_struct___kg *p = (void *)prev;
	struct cfs_rq___kg *cfs_rq;

	if (bpf_core_field_exists(p->throttled))
		return p->throttled;
	if (prev_state != 0)
		return false;
	cfs_rq = (void *)prev->se.cfs_rq;
	return cfs_rq && cfs_rq->throttle_count > 0;	/* direct load: prev is a BTF pointer */
}

static __always_inline bool kg_cfs_rq_throttled(struct cfs_rq___kg *cfs_rq)
{
	return BPF_CORE_READ_BITFIELD_PROBED(cfs_rq, throttled);
}

#endif /* KG_CORE_FIXES_BPF_H */
