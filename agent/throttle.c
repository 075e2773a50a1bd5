// SPDX-License-Identifier: GPL-2.0
/*
 * throttle.c - see throttle.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "log.h"
#include "throttle.h"
#include "sink.h"
#include "whisper.h"

#define KG_STALE_NS (10ULL * 1000000000ULL)

void kg_throttle_init(struct kg_throttle *t, const struct kg_config *cfg,
		      const struct kg_cgroupfs *fs, struct kg_bpf *bpf, kg_emit_fn emit,
		      void *emit_ctx, const struct kg_resource_meta *tmpl)
{
	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->fs = fs;
	t->bpf = bpf;
	t->emit = emit;
	t->emit_ctx = emit_ctx;
	t->tmpl = tmpl;
	/* one sample per period over the window, plus the baseline */
	t->ring_cap = (cfg->window_s * 1000 + cfg->sample_ms - 1) / cfg->sample_ms + 2;
	t->node_cpus = sysconf(_SC_NPROCESSORS_ONLN);
}

static void kg_thr_free(struct kg_thr_cg *c)
{
	free(c->ring);
	free(c);
}

void kg_throttle_fini(struct kg_throttle *t)
{
	for (struct kg_thr_cg *c = t->list, *n; c; c = n) {
		n = c->next;
		kg_thr_free(c);
	}
	t->list = NULL;
	t->n = 0;
}

void kg_sched_sum(const struct kg_sched_stats *percpu, int nr_cpus, struct kg_sched_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < nr_cpus; c++) {
		const struct kg_sched_stats *s = &percpu[c];

		out->oncpu_ns += s->oncpu_ns;
		out->switches_voluntary += s->switches_voluntary;
		out->switches_involuntary += s->switches_involuntary;
		out->runq_delay_ns += s->runq_delay_ns;
		out->runq_waits += s->runq_waits;
		if (s->runq_delay_max_ns > out->runq_delay_max_ns)
			out->runq_delay_max_ns = s->runq_delay_max_ns;
		out->throttle_wait_ns += s->throttle_wait_ns;
		out->throttled_tasks += s->throttled_tasks;
		for (int i = 0; i < KG_HIST_SLOTS; i++)
			out->runq_hist[i] += s->runq_hist[i];
	}
}

static bool kg_read_sched(struct kg_throttle *t, uint64_t id, struct kg_sched_stats *out)
{
	struct kg_sched_stats *percpu;
	bool ok;

	if (!id)
		return false;
	percpu = calloc(t->bpf->nr_cpus, sizeof(*percpu));
	if (!percpu)
		return false;
	ok = !bpf_map_lookup_elem(kg_bpf_sched_fd(t->bpf), &id, percpu);
	if (ok)
		kg_sched_sum(percpu, t->bpf->nr_cpus, out);
	free(percpu);
	return ok;
}

static struct kg_thr_cg *kg_thr_find(struct kg_throttle *t, uint64_t cpu_id)
{
	for (struct kg_thr_cg *c = t->list; c; c = c->next) {
		if (c->cpu_id == cpu_id)
			return c;
	}
	return NULL;
}

static void kg_thr_name(struct kg_thr_cg *c)
{
	char base[KG_CGROUP_NAME_MAX + 1];

	if (c->ident.pod_uid[0]) {
		snprintf(c->group, sizeof(c->group), "%s", c->ident.pod_uid);
		snprintf(c->name, sizeof(c->name), "pod-%s-cpu-throttle", c->ident.pod_uid);
		return;
	}
	snprintf(c->group, sizeof(c->group), "%s", c->path);
	if (kg_cgroup_object_name(c->path, base, sizeof(base), KG_OBJECT_NAME_MAX - 13) < 0)
		snprintf(base, sizeof(base), "cgroup");
	snprintf(c->name, sizeof(c->name), "%.200s-cpu-throttle", base);
}

static struct kg_thr_cg *kg_thr_new(struct kg_throttle *t, uint64_t cpu_id)
{
	struct kg_thr_cg *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return NULL;
	c->cap = 2;
	c->ring = calloc(c->cap, sizeof(*c->ring));
	if (!c->ring) {
		free(c);
		return NULL;
	}
	c->cpu_id = cpu_id;
	ret = kg_cgroupfs_id_path(t->fs, KG_HIER_CPU, cpu_id, c->path, sizeof(c->path));
	if (ret) {
		kg_thr_free(c);
		errno = -ret;
		return NULL;
	}
	if (kg_cgroupfs_path_id(t->fs, KG_HIER_IDENTITY, c->path, &c->ident_id))
		c->ident_id = 0;
	if (kg_cgroup_parse(c->path, &c->ident))
		memset(&c->ident, 0, sizeof(c->ident));
	kg_thr_name(c);
	c->next = t->list;
	t->list = c;
	t->n++;
	kg_debug("throttle.tracked", "cgroup=%s cpu_id=%llu identity_id=%llu", kg_q(c->path),
		 (unsigned long long)cpu_id, (unsigned long long)c->ident_id);
	return c;
}

static struct kg_thr_sample *kg_thr_push(struct kg_throttle *t, struct kg_thr_cg *c)
{
	struct kg_thr_sample *s = &c->ring[c->head];

	c->head = (c->head + 1) % c->cap;
	if (c->count < c->cap)
		c->count++;
	memset(s, 0, sizeof(*s));
	return s;
}

static struct kg_thr_sample *kg_thr_at(struct kg_throttle *t, struct kg_thr_cg *c, unsigned age)
{
	/* age 0 = newest */
	return &c->ring[(c->head + c->cap - 1 - age) % c->cap];
}

/* Give the ring a new capacity, keeping the newest samples in order. */
static int kg_thr_resize(struct kg_throttle *t, struct kg_thr_cg *c, unsigned cap)
{
	struct kg_thr_sample *r = calloc(cap, sizeof(*r));
	unsigned n = c->count < cap ? c->count : cap;

	if (!r)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		r[i] = *kg_thr_at(t, c, n - 1 - i);
	free(c->ring);
	c->ring = r;
	c->cap = cap;
	c->count = n;
	c->head = n % cap;
	return 0;
}

/* Tasks in the cgroup now: what a thread pool sized from the node's cores shows. */
static unsigned kg_thr_threads(struct kg_throttle *t, const char *path)
{
	char p[PATH_MAX + 32], line[64];
	unsigned n = 0;
	FILE *f;

	if (kg_cgroupfs_fs_path(t->fs, KG_HIER_CPU, path, p, sizeof(p) - 32))
		return 0;
	strcat(p, t->fs->m[KG_HIER_CPU].v2 ? "/cgroup.threads" : "/tasks");
	f = fopen(p, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void kg_thr_measure(struct kg_throttle *t, struct kg_thr_cg *c, struct kg_thr_sample *s)
{
	s->have_usage = !kg_cgroupfs_cpu_usage_ns(t->fs, c->path, &s->usage_ns);
	s->have_sched = kg_read_sched(t, c->ident_id, &s->sched);
}

static uint64_t kg_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* Oldest sample still inside the window that ends at the newest one. */
static struct kg_thr_sample *kg_thr_window_start(struct kg_throttle *t, struct kg_thr_cg *c)
{
	struct kg_thr_sample *newest = kg_thr_at(t, c, 0), *start = newest;
	uint64_t window = (uint64_t)t->cfg->window_s * 1000000000ULL;

	for (unsigned age = 1; age < c->count; age++) {
		struct kg_thr_sample *s = kg_thr_at(t, c, age);

		if (newest->ts_ns - s->ts_ns > window)
			break;
		start = s;
	}
	return start;
}

static void kg_thr_window(struct kg_throttle *t, struct kg_thr_cg *c, struct kg_whisper_window *w)
{
	struct kg_thr_sample *a = kg_thr_window_start(t, c), *z = kg_thr_at(t, c, 0);
	struct kg_thr_sample *ua = NULL, *uz = NULL, *sa = NULL, *sz = NULL;

	memset(w, 0, sizeof(*w));
	w->start_ns = a->ts_ns;
	w->end_ns = z->ts_ns;
	/* the kernel keeps these two as int: their differences are taken modulo 2^32 */
	w->periods = (uint32_t)(z->cfs.nr_periods - a->cfs.nr_periods);
	w->throttled_periods = (uint32_t)(z->cfs.nr_throttled - a->cfs.nr_throttled);
	w->throttled_ns = kg_sub(z->cfs.throttled_time_ns, a->cfs.throttled_time_ns);
	w->total_periods = z->cfs.nr_periods;
	w->total_throttled_periods = z->cfs.nr_throttled;
	w->total_throttled_ns = z->cfs.throttled_time_ns;
	w->quota_ns = z->cfs.quota_ns;
	w->period_ns = z->cfs.period_ns;
	w->burst_ns = z->cfs.burst_ns;
	w->episodes = kg_sub(z->cfs.episodes_closed, a->cfs.episodes_closed);
	w->episode_ns = kg_sub(z->cfs.episode_ns, a->cfs.episode_ns);
	for (int i = 0; i < KG_HIST_SLOTS; i++)
		w->episode_hist[i] = kg_sub(z->cfs.episode_hist[i], a->cfs.episode_hist[i]);
	w->episode_hook = kg_episode_hook_name(t->bpf->episode_hook);
	for (int i = 0; i < KG_USAGE_SLOTS; i++)
		w->usage_hist[i] = z->cfs.usage_hist[i] - a->cfs.usage_hist[i];
	for (int i = 0; i < KG_DEMAND_SLOTS; i++)
		w->demand_hist[i] = z->cfs.demand_hist[i] - a->cfs.demand_hist[i];
	w->bursts = kg_sub(z->cfs.bursts, a->cfs.bursts);
	w->open_burst_work_ns = z->cfs.burst_work_ns;
	w->threads = c->threads;
	w->node_cpus = t->node_cpus;
	w->throttled_since_ns = c->throttled_since_ns;

	/*
	 * Usage and scheduler facts are read by the agent, not at the period
	 * timer: their window runs from the first sample in the window that has
	 * them (the baseline has none) to the last that has them (a removed
	 * cgroup has none either, while its final counters still arrive).
	 */
	for (unsigned age = 0; age < c->count; age++) {
		struct kg_thr_sample *s = kg_thr_at(t, c, age);

		if (s->ts_ns < a->ts_ns)
			break;
		if (s->have_usage) {
			ua = s;
			if (!uz)
				uz = s;
		}
		if (s->have_sched) {
			sa = s;
			if (!sz)
				sz = s;
		}
	}
	w->usage_source = t->fs->m[KG_HIER_CPUACCT].v2 ? "cpu.stat usage_usec" : "cpuacct.usage";
	if (ua && ua != uz) {
		w->have_usage = true;
		w->usage_start_ns = ua->ts_ns;
		w->usage_end_ns = uz->ts_ns;
		w->usage_ns = kg_sub(uz->usage_ns, ua->usage_ns);
	}
	{
		double mc, win;

		/* what kubectl top shows, when the metrics API serves it */
		if (t->metrics_view && c->ident.pod_uid[0] &&
		    t->metrics_view(t->emit_ctx, c->ident.pod_uid,
				    c->ident.kind == KG_CG_CONTAINER ? c->ident.container_id : NULL,
				    &mc, &win) &&
		    win > 0) {
			w->local_have_usage = w->have_usage;
			w->local_usage_start_ns = w->usage_start_ns;
			w->local_usage_end_ns = w->usage_end_ns;
			w->local_usage_ns = w->usage_ns;
			w->local_usage_source = w->usage_source;
			w->have_usage = true;
			w->usage_source = "metrics.k8s.io PodMetrics (kubectl top)";
			w->usage_end_ns = z->ts_ns;
			w->usage_start_ns = z->ts_ns - (uint64_t)(win * 1e9);
			w->usage_ns = (uint64_t)(mc / 1000.0 * win * 1e9);
		}
	}
	if (sa && sa != sz) {
		const struct kg_sched_stats *x = &sa->sched, *y = &sz->sched;

		w->have_sched = true;
		w->sched.oncpu_ns = kg_sub(y->oncpu_ns, x->oncpu_ns);
		w->sched.switches_voluntary = kg_sub(y->switches_voluntary, x->switches_voluntary);
		w->sched.switches_involuntary =
			kg_sub(y->switches_involuntary, x->switches_involuntary);
		w->sched.runq_delay_ns = kg_sub(y->runq_delay_ns, x->runq_delay_ns);
		w->sched.runq_waits = kg_sub(y->runq_waits, x->runq_waits);
		w->sched.throttle_wait_ns = kg_sub(y->throttle_wait_ns, x->throttle_wait_ns);
		w->sched.throttled_tasks = kg_sub(y->throttled_tasks, x->throttled_tasks);
		for (int i = 0; i < KG_HIST_SLOTS; i++)
			w->sched.runq_hist[i] = kg_sub(y->runq_hist[i], x->runq_hist[i]);
	}
}

/* The group's whisper is about its cgroup most throttled in the window. */
static bool kg_thr_is_headline(struct kg_throttle *t, struct kg_thr_cg *c, uint64_t throttled)
{
	for (struct kg_thr_cg *o = t->list; o; o = o->next) {
		struct kg_whisper_window w;

		if (o == c || strcmp(o->group, c->group) || o->count < 2)
			continue;
		kg_thr_window(t, o, &w);
		if (w.throttled_periods > throttled ||
		    (w.throttled_periods == throttled && o->cpu_id < c->cpu_id))
			return false;
	}
	return true;
}

static void kg_thr_whisper(struct kg_throttle *t, struct kg_thr_cg *c)
{
	struct kg_resource_meta m = *t->tmpl;
	struct kg_whisper_window w;
	json_object *doc;

	kg_thr_window(t, c, &w);
	if (!w.throttled_periods || !kg_thr_is_headline(t, c, w.throttled_periods))
		return;
	snprintf(m.name, sizeof(m.name), "%s", c->name);
	snprintf(m.cgroup_path, sizeof(m.cgroup_path), "%s", c->path);
	snprintf(m.container_id, sizeof(m.container_id), "%s", c->ident.container_id);
	snprintf(m.pod_uid, sizeof(m.pod_uid), "%s", c->ident.pod_uid);
	if (c->ident.pod_uid[0])
		snprintf(m.pod_name, sizeof(m.pod_name), "pod-%s", c->ident.pod_uid);
	m.driver = kg_driver_name(c->ident.driver);
	m.qos = kg_qos_name(c->ident.qos);
	doc = kg_whisper_json(&m, &w);
	t->whispers_written++;
	kg_info("whisper.written",
		"name=%s cgroup=%s periods=%llu throttled_periods=%llu throttled_ms=%.1f summary=%s",
		m.name, kg_q(c->path), (unsigned long long)w.periods,
		(unsigned long long)w.throttled_periods, w.throttled_ns / 1e6,
		kg_q(json_object_get_string(
			json_object_object_get(json_object_object_get(doc, "status"), "summary"))));
	t->emit(t->emit_ctx, KG_PLURAL_WHISPER, "-cpu-throttle",
		c->ident.pod_uid[0] ? c->ident.pod_uid : NULL, m.name, doc);
	json_object_put(doc);
}

static void kg_thr_forget(struct kg_throttle *t, struct kg_thr_cg *c)
{
	for (struct kg_thr_cg **pp = &t->list; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	t->n--;
	kg_thr_free(c);
}

/*
 * A removed cgroup: drop its record and any throttle episode still open in
 * the kernel's map (its runqueues are gone, no timer will close it).
 */
static void kg_thr_drop_kernel(struct kg_throttle *t, uint64_t cgid)
{
	int fd = kg_bpf_episodes_fd(t->bpf);
	uint64_t key, next;
	struct kg_episode ep;
	void *prev = NULL;

	bpf_map_delete_elem(kg_bpf_cfs_fd(t->bpf), &cgid);
	t->cgroups_gone++;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &ep) && ep.cgid == cgid)
			bpf_map_delete_elem(fd, &key);
	}
}

void kg_throttle_sample(struct kg_throttle *t, uint64_t now_ns)
{
	int fd = kg_bpf_cfs_fd(t->bpf);
	uint64_t key, next;
	void *prev = NULL;

	for (struct kg_thr_cg *c = t->list; c; c = c->next)
		c->seen = false;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct kg_cfs_stats v;
		struct kg_thr_cg *c;
		struct kg_thr_sample *s, *p, *oldest;
		bool moved;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		c = kg_thr_find(t, key);
		if (c && c->base_ts_ns != v.base_ts_ns) {	/* evicted and re-created */
			c->count = 0;
			c->head = 0;
		}
		if (!c) {
			c = kg_thr_new(t, key);
			if (!c) {
				if (errno == ENOENT || errno == ESTALE)
					kg_thr_drop_kernel(t, key);	/* removed cgroup */
				continue;
			}
		}
		c->seen = true;
		if (!c->count) {
			/* the kernel's baseline: counters before the first period seen */
			c->base_ts_ns = v.base_ts_ns;
			s = kg_thr_push(t, c);
			s->ts_ns = v.base_ts_ns;
			s->cfs = v;
			s->cfs.nr_periods = v.base_nr_periods;
			s->cfs.nr_throttled = v.base_nr_throttled;
			s->cfs.throttled_time_ns = v.base_throttled_time_ns;
			s->cfs.episodes_closed = 0;
			s->cfs.episode_ns = 0;
			memset(s->cfs.episode_hist, 0, sizeof(s->cfs.episode_hist));
			memset(s->cfs.demand_hist, 0, sizeof(s->cfs.demand_hist));
			memset(s->cfs.usage_hist, 0, sizeof(s->cfs.usage_hist));
			s->cfs.bursts = 0;
		}
		p = kg_thr_at(t, c, 0);
		moved = v.nr_periods != p->cfs.nr_periods || v.nr_throttled != p->cfs.nr_throttled ||
			v.throttled_time_ns != p->cfs.throttled_time_ns;

		/* every tick: the metrics view averages over wall time, idle included */
		if (c->cap == 2 && c->count == 2)
			c->head = (c->head + 1) % 2;	/* overwrite the latest, keep the baseline */
		s = kg_thr_push(t, c);
		s->ts_ns = now_ns;
		s->cfs = v;
		kg_thr_measure(t, c, s);

		oldest = kg_thr_at(t, c, c->count - 1);
		if (c->cap == 2 && v.nr_throttled != oldest->cfs.nr_throttled) {
			c->throttled_since_ns = now_ns;
			if (kg_thr_resize(t, c, t->ring_cap))
				continue;
		}
		if (c->cap > 2 && !moved) {
			struct kg_thr_sample *start = kg_thr_window_start(t, c);

			/* a whole window without throttling: back to two samples */
			if (start->cfs.nr_throttled == v.nr_throttled && c->count == c->cap) {
				kg_thr_resize(t, c, 2);
				c->threads = 0;
			}
		}
		if (moved) {
			unsigned threads = kg_thr_threads(t, c->path);

			/* the most seen since the throttling began: a burst's threads come and go */
			if (threads > c->threads)
				c->threads = threads;
			kg_thr_whisper(t, c);
		} else if (now_ns - v.last_ts_ns > KG_STALE_NS) {
			/* idle for long: forget it once its cgroup is gone */
			char p2[KG_PATH_LEN];
			int r = kg_cgroupfs_id_path(t->fs, KG_HIER_CPU, key, p2, sizeof(p2));

			if (r == -ESTALE || r == -ENOENT) {
				kg_thr_drop_kernel(t, key);
				c->seen = false;
			}
		}
	}

	for (struct kg_thr_cg *c = t->list, *n; c; c = n) {
		n = c->next;
		if (!c->seen)
			kg_thr_forget(t, c);
	}
}
