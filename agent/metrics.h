/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h - the agent's Prometheus exposition (text format 0.0.4) and the
 * few health facts other modules report into.
 *
 * Two halves:
 *  - A pure formatter: a snapshot of plain numbers in, the /metrics text out.
 *    Names follow Prometheus conventions (kernel_gossip_ prefix, snake_case,
 *    _total on counters only, base units: seconds, bytes), every family has
 *    HELP and TYPE, and label cardinality is bounded: per-pod series are
 *    labelled by pod uid (namespace and name when a resolver knows them),
 *    never by a path, and capped at KG_METRICS_MAX_PODS rows.
 *  - Hooks that any thread may call (atomics, one mutex for a string): API
 *    requests by HTTP status code for the Kubernetes sink, and readiness gates (/readyz is ready when every gate
 *    that was required is set: programs attached; pod cache synced once the
 *    Kubernetes code requires it).
 */
#ifndef KG_METRICS_H
#define KG_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kg_events.h"

#define KG_METRICS_MAX_PODS 1000	/* rows per per-pod family; the rest is counted, not shown */
#define KG_METRICS_MAX_PROGS 32

/* ---- hooks: callable from any thread ---- */

/* One Kubernetes API request answered with HTTP status code (<= 0: no answer). */
void kg_metrics_count_api(int code);
uint64_t kg_metrics_api_count(int code);	/* code 0 = no answer */

enum kg_ready_gate {
	KG_READY_PROGRAMS = 0,	/* BPF programs loaded and attached (set by the agent) */
	KG_READY_POD_CACHE,	/* the Kubernetes pod cache has synced (required by k8s mode) */
	KG_READY_NR,
};

/* A gate counts for /readyz once required; kg_ready() is true when all required are set. */
void kg_ready_require(enum kg_ready_gate g);
void kg_ready_set(enum kg_ready_gate g, bool ok);
bool kg_ready(void);
/* "" when ready, else the unmet gates, comma-separated. */
void kg_ready_explain(char *buf, size_t bufsz);
const char *kg_ready_gate_name(enum kg_ready_gate g);

/* The API server connection, in a few words (status and kgctl); "" until set. */
void kg_metrics_set_api_state(const char *state);
void kg_metrics_api_state(char *buf, size_t bufsz);

/* Back to zero: for tests. */
void kg_metrics_hooks_reset(void);

/* ---- snapshot and formatter (pure) ---- */

struct kg_metrics_prog {
	char name[32];
	uint32_t id;
	bool attached;
	uint64_t run_time_ns, run_cnt;	/* 0 unless kernel.bpf_stats_enabled=1 */
};

/* One cgroup with a CPU quota that belongs to a pod. */
struct kg_metrics_cfs {
	char pod_uid[40];
	char container_id[16];		/* first 12 hex digits; "" for the pod's own cgroup */
	char namespace_[64], pod[254];	/* "" unless known */
	uint64_t periods, throttled_periods, throttled_ns;	/* the kernel's cumulative counters */
	uint64_t quota_ns, period_ns;	/* quota ~0: none */
};

struct kg_metrics_birth {
	char pod_uid[40];
	char namespace_[64], pod[254];
	uint64_t syscalls;		/* of the starts the pod's certificate holds, open ones too */
	uint64_t starts;		/* container starts (the newest KG_POD_MAX_BIRTHS + open) */
};

struct kg_metrics_snap {
	const char *version, *kernel;
	unsigned queue_depth;		/* resources waiting for the API server */
	double start_time_s;		/* Unix time */
	bool ready;
	uint64_t events[KG_EV_TYPE_MAX];	/* consumed from the rings, by type */
	uint64_t malformed;
	uint64_t counters[KG_CNT_MAX];	/* the kernel side's counters, summed over CPUs */
	int nr_cpus;
	const uint64_t *drops_per_cpu;	/* nr_cpus entries, or NULL */
	unsigned nprogs;
	struct kg_metrics_prog progs[KG_METRICS_MAX_PROGS];
	bool bpf_stats_enabled;
	bool syscalls_attached;
	uint64_t syscall_attach_cycles;
	uint64_t births_recorded, births_discarded, births_orphaned, births_refused;
	unsigned births_open, cgroups_tracked, pods_tracked, throttle_cgroups;
	uint64_t written_certificates, written_whispers, unchanged, write_errors;
	unsigned debug_clients;
	uint64_t debug_dropped[8];	/* by enum kg_dbg_drop */
	uint64_t watch_events_dropped;
	uint64_t log_suppressed;
	const struct kg_metrics_cfs *cfs;
	unsigned ncfs, cfs_omitted;
	const struct kg_metrics_birth *births;
	unsigned nbirths, births_omitted;
};

/* The /metrics text (malloc'd, NUL-terminated; length in *len); NULL when out of memory. */
char *kg_metrics_format(const struct kg_metrics_snap *s, size_t *len);

/* Writer, exported for tests: a family header, then its samples. */
struct kg_prom {
	char *buf;
	size_t len, cap;
	bool oom;
};

void kg_prom_family(struct kg_prom *p, const char *name, const char *type, const char *help);
/* labels: nlabels pairs of (name, value) strings; values are escaped. */
void kg_prom_u64(struct kg_prom *p, const char *name, uint64_t v, unsigned nlabels, ...);
void kg_prom_dbl(struct kg_prom *p, const char *name, double v, unsigned nlabels, ...);

const char *kg_event_type_name(unsigned type);
const char *kg_counter_name(unsigned counter);

#endif /* KG_METRICS_H */
