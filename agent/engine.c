// SPDX-License-Identifier: GPL-2.0
/*
 * engine.c - see engine.h.
 *
 * Timers: the rings are drained every KG_DRAIN_MS (events are submitted
 * without wake-ups unless urgent, so the consumer polls); open births are
 * checked every KG_SETTLE_MS; the throttling counters are sampled every
 * --sample-ms. Everything runs on the one loop thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "certificate.h"
#include "engine.h"
#include "log.h"
#include "ops.h"

#define KG_DRAIN_MS 20
#define KG_SETTLE_MS 100
#define KG_ORPHAN_SCAN_NS (5ULL * 1000000000ULL)
#define NS_PER_MS 1000000ULL

uint64_t kg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int64_t kg_mono_to_real(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

/* ---- births ---- */

static void kg_syscalls_wanted(struct kg_engine *e)
{
	bool want = e->cfg->syscall_hooks == KG_SYSCALLS_ALWAYS || e->track.open_births > 0 ||
		    kg_now_ns() < e->warm_until_ns;
	bool on = kg_bpf_syscalls_attached(&e->bpf);
	int ret;

	if (want == on)
		return;
	ret = kg_bpf_syscalls(&e->bpf, want);
	if (ret) {
		kg_error("bpf.syscalls_attach_failed", "error=%s", kg_q(strerror(-ret)));
		return;
	}
	if (want)
		e->stats.syscall_attach_cycles++;
	kg_debug("bpf.syscalls", "attached=%d open_births=%u", want, e->track.open_births);
}

/* Resources leave the engine here: as files, or to the API server. */
static void kg_emit(void *ctx, const char *plural, const char *suffix, const char *pod_uid,
		    const char *name, json_object *doc)
{
	struct kg_engine *e = ctx;
	int ret = 0;

	if (e->kube_on)
		kg_kube_emit(&e->kube, plural, suffix, pod_uid, doc, kg_now_ns());
	else
		ret = kg_sink_write(&e->sink, plural, name, doc);
	kg_ops_note_resource(e->ops, plural, name, doc, ret);
}

static bool kg_engine_metrics_view(void *ctx, const char *pod_uid, const char *container_id,
				   double *millicores, double *window_s)
{
	struct kg_engine *e = ctx;

	return kg_kube_metrics_view(&e->kube, pod_uid, container_id, millicores, window_s);
}

static void kg_write_certificate(struct kg_engine *e, struct kg_pod *p)
{
	struct kg_cert_container c[KG_POD_MAX_BIRTHS];
	struct kg_resource_meta m = e->tmpl;
	json_object *doc;

	if (!p->nbirths)
		return;
	for (unsigned i = 0; i < p->nbirths; i++) {
		c[i].birth = p->births[i];
		c[i].container_id = p->container_ids[i];
		c[i].runtime = p->runtimes[i];
	}
	snprintf(m.name, sizeof(m.name), "%.200s-birth", p->base_name);
	if (p->is_pod) {
		snprintf(m.pod_uid, sizeof(m.pod_uid), "%s", p->ident.pod_uid);
		snprintf(m.pod_name, sizeof(m.pod_name), "pod-%s", p->ident.pod_uid);
	}
	m.driver = kg_driver_name(p->ident.driver);
	m.qos = kg_qos_name(p->ident.qos);
	doc = kg_certificate_json(&m, c, p->nbirths);
	kg_emit(e, KG_PLURAL_CERT, "-birth", p->is_pod ? p->ident.pod_uid : NULL, m.name, doc);
	json_object_put(doc);
}

static void kg_settle(struct kg_engine *e, struct kg_cg *cg, enum kg_settle_reason reason)
{
	struct kg_birth_counts *k = malloc(sizeof(*k));
	struct kg_birth *b = cg->birth;
	bool have_k = false;
	uint64_t now = kg_now_ns();

	if (k) {
		int fd = kg_bpf_births_fd(&e->bpf);

		/* take the kernel's record and stop counting in one step */
		have_k = !bpf_map_lookup_and_delete_elem(fd, &cg->id, k);
		if (!have_k && !bpf_map_lookup_elem(fd, &cg->id, k)) {
			have_k = true;
			bpf_map_delete_elem(fd, &cg->id);
		}
	}
	kg_birth_settle(b, reason, now, have_k ? k : NULL);
	free(k);
	if (!b->had_task) {
		e->stats.births_discarded++;
		kg_debug("birth.discarded",
			 "cgroup=%s settled_by=%s kernel_record=%s syscalls=%llu events=%llu "
			 "reason=\"no task ever joined\"",
			 kg_q(cg->path), kg_settle_reason_name(reason), have_k ? "yes" : "lost",
			 (unsigned long long)b->kernel.syscalls, (unsigned long long)b->events);
		kg_track_set_birth(&e->track, cg, NULL);
		return;
	}
	e->stats.births_recorded++;
	kg_info("birth.settled",
		"cgroup=%s container=%s settled_by=%s duration_ms=%.1f syscalls=%llu execs=%u "
		"processes=%u opens=%u failed_opens=%u namespaces=%u events_dropped=%u",
		kg_q(cg->path), kg_q(cg->ident.container_id), kg_settle_reason_name(reason),
		kg_birth_duration_ns(b) / 1e6, (unsigned long long)b->kernel.syscalls,
		b->kernel.execs, b->kernel.processes, b->kernel.opens, b->kernel.opens_failed,
		b->kernel.namespaces, b->kernel.events_dropped);
	kg_ops_note_birth(e->ops, "birth.settled", cg, b);
	kg_track_keep_settled(&e->track, cg, b);
	if (cg->pod)
		kg_write_certificate(e, cg->pod);
}

/* A cgroup whose birth the kernel opened: record it, or release the kernel's slot. */
static void kg_on_identity_mkdir(struct kg_engine *e, const struct kg_cgroup_event *ev,
				 const char *path)
{
	struct kg_cg *cg = kg_track_add(&e->track, ev->id, path);
	struct kg_birth *b;
	uint64_t created = ev->hdr.ts_ns;
	uint32_t mkdirs;

	if (!cg) {
		e->stats.unknown_cgroups++;
		kg_warn("cgroup.ignored", "cgroup=%s reason=\"invalid path or registry full\"",
			kg_q(path));
		if (ev->birth)
			bpf_map_delete_elem(kg_bpf_births_fd(&e->bpf), &ev->id);
		return;
	}
	if (cg->ident.kind != KG_CG_CONTAINER && cg->ident.kind != KG_CG_OTHER) {
		/* kube root, QoS and pod levels run no tasks; their containers follow soon */
		if (ev->birth)
			bpf_map_delete_elem(kg_bpf_births_fd(&e->bpf), &ev->id);
		e->warm_until_ns = kg_now_ns() + e->cfg->birth_max_ms * NS_PER_MS;
		kg_syscalls_wanted(e);
		return;
	}
	if (!ev->birth) {
		e->stats.births_refused++;
		kg_warn("birth.refused", "cgroup=%s reason=\"kernel births map full (--max-births)\"",
			kg_q(path));
		return;
	}
	mkdirs = 1 + kg_track_take_mkdirs(&e->track, path, &created);
	b = kg_birth_new(ev->id, path, created);
	if (!b) {
		bpf_map_delete_elem(kg_bpf_births_fd(&e->bpf), &ev->id);
		return;
	}
	b->cgroups_created = mkdirs;
	kg_track_set_birth(&e->track, cg, b);
	kg_syscalls_wanted(e);
	kg_debug("birth.opened", "cgroup=%s kind=%s id=%llu", kg_q(path),
		 kg_cgroup_kind_name(cg->ident.kind), (unsigned long long)ev->id);
	kg_ops_note_birth(e->ops, "birth.opened", cg, b);
}

static void kg_on_other_mkdir(struct kg_engine *e, const char *path, uint64_t ts)
{
	/* the same directory in another hierarchy: one more cgroup the start created */
	kg_track_for_each(&e->track, cg) {
		if (cg->birth && !strcmp(cg->path, path)) {
			cg->birth->cgroups_created++;
			return;
		}
	}
	kg_track_note_mkdir(&e->track, path, ts);
}

static void kg_on_cgroup_event(struct kg_engine *e, const struct kg_cgroup_event *ev)
{
	const struct kg_mount *idm = &e->fs.m[KG_HIER_IDENTITY];
	bool identity = ev->hierarchy_id == (idm->v2 ? 0 : idm->hier_id);
	char path[KG_PATH_LEN];
	struct kg_cg *cg;

	memcpy(path, ev->path, sizeof(path));
	path[sizeof(path) - 1] = 0;
	if (ev->truncated && identity &&
	    kg_cgroupfs_id_path(&e->fs, KG_HIER_IDENTITY, ev->id, path, sizeof(path))) {
		e->stats.unknown_cgroups++;
		kg_warn("cgroup.path_truncated", "id=%llu prefix=%s",
			(unsigned long long)ev->id, kg_q(path));
		if (ev->hdr.type == KG_EV_CGROUP_MKDIR && ev->birth)
			bpf_map_delete_elem(kg_bpf_births_fd(&e->bpf), &ev->id);
		return;
	}

	switch (ev->hdr.type) {
	case KG_EV_CGROUP_MKDIR:
		if (identity)
			kg_on_identity_mkdir(e, ev, path);
		else
			kg_on_other_mkdir(e, path, ev->hdr.ts_ns);
		break;
	case KG_EV_CGROUP_RMDIR:
		if (!identity)
			break;
		/*
		 * Not now: each CPU has its own ring, so the exits that came
		 * before this rmdir may still sit in another CPU's ring. The
		 * settle tick drains every ring first, then forgets the cgroup.
		 */
		cg = kg_track_find(&e->track, ev->id);
		if (cg)
			cg->removed_ns = ev->hdr.ts_ns;
		break;
	case KG_EV_CGROUP_ATTACH:
		cg = kg_track_find(&e->track, ev->id);
		if (cg && cg->birth)
			kg_birth_event(cg->birth, &ev->hdr);
		break;
	}
}

static void kg_on_event(void *ctx, const struct kg_event_hdr *h, size_t size)
{
	struct kg_engine *e = ctx;
	struct kg_cg *cg;

	if (h->type < KG_EV_TYPE_MAX)
		e->stats.events_by_type[h->type]++;
	if (h->type <= KG_EV_CGROUP_ATTACH) {
		kg_on_cgroup_event(e, (const struct kg_cgroup_event *)h);
		return;
	}
	cg = kg_track_find(&e->track, h->cgid);
	if (cg && cg->birth)
		kg_birth_event(cg->birth, h);
}

/* Kernel birth records the agent has no record of (a lost mkdir event): release them. */
static void kg_scan_orphans(struct kg_engine *e, uint64_t now)
{
	int fd = kg_bpf_births_fd(&e->bpf);
	struct kg_birth_counts *k = malloc(sizeof(*k));
	uint64_t key, next;
	void *prev = NULL;

	if (!k)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct kg_cg *cg;

		key = next;
		prev = &key;
		cg = kg_track_find(&e->track, key);
		if (cg && cg->birth)
			continue;
		if (bpf_map_lookup_elem(fd, &key, k))
			continue;
		if (now < k->created_ns + e->cfg->birth_max_ms * NS_PER_MS)
			continue;	/* its mkdir event may still be on the way */
		bpf_map_delete_elem(fd, &key);
		e->stats.births_orphaned++;
		kg_warn("birth.orphaned",
			"id=%llu syscalls=%llu reason=\"its creation event was lost\"",
			(unsigned long long)key, (unsigned long long)k->syscalls);
	}
	free(k);
}

/* Events lost to full ring buffers are reported as soon as they are noticed, per CPU. */
static void kg_report_drops(struct kg_engine *e)
{
	uint64_t c[KG_CNT_MAX], per_cpu[KG_MAX_CPUS];
	char list[512];
	size_t n = 0;

	if (kg_bpf_counters(&e->bpf, c, per_cpu) || c[KG_CNT_RB_DROP] == e->last_drops)
		return;
	list[0] = 0;
	for (int cpu = 0; cpu < e->bpf.nr_cpus && n < sizeof(list) - 32; cpu++) {
		if (per_cpu[cpu])
			n += snprintf(list + n, sizeof(list) - n, "%s%d:%llu", n ? "," : "", cpu,
				      (unsigned long long)per_cpu[cpu]);
	}
	kg_warn("ring.drops",
		"dropped_total=%llu new=%llu per_cpu=%s hint=\"raise --ring-bytes\"",
		(unsigned long long)c[KG_CNT_RB_DROP],
		(unsigned long long)(c[KG_CNT_RB_DROP] - e->last_drops), list);
	kg_ops_note_drops(e->ops, c[KG_CNT_RB_DROP], c[KG_CNT_RB_DROP] - e->last_drops, per_cpu,
			  e->bpf.nr_cpus);
	e->last_drops = c[KG_CNT_RB_DROP];
}

static void kg_settle_tick(void *ctx, uint32_t events)
{
	struct kg_engine *e = ctx;
	struct kg_birth_rules rules = { e->cfg->birth_quiet_ms, e->cfg->birth_ready_ms,
					e->cfg->birth_max_ms };
	struct kg_birth_counts *k = malloc(sizeof(*k));
	uint64_t now = kg_now_ns();

	if (!k)
		return;
	kg_ring_drain(e->ring);	/* decide on the freshest events */
	kg_track_for_each(&e->track, cg) {
		enum kg_settle_reason r;
		bool have_k;

		if (cg->removed_ns) {
			/* runtimes remove a container's cgroup once it has exited */
			if (cg->birth)
				kg_settle(e, cg, cg->birth->had_task && cg->birth->live <= 0 ?
							 KG_SETTLE_EXITED : KG_SETTLE_REMOVED);
			bpf_map_delete_elem(kg_bpf_sched_fd(&e->bpf), &cg->id);
			kg_track_remove(&e->track, cg->id);
			continue;
		}
		if (!cg->birth)
			continue;
		have_k = !bpf_map_lookup_elem(kg_bpf_births_fd(&e->bpf), &cg->id, k);
		r = kg_birth_check(cg->birth, now, have_k ? k : NULL, &rules);
		if (r != KG_SETTLE_NONE)
			kg_settle(e, cg, r);
	}
	free(k);
	if (e->kube_on)
		kg_kube_tick(&e->kube, now);
	if (now - e->last_orphan_scan_ns > KG_ORPHAN_SCAN_NS) {
		e->last_orphan_scan_ns = now;
		kg_scan_orphans(e, now);
		kg_report_drops(e);
	}
	kg_syscalls_wanted(e);
}

static void kg_drain_tick(void *ctx, uint32_t events)
{
	struct kg_engine *e = ctx;
	int n = kg_ring_drain(e->ring);

	if (n < 0)
		kg_error("ring.drain_failed", "error=%s", kg_q(strerror(-n)));
}

static void kg_sample_tick(void *ctx, uint32_t events)
{
	struct kg_engine *e = ctx;

	kg_throttle_sample(&e->throttle, kg_now_ns());
}

/* Cgroups that existed before the agent: known, but their start is history. */
static void kg_seed_visit(void *ctx, const char *rel, uint64_t id)
{
	struct kg_engine *e = ctx;

	kg_track_add(&e->track, id, rel);
}

int kg_engine_init(struct kg_engine *e, const struct kg_config *cfg, char *err, size_t errsz)
{
	char host[256] = "";
	int ret;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->started_ns = kg_now_ns();
	/*
	 * Block SIGINT/SIGTERM before any thread exists (the API client's):
	 * threads inherit the mask, so the signals reach only the loop's signalfd.
	 */
	{
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	kg_track_init(&e->track);
	ret = kg_cgroupfs_open(&e->fs, err, errsz);
	if (ret)
		return ret;
	gethostname(host, sizeof(host) - 1);
	snprintf(e->tmpl.node, sizeof(e->tmpl.node), "%s", cfg->node_name[0] ? cfg->node_name : host);
	if (cfg->kubernetes) {
		ret = kg_kube_start(&e->kube, cfg, e->tmpl.node, err, errsz);
		if (ret)
			return ret;
		e->kube_on = true;
	} else {
		ret = kg_sink_init(&e->sink, cfg->output_dir, err, errsz);
		if (ret)
			return ret;
	}
	ret = kg_bpf_open(&e->bpf, cfg, &e->fs, err, errsz);
	if (ret)
		return ret;
	e->ring = kg_ring_new(e->bpf.ring_fds, e->bpf.nr_cpus, kg_on_event, e);
	e->loop = kg_loop_new();
	if (!e->ring || !e->loop) {
		snprintf(err, errsz, "cannot set up the ring buffers' consumer: %s", strerror(errno));
		return -ENOMEM;
	}

	e->tmpl.mono_to_real_ns = kg_mono_to_real();
	snprintf(e->hooks, sizeof(e->hooks),
		 "kernel-gossip %s; throttle episodes: %s; syscalls: tp_btf/sys_enter (%s)",
		 KG_VERSION, kg_episode_hook_name(e->bpf.episode_hook),
		 cfg->syscall_hooks == KG_SYSCALLS_ALWAYS ? "always" : "during births");
	e->tmpl.hooks = e->hooks;
	kg_throttle_init(&e->throttle, cfg, &e->fs, &e->bpf, kg_emit, e, &e->tmpl);
	if (e->kube_on)
		e->throttle.metrics_view = kg_engine_metrics_view;

	for (unsigned i = 0; i < cfg->nr_prefixes; i++)
		kg_cgroupfs_walk(&e->fs, cfg->prefixes[i], kg_seed_visit, e);

	if ((ret = kg_loop_add_fd(e->loop, kg_ring_epoll_fd(e->ring), kg_drain_tick, e)) ||
	    (ret = kg_loop_add_timer(e->loop, KG_DRAIN_MS, kg_drain_tick, e)) ||
	    (ret = kg_loop_add_timer(e->loop, KG_SETTLE_MS, kg_settle_tick, e)) ||
	    (ret = kg_loop_add_timer(e->loop, cfg->sample_ms, kg_sample_tick, e)) ||
	    (ret = kg_loop_handle_signals(e->loop))) {
		snprintf(err, errsz, "cannot set up the event loop: %s", strerror(-ret));
		return ret;
	}

	kg_info("agent.started",
		"version=%s mode=%s output_dir=%s identity_hierarchy=%s cpu_hierarchy=%s "
		"cgroups_tracked=%u cpus=%d throttle_episodes=%s episode_hook_reason=%s "
		"csd_hook=%d syscall_hooks=%s",
		KG_VERSION, e->kube_on ? "kubernetes" : "standalone",
		kg_q(e->kube_on ? "" : cfg->output_dir), kg_q(e->fs.m[KG_HIER_IDENTITY].dir),
		kg_q(e->fs.m[KG_HIER_CPU].dir), e->track.ncgroups, e->bpf.nr_cpus,
		kg_episode_hook_name(e->bpf.episode_hook), kg_q(e->bpf.episode_reason),
		e->bpf.csd_hook, cfg->syscall_hooks == KG_SYSCALLS_ALWAYS ? "always" : "birth");
	return 0;
}

int kg_engine_run(struct kg_engine *e)
{
	int sig = kg_loop_run(e->loop);

	if (sig < 0) {
		kg_error("loop.failed", "error=%s", kg_q(strerror(-sig)));
		return sig;
	}
	kg_info("agent.stopping", "signal=%d", sig);
	return 0;
}

void kg_engine_fini(struct kg_engine *e)
{
	uint64_t c[KG_CNT_MAX] = { 0 };

	if (e->ring) {
		kg_ring_drain(e->ring);
		kg_track_for_each(&e->track, cg) {
			if (cg->birth)
				kg_settle(e, cg, KG_SETTLE_SHUTDOWN);
		}
		kg_throttle_sample(&e->throttle, kg_now_ns());
	}
	if (e->bpf.skel) {
		kg_bpf_counters(&e->bpf, c, NULL);
		kg_info("agent.stopped",
			"events=%llu malformed=%llu ring_drops=%llu births_recorded=%llu "
			"births_discarded=%llu births_orphaned=%llu births_refused=%llu "
			"whispers_written=%llu resources_written=%llu write_errors=%llu",
			(unsigned long long)(e->ring ? kg_ring_events(e->ring) : 0),
			(unsigned long long)(e->ring ? kg_ring_malformed(e->ring) : 0),
			(unsigned long long)c[KG_CNT_RB_DROP],
			(unsigned long long)e->stats.births_recorded,
			(unsigned long long)e->stats.births_discarded,
			(unsigned long long)e->stats.births_orphaned,
			(unsigned long long)e->stats.births_refused,
			(unsigned long long)e->throttle.whispers_written,
			(unsigned long long)e->sink.written, (unsigned long long)e->sink.errors);
	}
	if (e->kube_on) {
		/* pending writes get a few seconds to reach the API server */
		kg_kube_stop(&e->kube, 5000);
		e->kube_on = false;
	}
	kg_throttle_fini(&e->throttle);
	kg_ring_free(e->ring);
	kg_loop_free(e->loop);
	kg_bpf_close(&e->bpf);
	kg_track_fini(&e->track);
	kg_cgroupfs_close(&e->fs);
	e->ring = NULL;
	e->loop = NULL;
}
