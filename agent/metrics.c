// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - see metrics.h.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "debug_proto.h"
#include "metrics.h"

/* ---- hooks ---- */

#define KG_API_CODES 600	/* HTTP status codes 100..599; slot 0: no answer */

static _Atomic uint64_t kg_api_codes[KG_API_CODES];
static _Atomic unsigned kg_ready_required = 1u << KG_READY_PROGRAMS;
static _Atomic unsigned kg_ready_set_mask;
static pthread_mutex_t kg_api_state_lock = PTHREAD_MUTEX_INITIALIZER;
static char kg_api_state_buf[128];

static unsigned kg_api_slot(int code)
{
	return code >= 100 && code < KG_API_CODES ? (unsigned)code : 0;
}

void kg_metrics_count_api(int code)
{
	atomic_fetch_add_explicit(&kg_api_codes[kg_api_slot(code)], 1, memory_order_relaxed);
}

uint64_t kg_metrics_api_count(int code)
{
	return atomic_load_explicit(&kg_api_codes[kg_api_slot(code)], memory_order_relaxed);
}

static const char *const kg_gate_names[KG_READY_NR] = {
	[KG_READY_PROGRAMS] = "programs not attached",
	[KG_READY_POD_CACHE] = "pod cache not synced",
};

const char *kg_ready_gate_name(enum kg_ready_gate g)
{
	return g < KG_READY_NR ? kg_gate_names[g] : "unknown";
}

void kg_ready_require(enum kg_ready_gate g)
{
	atomic_fetch_or(&kg_ready_required, 1u << g);
}

void kg_ready_set(enum kg_ready_gate g, bool ok)
{
	if (ok)
		atomic_fetch_or(&kg_ready_set_mask, 1u << g);
	else
		atomic_fetch_and(&kg_ready_set_mask, ~(1u << g));
}

bool kg_ready(void)
{
	unsigned req = atomic_load(&kg_ready_required);

	return (atomic_load(&kg_ready_set_mask) & req) == req;
}

void kg_ready_explain(char *buf, size_t bufsz)
{
	unsigned missing = atomic_load(&kg_ready_required) & ~atomic_load(&kg_ready_set_mask);
	size_t n = 0;

	buf[0] = 0;
	for (unsigned g = 0; g < KG_READY_NR && n < bufsz; g++) {
		if (missing & (1u << g))
			n += snprintf(buf + n, bufsz - n, "%s%s", n ? ", " : "", kg_gate_names[g]);
	}
}

void kg_metrics_set_api_state(const char *state)
{
	pthread_mutex_lock(&kg_api_state_lock);
	snprintf(kg_api_state_buf, sizeof(kg_api_state_buf), "%s", state ? state : "");
	pthread_mutex_unlock(&kg_api_state_lock);
}

void kg_metrics_api_state(char *buf, size_t bufsz)
{
	pthread_mutex_lock(&kg_api_state_lock);
	snprintf(buf, bufsz, "%s", kg_api_state_buf);
	pthread_mutex_unlock(&kg_api_state_lock);
}

void kg_metrics_hooks_reset(void)
{
	for (unsigned i = 0; i < KG_API_CODES; i++)
		atomic_store(&kg_api_codes[i], 0);
	atomic_store(&kg_ready_required, 1u << KG_READY_PROGRAMS);
	atomic_store(&kg_ready_set_mask, 0);
	kg_metrics_set_api_state("");
}

/* ---- writer ---- */

static void kg_prom_put(struct kg_prom *p, const char *s, size_t n)
{
	if (p->oom)
		return;
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 16384;
		char *b;

		while (p->len + n + 1 > cap)
			cap *= 2;
		b = realloc(p->buf, cap);
		if (!b) {
			p->oom = true;
			return;
		}
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = 0;
}

static void kg_prom_puts(struct kg_prom *p, const char *s)
{
	kg_prom_put(p, s, strlen(s));
}

/* HELP text escapes \ and newline; label values also ". */
static void kg_prom_escaped(struct kg_prom *p, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			kg_prom_puts(p, "\\\\");
		else if (*s == '\n')
			kg_prom_puts(p, "\\n");
		else if (*s == '"' && quote)
			kg_prom_puts(p, "\\\"");
		else
			kg_prom_put(p, s, 1);
	}
}

void kg_prom_family(struct kg_prom *p, const char *name, const char *type, const char *help)
{
	kg_prom_puts(p, "# HELP ");
	kg_prom_puts(p, name);
	kg_prom_puts(p, " ");
	kg_prom_escaped(p, help, false);
	kg_prom_puts(p, "\n# TYPE ");
	kg_prom_puts(p, name);
	kg_prom_puts(p, " ");
	kg_prom_puts(p, type);
	kg_prom_puts(p, "\n");
}

static void kg_prom_labels(struct kg_prom *p, const char *name, unsigned n, va_list ap)
{
	bool any = false;

	kg_prom_puts(p, name);
	for (unsigned i = 0; i < n; i++) {
		const char *k = va_arg(ap, const char *), *v = va_arg(ap, const char *);

		if (!v || !*v)
			continue;	/* an empty label is no label */
		kg_prom_puts(p, any ? "," : "{");
		kg_prom_puts(p, k);
		kg_prom_puts(p, "=\"");
		kg_prom_escaped(p, v, true);
		kg_prom_puts(p, "\"");
		any = true;
	}
	if (any)
		kg_prom_puts(p, "}");
}

void kg_prom_u64(struct kg_prom *p, const char *name, uint64_t v, unsigned nlabels, ...)
{
	char num[32];
	va_list ap;

	va_start(ap, nlabels);
	kg_prom_labels(p, name, nlabels, ap);
	va_end(ap);
	snprintf(num, sizeof(num), " %llu\n", (unsigned long long)v);
	kg_prom_puts(p, num);
}

void kg_prom_dbl(struct kg_prom *p, const char *name, double v, unsigned nlabels, ...)
{
	char num[48];
	va_list ap;

	va_start(ap, nlabels);
	kg_prom_labels(p, name, nlabels, ap);
	va_end(ap);
	if (isnan(v))
		snprintf(num, sizeof(num), " NaN\n");
	else if (isinf(v))
		snprintf(num, sizeof(num), " %sInf\n", v > 0 ? "+" : "-");
	else
		snprintf(num, sizeof(num), " %.17g\n", v);
	kg_prom_puts(p, num);
}

/* ---- names ---- */

const char *kg_event_type_name(unsigned type)
{
	static const char *const names[KG_EV_TYPE_MAX] = {
		[KG_EV_CGROUP_MKDIR] = "cgroup_mkdir", [KG_EV_CGROUP_RMDIR] = "cgroup_rmdir",
		[KG_EV_CGROUP_ATTACH] = "cgroup_attach", [KG_EV_EXEC] = "exec",
		[KG_EV_FORK] = "fork", [KG_EV_EXIT] = "exit", [KG_EV_OPEN] = "open",
		[KG_EV_NAMESPACE] = "namespace", [KG_EV_MOUNT] = "mount",
		[KG_EV_LISTEN] = "listen",
	};

	return type < KG_EV_TYPE_MAX && names[type] ? names[type] : NULL;
}

const char *kg_counter_name(unsigned counter)
{
	static const char *const names[KG_CNT_MAX] = {
		[KG_CNT_RB_DROP] = "ring_drop", [KG_CNT_RB_MISSING] = "ring_missing",
		[KG_CNT_BIRTH_MAP_FULL] = "births_map_full",
		[KG_CNT_SCHED_MAP_FULL] = "sched_map_full", [KG_CNT_CFS_MAP_FULL] = "cfs_map_full",
		[KG_CNT_EPISODE_MAP_FULL] = "episodes_map_full",
		[KG_CNT_ARGS_MAP_FULL] = "sys_args_map_full",
		[KG_CNT_TSTAMP_MAP_FULL] = "tstamp_map_full",
		[KG_CNT_EPISODE_INDEX_FULL] = "episode_index_full", [KG_CNT_EVENTS] = "events",
	};

	return counter < KG_CNT_MAX && names[counter] ? names[counter] : "unknown";
}

/* ---- the exposition ---- */

#define F(name, type, help) kg_prom_family(p, "kernel_gossip_" name, type, help)
#define M(name) "kernel_gossip_" name

static void kg_metrics_agent(struct kg_prom *p, const struct kg_metrics_snap *s)
{
	char num[32];

	F("build_info", "gauge", "Agent version and kernel release; always 1.");
	kg_prom_u64(p, M("build_info"), 1, 2, "version", s->version, "kernel", s->kernel);
	F("start_time_seconds", "gauge", "When the agent started, seconds since the Unix epoch.");
	kg_prom_dbl(p, M("start_time_seconds"), s->start_time_s, 0);
	F("ready", "gauge", "1 when the agent is ready (what /readyz answers), else 0.");
	kg_prom_u64(p, M("ready"), s->ready, 0);

	F("events_total", "counter",
	  "Events consumed from the kernel's ring buffers, by event type.");
	for (unsigned t = 0; t < KG_EV_TYPE_MAX; t++) {
		if (kg_event_type_name(t))
			kg_prom_u64(p, M("events_total"), s->events[t], 1, "type",
				    kg_event_type_name(t));
	}
	F("events_malformed_total", "counter",
	  "Ring-buffer records rejected: too short for their type or of an unknown type.");
	kg_prom_u64(p, M("events_malformed_total"), s->malformed, 0);
	F("bpf_events_submitted_total", "counter",
	  "Events the BPF programs submitted to the ring buffers.");
	kg_prom_u64(p, M("bpf_events_submitted_total"), s->counters[KG_CNT_EVENTS], 0);
	F("ring_drops_total", "counter",
	  "Events lost because the CPU's ring buffer was full (raise --ring-bytes), by CPU.");
	for (int c = 0; s->drops_per_cpu && c < s->nr_cpus && c < KG_MAX_CPUS; c++) {
		snprintf(num, sizeof(num), "%d", c);
		kg_prom_u64(p, M("ring_drops_total"), s->drops_per_cpu[c], 1, "cpu", num);
	}
	F("bpf_map_full_total", "counter",
	  "Updates the BPF programs could not make because a map was full, by map.");
	for (unsigned k = KG_CNT_BIRTH_MAP_FULL; k <= KG_CNT_TSTAMP_MAP_FULL; k++)
		kg_prom_u64(p, M("bpf_map_full_total"), s->counters[k], 1, "map",
			    kg_counter_name(k));
	F("bpf_ring_missing_total", "counter",
	  "Events with no ring buffer for their CPU (should stay 0).");
	kg_prom_u64(p, M("bpf_ring_missing_total"), s->counters[KG_CNT_RB_MISSING], 0);

	F("bpf_stats_enabled", "gauge",
	  "1 when kernel.bpf_stats_enabled=1, so program run time and counts are measured.");
	kg_prom_u64(p, M("bpf_stats_enabled"), s->bpf_stats_enabled, 0);
	F("bpf_program_attached", "gauge", "1 when the BPF program is attached now, by program.");
	for (unsigned i = 0; i < s->nprogs; i++)
		kg_prom_u64(p, M("bpf_program_attached"), s->progs[i].attached, 1, "program",
			    s->progs[i].name);
	F("bpf_program_run_seconds_total", "counter",
	  "Time the kernel spent running the BPF program (needs kernel.bpf_stats_enabled=1).");
	for (unsigned i = 0; i < s->nprogs; i++)
		kg_prom_dbl(p, M("bpf_program_run_seconds_total"), s->progs[i].run_time_ns / 1e9, 1,
			    "program", s->progs[i].name);
	F("bpf_program_runs_total", "counter",
	  "Times the BPF program ran (needs kernel.bpf_stats_enabled=1).");
	for (unsigned i = 0; i < s->nprogs; i++)
		kg_prom_u64(p, M("bpf_program_runs_total"), s->progs[i].run_cnt, 1, "program",
			    s->progs[i].name);
	F("syscall_hooks_attached", "gauge",
	  "1 while the syscall counters are attached (only while a start is recorded by default).");
	kg_prom_u64(p, M("syscall_hooks_attached"), s->syscalls_attached, 0);
	F("syscall_hooks_attaches_total", "counter", "Times the syscall counters were attached.");
	kg_prom_u64(p, M("syscall_hooks_attaches_total"), s->syscall_attach_cycles, 0);

	F("births_total", "counter",
	  "Container starts by outcome: recorded (in a certificate), discarded (no task ever "
	  "joined), orphaned (creation event lost), refused (kernel births map full).");
	kg_prom_u64(p, M("births_total"), s->births_recorded, 1, "outcome", "recorded");
	kg_prom_u64(p, M("births_total"), s->births_discarded, 1, "outcome", "discarded");
	kg_prom_u64(p, M("births_total"), s->births_orphaned, 1, "outcome", "orphaned");
	kg_prom_u64(p, M("births_total"), s->births_refused, 1, "outcome", "refused");
	F("births_open", "gauge", "Container starts being recorded now.");
	kg_prom_u64(p, M("births_open"), s->births_open, 0);
	F("cgroups_tracked", "gauge", "Cgroups under the tracked prefixes the agent knows.");
	kg_prom_u64(p, M("cgroups_tracked"), s->cgroups_tracked, 0);
	F("pods_tracked", "gauge", "Pods (or stand-alone cgroups) the agent knows.");
	kg_prom_u64(p, M("pods_tracked"), s->pods_tracked, 0);
	F("throttle_cgroups", "gauge", "Cgroups with a CPU quota whose throttling is sampled.");
	kg_prom_u64(p, M("throttle_cgroups"), s->throttle_cgroups, 0);

	F("resources_written_total", "counter", "Resources written (created or changed), by kind.");
	kg_prom_u64(p, M("resources_written_total"), s->written_certificates, 1, "kind",
		    "PodBirthCertificate");
	kg_prom_u64(p, M("resources_written_total"), s->written_whispers, 1, "kind",
		    "KernelWhisper");
	F("resources_unchanged_total", "counter",
	  "Resource writes skipped because the document had not changed.");
	kg_prom_u64(p, M("resources_unchanged_total"), s->unchanged, 0);
	F("resource_write_errors_total", "counter", "Resources that could not be written.");
	kg_prom_u64(p, M("resource_write_errors_total"), s->write_errors, 0);
	F("sink_queue_depth", "gauge", "Resources waiting to be written (Kubernetes sink).");
	kg_prom_u64(p, M("sink_queue_depth"), s->queue_depth, 0);
	F("api_requests_total", "counter",
	  "Kubernetes API requests by HTTP status code (\"none\": no answer).");
	for (int code = 0; code < KG_API_CODES; code = code ? code + 1 : 100) {
		uint64_t v = kg_metrics_api_count(code);

		if (!v && code)
			continue;
		snprintf(num, sizeof(num), "%d", code);
		kg_prom_u64(p, M("api_requests_total"), v, 1, "code", code ? num : "none");
	}

	F("debug_clients", "gauge", "Clients connected to the debug socket.");
	kg_prom_u64(p, M("debug_clients"), s->debug_clients, 0);
	F("debug_clients_dropped_total", "counter",
	  "Debug-socket clients refused or disconnected by the agent, by reason.");
	for (unsigned r = 0; r < KG_DBG_DROP_NR; r++)
		kg_prom_u64(p, M("debug_clients_dropped_total"), s->debug_dropped[r], 1, "reason",
			    kg_dbg_drop_name(r));
	F("debug_watch_events_dropped_total", "counter",
	  "Watch events dropped (oldest first) for debug-socket clients reading too slowly.");
	kg_prom_u64(p, M("debug_watch_events_dropped_total"), s->watch_events_dropped, 0);
	F("log_lines_suppressed_total", "counter",
	  "Log lines not written because the same event repeated too often.");
	kg_prom_u64(p, M("log_lines_suppressed_total"), s->log_suppressed, 0);
}

static void kg_metrics_pods(struct kg_prom *p, const struct kg_metrics_snap *s)
{
#define CFS_LABELS(c)                                                                          \
	4, "pod_uid", (c)->pod_uid, "namespace", (c)->namespace_, "pod", (c)->pod, "container_id", \
		(c)->container_id
#define BIRTH_LABELS(b) 3, "pod_uid", (b)->pod_uid, "namespace", (b)->namespace_, "pod", (b)->pod

	F("pod_cpu_periods_total", "counter",
	  "CFS bandwidth periods of a pod's (container_id empty) or container's cgroup with a "
	  "CPU quota: the kernel's nr_periods.");
	for (unsigned i = 0; i < s->ncfs; i++)
		kg_prom_u64(p, M("pod_cpu_periods_total"), s->cfs[i].periods, CFS_LABELS(&s->cfs[i]));
	F("pod_cpu_throttled_periods_total", "counter",
	  "CFS periods in which the cgroup was throttled: the kernel's nr_throttled.");
	for (unsigned i = 0; i < s->ncfs; i++)
		kg_prom_u64(p, M("pod_cpu_throttled_periods_total"), s->cfs[i].throttled_periods,
			    CFS_LABELS(&s->cfs[i]));
	F("pod_cpu_throttled_seconds_total", "counter",
	  "Time the cgroup's runqueues were held throttled, summed over CPUs: the kernel's "
	  "throttled_time.");
	for (unsigned i = 0; i < s->ncfs; i++)
		kg_prom_dbl(p, M("pod_cpu_throttled_seconds_total"), s->cfs[i].throttled_ns / 1e9,
			    CFS_LABELS(&s->cfs[i]));
	F("pod_cpu_limit_cores", "gauge", "The cgroup's CPU limit (quota / period), in cores.");
	for (unsigned i = 0; i < s->ncfs; i++) {
		const struct kg_metrics_cfs *c = &s->cfs[i];

		if (c->period_ns && c->quota_ns != UINT64_MAX && c->quota_ns)
			kg_prom_dbl(p, M("pod_cpu_limit_cores"),
				    (double)c->quota_ns / (double)c->period_ns, CFS_LABELS(c));
	}
	F("pod_birth_syscalls", "gauge",
	  "Syscalls the pod's containers made while they started: its PodBirthCertificate's "
	  "total, with starts still being recorded included.");
	for (unsigned i = 0; i < s->nbirths; i++)
		kg_prom_u64(p, M("pod_birth_syscalls"), s->births[i].syscalls,
			    BIRTH_LABELS(&s->births[i]));
	F("pod_birth_containers", "gauge",
	  "Container starts in the pod's PodBirthCertificate (the newest 16), open ones included.");
	for (unsigned i = 0; i < s->nbirths; i++)
		kg_prom_u64(p, M("pod_birth_containers"), s->births[i].starts,
			    BIRTH_LABELS(&s->births[i]));
	F("metrics_pod_series_omitted", "gauge",
	  "Per-pod rows left out of this scrape to bound the series count, by family group.");
	kg_prom_u64(p, M("metrics_pod_series_omitted"), s->cfs_omitted, 1, "group", "cpu");
	kg_prom_u64(p, M("metrics_pod_series_omitted"), s->births_omitted, 1, "group", "birth");
#undef CFS_LABELS
#undef BIRTH_LABELS
}

char *kg_metrics_format(const struct kg_metrics_snap *s, size_t *len)
{
	struct kg_prom p = { 0 };

	kg_metrics_agent(&p, s);
	kg_metrics_pods(&p, s);
	if (p.oom || !p.buf) {
		free(p.buf);
		return NULL;
	}
	if (len)
		*len = p.len;
	return p.buf;
}
