// SPDX-License-Identifier: GPL-2.0
/*
 * insights.c - the rules. See insights.h and README.md ("Insights").
 *
 * CPU throttling (KernelWhisper). The first version of this tool graded on
 * the throttled share alone (> 50 % warning, > 80 % critical); a share says
 * nothing about cost: a cgroup throttled in 90 % of periods for 0.1 ms each
 * loses nothing anyone feels. So severity here needs both how often and how
 * much:
 *   critical  share >= 50 % and >= 10 ms held per throttled period,
 *             or p99 run-queue delay >= 100 ms
 *   warning   share >= 20 % and >= 2 ms held per throttled period,
 *             or p99 run-queue delay >= 20 ms
 *   info      any other throttling
 * "Held" is the kernel's throttled time (summed over the CPUs whose
 * runqueues were throttled) divided by the throttled periods.
 *
 * Demand. At each period timer the kernel side records what the period
 * used; a run of throttled periods is a burst whose total work, done in one
 * period, is what it asked for. The limit that covers the p99 of those
 * demands (rounded up to 50 m) would have served the window's bursts
 * without throttling; past the node's CPUs no limit can, so the advice is
 * then to remove it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "certificate.h"
#include "hist.h"
#include "insights.h"
#include "json_util.h"

static const char *const kg_sev_names[] = { "none", "info", "warning", "critical" };

const char *kg_severity_name(enum kg_severity s)
{
	return s <= KG_SEV_CRITICAL ? kg_sev_names[s] : "unknown";
}

static void kg_ev(struct kg_insight *in, const char *name, double value, const char *unit)
{
	if (in->nevidence < KG_MAX_EVIDENCE)
		in->evidence[in->nevidence++] = (struct kg_evidence){ name, value, unit };
}

static double kg_pct(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0;
}

/* Slot of quantile q of the window's demand, a burst still running counted; -1 if none. */
static int kg_demand_slot(const struct kg_whisper_window *w, double q)
{
	uint64_t counts[KG_DEMAND_SLOTS], total = 0, rank, seen = 0;
	unsigned open_slot = 0;

	if (kg_limit_millicores(w->quota_ns, w->period_ns) <= 0)
		return -1;
	for (unsigned i = 0; i < KG_DEMAND_SLOTS; i++) {
		counts[i] = w->demand_hist[i];
		total += counts[i];
	}
	if (w->open_burst_work_ns) {	/* a burst still running asks at least this much */
		uint64_t tenths = w->open_burst_work_ns * 10 / w->quota_ns;

		open_slot = tenths < KG_DEMAND_SLOTS ? tenths : KG_DEMAND_SLOTS - 1;
		counts[open_slot]++;
		total++;
	}
	if (!total)
		return -1;
	rank = (uint64_t)ceil(q * (double)total);
	for (unsigned i = 0; i < KG_DEMAND_SLOTS; i++) {
		seen += counts[i];
		if (seen >= rank)
			return i;
	}
	return KG_DEMAND_SLOTS - 1;	/* unreachable: rank <= total */
}

/*
 * Slot i holds [i, i+1) tenths of the quota: its upper bound in millicores;
 * the last slot, 10 x the quota or more, its lower bound. From the integers
 * in one division, so that a multiple of the limit comes out exact with any
 * period (limit x 15 / 10 of a 30 ms period was 500.00000000000006, which
 * rounded up to 550m).
 */
static double kg_slot_millicores(const struct kg_whisper_window *w, int i)
{
	unsigned tenths = i < KG_DEMAND_SLOTS - 1 ? i + 1 : i;

	return 100.0 * tenths * (double)w->quota_ns / (double)w->period_ns;
}

double kg_demand_millicores(const struct kg_whisper_window *w, double q)
{
	int i = kg_demand_slot(w, q);

	return i < 0 ? 0 : kg_slot_millicores(w, i);
}

static double kg_round_up(double v, double step)
{
	return ceil(v / step) * step;
}

/* The recommendation of a throttled window, from its measured demand. */
static void kg_recommend(const struct kg_whisper_window *w, struct kg_insight *in)
{
	double limit = kg_limit_millicores(w->quota_ns, w->period_ns);
	double p95 = kg_demand_millicores(w, 0.95), p99 = kg_demand_millicores(w, 0.99);
	double node = w->node_cpus * 1000.0, rec = kg_round_up(p99, 50);
	int slot = kg_demand_slot(w, 0.99);
	size_t n = 0;

	if (limit <= 0) {	/* throttled, yet no quota at the end: it was removed since */
		snprintf(in->recommendation, sizeof(in->recommendation),
			 "No CPU limit is set at the end of the window: this throttling happened "
			 "under a limit since removed, so there is nothing to resize.");
		return;
	}
	if (p99 <= 0) {
		snprintf(in->recommendation, sizeof(in->recommendation),
			 "Not enough complete periods in the window to size a limit; raise the "
			 "limit above %.0fm or remove it, and look again.",
			 limit);
		return;
	}
	kg_ev(in, "demandP95", p95, "millicores");
	kg_ev(in, "demandP99", p99, "millicores");
	if (node > 0 && p99 > node) {
		n = snprintf(in->recommendation, sizeof(in->recommendation),
			     "Remove the CPU limit (keep a request): the p99 burst asked for %s%.0fm "
			     "in one period, more than this node's %u CPUs can give, so any limit "
			     "delays it",
			     slot == KG_DEMAND_SLOTS - 1 ? "at least " : "", p99, w->node_cpus);
	} else if (p99 <= limit) {
		/* "raise from 500m to 500m" (or to less) would be no advice */
		n = snprintf(in->recommendation, sizeof(in->recommendation),
			     "The %.0fm limit covers the p99 per-period demand measured in this "
			     "window (%.0fm, p95 %.0fm): only rarer bursts were throttled; to "
			     "serve them too, remove the limit",
			     limit, p99, p95);
	} else {
		n = snprintf(in->recommendation, sizeof(in->recommendation),
			     "Raise the CPU limit from %.0fm to %.0fm: that covers the p99 per-period "
			     "demand measured in this window (p95 %.0fm); or remove the limit",
			     limit, rec, p95);
	}
	/*
	 * cpu.max.burst may be at most the quota (the kernel refuses more): it
	 * helps when limit < p99 <= 2 x limit, slots 10 to 19, whose excess over
	 * the quota is (slot - 9) tenths of it; rounded up to 1 ms, within the quota.
	 */
	if (slot >= 10 && slot <= 19 && n < sizeof(in->recommendation))
		n += snprintf(in->recommendation + n, sizeof(in->recommendation) - n,
			      "; or keep %.0fm and allow bursts: cpu.max.burst (cgroup v2) / "
			      "cpu.cfs_burst_us (v1) = %.0f us",
			      limit,
			      fmin(kg_round_up((slot - 9) * (w->quota_ns / 1000.0) / 10, 1000),
				   w->quota_ns / 1000.0));
	if (n < sizeof(in->recommendation))
		snprintf(in->recommendation + n, sizeof(in->recommendation) - n, ".");
}

unsigned kg_whisper_insights(const struct kg_whisper_window *w, struct kg_insight *out,
			     unsigned max)
{
	double limit = kg_limit_millicores(w->quota_ns, w->period_ns);
	double share = kg_pct(w->throttled_periods, w->periods);
	double held_ms = w->throttled_periods ? w->throttled_ns / 1e6 / w->throttled_periods : 0;
	double util = -1, avg_mc = 0, p99_ms = 0, avg_wait_ms = 0, quota_cores = limit / 1000.0;
	enum kg_severity sev = KG_SEV_INFO;
	struct kg_insight *in;
	unsigned n = 0;

	if (!w->throttled_periods || !max)
		return 0;
	if (w->have_usage && w->usage_end_ns > w->usage_start_ns) {
		avg_mc = 1000.0 * w->usage_ns / (double)(w->usage_end_ns - w->usage_start_ns);
		if (limit > 0)
			util = kg_pct(avg_mc, limit);
	}
	if (w->have_sched) {
		p99_ms = kg_hist_percentile(w->sched.runq_hist, KG_HIST_SLOTS, 0.99) / 1e6;
		if (w->sched.runq_waits)
			avg_wait_ms = w->sched.runq_delay_ns / 1e6 / w->sched.runq_waits;
	}
	if ((share >= KG_THR_CRIT_SHARE && held_ms >= KG_THR_CRIT_HOLD_MS) ||
	    p99_ms >= KG_THR_CRIT_P99_MS)
		sev = KG_SEV_CRITICAL;
	else if ((share >= KG_THR_WARN_SHARE && held_ms >= KG_THR_WARN_HOLD_MS) ||
		 p99_ms >= KG_THR_WARN_P99_MS)
		sev = KG_SEV_WARNING;

	/* 1. the headline: throttling, hidden by the average or not */
	in = &out[n++];
	memset(in, 0, sizeof(*in));
	in->severity = sev;
	kg_ev(in, "throttledPeriods", w->throttled_periods, "periods");
	kg_ev(in, "periods", w->periods, "periods");
	kg_ev(in, "throttledPercent", share, "%");
	kg_ev(in, "throttledTime", w->throttled_ns / 1e6, "ms");
	if (util >= 0)
		kg_ev(in, "averageUtilizationOfLimit", util, "%");
	if (limit > 0)
		kg_ev(in, "cpuLimit", limit, "millicores");
	if (util >= 0 && util < KG_THR_HIDDEN_UTIL) {
		in->rule = "hidden-throttling";
		snprintf(in->headline, sizeof(in->headline),
			 "Throttled in %.0f%% of active CFS periods while averaging only %.0f%% of "
			 "its %.0fm CPU limit",
			 share, util, limit);
	} else if (util >= 0) {
		in->rule = "limit-saturated";
		snprintf(in->headline, sizeof(in->headline),
			 "Uses %.0f%% of its %.0fm CPU limit on average and is throttled in %.0f%% "
			 "of active periods: the limit is below its steady demand",
			 util, limit, share);
	} else if (limit > 0) {
		in->rule = "cpu-throttling";
		snprintf(in->headline, sizeof(in->headline),
			 "Throttled in %.0f%% of active CFS periods (%.0fm limit)", share, limit);
	} else {	/* no quota at the end of the window: no "0m limit" */
		in->rule = "cpu-throttling";
		snprintf(in->headline, sizeof(in->headline),
			 "Throttled in %.0f%% of active CFS periods", share);
	}
	if (w->have_sched) {
		kg_ev(in, "runQueueDelayP99AtMost", p99_ms, "ms");
		snprintf(in->impact, sizeof(in->impact),
			 "Each throttled period held its runqueues for %.1f ms (%.0f ms over the "
			 "window, summed over CPUs); its tasks waited %.1f ms on average and up to "
			 "%.1f ms at p99 to get a CPU.",
			 held_ms, w->throttled_ns / 1e6, avg_wait_ms, p99_ms);
	} else {
		snprintf(in->impact, sizeof(in->impact),
			 "Each throttled period held its runqueues for %.1f ms (%.0f ms over the "
			 "window, summed over CPUs).",
			 held_ms, w->throttled_ns / 1e6);
	}
	kg_recommend(w, in);

	/* 2. more threads than the quota buys cores: a thread pool sized from the node */
	if (n < max && w->threads && quota_cores > 0 && w->threads > 2 * quota_cores &&
	    share >= KG_THR_WARN_SHARE) {
		unsigned running = w->threads < w->node_cpus || !w->node_cpus ? w->threads
									       : w->node_cpus;
		double burn_ms = w->quota_ns / 1e6 / running;

		in = &out[n++];
		memset(in, 0, sizeof(*in));
		in->severity = sev > KG_SEV_WARNING ? KG_SEV_WARNING : sev;
		in->rule = "threads-exceed-quota";
		kg_ev(in, "threads", w->threads, "threads");
		kg_ev(in, "quotaCores", quota_cores, "cores");
		kg_ev(in, "nodeCPUs", w->node_cpus, "cpus");
		snprintf(in->headline, sizeof(in->headline),
			 "%u threads share a quota of %.2f cores", w->threads, quota_cores);
		snprintf(in->impact, sizeof(in->impact),
			 "When %u of them run at once they use the %.0f ms quota of a %.0f ms "
			 "period in %.1f ms, then wait for the next period.",
			 running, w->quota_ns / 1e6, w->period_ns / 1e6, burn_ms);
		snprintf(in->recommendation, sizeof(in->recommendation),
			 "Size thread pools from the CPU limit, not the node's cores (%u here): "
			 "about %.0f worker%s (GOMAXPROCS, -XX:ActiveProcessorCount, "
			 "UV_THREADPOOL_SIZE...), or raise the limit.",
			 w->node_cpus, ceil(quota_cores), ceil(quota_cores) > 1 ? "s" : "");
	}
	return n;
}

/* ---- births ---- */

static const char *kg_basename(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* First word of an exec's argv, or its exe name. */
static void kg_exec_name(const struct kg_birth_exec *x, char *out, size_t outsz)
{
	size_t n = strcspn(x->args, " ");
	const char *base;

	if (n && n < outsz) {
		memcpy(out, x->args, n);
		out[n] = 0;
		base = kg_basename(out);
		memmove(out, base, strlen(base) + 1);
	} else {
		snprintf(out, outsz, "%.*s", (int)outsz - 1,
			 x->exe[0] ? x->exe : kg_basename(x->file));
	}
}

static bool kg_is_shell(const char *name)
{
	static const char *const shells[] = { "sh", "bash", "dash", "ash", "zsh", "ksh" };

	for (unsigned i = 0; i < sizeof(shells) / sizeof(shells[0]); i++) {
		if (!strcmp(name, shells[i]))
			return true;
	}
	return false;
}

unsigned kg_birth_insights(const struct kg_birth *b, struct kg_insight *out, unsigned max)
{
	const struct kg_birth_counts *k = &b->kernel;
	uint64_t before = 0, total = b->have_kernel ? k->syscalls : 0;
	uint32_t lib_misses = 0, before_ready = 0;
	char first[64] = "", second[64] = "", example[KG_FILE_LEN] = "";
	struct kg_insight *in;
	unsigned n = 0;

	if (!max || !b->have_kernel)
		return 0;
	if (b->execs_n) {
		before = b->execs[0].syscalls_before;
		kg_exec_name(&b->execs[0], first, sizeof(first));
	}
	if (b->execs_n > 1)
		kg_exec_name(&b->execs[1], second, sizeof(second));

	/* 1. what the start cost, split at the entrypoint's exec */
	in = &out[n++];
	memset(in, 0, sizeof(*in));
	in->severity = KG_SEV_INFO;
	in->rule = "start-cost";
	kg_ev(in, "syscalls", total, "syscalls");
	kg_ev(in, "syscallsBeforeEntrypoint", before, "syscalls");
	kg_ev(in, "execs", k->execs, "execs");
	kg_ev(in, "filesOpened", k->opens, "opens");
	kg_ev(in, "duration", kg_birth_duration_ns(b) / 1e6, "ms");
	if (first[0])
		snprintf(in->headline, sizeof(in->headline), "%llu syscalls just to start %s",
			 (unsigned long long)total, first);
	else
		snprintf(in->headline, sizeof(in->headline), "%llu syscalls and no exec",
			 (unsigned long long)total);
	snprintf(in->impact, sizeof(in->impact),
		 "%llu of them (%.0f%%) ran in the container runtime's setup before the "
		 "entrypoint started; the start took %.1f ms to %s.",
		 (unsigned long long)before, kg_pct(before, total), kg_birth_duration_ns(b) / 1e6,
		 b->ready_ns ? "readiness (first listen)" : "its last start-up activity");
	snprintf(in->recommendation, sizeof(in->recommendation),
		 "Nothing to change: this is the baseline the other insights are measured against.");

	/* 2. shared-library search misses */
	for (uint32_t i = 0; i < b->nfiles; i++) {
		const struct kg_birth_file *f = &b->files[i];

		if (f->failed && f->last_errno == ENOENT && strstr(f->path, ".so")) {
			lib_misses += f->failed;
			if (!example[0])
				snprintf(example, sizeof(example), "%s", f->path);
		}
		if (b->ready_ns && f->first_ns && f->first_ns < b->ready_ns)
			before_ready++;
	}
	if (n < max && lib_misses >= 5) {
		in = &out[n++];
		memset(in, 0, sizeof(*in));
		in->severity = kg_pct(lib_misses, total) >= 5 ? KG_SEV_WARNING : KG_SEV_INFO;
		in->rule = "library-search-misses";
		kg_ev(in, "failedLibraryOpens", lib_misses, "opens");
		kg_ev(in, "shareOfSyscalls", kg_pct(lib_misses, total), "%");
		snprintf(in->headline, sizeof(in->headline),
			 "%u failed opens searching for shared libraries", lib_misses);
		snprintf(in->impact, sizeof(in->impact),
			 "%u of the start's %llu syscalls (%.1f%%) looked for a library where it was "
			 "not, e.g. %s.",
			 lib_misses, (unsigned long long)total, kg_pct(lib_misses, total), example);
		snprintf(in->recommendation, sizeof(in->recommendation),
			 "Point the loader at the right directory first (a precise RUNPATH, or "
			 "LD_LIBRARY_PATH with only the directories that hold the libraries), or "
			 "ship the libraries where the loader looks first.");
	}

	/*
	 * 3. a shell wrapper in front of the entrypoint; one that exec'd the
	 * workload in place (same pid: "exec app", or sh -c's own exec of a
	 * single command) is gone, and signals already reach the workload
	 */
	if (n < max && b->execs_n >= 2 && kg_is_shell(first) && !kg_is_shell(second) &&
	    b->execs[1].pid != b->execs[0].pid) {
		in = &out[n++];
		memset(in, 0, sizeof(*in));
		in->severity = KG_SEV_INFO;
		in->rule = "shell-wrapper";
		kg_ev(in, "execChainLength", b->execs_n, "execs");
		snprintf(in->headline, sizeof(in->headline),
			 "A shell wrapper (%s) starts the workload (%s): one more exec", first,
			 second);
		snprintf(in->impact, sizeof(in->impact),
			 "%s ran %.1f ms before %s and stays as the container's first process, so "
			 "signals reach it rather than the workload.",
			 first, (b->execs[1].ts_ns - b->execs[0].ts_ns) / 1e6, second);
		snprintf(in->recommendation, sizeof(in->recommendation),
			 "Use the exec form of ENTRYPOINT/CMD (a JSON array), or end the script "
			 "with \"exec %s ...\".",
			 second);
	}

	/* 4. files opened before readiness */
	if (n < max && b->ready_ns && before_ready) {
		in = &out[n++];
		memset(in, 0, sizeof(*in));
		in->severity = KG_SEV_INFO;
		in->rule = "files-before-ready";
		kg_ev(in, "distinctFilesBeforeReady", before_ready, "files");
		kg_ev(in, "timeToReady", (b->ready_ns - b->created_ns) / 1e6, "ms");
		snprintf(in->headline, sizeof(in->headline),
			 "%u distinct files opened before it was ready", before_ready);
		snprintf(in->impact, sizeof(in->impact),
			 "Readiness (the first listen) came %.1f ms after the cgroup was created.",
			 (b->ready_ns - b->created_ns) / 1e6);
		snprintf(in->recommendation, sizeof(in->recommendation),
			 "Each file read at start-up is on the path to readiness: trim configuration "
			 "includes and modules the service does not use.");
	}
	return n;
}

json_object *kg_insights_json(const struct kg_insight *in, unsigned n)
{
	json_object *arr = json_object_new_array();

	for (unsigned i = 0; i < n; i++) {
		json_object *o = json_object_new_object(), *ev;

		kg_json_str(o, "severity", kg_severity_name(in[i].severity));
		kg_json_str(o, "rule", in[i].rule);
		kg_json_str(o, "headline", in[i].headline);
		ev = kg_json_arr(o, "evidence");
		for (unsigned e = 0; e < in[i].nevidence; e++) {
			json_object *x = json_object_new_object();

			kg_json_str(x, "name", in[i].evidence[e].name);
			kg_json_dbl(x, "value", in[i].evidence[e].value, 3);
			kg_json_str(x, "unit", in[i].evidence[e].unit);
			json_object_array_add(ev, x);
		}
		kg_json_str(o, "impact", in[i].impact);
		kg_json_str(o, "recommendation", in[i].recommendation);
		json_object_array_add(arr, o);
	}
	return arr;
}
