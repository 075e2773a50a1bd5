/* SPDX-License-Identifier: GPL-2.0 */
/*
 * introspect.h - read-only views of a running engine for operators: what the
 * debug socket's status and cgroups requests answer, what /metrics exposes,
 * what a watch event says about a birth. The debug socket and the HTTP
 * endpoint use these and nothing else of the engine; nothing here changes
 * the engine (the kernel maps are only looked up). Runs on the loop thread.
 */
#ifndef KG_INTROSPECT_H
#define KG_INTROSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "engine.h"
#include "metrics.h"

#define KG_VIEW_MAX_ROWS 2000	/* entries per list in a cgroups answer */

/* Agent, kernel, BTF, hooks chosen and why, programs, counters, births, API server. */
json_object *kg_view_status(struct kg_engine *e);

/* Tracked cgroups, open births (with the kernel's counts so far), throttling windows. */
json_object *kg_view_cgroups(struct kg_engine *e, const char *pod_uid);

/* One line of a watch stream about a birth ("birth.opened", "birth.settled"). */
json_object *kg_view_birth_event(struct kg_engine *e, const char *event, const struct kg_cg *cg,
				 const struct kg_birth *b);

/* Fill s (its cfs and births arrays are malloc'd: kg_view_metrics_free). */
int kg_view_metrics(struct kg_engine *e, struct kg_metrics_snap *s);
void kg_view_metrics_free(struct kg_metrics_snap *s);

/* Namespace and name of the pod with this uid, when the Kubernetes pod cache knows it. */
bool kg_view_pod_names(struct kg_engine *e, const char *uid, char *ns, size_t nssz, char *name,
		       size_t namesz);

/* Seconds since the engine started. */
double kg_view_uptime_s(const struct kg_engine *e);

#endif /* KG_INTROSPECT_H */
