// SPDX-License-Identifier: GPL-2.0
/*
 * birth.bpf.c - the kernel cascade of a container's start.
 *
 * Two kinds of programs:
 *  - kg_sys_enter / kg_sys_exit count every syscall of a cgroup whose birth is
 *    being recorded, and decode the few that tell the story (opens with their
 *    result, namespace creation, mounts, listen). A syscall tracepoint sends
 *    every syscall of every process through the slow path, whatever the
 *    program does (-12 to -21 % on a syscall storm, measured), so the agent
 *    attaches these two only while at least one birth is open and detaches
 *    them afterwards: an idle node pays nothing.
 *  - kg_exec / kg_fork / kg_exit stay attached: they fire a few times per
 *    process and cost one hash lookup when the task is not being born.
 * Counts are kept in the birth record (kg_births); only the rare, detailed
 * facts (a file name, an exec) are streamed.
 */
#include "common.bpf.h"
#include "kg_syscalls.h"

/* Arguments of a decoded syscall, kept from entry to exit per thread. */
struct kg_sys_args {
	__u64 nr;
	__u64 cgid;
	__u64 arg[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);	/* a thread killed mid-syscall leaves its entry */
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct kg_sys_args);
} kg_sys_args SEC(".maps");

static __always_inline bool kg_decoded(long nr)
{
	return nr == KG_NR_openat || nr == KG_NR_open || nr == KG_NR_creat ||
	       nr == KG_NR_openat2 || nr == KG_NR_clone || nr == KG_NR_clone3 ||
	       nr == KG_NR_unshare || nr == KG_NR_setns || nr == KG_NR_mount ||
	       nr == KG_NR_umount2 || nr == KG_NR_move_mount || nr == KG_NR_open_tree ||
	       nr == KG_NR_fsmount || nr == KG_NR_pivot_root || nr == KG_NR_listen;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(kg_sys_enter, struct pt_regs *regs, long id)
{
	__u64 cgid = kg_current_cgid(), now;
	struct kg_birth_counts *b = kg_birth_of(cgid);
	__u32 slot;

	if (!b)
		return 0;
	now = bpf_ktime_get_ns();
	__sync_fetch_and_add(&b->syscalls, 1);
	slot = (__u64)id < KG_NR_SYSCALLS ? id : KG_NR_SYSCALLS - 1;
	__sync_fetch_and_add(&b->by_nr[slot], 1);
	if (!b->first_syscall_ns)
		b->first_syscall_ns = now;	/* racing CPUs write nearly the same value */
	b->last_syscall_ns = now;

	if (kg_decoded(id)) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		struct kg_sys_args a = {
			.nr = id,
			.cgid = cgid,
			.arg = { PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
				 PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs) },
		};

		if (bpf_map_update_elem(&kg_sys_args, &tid, &a, BPF_ANY))
			kg_count(KG_CNT_ARGS_MAP_FULL);
	}
	return 0;
}

static __always_inline void kg_emit_open(struct kg_sys_args *a, long ret,
					 struct kg_birth_counts *b)
{
	struct kg_open_event *e;
	const char *name;
	__u32 flags;
	void *ring;

	__sync_fetch_and_add(&b->opens, 1);
	if (ret < 0)
		__sync_fetch_and_add(&b->opens_failed, 1);

	if (a->nr == KG_NR_openat) {
		name = (const char *)a->arg[1];
		flags = a->arg[2];
	} else if (a->nr == KG_NR_openat2) {
		__u64 how_flags = 0;

		/* struct open_how starts with __u64 flags */
		bpf_probe_read_user(&how_flags, sizeof(how_flags), (void *)a->arg[2]);
		name = (const char *)a->arg[1];
		flags = how_flags;
	} else if (a->nr == KG_NR_creat) {
		name = (const char *)a->arg[0];
		flags = 01 | 0100 | 01000;	/* O_WRONLY | O_CREAT | O_TRUNC */
	} else {
		name = (const char *)a->arg[0];
		flags = a->arg[1];
	}

	e = kg_event_reserve(&ring, sizeof(*e), b);
	if (!e)
		return;
	kg_fill_hdr(&e->hdr, KG_EV_OPEN, a->cgid);
	e->ret = ret;
	e->flags = flags;
	e->syscall_nr = a->nr;
	/* read at exit: the kernel has just copied the name, so it is paged in */
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), name) < 0)
		e->filename[0] = 0;
	kg_event_submit(ring, e, false);
}

static __always_inline void kg_emit_ns(struct kg_sys_args *a, long ret, struct kg_birth_counts *b)
{
	__u64 flags;
	struct kg_ns_event *e;
	void *ring;

	if (a->nr == KG_NR_clone3) {
		flags = 0;
		/* struct clone_args starts with __u64 flags */
		bpf_probe_read_user(&flags, sizeof(flags), (void *)a->arg[0]);
	} else if (a->nr == KG_NR_setns) {
		flags = a->arg[1];	/* nstype; 0 means "whatever the fd is" */
	} else {
		flags = a->arg[0];	/* clone and unshare take the flags first on x86_64/arm64 */
	}
	if (a->nr != KG_NR_setns) {
		flags &= KG_CLONE_NS_MASK;
		if (!flags)
			return;		/* an ordinary fork or thread: counted by kg_fork */
	}
	if (ret < 0)
		goto emit;
	if (a->nr == KG_NR_setns)
		__sync_fetch_and_add(&b->setns, 1);
	else
		__sync_fetch_and_add(&b->namespaces, __builtin_popcountll(flags));
emit:
	e = kg_event_reserve(&ring, sizeof(*e), b);
	if (!e)
		return;
	kg_fill_hdr(&e->hdr, KG_EV_NAMESPACE, a->cgid);
	e->ret = ret;
	e->flags = flags;
	e->syscall_nr = a->nr;
	e->pad = 0;
	kg_event_submit(ring, e, false);
}

static __always_inline void kg_emit_mount(struct kg_sys_args *a, long ret,
					  struct kg_birth_counts *b, __u32 type)
{
	struct kg_mount_event *e;
	const char *target = NULL;
	void *ring;

	if (type == KG_EV_MOUNT && ret >= 0)
		__sync_fetch_and_add(&b->mounts, 1);
	if (type == KG_EV_LISTEN) {
		if (ret < 0)
			return;
		__sync_fetch_and_add(&b->listens, 1);
	}
	if (a->nr == KG_NR_mount || a->nr == KG_NR_open_tree)
		target = (const char *)a->arg[1];
	else if (a->nr == KG_NR_umount2 || a->nr == KG_NR_pivot_root)
		target = (const char *)a->arg[0];
	else if (a->nr == KG_NR_move_mount)
		target = (const char *)a->arg[3];

	e = kg_event_reserve(&ring, sizeof(*e), b);
	if (!e)
		return;
	kg_fill_hdr(&e->hdr, type, a->cgid);
	e->ret = ret;
	e->syscall_nr = a->nr;
	e->pad = 0;
	e->target[0] = 0;
	if (target && bpf_probe_read_user_str(e->target, sizeof(e->target), target) < 0)
		e->target[0] = 0;
	/* readiness ends a birth: let the agent know without waiting for its timer */
	kg_event_submit(ring, e, type == KG_EV_LISTEN);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(kg_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kg_sys_args *a = bpf_map_lookup_elem(&kg_sys_args, &tid);
	struct kg_sys_args args;
	struct kg_birth_counts *b;

	if (!a)
		return 0;
	args = *a;
	bpf_map_delete_elem(&kg_sys_args, &tid);
	b = kg_birth_of(args.cgid);
	if (!b)
		return 0;	/* the birth was settled while the syscall ran */

	switch (args.nr) {
	case KG_NR_openat:
	case KG_NR_openat2:
#if KG_NR_open >= 0
	case KG_NR_open:
	case KG_NR_creat:
#endif
		kg_emit_open(&args, ret, b);
		break;
	case KG_NR_clone:
	case KG_NR_clone3:
	case KG_NR_unshare:
	case KG_NR_setns:
		kg_emit_ns(&args, ret, b);
		break;
	case KG_NR_listen:
		kg_emit_mount(&args, ret, b, KG_EV_LISTEN);
		break;
	default:
		kg_emit_mount(&args, ret, b, KG_EV_MOUNT);
		break;
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(kg_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 cgid = kg_current_cgid();
	struct kg_birth_counts *b = kg_birth_of(cgid);
	struct kg_exec_event *e;
	void *ring;

	if (!b)
		return 0;
	__sync_fetch_and_add(&b->execs, 1);
	e = kg_event_reserve(&ring, sizeof(*e), b);
	if (!e)
		return 0;
	kg_fill_hdr(&e->hdr, KG_EV_EXEC, cgid);
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->old_pid = old_pid;
	e->argv0_only = 0;
	e->syscalls_before = b->syscalls;
	if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				      BPF_CORE_READ(bprm, filename)) < 0)
		e->filename[0] = 0;
	/* the file really executed: "busybox" behind /proc/self/exe or a symlink */
	if (bpf_probe_read_kernel_str(e->exe, sizeof(e->exe),
				      BPF_CORE_READ(bprm, file, f_path.dentry, d_name.name)) < 0)
		e->exe[0] = 0;
	/* the new program's argv, already copied to its stack */
	{
		__u64 start = BPF_CORE_READ(p, mm, arg_start), end = BPF_CORE_READ(p, mm, arg_end);
		__u32 len = end > start && end - start < KG_ARGS_LEN ? end - start : KG_ARGS_LEN - 1;

		/* the mask bounds the size for the verifier; argv may end near the stack top */
		len &= KG_ARGS_LEN - 1;
		e->args_len = 0;
		if (start && !bpf_probe_read_user(e->args, len, (void *)start))
			e->args_len = len;
		else if (start && bpf_probe_read_user_str(e->args, sizeof(e->args), (void *)start) > 0)
			e->argv0_only = 1;
	}
	kg_event_submit(ring, e, false);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(kg_fork, struct task_struct *parent, struct task_struct *child)
{
	__u64 cgid = kg_current_cgid();
	struct kg_birth_counts *b = kg_birth_of(cgid);
	struct kg_fork_event *e;
	__u32 pid, tgid;
	void *ring;

	if (!b)
		return 0;
	pid = BPF_CORE_READ(child, pid);
	tgid = BPF_CORE_READ(child, tgid);
	if (pid == tgid)
		__sync_fetch_and_add(&b->processes, 1);
	else
		__sync_fetch_and_add(&b->threads, 1);
	e = kg_event_reserve(&ring, sizeof(*e), b);
	if (!e)
		return 0;
	kg_fill_hdr(&e->hdr, KG_EV_FORK, cgid);
	e->child_pid = pid;
	e->child_tgid = tgid;
	e->exit_code = 0;
	e->is_thread = pid != tgid;
	kg_event_submit(ring, e, false);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(kg_exit, struct task_struct *p)
{
	__u64 cgid;
	struct kg_birth_counts *b;
	struct kg_fork_event *e;
	void *ring;

	if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
		return 0;	/* threads: only whole processes matter here */
	cgid = kg_current_cgid();
	b = kg_birth_of(cgid);
	if (!b)
		return 0;
	__sync_fetch_and_add(&b->exits, 1);
	e = kg_event_reserve(&ring, sizeof(*e), b);
	if (!e)
		return 0;
	kg_fill_hdr(&e->hdr, KG_EV_EXIT, cgid);
	e->child_pid = 0;
	e->child_tgid = 0;
	e->exit_code = BPF_CORE_READ(p, exit_code);
	e->is_thread = 0;
	kg_event_submit(ring, e, false);
	return 0;
}
