// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_insights.c - unit tests for agent/insights.c.
 *
 * The throttling severity rule at every threshold (share x hold x p99), the
 * choice of rule from the metrics view, the per-period demand quantiles, the
 * recommendation word for word, the thread-pool rule, the birth rules, and
 * the JSON shape. Expected sentences are built with snprintf from the very
 * inputs of the test (or spelled out whole), never copied from the output:
 * an insight may only say numbers that are facts or computed from them, and
 * a seeded sweep checks that of every number in every sentence.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certificate.h"
#include "hist.h"
#include "insights.h"

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL
#define NOQUOTA UINT64_MAX /* cpu.max "max" */
#define C0 (5000 * MS) /* cgroup creation time of every test birth */
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- helpers ---- */

/*
 * A 60 s window of a 500m container (50 ms every 100 ms) on a 4-CPU node,
 * over 1000 periods, nothing throttled yet, no usage, scheduler or demand
 * facts: each test adds only the facts it is about.
 */
static struct kg_whisper_window window(void)
{
	struct kg_whisper_window w;

	memset(&w, 0, sizeof(w));
	w.start_ns = 10 * SEC;
	w.end_ns = 70 * SEC;
	w.periods = 1000;
	w.quota_ns = 50 * MS;
	w.period_ns = 100 * MS;
	w.node_cpus = 4;
	return w;
}

/* Throttled in t periods for held_ns each. */
static void throttle(struct kg_whisper_window *w, uint64_t t, uint64_t held_ns)
{
	w->throttled_periods = t;
	w->throttled_ns = t * held_ns;
}

/* Average use of usage_ns over a 60 s metrics window. */
static void usage(struct kg_whisper_window *w, uint64_t usage_ns)
{
	w->have_usage = true;
	w->usage_start_ns = 10 * SEC + 500 * MS;
	w->usage_end_ns = w->usage_start_ns + 60 * SEC;
	w->usage_ns = usage_ns;
}

/* Insights of w into a zeroed array; n is checked by the caller. */
static unsigned whisper(const struct kg_whisper_window *w, struct kg_insight *in)
{
	memset(in, 0, KG_MAX_INSIGHTS * sizeof(*in));
	return kg_whisper_insights(w, in, KG_MAX_INSIGHTS);
}

static const struct kg_insight *find_rule(const struct kg_insight *in, unsigned n, const char *rule)
{
	for (unsigned i = 0; i < n; i++) {
		if (in[i].rule && !strcmp(in[i].rule, rule))
			return &in[i];
	}
	return NULL;
}

/* Relative tolerance: enough for a value computed in another order, not for a wrong one. */
static void assert_close(double got, double want, const char *what)
{
	ck_assert_msg(fabs(got - want) <= 1e-9 * fmax(1, fabs(want)), "%s: %.17g, want %.17g", what,
		      got, want);
}

/* The evidence list, whole and in order; want ends with a NULL name. */
static void assert_evidence(const struct kg_insight *in, const struct kg_evidence *want)
{
	unsigned n = 0;

	for (; want[n].name; n++) {
		ck_assert_msg(n < in->nevidence, "%s: evidence %s missing", in->rule, want[n].name);
		ck_assert_str_eq(in->evidence[n].name, want[n].name);
		assert_close(in->evidence[n].value, want[n].value, want[n].name);
		ck_assert_str_eq(in->evidence[n].unit, want[n].unit);
	}
	ck_assert_msg(in->nevidence == n, "%s: %u evidence, want %u (extra: %s)", in->rule,
		      in->nevidence, n, in->nevidence > n ? in->evidence[n].name : "");
}

/* The evidence value called name; fails when there is none. */
static double evidence(const struct kg_insight *in, const char *name)
{
	for (unsigned i = 0; i < in->nevidence; i++) {
		if (!strcmp(in->evidence[i].name, name))
			return in->evidence[i].value;
	}
	ck_abort_msg("%s: no evidence %s", in->rule, name);
	return 0;
}

static bool has_evidence(const struct kg_insight *in, const char *name)
{
	for (unsigned i = 0; i < in->nevidence; i++) {
		if (!strcmp(in->evidence[i].name, name))
			return true;
	}
	return false;
}

/* ---- 1. severity: share x hold x p99, at every threshold ---- */

/*
 * Throttled t of 1000 periods (share t / 10 %), held_ns per throttled period,
 * and run-queue delays in up to two log2 slots; p99_slot is the slot the
 * 99th percentile falls in, worked out by hand (-1: no scheduler facts).
 * A log2 histogram reports 2^(i+1) ns, so p99 is never exactly 20 or 100 ms:
 * slot 23 says 16.8 ms, 24 33.6 ms, 25 67.1 ms, 26 134.2 ms.
 */
static const struct {
	uint64_t throttled, held_ns;
	struct {
		int slot;
		unsigned n;
	} runq[2];
	int p99_slot;
	enum kg_severity want;
} sev_cases[] = {
	/* the share alone decides nothing */
	{ 1000, 1999999, { { 0 } }, -1, KG_SEV_INFO }, /* every period, < 2 ms each */
	{ 900, 100 * US, { { 0 } }, -1, KG_SEV_INFO }, /* 90 %, 0.1 ms: nobody feels it */
	{ 199, 50 * MS, { { 0 } }, -1, KG_SEV_INFO }, /* long holds, < 20 % */
	/* warning: share 20 % and hold 2 ms */
	{ 200, 1999999, { { 0 } }, -1, KG_SEV_INFO },
	{ 199, 2 * MS, { { 0 } }, -1, KG_SEV_INFO },
	{ 200, 2 * MS, { { 0 } }, -1, KG_SEV_WARNING }, /* both at the threshold */
	{ 201, 2000001, { { 0 } }, -1, KG_SEV_WARNING },
	{ 500, 1999999, { { 0 } }, -1, KG_SEV_INFO }, /* critical share, tiny hold */
	/* critical: share 50 % and hold 10 ms */
	{ 499, 10 * MS, { { 0 } }, -1, KG_SEV_WARNING },
	{ 500, 9999999, { { 0 } }, -1, KG_SEV_WARNING },
	{ 500, 10 * MS, { { 0 } }, -1, KG_SEV_CRITICAL },
	{ 501, 10000001, { { 0 } }, -1, KG_SEV_CRITICAL },
	{ 1000, 80 * MS, { { 0 } }, -1, KG_SEV_CRITICAL },
	/* p99 run-queue delay alone, with a share and hold that are nothing */
	{ 1, 1 * US, { { 23, 100 } }, 23, KG_SEV_INFO }, /* 16.8 ms < 20 */
	{ 1, 1 * US, { { 24, 100 } }, 24, KG_SEV_WARNING }, /* 33.6 ms >= 20 */
	{ 1, 1 * US, { { 25, 100 } }, 25, KG_SEV_WARNING }, /* 67.1 ms < 100 */
	{ 1, 1 * US, { { 26, 100 } }, 26, KG_SEV_CRITICAL }, /* 134.2 ms >= 100 */
	{ 1, 1 * US, { { 31, 1 } }, 31, KG_SEV_CRITICAL }, /* the last slot, 4.3 s */
	{ 1, 1 * US, { { 10, 99 }, { 26, 1 } }, 10, KG_SEV_INFO }, /* 1 slow wait in 100 */
	{ 1, 1 * US, { { 10, 98 }, { 26, 2 } }, 26, KG_SEV_CRITICAL }, /* 2 in 100 */
	{ 1, 1 * US, { { 10, 98 }, { 24, 2 } }, 24, KG_SEV_WARNING },
	/* the worse of the two grounds wins */
	{ 200, 2 * MS, { { 26, 100 } }, 26, KG_SEV_CRITICAL },
	{ 500, 10 * MS, { { 23, 100 } }, 23, KG_SEV_CRITICAL },
	{ 500, 10 * MS, { { 0, 0 } }, 0, KG_SEV_CRITICAL }, /* scheduler facts, no waits */
};

START_TEST(test_severity)
{
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS];
	char want[512];
	double share, held_ms, p99_ms = 0;
	unsigned n;

	throttle(&w, sev_cases[_i].throttled, sev_cases[_i].held_ns);
	if (sev_cases[_i].p99_slot >= 0) {
		w.have_sched = true;
		w.sched.runq_delay_ns = 3 * SEC;
		w.sched.runq_waits = 1000;
		for (int k = 0; k < 2; k++)
			w.sched.runq_hist[sev_cases[_i].runq[k].slot] += sev_cases[_i].runq[k].n;
		if (sev_cases[_i].runq[0].n)
			p99_ms = (double)(2ULL << sev_cases[_i].p99_slot) / 1e6;
	}
	n = whisper(&w, in);
	ck_assert_uint_eq(n, 1);
	ck_assert_msg(in[0].severity == sev_cases[_i].want, "severity %s, want %s",
		      kg_severity_name(in[0].severity), kg_severity_name(sev_cases[_i].want));

	/* the sentences carry the same numbers the severity was judged on */
	share = 100.0 * sev_cases[_i].throttled / w.periods;
	held_ms = w.throttled_ns / 1e6 / w.throttled_periods;
	ck_assert_str_eq(in[0].rule, "cpu-throttling");
	snprintf(want, sizeof(want), "Throttled in %.0f%% of active CFS periods (500m limit)",
		 share);
	ck_assert_str_eq(in[0].headline, want);
	if (w.have_sched) {
		snprintf(want, sizeof(want),
			 "Each throttled period held its runqueues for %.1f ms (%.0f ms over the "
			 "window, summed over CPUs); its tasks waited 3.0 ms on average and up to "
			 "%.1f ms at p99 to get a CPU.",
			 held_ms, w.throttled_ns / 1e6, p99_ms);
		assert_close(evidence(&in[0], "runQueueDelayP99AtMost"), p99_ms, "p99");
	} else {
		snprintf(want, sizeof(want),
			 "Each throttled period held its runqueues for %.1f ms (%.0f ms over the "
			 "window, summed over CPUs).",
			 held_ms, w.throttled_ns / 1e6);
		ck_assert(!has_evidence(&in[0], "runQueueDelayP99AtMost"));
	}
	ck_assert_str_eq(in[0].impact, want);
	assert_close(evidence(&in[0], "throttledPercent"), share, "throttledPercent");
	assert_close(evidence(&in[0], "throttledTime"), w.throttled_ns / 1e6, "throttledTime");
}
END_TEST

/* ---- 2. which rule: the metrics view decides ---- */

/*
 * Throttled in 300 of 600 periods for 4 ms each, no scheduler or demand
 * facts. util < 0: no utilisation can be computed (no usage, an empty usage
 * window, or no limit).
 */
static const struct {
	bool have_usage;
	uint64_t usage_ns, usage_window_ns, quota_ns;
	double util;
	const char *rule, *headline;
} rule_cases[] = {
	{ true, 9 * SEC, 60 * SEC, 50 * MS, 30, "hidden-throttling",
	  "Throttled in 50% of active CFS periods while averaging only 30% of its 500m CPU limit" },
	{ true, 0, 60 * SEC, 50 * MS, 0, "hidden-throttling",
	  "Throttled in 50% of active CFS periods while averaging only 0% of its 500m CPU limit" },
	/* 59.99999999 %: still hidden, though it prints as 60 */
	{ true, 17999999999ULL, 60 * SEC, 50 * MS, 59.99999999833333, "hidden-throttling",
	  "Throttled in 50% of active CFS periods while averaging only 60% of its 500m CPU limit" },
	{ true, 18 * SEC, 60 * SEC, 50 * MS, 60, "limit-saturated",
	  "Uses 60% of its 500m CPU limit on average and is throttled in 50% of active periods: "
	  "the limit is below its steady demand" },
	{ true, 45 * SEC, 60 * SEC, 50 * MS, 150, "limit-saturated",
	  "Uses 150% of its 500m CPU limit on average and is throttled in 50% of active periods: "
	  "the limit is below its steady demand" },
	/* 2000m over a 30 s window: 1 s of CPU is 33.3 m, 1.7 % */
	{ true, 1 * SEC, 30 * SEC, 200 * MS, 1000.0 / 30 / 2000 * 100, "hidden-throttling",
	  "Throttled in 50% of active CFS periods while averaging only 2% of its 2000m CPU limit" },
	{ false, 9 * SEC, 60 * SEC, 50 * MS, -1, "cpu-throttling",
	  "Throttled in 50% of active CFS periods (500m limit)" },
	{ true, 9 * SEC, 0, 50 * MS, -1, "cpu-throttling",
	  "Throttled in 50% of active CFS periods (500m limit)" },
	/* no limit at the end of the window (removed): no "0m limit", no utilisation */
	{ true, 9 * SEC, 60 * SEC, NOQUOTA, -1, "cpu-throttling",
	  "Throttled in 50% of active CFS periods" },
	{ false, 0, 0, NOQUOTA, -1, "cpu-throttling", "Throttled in 50% of active CFS periods" },
};

START_TEST(test_rule)
{
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS];
	struct kg_evidence want[KG_MAX_EVIDENCE + 1] = {
		{ "throttledPeriods", 300, "periods" },
		{ "periods", 600, "periods" },
		{ "throttledPercent", 50, "%" },
		{ "throttledTime", 1200, "ms" },
	};
	double limit = kg_limit_millicores(rule_cases[_i].quota_ns, 100 * MS);
	unsigned n, e = 4;

	w.periods = 600;
	throttle(&w, 300, 4 * MS);
	w.quota_ns = rule_cases[_i].quota_ns;
	if (rule_cases[_i].have_usage) {
		usage(&w, rule_cases[_i].usage_ns);
		w.usage_end_ns = w.usage_start_ns + rule_cases[_i].usage_window_ns;
	}
	n = whisper(&w, in);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(in[0].rule, rule_cases[_i].rule);
	ck_assert_str_eq(in[0].headline, rule_cases[_i].headline);
	if (rule_cases[_i].util >= 0)
		want[e++] = (struct kg_evidence){ "averageUtilizationOfLimit", rule_cases[_i].util,
						  "%" };
	if (limit > 0)
		want[e++] = (struct kg_evidence){ "cpuLimit", limit, "millicores" };
	assert_evidence(&in[0], want);
	/* 4 ms held in each of 300 periods; nothing about run queues without their facts */
	ck_assert_str_eq(in[0].impact,
			 "Each throttled period held its runqueues for 4.0 ms (1200 ms "
			 "over the window, summed over CPUs).");
	/* share 50 %, 4 ms: a warning whatever the rule */
	ck_assert_int_eq(in[0].severity, KG_SEV_WARNING);
}
END_TEST

/* Nothing throttled: no insight at all, and the output is not touched. */
START_TEST(test_not_throttled)
{
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS], ref[KG_MAX_INSIGHTS];

	usage(&w, 30 * SEC);
	w.throttled_ns = 5 * SEC; /* held time without a throttled period: still nothing */
	w.threads = 64;
	w.have_sched = true;
	w.sched.runq_hist[30] = 100; /* p99 2 s: critical if anything were throttled */
	w.demand_hist[50] = 10;
	memset(in, 0xa5, sizeof(in));
	memcpy(ref, in, sizeof(in));
	ck_assert_uint_eq(kg_whisper_insights(&w, in, KG_MAX_INSIGHTS), 0);
	ck_assert_int_eq(memcmp(in, ref, sizeof(in)), 0);

	/* and no room: nothing either */
	throttle(&w, 500, 20 * MS);
	ck_assert_uint_eq(kg_whisper_insights(&w, in, 0), 0);
	ck_assert_int_eq(memcmp(in, ref, sizeof(in)), 0);
	/* one slot: the headline insight only, though the thread rule would fire */
	ck_assert_uint_eq(kg_whisper_insights(&w, in, 1), 1);
	ck_assert_str_eq(in[0].rule, "limit-saturated");
	ck_assert_int_eq(memcmp(&in[1], &ref[1], sizeof(in[1])), 0);
	ck_assert_uint_eq(kg_whisper_insights(&w, in, KG_MAX_INSIGHTS), 2);
	ck_assert_str_eq(in[1].rule, "threads-exceed-quota");
}
END_TEST

/* Missing facts: each sentence leaves out what it cannot know, and invents nothing. */
START_TEST(test_missing_data)
{
	struct kg_whisper_window w;
	struct kg_insight in[KG_MAX_INSIGHTS];

	/* no limit: no limit in the headline, no demand to size one, no thread rule */
	w = window();
	w.quota_ns = NOQUOTA;
	throttle(&w, 300, 4 * MS);
	w.threads = 64;
	w.demand_hist[30] = 5;
	ck_assert_uint_eq(whisper(&w, in), 1);
	ck_assert_str_eq(in[0].headline, "Throttled in 30% of active CFS periods");
	ck_assert(!has_evidence(&in[0], "cpuLimit"));
	ck_assert(!has_evidence(&in[0], "demandP99"));
	ck_assert_str_eq(in[0].recommendation,
			 "No CPU limit is set at the end of the window: this throttling happened "
			 "under a limit since removed, so there is nothing to resize.");

	/* throttled periods but no period counted: share 0, no division by zero */
	w = window();
	w.periods = 0;
	throttle(&w, 3, 20 * MS);
	ck_assert_uint_eq(whisper(&w, in), 1);
	ck_assert_int_eq(in[0].severity, KG_SEV_INFO);
	ck_assert_str_eq(in[0].headline, "Throttled in 0% of active CFS periods (500m limit)");
	assert_close(evidence(&in[0], "throttledPercent"), 0, "throttledPercent");
	ck_assert_str_eq(in[0].impact,
			 "Each throttled period held its runqueues for 20.0 ms (60 ms "
			 "over the window, summed over CPUs).");

	/* scheduler facts without a single wait: an average of 0, not NaN */
	w = window();
	throttle(&w, 300, 4 * MS);
	w.have_sched = true;
	ck_assert_uint_eq(whisper(&w, in), 1);
	ck_assert_str_eq(in[0].impact,
			 "Each throttled period held its runqueues for 4.0 ms (1200 ms over the "
			 "window, summed over CPUs); its tasks waited 0.0 ms on average and up to "
			 "0.0 ms at p99 to get a CPU.");
	assert_close(evidence(&in[0], "runQueueDelayP99AtMost"), 0, "p99");

	/* average wait and p99 from the facts: 9 s over 1000 waits, p99 in slot 24 */
	w.sched.runq_delay_ns = 9 * SEC;
	w.sched.runq_waits = 1000;
	w.sched.runq_hist[24] = 10;
	ck_assert_uint_eq(whisper(&w, in), 1);
	ck_assert_str_eq(in[0].impact,
			 "Each throttled period held its runqueues for 4.0 ms (1200 ms over the "
			 "window, summed over CPUs); its tasks waited 9.0 ms on average and up to "
			 "33.6 ms at p99 to get a CPU.");
	ck_assert_int_eq(in[0].severity, KG_SEV_WARNING);
}
END_TEST

/* ---- 3. demand quantiles ---- */

/*
 * 500m (50 ms per 100 ms): demand slot i holds [i, i+1) tenths of the quota,
 * so it reports (i + 1) x 50 m; slot 100 holds 10 x the quota or more and
 * reports exactly 5000 m, a lower bound. open: work of a burst still
 * running, one more sample in the slot of its tenths.
 */
static const struct {
	uint64_t quota_ns, period_ns;
	struct {
		unsigned slot;
		uint32_t n;
	} hist[3];
	uint64_t open;
	double q, want;
} demand_cases[] = {
	{ 50 * MS, 100 * MS, { { 0 } }, 0, 0.99, 0 }, /* nothing measured */
	{ 50 * MS, 100 * MS, { { 0 } }, 0, 0.95, 0 },
	{ 50 * MS, 100 * MS, { { 0 } }, 0, 1, 0 },
	{ 50 * MS, 100 * MS, { { 24, 1 } }, 0, 0.5, 1250 }, /* one sample: every quantile */
	{ 50 * MS, 100 * MS, { { 24, 1 } }, 0, 0.95, 1250 },
	{ 50 * MS, 100 * MS, { { 24, 1 } }, 0, 0.99, 1250 },
	{ 50 * MS, 100 * MS, { { 0, 7 } }, 0, 0.99, 50 },
	/* 100 samples: rank 95 and 99 */
	{ 50 * MS, 100 * MS, { { 9, 95 }, { 14, 4 }, { 30, 1 } }, 0, 0.95, 500 },
	{ 50 * MS, 100 * MS, { { 9, 95 }, { 14, 4 }, { 30, 1 } }, 0, 0.99, 750 },
	{ 50 * MS, 100 * MS, { { 9, 95 }, { 14, 4 }, { 30, 1 } }, 0, 1, 1550 },
	{ 50 * MS, 100 * MS, { { 9, 94 }, { 14, 5 }, { 30, 1 } }, 0, 0.95, 750 },
	{ 50 * MS, 100 * MS, { { 9, 99 }, { 30, 1 } }, 0, 0.99, 500 },
	{ 50 * MS, 100 * MS, { { 9, 98 }, { 30, 2 } }, 0, 0.99, 1550 },
	/* an open burst is one more sample: 99 + 1, then 98 + 1 (rank 99 of 99) */
	{ 50 * MS, 100 * MS, { { 9, 99 } }, 150 * MS, 0.99, 500 },
	{ 50 * MS, 100 * MS, { { 9, 99 } }, 150 * MS, 1, 1550 },
	{ 50 * MS, 100 * MS, { { 9, 98 } }, 150 * MS, 0.99, 1550 },
	{ 50 * MS, 100 * MS, { { 0 } }, 100 * MS, 0.99, 1050 }, /* alone: 20 tenths */
	{ 50 * MS, 100 * MS, { { 0 } }, 100 * MS - 1, 0.99, 1000 },
	{ 50 * MS, 100 * MS, { { 0 } }, 1, 0.99, 50 },
	{ 50 * MS, 100 * MS, { { 0 } }, 500 * MS - 1, 0.99, 5000 }, /* slot 99 */
	{ 50 * MS, 100 * MS, { { 0 } }, 500 * MS, 0.99, 5000 }, /* slot 100 */
	{ 50 * MS, 100 * MS, { { 0 } }, 1000 * SEC, 0.99, 5000 }, /* clamped to the last */
	/* the last slot: exactly 10 x the limit, whatever the demand was */
	{ 50 * MS, 100 * MS, { { 100, 1 } }, 0, 0.99, 5000 },
	{ 50 * MS, 100 * MS, { { 99, 1 } }, 0, 0.99, 5000 },
	{ 50 * MS, 100 * MS, { { 98, 1 } }, 0, 0.99, 4950 },
	{ 200 * MS, 100 * MS, { { 100, 3 } }, 0, 0.5, 20000 },
	/* other limits and periods: a multiple of the limit comes out exact */
	{ 33 * MS, 100 * MS, { { 12, 1 } }, 0, 0.99, 429 },
	{ 10 * MS, 30 * MS, { { 14, 1 } }, 0, 0.99, 500 }, /* 333.3m x 1.5 */
	{ 10 * MS, 30 * MS, { { 29, 1 } }, 0, 0.99, 1000 }, /* 333.3m x 3 */
	{ 4 * MS, 30 * MS, { { 14, 1 } }, 0, 0.99, 200 },
	{ 35 * MS, 30 * MS, { { 26, 1 } }, 0, 0.99, 3150 },
	/* no limit: no demand relative to it */
	{ NOQUOTA, 100 * MS, { { 24, 10 } }, 100 * MS, 0.99, 0 },
	{ 50 * MS, 0, { { 24, 10 } }, 0, 0.99, 0 },
};

START_TEST(test_demand)
{
	struct kg_whisper_window w = window();

	w.quota_ns = demand_cases[_i].quota_ns;
	w.period_ns = demand_cases[_i].period_ns;
	for (int k = 0; k < 3; k++)
		w.demand_hist[demand_cases[_i].hist[k].slot] += demand_cases[_i].hist[k].n;
	w.open_burst_work_ns = demand_cases[_i].open;
	/* exact: these are what the recommendation rounds and compares */
	ck_assert_msg(kg_demand_millicores(&w, demand_cases[_i].q) == demand_cases[_i].want,
		      "q=%g: %.17g, want %g", demand_cases[_i].q,
		      kg_demand_millicores(&w, demand_cases[_i].q), demand_cases[_i].want);
}
END_TEST

/* ---- 4. the recommendation, word for word ---- */

/*
 * Demand in one slot (p95 = p99) unless p95_slot says otherwise; a, b and c
 * fill the sentence of kind in order, worked out by hand.
 */
enum rec_kind { RAISE, COVERED, REMOVE };

static const struct {
	uint64_t quota_ns, period_ns;
	unsigned node_cpus, slot;
	int p95_slot;
	double p95, p99;
	enum rec_kind kind;
	const char *a, *b, *c, *burst, *burst_us;
} rec_cases[] = {
	/* 1250m covers it; above 2 x the limit a burst allowance cannot */
	{ 50 * MS, 100 * MS, 4, 24, -1, 1250, 1250, RAISE, "500m", "1250m", "1250m", NULL, NULL },
	/* 13 x 33m = 429m, rounded up to 450m; burst 3 tenths of 33 ms = 9.9 ms -> 10 ms */
	{ 33 * MS, 100 * MS, 4, 12, -1, 429, 429, RAISE, "330m", "450m", "429m", "330m", "10000" },
	{ 50 * MS, 100 * MS, 4, 14, 9, 500, 750, RAISE, "500m", "750m", "500m", "500m", "25000" },
	/* the burst clause from just above the limit up to 2 x the limit, never beyond */
	{ 50 * MS, 100 * MS, 4, 10, -1, 550, 550, RAISE, "500m", "550m", "550m", "500m", "5000" },
	{ 50 * MS, 100 * MS, 4, 19, -1, 1000, 1000, RAISE, "500m", "1000m", "1000m", "500m",
	  "50000" },
	{ 50 * MS, 100 * MS, 4, 20, -1, 1050, 1050, RAISE, "500m", "1050m", "1050m", NULL, NULL },
	/* the allowance may be at most the quota (the kernel refuses more): 12.5 ms, not 13 */
	{ 12500 * US, 100 * MS, 4, 19, -1, 250, 250, RAISE, "125m", "250m", "250m", "125m",
	  "12500" },
	{ 12500 * US, 100 * MS, 4, 18, -1, 237.5, 237.5, RAISE, "125m", "250m", "238m", "125m",
	  "12000" },
	/* a 30 ms period: 333.3m x 1.5 is 500m, not 550m; x 2 still gets the clause */
	{ 10 * MS, 30 * MS, 4, 14, -1, 500, 500, RAISE, "333m", "500m", "500m", "333m", "5000" },
	{ 10 * MS, 30 * MS, 4, 19, -1, 2000.0 / 3, 2000.0 / 3, RAISE, "333m", "700m", "667m",
	  "333m", "10000" },
	{ 4 * MS, 30 * MS, 4, 14, -1, 200, 200, RAISE, "133m", "200m", "200m", "133m", "2000" },
	/* the p99 is within the limit: nothing to raise it to */
	{ 50 * MS, 100 * MS, 4, 9, -1, 500, 500, COVERED, "500m", "500m", "500m", NULL, NULL },
	{ 33 * MS, 100 * MS, 4, 8, -1, 297, 297, COVERED, "330m", "297m", "297m", NULL, NULL },
	/* past the node's CPUs: remove it; "at least" only for the open-ended last slot */
	{ 50 * MS, 100 * MS, 4, 100, -1, 5000, 5000, REMOVE, "at least 5000m", "4", NULL, NULL,
	  NULL },
	{ 50 * MS, 100 * MS, 4, 99, -1, 5000, 5000, REMOVE, "5000m", "4", NULL, NULL, NULL },
	{ 50 * MS, 100 * MS, 4, 80, -1, 4050, 4050, REMOVE, "4050m", "4", NULL, NULL, NULL },
	{ 50 * MS, 100 * MS, 4, 79, -1, 4000, 4000, RAISE, "500m", "4000m", "4000m", NULL, NULL },
	{ 44 * MS, 100 * MS, 4, 89, -1, 3960, 3960, RAISE, "440m", "4000m", "3960m", NULL, NULL },
	{ 50 * MS, 100 * MS, 2, 40, -1, 2050, 2050, REMOVE, "2050m", "2", NULL, NULL, NULL },
	{ 50 * MS, 100 * MS, 64, 100, -1, 5000, 5000, RAISE, "500m", "5000m", "5000m", NULL, NULL },
};

START_TEST(test_recommendation)
{
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS];
	const char *a = rec_cases[_i].a, *b = rec_cases[_i].b, *c = rec_cases[_i].c;
	char want[512];
	size_t n = 0;

	w.quota_ns = rec_cases[_i].quota_ns;
	w.period_ns = rec_cases[_i].period_ns;
	w.node_cpus = rec_cases[_i].node_cpus;
	throttle(&w, 300, 4 * MS);
	if (rec_cases[_i].p95_slot >= 0) {
		w.demand_hist[rec_cases[_i].p95_slot] = 95;
		w.demand_hist[rec_cases[_i].slot] = 5;
	} else {
		w.demand_hist[rec_cases[_i].slot] = 100;
	}
	ck_assert_uint_eq(whisper(&w, in), 1);
	switch (rec_cases[_i].kind) {
	case RAISE:
		n = snprintf(want, sizeof(want),
			     "Raise the CPU limit from %s to %s: that covers the p99 per-period "
			     "demand measured in this window (p95 %s); or remove the limit",
			     a, b, c);
		break;
	case COVERED:
		n = snprintf(
			want, sizeof(want),
			"The %s limit covers the p99 per-period demand measured in this window "
			"(%s, p95 %s): only rarer bursts were throttled; to serve them too, "
			"remove the limit",
			a, b, c);
		break;
	case REMOVE:
		n = snprintf(
			want, sizeof(want),
			"Remove the CPU limit (keep a request): the p99 burst asked for %s in one "
			"period, more than this node's %s CPUs can give, so any limit delays it",
			a, b);
		break;
	}
	if (rec_cases[_i].burst)
		n += snprintf(want + n, sizeof(want) - n,
			      "; or keep %s and allow bursts: cpu.max.burst (cgroup v2) / "
			      "cpu.cfs_burst_us (v1) = %s us",
			      rec_cases[_i].burst, rec_cases[_i].burst_us);
	snprintf(want + n, sizeof(want) - n, ".");
	ck_assert_str_eq(in[0].recommendation, want);
	/* the two quantiles behind it are evidence, after the headline's */
	ck_assert_str_eq(in[0].evidence[in[0].nevidence - 2].name, "demandP95");
	ck_assert_str_eq(in[0].evidence[in[0].nevidence - 1].name, "demandP99");
	assert_close(evidence(&in[0], "demandP95"), rec_cases[_i].p95, "demandP95");
	assert_close(evidence(&in[0], "demandP99"), rec_cases[_i].p99, "demandP99");
}
END_TEST

/* No complete period measured: say so, and no demand evidence. */
START_TEST(test_recommendation_no_demand)
{
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS];

	throttle(&w, 300, 4 * MS);
	w.quota_ns = 33 * MS;
	ck_assert_uint_eq(whisper(&w, in), 1);
	ck_assert_str_eq(in[0].recommendation,
			 "Not enough complete periods in the window to size a limit; raise the "
			 "limit above 330m or remove it, and look again.");
	ck_assert(!has_evidence(&in[0], "demandP95"));
	ck_assert(!has_evidence(&in[0], "demandP99"));

	/* a burst still running is enough to size it: 100 ms of work is 20 tenths */
	w.quota_ns = 50 * MS;
	w.open_burst_work_ns = 100 * MS;
	ck_assert_uint_eq(whisper(&w, in), 1);
	ck_assert_str_eq(in[0].recommendation,
			 "Raise the CPU limit from 500m to 1050m: that covers the p99 per-period "
			 "demand measured in this window (p95 1050m); or remove the limit.");
}
END_TEST

/* ---- 5. more threads than the quota buys cores ---- */

static const struct {
	unsigned threads;
	uint64_t quota_ns;
	unsigned node_cpus;
	uint64_t throttled, held_ns; /* of 1000 periods */
	bool fires;
	unsigned running;
	enum kg_severity sev;
} thr_cases[] = {
	{ 8, 50 * MS, 4, 500, 4 * MS, true, 4, KG_SEV_WARNING }, /* 4 of 8 can run */
	{ 2, 50 * MS, 4, 500, 4 * MS, true, 2, KG_SEV_WARNING }, /* 2 > 2 x 0.5 */
	{ 1, 50 * MS, 4, 500, 4 * MS, false, 0, 0 },
	{ 3, 150 * MS, 8, 500, 4 * MS, false, 0, 0 }, /* 3 = 2 x 1.5 */
	{ 4, 150 * MS, 8, 500, 4 * MS, true, 4, KG_SEV_WARNING }, /* 4 > 3 */
	{ 64, 200 * MS, 16, 200, 1 * MS, true, 16, KG_SEV_INFO }, /* at 20 %, info stays */
	{ 64, 200 * MS, 16, 199, 50 * MS, false, 0, 0 }, /* below 20 % */
	{ 64, 200 * MS, 16, 900, 50 * MS, true, 16, KG_SEV_WARNING }, /* critical -> warning */
	{ 0, 50 * MS, 4, 900, 50 * MS, false, 0, 0 }, /* threads unknown */
	{ 64, NOQUOTA, 16, 900, 50 * MS, false, 0, 0 }, /* no quota to share */
	{ 5, 250 * MS, 96, 300, 3 * MS, false, 0, 0 }, /* 5 = 2 x 2.5 */
	{ 6, 250 * MS, 96, 300, 3 * MS, true, 6, KG_SEV_WARNING },
};

START_TEST(test_threads)
{
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS];
	const struct kg_insight *t;
	double cores = thr_cases[_i].quota_ns / 1e8, quota_ms = thr_cases[_i].quota_ns / 1e6;
	char want[512];
	unsigned n;

	w.threads = thr_cases[_i].threads;
	w.quota_ns = thr_cases[_i].quota_ns;
	w.node_cpus = thr_cases[_i].node_cpus;
	throttle(&w, thr_cases[_i].throttled, thr_cases[_i].held_ns);
	n = whisper(&w, in);
	t = find_rule(in, n, "threads-exceed-quota");
	if (!thr_cases[_i].fires) {
		ck_assert_uint_eq(n, 1);
		ck_assert_ptr_null(t);
		return;
	}
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_eq(t, &in[1]);
	ck_assert_int_eq(t->severity, thr_cases[_i].sev);
	snprintf(want, sizeof(want), "%u threads share a quota of %.2f cores",
		 thr_cases[_i].threads, cores);
	ck_assert_str_eq(t->headline, want);
	/* running = min(threads, CPUs) burn the quota in quota / running */
	snprintf(want, sizeof(want),
		 "When %u of them run at once they use the %.0f ms quota of a 100 ms period in "
		 "%.1f ms, then wait for the next period.",
		 thr_cases[_i].running, quota_ms, quota_ms / thr_cases[_i].running);
	ck_assert_str_eq(t->impact, want);
	snprintf(want, sizeof(want),
		 "Size thread pools from the CPU limit, not the node's cores (%u here): about %.0f "
		 "worker%s (GOMAXPROCS, -XX:ActiveProcessorCount, UV_THREADPOOL_SIZE...), or raise "
		 "the limit.",
		 thr_cases[_i].node_cpus, ceil(cores), ceil(cores) > 1 ? "s" : "");
	ck_assert_str_eq(t->recommendation, want);
	assert_evidence(t, (const struct kg_evidence[]){
				   { "threads", thr_cases[_i].threads, "threads" },
				   { "quotaCores", cores, "cores" },
				   { "nodeCPUs", thr_cases[_i].node_cpus, "cpus" },
				   { NULL, 0, NULL },
			   });
}
END_TEST

/* The same sentences, spelled out once, for a reader who wants to see them. */
START_TEST(test_threads_words)
{
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS];

	w.threads = 8;
	throttle(&w, 500, 4 * MS);
	ck_assert_uint_eq(whisper(&w, in), 2);
	ck_assert_str_eq(in[1].headline, "8 threads share a quota of 0.50 cores");
	ck_assert_str_eq(in[1].impact, "When 4 of them run at once they use the 50 ms quota of a "
				       "100 ms period in 12.5 ms, then wait for the next period.");
	ck_assert_str_eq(
		in[1].recommendation,
		"Size thread pools from the CPU limit, not the node's cores (4 here): about "
		"1 worker (GOMAXPROCS, -XX:ActiveProcessorCount, UV_THREADPOOL_SIZE...), or "
		"raise the limit.");
}
END_TEST

/* ---- 6. no canned numbers: every number said is a fact or computed from them ---- */

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Quantile q of the demand slots (open burst counted), per the contract in insights.h. */
static int ref_demand_slot(const struct kg_whisper_window *w, double q)
{
	uint64_t c[KG_DEMAND_SLOTS], total = 0, seen = 0, rank;

	for (unsigned i = 0; i < KG_DEMAND_SLOTS; i++)
		total += c[i] = w->demand_hist[i];
	if (w->open_burst_work_ns) {
		uint64_t t = w->open_burst_work_ns * 10 / w->quota_ns;

		c[t < KG_DEMAND_SLOTS ? t : KG_DEMAND_SLOTS - 1]++;
		total++;
	}
	if (!total)
		return -1;
	rank = (uint64_t)ceil(q * total);
	for (unsigned i = 0; i < KG_DEMAND_SLOTS; i++) {
		seen += c[i];
		if (seen >= rank)
			return i;
	}
	return -1;
}

static double ref_slot_mc(double limit, int slot)
{
	return slot < 0 ? 0 : (slot < KG_DEMAND_SLOTS - 1 ? slot + 1 : slot) * limit / 10;
}

/* True when tok is one of vals printed with 0, 1 or 2 decimals (as the sentences do). */
static bool said(const char *tok, const double *vals, unsigned n)
{
	char buf[64];

	for (unsigned i = 0; i < n; i++) {
		for (int d = 0; d <= 2; d++) {
			snprintf(buf, sizeof(buf), "%.*f", d, vals[i]);
			if (!strcmp(buf, tok))
				return true;
		}
	}
	return false;
}

/* Every number in s (not part of a word like p99 or v2) is one of vals. */
static void assert_numbers(const char *s, const double *vals, unsigned n)
{
	for (const char *p = s; *p;) {
		char tok[64];
		size_t len;

		if (!isdigit((unsigned char)*p) ||
		    (p > s && (isalpha((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.'))) {
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			if (*p && !isalnum((unsigned char)*p))
				p++;
			continue;
		}
		len = strspn(p, "0123456789.");
		while (len && p[len - 1] == '.') /* the end of a sentence */
			len--;
		snprintf(tok, sizeof(tok), "%.*s", (int)len, p);
		ck_assert_msg(said(tok, vals, n), "\"%s\" in \"%s\" is no fact", tok, s);
		p += len;
	}
}

START_TEST(test_no_canned_numbers)
{
	static const uint64_t periods_ns[] = { 100 * MS, 100 * MS, 50 * MS, 30 * MS, 250 * MS };
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (uint64_t)_i;
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS];
	double vals[32], limit, share, held_ms, util = -1, p99_ms = 0, avg_wait = 0, p95, p99;
	double cores, running, burst_us = 0;
	int slot;
	unsigned n, nv = 0;

	w.periods = 1 + lcg(&seed) % 5000;
	throttle(&w, 1 + lcg(&seed) % w.periods, lcg(&seed) % (40 * MS));
	w.period_ns = periods_ns[lcg(&seed) % N(periods_ns)];
	w.quota_ns = lcg(&seed) % 8 ? (1 + lcg(&seed) % 400) * w.period_ns / 100 : NOQUOTA;
	w.node_cpus = 1 + lcg(&seed) % 64;
	w.threads = lcg(&seed) % 3 ? lcg(&seed) % 200 : 0;
	if (lcg(&seed) % 4)
		usage(&w, lcg(&seed) % (120 * SEC));
	if (lcg(&seed) % 4) {
		w.have_sched = true;
		w.sched.runq_waits = lcg(&seed) % 10000;
		w.sched.runq_delay_ns = w.sched.runq_waits * (lcg(&seed) % (50 * MS));
		for (int k = 0; k < 4; k++)
			w.sched.runq_hist[lcg(&seed) % KG_HIST_SLOTS] += lcg(&seed) % 1000;
	}
	for (int k = lcg(&seed) % 5; k > 0; k--)
		w.demand_hist[lcg(&seed) % KG_DEMAND_SLOTS] += 1 + lcg(&seed) % 500;
	if (!(lcg(&seed) % 3))
		w.open_burst_work_ns = lcg(&seed) % (20 * SEC);

	/* what the rules compute from the facts, as insights.h and the README define it */
	limit = kg_limit_millicores(w.quota_ns, w.period_ns);
	share = 100.0 * w.throttled_periods / w.periods;
	held_ms = w.throttled_ns / 1e6 / w.throttled_periods;
	if (w.have_usage && limit > 0)
		util = 100 * (1000.0 * w.usage_ns / (w.usage_end_ns - w.usage_start_ns)) / limit;
	if (w.have_sched) {
		p99_ms = kg_hist_percentile(w.sched.runq_hist, KG_HIST_SLOTS, 0.99) / 1e6;
		avg_wait =
			w.sched.runq_waits ? w.sched.runq_delay_ns / 1e6 / w.sched.runq_waits : 0;
	}
	p95 = limit > 0 ? ref_slot_mc(limit, ref_demand_slot(&w, 0.95)) : 0;
	slot = limit > 0 ? ref_demand_slot(&w, 0.99) : -1;
	p99 = ref_slot_mc(limit, slot);
	if (slot >= 10 && slot <= 19)
		burst_us = fmin(ceil((slot - 9) * (w.quota_ns / 1e3) / 10 / 1000) * 1000,
				w.quota_ns / 1e3);
	cores = limit / 1000;
	running = w.threads < w.node_cpus ? w.threads : w.node_cpus;
	/* every number a sentence may say: the facts, and what the rules compute from them */
	vals[nv++] = share;
	vals[nv++] = util;
	vals[nv++] = limit;
	vals[nv++] = held_ms;
	vals[nv++] = w.throttled_ns / 1e6;
	vals[nv++] = avg_wait;
	vals[nv++] = p99_ms;
	vals[nv++] = p95;
	vals[nv++] = p99;
	vals[nv++] = ceil(p99 / 50) * 50; /* the recommended limit */
	vals[nv++] = burst_us;
	vals[nv++] = w.node_cpus;
	vals[nv++] = w.threads;
	vals[nv++] = cores;
	vals[nv++] = running;
	vals[nv++] = w.quota_ns / 1e6;
	vals[nv++] = w.period_ns / 1e6;
	vals[nv++] = w.quota_ns / 1e6 / running; /* the quota burnt by running threads */
	vals[nv++] = ceil(cores); /* workers */

	n = whisper(&w, in);
	ck_assert_uint_ge(n, 1);
	for (unsigned i = 0; i < n; i++) {
		assert_numbers(in[i].headline, vals, nv);
		assert_numbers(in[i].impact, vals, nv);
		assert_numbers(in[i].recommendation, vals, nv);
		ck_assert_uint_le(in[i].nevidence, KG_MAX_EVIDENCE);
	}
	/* and the evidence is the facts, not a copy of the sentence */
	assert_close(evidence(&in[0], "throttledPeriods"), w.throttled_periods, "throttled");
	assert_close(evidence(&in[0], "periods"), w.periods, "periods");
	assert_close(evidence(&in[0], "throttledPercent"), share, "share");
	assert_close(evidence(&in[0], "throttledTime"), w.throttled_ns / 1e6, "time");
	if (util >= 0)
		assert_close(evidence(&in[0], "averageUtilizationOfLimit"), util, "util");
	if (limit > 0)
		assert_close(evidence(&in[0], "cpuLimit"), limit, "limit");
	if (w.have_sched)
		assert_close(evidence(&in[0], "runQueueDelayP99AtMost"), p99_ms, "p99");
	if (p99 > 0) {
		assert_close(evidence(&in[0], "demandP95"), p95, "p95");
		assert_close(evidence(&in[0], "demandP99"), p99, "p99");
	}
}
END_TEST

/* ---- 7. births ---- */

static struct kg_birth *birth(void)
{
	struct kg_birth *b = calloc(1, sizeof(*b));

	ck_assert_ptr_nonnull(b);
	b->created_ns = C0;
	b->ready_ns = C0 + 250 * MS;
	b->last_activity_ns = C0 + 300 * MS;
	b->reason = KG_SETTLE_READY;
	b->settled_ns = C0 + 1300 * MS;
	b->have_kernel = true;
	b->kernel.syscalls = 1000;
	b->kernel.execs = 2;
	b->kernel.opens = 40;
	return b;
}

static void add_exec(struct kg_birth *b, uint64_t at, uint32_t pid, const char *file,
		     const char *exe, const char *args, uint64_t syscalls_before)
{
	struct kg_birth_exec *x = &b->execs[b->execs_n++];

	x->ts_ns = C0 + at;
	x->pid = pid;
	x->syscalls_before = syscalls_before;
	snprintf(x->file, sizeof(x->file), "%s", file);
	snprintf(x->exe, sizeof(x->exe), "%s", exe);
	snprintf(x->args, sizeof(x->args), "%s", args);
}

static unsigned births(const struct kg_birth *b, struct kg_insight *in)
{
	memset(in, 0, KG_MAX_INSIGHTS * sizeof(*in));
	return kg_birth_insights(b, in, KG_MAX_INSIGHTS);
}

/* The workload's name: basename of argv[0], else the exe, else the file's basename. */
static const struct {
	const char *args, *exe, *file, *want;
} name_cases[] = {
	{ "/usr/sbin/nginx -g daemon off;", "nginx", "/usr/sbin/nginx", "nginx" },
	{ "nginx -g daemon off;", "nginx", "/usr/sbin/nginx", "nginx" },
	{ "/docker-entrypoint.sh nginx -g daemon off;", "dash", "/docker-entrypoint.sh",
	  "docker-entrypoint.sh" },
	{ "python3 -m http.server", "python3.11", "/usr/bin/python3", "python3" }, /* argv[0] */
	{ "./run --fast", "run", "./run", "run" },
	{ "/app", "app", "/app", "app" },
	{ "", "busybox", "/bin/sh", "busybox" }, /* no args: the exe */
	{ "", "", "/usr/local/bin/server", "server" }, /* nor exe: the file */
	{ " -x", "java", "/usr/bin/java", "java" }, /* an empty argv[0] */
	/* argv[0] of 63 characters fits the name buffer; of 64 it does not: the exe */
	{ "/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb -v", "b", "/b",
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
	{ "/ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc -v", "c", "/c", "c" },
};

START_TEST(test_start_cost)
{
	struct kg_birth *b = birth();
	struct kg_insight in[KG_MAX_INSIGHTS];
	char want[512];

	add_exec(b, 40 * MS, 7, name_cases[_i].file, name_cases[_i].exe, name_cases[_i].args, 612);
	ck_assert_uint_eq(births(b, in), 1);
	ck_assert_int_eq(in[0].severity, KG_SEV_INFO);
	ck_assert_str_eq(in[0].rule, "start-cost");
	snprintf(want, sizeof(want), "1000 syscalls just to start %s", name_cases[_i].want);
	ck_assert_str_eq(in[0].headline, want);
	/* 612 of 1000 syscalls before the entrypoint; ready 250 ms after creation */
	ck_assert_str_eq(
		in[0].impact,
		"612 of them (61%) ran in the container runtime's setup before the "
		"entrypoint started; the start took 250.0 ms to readiness (first listen).");
	ck_assert_str_eq(in[0].recommendation, "Nothing to change: this is the baseline the other "
					       "insights are measured against.");
	assert_evidence(&in[0], (const struct kg_evidence[]){
					{ "syscalls", 1000, "syscalls" },
					{ "syscallsBeforeEntrypoint", 612, "syscalls" },
					{ "execs", 2, "execs" },
					{ "filesOpened", 40, "opens" },
					{ "duration", 250, "ms" },
					{ NULL, 0, NULL },
				});
	free(b);
}
END_TEST

/* The numbers of the start-cost sentences, from each birth's own facts. */
static const struct {
	uint64_t syscalls, before, ready, last, settled;
	enum kg_settle_reason reason;
	bool exec;
} cost_cases[] = {
	{ 4321, 4000, 123456789, 200 * MS, 0, KG_SETTLE_READY, true },
	{ 4321, 0, 0, 777777777, 0, KG_SETTLE_QUIET, true }, /* to the last activity */
	{ 10, 10, 0, 1 * MS, 9 * SEC, KG_SETTLE_TIMEOUT, true }, /* to the settle time */
	{ 0, 0, 0, 0, 0, KG_SETTLE_EXITED, true }, /* nothing counted: no 0/0 */
	{ 77, 0, 0, 5 * MS, 0, KG_SETTLE_REMOVED, false }, /* no exec at all */
	{ 1ULL << 40, 1ULL << 39, 3 * SEC, 4 * SEC, 0, KG_SETTLE_READY, true },
};

START_TEST(test_start_cost_numbers)
{
	struct kg_birth *b = birth();
	struct kg_insight in[KG_MAX_INSIGHTS];
	char want[512];
	double total = cost_cases[_i].syscalls, before = cost_cases[_i].before, ms;

	b->kernel.syscalls = cost_cases[_i].syscalls;
	b->ready_ns = cost_cases[_i].ready ? C0 + cost_cases[_i].ready : 0;
	b->last_activity_ns = C0 + cost_cases[_i].last;
	b->settled_ns = C0 + cost_cases[_i].settled;
	b->reason = cost_cases[_i].reason;
	if (cost_cases[_i].exec)
		add_exec(b, 1 * MS, 7, "/srv/api", "api", "/srv/api --port 80",
			 cost_cases[_i].before);
	/* to readiness, else to the settle time of a timeout, else to the last activity */
	if (cost_cases[_i].ready)
		ms = cost_cases[_i].ready / 1e6;
	else if (cost_cases[_i].reason == KG_SETTLE_TIMEOUT)
		ms = cost_cases[_i].settled / 1e6;
	else
		ms = cost_cases[_i].last / 1e6;
	ck_assert_uint_eq(births(b, in), 1);
	if (cost_cases[_i].exec)
		snprintf(want, sizeof(want), "%llu syscalls just to start api",
			 (unsigned long long)cost_cases[_i].syscalls);
	else
		snprintf(want, sizeof(want), "%llu syscalls and no exec",
			 (unsigned long long)cost_cases[_i].syscalls);
	ck_assert_str_eq(in[0].headline, want);
	snprintf(want, sizeof(want),
		 "%llu of them (%.0f%%) ran in the container runtime's setup before the "
		 "entrypoint started; the start took %.1f ms to %s.",
		 (unsigned long long)cost_cases[_i].before, total ? 100 * before / total : 0, ms,
		 cost_cases[_i].ready ? "readiness (first listen)" : "its last start-up activity");
	ck_assert_str_eq(in[0].impact, want);
	assert_close(evidence(&in[0], "syscalls"), total, "syscalls");
	assert_close(evidence(&in[0], "syscallsBeforeEntrypoint"), before, "before");
	assert_close(evidence(&in[0], "duration"), ms, "duration");
	assert_close(evidence(&in[0], "duration"), kg_birth_duration_ns(b) / 1e6, "duration");
	free(b);
}
END_TEST

START_TEST(test_birth_no_kernel)
{
	struct kg_birth *b = birth();
	struct kg_insight in[KG_MAX_INSIGHTS], ref[KG_MAX_INSIGHTS];

	/* without the kernel's counts there is no true number to say */
	add_exec(b, 1 * MS, 7, "/bin/sh", "dash", "/bin/sh -c /app", 100);
	add_exec(b, 2 * MS, 8, "/app", "app", "/app", 200);
	b->have_kernel = false;
	memset(in, 0xa5, sizeof(in));
	memcpy(ref, in, sizeof(in));
	ck_assert_uint_eq(kg_birth_insights(b, in, KG_MAX_INSIGHTS), 0);
	ck_assert_int_eq(memcmp(in, ref, sizeof(in)), 0);
	b->have_kernel = true;
	ck_assert_uint_eq(kg_birth_insights(b, in, 0), 0);
	ck_assert_int_eq(memcmp(in, ref, sizeof(in)), 0);
	free(b);
}
END_TEST

/* Library misses: ENOENT on a ".so" path, 5 or more; a warning from 5 % of the syscalls. */
static const struct {
	uint64_t syscalls;
	struct {
		const char *path;
		uint32_t opens, failed;
		int err;
	} f[4];
	unsigned want; /* 0: no insight */
	enum kg_severity sev;
	const char *example;
} lib_cases[] = {
	{ 1000, { { "/lib/libssl.so.3", 4, 4, ENOENT } }, 0, 0, NULL },
	{ 1000, { { "/lib/libssl.so.3", 5, 5, ENOENT } }, 5, KG_SEV_INFO, "/lib/libssl.so.3" },
	{ 1000,
	  { { "/etc/ld.so.cache", 1, 0, 0 },
	    { "/usr/local/lib/libz.so.1", 3, 3, ENOENT },
	    { "/opt/app/lib/libz.so.1", 2, 2, ENOENT } },
	  5,
	  KG_SEV_INFO,
	  "/usr/local/lib/libz.so.1" },
	{ 1000, { { "/x/libc.so.6", 49, 49, ENOENT } }, 49, KG_SEV_INFO, "/x/libc.so.6" },
	{ 1000, { { "/x/libc.so.6", 50, 50, ENOENT } }, 50, KG_SEV_WARNING, "/x/libc.so.6" },
	{ 100, { { "/x/libm.so", 5, 5, ENOENT } }, 5, KG_SEV_WARNING, "/x/libm.so" },
	{ 101, { { "/x/libm.so", 5, 5, ENOENT } }, 5, KG_SEV_INFO, "/x/libm.so" },
	/* not a miss: another error, another kind of file, or found */
	{ 100, { { "/x/libm.so", 9, 9, EACCES } }, 0, 0, NULL },
	{ 100, { { "/etc/app/conf.d/x.conf", 9, 9, ENOENT } }, 0, 0, NULL },
	{ 100, { { "/lib/libc.so.6", 9, 0, 0 } }, 0, 0, NULL },
	{ 100,
	  { { "/x/libm.so", 4, 4, EACCES },
	    { "/y/libm.so", 4, 4, ENOENT },
	    { "/etc/a", 4, 4, ENOENT } },
	  0,
	  0,
	  NULL },
};

START_TEST(test_library_misses)
{
	struct kg_birth *b = birth();
	struct kg_birth_file files[4];
	struct kg_insight in[KG_MAX_INSIGHTS];
	const struct kg_insight *l;
	char want[512];
	double pct = 100.0 * lib_cases[_i].want / lib_cases[_i].syscalls;

	memset(files, 0, sizeof(files));
	b->kernel.syscalls = lib_cases[_i].syscalls;
	b->files = files;
	for (int k = 0; k < 4 && lib_cases[_i].f[k].path; k++) {
		files[k].path = (char *)lib_cases[_i].f[k].path;
		files[k].opens = lib_cases[_i].f[k].opens;
		files[k].failed = lib_cases[_i].f[k].failed;
		files[k].last_errno = lib_cases[_i].f[k].err;
		files[k].first_ns = C0 + 300 * MS; /* after readiness: no other rule */
		b->nfiles++;
	}
	add_exec(b, 1 * MS, 7, "/app", "app", "/app", 100);
	l = find_rule(in, births(b, in), "library-search-misses");
	if (!lib_cases[_i].want) {
		ck_assert_ptr_null(l);
		ck_assert_uint_eq(births(b, in), 1);
		free(b);
		return;
	}
	ck_assert_ptr_eq(l, &in[1]);
	ck_assert_int_eq(l->severity, lib_cases[_i].sev);
	snprintf(want, sizeof(want), "%u failed opens searching for shared libraries",
		 lib_cases[_i].want);
	ck_assert_str_eq(l->headline, want);
	snprintf(want, sizeof(want),
		 "%u of the start's %llu syscalls (%.1f%%) looked for a library where it was not, "
		 "e.g. %s.",
		 lib_cases[_i].want, (unsigned long long)lib_cases[_i].syscalls, pct,
		 lib_cases[_i].example);
	ck_assert_str_eq(l->impact, want);
	ck_assert_str_eq(
		l->recommendation,
		"Point the loader at the right directory first (a precise RUNPATH, or "
		"LD_LIBRARY_PATH with only the directories that hold the libraries), or ship "
		"the libraries where the loader looks first.");
	assert_evidence(l, (const struct kg_evidence[]){
				   { "failedLibraryOpens", lib_cases[_i].want, "opens" },
				   { "shareOfSyscalls", pct, "%" },
				   { NULL, 0, NULL },
			   });
	free(b);
}
END_TEST

/* A shell (by argv[0]'s basename) that starts a workload that is not one, and stays. */
static const struct {
	const char *args0, *args1;
	bool same_pid, fires;
	const char *shell, *workload;
} shell_cases[] = {
	{ "/bin/sh -c /app", "/app --serve", false, true, "sh", "app" },
	{ "bash /start.sh", "/usr/bin/java -jar x.jar", false, true, "bash", "java" },
	{ "/bin/dash -c x", "node server.js", false, true, "dash", "node" },
	{ "/bin/ash -c x", "/srv/api", false, true, "ash", "api" },
	{ "/usr/bin/zsh -c x", "/srv/api", false, true, "zsh", "api" },
	{ "/bin/ksh -c x", "/srv/api", false, true, "ksh", "api" },
	/* a shell starting a shell; a shell not on the list; busybox as argv[0] */
	{ "/bin/sh -c /app", "/bin/bash /app", false, false, NULL, NULL },
	{ "/usr/bin/fish -c x", "/srv/api", false, false, NULL, NULL },
	{ "/bin/busybox sh -c x", "/srv/api", false, false, NULL, NULL },
	{ "/bin/shell x", "/srv/api", false, false, NULL, NULL },
	{ "/bin/bash5 x", "/srv/api", false, false, NULL, NULL },
	/* the workload starts a shell */
	{ "/srv/api", "/bin/sh -c x", false, false, NULL, NULL },
	/* "exec app" at the end of the script: the shell is gone, signals reach app */
	{ "/bin/sh -c exec /app", "/app --serve", true, false, NULL, NULL },
};

START_TEST(test_shell_wrapper)
{
	struct kg_birth *b = birth();
	struct kg_insight in[KG_MAX_INSIGHTS];
	const struct kg_insight *s;
	char want[512];
	unsigned n;

	add_exec(b, 12 * MS, 7, "/x", "x", shell_cases[_i].args0, 300);
	add_exec(b, 12 * MS + 3456789, shell_cases[_i].same_pid ? 7 : 8, "/y", "y",
		 shell_cases[_i].args1, 350);
	b->ready_ns = 0; /* nothing but the exec chain */
	n = births(b, in);
	s = find_rule(in, n, "shell-wrapper");
	if (!shell_cases[_i].fires) {
		ck_assert_ptr_null(s);
		ck_assert_uint_eq(n, 1);
		free(b);
		return;
	}
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_eq(s, &in[1]);
	ck_assert_int_eq(s->severity, KG_SEV_INFO);
	snprintf(want, sizeof(want), "A shell wrapper (%s) starts the workload (%s): one more exec",
		 shell_cases[_i].shell, shell_cases[_i].workload);
	ck_assert_str_eq(s->headline, want);
	snprintf(want, sizeof(want),
		 "%s ran 3.5 ms before %s and stays as the container's first process, so signals "
		 "reach it rather than the workload.",
		 shell_cases[_i].shell, shell_cases[_i].workload);
	ck_assert_str_eq(s->impact, want);
	snprintf(want, sizeof(want),
		 "Use the exec form of ENTRYPOINT/CMD (a JSON array), or end the script with "
		 "\"exec %s ...\".",
		 shell_cases[_i].workload);
	ck_assert_str_eq(s->recommendation, want);
	assert_evidence(s, (const struct kg_evidence[]){
				   { "execChainLength", 2, "execs" },
				   { NULL, 0, NULL },
			   });
	free(b);
}
END_TEST

START_TEST(test_shell_wrapper_single_exec)
{
	struct kg_birth *b = birth();
	struct kg_insight in[KG_MAX_INSIGHTS];

	/* a shell alone is the workload, not a wrapper */
	add_exec(b, 1 * MS, 7, "/bin/sh", "dash", "/bin/sh -c sleep", 10);
	ck_assert_uint_eq(births(b, in), 1);
	ck_assert_str_eq(in[0].rule, "start-cost");
	free(b);
}
END_TEST

/* Distinct files first opened strictly before the first listen. */
static const struct {
	uint64_t ready;
	uint64_t first[5];
	unsigned want;
} ready_cases[] = {
	{ 250 * MS, { 10 * MS, 100 * MS, 250 * MS - 1, 250 * MS, 251 * MS }, 3 },
	{ 250 * MS, { 250 * MS, 251 * MS, 9 * SEC }, 0 },
	{ 250 * MS, { 0, 0, 1 }, 1 }, /* first_ns 0: never opened */
	{ 1, { 0 }, 0 },
	{ 0, { 10 * MS, 20 * MS }, 0 }, /* never ready: no such rule */
	{ 7777777, { 1, 2, 3, 4, 5 }, 5 },
};

START_TEST(test_files_before_ready)
{
	struct kg_birth *b = birth();
	struct kg_birth_file files[5];
	static char paths[5][16];
	struct kg_insight in[KG_MAX_INSIGHTS];
	const struct kg_insight *f;
	char want[512];
	unsigned n;

	memset(files, 0, sizeof(files));
	b->files = files;
	for (int k = 0; k < 5; k++) {
		snprintf(paths[k], sizeof(paths[k]), "/etc/f%d.conf", k);
		files[k].path = paths[k];
		files[k].opens = 1;
		files[k].first_ns = ready_cases[_i].first[k] ? C0 + ready_cases[_i].first[k] : 0;
		b->nfiles++;
	}
	b->ready_ns = ready_cases[_i].ready ? C0 + ready_cases[_i].ready : 0;
	add_exec(b, 0, 7, "/app", "app", "/app", 100);
	n = births(b, in);
	f = find_rule(in, n, "files-before-ready");
	if (!ready_cases[_i].want) {
		ck_assert_ptr_null(f);
		ck_assert_uint_eq(n, 1);
		free(b);
		return;
	}
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_eq(f, &in[1]);
	snprintf(want, sizeof(want), "%u distinct files opened before it was ready",
		 ready_cases[_i].want);
	ck_assert_str_eq(f->headline, want);
	snprintf(want, sizeof(want),
		 "Readiness (the first listen) came %.1f ms after the cgroup was created.",
		 ready_cases[_i].ready / 1e6);
	ck_assert_str_eq(f->impact, want);
	assert_evidence(f, (const struct kg_evidence[]){
				   { "distinctFilesBeforeReady", ready_cases[_i].want, "files" },
				   { "timeToReady", ready_cases[_i].ready / 1e6, "ms" },
				   { NULL, 0, NULL },
			   });
	free(b);
}
END_TEST

/* Every birth rule at once: in order, and cut at max. */
START_TEST(test_birth_order)
{
	static const char *const rules[] = { "start-cost", "library-search-misses", "shell-wrapper",
					     "files-before-ready" };
	struct kg_birth *b = birth();
	struct kg_birth_file files[1] = { { (char *)"/usr/lib/libfoo.so", 6, 6, ENOENT, C0 + MS } };
	struct kg_insight in[KG_MAX_INSIGHTS];

	b->files = files;
	b->nfiles = 1;
	add_exec(b, 1 * MS, 7, "/bin/sh", "dash", "/bin/sh -c /app", 100);
	add_exec(b, 2 * MS, 8, "/app", "app", "/app", 200);
	for (unsigned max = 1; max <= KG_MAX_INSIGHTS; max++) {
		unsigned want = max < N(rules) ? max : N(rules);

		memset(in, 0, sizeof(in));
		ck_assert_uint_eq(kg_birth_insights(b, in, max), want);
		for (unsigned i = 0; i < want; i++)
			ck_assert_str_eq(in[i].rule, rules[i]);
	}
	/* 6 misses of 1000 syscalls: 0.6 %, info */
	ck_assert_int_eq(in[1].severity, KG_SEV_INFO);
	ck_assert_str_eq(in[1].impact, "6 of the start's 1000 syscalls (0.6%) looked for a library "
				       "where it was not, e.g. /usr/lib/libfoo.so.");
	ck_assert_str_eq(in[3].headline, "1 distinct files opened before it was ready");
	free(b);
}
END_TEST

/* ---- 8. JSON ---- */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
		      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return v;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", key);
	return json_object_get_string(v);
}

static int jkeys(json_object *o)
{
	int n = 0;

	json_object_object_foreach(o, key, val) {
		(void)key;
		(void)val;
		n++;
	}
	return n;
}

static const struct {
	enum kg_severity sev;
	const char *name;
} sev_names[] = {
	{ KG_SEV_INFO, "info" },
	{ KG_SEV_WARNING, "warning" },
	{ KG_SEV_CRITICAL, "critical" },
	{ 0, "none" },
	{ KG_SEV_CRITICAL + 1, "unknown" },
};

START_TEST(test_severity_name)
{
	ck_assert_str_eq(kg_severity_name(sev_names[_i].sev), sev_names[_i].name);
}
END_TEST

/* Evidence values are written with 3 decimals, as the text the document holds. */
static const struct {
	double value;
	const char *json;
} ev_values[] = {
	{ 0, "0.000" },
	{ 20, "20.000" },
	{ 12.3456, "12.346" },
	{ 1.0 / 3, "0.333" },
	{ 2.0 / 3, "0.667" },
	{ 1234567, "1234567.000" },
	{ 0.0004, "0.000" },
	{ 0.0006, "0.001" },
	{ 59.99999999833333, "60.000" },
	{ 4567.891234, "4567.891" },
};

START_TEST(test_json_shape)
{
	struct kg_insight in[2];
	json_object *arr, *o, *ev, *x;

	memset(in, 0, sizeof(in));
	in[0].severity = KG_SEV_CRITICAL;
	in[0].rule = "hidden-throttling";
	snprintf(in[0].headline, sizeof(in[0].headline), "head \"quoted\"");
	snprintf(in[0].impact, sizeof(in[0].impact), "impact");
	snprintf(in[0].recommendation, sizeof(in[0].recommendation), "rec");
	in[0].evidence[0] = (struct kg_evidence){ "cpuLimit", ev_values[_i].value, "millicores" };
	in[0].evidence[1] = (struct kg_evidence){ "throttledPercent", 50, "%" };
	in[0].nevidence = 2;
	in[1].severity = KG_SEV_INFO;
	in[1].rule = "start-cost";

	arr = kg_insights_json(in, 2);
	ck_assert(json_object_is_type(arr, json_type_array));
	ck_assert_uint_eq(json_object_array_length(arr), 2);
	o = json_object_array_get_idx(arr, 0);
	ck_assert_int_eq(jkeys(o), 6);
	ck_assert_str_eq(jstr(o, "severity"), "critical");
	ck_assert_str_eq(jstr(o, "rule"), "hidden-throttling");
	ck_assert_str_eq(jstr(o, "headline"), "head \"quoted\"");
	ck_assert_str_eq(jstr(o, "impact"), "impact");
	ck_assert_str_eq(jstr(o, "recommendation"), "rec");
	ev = jget(o, "evidence");
	ck_assert(json_object_is_type(ev, json_type_array));
	ck_assert_uint_eq(json_object_array_length(ev), 2);
	x = json_object_array_get_idx(ev, 0);
	ck_assert_int_eq(jkeys(x), 3);
	ck_assert_str_eq(jstr(x, "name"), "cpuLimit");
	ck_assert_str_eq(jstr(x, "unit"), "millicores");
	ck_assert(json_object_is_type(jget(x, "value"), json_type_double));
	ck_assert_str_eq(json_object_to_json_string_ext(jget(x, "value"), JSON_C_TO_STRING_PLAIN),
			 ev_values[_i].json);
	/* the value held is the value written: read back, it compares equal */
	ck_assert(json_object_get_double(jget(x, "value")) == strtod(ev_values[_i].json, NULL));
	x = json_object_array_get_idx(ev, 1);
	ck_assert_str_eq(json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN),
			 "{\"name\":\"throttledPercent\",\"value\":50.000,\"unit\":\"%\"}");

	/* an insight with nothing to show still has every key, and an empty evidence list */
	ck_assert_str_eq(json_object_to_json_string_ext(json_object_array_get_idx(arr, 1),
							JSON_C_TO_STRING_PLAIN),
			 "{\"severity\":\"info\",\"rule\":\"start-cost\",\"headline\":\"\","
			 "\"evidence\":[],\"impact\":\"\",\"recommendation\":\"\"}");
	json_object_put(arr);

	arr = kg_insights_json(in, 0);
	ck_assert_str_eq(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN), "[]");
	json_object_put(arr);
}
END_TEST

/* A real insight, through JSON: every field as the struct holds it. */
START_TEST(test_json_whisper)
{
	struct kg_whisper_window w = window();
	struct kg_insight in[KG_MAX_INSIGHTS];
	json_object *arr, *o, *ev;
	unsigned n;
	char v[32];

	throttle(&w, 850, 12 * MS);
	usage(&w, 9 * SEC);
	w.threads = 8;
	w.demand_hist[24] = 100;
	n = whisper(&w, in);
	ck_assert_uint_eq(n, 2);
	arr = kg_insights_json(in, n);
	ck_assert_uint_eq(json_object_array_length(arr), n);
	for (unsigned i = 0; i < n; i++) {
		o = json_object_array_get_idx(arr, i);
		ck_assert_str_eq(jstr(o, "severity"), kg_severity_name(in[i].severity));
		ck_assert_str_eq(jstr(o, "rule"), in[i].rule);
		ck_assert_str_eq(jstr(o, "headline"), in[i].headline);
		ck_assert_str_eq(jstr(o, "impact"), in[i].impact);
		ck_assert_str_eq(jstr(o, "recommendation"), in[i].recommendation);
		ev = jget(o, "evidence");
		ck_assert_uint_eq(json_object_array_length(ev), in[i].nevidence);
		for (unsigned e = 0; e < in[i].nevidence; e++) {
			json_object *x = json_object_array_get_idx(ev, e);

			ck_assert_str_eq(jstr(x, "name"), in[i].evidence[e].name);
			ck_assert_str_eq(jstr(x, "unit"), in[i].evidence[e].unit);
			snprintf(v, sizeof(v), "%.3f", in[i].evidence[e].value);
			ck_assert_str_eq(json_object_to_json_string_ext(jget(x, "value"),
									JSON_C_TO_STRING_PLAIN),
					 v);
		}
	}
	/* 85 %, 12 ms held: critical; the thread rule caps at warning */
	ck_assert_str_eq(jstr(json_object_array_get_idx(arr, 0), "severity"), "critical");
	ck_assert_str_eq(jstr(json_object_array_get_idx(arr, 0), "rule"), "hidden-throttling");
	ck_assert_str_eq(jstr(json_object_array_get_idx(arr, 1), "severity"), "warning");
	json_object_put(arr);
}
END_TEST

static Suite *insights_suite(void)
{
	Suite *s = suite_create("insights");
	TCase *tc;

	tc = tcase_create("throttling");
	tcase_add_loop_test(tc, test_severity, 0, N(sev_cases));
	tcase_add_loop_test(tc, test_rule, 0, N(rule_cases));
	tcase_add_test(tc, test_not_throttled);
	tcase_add_test(tc, test_missing_data);
	suite_add_tcase(s, tc);

	tc = tcase_create("demand");
	tcase_add_loop_test(tc, test_demand, 0, N(demand_cases));
	tcase_add_loop_test(tc, test_recommendation, 0, N(rec_cases));
	tcase_add_test(tc, test_recommendation_no_demand);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_loop_test(tc, test_threads, 0, N(thr_cases));
	tcase_add_test(tc, test_threads_words);
	suite_add_tcase(s, tc);

	tc = tcase_create("facts");
	tcase_add_loop_test(tc, test_no_canned_numbers, 0, 300);
	suite_add_tcase(s, tc);

	tc = tcase_create("birth");
	tcase_add_loop_test(tc, test_start_cost, 0, N(name_cases));
	tcase_add_loop_test(tc, test_start_cost_numbers, 0, N(cost_cases));
	tcase_add_test(tc, test_birth_no_kernel);
	tcase_add_loop_test(tc, test_library_misses, 0, N(lib_cases));
	tcase_add_loop_test(tc, test_shell_wrapper, 0, N(shell_cases));
	tcase_add_test(tc, test_shell_wrapper_single_exec);
	tcase_add_loop_test(tc, test_files_before_ready, 0, N(ready_cases));
	tcase_add_test(tc, test_birth_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_loop_test(tc, test_severity_name, 0, N(sev_names));
	tcase_add_loop_test(tc, test_json_shape, 0, N(ev_values));
	tcase_add_test(tc, test_json_whisper);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(insights_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
