// SPDX-License-Identifier: GPL-2.0
/*
 * certificate.c - PodBirthCertificate documents. See certificate.h.
 *
 * Field names follow Kubernetes conventions (camelCase, units in the name).
 * Every number comes from a birth record: the kernel's in-place counts for
 * totals, the streamed events for detail (paths, the exec chain). When
 * events were lost the certificate says how many under "completeness".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "certificate.h"
#include "insights.h"
#include "json_util.h"
#include "syscall_names.h"

#define NS_PER_MS 1e6

static double kg_ms(uint64_t from, uint64_t to)
{
	return to > from ? (to - from) / NS_PER_MS : 0.0;
}

bool kg_birth_is_sandbox(const struct kg_birth *b)
{
	const char *base;

	if (b->execs_n != 1)
		return false;
	base = strrchr(b->execs[0].file, '/');
	return !strcmp(base ? base + 1 : b->execs[0].file, "pause");
}

uint64_t kg_birth_duration_ns(const struct kg_birth *b)
{
	uint64_t end = b->ready_ns ? b->ready_ns : b->last_activity_ns;

	if (b->reason == KG_SETTLE_TIMEOUT && !b->ready_ns)
		end = b->settled_ns;
	return end > b->created_ns ? end - b->created_ns : 0;
}

static void kg_errno_name(int err, char *buf, size_t bufsz)
{
	const char *n = err > 0 ? strerrorname_np(err) : NULL;

	if (n)
		snprintf(buf, bufsz, "%s", n);
	else
		snprintf(buf, bufsz, "errno %d", err);
}

struct kg_phase {
	const char *name;
	uint64_t t;
	char detail[KG_FILE_LEN + 64];
};

static void kg_add_phase(struct kg_phase *ph, unsigned *n, const char *name, uint64_t t,
			 const char *detail)
{
	struct kg_phase *p;
	unsigned i;

	if (!t)
		return;
	/* keep the phases ordered by time: insertion into a handful of entries */
	for (i = *n; i > 0 && ph[i - 1].t > t; i--)
		ph[i] = ph[i - 1];
	p = &ph[i];
	p->name = name;
	p->t = t;
	snprintf(p->detail, sizeof(p->detail), "%s", detail ? detail : "");
	(*n)++;
}

static json_object *kg_timeline(const struct kg_birth *b)
{
	json_object *tl = json_object_new_array();
	struct kg_phase ph[8];
	char detail[KG_FILE_LEN + 64];
	unsigned n = 0;

	snprintf(detail, sizeof(detail), "%u cgroup director%s (all hierarchies)",
		 b->cgroups_created, b->cgroups_created == 1 ? "y" : "ies");
	kg_add_phase(ph, &n, "cgroupCreated", b->created_ns, detail);
	snprintf(detail, sizeof(detail), "by %s[%u]", b->attach_comm, b->attach_pid);
	kg_add_phase(ph, &n, "runtimeAttached", b->attached_ns, b->attach_pid ? detail : NULL);
	if (b->have_kernel)
		kg_add_phase(ph, &n, "firstSyscall", b->kernel.first_syscall_ns, NULL);
	kg_add_phase(ph, &n, "namespacesCreated", b->first_ns_created_ns, NULL);
	if (b->execs_n)
		kg_add_phase(ph, &n, "entrypointExec", b->execs[0].ts_ns, b->execs[0].file);
	snprintf(detail, sizeof(detail), "listen() by %s[%u]", b->ready_comm, b->ready_pid);
	kg_add_phase(ph, &n, "ready", b->ready_ns, detail);
	kg_add_phase(ph, &n, "settled", b->settled_ns, kg_settle_reason_name(b->reason));
	for (unsigned i = 0; i < n; i++) {
		json_object *p = json_object_new_object();

		kg_json_str(p, "phase", ph[i].name);
		kg_json_dbl(p, "atMs", kg_ms(b->created_ns, ph[i].t), 3);
		if (ph[i].detail[0])
			kg_json_str(p, "detail", ph[i].detail);
		json_object_array_add(tl, p);
	}
	return tl;
}

static void kg_syscalls_json(json_object *st, const struct kg_birth *b)
{
	json_object *sc = kg_json_obj(st, "syscalls"), *top;
	unsigned nr[KG_BIRTH_TOP], n;

	kg_json_u64(sc, "total", b->have_kernel ? b->kernel.syscalls : 0);
	top = kg_json_arr(sc, "top");
	if (!b->have_kernel)
		return;
	n = kg_birth_top_syscalls(&b->kernel, nr, KG_BIRTH_TOP);
	for (unsigned i = 0; i < n; i++) {
		json_object *e = json_object_new_object();
		const char *name = kg_syscall_name(nr[i]);
		char other[32];

		if (nr[i] == KG_NR_SYSCALLS - 1)
			name = "other";
		if (!name) {
			snprintf(other, sizeof(other), "syscall_%u", nr[i]);
			name = other;
		}
		kg_json_str(e, "name", name);
		kg_json_u64(e, "number", nr[i]);
		kg_json_u64(e, "count", b->kernel.by_nr[nr[i]]);
		json_object_array_add(top, e);
	}
}

static void kg_files_json(json_object *st, const struct kg_birth *b)
{
	json_object *fo = kg_json_obj(st, "files"), *top, *fail;
	unsigned idx[KG_BIRTH_TOP], n;

	kg_json_u64(fo, "opened", b->have_kernel ? b->kernel.opens : 0);
	kg_json_u64(fo, "failed", b->have_kernel ? b->kernel.opens_failed : 0);
	kg_json_u64(fo, "distinctPaths", b->nfiles);
	top = kg_json_arr(fo, "top");
	n = kg_birth_top_files(b, false, idx, KG_BIRTH_TOP);
	for (unsigned i = 0; i < n; i++) {
		json_object *e = json_object_new_object();

		kg_json_str(e, "path", b->files[idx[i]].path);
		kg_json_u64(e, "opens", b->files[idx[i]].opens);
		kg_json_u64(e, "failed", b->files[idx[i]].failed);
		json_object_array_add(top, e);
	}
	fail = kg_json_arr(fo, "topFailed");
	n = kg_birth_top_files(b, true, idx, KG_BIRTH_TOP);
	for (unsigned i = 0; i < n; i++) {
		json_object *e = json_object_new_object();
		char err[32];

		kg_errno_name(b->files[idx[i]].last_errno, err, sizeof(err));
		kg_json_str(e, "path", b->files[idx[i]].path);
		kg_json_u64(e, "failures", b->files[idx[i]].failed);
		kg_json_str(e, "error", err);
		json_object_array_add(fail, e);
	}
}

json_object *kg_birth_json(const struct kg_cert_container *c, int64_t mono_to_real_ns)
{
	const struct kg_birth *b = c->birth;
	const struct kg_birth_counts *k = &b->kernel;
	json_object *st = json_object_new_object(), *o, *chain, *by;
	uint32_t ns_total = 0;

	kg_json_str(st, "containerID", c->container_id);
	kg_json_str(st, "cgroupPath", b->path);
	if (c->runtime && c->runtime[0])
		kg_json_str(st, "runtime", c->runtime);
	kg_json_str(st, "role", kg_birth_is_sandbox(b) ? "sandbox" : "container");
	kg_json_time(st, "bornAt", b->created_ns + mono_to_real_ns);
	kg_json_time(st, "settledAt", b->settled_ns + mono_to_real_ns);
	kg_json_dbl(st, "durationMs", kg_birth_duration_ns(b) / NS_PER_MS, 3);
	kg_json_str(st, "settledBy", kg_settle_reason_name(b->reason));

	kg_syscalls_json(st, b);

	o = kg_json_obj(st, "processes");
	kg_json_u64(o, "created", b->have_kernel ? k->processes : 0);
	kg_json_u64(o, "total", b->attached + (b->have_kernel ? k->processes : 0));
	kg_json_u64(o, "threads", b->have_kernel ? k->threads : 0);
	kg_json_u64(o, "exited", b->have_kernel ? k->exits : 0);

	o = kg_json_obj(st, "execs");
	kg_json_u64(o, "total", b->have_kernel ? k->execs : b->execs_n);
	chain = kg_json_arr(o, "chain");
	for (uint32_t i = 0; i < b->execs_n; i++) {
		json_object *e = json_object_new_object();

		kg_json_dbl(e, "atMs", kg_ms(b->created_ns, b->execs[i].ts_ns), 3);
		kg_json_u64(e, "pid", b->execs[i].pid);
		kg_json_u64(e, "ppid", b->execs[i].ppid);
		kg_json_str(e, "binary", b->execs[i].file);
		kg_json_str(e, "exe", b->execs[i].exe);
		kg_json_str(e, "args", b->execs[i].args);
		json_object_array_add(chain, e);
	}
	if (b->execs_beyond)
		kg_json_u64(o, "notListed", b->execs_beyond);

	kg_files_json(st, b);

	o = kg_json_obj(st, "namespaces");
	by = json_object_new_object();
	for (int t = 0; t < KG_NS_NR; t++) {
		ns_total += b->ns_created[t];
		if (b->ns_created[t])
			kg_json_u64(by, kg_ns_type_name(t), b->ns_created[t]);
	}
	kg_json_u64(o, "created", b->have_kernel ? k->namespaces : ns_total);
	kg_json_u64(o, "joined", b->have_kernel ? k->setns : b->ns_joined);
	json_object_object_add(o, "byType", by);

	o = kg_json_obj(st, "cgroups");
	kg_json_u64(o, "created", b->cgroups_created);

	o = kg_json_obj(st, "mounts");
	kg_json_u64(o, "succeeded", b->have_kernel ? k->mounts : 0);
	chain = kg_json_arr(o, "targets");
	for (uint32_t i = 0; i < b->mounts_n; i++) {
		if (b->mounts[i].ret < 0 || !b->mounts[i].target[0])
			continue;
		json_object_array_add(chain, json_object_new_string(b->mounts[i].target));
	}

	json_object_object_add(st, "timeline", kg_timeline(b));

	o = kg_json_obj(st, "completeness");
	kg_json_u64(o, "eventsDropped", b->have_kernel ? k->events_dropped : 0);
	kg_json_u64(o, "opensOfUntrackedPaths", b->opens_untracked);
	kg_json_bool(o, "kernelCounts", b->have_kernel);
	kg_json_bool(o, "complete", b->have_kernel && !k->events_dropped && !b->opens_untracked &&
					    !b->execs_beyond);
	return st;
}

static void kg_sum(json_object *st, const char *obj, const char *key, uint64_t v)
{
	json_object *o;

	if (!json_object_object_get_ex(st, obj, &o))
		o = kg_json_obj(st, obj);
	kg_json_u64(o, key, v);
}

json_object *kg_certificate_json(const struct kg_resource_meta *meta,
				 const struct kg_cert_container *c, unsigned n)
{
	struct kg_resource_meta m = *meta;
	json_object *doc, *st, *containers;
	uint64_t sys = 0, procs = 0, execs = 0, opens = 0, failed = 0, nss = 0, cgs = 0, mnts = 0;
	uint64_t first = UINT64_MAX, last = 0;
	int head = -1;

	for (unsigned i = 0; i < n; i++) {
		const struct kg_birth *b = c[i].birth;

		if (!kg_birth_is_sandbox(b) &&
		    (head < 0 || b->settled_ns >= c[head].birth->settled_ns))
			head = i;
	}
	if (head < 0)
		head = n - 1;
	snprintf(m.container_id, sizeof(m.container_id), "%s", c[head].container_id);
	snprintf(m.cgroup_path, sizeof(m.cgroup_path), "%s", c[head].birth->path);
	doc = kg_resource_envelope(&m, KG_KIND_CERT);
	st = kg_json_obj(doc, "status");

	containers = json_object_new_array();
	for (unsigned i = 0; i < n; i++) {
		const struct kg_birth *b = c[i].birth;
		uint64_t end = b->created_ns + kg_birth_duration_ns(b);

		json_object_array_add(containers, kg_birth_json(&c[i], meta->mono_to_real_ns));
		if (b->have_kernel) {
			sys += b->kernel.syscalls;
			procs += b->kernel.processes;
			execs += b->kernel.execs;
			opens += b->kernel.opens;
			failed += b->kernel.opens_failed;
			nss += b->kernel.namespaces;
			mnts += b->kernel.mounts;
		}
		cgs += b->cgroups_created;
		first = b->created_ns < first ? b->created_ns : first;
		last = end > last ? end : last;
	}
	kg_json_time(st, "bornAt", first + meta->mono_to_real_ns);
	kg_json_dbl(st, "durationMs", kg_ms(first, last), 3);
	kg_json_u64(st, "containerCount", n);
	kg_sum(st, "syscalls", "total", sys);
	kg_sum(st, "processes", "created", procs);
	kg_sum(st, "execs", "total", execs);
	kg_sum(st, "files", "opened", opens);
	kg_sum(st, "files", "failed", failed);
	kg_sum(st, "namespaces", "created", nss);
	kg_sum(st, "cgroups", "created", cgs);
	kg_sum(st, "mounts", "succeeded", mnts);
	json_object_object_add(st, "timeline", kg_timeline(c[head].birth));
	{
		const struct kg_birth *hb = c[head].birth;
		struct kg_insight in[KG_MAX_INSIGHTS];
		unsigned ni = kg_birth_insights(hb, in, KG_MAX_INSIGHTS);
		json_object *conds = kg_json_arr(st, "conditions"), *cd;
		char msg[256], reason[32];
		bool complete = true;

		json_object_object_add(st, "insights", kg_insights_json(in, ni));
		snprintf(reason, sizeof(reason), "%s", kg_settle_reason_name(hb->reason));
		reason[0] = reason[0] >= 'a' && reason[0] <= 'z' ? reason[0] - 32 : reason[0];
		if (!strcmp(reason, "Agent-shutdown"))
			snprintf(reason, sizeof(reason), "AgentShutdown");
		cd = json_object_new_object();
		kg_json_str(cd, "type", "Settled");
		kg_json_str(cd, "status", "True");
		kg_json_str(cd, "reason", reason);
		snprintf(msg, sizeof(msg), "the start settled (%s) %.1f ms after its cgroup was created",
			 kg_settle_reason_name(hb->reason), kg_ms(hb->created_ns, hb->settled_ns));
		kg_json_str(cd, "message", msg);
		kg_json_time(cd, "lastTransitionTime", hb->settled_ns + meta->mono_to_real_ns);
		json_object_array_add(conds, cd);
		for (unsigned i = 0; i < n; i++) {
			const struct kg_birth *b = c[i].birth;

			if (!b->have_kernel || b->kernel.events_dropped || b->opens_untracked ||
			    b->execs_beyond)
				complete = false;
		}
		cd = json_object_new_object();
		kg_json_str(cd, "type", "Complete");
		kg_json_str(cd, "status", complete ? "True" : "False");
		kg_json_str(cd, "reason", complete ? "AllEventsRecorded" : "DetailMissing");
		kg_json_str(cd, "message", complete ? "every event of the start was recorded"
						    : "some events or paths were not recorded: see "
						      "containers[].completeness");
		kg_json_time(cd, "lastTransitionTime", hb->settled_ns + meta->mono_to_real_ns);
		json_object_array_add(conds, cd);
	}
	if (meta->hooks)
		kg_json_str(st, "observedBy", meta->hooks);
	json_object_object_add(st, "containers", containers);
	return doc;
}
