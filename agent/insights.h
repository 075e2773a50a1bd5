/* SPDX-License-Identifier: GPL-2.0 */
/*
 * insights.h - turn measured facts into short, true explanations: severity,
 * a headline, the evidence (numbers with units), the impact and a
 * recommendation. Pure functions: facts in, insights out; every number in a
 * sentence is one of the facts or computed from them here, never typed in.
 * The rules and their thresholds are documented in README.md ("Insights").
 */
#ifndef KG_INSIGHTS_H
#define KG_INSIGHTS_H

#include <json-c/json.h>
#include "birth.h"
#include "whisper.h"

enum kg_severity { KG_SEV_INFO = 1, KG_SEV_WARNING, KG_SEV_CRITICAL };

#define KG_MAX_EVIDENCE 12
#define KG_MAX_INSIGHTS 6

struct kg_evidence {
	const char *name;
	double value;
	const char *unit;
};

struct kg_insight {
	enum kg_severity severity;
	const char *rule;
	char headline[256];
	char impact[512];
	char recommendation[512];
	unsigned nevidence;
	struct kg_evidence evidence[KG_MAX_EVIDENCE];
};

/* Thresholds of the CPU-throttling rules (README.md, "Insights"). */
#define KG_THR_WARN_SHARE 20.0		/* % of active periods throttled */
#define KG_THR_CRIT_SHARE 50.0
#define KG_THR_WARN_HOLD_MS 2.0		/* runqueue time held per throttled period */
#define KG_THR_CRIT_HOLD_MS 10.0
#define KG_THR_WARN_P99_MS 20.0		/* p99 run-queue delay of the cgroup's tasks */
#define KG_THR_CRIT_P99_MS 100.0
#define KG_THR_HIDDEN_UTIL 60.0		/* average use below this % of the limit: metrics hide it */

/* Insights of a throttling window; returns how many (0 when nothing was throttled). */
unsigned kg_whisper_insights(const struct kg_whisper_window *w, struct kg_insight *out,
			     unsigned max);

/* Insights of a settled birth. */
unsigned kg_birth_insights(const struct kg_birth *b, struct kg_insight *out, unsigned max);

/*
 * The limit (millicores) covering quantile q of the window's per-period
 * demand; 0 if unknown. Demands of 10 x the limit or more are all reported
 * as exactly 10 x the limit: a lower bound.
 */
double kg_demand_millicores(const struct kg_whisper_window *w, double q);

const char *kg_severity_name(enum kg_severity s);
json_object *kg_insights_json(const struct kg_insight *in, unsigned n);

#endif /* KG_INSIGHTS_H */
