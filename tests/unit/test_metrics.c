// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_metrics.c - unit tests for agent/metrics.c: the /metrics formatter and
 * the health hooks.
 *
 * Every exposition the formatter writes is read back by a strict parser of
 * the Prometheus text format 0.0.4 written here (the integration test also
 * runs promtool on the live endpoint): HELP and TYPE once per family and
 * before its samples, families contiguous, valid metric and label names,
 * label values escaped exactly as the format allows, values that parse, no
 * duplicate series, and the naming conventions (counters end in _total and
 * nothing else does, snake_case, base units).
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* ---- a strict parser of the text format ---- */

#define MAX_FAMILIES 128
#define MAX_SERIES 20000

struct family {
	char name[128];
	char type[16];
	bool help, seen_samples, closed;
};

struct parsed {
	struct family fam[MAX_FAMILIES];
	int nfam;
	char **series;		/* "name{sorted labels}" */
	double *values;
	int nseries;
};

static char perr[512];

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
	       (!first && c >= '0' && c <= '9');
}

/* A metric (colon=true) or label name at *p; copies it to out. */
static bool parse_name(const char **p, char *out, size_t outsz, bool colon)
{
	size_t n = 0;

	if (!name_char(**p, true, colon))
		return false;
	while (name_char(**p, n == 0, colon) && n + 1 < outsz)
		out[n++] = *(*p)++;
	out[n] = 0;
	return !name_char(**p, false, colon);
}

static struct family *family_of(struct parsed *ps, const char *name)
{
	for (int i = 0; i < ps->nfam; i++)
		if (!strcmp(ps->fam[i].name, name))
			return &ps->fam[i];
	return NULL;
}

static bool parse_value(const char *s, const char **end, double *v)
{
	char *e;

	if (!strncmp(s, "NaN", 3)) {
		*v = NAN;
		*end = s + 3;
		return true;
	}
	if (!strncmp(s, "+Inf", 4) || !strncmp(s, "-Inf", 4)) {
		*v = s[0] == '+' ? INFINITY : -INFINITY;
		*end = s + 4;
		return true;
	}
	if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.'))
		return false;
	*v = strtod(s, &e);
	if (e == s)
		return false;
	*end = e;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 0, or -1 with the reason in perr. */
static int parse_exposition(const char *text, struct parsed *ps)
{
	const char *line = text;
	struct family *cur = NULL;
	int lineno = 0;

	memset(ps, 0, sizeof(*ps));
	ps->series = calloc(MAX_SERIES, sizeof(char *));
	ps->values = calloc(MAX_SERIES, sizeof(double));
	if (!*text) {
		snprintf(perr, sizeof(perr), "empty exposition");
		return -1;
	}
	while (*line) {
		const char *nl = strchr(line, '\n'), *p = line;
		char name[128];

		lineno++;
		if (!nl) {
			snprintf(perr, sizeof(perr), "line %d: no final newline", lineno);
			return -1;
		}
		if (nl == line) {
			snprintf(perr, sizeof(perr), "line %d: empty line", lineno);
			return -1;
		}
		if (*p == '#') {
			bool help = !strncmp(p, "# HELP ", 7), type = !strncmp(p, "# TYPE ", 7);
			struct family *f;

			if (!help && !type) {
				snprintf(perr, sizeof(perr), "line %d: a comment other than HELP/TYPE",
					 lineno);
				return -1;
			}
			p += 7;
			if (!parse_name(&p, name, sizeof(name), true) || *p != ' ') {
				snprintf(perr, sizeof(perr), "line %d: bad metric name", lineno);
				return -1;
			}
			p++;
			f = family_of(ps, name);
			if (!f) {
				f = &ps->fam[ps->nfam++];
				snprintf(f->name, sizeof(f->name), "%s", name);
			}
			if (f->seen_samples) {
				snprintf(perr, sizeof(perr), "line %d: %s after samples of %s", lineno,
					 help ? "HELP" : "TYPE", name);
				return -1;
			}
			if (help) {
				if (f->help) {
					snprintf(perr, sizeof(perr), "line %d: second HELP for %s", lineno,
						 name);
					return -1;
				}
				f->help = true;
				for (const char *c = p; c < nl; c++) {
					if (*c == '\\' && c[1] != '\\' && c[1] != 'n') {
						snprintf(perr, sizeof(perr), "line %d: bad escape in HELP",
							 lineno);
						return -1;
					}
					if (*c == '\\')
						c++;
				}
				if (p == nl) {
					snprintf(perr, sizeof(perr), "line %d: empty HELP", lineno);
					return -1;
				}
			} else {
				size_t tl = nl - p;

				if (f->type[0]) {
					snprintf(perr, sizeof(perr), "line %d: second TYPE for %s", lineno,
						 name);
					return -1;
				}
				if (tl >= sizeof(f->type)) {
					snprintf(perr, sizeof(perr), "line %d: bad TYPE", lineno);
					return -1;
				}
				memcpy(f->type, p, tl);
				f->type[tl] = 0;
				if (strcmp(f->type, "counter") && strcmp(f->type, "gauge") &&
				    strcmp(f->type, "histogram") && strcmp(f->type, "summary") &&
				    strcmp(f->type, "untyped")) {
					snprintf(perr, sizeof(perr), "line %d: unknown TYPE %s", lineno,
						 f->type);
					return -1;
				}
			}
			line = nl + 1;
			continue;
		}
		/* a sample */
		{
			char labels[16][2][512], key[4096];
			int nl_ = 0;
			double v;
			struct family *f;
			const char *end;
			size_t kn;

			if (!parse_name(&p, name, sizeof(name), true)) {
				snprintf(perr, sizeof(perr), "line %d: bad metric name", lineno);
				return -1;
			}
			f = family_of(ps, name);
			if (!f || !f->type[0]) {
				snprintf(perr, sizeof(perr), "line %d: %s has no TYPE before it", lineno,
					 name);
				return -1;
			}
			if (f->closed || (cur && cur != f && cur->seen_samples && f->seen_samples)) {
				snprintf(perr, sizeof(perr), "line %d: samples of %s are not contiguous",
					 lineno, name);
				return -1;
			}
			if (cur && cur != f)
				cur->closed = true;
			cur = f;
			f->seen_samples = true;
			if (*p == '{') {
				p++;
				while (*p != '}') {
					size_t vn = 0;

					if (nl_ == 16 ||
					    !parse_name(&p, labels[nl_][0], sizeof(labels[0][0]), false) ||
					    !strncmp(labels[nl_][0], "__", 2) || *p != '=' || p[1] != '"') {
						snprintf(perr, sizeof(perr), "line %d: bad label", lineno);
						return -1;
					}
					for (int i = 0; i < nl_; i++)
						if (!strcmp(labels[i][0], labels[nl_][0])) {
							snprintf(perr, sizeof(perr),
								 "line %d: duplicate label %.64s", lineno,
								 labels[i][0]);
							return -1;
						}
					p += 2;
					while (*p != '"') {
						if (p >= nl) {
							snprintf(perr, sizeof(perr),
								 "line %d: unterminated label value", lineno);
							return -1;
						}
						if (*p == '\\') {
							if (p[1] != '\\' && p[1] != '"' && p[1] != 'n') {
								snprintf(perr, sizeof(perr),
									 "line %d: bad escape in label", lineno);
								return -1;
							}
							labels[nl_][1][vn++] = p[1] == 'n' ? '\n' : p[1];
							p += 2;
						} else {
							labels[nl_][1][vn++] = *p++;
						}
						if (vn >= sizeof(labels[0][1]) - 1) {
							snprintf(perr, sizeof(perr), "line %d: label too long",
								 lineno);
							return -1;
						}
					}
					labels[nl_][1][vn] = 0;
					nl_++;
					p++;
					if (*p == ',')
						p++;
					else if (*p != '}') {
						snprintf(perr, sizeof(perr), "line %d: expected , or }", lineno);
						return -1;
					}
				}
				p++;
			}
			if (*p != ' ' || !parse_value(p + 1, &end, &v)) {
				snprintf(perr, sizeof(perr), "line %d: bad value", lineno);
				return -1;
			}
			if (end != nl) {	/* an optional timestamp: an integer */
				char *e;

				if (*end != ' ' || (strtoll(end + 1, &e, 10), e != nl)) {
					snprintf(perr, sizeof(perr), "line %d: junk after the value", lineno);
					return -1;
				}
			}
			/* the series key: name and labels sorted by name */
			for (int i = 1; i < nl_; i++)
				for (int j = i; j > 0 && strcmp(labels[j - 1][0], labels[j][0]) > 0; j--) {
					char t[2][512];

					memcpy(t, labels[j], sizeof(t));
					memcpy(labels[j], labels[j - 1], sizeof(t));
					memcpy(labels[j - 1], t, sizeof(t));
				}
			kn = snprintf(key, sizeof(key), "%s{", name);
			for (int i = 0; i < nl_; i++)
				kn += snprintf(key + kn, sizeof(key) - kn, "%s=%s,", labels[i][0],
					       labels[i][1]);
			snprintf(key + kn, sizeof(key) - kn, "}");
			if (ps->nseries == MAX_SERIES) {
				snprintf(perr, sizeof(perr), "too many series");
				return -1;
			}
			ps->values[ps->nseries] = v;
			ps->series[ps->nseries++] = strdup(key);
		}
		line = nl + 1;
	}
	/* no series twice */
	{
		char **sorted = malloc(ps->nseries * sizeof(char *) + 1);

		memcpy(sorted, ps->series, ps->nseries * sizeof(char *));
		qsort(sorted, ps->nseries, sizeof(char *), cmp_str);
		for (int i = 1; i < ps->nseries; i++)
			if (!strcmp(sorted[i - 1], sorted[i])) {
				snprintf(perr, sizeof(perr), "duplicate series %.400s", sorted[i]);
				free(sorted);
				return -1;
			}
		free(sorted);
	}
	/* conventions, as promtool's linter has them */
	for (int i = 0; i < ps->nfam; i++) {
		const struct family *f = &ps->fam[i];
		size_t n = strlen(f->name);
		bool total = n > 6 && !strcmp(f->name + n - 6, "_total");

		if (!f->help || !f->type[0]) {
			snprintf(perr, sizeof(perr), "%s: no HELP or TYPE", f->name);
			return -1;
		}
		if (!strcmp(f->type, "counter") != total) {
			snprintf(perr, sizeof(perr), "%s: counters end in _total, nothing else does",
				 f->name);
			return -1;
		}
		for (const char *c = f->name; *c; c++)
			if (*c >= 'A' && *c <= 'Z') {
				snprintf(perr, sizeof(perr), "%s: not snake_case", f->name);
				return -1;
			}
		if (strstr(f->name, "_ms") || strstr(f->name, "millis") || strstr(f->name, "_ns") ||
		    strstr(f->name, "nanos")) {
			snprintf(perr, sizeof(perr), "%s: not a base unit", f->name);
			return -1;
		}
		if (strncmp(f->name, "kernel_gossip_", 14)) {
			snprintf(perr, sizeof(perr), "%s: no kernel_gossip_ prefix", f->name);
			return -1;
		}
	}
	return 0;
}

static void parsed_free(struct parsed *ps)
{
	for (int i = 0; i < ps->nseries; i++)
		free(ps->series[i]);
	free(ps->series);
	free(ps->values);
}

/* The value of the series with exactly this key, or NAN when absent. */
static double value_of(const struct parsed *ps, const char *key)
{
	for (int i = 0; i < ps->nseries; i++)
		if (!strcmp(ps->series[i], key))
			return ps->values[i];
	return NAN;
}

static int count_prefix(const struct parsed *ps, const char *prefix)
{
	int n = 0;

	for (int i = 0; i < ps->nseries; i++)
		n += !strncmp(ps->series[i], prefix, strlen(prefix));
	return n;
}

static char *format_ok(const struct kg_metrics_snap *s, struct parsed *ps)
{
	size_t len = 0;
	char *text = kg_metrics_format(s, &len);

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_msg(parse_exposition(text, ps) == 0, "%s", perr);
	return text;
}

/* ---- the parser itself refuses what it should ---- */

START_TEST(test_parser_refuses)
{
	static const char *const bad[] = {
		"",
		"kernel_gossip_x 1\n",					/* no TYPE */
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\nkernel_gossip_x 1",
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\nkernel_gossip_x{a=\"b} 1\n",
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\nkernel_gossip_x{a=\"\\t\"} 1\n",
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\nkernel_gossip_x one\n",
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\nkernel_gossip_x 1\n"
		"kernel_gossip_x 2\n",					/* duplicate */
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x counter\nkernel_gossip_x 1\n",
		"# HELP kernel_gossip_x_total h\n# TYPE kernel_gossip_x_total gauge\n"
		"kernel_gossip_x_total 1\n",
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\nkernel_gossip_x{a=\"1\",a=\"2\"} 1\n",
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\nkernel_gossip_x{__a=\"1\"} 1\n",
		"# HELP kernel_gossip_latency_ms h\n# TYPE kernel_gossip_latency_ms gauge\n"
		"kernel_gossip_latency_ms 1\n",
		"# HELP kernel_gossip_a h\n# TYPE kernel_gossip_a gauge\n# HELP kernel_gossip_b h\n"
		"# TYPE kernel_gossip_b gauge\nkernel_gossip_a 1\nkernel_gossip_b 1\n"
		"kernel_gossip_a{x=\"1\"} 1\n",				/* not contiguous */
		"# TYPE kernel_gossip_x gauge\nkernel_gossip_x 1\n",	/* no HELP */
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\nkernel_gossip_x 1 x\n",
		"# HELP kernel_gossip_x h\n# TYPE kernel_gossip_x gauge\n\nkernel_gossip_x 1\n",
	};
	struct parsed ps;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse_exposition(bad[i], &ps) == -1, "accepted case %zu", i);
		parsed_free(&ps);
	}
	ck_assert_int_eq(parse_exposition("# HELP kernel_gossip_x a \\\\ b\\n\n# TYPE kernel_gossip_x "
					  "gauge\nkernel_gossip_x{a=\"q\\\"\\\\\\n\",} NaN 123\n",
					  &ps),
			 0);
	ck_assert_int_eq(ps.nseries, 1);
	ck_assert_str_eq(ps.series[0], "kernel_gossip_x{a=q\"\\\n,}");
	parsed_free(&ps);
}
END_TEST

/* ---- the formatter ---- */

static uint64_t drops[4] = { 0, 7, 0, 1 };

static void base_snap(struct kg_metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->version = "v0.1-test";
	s->kernel = "6.18.44";
	s->start_time_s = 1795625586.25;
	s->ready = true;
	for (int t = 0; t < KG_EV_TYPE_MAX; t++)
		s->events[t] = 100 + t;
	s->counters[KG_CNT_RB_DROP] = 8;
	s->counters[KG_CNT_EVENTS] = 12345;
	s->counters[KG_CNT_BIRTH_MAP_FULL] = 2;
	s->nr_cpus = 4;
	s->drops_per_cpu = drops;
	s->nprogs = 2;
	snprintf(s->progs[0].name, sizeof(s->progs[0].name), "kg_sched_switch");
	s->progs[0].attached = true;
	s->progs[0].run_time_ns = 1500000000;
	s->progs[0].run_cnt = 30000000;
	snprintf(s->progs[1].name, sizeof(s->progs[1].name), "kg_sys_enter");
	s->bpf_stats_enabled = true;
	s->births_recorded = 5;
	s->written_certificates = 5;
	s->written_whispers = 11;
	s->debug_dropped[1] = 3;
	s->watch_events_dropped = 44;
}

START_TEST(test_agent_families)
{
	struct kg_metrics_snap s;
	struct parsed ps;
	char *text;

	kg_metrics_hooks_reset();
	base_snap(&s);
	text = format_ok(&s, &ps);
	ck_assert(value_of(&ps, "kernel_gossip_build_info{kernel=6.18.44,version=v0.1-test,}") == 1);
	ck_assert(value_of(&ps, "kernel_gossip_start_time_seconds{}") == 1795625586.25);
	ck_assert(value_of(&ps, "kernel_gossip_ready{}") == 1);
	ck_assert(value_of(&ps, "kernel_gossip_events_total{type=exec,}") == 100 + KG_EV_EXEC);
	ck_assert(value_of(&ps, "kernel_gossip_events_total{type=listen,}") == 100 + KG_EV_LISTEN);
	ck_assert_int_eq(count_prefix(&ps, "kernel_gossip_events_total{"), KG_EV_TYPE_MAX - 1);
	/* drops per CPU: every CPU, zeros included (a CPU without drops is a fact too) */
	ck_assert_int_eq(count_prefix(&ps, "kernel_gossip_ring_drops_total{"), 4);
	ck_assert(value_of(&ps, "kernel_gossip_ring_drops_total{cpu=1,}") == 7);
	ck_assert(value_of(&ps, "kernel_gossip_ring_drops_total{cpu=3,}") == 1);
	ck_assert(value_of(&ps, "kernel_gossip_bpf_events_submitted_total{}") == 12345);
	ck_assert(value_of(&ps, "kernel_gossip_bpf_map_full_total{map=births_map_full,}") == 2);
	/* run time in seconds, the base unit */
	ck_assert(value_of(&ps, "kernel_gossip_bpf_program_run_seconds_total{program=kg_sched_switch,}") ==
		  1.5);
	ck_assert(value_of(&ps, "kernel_gossip_bpf_program_runs_total{program=kg_sched_switch,}") ==
		  30000000);
	ck_assert(value_of(&ps, "kernel_gossip_bpf_program_attached{program=kg_sys_enter,}") == 0);
	ck_assert(value_of(&ps, "kernel_gossip_resources_written_total{kind=KernelWhisper,}") == 11);
	ck_assert(value_of(&ps, "kernel_gossip_births_total{outcome=recorded,}") == 5);
	ck_assert(value_of(&ps, "kernel_gossip_debug_clients_dropped_total{reason=too_many_clients,}") ==
		  3);
	ck_assert(value_of(&ps, "kernel_gossip_debug_watch_events_dropped_total{}") == 44);
	ck_assert(value_of(&ps, "kernel_gossip_sink_queue_depth{}") == 0);
	/* no answer yet from any API server: one series saying so, no invented codes */
	ck_assert_int_eq(count_prefix(&ps, "kernel_gossip_api_requests_total{"), 1);
	ck_assert(value_of(&ps, "kernel_gossip_api_requests_total{code=none,}") == 0);
	/* the content is what Prometheus expects: families start with HELP */
	ck_assert(!strncmp(text, "# HELP kernel_gossip_build_info ", 32));
	parsed_free(&ps);
	free(text);
}
END_TEST

START_TEST(test_api_codes)
{
	struct kg_metrics_snap s;
	struct parsed ps;
	char *text;

	kg_metrics_hooks_reset();
	for (int i = 0; i < 3; i++)
		kg_metrics_count_api(200);
	kg_metrics_count_api(201);
	kg_metrics_count_api(429);
	kg_metrics_count_api(-1);	/* no answer */
	kg_metrics_count_api(0);
	kg_metrics_count_api(999);	/* not an HTTP code: no answer worth a label */
	ck_assert_uint_eq(kg_metrics_api_count(200), 3);
	ck_assert_uint_eq(kg_metrics_api_count(0), 3);
	base_snap(&s);
	s.queue_depth = 17;
	text = format_ok(&s, &ps);
	ck_assert(value_of(&ps, "kernel_gossip_api_requests_total{code=200,}") == 3);
	ck_assert(value_of(&ps, "kernel_gossip_api_requests_total{code=201,}") == 1);
	ck_assert(value_of(&ps, "kernel_gossip_api_requests_total{code=429,}") == 1);
	ck_assert(value_of(&ps, "kernel_gossip_api_requests_total{code=none,}") == 3);
	ck_assert_int_eq(count_prefix(&ps, "kernel_gossip_api_requests_total{"), 4);
	ck_assert(value_of(&ps, "kernel_gossip_sink_queue_depth{}") == 17);
	parsed_free(&ps);
	free(text);
	kg_metrics_hooks_reset();
}
END_TEST

START_TEST(test_pods)
{
	struct kg_metrics_cfs cfs[3];
	struct kg_metrics_birth births[2];
	struct kg_metrics_snap s;
	struct parsed ps;
	char *text;

	memset(cfs, 0, sizeof(cfs));
	memset(births, 0, sizeof(births));
	base_snap(&s);
	/* the pod's own cgroup (no container label), one container, and a hostile pod name */
	snprintf(cfs[0].pod_uid, sizeof(cfs[0].pod_uid), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	cfs[0].periods = 68;
	cfs[0].throttled_periods = 60;
	cfs[0].throttled_ns = 8283394000ULL;
	cfs[0].quota_ns = 50000000;
	cfs[0].period_ns = 100000000;
	cfs[1] = cfs[0];
	snprintf(cfs[1].container_id, sizeof(cfs[1].container_id), "17c423947324");
	cfs[1].quota_ns = UINT64_MAX;	/* no limit: no limit series */
	snprintf(cfs[2].pod_uid, sizeof(cfs[2].pod_uid), "11111111-2222-3333-4444-555555555555");
	snprintf(cfs[2].namespace_, sizeof(cfs[2].namespace_), "team-a");
	snprintf(cfs[2].pod, sizeof(cfs[2].pod), "we\"ird\\pod\nname");
	s.cfs = cfs;
	s.ncfs = 3;
	s.cfs_omitted = 12;
	births[0] = (struct kg_metrics_birth){ .syscalls = 1022, .starts = 2 };
	snprintf(births[0].pod_uid, sizeof(births[0].pod_uid), "%s", cfs[0].pod_uid);
	births[1] = (struct kg_metrics_birth){ .syscalls = 0, .starts = 1 };
	snprintf(births[1].pod_uid, sizeof(births[1].pod_uid), "%s", cfs[2].pod_uid);
	snprintf(births[1].namespace_, sizeof(births[1].namespace_), "team-a");
	snprintf(births[1].pod, sizeof(births[1].pod), "web-1");
	s.births = births;
	s.nbirths = 2;
	text = format_ok(&s, &ps);

	ck_assert(value_of(&ps, "kernel_gossip_pod_cpu_throttled_periods_total{pod_uid=0f1e2d3c-4b5a-"
				"6978-8796-a5b4c3d2e1f0,}") == 60);
	ck_assert(value_of(&ps, "kernel_gossip_pod_cpu_periods_total{container_id=17c423947324,"
				"pod_uid=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0,}") == 68);
	ck_assert(fabs(value_of(&ps, "kernel_gossip_pod_cpu_throttled_seconds_total{pod_uid=0f1e2d3c-"
				     "4b5a-6978-8796-a5b4c3d2e1f0,}") -
		       8.283394) < 1e-9);
	ck_assert(value_of(&ps, "kernel_gossip_pod_cpu_limit_cores{pod_uid=0f1e2d3c-4b5a-6978-8796-"
				"a5b4c3d2e1f0,}") == 0.5);
	ck_assert_int_eq(count_prefix(&ps, "kernel_gossip_pod_cpu_limit_cores{"), 1);
	/* the hostile name arrives intact through the escaping */
	ck_assert(value_of(&ps, "kernel_gossip_pod_cpu_periods_total{namespace=team-a,pod=we\"ird\\pod\n"
				"name,pod_uid=11111111-2222-3333-4444-555555555555,}") == 0);
	ck_assert_ptr_nonnull(strstr(text, "pod=\"we\\\"ird\\\\pod\\nname\""));
	ck_assert(value_of(&ps, "kernel_gossip_pod_birth_syscalls{pod_uid=0f1e2d3c-4b5a-6978-8796-"
				"a5b4c3d2e1f0,}") == 1022);
	ck_assert(value_of(&ps, "kernel_gossip_pod_birth_containers{namespace=team-a,pod=web-1,"
				"pod_uid=11111111-2222-3333-4444-555555555555,}") == 1);
	ck_assert(value_of(&ps, "kernel_gossip_metrics_pod_series_omitted{group=cpu,}") == 12);
	parsed_free(&ps);
	free(text);
}
END_TEST

START_TEST(test_many_pods)
{
	struct kg_metrics_cfs *cfs = calloc(KG_METRICS_MAX_PODS, sizeof(*cfs));
	struct kg_metrics_birth *births = calloc(KG_METRICS_MAX_PODS, sizeof(*births));
	struct kg_metrics_snap s;
	struct parsed ps;
	char *text;

	base_snap(&s);
	for (int i = 0; i < KG_METRICS_MAX_PODS; i++) {
		snprintf(cfs[i].pod_uid, sizeof(cfs[i].pod_uid), "%08x-0000-0000-0000-000000000000", i);
		cfs[i].periods = i;
		snprintf(births[i].pod_uid, sizeof(births[i].pod_uid), "%s", cfs[i].pod_uid);
		births[i].starts = 1;
	}
	s.cfs = cfs;
	s.ncfs = KG_METRICS_MAX_PODS;
	s.births = births;
	s.nbirths = KG_METRICS_MAX_PODS;
	text = format_ok(&s, &ps);
	ck_assert_int_eq(count_prefix(&ps, "kernel_gossip_pod_cpu_periods_total{"),
			 KG_METRICS_MAX_PODS);
	ck_assert_int_eq(count_prefix(&ps, "kernel_gossip_pod_birth_syscalls{"), KG_METRICS_MAX_PODS);
	/* bounded: the whole exposition of a full node stays well under a megabyte */
	ck_assert_uint_lt(strlen(text), 1u << 20);
	parsed_free(&ps);
	free(text);
	free(cfs);
	free(births);
}
END_TEST

START_TEST(test_writer)
{
	struct kg_prom p = { 0 };

	kg_prom_family(&p, "kernel_gossip_x", "gauge", "a \\ b\nc");
	kg_prom_dbl(&p, "kernel_gossip_x", NAN, 1, "k", "nan");
	kg_prom_dbl(&p, "kernel_gossip_x", INFINITY, 1, "k", "inf");
	kg_prom_dbl(&p, "kernel_gossip_x", -INFINITY, 1, "k", "-inf");
	kg_prom_dbl(&p, "kernel_gossip_x", 0.1, 1, "k", "tenth");
	kg_prom_u64(&p, "kernel_gossip_x", UINT64_MAX, 2, "k", "max", "empty", "");
	kg_prom_u64(&p, "kernel_gossip_x", 1, 2, "k", NULL, "j", "only");
	ck_assert_str_eq(p.buf, "# HELP kernel_gossip_x a \\\\ b\\nc\n"
				"# TYPE kernel_gossip_x gauge\n"
				"kernel_gossip_x{k=\"nan\"} NaN\n"
				"kernel_gossip_x{k=\"inf\"} +Inf\n"
				"kernel_gossip_x{k=\"-inf\"} -Inf\n"
				"kernel_gossip_x{k=\"tenth\"} 0.10000000000000001\n"
				"kernel_gossip_x{k=\"max\"} 18446744073709551615\n"
				"kernel_gossip_x{j=\"only\"} 1\n");
	free(p.buf);
	ck_assert_str_eq(kg_event_type_name(KG_EV_CGROUP_MKDIR), "cgroup_mkdir");
	ck_assert_ptr_null(kg_event_type_name(0));
	ck_assert_ptr_null(kg_event_type_name(KG_EV_TYPE_MAX));
	ck_assert_str_eq(kg_counter_name(KG_CNT_RB_DROP), "ring_drop");
	ck_assert_str_eq(kg_counter_name(KG_CNT_MAX), "unknown");
}
END_TEST

/* ---- readiness ---- */

START_TEST(test_ready)
{
	char why[128];

	kg_metrics_hooks_reset();
	ck_assert(!kg_ready());	/* programs not attached yet */
	kg_ready_explain(why, sizeof(why));
	ck_assert_str_eq(why, "programs not attached");
	kg_ready_set(KG_READY_PROGRAMS, true);
	ck_assert(kg_ready());
	kg_ready_explain(why, sizeof(why));
	ck_assert_str_eq(why, "");
	/* a gate set before it is required does not count against readiness ... */
	kg_ready_set(KG_READY_POD_CACHE, false);
	ck_assert(kg_ready());
	/* ... once required, it does */
	kg_ready_require(KG_READY_POD_CACHE);
	ck_assert(!kg_ready());
	kg_ready_explain(why, sizeof(why));
	ck_assert_str_eq(why, "pod cache not synced");
	kg_ready_set(KG_READY_PROGRAMS, false);
	kg_ready_explain(why, sizeof(why));
	ck_assert_str_eq(why, "programs not attached, pod cache not synced");
	kg_ready_set(KG_READY_PROGRAMS, true);
	kg_ready_set(KG_READY_POD_CACHE, true);
	ck_assert(kg_ready());
	/* the API state string */
	kg_metrics_set_api_state("pod cache synced");
	kg_metrics_api_state(why, sizeof(why));
	ck_assert_str_eq(why, "pod cache synced");
	kg_metrics_hooks_reset();
	kg_metrics_api_state(why, sizeof(why));
	ck_assert_str_eq(why, "");
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_parser_refuses);
	tcase_add_test(tc, test_agent_families);
	tcase_add_test(tc, test_api_codes);
	tcase_add_test(tc, test_pods);
	tcase_add_test(tc, test_many_pods);
	tcase_add_test(tc, test_writer);
	suite_add_tcase(s, tc);
	tc = tcase_create("health");
	tcase_add_test(tc, test_ready);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
