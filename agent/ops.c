// SPDX-License-Identifier: GPL-2.0
/*
 * ops.c - see ops.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "debug_proto.h"
#include "debug_sock.h"
#include "engine.h"
#include "http.h"
#include "introspect.h"
#include "json_util.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"

#define KG_OPS_TICK_MS 1000

static int64_t kg_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *kg_doc_str(json_object *doc, const char *obj, const char *key)
{
	json_object *o, *v;

	if (!json_object_object_get_ex(doc, obj, &o) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* ---- watch stream ---- */

static void kg_ops_broadcast(struct kg_ops *o, json_object *ev)
{
	char *line = kg_dbg_line(ev);

	if (line) {
		kg_dbg_broadcast(o->dbg, line, strlen(line));
		free(line);
	}
	json_object_put(ev);
}

static bool kg_watched(const struct kg_ops *o)
{
	return o && o->dbg && kg_dbg_has_watchers(o->dbg);
}

void kg_ops_note_birth(struct kg_ops *o, const char *event, const struct kg_cg *cg,
		       const struct kg_birth *b)
{
	if (kg_watched(o))
		kg_ops_broadcast(o, kg_view_birth_event(o->e, event, cg, b));
}

void kg_ops_note_resource(struct kg_ops *o, const char *plural, const char *name,
			  json_object *doc, int ret)
{
	bool cert = !strcmp(plural, "podbirthcertificates");
	json_object *ev, *st;

	if (!o || !doc || !name)
		return;
	kg_recent_put(cert ? &o->certs : &o->whispers, name, doc, kg_wall_ns());
	if (ret == 0) {
		if (cert)
			o->written_certs++;
		else
			o->written_whispers++;
	}
	if (ret == 1 || !kg_watched(o))
		return;
	ev = json_object_new_object();
	kg_json_str(ev, "event", ret < 0 ? "resource.write_failed"
				 : cert  ? "certificate.written"
					 : "whisper.written");
	kg_json_time(ev, "ts", kg_wall_ns());
	kg_json_str(ev, "kind", cert ? "PodBirthCertificate" : "KernelWhisper");
	kg_json_str(ev, "name", name);
	kg_json_str(ev, "podUID", kg_doc_str(doc, "spec", "podUID"));
	kg_json_str(ev, "cgroup", kg_doc_str(doc, "spec", "cgroupPath"));
	kg_json_str(ev, "summary", kg_doc_str(doc, "status", "summary"));
	kg_json_str(ev, "severity", kg_doc_str(doc, "status", "severity"));
	if (json_object_object_get_ex(doc, "status", &st)) {
		json_object *ins;

		if (json_object_object_get_ex(st, "insights", &ins) &&
		    json_object_array_length(ins) > 0) {
			json_object *first = json_object_array_get_idx(ins, 0), *h;

			if (json_object_object_get_ex(first, "headline", &h))
				json_object_object_add(ev, "headline", json_object_get(h));
		}
	}
	if (ret < 0)
		kg_json_str(ev, "error", strerror(-ret));
	kg_ops_broadcast(o, ev);
}

void kg_ops_note_drops(struct kg_ops *o, uint64_t total, uint64_t new_drops,
		       const uint64_t *per_cpu, int nr_cpus)
{
	json_object *ev, *pc;

	if (!kg_watched(o))
		return;
	ev = json_object_new_object();
	kg_json_str(ev, "event", "ring.drops");
	kg_json_time(ev, "ts", kg_wall_ns());
	kg_json_u64(ev, "total", total);
	kg_json_u64(ev, "new", new_drops);
	pc = kg_json_obj(ev, "perCpu");
	for (int cpu = 0; per_cpu && cpu < nr_cpus; cpu++) {
		char k[16];

		if (!per_cpu[cpu])
			continue;
		snprintf(k, sizeof(k), "%d", cpu);
		kg_json_u64(pc, k, per_cpu[cpu]);
	}
	kg_json_str(ev, "hint", "raise --ring-bytes");
	kg_ops_broadcast(o, ev);
}

/* ---- debug socket requests ---- */

static json_object *kg_src_status(void *ctx)
{
	struct kg_ops *o = ctx;
	json_object *st = kg_view_status(o->e), *x, *d;
	char why[256];

	x = json_object_object_get(st, "resources");
	if (x) {
		d = kg_json_obj(x, "writtenByKind");
		kg_json_u64(d, "PodBirthCertificate", o->written_certs);
		kg_json_u64(d, "KernelWhisper", o->written_whispers);
	}
	x = kg_json_obj(st, "ready");
	kg_json_bool(x, "ready", kg_ready());
	kg_ready_explain(why, sizeof(why));
	if (why[0])
		kg_json_str(x, "waitingFor", why);
	x = kg_json_obj(st, "debugSocket");
	if (o->dbg) {
		struct kg_dbg_stats ds;

		kg_dbg_get_stats(o->dbg, &ds);
		kg_json_str(x, "path", kg_dbg_path(o->dbg));
		kg_json_u64(x, "clients", ds.clients);
		kg_json_u64(x, "watchers", ds.watchers);
		kg_json_u64(x, "accepted", ds.accepted);
		kg_json_u64(x, "requests", ds.requests);
		d = kg_json_obj(x, "dropped");
		for (int r = 0; r < KG_DBG_DROP_NR; r++)
			kg_json_u64(d, kg_dbg_drop_name(r), ds.dropped[r]);
		kg_json_u64(x, "watchEvents", ds.watch_events);
		kg_json_u64(x, "watchEventsDropped", ds.watch_dropped);
	}
	x = kg_json_obj(st, "http");
	if (o->http) {
		struct kg_http_stats hs;

		kg_http_get_stats(o->http, &hs);
		kg_json_str(x, "addr", o->cfg->metrics_addr);
		kg_json_u64(x, "requests", hs.requests);
		kg_json_u64(x, "scrapes", hs.metrics_scrapes);
	} else {
		kg_json_str(x, "addr", "off");
	}
	x = kg_json_obj(st, "pins");
	kg_json_bool(x, "enabled", o->pinned);
	if (o->pinned) {
		kg_json_str(x, "dir", o->pins.dir);
		kg_json_u64(x, "programs", o->pins.progs);
		kg_json_u64(x, "maps", o->pins.maps);
	}
	x = kg_json_obj(st, "recent");
	kg_json_u64(x, "certificates", o->certs.n);
	kg_json_u64(x, "whispers", o->whispers.n);
	kg_json_u64(x, "max", KG_RECENT_MAX);
	x = kg_json_obj(st, "log");
	kg_json_u64(x, "suppressed", kg_log_suppressed_total());
	return st;
}

static bool kg_uid_like(const char *s)
{
	size_t n = strlen(s);

	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/* Does doc concern pod (uid, resource name, pod name, namespace/name - the pod cache helps)? */
static bool kg_ops_matches(struct kg_ops *o, json_object *doc, const char *pod)
{
	const char *uid = kg_doc_str(doc, "spec", "podUID");
	char ns[64], name[254], full[320];

	if (kg_recent_doc_matches(doc, pod))
		return true;
	if (!uid || !kg_view_pod_names(o->e, uid, ns, sizeof(ns), name, sizeof(name)))
		return false;
	snprintf(full, sizeof(full), "%s/%s", ns, name);
	return !strcmp(pod, name) || !strcmp(pod, full);
}

static const struct kg_recent_doc *kg_ops_find(struct kg_ops *o, const struct kg_recent *r,
					       const char *pod)
{
	const struct kg_recent_doc *best = NULL;

	for (unsigned i = 0; i < r->n; i++)
		if ((!best || r->d[i].seq > best->seq) && kg_ops_matches(o, r->d[i].doc, pod))
			best = &r->d[i];
	return best;
}

/* The pod's uid: given, or from its latest resource. "" when unknown. */
static void kg_ops_pod_uid(struct kg_ops *o, const char *pod, char *uid, size_t uidsz)
{
	const struct kg_recent_doc *d;
	const char *u;

	uid[0] = 0;
	if (kg_uid_like(pod)) {
		snprintf(uid, uidsz, "%s", pod);
		return;
	}
	if (!strncmp(pod, "pod-", 4) && kg_uid_like(pod + 4)) {	/* standalone pod names */
		snprintf(uid, uidsz, "%s", pod + 4);
		return;
	}
	d = kg_ops_find(o, &o->certs, pod);
	if (!d)
		d = kg_ops_find(o, &o->whispers, pod);
	u = d ? kg_doc_str(d->doc, "spec", "podUID") : NULL;
	if (u)
		snprintf(uid, uidsz, "%s", u);
}

static json_object *kg_src_cgroups(void *ctx, const char *pod)
{
	struct kg_ops *o = ctx;
	char uid[64];

	if (!pod[0])
		return kg_view_cgroups(o->e, "");
	kg_ops_pod_uid(o, pod, uid, sizeof(uid));
	return kg_view_cgroups(o->e, uid[0] ? uid : pod);
}

static json_object *kg_item(const char *name, int64_t written_ns, json_object *doc)
{
	json_object *it = json_object_new_object();

	kg_json_str(it, "name", name);
	kg_json_time(it, "writtenAt", written_ns);
	json_object_object_add(it, "document", json_object_get(doc));
	return it;
}

static json_object *kg_src_recent(void *ctx, enum kg_dbg_cmd which, unsigned limit)
{
	struct kg_ops *o = ctx;
	const struct kg_recent *r = which == KG_DBG_BIRTHS ? &o->certs : &o->whispers;
	const struct kg_recent_doc *list[KG_RECENT_MAX];
	unsigned n = kg_recent_list(r, list, limit && limit < KG_RECENT_MAX ? limit : KG_RECENT_MAX);
	json_object *v = json_object_new_object(), *items = kg_json_arr(v, "items");

	kg_json_u64(v, "count", n);
	kg_json_u64(v, "kept", r->n);
	kg_json_u64(v, "max", KG_RECENT_MAX);
	for (unsigned i = 0; i < n; i++)
		json_object_array_add(items, kg_item(list[i]->name, list[i]->written_ns, list[i]->doc));
	return v;
}

/* What explain says about one resource: its verdict, not the whole document. */
static json_object *kg_explain_doc(const char *name, int64_t written_ns, json_object *doc,
				   const char *source)
{
	json_object *r = json_object_new_object(), *st, *v;

	if (json_object_object_get_ex(doc, "kind", &v))
		json_object_object_add(r, "kind", json_object_get(v));
	kg_json_str(r, "name", name);
	if (written_ns)
		kg_json_time(r, "writtenAt", written_ns);
	kg_json_str(r, "source", source);
	if (json_object_object_get_ex(doc, "spec", &v)) {
		json_object *c;

		if (json_object_object_get_ex(v, "cgroupPath", &c))
			json_object_object_add(r, "cgroupPath", json_object_get(c));
	}
	if (json_object_object_get_ex(doc, "status", &st)) {
		static const char *const keys[] = { "summary", "severity", "insights", "conditions",
						    "durationMs", "syscalls", "kernelTruth",
						    "metricsView" };

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (json_object_object_get_ex(st, keys[i], &v))
				json_object_object_add(r, keys[i], json_object_get(v));
	}
	return r;
}

/* Standalone mode: the files are the record of what was written before memory forgot it. */
static json_object *kg_explain_file(struct kg_ops *o, const char *plural, const char *uid,
				    const char *suffix)
{
	char path[2048];
	json_object *doc, *r;

	if (o->e->kube_on || !kg_uid_like(uid))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s/pod-%s%s.json", o->cfg->output_dir, plural, uid,
		 suffix);
	doc = kg_json_read_file(path);
	if (!doc)
		return NULL;
	snprintf(path, sizeof(path), "pod-%s%s", uid, suffix);
	r = kg_explain_doc(path, 0, doc, "file");
	json_object_put(doc);
	return r;
}

static json_object *kg_src_explain(void *ctx, const char *pod, char *err, size_t errsz)
{
	struct kg_ops *o = ctx;
	const struct kg_recent_doc *c, *w;
	json_object *v, *res, *x;
	char uid[64], ns[64], name[254];

	kg_ops_pod_uid(o, pod, uid, sizeof(uid));
	c = kg_ops_find(o, &o->certs, uid[0] ? uid : pod);
	w = kg_ops_find(o, &o->whispers, uid[0] ? uid : pod);
	v = json_object_new_object();
	kg_json_str(v, "pod", pod);
	if (uid[0])
		kg_json_str(v, "podUID", uid);
	if (uid[0] && kg_view_pod_names(o->e, uid, ns, sizeof(ns), name, sizeof(name))) {
		kg_json_str(v, "namespace", ns);
		kg_json_str(v, "name", name);
	}
	res = kg_json_arr(v, "resources");
	x = c ? kg_explain_doc(c->name, c->written_ns, c->doc, "memory")
	      : kg_explain_file(o, "podbirthcertificates", uid, "-birth");
	if (x)
		json_object_array_add(res, x);
	x = w ? kg_explain_doc(w->name, w->written_ns, w->doc, "memory")
	      : kg_explain_file(o, "kernelwhispers", uid, "-cpu-throttle");
	if (x)
		json_object_array_add(res, x);
	json_object_object_add(v, "live", kg_view_cgroups(o->e, uid[0] ? uid : pod));
	if (!json_object_array_length(res)) {
		json_object *live = json_object_object_get(v, "live");
		size_t ncg = json_object_array_length(json_object_object_get(live, "cgroups"));

		if (!ncg) {
			snprintf(err, errsz,
				 "nothing known about pod \"%s\": no certificate or whisper since the "
				 "agent started and no tracked cgroup (give its uid, name or "
				 "namespace/name)",
				 pod);
			json_object_put(v);
			return NULL;
		}
	}
	return v;
}

char *kg_ops_handle(void *ctx, const char *line, size_t len, bool *watch)
{
	const struct kg_dbg_source src = {
		.ctx = ctx,
		.status = kg_src_status,
		.cgroups = kg_src_cgroups,
		.recent = kg_src_recent,
		.explain = kg_src_explain,
	};

	return kg_dbg_dispatch(&src, line, len, watch);
}

/* ---- HTTP ---- */

static char *kg_http_metrics(void *ctx, size_t *len)
{
	struct kg_ops *o = ctx;
	struct kg_metrics_snap s;
	char *text;

	if (kg_view_metrics(o->e, &s))
		return NULL;
	s.written_certificates = o->written_certs;
	s.written_whispers = o->written_whispers;
	if (o->dbg) {
		struct kg_dbg_stats ds;

		kg_dbg_get_stats(o->dbg, &ds);
		s.debug_clients = ds.clients;
		for (int r = 0; r < KG_DBG_DROP_NR; r++)
			s.debug_dropped[r] = ds.dropped[r];
		s.watch_events_dropped = ds.watch_dropped;
	}
	text = kg_metrics_format(&s, len);
	kg_view_metrics_free(&s);
	return text;
}

static bool kg_http_healthz(void *ctx, char *msg, size_t msgsz)
{
	struct kg_ops *o = ctx;

	/* answered from the loop itself: a wedged loop never gets here (the probe times out) */
	snprintf(msg, msgsz, "ok: event loop alive, up %.0f s", kg_view_uptime_s(o->e));
	return true;
}

static bool kg_http_readyz(void *ctx, char *msg, size_t msgsz)
{
	char why[256];

	if (kg_ready()) {
		snprintf(msg, msgsz, "ready");
		return true;
	}
	kg_ready_explain(why, sizeof(why));
	snprintf(msg, msgsz, "not ready: %s", why);
	return false;
}

/* ---- loop callbacks ---- */

static void kg_ops_dbg_ready(void *ctx, uint32_t events)
{
	struct kg_ops *o = ctx;

	if (o->dbg)
		kg_dbg_poll(o->dbg);
}

static void kg_ops_http_ready(void *ctx, uint32_t events)
{
	struct kg_ops *o = ctx;

	if (o->http)
		kg_http_run(o->http);
}

static void kg_ops_tick(void *ctx, uint32_t events)
{
	struct kg_ops *o = ctx;

	o->ticks++;
	if (o->dbg)
		kg_dbg_tick(o->dbg, kg_now_ns());
	if (o->http)
		kg_http_run(o->http);	/* connection timeouts */
	if (o->e->kube_on)
		kg_ready_set(KG_READY_POD_CACHE, kg_pod_cache_synced(&o->e->kube.pods));
	kg_log_flush_suppressed();
}

int kg_ops_start(struct kg_ops *o, struct kg_engine *e, const struct kg_config *cfg, char *err,
		 size_t errsz)
{
	char why[512];
	int ret;

	memset(o, 0, sizeof(*o));
	o->e = e;
	o->cfg = cfg;
	kg_recent_init(&o->certs);
	kg_recent_init(&o->whispers);
	signal(SIGPIPE, SIG_IGN);	/* a peer gone mid-answer is an error code, not a death */

	if (cfg->pin) {
		ret = kg_pins_create(&o->pins, &e->bpf, KG_PIN_DIR, why, sizeof(why));
		o->pinned = o->pins.dir[0] != 0;
		if (ret) {
			snprintf(err, errsz, "--pin: %s", why);
			return ret;
		}
	}
	if (cfg->debug_socket[0]) {
		ret = kg_dbg_open(&o->dbg, cfg->debug_socket, kg_ops_handle, o, why, sizeof(why));
		if (ret) {
			snprintf(err, errsz, "debug socket: %s", why);
			return ret;
		}
		ret = kg_loop_add_fd(e->loop, kg_dbg_fd(o->dbg), kg_ops_dbg_ready, o);
		if (ret) {
			snprintf(err, errsz, "debug socket: cannot watch it: %s", strerror(-ret));
			return ret;
		}
	}
	if (cfg->metrics_addr[0]) {
		const struct kg_http_handlers h = { o, kg_http_metrics, kg_http_healthz,
						    kg_http_readyz };
		struct sockaddr_storage ss;
		socklen_t sl;

		if (kg_parse_listen_addr(cfg->metrics_addr, &ss, &sl)) {
			snprintf(err, errsz, "invalid --metrics-addr %s", cfg->metrics_addr);
			return -EINVAL;
		}
		ret = kg_http_start(&o->http, (struct sockaddr *)&ss, sl, &h, why, sizeof(why));
		if (ret) {
			snprintf(err, errsz,
				 "cannot serve /metrics on %s: %s (--metrics-addr / KG_METRICS_ADDR; "
				 "off disables it)",
				 cfg->metrics_addr, why);
			return ret;
		}
		ret = kg_loop_add_fd(e->loop, kg_http_fd(o->http), kg_ops_http_ready, o);
		if (ret) {
			snprintf(err, errsz, "metrics: cannot watch the server: %s", strerror(-ret));
			return ret;
		}
	}
	ret = kg_loop_add_timer(e->loop, KG_OPS_TICK_MS, kg_ops_tick, o);
	if (ret) {
		snprintf(err, errsz, "cannot set up the operability timer: %s", strerror(-ret));
		return ret;
	}
	if (e->kube_on)
		kg_ready_require(KG_READY_POD_CACHE);
	kg_ready_set(KG_READY_PROGRAMS, e->bpf.skel != NULL);
	e->ops = o;
	kg_info("ops.started", "debug_socket=%s metrics_addr=%s pin_dir=%s",
		kg_q(o->dbg ? kg_dbg_path(o->dbg) : "off"),
		kg_q(o->http ? cfg->metrics_addr : "off"), kg_q(o->pinned ? o->pins.dir : "off"));
	return 0;
}

void kg_ops_stop(struct kg_ops *o)
{
	if (!o->e)
		return;
	o->e->ops = NULL;
	kg_ready_set(KG_READY_PROGRAMS, false);
	kg_dbg_close(o->dbg);
	o->dbg = NULL;
	kg_http_stop(o->http);
	o->http = NULL;
	if (o->pinned)
		kg_pins_remove(&o->pins);
	o->pinned = false;
	kg_recent_fini(&o->certs);
	kg_recent_fini(&o->whispers);
	o->e = NULL;
}
