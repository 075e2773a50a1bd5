// SPDX-License-Identifier: GPL-2.0
/*
 * whisper.c - KernelWhisper documents. See whisper.h.
 *
 * status.kernelTruth holds the kernel's own CFS-bandwidth counters over the
 * window (periods, throttledPeriods, throttledTimeNs: what cpu.stat counts)
 * and the cumulative values at the window's end; status.metricsView holds
 * the average CPU use a scrape-based metric reports for the same window, as
 * a share of the limit; status.scheduler what throttling cost the tasks
 * (run-queue delay, time held). The summary sentence is assembled from
 * those numbers only.
 */
#include <stdio.h>
#include "hist.h"
#include "insights.h"
#include "json_util.h"
#include "whisper.h"

#define KG_QUOTA_NONE UINT64_MAX

double kg_limit_millicores(uint64_t quota_ns, uint64_t period_ns)
{
	if (!period_ns || quota_ns == KG_QUOTA_NONE)
		return 0;
	return 1000.0 * (double)quota_ns / (double)period_ns;
}

static double kg_pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

json_object *kg_whisper_json(const struct kg_resource_meta *m, const struct kg_whisper_window *w)
{
	json_object *doc = kg_resource_envelope(m, KG_KIND_WHISPER), *st, *win, *kt, *mv, *sc;
	double limit_mc = kg_limit_millicores(w->quota_ns, w->period_ns);
	double thr_pct = kg_pct(w->throttled_periods, w->periods);
	double avg_mc = 0, util_pct = 0, usage_s = 0;
	bool have_mv = w->have_usage && w->usage_end_ns > w->usage_start_ns;
	char summary[512];

	st = kg_json_obj(doc, "status");
	win = kg_json_obj(st, "window");
	kg_json_time(win, "start", w->start_ns + m->mono_to_real_ns);
	kg_json_time(win, "end", w->end_ns + m->mono_to_real_ns);
	kg_json_dbl(win, "durationSeconds", (w->end_ns - w->start_ns) / 1e9, 3);

	kt = kg_json_obj(st, "kernelTruth");
	kg_json_u64(kt, "periods", w->periods);
	kg_json_u64(kt, "throttledPeriods", w->throttled_periods);
	kg_json_u64(kt, "throttledTimeNs", w->throttled_ns);
	kg_json_dbl(kt, "throttledPercent", thr_pct, 1);
	kg_json_u64(kt, "periodUs", w->period_ns / 1000);
	if (w->quota_ns != KG_QUOTA_NONE) {
		kg_json_u64(kt, "quotaUs", w->quota_ns / 1000);
		kg_json_dbl(kt, "cpuLimitMillicores", limit_mc, 0);
	}
	kg_json_u64(kt, "burstUs", w->burst_ns / 1000);
	{
		json_object *tot = kg_json_obj(kt, "cumulative");

		kg_json_u64(tot, "periods", w->total_periods);
		kg_json_u64(tot, "throttledPeriods", w->total_throttled_periods);
		kg_json_u64(tot, "throttledTimeNs", w->total_throttled_ns);
	}
	{
		json_object *ep = kg_json_obj(kt, "episodes");

		kg_json_u64(ep, "count", w->episodes);
		kg_json_u64(ep, "totalNs", w->episode_ns);
		kg_json_u64(ep, "averageNs", w->episodes ? w->episode_ns / w->episodes : 0);
		kg_json_u64(ep, "p99NsAtMost", kg_hist_percentile(w->episode_hist, KG_HIST_SLOTS, 0.99));
		kg_json_str(ep, "hook", w->episode_hook);
	}
	{
		json_object *pu = kg_json_obj(kt, "periodUsage"), *b;
		uint64_t active = 0;

		/* how full each active period was: bucket i = [10 i, 10 i + 10) % of the quota */
		b = kg_json_arr(pu, "percentOfQuotaBuckets");
		for (int i = 0; i < KG_USAGE_SLOTS; i++) {
			active += w->usage_hist[i];
			json_object_array_add(b, json_object_new_int64(w->usage_hist[i]));
		}
		kg_json_u64(pu, "periods", active);
		kg_json_dbl(pu, "fullPercent", kg_pct(w->usage_hist[KG_USAGE_SLOTS - 1] +
							      w->usage_hist[KG_USAGE_SLOTS - 2],
						      active), 1);
		kg_json_u64(pu, "throttledBursts", w->bursts);
	}
	kg_json_str(kt, "source", "cfs_bandwidth counters at the cgroup's period timer");

	mv = kg_json_obj(st, "metricsView");
	if (have_mv) {
		usage_s = (w->usage_end_ns - w->usage_start_ns) / 1e9;
		avg_mc = 1000.0 * (double)w->usage_ns / (double)(w->usage_end_ns - w->usage_start_ns);
		util_pct = limit_mc > 0 ? 100.0 * avg_mc / limit_mc : 0;
		kg_json_u64(mv, "cpuUsageNs", w->usage_ns);
		kg_json_dbl(mv, "windowSeconds", usage_s, 3);
		kg_json_dbl(mv, "averageMillicores", avg_mc, 1);
		if (limit_mc > 0)
			kg_json_dbl(mv, "averageUtilizationPercent", util_pct, 1);
		kg_json_str(mv, "source", w->usage_source);
		if (w->local_have_usage && w->local_usage_end_ns > w->local_usage_start_ns) {
			json_object *lo = kg_json_obj(mv, "local");
			double span = (w->local_usage_end_ns - w->local_usage_start_ns) / 1e9;

			kg_json_dbl(lo, "averageMillicores",
				    w->local_usage_ns / 1e6 / span, 1);
			kg_json_dbl(lo, "windowSeconds", span, 3);
			kg_json_str(lo, "source", w->local_usage_source);
		}
	} else {
		kg_json_str(mv, "unavailable", "the cgroup's CPU usage counter could not be read");
	}

	sc = kg_json_obj(st, "scheduler");
	if (w->have_sched) {
		const struct kg_sched_stats *s = &w->sched;

		kg_json_u64(sc, "runQueueDelayNs", s->runq_delay_ns);
		kg_json_u64(sc, "runQueueWaits", s->runq_waits);
		kg_json_u64(sc, "runQueueDelayAverageNs",
			    s->runq_waits ? s->runq_delay_ns / s->runq_waits : 0);
		kg_json_u64(sc, "runQueueDelayP99NsAtMost",
			    kg_hist_percentile(s->runq_hist, KG_HIST_SLOTS, 0.99));
		kg_json_u64(sc, "throttleHeldNs", s->throttle_wait_ns);
		kg_json_u64(sc, "taskThrottles", s->throttled_tasks);
		kg_json_u64(sc, "onCpuNs", s->oncpu_ns);
		kg_json_u64(sc, "voluntarySwitches", s->switches_voluntary);
		kg_json_u64(sc, "involuntarySwitches", s->switches_involuntary);
	} else {
		kg_json_str(sc, "unavailable",
			    "no scheduler facts for this cgroup (not in the identity hierarchy)");
	}

	/* the sentence quotes the metrics view only when there is one */
	if (have_mv && limit_mc > 0)
		snprintf(summary, sizeof(summary),
			 "throttled in %.1f%% of %llu CFS periods (%.1f ms held) while averaging "
			 "%.1f%% of its %.0fm CPU limit over %.1f s",
			 thr_pct, (unsigned long long)w->periods, w->throttled_ns / 1e6, util_pct,
			 limit_mc, usage_s);
	else
		snprintf(summary, sizeof(summary),
			 "throttled in %.1f%% of %llu CFS periods (%.1f ms held)", thr_pct,
			 (unsigned long long)w->periods, w->throttled_ns / 1e6);
	kg_json_str(st, "summary", summary);
	{
		struct kg_insight in[KG_MAX_INSIGHTS];
		unsigned n = kg_whisper_insights(w, in, KG_MAX_INSIGHTS);
		json_object *conds = kg_json_arr(st, "conditions"), *c;

		json_object_object_add(st, "insights", kg_insights_json(in, n));
		/* conditions change only when what they say changes: since the throttling began */
		c = json_object_new_object();
		kg_json_str(c, "type", "Throttled");
		kg_json_str(c, "status", w->throttled_periods ? "True" : "False");
		kg_json_str(c, "reason", w->throttled_periods ? "CFSQuotaExhausted" : "NotThrottled");
		kg_json_str(c, "message", summary);
		kg_json_time(c, "lastTransitionTime", w->throttled_since_ns + m->mono_to_real_ns);
		json_object_array_add(conds, c);
		c = json_object_new_object();
		kg_json_str(c, "type", "HiddenFromMetrics");
		if (!have_mv || limit_mc <= 0) {
			kg_json_str(c, "status", "Unknown");
			kg_json_str(c, "reason", "NoUsageOrLimit");
			kg_json_str(c, "message", "no CPU usage counter or no CPU limit to compare with");
		} else {
			bool hidden = util_pct < KG_THR_HIDDEN_UTIL && thr_pct >= KG_THR_WARN_SHARE;

			kg_json_str(c, "status", hidden ? "True" : "False");
			kg_json_str(c, "reason", hidden ? "AverageBelowLimit" : "AverageShowsIt");
			snprintf(summary, sizeof(summary),
				 "average use %.1f%% of the limit; %.1f%% of active periods throttled",
				 util_pct, thr_pct);
			kg_json_str(c, "message", summary);
		}
		kg_json_time(c, "lastTransitionTime", w->throttled_since_ns + m->mono_to_real_ns);
		json_object_array_add(conds, c);
		if (n) {
			/* convenience for printer columns: the headline insight's severity */
			kg_json_str(st, "severity", kg_severity_name(in[0].severity));
		}
	}
	if (m->hooks)
		kg_json_str(st, "observedBy", m->hooks);
	return doc;
}
