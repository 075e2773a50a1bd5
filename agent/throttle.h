/* SPDX-License-Identifier: GPL-2.0 */
/*
 * throttle.h - turn the kernel's per-cgroup CFS-bandwidth counters into
 * KernelWhispers.
 *
 * Every sample period the agent reads the kg_cfs map (one entry per cgroup
 * with a CPU quota that has been active), the scheduler facts of the same
 * cgroup and its CPU usage counter, and keeps a ring of samples covering the
 * whisper window. A cgroup throttled in the window gets a whisper, rewritten
 * while its counters move; when it goes idle the last one stays.
 */
#ifndef KG_THROTTLE_H
#define KG_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>
#include "cgroup_path.h"
#include "cgroupfs.h"
#include "config.h"
#include "kg_events.h"
#include "loader.h"
#include "resource.h"
#include <json-c/json.h>

struct kg_thr_sample {
	uint64_t ts_ns;
	struct kg_cfs_stats cfs;	/* counters as of this sample */
	bool have_usage, have_sched;
	uint64_t usage_ns;
	struct kg_sched_stats sched;
};

struct kg_thr_cg {
	uint64_t cpu_id;		/* key in kg_cfs: id in the cpu controller's hierarchy */
	uint64_t ident_id;		/* the same path in the identity hierarchy, 0 if absent */
	char path[KG_PATH_LEN];
	struct kg_cgroup_identity ident;
	char group[KG_PATH_LEN];	/* pod uid, or path: one whisper per group */
	char name[KG_NAME_MAX];
	uint64_t base_ts_ns;
	/*
	 * Ring of samples, oldest at (head - count). Two slots (baseline and
	 * latest) while the cgroup is not throttled; the whole window once it
	 * is, and back to two when a window passes without throttling: memory
	 * goes to the cgroups that have something to say.
	 */
	unsigned head, count, cap;
	struct kg_thr_sample *ring;
	unsigned threads;		/* most tasks seen in the cgroup while throttled */
	uint64_t throttled_since_ns;	/* this run of throttling began (for conditions) */
	bool seen;
	struct kg_thr_cg *next;
};

/* Where a finished whisper goes (the engine decides: a file, or the API server). */
typedef void (*kg_emit_fn)(void *ctx, const char *plural, const char *suffix, const char *pod_uid,
			   const char *name, json_object *doc);

/* The metrics API's view of a pod's CPU use, when there is one (see kube.h). */
typedef bool (*kg_metrics_view_fn)(void *ctx, const char *pod_uid, const char *container_id,
				   double *millicores, double *window_s);

struct kg_throttle {
	const struct kg_config *cfg;
	kg_emit_fn emit;
	void *emit_ctx;
	kg_metrics_view_fn metrics_view;	/* NULL: always computed locally */
	const struct kg_cgroupfs *fs;
	struct kg_bpf *bpf;
	const struct kg_resource_meta *tmpl;	/* node, clock offset, hooks */
	struct kg_thr_cg *list;
	unsigned n, ring_cap;		/* ring_cap: samples in a whole window */
	unsigned node_cpus;
	uint64_t whispers_written, cgroups_gone;
};

void kg_throttle_init(struct kg_throttle *t, const struct kg_config *cfg,
		      const struct kg_cgroupfs *fs, struct kg_bpf *bpf, kg_emit_fn emit,
		      void *emit_ctx, const struct kg_resource_meta *tmpl);
void kg_throttle_fini(struct kg_throttle *t);

/* Read the kernel's counters and write the whispers that changed. */
void kg_throttle_sample(struct kg_throttle *t, uint64_t now_ns);

/* Sum a per-CPU kg_sched_stats value (nr_cpus copies) into one. */
void kg_sched_sum(const struct kg_sched_stats *percpu, int nr_cpus, struct kg_sched_stats *out);

#endif /* KG_THROTTLE_H */
