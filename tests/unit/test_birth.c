// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_birth.c - unit tests for agent/birth.c.
 *
 * Synthetic ring-buffer events, built exactly as the BPF side lays them out
 * (include/kg_events.h), are fed to a birth record and every counter is
 * checked: the exec chain and its cap, the file table and its cap, namespaces
 * per CLONE_NEW* bit, live-process accounting, readiness. Then every settle
 * rule of kg_birth_check() at its exact timing boundary (one nanosecond
 * before: still open; at: settled) and in its priority order, and the "top"
 * selections against a plain reference sort.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "birth.h"
#include "kg_syscalls.h"

#define MS 1000000ULL
#define C0 (5000 * MS) /* cgroup creation time of every test birth */
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- event builders: zeroed, typed, header filled as the kernel does ---- */

/* Copy up to n bytes like bpf_probe_read_str() may: a full field gets no NUL. */
static void fill(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, strnlen(src, n));
}

static void hdr(struct kg_event_hdr *h, enum kg_event_type type, uint64_t ts, uint32_t pid,
		uint32_t tgid, const char *comm)
{
	h->type = type;
	h->pid = pid;
	h->tgid = tgid;
	h->cpu = 3;
	h->ts_ns = ts;
	h->cgid = 4242;
	if (comm)
		fill(h->comm, comm, KG_COMM_LEN);
}

static void ev_attach(struct kg_birth *b, uint64_t ts, uint32_t pid, uint32_t tgid,
		      const char *comm)
{
	struct kg_cgroup_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_CGROUP_ATTACH, ts, pid, tgid, comm);
	e.id = 4242;
	e.birth = 1;
	kg_birth_event(b, &e.hdr);
}

static void ev_exec_full(struct kg_birth *b, uint64_t ts, uint32_t pid, uint32_t tgid,
			 uint32_t ppid, const char *comm, const char *file, const char *exe,
			 const void *args, size_t args_size, uint32_t args_len, bool argv0_only)
{
	struct kg_exec_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_EXEC, ts, pid, tgid, comm);
	e.ppid = ppid;
	e.old_pid = pid;
	e.args_len = args_len;
	e.argv0_only = argv0_only;
	fill(e.filename, file, KG_FILE_LEN);
	fill(e.exe, exe, KG_EXE_LEN);
	memcpy(e.args, args, args_size < KG_ARGS_LEN ? args_size : KG_ARGS_LEN);
	kg_birth_event(b, &e.hdr);
}

/* An exec whose argv is just the file name, run as itself. */
static void ev_exec(struct kg_birth *b, uint64_t ts, uint32_t pid, uint32_t tgid, uint32_t ppid,
		    const char *comm, const char *file)
{
	size_t n = strlen(file) + 1;

	ev_exec_full(b, ts, pid, tgid, ppid, comm, file, file, file, n, n, false);
}

static void ev_fork(struct kg_birth *b, uint64_t ts, uint32_t tgid, uint32_t child, bool thread)
{
	struct kg_fork_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_FORK, ts, tgid, tgid, "sh");
	e.child_pid = child;
	e.child_tgid = thread ? tgid : child;
	e.is_thread = thread;
	kg_birth_event(b, &e.hdr);
}

static void ev_exit(struct kg_birth *b, uint64_t ts, uint32_t tgid)
{
	struct kg_fork_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_EXIT, ts, tgid, tgid, "sh");
	e.exit_code = 0;
	kg_birth_event(b, &e.hdr);
}

static void ev_open(struct kg_birth *b, uint64_t ts, int64_t ret, const char *file)
{
	struct kg_open_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_OPEN, ts, 7, 7, "app");
	e.ret = ret;
	e.syscall_nr = KG_NR_openat;
	fill(e.filename, file, KG_FILE_LEN);
	kg_birth_event(b, &e.hdr);
}

static void ev_ns(struct kg_birth *b, uint64_t ts, uint32_t nr, uint64_t flags, int64_t ret)
{
	struct kg_ns_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_NAMESPACE, ts, 7, 7, "runc:[1:CHILD]");
	e.ret = ret;
	e.flags = flags;
	e.syscall_nr = nr;
	kg_birth_event(b, &e.hdr);
}

static void ev_mount(struct kg_birth *b, uint64_t ts, uint32_t nr, int64_t ret, const char *target)
{
	struct kg_mount_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_MOUNT, ts, 7, 7, "runc:[2:INIT]");
	e.ret = ret;
	e.syscall_nr = nr;
	fill(e.target, target, KG_FILE_LEN);
	kg_birth_event(b, &e.hdr);
}

static void ev_listen(struct kg_birth *b, uint64_t ts, uint32_t pid, uint32_t tgid,
		      const char *comm)
{
	struct kg_mount_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_LISTEN, ts, pid, tgid, comm);
	e.syscall_nr = KG_NR_listen;
	kg_birth_event(b, &e.hdr);
}

static struct kg_birth *new_birth(void)
{
	struct kg_birth *b = kg_birth_new(4242, "/kubepods/burstable/podx/ctr", C0);

	ck_assert_ptr_nonnull(b);
	return b;
}

/* ---- recording ---- */

START_TEST(test_new)
{
	static char longpath[400];
	struct kg_birth *b = new_birth();

	ck_assert_uint_eq(b->cgid, 4242);
	ck_assert_str_eq(b->path, "/kubepods/burstable/podx/ctr");
	ck_assert_uint_eq(b->created_ns, C0);
	ck_assert_uint_eq(b->last_activity_ns, C0); /* quiet time counts from creation */
	ck_assert_int_eq(b->reason, KG_SETTLE_NONE);
	ck_assert_uint_eq(b->events, 0);
	ck_assert_int_eq(b->live, 0);
	ck_assert(!b->had_task);
	ck_assert(!b->have_kernel);
	ck_assert_uint_eq(b->nfiles, 0);
	ck_assert_uint_eq(b->execs_n, 0);
	kg_birth_free(b);

	/* a path longer than the buffer is cut, and terminated */
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	b = kg_birth_new(1, longpath, 1);
	ck_assert_uint_eq(strlen(b->path), KG_PATH_LEN - 1);
	ck_assert_int_eq(strncmp(b->path, longpath, KG_PATH_LEN - 1), 0);
	kg_birth_free(b);
	kg_birth_free(NULL); /* like free() */
}
END_TEST

START_TEST(test_exec_chain)
{
	struct kg_birth *b = new_birth();
	char file[KG_FILE_LEN];

	ev_exec(b, C0 + 10 * MS, 101, 100, 1, "runc:[2:INIT]", "/usr/bin/tini");
	ev_exec(b, C0 + 12 * MS, 100, 100, 1, "tini", "/bin/sh");
	ev_exec(b, C0 + 15 * MS, 120, 120, 100, "sh", "/app/server");
	ck_assert_uint_eq(b->execs_n, 3);
	ck_assert_uint_eq(b->execs_beyond, 0);
	/* in arrival order, keyed by the process (tgid), not the thread */
	ck_assert_uint_eq(b->execs[0].ts_ns, C0 + 10 * MS);
	ck_assert_uint_eq(b->execs[0].pid, 100);
	ck_assert_uint_eq(b->execs[0].ppid, 1);
	ck_assert_str_eq(b->execs[0].comm, "runc:[2:INIT]");
	ck_assert_str_eq(b->execs[0].file, "/usr/bin/tini");
	ck_assert_uint_eq(b->execs[1].pid, 100);
	ck_assert_str_eq(b->execs[1].comm, "tini");
	ck_assert_str_eq(b->execs[1].file, "/bin/sh");
	ck_assert_uint_eq(b->execs[2].ts_ns, C0 + 15 * MS);
	ck_assert_uint_eq(b->execs[2].pid, 120);
	ck_assert_uint_eq(b->execs[2].ppid, 100);
	ck_assert_str_eq(b->execs[2].file, "/app/server");
	ck_assert_uint_eq(b->last_activity_ns, C0 + 15 * MS);
	ck_assert_uint_eq(b->events, 3);
	ck_assert(b->had_task);

	/* a comm filling all 16 bytes and a file name filling all 256 are terminated */
	memset(file, 'f', sizeof(file));
	file[0] = '/';
	ev_exec_full(b, C0 + 16 * MS, 130, 130, 120, "0123456789abcdefXYZ", file, "x", "x", 2, 2,
		     false);
	ck_assert_str_eq(b->execs[3].comm, "0123456789abcde");
	ck_assert_uint_eq(strlen(b->execs[3].file), KG_FILE_LEN - 1);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_exec_cap)
{
	struct kg_birth *b = new_birth();
	char file[32];

	for (unsigned i = 0; i < KG_BIRTH_MAX_EXECS + 8; i++) {
		snprintf(file, sizeof(file), "/bin/step%u", i);
		ev_exec(b, C0 + (i + 1) * MS, 200 + i, 200 + i, 1, "sh", file);
	}
	ck_assert_uint_eq(b->execs_n, KG_BIRTH_MAX_EXECS);
	ck_assert_uint_eq(b->execs_beyond, 8);
	/* the first ones are kept, in order; later ones are only counted */
	ck_assert_str_eq(b->execs[0].file, "/bin/step0");
	ck_assert_str_eq(b->execs[KG_BIRTH_MAX_EXECS - 1].file, "/bin/step31");
	ck_assert_uint_eq(b->execs[KG_BIRTH_MAX_EXECS - 1].pid, 231);
	/* ... and still count as activity */
	ck_assert_uint_eq(b->last_activity_ns, C0 + (KG_BIRTH_MAX_EXECS + 8) * MS);
	ck_assert_uint_eq(b->events, KG_BIRTH_MAX_EXECS + 8);
	kg_birth_free(b);
}
END_TEST

static const struct kg_birth_file *file_of(const struct kg_birth *b, const char *path)
{
	for (uint32_t i = 0; i < b->nfiles; i++) {
		if (!strcmp(b->files[i].path, path))
			return &b->files[i];
	}
	ck_abort_msg("no file %s", path);
	return NULL;
}

START_TEST(test_files)
{
	struct kg_birth *b = new_birth();
	const struct kg_birth_file *f;
	char longname[KG_FILE_LEN];

	ev_open(b, C0 + 1 * MS, 3, "/etc/passwd");
	ev_open(b, C0 + 2 * MS, -ENOENT, "/etc/localtime");
	ev_open(b, C0 + 3 * MS, 4, "/etc/passwd");
	ev_open(b, C0 + 4 * MS, -EACCES, "/etc/passwd");
	ev_open(b, C0 + 5 * MS, -EACCES, "/etc/localtime");
	ev_open(b, C0 + 6 * MS, -ENOENT, "/etc/localtime");
	ev_open(b, C0 + 7 * MS, 5, "/lib/libc.so.6");

	ck_assert_uint_eq(b->nfiles, 3);
	ck_assert_uint_eq(b->opens_untracked, 0);
	/* first seen first */
	ck_assert_str_eq(b->files[0].path, "/etc/passwd");
	ck_assert_str_eq(b->files[1].path, "/etc/localtime");
	ck_assert_str_eq(b->files[2].path, "/lib/libc.so.6");

	f = file_of(b, "/etc/passwd");
	ck_assert_uint_eq(f->opens, 3); /* opens counts attempts, failures included */
	ck_assert_uint_eq(f->failed, 1);
	ck_assert_int_eq(f->last_errno, EACCES);
	ck_assert_uint_eq(f->first_ns, C0 + 1 * MS);

	f = file_of(b, "/etc/localtime");
	ck_assert_uint_eq(f->opens, 3);
	ck_assert_uint_eq(f->failed, 3);
	ck_assert_int_eq(f->last_errno, ENOENT); /* the last failure's, positive */
	ck_assert_uint_eq(f->first_ns, C0 + 2 * MS); /* a failed first open still dates it */

	f = file_of(b, "/lib/libc.so.6");
	ck_assert_uint_eq(f->opens, 1);
	ck_assert_uint_eq(f->failed, 0);
	ck_assert_int_eq(f->last_errno, 0);

	/* an unreadable name (the kernel could not copy it) is one entry, not "" */
	ev_open(b, C0 + 8 * MS, -EFAULT, "");
	ev_open(b, C0 + 9 * MS, 6, "");
	ck_assert_uint_eq(b->nfiles, 4);
	f = file_of(b, "(unreadable)");
	ck_assert_uint_eq(f->opens, 2);
	ck_assert_uint_eq(f->failed, 1);
	ck_assert_int_eq(f->last_errno, EFAULT);

	/* a name filling the whole field (no NUL from the kernel) is kept whole */
	memset(longname, 'n', sizeof(longname));
	longname[0] = '/';
	ev_open(b, C0 + 10 * MS, 7, longname);
	ck_assert_uint_eq(b->nfiles, 5);
	ck_assert_uint_eq(strlen(b->files[4].path), KG_FILE_LEN);
	ck_assert_int_eq(memcmp(b->files[4].path, longname, KG_FILE_LEN), 0);

	ck_assert_uint_eq(b->last_activity_ns, C0 + 10 * MS);
	ck_assert_uint_eq(b->events, 10);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_file_cap)
{
	struct kg_birth *b = new_birth();
	char name[64];

	for (unsigned i = 0; i < KG_BIRTH_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "/usr/lib/f%04u", i);
		ev_open(b, C0 + i + 1, i % 3 ? 3 : -ENOENT, name);
	}
	ck_assert_uint_eq(b->nfiles, KG_BIRTH_MAX_FILES);
	ck_assert_uint_eq(b->opens_untracked, 0);
	ck_assert_uint_ge(b->files_cap, KG_BIRTH_MAX_FILES);

	/* new paths beyond the cap are only counted, whatever their result */
	ev_open(b, C0 + 1000, 3, "/new/one");
	ev_open(b, C0 + 1001, -ENOENT, "/new/two");
	ev_open(b, C0 + 1002, 3, "/new/one");
	ck_assert_uint_eq(b->nfiles, KG_BIRTH_MAX_FILES);
	ck_assert_uint_eq(b->opens_untracked, 3);
	/* known paths are still counted in full */
	ev_open(b, C0 + 1003, -EPERM, "/usr/lib/f0511");
	ck_assert_uint_eq(b->opens_untracked, 3);
	ck_assert_uint_eq(file_of(b, "/usr/lib/f0511")->opens, 2);
	ck_assert_uint_eq(file_of(b, "/usr/lib/f0511")->failed, 1);
	ck_assert_int_eq(file_of(b, "/usr/lib/f0511")->last_errno, EPERM);
	ck_assert_uint_eq(file_of(b, "/usr/lib/f0000")->failed, 1);
	ck_assert_uint_eq(file_of(b, "/usr/lib/f0001")->failed, 0);
	ck_assert_uint_eq(b->last_activity_ns, C0 + 1003);
	kg_birth_free(b);
}
END_TEST

/* Each CLONE_NEW* bit and the namespace type it counts as. */
static const struct {
	uint64_t flag;
	enum kg_ns_type type;
	const char *name;
} ns_bits[] = {
	{ KG_CLONE_NEWNS, KG_NS_MNT, "mnt" },		{ KG_CLONE_NEWUTS, KG_NS_UTS, "uts" },
	{ KG_CLONE_NEWIPC, KG_NS_IPC, "ipc" },		{ KG_CLONE_NEWUSER, KG_NS_USER, "user" },
	{ KG_CLONE_NEWPID, KG_NS_PID, "pid" },		{ KG_CLONE_NEWNET, KG_NS_NET, "net" },
	{ KG_CLONE_NEWCGROUP, KG_NS_CGROUP, "cgroup" }, { KG_CLONE_NEWTIME, KG_NS_TIME, "time" },
};

START_TEST(test_namespace_bit)
{
	struct kg_birth *b = new_birth();

	/* one bit alone: exactly its type counted, once */
	ev_ns(b, C0 + 3 * MS, KG_NR_unshare, ns_bits[_i].flag, 0);
	for (int t = 0; t < KG_NS_NR; t++)
		ck_assert_uint_eq(b->ns_created[t], t == (int)ns_bits[_i].type);
	ck_assert_str_eq(kg_ns_type_name(ns_bits[_i].type), ns_bits[_i].name);
	ck_assert_uint_eq(b->first_ns_created_ns, C0 + 3 * MS);
	ck_assert_uint_eq(b->ns_joined, 0);
	/* with CLONE_THREAD and other non-namespace bits around it, the same */
	ev_ns(b, C0 + 4 * MS, KG_NR_clone, ns_bits[_i].flag | KG_CLONE_THREAD | 0x11, 1234);
	ck_assert_uint_eq(b->ns_created[ns_bits[_i].type], 2);
	ck_assert_uint_eq(b->first_ns_created_ns, C0 + 3 * MS); /* the first one */
	kg_birth_free(b);
}
END_TEST

START_TEST(test_namespaces)
{
	struct kg_birth *b = new_birth();

	/* failed calls create nothing and do not date the first namespace */
	ev_ns(b, C0 + 1 * MS, KG_NR_unshare, KG_CLONE_NS_MASK, -EPERM);
	ev_ns(b, C0 + 2 * MS, KG_NR_setns, KG_CLONE_NEWNET, -EINVAL);
	ck_assert_uint_eq(b->first_ns_created_ns, 0);
	ck_assert_uint_eq(b->ns_joined, 0);
	for (int t = 0; t < KG_NS_NR; t++)
		ck_assert_uint_eq(b->ns_created[t], 0);
	/* ... but a failed call is still activity of the start */
	ck_assert_uint_eq(b->last_activity_ns, C0 + 2 * MS);
	ck_assert(b->had_task);

	/* runc: clone3 with every namespace, then unshare of cgroup and mnt */
	ev_ns(b, C0 + 5 * MS, KG_NR_clone3,
	      KG_CLONE_NEWNS | KG_CLONE_NEWUTS | KG_CLONE_NEWIPC | KG_CLONE_NEWPID |
		      KG_CLONE_NEWNET,
	      301);
	ev_ns(b, C0 + 6 * MS, KG_NR_unshare, KG_CLONE_NEWCGROUP | KG_CLONE_NEWNS, 0);
	ck_assert_uint_eq(b->first_ns_created_ns, C0 + 5 * MS);
	ck_assert_uint_eq(b->ns_created[KG_NS_MNT], 2);
	ck_assert_uint_eq(b->ns_created[KG_NS_UTS], 1);
	ck_assert_uint_eq(b->ns_created[KG_NS_IPC], 1);
	ck_assert_uint_eq(b->ns_created[KG_NS_PID], 1);
	ck_assert_uint_eq(b->ns_created[KG_NS_NET], 1);
	ck_assert_uint_eq(b->ns_created[KG_NS_CGROUP], 1);
	ck_assert_uint_eq(b->ns_created[KG_NS_USER], 0);
	ck_assert_uint_eq(b->ns_created[KG_NS_TIME], 0);

	/* setns joins: counted once per call whatever nstype says, never as created */
	ev_ns(b, C0 + 7 * MS, KG_NR_setns, KG_CLONE_NEWNET, 0);
	ev_ns(b, C0 + 8 * MS, KG_NR_setns, 0, 0);
	ev_ns(b, C0 + 9 * MS, KG_NR_setns, KG_CLONE_NS_MASK, 0);
	ck_assert_uint_eq(b->ns_joined, 3);
	ck_assert_uint_eq(b->ns_created[KG_NS_NET], 1);
	ck_assert_uint_eq(b->ns_created[KG_NS_TIME], 0);
	ck_assert_uint_eq(b->first_ns_created_ns, C0 + 5 * MS);
	ck_assert_uint_eq(b->last_activity_ns, C0 + 9 * MS);
	ck_assert_uint_eq(b->events, 7);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_mounts)
{
	struct kg_birth *b = new_birth();
	char target[KG_FILE_LEN];

	ev_mount(b, C0 + 1 * MS, KG_NR_mount, 0, "/proc");
	ev_mount(b, C0 + 2 * MS, KG_NR_mount, -EPERM, "/sys");
	ev_mount(b, C0 + 3 * MS, KG_NR_pivot_root, 0, "");
	ck_assert_uint_eq(b->mounts_n, 3);
	ck_assert_uint_eq(b->mounts[0].syscall_nr, KG_NR_mount);
	ck_assert_int_eq(b->mounts[0].ret, 0);
	ck_assert_str_eq(b->mounts[0].target, "/proc");
	ck_assert_int_eq(b->mounts[1].ret, -EPERM); /* failures are kept, with their error */
	ck_assert_uint_eq(b->mounts[2].syscall_nr, KG_NR_pivot_root);
	ck_assert_uint_eq(b->mounts[2].ts_ns, C0 + 3 * MS);
	/* a long target is cut to the record's field */
	memset(target, 't', sizeof(target));
	ev_mount(b, C0 + 4 * MS, KG_NR_mount, 0, target);
	ck_assert_uint_eq(strlen(b->mounts[3].target), sizeof(b->mounts[3].target) - 1);
	for (unsigned i = 4; i < KG_BIRTH_MAX_MOUNTS + 5; i++)
		ev_mount(b, C0 + (i + 1) * MS, KG_NR_umount2, 0, "/x");
	ck_assert_uint_eq(b->mounts_n, KG_BIRTH_MAX_MOUNTS);
	ck_assert_uint_eq(b->mounts_beyond, 5);
	ck_assert_uint_eq(b->last_activity_ns, C0 + (KG_BIRTH_MAX_MOUNTS + 5) * MS);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_live_processes)
{
	struct kg_birth *b = new_birth();

	/* the runtime moves a process with two threads in: one event per thread */
	ev_attach(b, C0 + 2 * MS, 100, 100, "runc");
	ck_assert_int_eq(b->live, 1);
	ck_assert(b->had_task);
	ev_attach(b, C0 + 3 * MS, 101, 100, "runc"); /* a thread: not a process */
	ck_assert_int_eq(b->live, 1);
	/* the first attach names the runtime; later ones change nothing */
	ev_attach(b, C0 + 4 * MS, 500, 500, "other");
	ck_assert_int_eq(b->live, 2);
	ck_assert_uint_eq(b->attached_ns, C0 + 2 * MS);
	ck_assert_uint_eq(b->attach_pid, 100);
	ck_assert_str_eq(b->attach_comm, "runc");
	ck_assert_uint_eq(b->attached, 2); /* processes moved in; threads are not */
	/* attaching is the runtime's doing, not activity of the start */
	ck_assert_uint_eq(b->last_activity_ns, C0);
	ck_assert_uint_eq(b->events, 3);

	ev_fork(b, C0 + 5 * MS, 100, 110, false);
	ck_assert_int_eq(b->live, 3);
	ev_fork(b, C0 + 6 * MS, 110, 111, true); /* a thread: not a process */
	ck_assert_int_eq(b->live, 3);
	ev_exit(b, C0 + 7 * MS, 110);
	ev_exit(b, C0 + 8 * MS, 500);
	ck_assert_int_eq(b->live, 1);
	ck_assert_uint_eq(b->last_activity_ns, C0 + 8 * MS);
	ev_exit(b, C0 + 9 * MS, 100);
	ck_assert_int_eq(b->live, 0);
	ck_assert_uint_eq(b->events, 8);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_attach_comm_full)
{
	struct kg_birth *b = new_birth();

	ev_attach(b, C0 + 1, 9, 9, "0123456789abcdefgh");
	ck_assert_str_eq(b->attach_comm, "0123456789abcde");
	ev_listen(b, C0 + 2, 9, 9, "ABCDEFGHIJKLMNOPQ");
	ck_assert_str_eq(b->ready_comm, "ABCDEFGHIJKLMNO");
	kg_birth_free(b);
}
END_TEST

START_TEST(test_ready_first_listen)
{
	struct kg_birth *b = new_birth();

	ck_assert_uint_eq(b->ready_ns, 0);
	ev_listen(b, C0 + 40 * MS, 121, 120, "nginx");
	ck_assert_uint_eq(b->ready_ns, C0 + 40 * MS);
	ck_assert_uint_eq(b->ready_pid, 120); /* the process */
	ck_assert_str_eq(b->ready_comm, "nginx");
	ck_assert(b->had_task);
	ck_assert_uint_eq(b->last_activity_ns, C0 + 40 * MS);
	/* a second listen (another socket, another worker) does not move readiness */
	ev_listen(b, C0 + 90 * MS, 130, 130, "worker");
	ck_assert_uint_eq(b->ready_ns, C0 + 40 * MS);
	ck_assert_uint_eq(b->ready_pid, 120);
	ck_assert_str_eq(b->ready_comm, "nginx");
	ck_assert_uint_eq(b->last_activity_ns, C0 + 90 * MS); /* but is activity */
	kg_birth_free(b);
}
END_TEST

START_TEST(test_other_event_types)
{
	struct kg_birth *b = new_birth();
	struct kg_cgroup_event e;
	static const uint32_t types[] = { 0, KG_EV_CGROUP_MKDIR, KG_EV_CGROUP_RMDIR, KG_EV_TYPE_MAX,
					  999 };

	for (int i = 0; i < N(types); i++) {
		memset(&e, 0, sizeof(e));
		hdr(&e.hdr, types[i], C0 + 50 * MS, 1, 1, "x");
		kg_birth_event(b, &e.hdr);
	}
	/* counted as received, but no task, no activity */
	ck_assert_uint_eq(b->events, N(types));
	ck_assert(!b->had_task);
	ck_assert_uint_eq(b->last_activity_ns, C0);
	ck_assert_int_eq(b->live, 0);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_out_of_order_activity)
{
	struct kg_birth *b = new_birth();

	/* per-CPU rings deliver out of order: activity only moves forward */
	ev_open(b, C0 + 20 * MS, 3, "/a");
	ev_open(b, C0 + 10 * MS, 3, "/b");
	ck_assert_uint_eq(b->last_activity_ns, C0 + 20 * MS);
	/* an event stamped before mkdir does not move it back before creation */
	ev_exec(b, C0 - 1 * MS, 1, 1, 0, "x", "/x");
	ck_assert_uint_eq(b->last_activity_ns, C0 + 20 * MS);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_events_after_settle)
{
	struct kg_birth *b = new_birth();
	struct kg_birth saved;

	ev_attach(b, C0 + 1 * MS, 100, 100, "runc");
	ev_exec(b, C0 + 2 * MS, 100, 100, 1, "runc", "/app");
	ev_open(b, C0 + 3 * MS, 3, "/etc/hosts");
	kg_birth_settle(b, KG_SETTLE_QUIET, C0 + 1003 * MS, NULL);
	memcpy(&saved, b, sizeof(saved));

	/* a settled start ignores everything that follows: that is its life */
	ev_attach(b, C0 + 1100 * MS, 200, 200, "late");
	ev_exec(b, C0 + 1101 * MS, 100, 100, 1, "app", "/bin/late");
	ev_fork(b, C0 + 1102 * MS, 100, 300, false);
	ev_exit(b, C0 + 1103 * MS, 100);
	ev_open(b, C0 + 1104 * MS, 3, "/etc/hosts");
	ev_open(b, C0 + 1105 * MS, 3, "/late");
	ev_ns(b, C0 + 1106 * MS, KG_NR_unshare, KG_CLONE_NEWNET, 0);
	ev_mount(b, C0 + 1107 * MS, KG_NR_mount, 0, "/late");
	ev_listen(b, C0 + 1108 * MS, 100, 100, "app");
	ck_assert_int_eq(memcmp(&saved, b, sizeof(saved)), 0);
	ck_assert_uint_eq(b->events, 3);
	ck_assert_uint_eq(b->files[0].opens, 1);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_exec_order)
{
	struct kg_birth *b = new_birth();

	/* per-CPU rings deliver out of time order: the chain is kept sorted */
	ev_exec(b, C0 + 30 * MS, 3, 3, 1, "c", "/c");
	ev_exec(b, C0 + 10 * MS, 1, 1, 1, "a", "/a");
	ev_exec(b, C0 + 20 * MS, 2, 2, 1, "b", "/b");
	ev_exec(b, C0 + 20 * MS, 4, 4, 1, "b2", "/b2"); /* equal times: arrival order */
	ev_exec(b, C0 + 5 * MS, 5, 5, 1, "z", "/z");
	ck_assert_uint_eq(b->execs_n, 5);
	ck_assert_str_eq(b->execs[0].file, "/z");
	ck_assert_str_eq(b->execs[1].file, "/a");
	ck_assert_str_eq(b->execs[2].file, "/b");
	ck_assert_str_eq(b->execs[3].file, "/b2");
	ck_assert_str_eq(b->execs[4].file, "/c");
	/* every field moved with its entry */
	ck_assert_uint_eq(b->execs[0].ts_ns, C0 + 5 * MS);
	ck_assert_uint_eq(b->execs[0].pid, 5);
	ck_assert_str_eq(b->execs[0].comm, "z");
	ck_assert_str_eq(b->execs[0].exe, "/z");
	ck_assert_str_eq(b->execs[0].args, "/z");
	ck_assert_uint_eq(b->execs[4].pid, 3);
	ck_assert_str_eq(b->execs[4].comm, "c");
	ck_assert_str_eq(b->execs[4].args, "/c");
	ck_assert_uint_eq(b->last_activity_ns, C0 + 30 * MS);
	kg_birth_free(b);
}
END_TEST

/* argv as the kernel hands it over, and the one line it becomes. */
#define A(lit) lit, sizeof(lit) - 1 /* bytes with their embedded NULs */

static const struct {
	const char *args;
	size_t size;
	uint32_t len;
	bool argv0_only;
	const char *want;
} args_cases[] = {
	{ A("sh\0-c\0echo hi\0"), 15, false, "sh -c echo hi" },
	{ A("/pause\0"), 7, false, "/pause" },
	{ A("a\0\0\0"), 4, false, "a" }, /* trailing separators go */
	{ A("\0\0"), 2, false, "" },
	{ A(""), 0, false, "" },
	{ A("a\0\0b\0"), 5, false, "a  b" }, /* an empty argument stays visible */
	{ A("a\tb\0c\x7f\0"), 7, false, "a?b c?" }, /* control bytes cannot forge lines */
	{ A("x\ny\0\x1b[31m\0"), 11, false, "x?y ?[31m" },
	{ A("caf\xc3\xa9\0"), 6, false, "caf\xc3\xa9" }, /* UTF-8 passes */
	{ A("sh\0-c\0true\0"), 5, false, "sh -c" }, /* only args_len bytes count */
	/* argv near the stack top: only argv[0] was read, whatever args_len says */
	{ A("nginx\0-g\0daemon off;\0"), 22, true, "nginx" },
	{ A("nginx\0-g\0daemon off;\0"), 0, true, "nginx" },
};

START_TEST(test_exec_args)
{
	struct kg_birth *b = new_birth();

	ev_exec_full(b, C0 + 1, 9, 9, 1, "runc", "/bin/sh", "sh", args_cases[_i].args,
		     args_cases[_i].size, args_cases[_i].len, args_cases[_i].argv0_only);
	ck_assert_uint_eq(b->execs_n, 1);
	ck_assert_str_eq(b->execs[0].args, args_cases[_i].want);
	ck_assert_str_eq(b->execs[0].exe, "sh");
	ck_assert_str_eq(b->execs[0].file, "/bin/sh");
	kg_birth_free(b);
}
END_TEST

START_TEST(test_exec_args_bounds)
{
	struct kg_birth *b = new_birth();
	char args[KG_ARGS_LEN], exe[KG_EXE_LEN];

	/* args_len beyond the buffer (the kernel's own length) is cut to the buffer */
	memset(args, 'x', sizeof(args));
	memset(exe, 'e', sizeof(exe));
	ev_exec_full(b, C0 + 1, 9, 9, 1, "runc", "/x", exe, args, sizeof(args), 100000, false);
	ck_assert_uint_eq(strlen(b->execs[0].args), KG_ARGS_LEN);
	ck_assert_int_eq(memcmp(b->execs[0].args, args, KG_ARGS_LEN), 0);
	/* an exe name filling its field is terminated */
	ck_assert_uint_eq(strlen(b->execs[0].exe), KG_EXE_LEN - 1);
	/* argv[0] alone with no NUL in the whole field */
	ev_exec_full(b, C0 + 2, 9, 9, 1, "runc", "/x", "x", args, sizeof(args), 7, true);
	ck_assert_uint_eq(strlen(b->execs[1].args), KG_ARGS_LEN);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_firsts_out_of_order)
{
	struct kg_birth *b = new_birth();

	/* the first to arrive is not the first to happen: the earliest wins */
	ev_attach(b, C0 + 5 * MS, 200, 200, "late");
	ev_attach(b, C0 + 2 * MS, 100, 100, "runc");
	ev_attach(b, C0 + 9 * MS, 300, 300, "later");
	ck_assert_uint_eq(b->attached_ns, C0 + 2 * MS);
	ck_assert_uint_eq(b->attach_pid, 100);
	ck_assert_str_eq(b->attach_comm, "runc");

	ev_ns(b, C0 + 8 * MS, KG_NR_unshare, KG_CLONE_NEWNS, 0);
	ev_ns(b, C0 + 1 * MS, KG_NR_unshare, KG_CLONE_NEWNET, -EPERM); /* failed: no */
	ev_ns(b, C0 + 6 * MS, KG_NR_clone, KG_CLONE_NEWPID, 77);
	ev_ns(b, C0 + 3 * MS, KG_NR_setns, KG_CLONE_NEWNET, 0); /* joined: no */
	ck_assert_uint_eq(b->first_ns_created_ns, C0 + 6 * MS);

	ev_listen(b, C0 + 90 * MS, 131, 130, "worker");
	ev_listen(b, C0 + 40 * MS, 121, 120, "nginx");
	ev_listen(b, C0 + 60 * MS, 141, 140, "other");
	ck_assert_uint_eq(b->ready_ns, C0 + 40 * MS);
	ck_assert_uint_eq(b->ready_pid, 120);
	ck_assert_str_eq(b->ready_comm, "nginx");
	ck_assert_uint_eq(b->last_activity_ns, C0 + 90 * MS);
	kg_birth_free(b);
}
END_TEST

/* ---- settling ---- */

static const struct kg_birth_rules rules = { .quiet_ms = 1000, .ready_ms = 250, .max_ms = 30000 };

/* kg_birth_check() one nanosecond before t is NONE and at t is want. */
static void assert_boundary(const struct kg_birth *b, const struct kg_birth_counts *k,
			    const struct kg_birth_rules *r, uint64_t t, enum kg_settle_reason want)
{
	enum kg_settle_reason before = kg_birth_check(b, t - 1, k, r);
	enum kg_settle_reason at = kg_birth_check(b, t, k, r);

	ck_assert_msg(before == KG_SETTLE_NONE, "at t-1 (%llu): %s, want none",
		      (unsigned long long)(t - 1), kg_settle_reason_name(before));
	ck_assert_msg(at == want, "at t (%llu): %s, want %s", (unsigned long long)t,
		      kg_settle_reason_name(at), kg_settle_reason_name(want));
	/* and it stays settled afterwards */
	ck_assert_int_eq(kg_birth_check(b, t + 1, k, r), want);
}

START_TEST(test_check_timeout_without_task)
{
	struct kg_birth *b = new_birth();

	/* nothing ever joined: never quiet, it just times out at max_ms */
	ck_assert_int_eq(kg_birth_check(b, C0, NULL, &rules), KG_SETTLE_NONE);
	ck_assert_int_eq(kg_birth_check(b, C0 + 29999 * MS, NULL, &rules), KG_SETTLE_NONE);
	assert_boundary(b, NULL, &rules, C0 + 30000 * MS, KG_SETTLE_TIMEOUT);
	/* empty kernel counts change nothing */
	{
		struct kg_birth_counts k;

		memset(&k, 0, sizeof(k));
		k.created_ns = C0;
		assert_boundary(b, &k, &rules, C0 + 30000 * MS, KG_SETTLE_TIMEOUT);
	}
	kg_birth_free(b);
}
END_TEST

START_TEST(test_check_quiet)
{
	struct kg_birth *b = new_birth();

	ev_attach(b, C0 + 1 * MS, 100, 100, "runc");
	ev_exec(b, C0 + 5 * MS, 100, 100, 1, "runc", "/app");
	ev_open(b, C0 + 17 * MS, 3, "/etc/hosts");
	/* quiet_ms after the last activity, not before */
	assert_boundary(b, NULL, &rules, C0 + 1017 * MS, KG_SETTLE_QUIET);
	/* more activity pushes it out */
	ev_open(b, C0 + 900 * MS, 3, "/etc/hosts");
	assert_boundary(b, NULL, &rules, C0 + 1900 * MS, KG_SETTLE_QUIET);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_check_quiet_counts_from_first_task)
{
	struct kg_birth *b = new_birth();
	struct kg_birth_counts k;

	/*
	 * The runtime was slow to move the first task in: quiet_ms counts from its
	 * arrival, or the start would settle the moment it began.
	 */
	ev_attach(b, C0 + 5000 * MS, 100, 100, "runc");
	ck_assert_int_eq(kg_birth_check(b, C0 + 5000 * MS, NULL, &rules), KG_SETTLE_NONE);
	assert_boundary(b, NULL, &rules, C0 + 6000 * MS, KG_SETTLE_QUIET);
	/* activity after the attach moves it as usual */
	ev_exec(b, C0 + 5500 * MS, 100, 100, 1, "runc", "/app");
	assert_boundary(b, NULL, &rules, C0 + 6500 * MS, KG_SETTLE_QUIET);
	kg_birth_free(b);

	/* the same when only the kernel saw the task arrive (its event was lost) */
	b = new_birth();
	memset(&k, 0, sizeof(k));
	k.created_ns = C0;
	k.first_task_ns = C0 + 3000 * MS;
	assert_boundary(b, &k, &rules, C0 + 4000 * MS, KG_SETTLE_QUIET);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_check_quiet_kernel_only)
{
	struct kg_birth *b = new_birth();
	struct kg_birth_counts k;

	/*
	 * No event at all (every one was dropped), but the kernel's counts show a
	 * task arrived: the start can settle quiet; without them it only times out.
	 */
	memset(&k, 0, sizeof(k));
	k.created_ns = C0;
	k.first_task_ns = C0 + 2 * MS;
	k.syscalls = 500;
	assert_boundary(b, &k, &rules, C0 + 1002 * MS, KG_SETTLE_QUIET);
	ck_assert_int_eq(kg_birth_check(b, C0 + 1002 * MS, NULL, &rules), KG_SETTLE_NONE);
	/* a first syscall alone is proof enough that a task was there */
	k.first_task_ns = 0;
	k.first_syscall_ns = C0 + 2 * MS;
	assert_boundary(b, &k, &rules, C0 + 1000 * MS, KG_SETTLE_QUIET);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_check_ready)
{
	struct kg_birth *b = new_birth();

	ev_attach(b, C0 + 1 * MS, 100, 100, "runc");
	ev_exec(b, C0 + 5 * MS, 100, 100, 1, "runc", "/app");
	ev_listen(b, C0 + 300 * MS, 100, 100, "app");
	/* ready_ms after the first listen */
	assert_boundary(b, NULL, &rules, C0 + 550 * MS, KG_SETTLE_READY);
	/* activity after the listen does not delay it */
	ev_open(b, C0 + 540 * MS, 3, "/srv/index.html");
	ev_listen(b, C0 + 545 * MS, 100, 100, "app");
	assert_boundary(b, NULL, &rules, C0 + 550 * MS, KG_SETTLE_READY);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_check_ready_zero)
{
	struct kg_birth *b = new_birth();
	struct kg_birth_rules r = rules;

	r.ready_ms = 0;
	ev_attach(b, C0 + 1 * MS, 100, 100, "runc");
	ev_listen(b, C0 + 7 * MS, 100, 100, "app");
	assert_boundary(b, NULL, &r, C0 + 7 * MS, KG_SETTLE_READY);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_check_priorities)
{
	struct kg_birth_rules r = { .quiet_ms = 100, .ready_ms = 100, .max_ms = 100 };
	struct kg_birth *b = new_birth();
	uint64_t t = C0 + 100 * MS;

	/* at one instant where quiet and timeout both hold: quiet */
	ev_attach(b, C0, 100, 100, "runc");
	ck_assert_int_eq(kg_birth_check(b, t, NULL, &r), KG_SETTLE_QUIET);
	/* ready and quiet and timeout: ready */
	ev_listen(b, C0, 100, 100, "app");
	ck_assert_int_eq(kg_birth_check(b, t, NULL, &r), KG_SETTLE_READY);
	/* everything exited: exited beats all of them, at any time */
	ev_exit(b, C0, 100);
	ck_assert_int_eq(kg_birth_check(b, t, NULL, &r), KG_SETTLE_EXITED);
	ck_assert_int_eq(kg_birth_check(b, C0, NULL, &r), KG_SETTLE_EXITED);
	kg_birth_free(b);

	/* activity right up to the deadline: the timeout still ends it */
	b = new_birth();
	ev_attach(b, C0 + 1 * MS, 100, 100, "runc");
	for (uint64_t ms = 500; ms <= 30000; ms += 500)
		ev_open(b, C0 + ms * MS, 3, "/busy");
	assert_boundary(b, NULL, &rules, C0 + 30000 * MS, KG_SETTLE_TIMEOUT);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_check_exited)
{
	struct kg_birth *b = new_birth();

	ev_attach(b, C0 + 1 * MS, 100, 100, "runc");
	ev_fork(b, C0 + 2 * MS, 100, 110, false);
	ev_fork(b, C0 + 3 * MS, 110, 111, true);
	ev_exit(b, C0 + 4 * MS, 110);
	ck_assert_int_eq(kg_birth_check(b, C0 + 4 * MS, NULL, &rules), KG_SETTLE_NONE);
	ev_exit(b, C0 + 5 * MS, 100);
	/* the last process gone: settled at once, whatever the clock */
	ck_assert_int_eq(kg_birth_check(b, C0 + 5 * MS, NULL, &rules), KG_SETTLE_EXITED);
	kg_birth_free(b);

	/* without the attach (its event lost) live cannot be trusted: not "exited" */
	b = new_birth();
	ev_fork(b, C0 + 2 * MS, 100, 110, false);
	ev_exit(b, C0 + 3 * MS, 110);
	ev_exit(b, C0 + 4 * MS, 100);
	ck_assert_int_le(b->live, 0);
	ck_assert_int_eq(kg_birth_check(b, C0 + 5 * MS, NULL, &rules), KG_SETTLE_NONE);
	assert_boundary(b, NULL, &rules, C0 + 1004 * MS, KG_SETTLE_QUIET);
	kg_birth_free(b);

	/* a thread-only attach keeps live at zero: nothing lives, so it exited */
	b = new_birth();
	ev_attach(b, C0 + 1 * MS, 101, 100, "runc");
	ck_assert_int_eq(b->live, 0);
	ck_assert_int_eq(kg_birth_check(b, C0 + 1 * MS, NULL, &rules), KG_SETTLE_EXITED);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_check_settled_is_final)
{
	struct kg_birth *b = new_birth();

	kg_birth_settle(b, KG_SETTLE_REMOVED, C0 + 5 * MS, NULL);
	ck_assert_int_eq(kg_birth_check(b, C0 + 100000 * MS, NULL, &rules), KG_SETTLE_NONE);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_settle)
{
	struct kg_birth *b = new_birth();
	struct kg_birth_counts *k = calloc(1, sizeof(*k));

	k->syscalls = 1285;
	k->created_ns = C0;
	k->first_task_ns = C0 + 1 * MS;
	k->first_syscall_ns = C0 + 2 * MS;
	k->last_syscall_ns = C0 + 900 * MS;
	k->execs = 3;
	k->processes = 4;
	k->threads = 9;
	k->exits = 1;
	k->opens = 120;
	k->opens_failed = 17;
	k->namespaces = 6;
	k->setns = 1;
	k->mounts = 22;
	k->listens = 1;
	k->events_dropped = 2;
	k->by_nr[KG_NR_openat] = 100;
	k->by_nr[KG_NR_SYSCALLS - 1] = 5;

	/* the kernel's task is proof a task was there even with no event of ours */
	ck_assert(!b->had_task);
	kg_birth_settle(b, KG_SETTLE_READY, C0 + 1000 * MS, k);
	ck_assert_int_eq(b->reason, KG_SETTLE_READY);
	ck_assert_uint_eq(b->settled_ns, C0 + 1000 * MS);
	ck_assert(b->have_kernel);
	ck_assert(b->had_task);
	ck_assert_int_eq(memcmp(&b->kernel, k, sizeof(*k)), 0);

	/* settling twice keeps the first verdict and counts */
	k->syscalls = 1;
	kg_birth_settle(b, KG_SETTLE_TIMEOUT, C0 + 9000 * MS, k);
	ck_assert_int_eq(b->reason, KG_SETTLE_READY);
	ck_assert_uint_eq(b->settled_ns, C0 + 1000 * MS);
	ck_assert_uint_eq(b->kernel.syscalls, 1285);
	kg_birth_free(b);

	/* without kernel counts */
	b = new_birth();
	kg_birth_settle(b, KG_SETTLE_TIMEOUT, C0 + 30000 * MS, NULL);
	ck_assert_int_eq(b->reason, KG_SETTLE_TIMEOUT);
	ck_assert(!b->have_kernel);
	ck_assert(!b->had_task); /* the caller drops such a birth */
	ck_assert_uint_eq(b->kernel.syscalls, 0);
	kg_birth_free(b);

	/* kernel counts without a task leave had_task alone */
	b = new_birth();
	k->first_task_ns = 0;
	kg_birth_settle(b, KG_SETTLE_TIMEOUT, C0 + 30000 * MS, k);
	ck_assert(b->have_kernel);
	ck_assert(!b->had_task);
	kg_birth_free(b);
	free(k);
}
END_TEST

START_TEST(test_names)
{
	static const char *const reasons[] = { "none",	  "ready",   "quiet",	      "exited",
					       "removed", "timeout", "agent-shutdown" };

	for (int r = 0; r < N(reasons); r++)
		ck_assert_str_eq(kg_settle_reason_name(r), reasons[r]);
	ck_assert_str_eq(kg_settle_reason_name(KG_SETTLE_SHUTDOWN + 1), "unknown");
	ck_assert_str_eq(kg_settle_reason_name((enum kg_settle_reason) - 1), "unknown");
	ck_assert_str_eq(kg_ns_type_name(KG_NS_MNT), "mnt");
	ck_assert_str_eq(kg_ns_type_name(KG_NS_TIME), "time");
	ck_assert_str_eq(kg_ns_type_name(KG_NS_NR), "unknown");
	ck_assert_str_eq(kg_ns_type_name((enum kg_ns_type) - 1), "unknown");
}
END_TEST

/* ---- top lists ---- */

/* A birth whose files have the given open and failure counts, named f0, f1, ... */
static struct kg_birth *birth_with_files(const uint32_t *opens, const uint32_t *failed, unsigned n)
{
	struct kg_birth *b = new_birth();
	char name[32];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		for (uint32_t j = 0; j < opens[i]; j++)
			ev_open(b, C0 + 1, j < failed[i] ? -ENOENT : 3, name);
	}
	ck_assert_uint_eq(b->nfiles, n);
	return b;
}

START_TEST(test_top_files)
{
	/* f1 and f3 tie on opens, f0 and f4 tie on failures */
	static const uint32_t opens[] = { 3, 5, 1, 5, 2, 4 };
	static const uint32_t failed[] = { 2, 0, 1, 4, 2, 0 };
	struct kg_birth *b = birth_with_files(opens, failed, N(opens));
	unsigned idx[16];

	memset(idx, 0xff, sizeof(idx));
	ck_assert_uint_eq(kg_birth_top_files(b, false, idx, 10), 6);
	/* most first; ties in the order the paths were first seen */
	ck_assert_uint_eq(idx[0], 1);
	ck_assert_uint_eq(idx[1], 3);
	ck_assert_uint_eq(idx[2], 5);
	ck_assert_uint_eq(idx[3], 0);
	ck_assert_uint_eq(idx[4], 4);
	ck_assert_uint_eq(idx[5], 2);
	ck_assert_uint_eq(idx[6], 0xffffffffu); /* nothing written past what was returned */

	/* fewer slots than files: the largest, still ordered */
	memset(idx, 0xff, sizeof(idx));
	ck_assert_uint_eq(kg_birth_top_files(b, false, idx, 3), 3);
	ck_assert_uint_eq(idx[0], 1);
	ck_assert_uint_eq(idx[1], 3);
	ck_assert_uint_eq(idx[2], 5);
	ck_assert_uint_eq(idx[3], 0xffffffffu);
	ck_assert_uint_eq(kg_birth_top_files(b, false, idx, 1), 1);
	ck_assert_uint_eq(idx[0], 1);
	ck_assert_uint_eq(kg_birth_top_files(b, false, idx, 0), 0);

	/* by failures: files that never failed are left out */
	memset(idx, 0xff, sizeof(idx));
	ck_assert_uint_eq(kg_birth_top_files(b, true, idx, 10), 4);
	ck_assert_uint_eq(idx[0], 3);
	ck_assert_uint_eq(idx[1], 0);
	ck_assert_uint_eq(idx[2], 4);
	ck_assert_uint_eq(idx[3], 2);
	ck_assert_uint_eq(kg_birth_top_files(b, true, idx, 2), 2);
	ck_assert_uint_eq(idx[0], 3);
	ck_assert_uint_eq(idx[1], 0);
	kg_birth_free(b);

	/* no files, or none failed */
	b = new_birth();
	ck_assert_uint_eq(kg_birth_top_files(b, false, idx, 10), 0);
	ck_assert_uint_eq(kg_birth_top_files(b, true, idx, 10), 0);
	ev_open(b, C0 + 1, 3, "/ok");
	ck_assert_uint_eq(kg_birth_top_files(b, true, idx, 10), 0);
	ck_assert_uint_eq(kg_birth_top_files(b, false, idx, 10), 1);
	ck_assert_uint_eq(idx[0], 0);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_top_syscalls)
{
	struct kg_birth_counts *k = calloc(1, sizeof(*k));
	unsigned nr[KG_NR_SYSCALLS + 1];

	memset(nr, 0xff, sizeof(nr));
	ck_assert_uint_eq(kg_birth_top_syscalls(k, nr, 10), 0);
	ck_assert_uint_eq(nr[0], 0xffffffffu);

	k->by_nr[KG_NR_openat] = 50;
	k->by_nr[0] = 10;
	k->by_nr[1] = 50; /* ties with openat: the lower number first */
	k->by_nr[KG_NR_SYSCALLS - 1] = 7; /* the "other" slot is a slot like any */
	k->by_nr[3] = 1;
	k->by_nr[KG_NR_execve] = 0xffffffffu;

	ck_assert_uint_eq(kg_birth_top_syscalls(k, nr, 10), 6);
	ck_assert_uint_eq(nr[0], KG_NR_execve);
	ck_assert_uint_eq(nr[1], 1);
	ck_assert_uint_eq(nr[2], KG_NR_openat);
	ck_assert_uint_eq(nr[3], 0);
	ck_assert_uint_eq(nr[4], KG_NR_SYSCALLS - 1);
	ck_assert_uint_eq(nr[5], 3);
	ck_assert_uint_eq(nr[6], 0xffffffffu);

	memset(nr, 0xff, sizeof(nr));
	ck_assert_uint_eq(kg_birth_top_syscalls(k, nr, 3), 3);
	ck_assert_uint_eq(nr[0], KG_NR_execve);
	ck_assert_uint_eq(nr[1], 1);
	ck_assert_uint_eq(nr[2], KG_NR_openat);
	ck_assert_uint_eq(nr[3], 0xffffffffu);
	ck_assert_uint_eq(kg_birth_top_syscalls(k, nr, 0), 0);

	/* every slot in use, asked for all of them */
	for (unsigned i = 0; i < KG_NR_SYSCALLS; i++)
		k->by_nr[i] = i + 1;
	ck_assert_uint_eq(kg_birth_top_syscalls(k, nr, KG_NR_SYSCALLS), KG_NR_SYSCALLS);
	for (unsigned i = 0; i < KG_NR_SYSCALLS; i++)
		ck_assert_uint_eq(nr[i], KG_NR_SYSCALLS - 1 - i);
	free(k);
}
END_TEST

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* Reference: the index with the largest value not yet taken, lowest index on ties. */
static void ref_top(const uint32_t *v, unsigned nv, unsigned *out, unsigned *nout, unsigned n)
{
	bool taken[KG_NR_SYSCALLS] = { false };

	*nout = 0;
	while (*nout < n) {
		int best = -1;

		for (unsigned i = 0; i < nv; i++) {
			if (!taken[i] && v[i] && (best < 0 || v[i] > v[best]))
				best = i;
		}
		if (best < 0)
			break;
		taken[best] = true;
		out[(*nout)++] = best;
	}
}

START_TEST(test_top_random)
{
	struct kg_birth_counts *k = calloc(1, sizeof(*k));
	unsigned got[KG_NR_SYSCALLS], want[KG_NR_SYSCALLS], ng, nw;

	for (int round = 0; round < 300; round++) {
		unsigned n = rng() % 14, nfiles = rng() % 40;
		uint32_t opens[40], failed[40];
		struct kg_birth *b;

		/* sparse syscall counts with many ties */
		memset(k->by_nr, 0, sizeof(k->by_nr));
		for (unsigned i = 0; i < KG_NR_SYSCALLS; i++)
			k->by_nr[i] = rng() % 4 == 0 ? rng() % 6 : 0;
		nw = 0;
		ref_top(k->by_nr, KG_NR_SYSCALLS, want, &nw, n);
		ng = kg_birth_top_syscalls(k, got, n);
		ck_assert_uint_eq(ng, nw);
		ck_assert_int_eq(memcmp(got, want, ng * sizeof(*got)), 0);

		for (unsigned i = 0; i < nfiles; i++) {
			opens[i] = 1 + rng() % 5;
			failed[i] = rng() % 2 ? rng() % (opens[i] + 1) : 0;
		}
		b = birth_with_files(opens, failed, nfiles);
		ref_top(opens, nfiles, want, &nw, n);
		ng = kg_birth_top_files(b, false, got, n);
		ck_assert_uint_eq(ng, nw);
		ck_assert_int_eq(memcmp(got, want, ng * sizeof(*got)), 0);
		ref_top(failed, nfiles, want, &nw, n);
		ng = kg_birth_top_files(b, true, got, n);
		ck_assert_uint_eq(ng, nw);
		ck_assert_int_eq(memcmp(got, want, ng * sizeof(*got)), 0);
		kg_birth_free(b);
	}
	free(k);
}
END_TEST

static Suite *birth_suite(void)
{
	Suite *s = suite_create("birth");
	TCase *tc;

	tc = tcase_create("record");
	tcase_add_test(tc, test_new);
	tcase_add_test(tc, test_exec_chain);
	tcase_add_test(tc, test_exec_cap);
	tcase_add_test(tc, test_exec_order);
	tcase_add_loop_test(tc, test_exec_args, 0, N(args_cases));
	tcase_add_test(tc, test_exec_args_bounds);
	tcase_add_test(tc, test_firsts_out_of_order);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_file_cap);
	tcase_add_loop_test(tc, test_namespace_bit, 0, N(ns_bits));
	tcase_add_test(tc, test_namespaces);
	tcase_add_test(tc, test_mounts);
	tcase_add_test(tc, test_live_processes);
	tcase_add_test(tc, test_attach_comm_full);
	tcase_add_test(tc, test_ready_first_listen);
	tcase_add_test(tc, test_other_event_types);
	tcase_add_test(tc, test_out_of_order_activity);
	tcase_add_test(tc, test_events_after_settle);
	suite_add_tcase(s, tc);

	tc = tcase_create("settle");
	tcase_add_test(tc, test_check_timeout_without_task);
	tcase_add_test(tc, test_check_quiet);
	tcase_add_test(tc, test_check_quiet_counts_from_first_task);
	tcase_add_test(tc, test_check_quiet_kernel_only);
	tcase_add_test(tc, test_check_ready);
	tcase_add_test(tc, test_check_ready_zero);
	tcase_add_test(tc, test_check_priorities);
	tcase_add_test(tc, test_check_exited);
	tcase_add_test(tc, test_check_settled_is_final);
	tcase_add_test(tc, test_settle);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("top");
	tcase_add_test(tc, test_top_files);
	tcase_add_test(tc, test_top_syscalls);
	tcase_add_test(tc, test_top_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(birth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
