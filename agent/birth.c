// SPDX-License-Identifier: GPL-2.0
/*
 * birth.c - see birth.h.
 *
 * Settling rules, in order: removed (rmdir, decided by the caller), exited
 * (all processes that ever lived in the cgroup are gone), ready (listen()
 * succeeded, then ready_ms), quiet (quiet_ms with no exec, fork, exit, open,
 * mount or namespace event after the first task arrived), timeout (max_ms
 * after creation). A cgroup no task ever joined is not a container start: it
 * times out with reason "timeout" and had_task false; the caller drops it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "birth.h"
#include "kg_syscalls.h"

#define NS_PER_MS 1000000ULL

static const char *const kg_reason_names[] = {
	[KG_SETTLE_NONE] = "none",	[KG_SETTLE_READY] = "ready",
	[KG_SETTLE_QUIET] = "quiet",	[KG_SETTLE_EXITED] = "exited",
	[KG_SETTLE_REMOVED] = "removed", [KG_SETTLE_TIMEOUT] = "timeout",
	[KG_SETTLE_SHUTDOWN] = "agent-shutdown",
};

static const char *const kg_ns_names[KG_NS_NR] = {
	"mnt", "uts", "ipc", "user", "pid", "net", "cgroup", "time",
};

static const uint32_t kg_ns_flags[KG_NS_NR] = {
	KG_CLONE_NEWNS,	 KG_CLONE_NEWUTS, KG_CLONE_NEWIPC,    KG_CLONE_NEWUSER,
	KG_CLONE_NEWPID, KG_CLONE_NEWNET, KG_CLONE_NEWCGROUP, KG_CLONE_NEWTIME,
};

const char *kg_settle_reason_name(enum kg_settle_reason r)
{
	return r <= KG_SETTLE_SHUTDOWN ? kg_reason_names[r] : "unknown";
}

const char *kg_ns_type_name(enum kg_ns_type t)
{
	return t < KG_NS_NR ? kg_ns_names[t] : "unknown";
}

struct kg_birth *kg_birth_new(uint64_t cgid, const char *path, uint64_t created_ns)
{
	struct kg_birth *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cgid = cgid;
	strncpy(b->path, path, sizeof(b->path) - 1);
	b->created_ns = created_ns;
	b->last_activity_ns = created_ns;
	return b;
}

void kg_birth_free(struct kg_birth *b)
{
	if (!b)
		return;
	for (uint32_t i = 0; i < b->nfiles; i++)
		free(b->files[i].path);
	free(b->files);
	free(b);
}

static struct kg_birth_file *kg_birth_file(struct kg_birth *b, const char *path)
{
	struct kg_birth_file *f;

	/* linear: a start opens tens to hundreds of distinct paths */
	for (uint32_t i = 0; i < b->nfiles; i++) {
		if (!strcmp(b->files[i].path, path))
			return &b->files[i];
	}
	if (b->nfiles >= KG_BIRTH_MAX_FILES)
		return NULL;
	if (b->nfiles == b->files_cap) {
		uint32_t cap = b->files_cap ? b->files_cap * 2 : 32;
		struct kg_birth_file *n = realloc(b->files, cap * sizeof(*n));

		if (!n)
			return NULL;
		b->files = n;
		b->files_cap = cap;
	}
	f = &b->files[b->nfiles];
	memset(f, 0, sizeof(*f));
	f->path = strndup(path, KG_FILE_LEN);
	if (!f->path)
		return NULL;
	b->nfiles++;
	return f;
}

static void kg_birth_open(struct kg_birth *b, const struct kg_open_event *e)
{
	char name[KG_FILE_LEN + 1];
	struct kg_birth_file *f;

	memcpy(name, e->filename, KG_FILE_LEN);
	name[KG_FILE_LEN] = 0;
	f = kg_birth_file(b, name[0] ? name : "(unreadable)");
	if (!f) {
		b->opens_untracked++;
		return;
	}
	if (!f->opens && !f->failed)
		f->first_ns = e->hdr.ts_ns;
	f->opens++;
	if (e->ret < 0) {
		f->failed++;
		f->last_errno = (int32_t)-e->ret;
	}
}

/* argv as one line: NULs become spaces, other control bytes '?' */
static void kg_exec_args(const struct kg_exec_event *e, char *out, size_t outsz)
{
	size_t n = 0, len = e->args_len > KG_ARGS_LEN ? KG_ARGS_LEN : e->args_len;

	if (e->argv0_only)
		len = strnlen(e->args, KG_ARGS_LEN);
	for (size_t i = 0; i < len && n + 1 < outsz; i++) {
		unsigned char c = e->args[i];

		out[n++] = c == 0 ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = 0;
}

static void kg_birth_exec_ev(struct kg_birth *b, const struct kg_exec_event *e)
{
	struct kg_birth_exec *x;

	if (b->execs_n >= KG_BIRTH_MAX_EXECS) {
		b->execs_beyond++;
		return;
	}
	/* events reach us per CPU, not in time order: insert in place */
	x = &b->execs[b->execs_n];
	while (x > b->execs && x[-1].ts_ns > e->hdr.ts_ns) {
		*x = x[-1];
		x--;
	}
	b->execs_n++;
	x->ts_ns = e->hdr.ts_ns;
	x->syscalls_before = e->syscalls_before;
	x->pid = e->hdr.tgid;
	x->ppid = e->ppid;
	memcpy(x->comm, e->hdr.comm, KG_COMM_LEN);
	x->comm[KG_COMM_LEN - 1] = 0;
	memcpy(x->file, e->filename, KG_FILE_LEN);
	x->file[KG_FILE_LEN - 1] = 0;
	memcpy(x->exe, e->exe, KG_EXE_LEN);
	x->exe[KG_EXE_LEN - 1] = 0;
	kg_exec_args(e, x->args, sizeof(x->args));
}

static void kg_birth_ns(struct kg_birth *b, const struct kg_ns_event *e)
{
	if (e->ret < 0)
		return;
	if (e->syscall_nr == KG_NR_setns) {
		b->ns_joined++;
		return;
	}
	for (int t = 0; t < KG_NS_NR; t++) {
		if (e->flags & kg_ns_flags[t])
			b->ns_created[t]++;
	}
	if (!b->first_ns_created_ns || e->hdr.ts_ns < b->first_ns_created_ns)
		b->first_ns_created_ns = e->hdr.ts_ns;
}

static void kg_birth_mount(struct kg_birth *b, const struct kg_mount_event *e)
{
	struct kg_birth_mount *m;

	if (b->mounts_n >= KG_BIRTH_MAX_MOUNTS) {
		b->mounts_beyond++;
		return;
	}
	m = &b->mounts[b->mounts_n++];
	m->ts_ns = e->hdr.ts_ns;
	m->syscall_nr = e->syscall_nr;
	m->ret = (int32_t)e->ret;
	memcpy(m->target, e->target, sizeof(m->target) - 1);
	m->target[sizeof(m->target) - 1] = 0;
}

void kg_birth_event(struct kg_birth *b, const struct kg_event_hdr *h)
{
	if (b->reason != KG_SETTLE_NONE)
		return;	/* late events of a settled start belong to its life, not its birth */
	b->events++;
	switch (h->type) {
	case KG_EV_CGROUP_ATTACH:
		/* firsts are the earliest seen, not the first to arrive: rings are per CPU */
		if (!b->attached_ns || h->ts_ns < b->attached_ns) {
			b->attached_ns = h->ts_ns;
			b->attach_pid = h->tgid;
			memcpy(b->attach_comm, h->comm, KG_COMM_LEN);
			b->attach_comm[KG_COMM_LEN - 1] = 0;
		}
		if (h->pid == h->tgid) {	/* one event per thread of the process moved */
			b->live++;
			b->attached++;
		}
		b->had_task = true;
		return;	/* the runtime moving a task in is not activity of the workload */
	case KG_EV_EXEC:
		kg_birth_exec_ev(b, (const void *)h);
		break;
	case KG_EV_FORK:
		if (!((const struct kg_fork_event *)h)->is_thread)
			b->live++;
		b->had_task = true;
		break;
	case KG_EV_EXIT:
		b->live--;
		break;
	case KG_EV_OPEN:
		kg_birth_open(b, (const void *)h);
		break;
	case KG_EV_NAMESPACE:
		kg_birth_ns(b, (const void *)h);
		break;
	case KG_EV_MOUNT:
		kg_birth_mount(b, (const void *)h);
		break;
	case KG_EV_LISTEN:
		if (!b->ready_ns || h->ts_ns < b->ready_ns) {
			b->ready_ns = h->ts_ns;
			b->ready_pid = h->tgid;
			memcpy(b->ready_comm, h->comm, KG_COMM_LEN);
			b->ready_comm[KG_COMM_LEN - 1] = 0;
		}
		break;
	default:
		return;
	}
	b->had_task = true;	/* only tasks of the cgroup produce these */
	if (h->ts_ns > b->last_activity_ns)
		b->last_activity_ns = h->ts_ns;
}

enum kg_settle_reason kg_birth_check(const struct kg_birth *b, uint64_t now_ns,
				     const struct kg_birth_counts *k,
				     const struct kg_birth_rules *rules)
{
	bool had_task = b->had_task || (k && (k->first_task_ns || k->first_syscall_ns));
	uint64_t quiet_from = b->last_activity_ns;

	if (b->reason != KG_SETTLE_NONE)
		return KG_SETTLE_NONE;
	if (b->had_task && b->live <= 0 && b->attached_ns)
		return KG_SETTLE_EXITED;
	if (b->ready_ns && now_ns >= b->ready_ns + rules->ready_ms * NS_PER_MS)
		return KG_SETTLE_READY;
	/* quiet is counted from the first task's arrival at the earliest, not from mkdir */
	if (b->attached_ns > quiet_from)
		quiet_from = b->attached_ns;
	if (k && k->first_task_ns > quiet_from)
		quiet_from = k->first_task_ns;
	if (had_task && now_ns >= quiet_from + rules->quiet_ms * NS_PER_MS)
		return KG_SETTLE_QUIET;
	if (now_ns >= b->created_ns + rules->max_ms * NS_PER_MS)
		return KG_SETTLE_TIMEOUT;
	return KG_SETTLE_NONE;
}

void kg_birth_settle(struct kg_birth *b, enum kg_settle_reason reason, uint64_t now_ns,
		     const struct kg_birth_counts *k)
{
	if (b->reason != KG_SETTLE_NONE)
		return;
	b->reason = reason;
	b->settled_ns = now_ns;
	if (k) {
		b->kernel = *k;
		b->have_kernel = true;
		if (k->first_task_ns)
			b->had_task = true;
	}
}

unsigned kg_birth_top_files(const struct kg_birth *b, bool failed, unsigned *idx, unsigned n)
{
	unsigned got = 0;

	/* selection of the n largest: n is small (KG_BIRTH_TOP) */
	for (uint32_t i = 0; i < b->nfiles; i++) {
		uint32_t v = failed ? b->files[i].failed : b->files[i].opens;
		unsigned pos;

		if (!v)
			continue;
		for (pos = got; pos > 0; pos--) {
			const struct kg_birth_file *o = &b->files[idx[pos - 1]];

			if ((failed ? o->failed : o->opens) >= v)
				break;
		}
		if (pos >= n)
			continue;
		if (got < n)
			got++;
		memmove(&idx[pos + 1], &idx[pos], (got - 1 - pos) * sizeof(*idx));
		idx[pos] = i;
	}
	return got;
}

unsigned kg_birth_top_syscalls(const struct kg_birth_counts *k, unsigned *nr, unsigned n)
{
	unsigned got = 0;

	for (unsigned i = 0; i < KG_NR_SYSCALLS; i++) {
		uint32_t v = k->by_nr[i];
		unsigned pos;

		if (!v)
			continue;
		for (pos = got; pos > 0 && k->by_nr[nr[pos - 1]] < v; pos--)
			;
		if (pos >= n)
			continue;
		if (got < n)
			got++;
		memmove(&nr[pos + 1], &nr[pos], (got - 1 - pos) * sizeof(*nr));
		nr[pos] = i;
	}
	return got;
}
