// SPDX-License-Identifier: GPL-2.0
/*
 * recent.c - see recent.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "recent.h"

void kg_recent_init(struct kg_recent *r)
{
	memset(r, 0, sizeof(*r));
}

void kg_recent_fini(struct kg_recent *r)
{
	for (unsigned i = 0; i < r->n; i++)
		json_object_put(r->d[i].doc);
	memset(r, 0, sizeof(*r));
}

int kg_recent_put(struct kg_recent *r, const char *name, json_object *doc, int64_t wall_ns)
{
	json_object *copy = NULL;
	unsigned slot = r->n;

	if (json_object_deep_copy(doc, &copy, NULL) || !copy)
		return -ENOMEM;
	for (unsigned i = 0; i < r->n; i++) {
		if (!strcmp(r->d[i].name, name)) {
			slot = i;
			break;
		}
	}
	if (slot == r->n && r->n == KG_RECENT_MAX) {
		slot = 0;	/* the oldest */
		for (unsigned i = 1; i < r->n; i++)
			if (r->d[i].seq < r->d[slot].seq)
				slot = i;
	}
	if (slot < r->n)
		json_object_put(r->d[slot].doc);
	else
		r->n++;
	snprintf(r->d[slot].name, sizeof(r->d[slot].name), "%s", name);
	r->d[slot].doc = copy;
	r->d[slot].written_ns = wall_ns;
	r->d[slot].seq = ++r->seq;
	return 0;
}

unsigned kg_recent_list(const struct kg_recent *r, const struct kg_recent_doc **out,
			unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->n; i++) {
		const struct kg_recent_doc *d = &r->d[i];
		unsigned j;

		/* insertion by seq, newest first; bounded by KG_RECENT_MAX */
		for (j = n; j > 0 && out[j - 1]->seq < d->seq; j--)
			if (j < max)
				out[j] = out[j - 1];
		if (j < max) {
			out[j] = d;
			if (n < max)
				n++;
		}
	}
	return n;
}

static const char *kg_str_at(json_object *doc, const char *obj, const char *key)
{
	json_object *o, *v;

	if (!json_object_object_get_ex(doc, obj, &o) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

bool kg_recent_doc_matches(json_object *doc, const char *pod)
{
	const char *uid = kg_str_at(doc, "spec", "podUID");
	const char *name = kg_str_at(doc, "spec", "podName");
	const char *ns = kg_str_at(doc, "spec", "podNamespace");
	const char *slash = strchr(pod, '/');

	if (!*pod)
		return false;
	if (!strcmp(uid, pod) || !strcmp(name, pod) ||
	    !strcmp(kg_str_at(doc, "metadata", "name"), pod))
		return true;
	return slash && *ns && strlen(ns) == (size_t)(slash - pod) &&
	       !strncmp(ns, pod, slash - pod) && !strcmp(name, slash + 1);
}

const struct kg_recent_doc *kg_recent_find_pod(const struct kg_recent *r, const char *pod)
{
	const struct kg_recent_doc *best = NULL;

	for (unsigned i = 0; i < r->n; i++) {
		if ((!best || r->d[i].seq > best->seq) && kg_recent_doc_matches(r->d[i].doc, pod))
			best = &r->d[i];
	}
	return best;
}
