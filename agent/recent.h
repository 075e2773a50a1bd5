/* SPDX-License-Identifier: GPL-2.0 */
/*
 * recent.h - the last documents the agent wrote, kept in memory for the debug
 * socket (births, whispers, explain): at most KG_RECENT_MAX per kind, one per
 * object name (a rewrite replaces the older copy and becomes the newest).
 * Each is a private deep copy, so no sink can change it afterwards. Pure.
 */
#ifndef KG_RECENT_H
#define KG_RECENT_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "resource.h"

#define KG_RECENT_MAX 32

struct kg_recent_doc {
	char name[KG_NAME_MAX];
	json_object *doc;
	int64_t written_ns;		/* wall clock */
	uint64_t seq;			/* higher is newer */
};

struct kg_recent {
	struct kg_recent_doc d[KG_RECENT_MAX];
	unsigned n;
	uint64_t seq;
};

void kg_recent_init(struct kg_recent *r);
void kg_recent_fini(struct kg_recent *r);

/* Keep a copy of doc as name; the oldest goes when full. Returns 0 or -ENOMEM. */
int kg_recent_put(struct kg_recent *r, const char *name, json_object *doc, int64_t wall_ns);

/* Up to max documents, newest first; returns how many. */
unsigned kg_recent_list(const struct kg_recent *r, const struct kg_recent_doc **out,
			unsigned max);

/*
 * Does doc concern pod? pod is a pod uid, a pod name, namespace/name, or the
 * resource's own name.
 */
bool kg_recent_doc_matches(json_object *doc, const char *pod);

/* The newest document concerning pod, or NULL. */
const struct kg_recent_doc *kg_recent_find_pod(const struct kg_recent *r, const char *pod);

#endif /* KG_RECENT_H */
