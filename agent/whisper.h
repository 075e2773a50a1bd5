/* SPDX-License-Identifier: GPL-2.0 */
/*
 * whisper.h - a KernelWhisper document: what CPU metrics show beside what
 * the kernel did over the same window. Pure: a window of measured facts in,
 * json-c out.
 */
#ifndef KG_WHISPER_H
#define KG_WHISPER_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "kg_events.h"
#include "resource.h"

struct kg_whisper_window {
	/* kernel view: the cfs_bandwidth counters, deltas over [start_ns, end_ns] */
	uint64_t start_ns, end_ns;	/* CLOCK_MONOTONIC */
	uint64_t periods, throttled_periods, throttled_ns;
	/* the same counters, cumulative at end_ns: what cpu.stat printed then */
	uint64_t total_periods, total_throttled_periods, total_throttled_ns;
	uint64_t quota_ns, period_ns, burst_ns;	/* per period; quota ~0 = none */
	uint64_t episodes, episode_ns;
	__u64 episode_hist[KG_HIST_SLOTS];
	const char *episode_hook;
	/* metrics view: cgroup CPU usage over [usage_start_ns, usage_end_ns] */
	bool have_usage;
	uint64_t usage_start_ns, usage_end_ns, usage_ns;
	const char *usage_source;
	/* the local computation, kept beside when the metrics API supplied the view */
	bool local_have_usage;
	uint64_t local_usage_start_ns, local_usage_end_ns, local_usage_ns;
	const char *local_usage_source;
	/* scheduler facts of the same cgroup over the usage window */
	bool have_sched;
	struct kg_sched_stats sched;
	/* per-period CPU use and demand over the kernel window (kg_cfs_stats) */
	__u32 usage_hist[KG_USAGE_SLOTS];
	__u32 demand_hist[KG_DEMAND_SLOTS];
	uint64_t bursts;
	uint64_t open_burst_work_ns;	/* a throttled burst still running at the window's end */
	unsigned threads;		/* tasks in the cgroup */
	unsigned node_cpus;
	/* when the cgroup was first seen throttled in this run of throttling */
	uint64_t throttled_since_ns;
};

json_object *kg_whisper_json(const struct kg_resource_meta *m, const struct kg_whisper_window *w);

/* CPU limit in millicores (quota / period), 0 when unlimited. */
double kg_limit_millicores(uint64_t quota_ns, uint64_t period_ns);

#endif /* KG_WHISPER_H */
