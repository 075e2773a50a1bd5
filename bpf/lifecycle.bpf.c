// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle.bpf.c - cgroup creation, task attachment and removal.
 *
 * A container's cgroup is created by its runtime before any of its tasks can
 * join. tp_btf/cgroup_mkdir runs inside that mkdir, so the birth record is
 * opened here, in the kernel, before the first syscall it must count: no race
 * with the agent, which learns of the cgroup a little later from the ring.
 * Only cgroups under the configured path prefixes (kubelet's /kubepods...) are
 * reported, so a host creating other cgroups costs a string compare each.
 */
#include "common.bpf.h"

/* Does path start with one of the configured prefixes, at a path boundary? */
static __always_inline bool kg_path_tracked(const char *path)
{
	for (__u32 i = 0; i < KG_MAX_PREFIXES; i++) {
		if (i >= kg_cfg_nr_prefixes)
			break;
		for (__u32 j = 0; j < KG_PREFIX_LEN; j++) {
			char p = kg_cfg_prefixes[i][j];
			char c = path[j];

			if (p == 0) {
				if (c == 0 || c == '/')
					return true;
				break;
			}
			if (c != p)
				break;
		}
	}
	return false;
}

/* task: the task the event is about when it is not the current one */
static __always_inline int kg_emit_cgroup(__u32 type, struct cgroup *cgrp, const char *path,
					  bool tracked_only, struct task_struct *task)
{
	__u32 zero = 0, hier = BPF_CORE_READ(cgrp, root, hierarchy_id);
	__u64 id = BPF_CORE_READ(cgrp, kn, id);
	struct kg_birth_counts *birth = NULL;
	struct kg_scratch *s = bpf_map_lookup_elem(&kg_scratch_map, &zero);
	struct kg_cgroup_event *e;
	bool opened = false;
	void *ring;
	long len;

	if (!s)
		return 0;
	len = bpf_probe_read_kernel_str(s->path, sizeof(s->path), path);
	if (tracked_only && !kg_path_tracked(s->path))
		return 0;

	if (type == KG_EV_CGROUP_MKDIR && hier == kg_cfg_identity_hier) {
		struct kg_birth_counts *init = bpf_map_lookup_elem(&kg_birth_zero, &zero);

		if (init && bpf_map_update_elem(&kg_births, &id, init, BPF_NOEXIST) == 0)
			opened = true;
		else
			kg_count(KG_CNT_BIRTH_MAP_FULL);
		birth = kg_birth_of(id);
		if (birth && opened)
			birth->created_ns = bpf_ktime_get_ns();
	}

	e = kg_event_reserve(&ring, sizeof(*e), birth);
	if (!e)
		return 0;
	kg_fill_hdr(&e->hdr, type, kg_current_cgid());
	if (task) {
		e->hdr.pid = BPF_CORE_READ(task, pid);
		e->hdr.tgid = BPF_CORE_READ(task, tgid);
		BPF_CORE_READ_STR_INTO(&e->hdr.comm, task, comm);
		e->hdr.cgid = id;
	}
	e->id = id;
	e->hierarchy_id = hier;
	e->level = BPF_CORE_READ(cgrp, level);
	e->birth = opened;
	/* a full buffer may hold a cut path: a prefix of a container id still parses */
	e->truncated = len >= (long)sizeof(s->path);
	__builtin_memcpy(e->path, s->path, sizeof(e->path));
	/* a new birth must wake the agent now: it attaches the syscall counters */
	kg_event_submit(ring, e, opened);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(kg_cg_mkdir, struct cgroup *cgrp, const char *path)
{
	return kg_emit_cgroup(KG_EV_CGROUP_MKDIR, cgrp, path, true, NULL);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(kg_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	return kg_emit_cgroup(KG_EV_CGROUP_RMDIR, cgrp, path, true, NULL);
}

/* A task joins a cgroup whose birth is recorded: the runtime's init arrives. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(kg_cg_attach, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	__u64 id;
	struct kg_birth_counts *birth;

	if (BPF_CORE_READ(dst, root, hierarchy_id) != kg_cfg_identity_hier)
		return 0;
	id = BPF_CORE_READ(dst, kn, id);
	birth = kg_birth_of(id);
	if (!birth)
		return 0;
	if (!birth->first_task_ns)
		birth->first_task_ns = bpf_ktime_get_ns();
	return kg_emit_cgroup(KG_EV_CGROUP_ATTACH, dst, path, false, task);
}
