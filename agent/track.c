// SPDX-License-Identifier: GPL-2.0
/*
 * track.c - see track.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "track.h"

static unsigned kg_bucket(uint64_t id)
{
	return (unsigned)((id * 0x9E3779B97F4A7C15ULL) >> 52) % KG_TRACK_BUCKETS;
}

void kg_track_init(struct kg_track *t)
{
	memset(t, 0, sizeof(*t));
}

static void kg_pod_free(struct kg_pod *p)
{
	for (unsigned i = 0; i < p->nbirths; i++)
		kg_birth_free(p->births[i]);
	free(p);
}

void kg_track_fini(struct kg_track *t)
{
	for (unsigned b = 0; b < KG_TRACK_BUCKETS; b++) {
		for (struct kg_cg *cg = t->buckets[b], *n; cg; cg = n) {
			n = cg->next;
			kg_birth_free(cg->birth);
			free(cg);
		}
	}
	for (struct kg_pod *p = t->pods, *n; p; p = n) {
		n = p->next;
		kg_pod_free(p);
	}
	memset(t, 0, sizeof(*t));
}

struct kg_cg *kg_track_find(struct kg_track *t, uint64_t id)
{
	for (struct kg_cg *cg = t->buckets[kg_bucket(id)]; cg; cg = cg->next) {
		if (cg->id == id)
			return cg;
	}
	return NULL;
}

/* The path of the pod-level cgroup that a container or pod path sits in. */
static void kg_pod_key(const char *path, const struct kg_cgroup_identity *id, char *key,
		       size_t keysz, bool *is_pod)
{
	*is_pod = id->pod_uid[0] != 0;
	snprintf(key, keysz, "%s", *is_pod ? id->pod_uid : path);
}

static struct kg_pod *kg_track_pod(struct kg_track *t, const char *path,
				   const struct kg_cgroup_identity *id)
{
	char key[KG_PATH_LEN];
	struct kg_pod *p;
	bool is_pod;

	kg_pod_key(path, id, key, sizeof(key), &is_pod);
	for (p = t->pods; p; p = p->next) {
		if (!strcmp(p->key, key))
			return p;
	}
	if (t->npods >= KG_TRACK_MAX_PODS)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->is_pod = is_pod;
	p->ident = *id;
	if (is_pod)
		snprintf(p->base_name, sizeof(p->base_name), "pod-%s", id->pod_uid);
	else if (kg_cgroup_object_name(path, p->base_name, sizeof(p->base_name),
				       KG_OBJECT_NAME_MAX - 13) < 0)
		snprintf(p->base_name, sizeof(p->base_name), "cgroup");
	p->next = t->pods;
	t->pods = p;
	t->npods++;
	return p;
}

static void kg_track_unref_pod(struct kg_track *t, struct kg_pod *p)
{
	if (!p || --p->refs)
		return;
	for (struct kg_pod **pp = &t->pods; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	t->npods--;
	kg_pod_free(p);
}

struct kg_cg *kg_track_add(struct kg_track *t, uint64_t id, const char *path)
{
	struct kg_cgroup_identity ident;
	struct kg_cg *cg = kg_track_find(t, id);
	unsigned b;

	if (cg)
		return cg;
	if (kg_cgroup_parse(path, &ident) || strlen(path) >= KG_PATH_LEN)
		return NULL;
	if (t->ncgroups >= KG_TRACK_MAX_CGROUPS) {
		t->cgroups_refused++;
		return NULL;
	}
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return NULL;
	cg->id = id;
	snprintf(cg->path, sizeof(cg->path), "%s", path);
	cg->ident = ident;
	/* the kube root and QoS levels belong to no pod */
	if (ident.kind == KG_CG_POD || ident.kind == KG_CG_CONTAINER || ident.kind == KG_CG_OTHER) {
		cg->pod = kg_track_pod(t, path, &ident);
		if (cg->pod)
			cg->pod->refs++;
	}
	b = kg_bucket(id);
	cg->next = t->buckets[b];
	t->buckets[b] = cg;
	t->ncgroups++;
	return cg;
}

void kg_track_remove(struct kg_track *t, uint64_t id)
{
	for (struct kg_cg **pp = &t->buckets[kg_bucket(id)]; *pp; pp = &(*pp)->next) {
		struct kg_cg *cg = *pp;

		if (cg->id != id)
			continue;
		*pp = cg->next;
		kg_track_set_birth(t, cg, NULL);
		kg_track_unref_pod(t, cg->pod);
		free(cg);
		t->ncgroups--;
		return;
	}
}

void kg_track_set_birth(struct kg_track *t, struct kg_cg *cg, struct kg_birth *b)
{
	if (cg->birth && !b) {
		t->open_births--;
		kg_birth_free(cg->birth);
	} else if (!cg->birth && b) {
		t->open_births++;
	}
	cg->birth = b;
}

void kg_track_keep_settled(struct kg_track *t, struct kg_cg *cg, struct kg_birth *b)
{
	struct kg_pod *p = cg->pod;
	unsigned i;

	if (cg->birth == b) {
		cg->birth = NULL;
		t->open_births--;
	}
	if (!p) {
		kg_birth_free(b);
		return;
	}
	if (p->nbirths == KG_POD_MAX_BIRTHS) {	/* a restarting container: keep the newest */
		kg_birth_free(p->births[0]);
		memmove(&p->births[0], &p->births[1], (KG_POD_MAX_BIRTHS - 1) * sizeof(p->births[0]));
		memmove(p->container_ids[0], p->container_ids[1],
			(KG_POD_MAX_BIRTHS - 1) * sizeof(p->container_ids[0]));
		memmove(p->runtimes[0], p->runtimes[1],
			(KG_POD_MAX_BIRTHS - 1) * sizeof(p->runtimes[0]));
		p->nbirths--;
	}
	i = p->nbirths++;
	p->births[i] = b;
	snprintf(p->container_ids[i], sizeof(p->container_ids[i]), "%s", cg->ident.container_id);
	snprintf(p->runtimes[i], sizeof(p->runtimes[i]), "%s", cg->ident.runtime);
}

void kg_track_note_mkdir(struct kg_track *t, const char *path, uint64_t ts_ns)
{
	struct kg_pending_mkdir *m;

	for (unsigned i = 0; i < KG_PENDING_MKDIRS; i++) {
		m = &t->pending[i];
		if (m->count && !strcmp(m->path, path)) {
			m->count++;
			if (ts_ns < m->first_ns)
				m->first_ns = ts_ns;
			return;
		}
	}
	m = &t->pending[t->pending_next++ % KG_PENDING_MKDIRS];
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->first_ns = ts_ns;
	m->count = 1;
}

uint32_t kg_track_take_mkdirs(struct kg_track *t, const char *path, uint64_t *first_ns)
{
	for (unsigned i = 0; i < KG_PENDING_MKDIRS; i++) {
		struct kg_pending_mkdir *m = &t->pending[i];
		uint32_t n = m->count;

		if (n && !strcmp(m->path, path)) {
			if (m->first_ns < *first_ns)
				*first_ns = m->first_ns;
			m->count = 0;
			return n;
		}
	}
	return 0;
}
