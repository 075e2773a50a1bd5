// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_whisper.c - unit tests for agent/whisper.c and agent/hist.c.
 *
 * Percentiles from log2 histograms at every boundary, the CPU limit from a
 * CFS quota, and a KernelWhisper document checked field by field: the kernel
 * view, the metrics view worked out by hand from usage over its own window,
 * the scheduler block, the "unavailable" forms, and the summary sentence
 * word for word. Decimal numbers are checked as the text that is written.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "whisper.h"

#define NS 1ULL
#define MS 1000000ULL
#define SEC 1000000000ULL
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- JSON access: "a.b.c" (no arrays in a whisper) ---- */

static json_object *jget_opt(json_object *o, const char *path)
{
	char buf[256], *save = NULL, *seg;

	snprintf(buf, sizeof(buf), "%s", path);
	for (seg = strtok_r(buf, ".", &save); seg && o; seg = strtok_r(NULL, ".", &save)) {
		if (!json_object_object_get_ex(o, seg, &o))
			return NULL;
	}
	return o;
}

static json_object *jget(json_object *o, const char *path)
{
	json_object *v = jget_opt(o, path);

	ck_assert_msg(v != NULL, "no %s in %s", path,
		      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return v;
}

static const char *jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", path);
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	ck_assert_msg(json_object_is_type(v, json_type_int), "%s is not an integer", path);
	return json_object_get_int64(v);
}

static const char *jnum(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	ck_assert_msg(json_object_is_type(v, json_type_double), "%s is not a double", path);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static int jkeys(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	int n = 0;

	json_object_object_foreach(v, key, val) {
		(void)key;
		(void)val;
		n++;
	}
	return n;
}

#define ASSERT_STR(o, path, want) ck_assert_str_eq(jstr(o, path), want)
#define ASSERT_INT(o, path, want) ck_assert_int_eq(jint(o, path), want)
#define ASSERT_NUM(o, path, want) ck_assert_str_eq(jnum(o, path), want)

/* ---- histograms ---- */

START_TEST(test_hist_empty)
{
	__u64 h[KG_HIST_SLOTS] = { 0 };

	ck_assert_uint_eq(kg_hist_total(h, KG_HIST_SLOTS), 0);
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 0.5), 0);
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 0.99), 0);
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 1), 0);
	ck_assert_uint_eq(kg_hist_percentile(h, 0, 0.99), 0);
	/* a non-positive quantile asks for nothing */
	h[4] = 10;
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 0), 0);
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, -1), 0);
}
END_TEST

/* A single non-empty bucket: every quantile is its upper bound, 2^(i+1). */
START_TEST(test_hist_single_bucket)
{
	__u64 h[64] = { 0 };
	unsigned i = _i;
	uint64_t want = i >= 63 ? UINT64_MAX : 2ULL << i;

	h[i] = 3;
	ck_assert_uint_eq(kg_hist_total(h, 64), 3);
	ck_assert_uint_eq(kg_hist_percentile(h, 64, 1e-9), want);
	ck_assert_uint_eq(kg_hist_percentile(h, 64, 0.5), want);
	ck_assert_uint_eq(kg_hist_percentile(h, 64, 0.99), want);
	ck_assert_uint_eq(kg_hist_percentile(h, 64, 1), want);
}
END_TEST

START_TEST(test_hist_bounds)
{
	__u64 h[KG_HIST_SLOTS] = { 0 };

	/* slot i counts [2^i, 2^(i+1)): the answer is the slot's upper bound */
	h[0] = 1;
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 1), 2);
	h[0] = 0;
	h[9] = 1; /* 512..1023 ns */
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 1), 1024);
	h[9] = 0;
	h[KG_HIST_SLOTS - 1] = 1; /* the last slot of the kernel's histograms */
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 1), 1ULL << KG_HIST_SLOTS);
}
END_TEST

/* 99 fast, 1 slow: the 99th percentile is the fast bucket, anything above is not. */
static const struct {
	double q;
	uint64_t want;
} rank_cases[] = {
	{ 0.01, 2 },   { 0.5, 2 },  { 0.98, 2 }, { 0.99, 2 },	{ 0.9901, 64 },	  { 0.991, 64 },
	{ 0.999, 64 }, { 1.0, 64 }, { 1.5, 64 }, { 100.0, 64 }, { INFINITY, 64 }, { 1e-300, 2 },
};

START_TEST(test_hist_ranks)
{
	__u64 h[KG_HIST_SLOTS] = { 0 };

	h[0] = 99;
	h[5] = 1;
	ck_assert_uint_eq(kg_hist_total(h, KG_HIST_SLOTS), 100);
	ck_assert_msg(kg_hist_percentile(h, KG_HIST_SLOTS, rank_cases[_i].q) == rank_cases[_i].want,
		      "q=%g: %llu, want %llu", rank_cases[_i].q,
		      (unsigned long long)kg_hist_percentile(h, KG_HIST_SLOTS, rank_cases[_i].q),
		      (unsigned long long)rank_cases[_i].want);
}
END_TEST

START_TEST(test_hist_median_split)
{
	__u64 h[KG_HIST_SLOTS] = { 0 };

	/* two samples: the median is the first, anything above it the second */
	h[3] = 1;
	h[7] = 1;
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 0.5), 16);
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 0.51), 256);
	/* only the first `slots` entries are looked at */
	ck_assert_uint_eq(kg_hist_total(h, 5), 1);
	ck_assert_uint_eq(kg_hist_percentile(h, 5, 1), 16);
	/* huge counts do not lose the rank */
	memset(h, 0, sizeof(h));
	h[1] = 1ULL << 40;
	h[2] = 1;
	ck_assert_uint_eq(kg_hist_total(h, KG_HIST_SLOTS), (1ULL << 40) + 1);
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 0.5), 4);
	ck_assert_uint_eq(kg_hist_percentile(h, KG_HIST_SLOTS, 1), 8);
}
END_TEST

/* ---- CPU limit ---- */

static const struct {
	uint64_t quota, period;
	double want;
} limit_cases[] = {
	{ 50000, 100000, 500 },	   { 50000000, 100000000, 500 }, { 100000, 100000, 1000 },
	{ 250000, 100000, 2500 },  { 1000, 100000, 10 },	 { 1000, 1000000, 1 },
	{ 33333, 100000, 333.33 }, { UINT64_MAX, 100000, 0 }, /* "max": unlimited */
	{ 50000, 0, 0 }, /* no period: no limit to speak of */
	{ UINT64_MAX, 0, 0 },
};

START_TEST(test_limit_millicores)
{
	double got = kg_limit_millicores(limit_cases[_i].quota, limit_cases[_i].period);

	ck_assert_double_eq_tol(got, limit_cases[_i].want, 1e-9);
}
END_TEST

/* ---- the document ---- */

static struct kg_resource_meta whisper_meta(void)
{
	struct kg_resource_meta m;

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "web-1-whisper");
	snprintf(m.pod_name, sizeof(m.pod_name), "web-1");
	snprintf(m.container_id, sizeof(m.container_id), "abc");
	snprintf(m.cgroup_path, sizeof(m.cgroup_path), "/kubepods/burstable/podx/abc");
	m.driver = "cgroupfs";
	m.qos = "burstable";
	m.hooks = "fentry";
	/* start_ns below is 2025-11-25T16:00:00Z */
	m.mono_to_real_ns = 1764086400LL * (int64_t)SEC - 10 * (int64_t)SEC;
	return m;
}

/* A one-minute window of a 500m container throttled in 123 of 600 periods. */
static struct kg_whisper_window window(void)
{
	struct kg_whisper_window w;

	memset(&w, 0, sizeof(w));
	w.start_ns = 10 * SEC;
	w.end_ns = 70 * SEC;
	w.periods = 600;
	w.throttled_periods = 123;
	w.throttled_ns = 4567891234ULL;
	w.total_periods = 10000;
	w.total_throttled_periods = 2000;
	w.total_throttled_ns = 99000000000ULL;
	w.quota_ns = 50 * MS;
	w.period_ns = 100 * MS;
	w.burst_ns = 20 * MS;
	w.episodes = 7;
	w.episode_ns = 70000007;
	w.episode_hist[23] = 6; /* 8.4 to 16.8 ms */
	w.episode_hist[24] = 1;
	w.episode_hook = "fentry";
	w.have_usage = true;
	w.usage_start_ns = 10 * SEC + 500 * MS;
	w.usage_end_ns = 70 * SEC + 500 * MS;
	w.usage_ns = 24 * SEC; /* 400m on average */
	w.usage_source = "cpu.stat usage_usec";
	w.have_sched = true;
	w.sched.oncpu_ns = 23900 * MS;
	w.sched.switches_voluntary = 100;
	w.sched.switches_involuntary = 200;
	w.sched.runq_delay_ns = 9000000123ULL;
	w.sched.runq_waits = 1000;
	w.sched.runq_delay_max_ns = 90 * MS;
	w.sched.throttle_wait_ns = 5 * SEC;
	w.sched.throttled_tasks = 42;
	w.sched.runq_hist[10] = 990;
	w.sched.runq_hist[20] = 10;
	return w;
}

START_TEST(test_whisper_full)
{
	struct kg_resource_meta m = whisper_meta();
	struct kg_whisper_window w = window();
	json_object *j = kg_whisper_json(&m, &w);

	ASSERT_STR(j, "apiVersion", "kernel.gossip.io/v1alpha1");
	ASSERT_STR(j, "kind", "KernelWhisper");
	ASSERT_STR(j, "metadata.name", "web-1-whisper");
	ASSERT_STR(j, "spec.containerID", "abc");
	ASSERT_STR(j, "spec.cgroupPath", "/kubepods/burstable/podx/abc");
	ASSERT_STR(j, "spec.cgroupDriver", "cgroupfs");

	ASSERT_STR(j, "status.window.start", "2025-11-25T16:00:00.000000Z");
	ASSERT_STR(j, "status.window.end", "2025-11-25T16:01:00.000000Z");
	ASSERT_NUM(j, "status.window.durationSeconds", "60.000");

	/* the kernel's counters, as they are */
	ASSERT_INT(j, "status.kernelTruth.periods", 600);
	ASSERT_INT(j, "status.kernelTruth.throttledPeriods", 123);
	ASSERT_INT(j, "status.kernelTruth.throttledTimeNs", 4567891234LL);
	ASSERT_NUM(j, "status.kernelTruth.throttledPercent", "20.5");
	ASSERT_INT(j, "status.kernelTruth.periodUs", 100000);
	ASSERT_INT(j, "status.kernelTruth.quotaUs", 50000);
	ASSERT_NUM(j, "status.kernelTruth.cpuLimitMillicores", "500");
	ASSERT_INT(j, "status.kernelTruth.burstUs", 20000);
	ck_assert_int_eq(jkeys(j, "status.kernelTruth.cumulative"), 3);
	ASSERT_INT(j, "status.kernelTruth.cumulative.periods", 10000);
	ASSERT_INT(j, "status.kernelTruth.cumulative.throttledPeriods", 2000);
	ASSERT_INT(j, "status.kernelTruth.cumulative.throttledTimeNs", 99000000000LL);
	ASSERT_INT(j, "status.kernelTruth.episodes.count", 7);
	ASSERT_INT(j, "status.kernelTruth.episodes.totalNs", 70000007);
	ASSERT_INT(j, "status.kernelTruth.episodes.averageNs", 10000001);
	ASSERT_INT(j, "status.kernelTruth.episodes.p99NsAtMost", 1 << 25);
	ASSERT_STR(j, "status.kernelTruth.episodes.hook", "fentry");
	ASSERT_STR(j, "status.kernelTruth.source",
		   "cfs_bandwidth counters at the cgroup's period timer");

	/* the metrics view: 24 s of CPU over 60 s is 400m, 80% of the 500m limit */
	ck_assert_int_eq(jkeys(j, "status.metricsView"), 5);
	ASSERT_INT(j, "status.metricsView.cpuUsageNs", 24000000000LL);
	ASSERT_NUM(j, "status.metricsView.windowSeconds", "60.000");
	ASSERT_NUM(j, "status.metricsView.averageMillicores", "400.0");
	ASSERT_NUM(j, "status.metricsView.averageUtilizationPercent", "80.0");
	ASSERT_STR(j, "status.metricsView.source", "cpu.stat usage_usec");

	ASSERT_INT(j, "status.scheduler.runQueueDelayNs", 9000000123LL);
	ASSERT_INT(j, "status.scheduler.runQueueWaits", 1000);
	ASSERT_INT(j, "status.scheduler.runQueueDelayAverageNs", 9000000);
	ASSERT_INT(j, "status.scheduler.runQueueDelayP99NsAtMost", 2048);
	ASSERT_INT(j, "status.scheduler.throttleHeldNs", 5000000000LL);
	ASSERT_INT(j, "status.scheduler.taskThrottles", 42);
	ASSERT_INT(j, "status.scheduler.onCpuNs", 23900000000LL);
	ASSERT_INT(j, "status.scheduler.voluntarySwitches", 100);
	ASSERT_INT(j, "status.scheduler.involuntarySwitches", 200);

	ASSERT_STR(j, "status.summary",
		   "throttled in 20.5% of 600 CFS periods (4567.9 ms held) while averaging "
		   "80.0% of its 500m CPU limit over 60.0 s");
	ASSERT_STR(j, "status.observedBy", "fentry");
	json_object_put(j);
}
END_TEST

/* Throttled share of periods, to one decimal, as written. */
static const struct {
	uint64_t periods, throttled;
	const char *want;
} pct_cases
	[] = {
		{ 0, 0, "0.0" }, /* no period elapsed: 0, not NaN */
		{ 600, 0, "0.0" },	  { 600, 123, "20.5" }, { 3, 1, "33.3" },
		{ 3, 2, "66.7" },	  { 7, 7, "100.0" },	{ 1000, 999, "99.9" },
		{ 10000, 9999, "100.0" }, /* 99.99 rounds up */
		{ 2000, 1, "0.1" }, /* 0.05 rounds up */
		{ 1000000, 1, "0.0" },	  { 8, 1, "12.5" },
	};

START_TEST(test_throttled_percent)
{
	struct kg_resource_meta m = whisper_meta();
	struct kg_whisper_window w = window();
	json_object *j;
	char summary[256];

	w.periods = pct_cases[_i].periods;
	w.throttled_periods = pct_cases[_i].throttled;
	w.have_usage = false;
	j = kg_whisper_json(&m, &w);
	ASSERT_NUM(j, "status.kernelTruth.throttledPercent", pct_cases[_i].want);
	snprintf(summary, sizeof(summary), "throttled in %s%% of %llu CFS periods (4567.9 ms held)",
		 pct_cases[_i].want, (unsigned long long)pct_cases[_i].periods);
	ASSERT_STR(j, "status.summary", summary);
	json_object_put(j);
}
END_TEST

/* The metrics view from usage over its own window, against the limit. */
static const struct {
	uint64_t quota, period, usage, window;
	const char *avg, *util, *secs, *limit;
} mv_cases[] = {
	{ 50 * MS, 100 * MS, 24 * SEC, 60 * SEC, "400.0", "80.0", "60.000", "500" },
	{ 200 * MS, 100 * MS, 30 * SEC, 10 * SEC, "3000.0", "150.0", "10.000", "2000" },
	{ 1000, 100000, 1 * MS, 1 * SEC, "1.0", "10.0", "1.000", "10" },
	{ 33333, 100000, 1 * SEC, 3 * SEC, "333.3", "100.0", "3.000", "333" },
	{ 50 * MS, 100 * MS, 0, 15 * SEC, "0.0", "0.0", "15.000", "500" },
	{ 50 * MS, 100 * MS, 50000, 1 * SEC, "0.1", "0.0", "1.000", "500" }, /* 0.05m */
	{ 50 * MS, 100 * MS, 1, 1500 * MS, "0.0", "0.0", "1.500", "500" },
	/* no limit: no utilisation, and the short summary */
	{ UINT64_MAX, 100 * MS, 12500 * MS, 50 * SEC, "250.0", NULL, "50.000", NULL },
};

START_TEST(test_metrics_view)
{
	struct kg_resource_meta m = whisper_meta();
	struct kg_whisper_window w = window();
	json_object *j;
	char summary[256];

	w.quota_ns = mv_cases[_i].quota;
	w.period_ns = mv_cases[_i].period;
	w.usage_ns = mv_cases[_i].usage;
	w.usage_end_ns = w.usage_start_ns + mv_cases[_i].window;
	j = kg_whisper_json(&m, &w);
	ASSERT_NUM(j, "status.metricsView.averageMillicores", mv_cases[_i].avg);
	ASSERT_NUM(j, "status.metricsView.windowSeconds", mv_cases[_i].secs);
	ASSERT_INT(j, "status.metricsView.cpuUsageNs", mv_cases[_i].usage);
	if (mv_cases[_i].util) {
		ASSERT_NUM(j, "status.metricsView.averageUtilizationPercent", mv_cases[_i].util);
		ASSERT_NUM(j, "status.kernelTruth.cpuLimitMillicores", mv_cases[_i].limit);
		ck_assert_int_eq(jkeys(j, "status.metricsView"), 5);
		snprintf(summary, sizeof(summary),
			 "throttled in 20.5%% of 600 CFS periods (4567.9 ms held) while averaging "
			 "%s%% of its %sm CPU limit over %.1f s",
			 mv_cases[_i].util, mv_cases[_i].limit, mv_cases[_i].window / 1e9);
	} else {
		ck_assert_ptr_null(jget_opt(j, "status.metricsView.averageUtilizationPercent"));
		ck_assert_ptr_null(jget_opt(j, "status.kernelTruth.cpuLimitMillicores"));
		ck_assert_ptr_null(jget_opt(j, "status.kernelTruth.quotaUs"));
		ck_assert_int_eq(jkeys(j, "status.metricsView"), 4);
		snprintf(summary, sizeof(summary),
			 "throttled in 20.5%% of 600 CFS periods (4567.9 ms held)");
	}
	ASSERT_STR(j, "status.summary", summary);
	json_object_put(j);
}
END_TEST

START_TEST(test_unavailable)
{
	struct kg_resource_meta m = whisper_meta();
	struct kg_whisper_window w = window();
	json_object *j;

	/* no usage counter: the metrics view says so, and the summary does not guess */
	w.have_usage = false;
	w.have_sched = false;
	m.hooks = NULL;
	j = kg_whisper_json(&m, &w);
	ck_assert_int_eq(jkeys(j, "status.metricsView"), 1);
	ASSERT_STR(j, "status.metricsView.unavailable",
		   "the cgroup's CPU usage counter could not be read");
	ck_assert_int_eq(jkeys(j, "status.scheduler"), 1);
	ASSERT_STR(j, "status.scheduler.unavailable",
		   "no scheduler facts for this cgroup (not in the identity hierarchy)");
	ASSERT_STR(j, "status.summary", "throttled in 20.5% of 600 CFS periods (4567.9 ms held)");
	ck_assert_ptr_null(jget_opt(j, "status.observedBy"));
	/* the kernel view does not depend on either */
	ASSERT_INT(j, "status.kernelTruth.periods", 600);
	ASSERT_NUM(j, "status.kernelTruth.cpuLimitMillicores", "500");
	json_object_put(j);

	/* a usage window of no length is no usage either: no "0.0% over 0.0 s" */
	w = window();
	w.usage_end_ns = w.usage_start_ns;
	j = kg_whisper_json(&m, &w);
	ck_assert_int_eq(jkeys(j, "status.metricsView"), 1);
	ck_assert_ptr_nonnull(jget_opt(j, "status.metricsView.unavailable"));
	ASSERT_STR(j, "status.summary", "throttled in 20.5% of 600 CFS periods (4567.9 ms held)");
	json_object_put(j);

	/* ... nor one that ends before it starts */
	w.usage_end_ns = w.usage_start_ns - 1;
	j = kg_whisper_json(&m, &w);
	ck_assert_ptr_nonnull(jget_opt(j, "status.metricsView.unavailable"));
	ASSERT_STR(j, "status.summary", "throttled in 20.5% of 600 CFS periods (4567.9 ms held)");
	json_object_put(j);
}
END_TEST

START_TEST(test_zero_window)
{
	struct kg_resource_meta m = whisper_meta();
	struct kg_whisper_window w;
	json_object *j;

	/* nothing measured yet: zeros everywhere, no division by zero */
	memset(&w, 0, sizeof(w));
	w.quota_ns = UINT64_MAX;
	w.period_ns = 100 * MS;
	w.start_ns = w.end_ns = 10 * SEC;
	j = kg_whisper_json(&m, &w);
	ASSERT_NUM(j, "status.window.durationSeconds", "0.000");
	ASSERT_NUM(j, "status.kernelTruth.throttledPercent", "0.0");
	ASSERT_INT(j, "status.kernelTruth.episodes.averageNs", 0);
	ASSERT_INT(j, "status.kernelTruth.episodes.p99NsAtMost", 0);
	ck_assert_ptr_null(jget_opt(j, "status.kernelTruth.episodes.hook")); /* NULL: omitted */
	ASSERT_STR(j, "status.summary", "throttled in 0.0% of 0 CFS periods (0.0 ms held)");
	json_object_put(j);

	/* scheduler facts with no waits: average 0 */
	w.have_sched = true;
	j = kg_whisper_json(&m, &w);
	ASSERT_INT(j, "status.scheduler.runQueueDelayAverageNs", 0);
	ASSERT_INT(j, "status.scheduler.runQueueDelayP99NsAtMost", 0);
	json_object_put(j);
}
END_TEST

START_TEST(test_summary_numbers)
{
	struct kg_resource_meta m = whisper_meta();
	struct kg_whisper_window w = window();
	json_object *j;

	/* held time in milliseconds with one decimal; periods as a whole number */
	w.periods = 123456789;
	w.throttled_periods = 12345678;
	w.throttled_ns = 49999; /* 0.049999 ms */
	w.usage_ns = 59999 * MS; /* 999.98m of a 500m limit */
	j = kg_whisper_json(&m, &w);
	ASSERT_STR(j, "status.summary",
		   "throttled in 10.0% of 123456789 CFS periods (0.0 ms held) while averaging "
		   "200.0% of its 500m CPU limit over 60.0 s");
	ASSERT_NUM(j, "status.metricsView.averageMillicores", "1000.0");
	json_object_put(j);
}
END_TEST

/* The condition of the given type, checked whole. */
static void assert_condition(json_object *j, const char *type, const char *status,
			     const char *reason, const char *message, const char *when)
{
	json_object *conds = jget(j, "status.conditions");

	for (size_t i = 0; i < json_object_array_length(conds); i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (strcmp(jstr(c, "type"), type))
			continue;
		ck_assert_str_eq(jstr(c, "status"), status);
		ck_assert_str_eq(jstr(c, "reason"), reason);
		ck_assert_str_eq(jstr(c, "message"), message);
		ck_assert_str_eq(jstr(c, "lastTransitionTime"), when);
		return;
	}
	ck_abort_msg("no condition %s", type);
}

#define SHORT "throttled in 20.5% of 600 CFS periods (4567.9 ms held)"
#define SINCE "2025-11-25T16:00:02.000000Z"
#define NO_MV "no CPU usage counter or no CPU limit to compare with"

START_TEST(test_conditions)
{
	struct kg_resource_meta m = whisper_meta();
	struct kg_whisper_window w = window();
	json_object *j;

	/* throttled, and the average shows it (80% of the limit) */
	w.throttled_since_ns = 12 * SEC;
	j = kg_whisper_json(&m, &w);
	ck_assert_int_eq(json_object_array_length(jget(j, "status.conditions")), 2);
	assert_condition(j, "Throttled", "True", "CFSQuotaExhausted",
			 SHORT " while averaging 80.0% of its 500m CPU limit over 60.0 s", SINCE);
	assert_condition(j, "HiddenFromMetrics", "False", "AverageShowsIt",
			 "average use 80.0% of the limit; 20.5% of active periods throttled",
			 SINCE);
	json_object_put(j);

	/* the same throttling at 40% of the limit on average: hidden from the metrics */
	w.usage_ns = 12 * SEC;
	j = kg_whisper_json(&m, &w);
	assert_condition(j, "HiddenFromMetrics", "True", "AverageBelowLimit",
			 "average use 40.0% of the limit; 20.5% of active periods throttled",
			 SINCE);
	json_object_put(j);

	/* nothing throttled */
	w = window();
	w.throttled_since_ns = 12 * SEC;
	w.throttled_periods = 0;
	w.throttled_ns = 0;
	j = kg_whisper_json(&m, &w);
	assert_condition(j, "Throttled", "False", "NotThrottled",
			 "throttled in 0.0% of 600 CFS periods (0.0 ms held) while averaging 80.0% "
			 "of its 500m CPU limit over 60.0 s",
			 SINCE);
	assert_condition(j, "HiddenFromMetrics", "False", "AverageShowsIt",
			 "average use 80.0% of the limit; 0.0% of active periods throttled", SINCE);
	json_object_put(j);

	/* no metrics view, an empty one, or no limit: unknown, never a made-up 0% */
	w = window();
	w.throttled_since_ns = 12 * SEC;
	w.have_usage = false;
	j = kg_whisper_json(&m, &w);
	assert_condition(j, "HiddenFromMetrics", "Unknown", "NoUsageOrLimit", NO_MV, SINCE);
	json_object_put(j);
	w.have_usage = true;
	w.usage_end_ns = w.usage_start_ns;
	j = kg_whisper_json(&m, &w);
	assert_condition(j, "HiddenFromMetrics", "Unknown", "NoUsageOrLimit", NO_MV, SINCE);
	assert_condition(j, "Throttled", "True", "CFSQuotaExhausted", SHORT, SINCE);
	json_object_put(j);
	w = window();
	w.throttled_since_ns = 12 * SEC;
	w.quota_ns = UINT64_MAX;
	j = kg_whisper_json(&m, &w);
	assert_condition(j, "HiddenFromMetrics", "Unknown", "NoUsageOrLimit", NO_MV, SINCE);
	json_object_put(j);
}
END_TEST

static Suite *whisper_suite(void)
{
	Suite *s = suite_create("whisper");
	TCase *tc;

	tc = tcase_create("hist");
	tcase_add_test(tc, test_hist_empty);
	tcase_add_loop_test(tc, test_hist_single_bucket, 0, 64);
	tcase_add_test(tc, test_hist_bounds);
	tcase_add_loop_test(tc, test_hist_ranks, 0, N(rank_cases));
	tcase_add_test(tc, test_hist_median_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("limit");
	tcase_add_loop_test(tc, test_limit_millicores, 0, N(limit_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("document");
	tcase_add_test(tc, test_whisper_full);
	tcase_add_loop_test(tc, test_throttled_percent, 0, N(pct_cases));
	tcase_add_loop_test(tc, test_metrics_view, 0, N(mv_cases));
	tcase_add_test(tc, test_unavailable);
	tcase_add_test(tc, test_zero_window);
	tcase_add_test(tc, test_summary_numbers);
	tcase_add_test(tc, test_conditions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(whisper_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
