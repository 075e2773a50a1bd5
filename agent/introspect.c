// SPDX-License-Identifier: GPL-2.0
/*
 * introspect.c - see introspect.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "certificate.h"
#include "introspect.h"
#include "json_util.h"
#include "kernel_gossip.skel.h"
#include "log.h"
#include "syscall_names.h"

#define KG_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* ---- programs ---- */

struct kg_prog_view {
	const char *name, *section, *type;
	uint32_t id;
	bool loaded, attached;
	uint64_t run_time_ns, run_cnt;
};

static int kg_prog_info(int fd, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
#if LIBBPF_MAJOR_VERSION > 1 || (LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION >= 2)
	return bpf_prog_get_info_by_fd(fd, info, &len);
#else
	return bpf_obj_get_info_by_fd(fd, info, &len);	/* libbpf 1.1 (Debian 12) */
#endif
}

/* Every program of the skeleton, loaded or not, with the kernel's facts about it. */
static unsigned kg_progs(const struct kg_engine *e, struct kg_prog_view *out, unsigned max)
{
	const struct bpf_object_skeleton *sk;
	unsigned n = 0;

	if (!e->bpf.skel)
		return 0;
	sk = e->bpf.skel->skeleton;
	for (int i = 0; i < sk->prog_cnt && n < max; i++) {
		struct bpf_program *prog = *sk->progs[i].prog;
		struct kg_prog_view *v = &out[n++];
		struct bpf_prog_info info;
		int fd = bpf_program__fd(prog);

		memset(v, 0, sizeof(*v));
		v->name = sk->progs[i].name;
		v->section = bpf_program__section_name(prog);
		v->type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
		v->loaded = fd >= 0;
		v->attached = *sk->progs[i].link != NULL;
		if (!strcmp(v->name, "kg_sys_enter"))	/* attached on demand by the loader */
			v->attached = e->bpf.sys_links[0] != NULL;
		else if (!strcmp(v->name, "kg_sys_exit"))
			v->attached = e->bpf.sys_links[1] != NULL;
		if (v->loaded && !kg_prog_info(fd, &info)) {
			v->id = info.id;
			v->run_time_ns = info.run_time_ns;
			v->run_cnt = info.run_cnt;
		}
	}
	return n;
}

static const struct kg_prog_view *kg_prog_find(const struct kg_prog_view *p, unsigned n,
					       const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(p[i].name, name))
			return &p[i];
	return NULL;
}

static bool kg_bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int v = 0;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v == 1;
}

/* ---- status ---- */

double kg_view_uptime_s(const struct kg_engine *e)
{
	return (kg_now_ns() - e->started_ns) / 1e9;
}

/* One concern: the hook (section names of its loaded programs), whether attached, and why. */
static void kg_concern(json_object *hooks, const char *concern, const struct kg_prog_view *pv,
		       unsigned npv, const char *const *names, const char *why, const char *mode)
{
	json_object *o = kg_json_obj(hooks, concern), *progs = kg_json_arr(o, "programs");
	char hook[256] = "";
	size_t n = 0;
	bool attached = true, any = false;

	for (; *names; names++) {
		const struct kg_prog_view *v = kg_prog_find(pv, npv, *names);

		if (!v || !v->loaded)
			continue;
		any = true;
		attached = attached && v->attached;
		json_object_array_add(progs, json_object_new_string(v->name));
		if (n < sizeof(hook))
			n += snprintf(hook + n, sizeof(hook) - n, "%s%s", n ? " + " : "", v->section);
	}
	kg_json_str(o, "hook", any ? hook : "none");
	if (mode)
		kg_json_str(o, "mode", mode);
	kg_json_bool(o, "attachedNow", any && attached);
	kg_json_str(o, "why", why);
}

static void kg_status_hooks(struct kg_engine *e, json_object *st, const struct kg_prog_view *pv,
			    unsigned npv)
{
	static const char *const lifecycle[] = { "kg_cg_mkdir", "kg_cg_rmdir", "kg_cg_attach", NULL };
	static const char *const procs[] = { "kg_exec", "kg_fork", "kg_exit", NULL };
	static const char *const sys[] = { "kg_sys_enter", "kg_sys_exit", NULL };
	static const char *const sched[] = { "kg_sched_switch", NULL };
	static const char *const timer[] = { "kg_cfs_tmr_in", "kg_cfs_tmr_out", NULL };
	static const char *const fentry[] = { "kg_unthr_in", "kg_unthr_out", NULL };
	static const char *const csd[] = { "kg_cfs_csd", NULL };
	json_object *hooks = kg_json_obj(st, "hooks"), *ep;
	bool always = e->cfg->syscall_hooks == KG_SYSCALLS_ALWAYS;
	char why[400];

	kg_concern(hooks, "cgroupLifecycle", pv, npv, lifecycle,
		   "a start's record opens in the kernel at cgroup_mkdir, before any task can join",
		   NULL);
	kg_concern(hooks, "processes", pv, npv, procs,
		   "exec chain, forks and exits of a start, from the scheduler's tracepoints", NULL);
	kg_concern(hooks, "syscalls", pv, npv, sys,
		   always ? "--syscall-hooks=always: attached for the agent's lifetime"
			  : "a syscall tracepoint slows every syscall on the node, so the counters "
			    "are attached only while a start is recorded",
		   always ? "always" : "birth");
	ep = json_object_object_get(hooks, "syscalls");
	kg_json_u64(ep, "attachCycles", e->bpf.syscall_attaches);
	kg_concern(hooks, "scheduler", pv, npv, sched,
		   "one program per context switch: on-CPU time, switches and run-queue delay from "
		   "task->sched_info",
		   NULL);
	kg_concern(hooks, "throttleCounters", pv, npv, timer,
		   "the CFS period timer copies the kernel's own cfs_bandwidth counters (what "
		   "cpu.stat prints): exact on every kernel",
		   NULL);
	if (e->bpf.episode_hook == KG_EPISODE_FENTRY)
		snprintf(why, sizeof(why), "fentry/fexit on unthrottle_cfs_rq: preferred, runs only "
					   "when a runqueue is unthrottled");
	else
		snprintf(why, sizeof(why), "the sched_switch program notices throttled tasks%s%s",
			 e->bpf.episode_reason[0] ? "; not fentry: " : "", e->bpf.episode_reason);
	kg_concern(hooks, "throttleEpisodes", pv, npv,
		   e->bpf.episode_hook == KG_EPISODE_FENTRY ? fentry : sched, why,
		   kg_episode_hook_name(e->bpf.episode_hook));
	kg_concern(hooks, "remoteUnthrottle", pv, npv, csd,
		   e->bpf.csd_hook ? "closes the episodes a remote-unthrottle IPI ends"
				   : "this kernel has no csd_function_exit tracepoint: episodes close "
				     "at the next period timer",
		   NULL);
}

static void kg_status_programs(json_object *st, const struct kg_prog_view *pv, unsigned npv,
			       bool stats)
{
	json_object *arr = kg_json_arr(st, "programs");

	for (unsigned i = 0; i < npv; i++) {
		json_object *o = json_object_new_object();

		kg_json_str(o, "name", pv[i].name);
		kg_json_str(o, "section", pv[i].section);
		kg_json_str(o, "type", pv[i].type ? pv[i].type : "unknown");
		kg_json_bool(o, "loaded", pv[i].loaded);
		if (pv[i].loaded)
			kg_json_u64(o, "id", pv[i].id);
		kg_json_bool(o, "attached", pv[i].attached);
		if (stats) {
			kg_json_u64(o, "runCount", pv[i].run_cnt);
			kg_json_u64(o, "runTimeNs", pv[i].run_time_ns);
		}
		json_object_array_add(arr, o);
	}
}

static void kg_status_kernel_side(struct kg_engine *e, json_object *st)
{
	uint64_t c[KG_CNT_MAX] = { 0 }, per_cpu[KG_MAX_CPUS] = { 0 };
	json_object *ring = kg_json_obj(st, "ring"), *cnt, *by, *drops;
	bool have = e->bpf.skel && !kg_bpf_counters(&e->bpf, c, per_cpu);

	kg_json_u64(ring, "events", e->ring ? kg_ring_events(e->ring) : 0);
	kg_json_u64(ring, "malformed", e->ring ? kg_ring_malformed(e->ring) : 0);
	by = kg_json_obj(ring, "eventsByType");
	for (unsigned t = 0; t < KG_EV_TYPE_MAX; t++)
		if (kg_event_type_name(t))
			kg_json_u64(by, kg_event_type_name(t), e->stats.events_by_type[t]);
	kg_json_u64(ring, "dropsTotal", c[KG_CNT_RB_DROP]);
	drops = kg_json_arr(ring, "dropsPerCpu");
	for (int cpu = 0; cpu < e->bpf.nr_cpus; cpu++)
		json_object_array_add(drops, json_object_new_int64(per_cpu[cpu]));
	kg_json_u64(ring, "bytesPerCpu", e->cfg->ring_bytes);
	kg_json_u64(ring, "cpus", e->bpf.nr_cpus);
	cnt = kg_json_obj(st, "kernelCounters");
	if (!have)
		kg_json_str(cnt, "unavailable", "the counters map could not be read");
	for (unsigned k = 0; have && k < KG_CNT_MAX; k++)
		kg_json_u64(cnt, kg_counter_name(k), c[k]);
}

static void kg_status_api(struct kg_engine *e, json_object *st)
{
	json_object *api = kg_json_obj(st, "apiServer");
	char state[128];

	kg_metrics_api_state(state, sizeof(state));
	if (!e->kube_on) {
		kg_json_str(api, "state", state[0] ? state : "not used: standalone mode writes files");
		kg_json_str(api, "outputDir", e->cfg->output_dir);
		return;
	}
	{
		struct kg_k8s_stats k;
		json_object *codes;
		bool synced = kg_pod_cache_synced(&e->kube.pods);

		kg_k8s_sink_stats(&e->kube.sink, &k);
		kg_json_str(api, "state", state[0] ? state : synced ? "pod cache synced"
								     : "syncing the pod cache");
		kg_json_bool(api, "podCacheSynced", synced);
		kg_json_u64(api, "queueDepth", k.depth);
		kg_json_u64(api, "requests", k.requests);
		codes = kg_json_obj(api, "responses");
		kg_json_u64(codes, "transportErrors", k.by_class[0]);
		for (int i = 1; i < 6; i++) {
			char key[8];

			snprintf(key, sizeof(key), "%dxx", i);
			kg_json_u64(codes, key, k.by_class[i]);
		}
		kg_json_u64(api, "applied", k.applied);
		kg_json_u64(api, "retries", k.retries);
		kg_json_u64(api, "dropped", k.dropped);
		kg_json_u64(api, "crdMissing", k.crd_missing);
		kg_json_u64(api, "authErrors", k.auth_errors);
		kg_json_u64(api, "waitingForPodMetadata", e->kube.nwaiting);
	}
}

json_object *kg_view_status(struct kg_engine *e)
{
	static struct kg_prog_view pv[64];
	json_object *st = json_object_new_object(), *o;
	struct utsname u;
	unsigned npv = kg_progs(e, pv, 64);
	bool stats = kg_bpf_stats_enabled();

	kg_json_str(st, "version", KG_VERSION);
	kg_json_str(st, "mode", e->kube_on ? "kubernetes" : "standalone");
	kg_json_str(st, "node", e->tmpl.node);
	if (!uname(&u)) {
		o = kg_json_obj(st, "kernel");
		kg_json_str(o, "release", u.release);
		kg_json_str(o, "machine", u.machine);
	}
	o = kg_json_obj(st, "btf");
	kg_json_str(o, "source", "kernel");
	kg_json_str(o, "path", KG_VMLINUX_BTF);
	kg_json_time(st, "startedAt", e->started_ns + e->tmpl.mono_to_real_ns);
	kg_json_dbl(st, "uptimeSeconds", kg_view_uptime_s(e), 3);
	kg_status_hooks(e, st, pv, npv);
	kg_json_bool(st, "bpfStatsEnabled", stats);
	kg_status_programs(st, pv, npv, stats);
	kg_status_kernel_side(e, st);
	o = kg_json_obj(st, "births");
	kg_json_u64(o, "open", e->track.open_births);
	kg_json_u64(o, "recorded", e->stats.births_recorded);
	kg_json_u64(o, "discarded", e->stats.births_discarded);
	kg_json_u64(o, "orphaned", e->stats.births_orphaned);
	kg_json_u64(o, "refused", e->stats.births_refused);
	kg_json_u64(o, "unknownCgroups", e->stats.unknown_cgroups);
	o = kg_json_obj(st, "tracking");
	kg_json_u64(o, "cgroups", e->track.ncgroups);
	kg_json_u64(o, "pods", e->track.npods);
	kg_json_u64(o, "cgroupsRefused", e->track.cgroups_refused);
	kg_json_u64(o, "throttleCgroups", e->throttle.n);
	kg_json_u64(o, "whispersWritten", e->throttle.whispers_written);
	o = kg_json_obj(st, "resources");
	kg_json_u64(o, "written", e->kube_on ? e->kube.stats.written : e->sink.written);
	kg_json_u64(o, "unchanged", e->sink.unchanged);
	kg_json_u64(o, "errors", e->sink.errors);
	kg_status_api(e, st);
	return st;
}

/* ---- cgroups ---- */

static void kg_ident_json(json_object *o, const struct kg_cgroup_identity *id)
{
	kg_json_str(o, "kind", kg_cgroup_kind_name(id->kind));
	if (id->pod_uid[0])
		kg_json_str(o, "podUID", id->pod_uid);
	if (id->container_id[0])
		kg_json_str(o, "containerID", id->container_id);
	if (id->runtime[0])
		kg_json_str(o, "runtime", id->runtime);
	if (id->qos != KG_QOS_NONE)
		kg_json_str(o, "qos", kg_qos_name(id->qos));
	if (id->driver != KG_DRIVER_NONE)
		kg_json_str(o, "driver", kg_driver_name(id->driver));
}

/* An open birth: the agent's record and the kernel's counts so far. */
static json_object *kg_birth_live(struct kg_engine *e, const struct kg_cg *cg, uint64_t now)
{
	const struct kg_birth *b = cg->birth;
	struct kg_birth_counts *k = malloc(sizeof(*k));
	json_object *o = json_object_new_object(), *top;
	bool have = k && !bpf_map_lookup_elem(kg_bpf_births_fd(&e->bpf), &cg->id, k);

	kg_json_time(o, "createdAt", b->created_ns + e->tmpl.mono_to_real_ns);
	kg_json_dbl(o, "openForMs", now > b->created_ns ? (now - b->created_ns) / 1e6 : 0, 1);
	kg_json_bool(o, "hadTask", b->had_task);
	kg_json_i64(o, "liveProcesses", b->live);
	kg_json_bool(o, "ready", b->ready_ns != 0);
	if (b->execs_n) {
		const struct kg_birth_exec *x = &b->execs[b->execs_n - 1];

		kg_json_str(o, "lastExec", x->exe[0] ? x->exe : x->file);
	}
	kg_json_u64(o, "detailEvents", b->events);
	kg_json_bool(o, "kernelCounts", have);
	if (have) {
		unsigned nr[5], n = kg_birth_top_syscalls(k, nr, 5);

		kg_json_u64(o, "syscalls", k->syscalls);
		kg_json_u64(o, "execs", k->execs);
		kg_json_u64(o, "processes", k->processes);
		kg_json_u64(o, "threads", k->threads);
		kg_json_u64(o, "opens", k->opens);
		kg_json_u64(o, "opensFailed", k->opens_failed);
		kg_json_u64(o, "namespaces", k->namespaces);
		kg_json_u64(o, "mounts", k->mounts);
		kg_json_u64(o, "eventsDropped", k->events_dropped);
		top = kg_json_arr(o, "topSyscalls");
		for (unsigned i = 0; i < n; i++) {
			json_object *t = json_object_new_object();
			const char *name = kg_syscall_name(nr[i]);
			char num[16];

			snprintf(num, sizeof(num), "%u", nr[i]);
			kg_json_str(t, "name", name ? name : num);
			kg_json_u64(t, "count", k->by_nr[nr[i]]);
			json_object_array_add(top, t);
		}
	}
	free(k);
	return o;
}

static uint64_t kg_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static const struct kg_thr_sample *kg_thr_age(const struct kg_thr_cg *c, unsigned age)
{
	return &c->ring[(c->head + c->cap - 1 - age) % c->cap];	/* age 0: the newest */
}

static json_object *kg_throttle_live(struct kg_engine *e, const struct kg_thr_cg *c)
{
	json_object *o = json_object_new_object(), *w, *cum;
	const struct kg_thr_sample *new, *old;
	uint64_t periods, thr;

	kg_json_str(o, "path", c->path);
	kg_ident_json(o, &c->ident);
	kg_json_str(o, "whisper", c->name);
	if (!c->count)
		return o;
	new = kg_thr_age(c, 0);
	old = kg_thr_age(c, c->count - 1);
	if (new->cfs.quota_ns != UINT64_MAX && new->cfs.period_ns)
		kg_json_dbl(o, "limitMillicores",
			    1000.0 * (double)new->cfs.quota_ns / (double)new->cfs.period_ns, 0);
	periods = kg_sub(new->cfs.nr_periods, old->cfs.nr_periods);
	thr = kg_sub(new->cfs.nr_throttled, old->cfs.nr_throttled);
	w = kg_json_obj(o, "window");
	kg_json_dbl(w, "seconds", kg_sub(new->ts_ns, old->ts_ns) / 1e9, 1);
	kg_json_u64(w, "periods", periods);
	kg_json_u64(w, "throttledPeriods", thr);
	kg_json_dbl(w, "throttledPercent", periods ? 100.0 * thr / periods : 0, 1);
	kg_json_dbl(w, "throttledMs",
		    kg_sub(new->cfs.throttled_time_ns, old->cfs.throttled_time_ns) / 1e6, 1);
	{
		/* the metrics view: CPU use over the oldest sample that has a usage reading */
		const struct kg_thr_sample *u = NULL;

		for (unsigned age = c->count - 1; age > 0 && !u; age--)
			if (kg_thr_age(c, age)->have_usage)
				u = kg_thr_age(c, age);
		if (u && new->have_usage && new->ts_ns > u->ts_ns)
			kg_json_dbl(w, "averageMillicores",
				    1000.0 * kg_sub(new->usage_ns, u->usage_ns) /
					    (double)(new->ts_ns - u->ts_ns),
				    1);
	}
	cum = kg_json_obj(o, "cumulative");
	kg_json_u64(cum, "periods", new->cfs.nr_periods);
	kg_json_u64(cum, "throttledPeriods", new->cfs.nr_throttled);
	kg_json_u64(cum, "throttledTimeNs", new->cfs.throttled_time_ns);
	kg_json_u64(o, "threads", c->threads);
	if (c->throttled_since_ns)
		kg_json_time(o, "throttledSince", c->throttled_since_ns + e->tmpl.mono_to_real_ns);
	return o;
}

json_object *kg_view_cgroups(struct kg_engine *e, const char *pod)
{
	json_object *v = json_object_new_object(), *cgs, *thr, *pods;
	unsigned ncg = 0, nthr = 0, npod = 0, omitted = 0;
	uint64_t now = kg_now_ns();

	kg_json_dbl(v, "uptimeSeconds", kg_view_uptime_s(e), 1);
	kg_json_u64(v, "openBirths", e->track.open_births);
	cgs = kg_json_arr(v, "cgroups");
	kg_track_for_each(&e->track, cg) {
		json_object *o;

		if (pod[0] && strcmp(cg->ident.pod_uid, pod))
			continue;
		if (ncg >= KG_VIEW_MAX_ROWS) {
			omitted++;
			continue;
		}
		o = json_object_new_object();
		kg_json_u64(o, "id", cg->id);
		kg_json_str(o, "path", cg->path);
		kg_ident_json(o, &cg->ident);
		if (cg->removed_ns)
			kg_json_bool(o, "removed", 1);
		if (cg->birth)
			json_object_object_add(o, "birth", kg_birth_live(e, cg, now));
		json_object_array_add(cgs, o);
		ncg++;
	}
	pods = kg_json_arr(v, "pods");
	for (struct kg_pod *p = e->track.pods; p; p = p->next) {
		json_object *o;
		uint64_t sys = 0;
		char ns[64], name[254];

		if (!p->is_pod || (pod[0] && strcmp(p->key, pod)))
			continue;
		if (npod >= KG_VIEW_MAX_ROWS) {
			omitted++;
			continue;
		}
		o = json_object_new_object();
		kg_json_str(o, "podUID", p->key);
		if (kg_view_pod_names(e, p->key, ns, sizeof(ns), name, sizeof(name))) {
			kg_json_str(o, "namespace", ns);
			kg_json_str(o, "name", name);
		}
		for (unsigned i = 0; i < p->nbirths; i++)
			sys += p->births[i]->have_kernel ? p->births[i]->kernel.syscalls : 0;
		kg_json_u64(o, "settledStarts", p->nbirths);
		kg_json_u64(o, "settledSyscalls", sys);
		kg_json_u64(o, "cgroups", p->refs);
		json_object_array_add(pods, o);
		npod++;
	}
	thr = kg_json_arr(v, "throttling");
	for (const struct kg_thr_cg *c = e->throttle.list; c; c = c->next) {
		if (pod[0] && strcmp(c->ident.pod_uid, pod))
			continue;
		if (nthr >= KG_VIEW_MAX_ROWS) {
			omitted++;
			continue;
		}
		json_object_array_add(thr, kg_throttle_live(e, c));
		nthr++;
	}
	kg_json_u64(v, "omitted", omitted);
	return v;
}

/* ---- watch events ---- */

json_object *kg_view_birth_event(struct kg_engine *e, const char *event, const struct kg_cg *cg,
				 const struct kg_birth *b)
{
	json_object *o = json_object_new_object();
	int64_t wall = kg_now_ns() + e->tmpl.mono_to_real_ns;

	kg_json_str(o, "event", event);
	kg_json_time(o, "ts", wall);
	kg_json_str(o, "cgroup", cg->path);
	kg_ident_json(o, &cg->ident);
	if (b && b->reason != KG_SETTLE_NONE) {
		kg_json_str(o, "settledBy", kg_settle_reason_name(b->reason));
		kg_json_dbl(o, "durationMs", kg_birth_duration_ns(b) / 1e6, 3);
		if (b->have_kernel) {
			kg_json_u64(o, "syscalls", b->kernel.syscalls);
			kg_json_u64(o, "execs", b->kernel.execs);
			kg_json_u64(o, "processes", b->kernel.processes);
			kg_json_u64(o, "opens", b->kernel.opens);
			kg_json_u64(o, "opensFailed", b->kernel.opens_failed);
			kg_json_u64(o, "eventsDropped", b->kernel.events_dropped);
		}
		if (b->execs_n) {
			const struct kg_birth_exec *x = &b->execs[b->execs_n - 1];

			kg_json_str(o, "entrypoint", x->exe[0] ? x->exe : x->file);
		}
	}
	return o;
}

/* ---- metrics ---- */

bool kg_view_pod_names(struct kg_engine *e, const char *uid, char *ns, size_t nssz, char *name,
		       size_t namesz)
{
	struct kg_pod_meta m;

	if (!e->kube_on || !uid[0] || !kg_pod_cache_get(&e->kube.pods, uid, &m))
		return false;
	snprintf(ns, nssz, "%s", m.namespace_);
	snprintf(name, namesz, "%s", m.name);
	return true;
}

static void kg_view_cfs_rows(struct kg_engine *e, struct kg_metrics_snap *s,
			     struct kg_metrics_cfs *rows)
{
	for (const struct kg_thr_cg *c = e->throttle.list; c; c = c->next) {
		const struct kg_thr_sample *new;
		struct kg_metrics_cfs *r;
		bool dup = false;

		/* a pod's or a container's own cgroup: bounded, stable labels */
		if (!c->count || !c->ident.pod_uid[0] || c->ident.nested ||
		    (c->ident.kind != KG_CG_POD && c->ident.kind != KG_CG_CONTAINER))
			continue;
		for (unsigned i = 0; i < s->ncfs && !dup; i++)
			dup = !strcmp(rows[i].pod_uid, c->ident.pod_uid) &&
			      !strncmp(rows[i].container_id, c->ident.container_id, 12);
		if (dup)
			continue;
		if (s->ncfs >= KG_METRICS_MAX_PODS) {
			s->cfs_omitted++;
			continue;
		}
		r = &rows[s->ncfs++];
		memset(r, 0, sizeof(*r));
		new = kg_thr_age(c, 0);
		snprintf(r->pod_uid, sizeof(r->pod_uid), "%s", c->ident.pod_uid);
		snprintf(r->container_id, sizeof(r->container_id), "%.12s", c->ident.container_id);
		kg_view_pod_names(e, r->pod_uid, r->namespace_, sizeof(r->namespace_), r->pod,
				  sizeof(r->pod));
		r->periods = new->cfs.nr_periods;
		r->throttled_periods = new->cfs.nr_throttled;
		r->throttled_ns = new->cfs.throttled_time_ns;
		r->quota_ns = new->cfs.quota_ns;
		r->period_ns = new->cfs.period_ns;
	}
}

static void kg_view_birth_rows(struct kg_engine *e, struct kg_metrics_snap *s,
			       struct kg_metrics_birth *rows, const struct kg_pod **of)
{
	struct kg_birth_counts *k = malloc(sizeof(*k));

	for (struct kg_pod *p = e->track.pods; p; p = p->next) {
		struct kg_metrics_birth *r;

		if (!p->is_pod)
			continue;
		if (s->nbirths >= KG_METRICS_MAX_PODS) {
			s->births_omitted += p->nbirths > 0;
			continue;
		}
		r = &rows[s->nbirths];
		memset(r, 0, sizeof(*r));
		of[s->nbirths++] = p;
		snprintf(r->pod_uid, sizeof(r->pod_uid), "%.39s", p->key);
		for (unsigned i = 0; i < p->nbirths; i++)
			r->syscalls += p->births[i]->have_kernel ? p->births[i]->kernel.syscalls : 0;
		r->starts = p->nbirths;
	}
	/* starts still being recorded: the kernel's count so far */
	kg_track_for_each(&e->track, cg) {
		if (!cg->birth || !cg->pod || !cg->pod->is_pod)
			continue;
		for (unsigned i = 0; i < s->nbirths; i++) {
			if (of[i] != cg->pod)
				continue;
			rows[i].starts++;
			if (k && !bpf_map_lookup_elem(kg_bpf_births_fd(&e->bpf), &cg->id, k))
				rows[i].syscalls += k->syscalls;
			break;
		}
	}
	free(k);
	/* pods the agent knew before it started and saw no start of: no series */
	{
		unsigned j = 0;

		for (unsigned i = 0; i < s->nbirths; i++) {
			if (!rows[i].starts)
				continue;
			if (j != i)
				rows[j] = rows[i];
			kg_view_pod_names(e, rows[j].pod_uid, rows[j].namespace_,
					  sizeof(rows[j].namespace_), rows[j].pod,
					  sizeof(rows[j].pod));
			j++;
		}
		s->nbirths = j;
	}
}

int kg_view_metrics(struct kg_engine *e, struct kg_metrics_snap *s)
{
	static struct kg_prog_view pv[KG_METRICS_MAX_PROGS];
	static uint64_t drops[KG_MAX_CPUS];
	struct kg_metrics_cfs *cfs;
	struct kg_metrics_birth *births;
	const struct kg_pod **of;
	unsigned npv;

	memset(s, 0, sizeof(*s));
	s->version = KG_VERSION;
	{
		static struct utsname u;

		s->kernel = uname(&u) ? "unknown" : u.release;
	}
	s->start_time_s = (double)(int64_t)(e->started_ns + e->tmpl.mono_to_real_ns) / 1e9;
	s->ready = kg_ready();
	memcpy(s->events, e->stats.events_by_type, sizeof(s->events));
	s->malformed = e->ring ? kg_ring_malformed(e->ring) : 0;
	memset(drops, 0, sizeof(drops));
	if (e->bpf.skel && !kg_bpf_counters(&e->bpf, s->counters, drops)) {
		s->nr_cpus = e->bpf.nr_cpus;
		s->drops_per_cpu = drops;
	}
	npv = kg_progs(e, pv, KG_METRICS_MAX_PROGS);
	for (unsigned i = 0; i < npv; i++) {
		struct kg_metrics_prog *m;

		if (!pv[i].loaded)
			continue;
		m = &s->progs[s->nprogs++];
		snprintf(m->name, sizeof(m->name), "%s", pv[i].name);
		m->id = pv[i].id;
		m->attached = pv[i].attached;
		m->run_time_ns = pv[i].run_time_ns;
		m->run_cnt = pv[i].run_cnt;
	}
	s->bpf_stats_enabled = kg_bpf_stats_enabled();
	s->syscalls_attached = kg_bpf_syscalls_attached(&e->bpf);
	s->syscall_attach_cycles = e->bpf.syscall_attaches;
	s->births_recorded = e->stats.births_recorded;
	s->births_discarded = e->stats.births_discarded;
	s->births_orphaned = e->stats.births_orphaned;
	s->births_refused = e->stats.births_refused;
	s->births_open = e->track.open_births;
	s->cgroups_tracked = e->track.ncgroups;
	s->pods_tracked = e->track.npods;
	s->throttle_cgroups = e->throttle.n;
	s->unchanged = e->sink.unchanged;
	s->write_errors = e->sink.errors;
	if (e->kube_on) {
		struct kg_k8s_stats k;

		kg_k8s_sink_stats(&e->kube.sink, &k);
		s->queue_depth = k.depth;
		s->write_errors += k.dropped;
		s->unchanged += k.unchanged;
	}
	s->log_suppressed = kg_log_suppressed_total();

	cfs = calloc(KG_METRICS_MAX_PODS, sizeof(*cfs));
	births = calloc(KG_METRICS_MAX_PODS, sizeof(*births));
	of = calloc(KG_METRICS_MAX_PODS, sizeof(*of));
	if (!cfs || !births || !of) {
		free(cfs);
		free(births);
		free(of);
		return -ENOMEM;
	}
	kg_view_cfs_rows(e, s, cfs);
	kg_view_birth_rows(e, s, births, of);
	free(of);
	s->cfs = cfs;
	s->births = births;
	return 0;
}

void kg_view_metrics_free(struct kg_metrics_snap *s)
{
	free((void *)s->cfs);
	free((void *)s->births);
	s->cfs = NULL;
	s->births = NULL;
}
