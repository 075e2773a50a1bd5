// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_certificate.c - unit tests for agent/certificate.c and agent/resource.c.
 *
 * A pod start is replayed event by event into birth records (a pause sandbox
 * and an application container), settled with kernel counts, and the
 * PodBirthCertificate is checked field by field: the envelope, the per-pod
 * sums, every block of each container, the timeline and the completeness
 * verdict. Expected values are worked out by hand from the replayed events,
 * never read back from the code under test. Numbers with decimals are
 * checked as the text that gets written, since that is what a reader sees.
 */
#include <asm/unistd.h>
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certificate.h"
#include "kg_syscalls.h"
#include "syscall_names.h"

#define MS 1000000ULL
#define US 1000ULL
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Monotonic times; MONO_TO_REAL puts T0 at 2025-11-25T16:00:00Z. */
#define T0 (100000 * MS) /* sandbox cgroup created */
#define T1 (T0 + 1500 * MS) /* application cgroup created */
#define MONO_TO_REAL (1764086400LL * 1000000000LL - (int64_t)T0)

#define SB_ID "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
#define APP_ID "3b4f6c2d1e0a9f8e7d6c5b4a392817160f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define POD                                         \
	"/kubepods.slice/kubepods-burstable.slice/" \
	"kubepods-burstable-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice"
#define SB_PATH POD "/cri-containerd-" SB_ID ".scope"
#define APP_PATH POD "/cri-containerd-" APP_ID ".scope"

/* ---- JSON access: "a.b[2].c" ---- */

static json_object *jget_opt(json_object *o, const char *path)
{
	char buf[256], *save = NULL, *seg;

	snprintf(buf, sizeof(buf), "%s", path);
	for (seg = strtok_r(buf, ".", &save); seg && o; seg = strtok_r(NULL, ".", &save)) {
		char *br = strchr(seg, '[');

		if (br)
			*br = 0;
		if (*seg && !json_object_object_get_ex(o, seg, &o))
			return NULL;
		while (br && o) {
			int i = atoi(br + 1);

			if (!json_object_is_type(o, json_type_array) ||
			    i >= (int)json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, i);
			br = strchr(br + 1, '[');
		}
	}
	return o;
}

static json_object *jget(json_object *o, const char *path)
{
	json_object *v = jget_opt(o, path);

	ck_assert_msg(v != NULL, "no %s in %s", path,
		      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return v;
}

static bool jhas(json_object *o, const char *path)
{
	return jget_opt(o, path) != NULL;
}

static const char *jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", path);
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	ck_assert_msg(json_object_is_type(v, json_type_int), "%s is not an integer", path);
	return json_object_get_int64(v);
}

static bool jbool(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	ck_assert_msg(json_object_is_type(v, json_type_boolean), "%s is not a boolean", path);
	return json_object_get_boolean(v);
}

/* A number as written to the file. */
static const char *jnum(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	ck_assert_msg(json_object_is_type(v, json_type_double), "%s is not a double", path);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static int jlen(json_object *o, const char *path)
{
	json_object *v = jget(o, path);

	ck_assert_msg(json_object_is_type(v, json_type_array), "%s is not an array", path);
	return (int)json_object_array_length(v);
}

static int jkeys(json_object *o, const char *path)
{
	json_object *v = path ? jget(o, path) : o;
	int n = 0;

	ck_assert(json_object_is_type(v, json_type_object));
	json_object_object_foreach(v, key, val) {
		(void)key;
		(void)val;
		n++;
	}
	return n;
}

#define ASSERT_STR(o, path, want) ck_assert_str_eq(jstr(o, path), want)
#define ASSERT_INT(o, path, want) ck_assert_int_eq(jint(o, path), want)
#define ASSERT_NUM(o, path, want) ck_assert_str_eq(jnum(o, path), want)

/* ---- building births from events ---- */

static void fill(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, strnlen(src, n));
}

static void hdr(struct kg_event_hdr *h, enum kg_event_type type, uint64_t ts, uint32_t tgid,
		const char *comm)
{
	h->type = type;
	h->pid = tgid;
	h->tgid = tgid;
	h->ts_ns = ts;
	fill(h->comm, comm, KG_COMM_LEN);
}

static void ev_attach(struct kg_birth *b, uint64_t ts, uint32_t tgid, const char *comm)
{
	struct kg_cgroup_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_CGROUP_ATTACH, ts, tgid, comm);
	kg_birth_event(b, &e.hdr);
}

static void ev_exec(struct kg_birth *b, uint64_t ts, uint32_t tgid, uint32_t ppid, const char *file,
		    const char *exe, const char *args, size_t args_len)
{
	struct kg_exec_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_EXEC, ts, tgid, "runc:[2:INIT]");
	e.ppid = ppid;
	fill(e.filename, file, KG_FILE_LEN);
	fill(e.exe, exe, KG_EXE_LEN);
	memcpy(e.args, args, args_len);
	e.args_len = args_len;
	kg_birth_event(b, &e.hdr);
}

static void ev_open(struct kg_birth *b, uint64_t ts, int64_t ret, const char *file)
{
	struct kg_open_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_OPEN, ts, 601, "server");
	e.ret = ret;
	e.syscall_nr = KG_NR_openat;
	fill(e.filename, file, KG_FILE_LEN);
	kg_birth_event(b, &e.hdr);
}

static void ev_ns(struct kg_birth *b, uint64_t ts, uint32_t nr, uint64_t flags, int64_t ret)
{
	struct kg_ns_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_NAMESPACE, ts, 600, "runc:[1:CHILD]");
	e.ret = ret;
	e.flags = flags;
	e.syscall_nr = nr;
	kg_birth_event(b, &e.hdr);
}

static void ev_mount(struct kg_birth *b, uint64_t ts, uint32_t nr, int64_t ret, const char *target)
{
	struct kg_mount_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_MOUNT, ts, 600, "runc:[2:INIT]");
	e.ret = ret;
	e.syscall_nr = nr;
	fill(e.target, target, KG_FILE_LEN);
	kg_birth_event(b, &e.hdr);
}

static void ev_listen(struct kg_birth *b, uint64_t ts, uint32_t tgid, const char *comm)
{
	struct kg_mount_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, KG_EV_LISTEN, ts, tgid, comm);
	e.syscall_nr = KG_NR_listen;
	kg_birth_event(b, &e.hdr);
}

/* The first syscall number this architecture has no name for. */
static unsigned unnamed_nr(void)
{
	for (unsigned nr = 0; nr < KG_NR_SYSCALLS - 1; nr++) {
		if (!kg_syscall_name(nr))
			return nr;
	}
	ck_abort_msg("every slot has a name");
	return 0;
}

/* The pause container: one exec of /pause, settled quiet. */
static struct kg_birth *sandbox_birth(uint64_t settle_at)
{
	struct kg_birth *b = kg_birth_new(11, SB_PATH, T0);
	struct kg_birth_counts *k = calloc(1, sizeof(*k));

	b->cgroups_created = 1;
	ev_attach(b, T0 + 2 * MS, 500, "runc");
	ev_exec(b, T0 + 3 * MS, 500, 490, "/pause", "pause", "/pause", 7);
	k->syscalls = 120;
	k->created_ns = T0;
	k->first_task_ns = T0 + 2 * MS;
	k->first_syscall_ns = T0 + 2 * MS + 500 * US;
	k->execs = 1;
	k->opens = 5;
	k->opens_failed = 1;
	k->namespaces = 5;
	k->mounts = 10;
	k->by_nr[KG_NR_execve] = 1;
	k->by_nr[KG_NR_openat] = 5;
	kg_birth_settle(b, KG_SETTLE_QUIET, settle_at, k);
	free(k);
	return b;
}

/* The application: tini then the server, files, namespaces, mounts, a listen. */
static struct kg_birth *app_birth(uint64_t settle_at, uint32_t dropped)
{
	static const char tini_args[] = "tini\0--\0/app/server\0";
	static const char server_args[] = "/app/server\0--port=8080\0";
	struct kg_birth *b = kg_birth_new(12, APP_PATH, T1);
	struct kg_birth_counts *k = calloc(1, sizeof(*k));

	b->cgroups_created = 2;
	ev_attach(b, T1 + 1250 * US, 600, "runc");
	ev_ns(b, T1 + 2 * MS, KG_NR_clone3,
	      KG_CLONE_NEWNS | KG_CLONE_NEWUTS | KG_CLONE_NEWIPC | KG_CLONE_NEWPID |
		      KG_CLONE_NEWCGROUP,
	      600);
	ev_ns(b, T1 + 2100 * US, KG_NR_setns, KG_CLONE_NEWNET, 0);
	ev_mount(b, T1 + 3 * MS, KG_NR_mount, 0, "/proc");
	ev_mount(b, T1 + 3100 * US, KG_NR_mount, -EPERM, "/sys");
	ev_mount(b, T1 + 3200 * US, KG_NR_pivot_root, 0, "");
	ev_exec(b, T1 + 4125 * US, 600, 590, "/usr/bin/tini", "tini", tini_args,
		sizeof(tini_args) - 1);
	ev_exec(b, T1 + 6 * MS, 601, 600, "/app/server", "server", server_args,
		sizeof(server_args) - 1);
	ev_open(b, T1 + 7 * MS, 3, "/etc/hosts");
	ev_open(b, T1 + 8 * MS, -ENOENT, "/etc/ssl/cert.pem");
	ev_open(b, T1 + 9 * MS, 4, "/app/config.yaml");
	ev_open(b, T1 + 10 * MS, -ENOENT, "/etc/ssl/cert.pem");
	ev_open(b, T1 + 11 * MS, -EACCES, "/proc/self/oom_score_adj");
	ev_open(b, T1 + 12 * MS, 5, "/etc/hosts");
	ev_open(b, T1 + 13 * MS, -ENOENT, "/etc/ssl/cert.pem");
	ev_listen(b, T1 + 250500 * US, 601, "server");
	ev_open(b, T1 + 300 * MS, 6, "/app/late.txt");

	k->syscalls = 1285;
	k->created_ns = T1;
	k->first_task_ns = T1 + 1250 * US;
	k->first_syscall_ns = T1 + 1500 * US;
	k->last_syscall_ns = T1 + 400 * MS;
	k->execs = 2;
	k->processes = 3;
	k->threads = 7;
	k->exits = 1;
	k->opens = 8;
	k->opens_failed = 4;
	k->namespaces = 5;
	k->setns = 1;
	k->mounts = 2;
	k->listens = 1;
	k->events_dropped = dropped;
	k->by_nr[KG_NR_openat] = 400;
	k->by_nr[__NR_read] = 300;
	k->by_nr[KG_NR_SYSCALLS - 1] = 35; /* numbers beyond the table */
	k->by_nr[unnamed_nr()] = 11;
	k->by_nr[KG_NR_execve] = 2;
	kg_birth_settle(b, KG_SETTLE_READY, settle_at, k);
	free(k);
	return b;
}

static struct kg_resource_meta pod_meta(void)
{
	struct kg_resource_meta m;

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "web-1-birth");
	snprintf(m.pod_name, sizeof(m.pod_name), "web-1");
	snprintf(m.pod_uid, sizeof(m.pod_uid), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	snprintf(m.node, sizeof(m.node), "node-a");
	/* overwritten with the headline container's */
	snprintf(m.cgroup_path, sizeof(m.cgroup_path), "/stale");
	snprintf(m.container_id, sizeof(m.container_id), "stale");
	m.driver = "systemd";
	m.qos = "burstable";
	m.hooks = "fentry";
	m.mono_to_real_ns = MONO_TO_REAL;
	return m;
}

/* ---- one container ---- */

START_TEST(test_birth_json_app)
{
	struct kg_birth *b = app_birth(T1 + 500500 * US, 0);
	struct kg_cert_container c = { b, APP_ID, "containerd" };
	json_object *j = kg_birth_json(&c, MONO_TO_REAL);
	char name[32];

	ASSERT_STR(j, "containerID", APP_ID);
	ASSERT_STR(j, "cgroupPath", APP_PATH);
	ASSERT_STR(j, "runtime", "containerd");
	ASSERT_STR(j, "role", "container");
	ASSERT_STR(j, "bornAt", "2025-11-25T16:00:01.500000Z");
	ASSERT_STR(j, "settledAt", "2025-11-25T16:00:02.000500Z");
	/* ready: created to the first listen, not to the settle or the last open */
	ASSERT_NUM(j, "durationMs", "250.500");
	ASSERT_STR(j, "settledBy", "ready");

	/* syscalls: the kernel's total; top by count with names */
	ASSERT_INT(j, "syscalls.total", 1285);
	ck_assert_int_eq(jlen(j, "syscalls.top"), 5);
	ASSERT_STR(j, "syscalls.top[0].name", "openat");
	ASSERT_INT(j, "syscalls.top[0].number", KG_NR_openat);
	ASSERT_INT(j, "syscalls.top[0].count", 400);
	ASSERT_STR(j, "syscalls.top[1].name", "read");
	ASSERT_INT(j, "syscalls.top[1].number", __NR_read);
	ASSERT_INT(j, "syscalls.top[1].count", 300);
	ASSERT_STR(j, "syscalls.top[2].name", "other");
	ASSERT_INT(j, "syscalls.top[2].number", KG_NR_SYSCALLS - 1);
	ASSERT_INT(j, "syscalls.top[2].count", 35);
	snprintf(name, sizeof(name), "syscall_%u", unnamed_nr());
	ASSERT_STR(j, "syscalls.top[3].name", name);
	ASSERT_INT(j, "syscalls.top[3].count", 11);
	ASSERT_STR(j, "syscalls.top[4].name", "execve");
	ASSERT_INT(j, "syscalls.top[4].count", 2);
#ifdef __x86_64__
	ASSERT_INT(j, "syscalls.top[0].number", 257);
	ASSERT_INT(j, "syscalls.top[3].number", 335); /* x86_64 has no 335..423 */
#endif

	/* processes: the kernel's, plus the one the runtime moved in */
	ASSERT_INT(j, "processes.created", 3);
	ASSERT_INT(j, "processes.total", 4);
	ASSERT_INT(j, "processes.threads", 7);
	ASSERT_INT(j, "processes.exited", 1);

	/* execs: the kernel's count, the chain from events */
	ASSERT_INT(j, "execs.total", 2);
	ck_assert(!jhas(j, "execs.notListed"));
	ck_assert_int_eq(jlen(j, "execs.chain"), 2);
	ASSERT_NUM(j, "execs.chain[0].atMs", "4.125");
	ASSERT_INT(j, "execs.chain[0].pid", 600);
	ASSERT_INT(j, "execs.chain[0].ppid", 590);
	ASSERT_STR(j, "execs.chain[0].binary", "/usr/bin/tini");
	ASSERT_STR(j, "execs.chain[0].exe", "tini");
	ASSERT_STR(j, "execs.chain[0].args", "tini -- /app/server");
	ASSERT_NUM(j, "execs.chain[1].atMs", "6.000");
	ASSERT_INT(j, "execs.chain[1].pid", 601);
	ASSERT_INT(j, "execs.chain[1].ppid", 600);
	ASSERT_STR(j, "execs.chain[1].binary", "/app/server");
	ASSERT_STR(j, "execs.chain[1].args", "/app/server --port=8080");

	/* files: totals from the kernel, detail from events */
	ASSERT_INT(j, "files.opened", 8);
	ASSERT_INT(j, "files.failed", 4);
	ASSERT_INT(j, "files.distinctPaths", 5);
	ck_assert_int_eq(jlen(j, "files.top"), 5);
	ASSERT_STR(j, "files.top[0].path", "/etc/ssl/cert.pem");
	ASSERT_INT(j, "files.top[0].opens", 3);
	ASSERT_INT(j, "files.top[0].failed", 3);
	ASSERT_STR(j, "files.top[1].path", "/etc/hosts");
	ASSERT_INT(j, "files.top[1].opens", 2);
	ASSERT_INT(j, "files.top[1].failed", 0);
	/* one open each: in the order first seen */
	ASSERT_STR(j, "files.top[2].path", "/app/config.yaml");
	ASSERT_STR(j, "files.top[3].path", "/proc/self/oom_score_adj");
	ASSERT_INT(j, "files.top[3].failed", 1);
	ASSERT_STR(j, "files.top[4].path", "/app/late.txt"); /* after ready, before settle */
	ck_assert_int_eq(jlen(j, "files.topFailed"), 2);
	ASSERT_STR(j, "files.topFailed[0].path", "/etc/ssl/cert.pem");
	ASSERT_INT(j, "files.topFailed[0].failures", 3);
	ASSERT_STR(j, "files.topFailed[0].error", "ENOENT");
	ASSERT_STR(j, "files.topFailed[1].path", "/proc/self/oom_score_adj");
	ASSERT_INT(j, "files.topFailed[1].failures", 1);
	ASSERT_STR(j, "files.topFailed[1].error", "EACCES");

	/* namespaces: totals from the kernel, types from the events */
	ASSERT_INT(j, "namespaces.created", 5);
	ASSERT_INT(j, "namespaces.joined", 1);
	ck_assert_int_eq(jkeys(j, "namespaces.byType"), 5);
	ASSERT_INT(j, "namespaces.byType.mnt", 1);
	ASSERT_INT(j, "namespaces.byType.uts", 1);
	ASSERT_INT(j, "namespaces.byType.ipc", 1);
	ASSERT_INT(j, "namespaces.byType.pid", 1);
	ASSERT_INT(j, "namespaces.byType.cgroup", 1);
	ck_assert(!jhas(j, "namespaces.byType.net")); /* joined, not created */

	ASSERT_INT(j, "cgroups.created", 2);

	/* mounts: the kernel's successes; targets of successful mounts that had one */
	ASSERT_INT(j, "mounts.succeeded", 2);
	ck_assert_int_eq(jlen(j, "mounts.targets"), 1);
	ASSERT_STR(j, "mounts.targets[0]", "/proc");

	/* timeline: in time order, milliseconds after the cgroup's creation */
	ck_assert_int_eq(jlen(j, "timeline"), 7);
	ASSERT_STR(j, "timeline[0].phase", "cgroupCreated");
	ASSERT_NUM(j, "timeline[0].atMs", "0.000");
	ASSERT_STR(j, "timeline[0].detail", "2 cgroup directories (all hierarchies)");
	ASSERT_STR(j, "timeline[1].phase", "runtimeAttached");
	ASSERT_NUM(j, "timeline[1].atMs", "1.250");
	ASSERT_STR(j, "timeline[1].detail", "by runc[600]");
	ASSERT_STR(j, "timeline[2].phase", "firstSyscall");
	ASSERT_NUM(j, "timeline[2].atMs", "1.500");
	ck_assert(!jhas(j, "timeline[2].detail"));
	ASSERT_STR(j, "timeline[3].phase", "namespacesCreated");
	ASSERT_NUM(j, "timeline[3].atMs", "2.000");
	ASSERT_STR(j, "timeline[4].phase", "entrypointExec");
	ASSERT_NUM(j, "timeline[4].atMs", "4.125");
	ASSERT_STR(j, "timeline[4].detail", "/usr/bin/tini");
	ASSERT_STR(j, "timeline[5].phase", "ready");
	ASSERT_NUM(j, "timeline[5].atMs", "250.500");
	ASSERT_STR(j, "timeline[5].detail", "listen() by server[601]");
	ASSERT_STR(j, "timeline[6].phase", "settled");
	ASSERT_NUM(j, "timeline[6].atMs", "500.500");
	ASSERT_STR(j, "timeline[6].detail", "ready");

	ASSERT_INT(j, "completeness.eventsDropped", 0);
	ASSERT_INT(j, "completeness.opensOfUntrackedPaths", 0);
	ck_assert(jbool(j, "completeness.kernelCounts"));
	ck_assert(jbool(j, "completeness.complete"));

	json_object_put(j);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_birth_json_sandbox)
{
	struct kg_birth *b = sandbox_birth(T0 + 1003 * MS);
	struct kg_cert_container c = { b, SB_ID, NULL };
	json_object *j = kg_birth_json(&c, MONO_TO_REAL);

	ASSERT_STR(j, "role", "sandbox");
	ck_assert(!jhas(j, "runtime")); /* none given */
	ASSERT_STR(j, "settledBy", "quiet");
	/* not ready: to the last activity (the exec), not to the settle */
	ASSERT_NUM(j, "durationMs", "3.000");
	ASSERT_STR(j, "settledAt", "2025-11-25T16:00:01.003000Z");
	ASSERT_INT(j, "execs.total", 1);
	ASSERT_STR(j, "execs.chain[0].binary", "/pause");
	ASSERT_STR(j, "execs.chain[0].args", "/pause");
	ASSERT_STR(j, "timeline[0].detail", "1 cgroup directory (all hierarchies)");
	/* no listen, no namespace event: no such phases */
	ck_assert_int_eq(jlen(j, "timeline"), 5);
	ASSERT_STR(j, "timeline[1].phase", "runtimeAttached");
	ASSERT_STR(j, "timeline[2].phase", "firstSyscall");
	ASSERT_NUM(j, "timeline[2].atMs", "2.500");
	ASSERT_STR(j, "timeline[3].phase", "entrypointExec");
	ASSERT_STR(j, "timeline[4].phase", "settled");
	ASSERT_NUM(j, "timeline[4].atMs", "1003.000");
	ck_assert_int_eq(jlen(j, "files.top"), 0); /* the kernel counted opens, no events */
	ASSERT_INT(j, "files.opened", 5);
	ASSERT_INT(j, "files.distinctPaths", 0);
	ck_assert_int_eq(jkeys(j, "namespaces.byType"), 0);
	ASSERT_INT(j, "syscalls.top[0].count", 5);
	ASSERT_STR(j, "syscalls.top[0].name", "openat");
	json_object_put(j);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_birth_json_without_kernel)
{
	struct kg_birth *b = kg_birth_new(13, "/kg-test/a", T0);
	struct kg_cert_container c = { b, "", "" };
	json_object *j;

	/* the kernel's record was gone: what the events say, and no more */
	b->cgroups_created = 1;
	ev_attach(b, T0 + 1 * MS, 700, "sh");
	ev_exec(b, T0 + 2 * MS, 700, 1, "/bin/sh", "dash", "sh\0", 3);
	ev_ns(b, T0 + 3 * MS, KG_NR_unshare, KG_CLONE_NEWNS | KG_CLONE_NEWNET, 0);
	ev_ns(b, T0 + 4 * MS, KG_NR_setns, KG_CLONE_NEWIPC, 0);
	ev_open(b, T0 + 5 * MS, -ENOENT, "/x");
	ev_mount(b, T0 + 6 * MS, KG_NR_mount, 0, "/mnt");
	kg_birth_settle(b, KG_SETTLE_REMOVED, T0 + 50 * MS, NULL);
	j = kg_birth_json(&c, MONO_TO_REAL);

	ASSERT_STR(j, "containerID", "");
	ck_assert(!jhas(j, "runtime")); /* empty runtime: omitted */
	ASSERT_STR(j, "role", "container");
	ASSERT_STR(j, "settledBy", "removed");
	ASSERT_NUM(j, "durationMs", "6.000");
	ASSERT_INT(j, "syscalls.total", 0);
	ck_assert_int_eq(jlen(j, "syscalls.top"), 0);
	ASSERT_INT(j, "processes.created", 0);
	ASSERT_INT(j, "processes.total", 1);
	ASSERT_INT(j, "execs.total", 1); /* the chain's length */
	ASSERT_STR(j, "execs.chain[0].exe", "dash");
	ASSERT_INT(j, "files.opened", 0);
	ASSERT_INT(j, "files.failed", 0);
	ASSERT_INT(j, "files.distinctPaths", 1);
	ASSERT_STR(j, "files.topFailed[0].error", "ENOENT");
	ASSERT_INT(j, "namespaces.created", 2); /* the events' sum */
	ASSERT_INT(j, "namespaces.joined", 1);
	ASSERT_INT(j, "namespaces.byType.mnt", 1);
	ASSERT_INT(j, "namespaces.byType.net", 1);
	ASSERT_INT(j, "mounts.succeeded", 0);
	ASSERT_STR(j, "mounts.targets[0]", "/mnt");
	/* no firstSyscall phase without the kernel's record */
	ck_assert_int_eq(jlen(j, "timeline"), 5);
	ASSERT_STR(j, "timeline[1].phase", "runtimeAttached");
	ASSERT_STR(j, "timeline[2].phase", "entrypointExec");
	ASSERT_STR(j, "timeline[3].phase", "namespacesCreated");
	ASSERT_STR(j, "timeline[4].phase", "settled");
	ASSERT_STR(j, "timeline[4].detail", "removed");
	ASSERT_INT(j, "completeness.eventsDropped", 0);
	ck_assert(!jbool(j, "completeness.kernelCounts"));
	ck_assert(!jbool(j, "completeness.complete"));
	json_object_put(j);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_birth_json_incomplete)
{
	struct kg_birth *b;
	struct kg_cert_container c = { NULL, APP_ID, "containerd" };
	json_object *j;
	char name[32];

	/* events lost in the kernel */
	b = app_birth(T1 + 500500 * US, 3);
	c.birth = b;
	j = kg_birth_json(&c, MONO_TO_REAL);
	ASSERT_INT(j, "completeness.eventsDropped", 3);
	ck_assert(jbool(j, "completeness.kernelCounts"));
	ck_assert(!jbool(j, "completeness.complete"));
	json_object_put(j);
	kg_birth_free(b);

	/* paths beyond the file table */
	b = app_birth(T1 + 500500 * US, 0);
	b->reason = KG_SETTLE_NONE; /* reopen it to feed more events */
	for (unsigned i = 0; i < KG_BIRTH_MAX_FILES + 2; i++) {
		snprintf(name, sizeof(name), "/many/%u", i);
		ev_open(b, T1 + 20 * MS, 3, name);
	}
	b->reason = KG_SETTLE_READY;
	c.birth = b;
	j = kg_birth_json(&c, MONO_TO_REAL);
	ASSERT_INT(j, "completeness.opensOfUntrackedPaths", 7); /* 5 paths were known */
	ASSERT_INT(j, "files.distinctPaths", KG_BIRTH_MAX_FILES);
	ck_assert_int_eq(jlen(j, "files.top"), KG_BIRTH_TOP);
	ck_assert(!jbool(j, "completeness.complete"));
	json_object_put(j);
	kg_birth_free(b);

	/* execs beyond the chain */
	b = app_birth(T1 + 500500 * US, 0);
	b->reason = KG_SETTLE_NONE;
	for (unsigned i = 0; i < KG_BIRTH_MAX_EXECS + 1; i++)
		ev_exec(b, T1 + 100 * MS + i, 700 + i, 601, "/bin/true", "true", "true\0", 5);
	b->reason = KG_SETTLE_READY;
	c.birth = b;
	j = kg_birth_json(&c, MONO_TO_REAL);
	ck_assert_int_eq(jlen(j, "execs.chain"), KG_BIRTH_MAX_EXECS);
	ASSERT_INT(j, "execs.notListed", 3);
	ASSERT_INT(j, "execs.total", 2); /* the kernel's count is not re-derived */
	ck_assert(!jbool(j, "completeness.complete"));
	json_object_put(j);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_top_syscalls_capped)
{
	struct kg_birth *b = kg_birth_new(1, "/x", T0);
	struct kg_birth_counts *k = calloc(1, sizeof(*k));
	struct kg_cert_container c = { b, "", NULL };
	json_object *j;

	/* twelve syscalls used: only the KG_BIRTH_TOP most frequent are listed */
	for (unsigned i = 0; i < 12; i++)
		k->by_nr[__NR_read + i] = 100 + i;
	k->syscalls = 12 * 100 + 66;
	kg_birth_settle(b, KG_SETTLE_QUIET, T0 + 1 * MS, k);
	j = kg_birth_json(&c, 0);
	ck_assert_int_eq(jlen(j, "syscalls.top"), KG_BIRTH_TOP);
	ASSERT_INT(j, "syscalls.top[0].number", __NR_read + 11);
	ASSERT_INT(j, "syscalls.top[0].count", 111);
	ASSERT_INT(j, "syscalls.top[9].number", __NR_read + 2);
	ASSERT_INT(j, "syscalls.total", 1266);
	json_object_put(j);
	kg_birth_free(b);
	free(k);
}
END_TEST

START_TEST(test_errno_names)
{
	static const struct {
		int err;
		const char *want;
	} cases[] = {
		{ ENOENT, "ENOENT" },
		{ EACCES, "EACCES" },
		{ EPERM, "EPERM" },
		{ ELOOP, "ELOOP" },
		{ ENAMETOOLONG, "ENAMETOOLONG" },
		{ 4095, "errno 4095" },
	};
	struct kg_birth *b = kg_birth_new(1, "/x", T0);
	struct kg_cert_container c = { b, "", NULL };
	char path[16], at[48];
	json_object *j;

	for (int i = 0; i < N(cases); i++) {
		snprintf(path, sizeof(path), "/e%d", i);
		/* more failures for earlier rows, so the list keeps the table's order */
		for (int n = 0; n < N(cases) - i; n++)
			ev_open(b, T0 + 1, -cases[i].err, path);
	}
	kg_birth_settle(b, KG_SETTLE_QUIET, T0 + 1 * MS, NULL);
	j = kg_birth_json(&c, 0);
	ck_assert_int_eq(jlen(j, "files.topFailed"), N(cases));
	for (int i = 0; i < N(cases); i++) {
		snprintf(at, sizeof(at), "files.topFailed[%d].error", i);
		ck_assert_str_eq(jstr(j, at), cases[i].want);
	}
	json_object_put(j);
	kg_birth_free(b);
}
END_TEST

/* ---- sandbox and duration rules ---- */

static const struct {
	const char *execs[3];
	bool sandbox;
} sandbox_cases[] = {
	{ { "/pause" }, true },
	{ { "pause" }, true },
	{ { "/usr/bin/pause" }, true },
	{ { "/pause", "/bin/sh" }, false }, /* a sandbox execs once */
	{ { NULL }, false },
	{ { "/pausex" }, false },
	{ { "/bin/pause.sh" }, false },
	{ { "/pause/" }, false },
	{ { "/PAUSE" }, false },
	{ { "/pause/app" }, false },
	{ { "" }, false },
};

START_TEST(test_sandbox_detection)
{
	struct kg_birth *b = kg_birth_new(1, "/x", T0);

	for (int i = 0; i < 3 && sandbox_cases[_i].execs[i]; i++)
		ev_exec(b, T0 + (i + 1) * MS, 1, 0, sandbox_cases[_i].execs[i], "x", "x", 2);
	ck_assert_int_eq(kg_birth_is_sandbox(b), sandbox_cases[_i].sandbox);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_duration)
{
	struct kg_birth *b = kg_birth_new(1, "/x", T0);

	/* nothing happened yet */
	ck_assert_uint_eq(kg_birth_duration_ns(b), 0);
	/* to the last activity */
	ev_open(b, T0 + 40 * MS, 3, "/a");
	ck_assert_uint_eq(kg_birth_duration_ns(b), 40 * MS);
	/* to readiness, even with activity after it */
	ev_listen(b, T0 + 30 * MS, 1, "srv");
	ck_assert_uint_eq(kg_birth_duration_ns(b), 30 * MS);
	kg_birth_settle(b, KG_SETTLE_TIMEOUT, T0 + 30000 * MS, NULL);
	ck_assert_uint_eq(kg_birth_duration_ns(b), 30 * MS); /* ready wins over timeout */
	kg_birth_free(b);

	/* a timeout without readiness lasted until the timeout */
	b = kg_birth_new(1, "/x", T0);
	ev_open(b, T0 + 40 * MS, 3, "/a");
	kg_birth_settle(b, KG_SETTLE_TIMEOUT, T0 + 30000 * MS, NULL);
	ck_assert_uint_eq(kg_birth_duration_ns(b), 30000 * MS);
	kg_birth_free(b);

	/* other reasons: the last activity, not the settle time */
	b = kg_birth_new(1, "/x", T0);
	ev_open(b, T0 + 40 * MS, 3, "/a");
	kg_birth_settle(b, KG_SETTLE_EXITED, T0 + 900 * MS, NULL);
	ck_assert_uint_eq(kg_birth_duration_ns(b), 40 * MS);
	kg_birth_free(b);

	/* a clock that went backwards gives 0, not a wrapped huge value */
	b = kg_birth_new(1, "/x", T0);
	ev_listen(b, T0 - 5 * MS, 1, "srv");
	ck_assert_uint_eq(kg_birth_duration_ns(b), 0);
	kg_birth_free(b);
}
END_TEST

START_TEST(test_timeline_order)
{
	struct kg_birth *b = kg_birth_new(1, "/x", T0);
	struct kg_cert_container c = { b, "", NULL };
	json_object *j;

	/* namespaces before the attach, the entrypoint exec at the very same time as ready */
	b->cgroups_created = 3;
	ev_ns(b, T0 + 1 * MS, KG_NR_unshare, KG_CLONE_NEWNS, 0);
	ev_attach(b, T0 + 2 * MS, 9, "crun");
	ev_listen(b, T0 + 5 * MS, 9, "app");
	ev_exec(b, T0 + 5 * MS, 9, 1, "/app", "app", "app\0", 4);
	kg_birth_settle(b, KG_SETTLE_READY, T0 + 5 * MS, NULL);
	j = kg_birth_json(&c, MONO_TO_REAL);
	ck_assert_int_eq(jlen(j, "timeline"), 6);
	ASSERT_STR(j, "timeline[0].phase", "cgroupCreated");
	ASSERT_STR(j, "timeline[0].detail", "3 cgroup directories (all hierarchies)");
	ASSERT_STR(j, "timeline[1].phase", "namespacesCreated");
	ASSERT_NUM(j, "timeline[1].atMs", "1.000");
	ASSERT_STR(j, "timeline[2].phase", "runtimeAttached");
	ASSERT_STR(j, "timeline[2].detail", "by crun[9]");
	/* equal times keep the lifecycle's order: exec, ready, settled */
	ASSERT_STR(j, "timeline[3].phase", "entrypointExec");
	ASSERT_STR(j, "timeline[4].phase", "ready");
	ASSERT_STR(j, "timeline[5].phase", "settled");
	for (int i = 3; i < 6; i++) {
		char at[32];

		snprintf(at, sizeof(at), "timeline[%d].atMs", i);
		ck_assert_str_eq(jnum(j, at), "5.000");
	}
	json_object_put(j);
	kg_birth_free(b);
}
END_TEST

/* ---- the whole certificate ---- */

START_TEST(test_certificate)
{
	struct kg_birth *sb = sandbox_birth(T0 + 1003 * MS);
	struct kg_birth *app = app_birth(T1 + 500500 * US, 0);
	struct kg_cert_container c[2] = { { sb, SB_ID, "containerd" },
					  { app, APP_ID, "containerd" } };
	struct kg_resource_meta m = pod_meta();
	json_object *j = kg_certificate_json(&m, c, 2);

	/* envelope */
	ck_assert_int_eq(jkeys(j, NULL), 5);
	ASSERT_STR(j, "apiVersion", "kernel.gossip.io/v1alpha1");
	ASSERT_STR(j, "kind", "PodBirthCertificate");
	ASSERT_STR(j, "metadata.name", "web-1-birth");
	ck_assert(!jhas(j, "metadata.namespace")); /* standalone: no namespace */
	ck_assert_int_eq(jkeys(j, "metadata"), 2);
	{
		json_object *labels = jget(j, "metadata.labels"), *v;

		ck_assert_int_eq(jkeys(labels, NULL), 2);
		ck_assert(json_object_object_get_ex(labels, "app.kubernetes.io/managed-by", &v));
		ck_assert_str_eq(json_object_get_string(v), "kernel-gossip");
		ck_assert(json_object_object_get_ex(labels, "kernel.gossip.io/node", &v));
		ck_assert_str_eq(json_object_get_string(v), "node-a");
	}
	/* spec: the pod, and the headline container (the app, not the sandbox) */
	ck_assert_int_eq(jkeys(j, "spec"), 7);
	ASSERT_STR(j, "spec.podName", "web-1");
	ck_assert(!jhas(j, "spec.podNamespace"));
	ASSERT_STR(j, "spec.podUID", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	ASSERT_STR(j, "spec.containerID", APP_ID);
	ASSERT_STR(j, "spec.cgroupPath", APP_PATH);
	ASSERT_STR(j, "spec.cgroupDriver", "systemd");
	ASSERT_STR(j, "spec.qosClass", "burstable");
	ASSERT_STR(j, "spec.nodeName", "node-a");
	/* the caller's meta is not modified */
	ck_assert_str_eq(m.container_id, "stale");

	/* status: the pod as a whole, from the first mkdir to the last container's end */
	ASSERT_STR(j, "status.bornAt", "2025-11-25T16:00:00.000000Z");
	ASSERT_NUM(j, "status.durationMs", "1750.500"); /* 1500 + 250.5 */
	ASSERT_INT(j, "status.containerCount", 2);
	ASSERT_INT(j, "status.syscalls.total", 120 + 1285);
	ck_assert_int_eq(jkeys(j, "status.syscalls"), 1);
	ASSERT_INT(j, "status.processes.created", 0 + 3);
	ASSERT_INT(j, "status.execs.total", 1 + 2);
	ASSERT_INT(j, "status.files.opened", 5 + 8);
	ASSERT_INT(j, "status.files.failed", 1 + 4);
	ck_assert_int_eq(jkeys(j, "status.files"), 2);
	ASSERT_INT(j, "status.namespaces.created", 5 + 5);
	ASSERT_INT(j, "status.cgroups.created", 1 + 2);
	ASSERT_INT(j, "status.mounts.succeeded", 10 + 2);
	ASSERT_STR(j, "status.observedBy", "fentry");
	/* the headline container's timeline */
	ck_assert_int_eq(jlen(j, "status.timeline"), 7);
	ASSERT_STR(j, "status.timeline[5].phase", "ready");
	ASSERT_NUM(j, "status.timeline[5].atMs", "250.500");
	/* every container, in the order given */
	ck_assert_int_eq(jlen(j, "status.containers"), 2);
	ASSERT_STR(j, "status.containers[0].role", "sandbox");
	ASSERT_STR(j, "status.containers[0].containerID", SB_ID);
	ASSERT_STR(j, "status.containers[0].runtime", "containerd");
	ASSERT_STR(j, "status.containers[1].role", "container");
	ASSERT_STR(j, "status.containers[1].containerID", APP_ID);
	ASSERT_STR(j, "status.containers[1].bornAt", "2025-11-25T16:00:01.500000Z");
	ASSERT_INT(j, "status.containers[1].syscalls.total", 1285);
	json_object_put(j);

	/* with a namespace, and without the optional identity fields */
	snprintf(m.namespace_, sizeof(m.namespace_), "shop");
	m.node[0] = 0;
	m.pod_uid[0] = 0;
	m.pod_name[0] = 0;
	m.driver = NULL;
	m.qos = "";
	m.hooks = NULL;
	j = kg_certificate_json(&m, c, 2);
	ASSERT_STR(j, "metadata.namespace", "shop");
	ASSERT_STR(j, "spec.podNamespace", "shop");
	ck_assert_int_eq(jkeys(j, "metadata.labels"), 1);
	ck_assert_int_eq(jkeys(j, "spec"), 3);
	ck_assert(!jhas(j, "spec.podName"));
	ck_assert(!jhas(j, "spec.podUID"));
	ck_assert(!jhas(j, "spec.cgroupDriver"));
	ck_assert(!jhas(j, "spec.qosClass"));
	ck_assert(!jhas(j, "spec.nodeName"));
	ck_assert(!jhas(j, "status.observedBy"));
	json_object_put(j);
	kg_birth_free(sb);
	kg_birth_free(app);
}
END_TEST

START_TEST(test_headline)
{
	/* init container settled first, app later, sandbox last of all */
	struct kg_birth *sb = sandbox_birth(T1 + 900 * MS);
	struct kg_birth *init = app_birth(T1 + 100 * MS, 0);
	struct kg_birth *app = app_birth(T1 + 700 * MS, 0);
	struct kg_resource_meta m = pod_meta();
	json_object *j;

	snprintf(init->path, sizeof(init->path), "/init");
	snprintf(app->path, sizeof(app->path), "/app");
	{
		/* the latest non-sandbox to settle, wherever it is in the list */
		struct kg_cert_container c[3] = { { app, "app", NULL },
						  { sb, "sb", NULL },
						  { init, "init", NULL } };

		j = kg_certificate_json(&m, c, 3);
		ASSERT_STR(j, "spec.containerID", "app");
		ASSERT_STR(j, "spec.cgroupPath", "/app");
		ASSERT_NUM(j, "status.timeline[6].atMs", "700.000");
		ASSERT_INT(j, "status.containerCount", 3);
		json_object_put(j);
	}
	{
		/* a tie goes to the later entry */
		struct kg_cert_container c[2] = { { app, "app", NULL }, { init, "init", NULL } };

		init->settled_ns = app->settled_ns;
		j = kg_certificate_json(&m, c, 2);
		ASSERT_STR(j, "spec.containerID", "init");
		json_object_put(j);
	}
	{
		/* only the sandbox so far: it is the headline */
		struct kg_cert_container c[1] = { { sb, "sb", NULL } };

		j = kg_certificate_json(&m, c, 1);
		ASSERT_STR(j, "spec.containerID", "sb");
		ASSERT_STR(j, "spec.cgroupPath", SB_PATH);
		ASSERT_INT(j, "status.containerCount", 1);
		ASSERT_NUM(j, "status.durationMs", "3.000");
		ASSERT_INT(j, "status.syscalls.total", 120);
		json_object_put(j);
	}
	kg_birth_free(sb);
	kg_birth_free(init);
	kg_birth_free(app);
}
END_TEST

START_TEST(test_conditions)
{
	struct kg_birth *sb = sandbox_birth(T0 + 1003 * MS);
	struct kg_birth *app = app_birth(T1 + 500500 * US, 0);
	struct kg_cert_container c[2] = { { sb, SB_ID, NULL }, { app, APP_ID, NULL } };
	struct kg_resource_meta m = pod_meta();
	json_object *j = kg_certificate_json(&m, c, 2);

	/* Settled: the headline container's verdict, when it settled */
	ck_assert_int_eq(jlen(j, "status.conditions"), 2);
	ASSERT_STR(j, "status.conditions[0].type", "Settled");
	ASSERT_STR(j, "status.conditions[0].status", "True");
	ASSERT_STR(j, "status.conditions[0].reason", "Ready");
	ASSERT_STR(j, "status.conditions[0].message",
		   "the start settled (ready) 500.5 ms after its cgroup was created");
	ASSERT_STR(j, "status.conditions[0].lastTransitionTime", "2025-11-25T16:00:02.000500Z");
	/* Complete: every container's record is whole */
	ASSERT_STR(j, "status.conditions[1].type", "Complete");
	ASSERT_STR(j, "status.conditions[1].status", "True");
	ASSERT_STR(j, "status.conditions[1].reason", "AllEventsRecorded");
	ASSERT_STR(j, "status.conditions[1].message", "every event of the start was recorded");
	ASSERT_STR(j, "status.conditions[1].lastTransitionTime", "2025-11-25T16:00:02.000500Z");
	json_object_put(j);

	/* events lost in any container, headline or not, make the pod's record incomplete */
	sb->kernel.events_dropped = 1;
	j = kg_certificate_json(&m, c, 2);
	ASSERT_STR(j, "status.conditions[1].status", "False");
	ASSERT_STR(j, "status.conditions[1].reason", "DetailMissing");
	ASSERT_STR(j, "status.conditions[1].message",
		   "some events or paths were not recorded: see containers[].completeness");
	json_object_put(j);
	sb->kernel.events_dropped = 0;
	sb->have_kernel = false;
	j = kg_certificate_json(&m, c, 2);
	ASSERT_STR(j, "status.conditions[1].status", "False");
	json_object_put(j);

	/* reasons are CamelCase words */
	app->reason = KG_SETTLE_SHUTDOWN;
	j = kg_certificate_json(&m, c, 2);
	ASSERT_STR(j, "status.conditions[0].reason", "AgentShutdown");
	ASSERT_STR(j, "status.conditions[0].message",
		   "the start settled (agent-shutdown) 500.5 ms after its cgroup was created");
	json_object_put(j);
	app->reason = KG_SETTLE_TIMEOUT;
	j = kg_certificate_json(&m, c, 2);
	ASSERT_STR(j, "status.conditions[0].reason", "Timeout");
	json_object_put(j);
	kg_birth_free(sb);
	kg_birth_free(app);
}
END_TEST

START_TEST(test_envelope)
{
	struct kg_resource_meta m;
	json_object *j;

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "kg-test-a-whisper");
	j = kg_resource_envelope(&m, KG_KIND_WHISPER);
	ck_assert_int_eq(jkeys(j, NULL), 4);
	ASSERT_STR(j, "apiVersion", KG_API_VERSION);
	ASSERT_STR(j, "kind", "KernelWhisper");
	ASSERT_STR(j, "metadata.name", "kg-test-a-whisper");
	ck_assert_int_eq(jkeys(j, "metadata.labels"), 1);
	/* the identity of the headline cgroup is always there, even when empty */
	ck_assert_int_eq(jkeys(j, "spec"), 2);
	ASSERT_STR(j, "spec.containerID", "");
	ASSERT_STR(j, "spec.cgroupPath", "");
	json_object_put(j);

	/* a node name that is no valid label value: in spec only (else the apply gets a 422) */
	memset(m.node, 'a', 100);
	m.node[100] = '\0';
	j = kg_resource_envelope(&m, KG_KIND_WHISPER);
	ck_assert_int_eq(jkeys(j, "metadata.labels"), 1);
	ck_assert_int_eq(strlen(json_object_get_string(jget(j, "spec.nodeName"))), 100);
	json_object_put(j);
	snprintf(m.node, sizeof(m.node), "ip-10-0-0-1.ec2.internal");
	j = kg_resource_envelope(&m, KG_KIND_WHISPER);
	{
		json_object *v;

		ck_assert(json_object_object_get_ex(jget(j, "metadata.labels"), "kernel.gossip.io/node",
						    &v));
		ck_assert_str_eq(json_object_get_string(v), "ip-10-0-0-1.ec2.internal");
	}
	json_object_put(j);
}
END_TEST

static Suite *certificate_suite(void)
{
	Suite *s = suite_create("certificate");
	TCase *tc;

	tc = tcase_create("birth");
	tcase_add_test(tc, test_birth_json_app);
	tcase_add_test(tc, test_birth_json_sandbox);
	tcase_add_test(tc, test_birth_json_without_kernel);
	tcase_add_test(tc, test_birth_json_incomplete);
	tcase_add_test(tc, test_top_syscalls_capped);
	tcase_add_test(tc, test_errno_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, test_sandbox_detection, 0, N(sandbox_cases));
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_timeline_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("certificate");
	tcase_add_test(tc, test_certificate);
	tcase_add_test(tc, test_headline);
	tcase_add_test(tc, test_conditions);
	tcase_add_test(tc, test_envelope);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(certificate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
