/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroupfs.h - where the cgroup hierarchies are mounted and how to go from
 * a cgroup id the kernel reports to a path and back.
 *
 * Ids are per hierarchy: the same relative path has one id in the unified
 * (v2) hierarchy and another in the v1 "cpu" hierarchy of a hybrid host. The
 * agent identifies cgroups in the "identity" hierarchy (v2 when mounted,
 * else v1 cpu) and reads CPU bandwidth in the hierarchy that holds the cpu
 * controller; kubelet and runc use the same relative path in all of them,
 * so the two join by path.
 */
#ifndef KG_CGROUPFS_H
#define KG_CGROUPFS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kg_hier { KG_HIER_IDENTITY = 0, KG_HIER_CPU, KG_HIER_CPUACCT, KG_HIER_NR };

struct kg_mount {
	char dir[PATH_MAX];	/* mount point; "" when absent */
	char root[PATH_MAX];	/* the hierarchy path mounted there ("/" outside cgroup namespaces) */
	int fd;			/* directory fd for open_by_handle_at, -1 when absent */
	unsigned hier_id;	/* 0 for the unified hierarchy */
	bool v2;
};

struct kg_cgroupfs {
	struct kg_mount m[KG_HIER_NR];
	bool hybrid;		/* v1 controllers and a unified hierarchy side by side */
};

int kg_cgroupfs_open(struct kg_cgroupfs *fs, char *err, size_t errsz);
void kg_cgroupfs_close(struct kg_cgroupfs *fs);

/* Filesystem path of a hierarchy-relative cgroup path; -ENOENT outside the mount's root. */
int kg_cgroupfs_fs_path(const struct kg_cgroupfs *fs, enum kg_hier h, const char *rel, char *out,
			size_t outsz);

/* Hierarchy-relative path of a cgroup id (open_by_handle_at); -errno on failure. */
int kg_cgroupfs_id_path(const struct kg_cgroupfs *fs, enum kg_hier h, uint64_t id, char *out,
			size_t outsz);

/* Cgroup id (the directory's inode) of a hierarchy-relative path. */
int kg_cgroupfs_path_id(const struct kg_cgroupfs *fs, enum kg_hier h, const char *rel,
			uint64_t *id);

/* Cumulative CPU time of a cgroup, as cAdvisor and metrics-server read it. */
int kg_cgroupfs_cpu_usage_ns(const struct kg_cgroupfs *fs, const char *rel, uint64_t *ns);

/* Call fn for every cgroup directory under rel in the identity hierarchy (rel included). */
typedef void (*kg_cgroup_visit_fn)(void *ctx, const char *rel, uint64_t id);
int kg_cgroupfs_walk(const struct kg_cgroupfs *fs, const char *rel, kg_cgroup_visit_fn fn,
		     void *ctx);

#endif /* KG_CGROUPFS_H */
