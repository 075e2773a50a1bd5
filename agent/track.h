/* SPDX-License-Identifier: GPL-2.0 */
/*
 * track.h - the agent's registry of tracked cgroups and the pods they
 * belong to, from creation to removal.
 *
 * A tracked cgroup (identity hierarchy, under a tracked prefix) knows its
 * path, what the path says about Kubernetes and, while its start is being
 * recorded, its open birth. A "pod" groups what resources are written about:
 * the containers of one pod, or a single cgroup that is not a pod's. Settled
 * births stay with their pod until the pod's cgroup is removed, so a
 * certificate can be rewritten whole as each container settles. Everything
 * is bounded: cgroups, pods and births per pod.
 */
#ifndef KG_TRACK_H
#define KG_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include "birth.h"
#include "cgroup_path.h"
#include "kg_events.h"

#define KG_TRACK_BUCKETS 4096
#define KG_TRACK_MAX_CGROUPS 65536
#define KG_TRACK_MAX_PODS 16384
#define KG_POD_MAX_BIRTHS 16
#define KG_PENDING_MKDIRS 64

struct kg_pod {
	char key[KG_PATH_LEN];		/* pod uid, or the cgroup path of a non-pod */
	char base_name[KG_CGROUP_NAME_MAX + 1];	/* resource names are base_name + suffix */
	bool is_pod;
	struct kg_cgroup_identity ident;	/* of the pod (or the cgroup) */
	unsigned nbirths;
	struct kg_birth *births[KG_POD_MAX_BIRTHS];	/* settled, oldest first */
	char container_ids[KG_POD_MAX_BIRTHS][KG_CONTAINER_ID_LEN];
	char runtimes[KG_POD_MAX_BIRTHS][KG_RUNTIME_LEN];
	unsigned refs;			/* tracked cgroups pointing here */
	struct kg_pod *next;
};

struct kg_cg {
	uint64_t id;			/* identity hierarchy */
	char path[KG_PATH_LEN];
	struct kg_cgroup_identity ident;
	struct kg_birth *birth;		/* open birth, or NULL */
	uint64_t removed_ns;		/* rmdir seen; forgotten at the next settle tick */
	struct kg_pod *pod;
	struct kg_cg *next;
};

struct kg_pending_mkdir {
	char path[KG_PATH_LEN];
	uint64_t first_ns;
	uint32_t count;
};

struct kg_track {
	struct kg_cg *buckets[KG_TRACK_BUCKETS];
	struct kg_pod *pods;
	unsigned ncgroups, npods, open_births;
	uint64_t cgroups_refused;	/* registry full */
	struct kg_pending_mkdir pending[KG_PENDING_MKDIRS];
	unsigned pending_next;
};

void kg_track_init(struct kg_track *t);
void kg_track_fini(struct kg_track *t);

struct kg_cg *kg_track_find(struct kg_track *t, uint64_t id);

/*
 * Register a cgroup (idempotent). Its pod is found or created from the path:
 * pods and containers group under the pod uid; other cgroups stand alone.
 * Returns NULL when the path is not a valid cgroup path or the registry is
 * full (counted in cgroups_refused).
 */
struct kg_cg *kg_track_add(struct kg_track *t, uint64_t id, const char *path);

/* Forget a cgroup (its open birth must have been settled by the caller). */
void kg_track_remove(struct kg_track *t, uint64_t id);

/* Attach/detach an open birth to a cgroup, keeping open_births right. */
void kg_track_set_birth(struct kg_track *t, struct kg_cg *cg, struct kg_birth *b);

/* Move a settled birth into its pod's list (the pod takes ownership). */
void kg_track_keep_settled(struct kg_track *t, struct kg_cg *cg, struct kg_birth *b);

/* mkdirs seen in other hierarchies before the identity one: merged by path. */
void kg_track_note_mkdir(struct kg_track *t, const char *path, uint64_t ts_ns);
uint32_t kg_track_take_mkdirs(struct kg_track *t, const char *path, uint64_t *first_ns);

/* Iterate over every tracked cgroup. */
#define kg_track_for_each(t, cg)                                                           \
	for (unsigned __b = 0; __b < KG_TRACK_BUCKETS; __b++)                              \
		for (struct kg_cg *cg = (t)->buckets[__b], *__n = cg ? cg->next : NULL; cg; \
		     cg = __n, __n = cg ? cg->next : NULL)

#endif /* KG_TRACK_H */
