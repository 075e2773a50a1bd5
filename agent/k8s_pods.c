// SPDX-License-Identifier: GPL-2.0
/*
 * k8s_pods.c - see k8s_pods.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "k8s_http.h"
#include "k8s_pods.h"
#include "log.h"

struct kg_pod_entry {
	struct kg_pod_meta m;
	struct kg_pod_entry *next;
};

#define KG_MAX_PODS 4096	/* 110 per node is Kubernetes' limit; this is a safety bound */

long kg_cpu_millicores(const char *q)
{
	char *end;
	double v;

	if (!q || !*q)
		return -1;
	errno = 0;
	v = strtod(q, &end);
	if (errno || end == q || v < 0 || v > 1e6)
		return -1;
	if (!strcmp(end, "m"))
		return (long)(v + 0.5);
	if (!*end)
		return (long)(v * 1000 + 0.5);
	return -1;	/* "k", "Mi"... are not CPU units */
}

static const char *kg_jstr(json_object *o, const char *a, const char *b)
{
	json_object *v;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool kg_pod_meta_parse(json_object *pod, struct kg_pod_meta *out)
{
	json_object *meta, *spec, *status, *arr, *ann, *v;
	const char *uid, *name, *ns;

	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(pod, "metadata", &meta))
		return false;
	uid = kg_jstr(meta, "uid", NULL);
	name = kg_jstr(meta, "name", NULL);
	ns = kg_jstr(meta, "namespace", NULL);
	if (!uid || !name || !ns || strlen(uid) >= sizeof(out->uid) ||
	    strlen(name) >= sizeof(out->name) || strlen(ns) >= sizeof(out->namespace_))
		return false;
	snprintf(out->uid, sizeof(out->uid), "%s", uid);
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->namespace_, sizeof(out->namespace_), "%s", ns);
	/* an annotation, not a label: the first version mixed them up */
	if (json_object_object_get_ex(meta, "annotations", &ann) &&
	    json_object_object_get_ex(ann, KG_MONITOR_ANNOTATION, &v))
		out->annotated = !strcmp(json_object_get_string(v), "true");
	if (json_object_object_get_ex(meta, "ownerReferences", &arr) &&
	    json_object_array_length(arr) > 0) {
		json_object *o = json_object_array_get_idx(arr, 0);
		const char *k = kg_jstr(o, "kind", NULL), *n = kg_jstr(o, "name", NULL);

		snprintf(out->owner_kind, sizeof(out->owner_kind), "%s", k ? k : "");
		snprintf(out->owner_name, sizeof(out->owner_name), "%s", n ? n : "");
	}
	if (json_object_object_get_ex(pod, "spec", &spec) &&
	    json_object_object_get_ex(spec, "containers", &arr)) {
		for (size_t i = 0; i < json_object_array_length(arr) &&
				   out->ncontainers < KG_POD_MAX_CONTAINERS;
		     i++) {
			json_object *c = json_object_array_get_idx(arr, i), *res;
			unsigned k = out->ncontainers++;
			const char *cn = kg_jstr(c, "name", NULL);
			long m;

			snprintf(out->containers[k].name, sizeof(out->containers[k].name), "%s",
				 cn ? cn : "");
			if (json_object_object_get_ex(c, "resources", &res)) {
				m = kg_cpu_millicores(kg_jstr(res, "limits", "cpu"));
				out->containers[k].cpu_limit_m = m > 0 ? m : 0;
				m = kg_cpu_millicores(kg_jstr(res, "requests", "cpu"));
				out->containers[k].cpu_request_m = m > 0 ? m : 0;
			}
		}
	}
	if (json_object_object_get_ex(pod, "status", &status) &&
	    json_object_object_get_ex(status, "containerStatuses", &arr)) {
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *cs = json_object_array_get_idx(arr, i);
			const char *cn = kg_jstr(cs, "name", NULL), *id = kg_jstr(cs, "containerID", NULL);
			const char *sep;

			if (!cn || !id)
				continue;
			sep = strstr(id, "://");	/* "containerd://<id>" */
			for (unsigned k = 0; k < out->ncontainers; k++) {
				if (!strcmp(out->containers[k].name, cn))
					snprintf(out->containers[k].id, sizeof(out->containers[k].id),
						 "%s", sep ? sep + 3 : id);
			}
		}
	}
	return true;
}

static void kg_upsert(struct kg_pod_cache *c, const struct kg_pod_meta *m)
{
	struct kg_pod_entry *e;

	for (e = c->pods; e; e = e->next) {
		if (!strcmp(e->m.uid, m->uid)) {
			e->m = *m;
			return;
		}
	}
	if (c->npods >= KG_MAX_PODS)
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->m = *m;
	e->next = c->pods;
	c->pods = e;
	c->npods++;
}

static void kg_remove(struct kg_pod_cache *c, const char *uid)
{
	for (struct kg_pod_entry **pp = &c->pods; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->m.uid, uid)) {
			struct kg_pod_entry *e = *pp;

			*pp = e->next;
			free(e);
			c->npods--;
			return;
		}
	}
}

static void kg_clear(struct kg_pod_cache *c)
{
	for (struct kg_pod_entry *e = c->pods, *n; e; e = n) {
		n = e->next;
		free(e);
	}
	c->pods = NULL;
	c->npods = 0;
}

static void kg_set_error(struct kg_pod_cache *c, const char *what, const struct kg_k8s_resp *r)
{
	char msg[256];

	kg_k8s_status_message(r, msg, sizeof(msg));
	pthread_mutex_lock(&c->mu);
	c->errors++;
	snprintf(c->last_error, sizeof(c->last_error), "%s: %.200s", what,
		 r->status ? msg : r->error);
	pthread_mutex_unlock(&c->mu);
	kg_warn("k8s.pods_error", "step=%s status=%ld message=%s", what, r->status,
		kg_q(r->status ? msg : r->error));
}

/* LIST: returns 0 and the list's resourceVersion, or -1. */
static int kg_list(struct kg_pod_cache *c, struct kg_k8s_http *h)
{
	char path[512];
	struct kg_k8s_resp r;
	json_object *doc, *items, *meta, *rv;

	snprintf(path, sizeof(path),
		 "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&resourceVersion=0", c->node);
	if (kg_k8s_request(h, "GET", path, NULL, NULL, 60000, &r) || r.status != 200) {
		kg_set_error(c, "list", &r);
		kg_k8s_resp_free(&r);
		return -1;
	}
	doc = json_tokener_parse(r.body);
	kg_k8s_resp_free(&r);
	if (!doc || !json_object_object_get_ex(doc, "items", &items) ||
	    !json_object_object_get_ex(doc, "metadata", &meta) ||
	    !json_object_object_get_ex(meta, "resourceVersion", &rv)) {
		json_object_put(doc);
		kg_warn("k8s.pods_error", "step=list message=\"malformed PodList\"");
		pthread_mutex_lock(&c->mu);
		c->errors++;
		pthread_mutex_unlock(&c->mu);
		return -1;
	}
	pthread_mutex_lock(&c->mu);
	kg_clear(c);
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct kg_pod_meta m;

		if (kg_pod_meta_parse(json_object_array_get_idx(items, i), &m))
			kg_upsert(c, &m);
	}
	snprintf(c->rv, sizeof(c->rv), "%s", json_object_get_string(rv));
	c->synced = true;
	c->lists++;
	kg_info("k8s.pods_listed", "node=%s pods=%u resource_version=%s", c->node, c->npods, c->rv);
	pthread_mutex_unlock(&c->mu);
	json_object_put(doc);
	return 0;
}

/* Watch events arrive as JSON objects, one per line. */
struct kg_watch_ctx {
	struct kg_pod_cache *c;
	char *line;
	size_t len, cap;
	bool gone;		/* 410: relist */
};

static void kg_watch_event(struct kg_watch_ctx *w, const char *text)
{
	struct kg_pod_cache *c = w->c;
	json_object *ev = json_tokener_parse(text), *obj, *meta, *rv;
	const char *type = ev ? kg_jstr(ev, "type", NULL) : NULL;
	struct kg_pod_meta m;

	if (!type || !json_object_object_get_ex(ev, "object", &obj)) {
		json_object_put(ev);
		kg_warn("k8s.pods_error", "step=watch message=\"malformed watch event\"");
		return;
	}
	pthread_mutex_lock(&c->mu);
	c->events++;
	if (!strcmp(type, "ERROR")) {
		json_object *code;

		if (json_object_object_get_ex(obj, "code", &code) && json_object_get_int(code) == 410)
			w->gone = true;
	} else if (json_object_object_get_ex(obj, "metadata", &meta)) {
		if (json_object_object_get_ex(meta, "resourceVersion", &rv))
			snprintf(c->rv, sizeof(c->rv), "%s", json_object_get_string(rv));
		if (!strcmp(type, "DELETED")) {
			const char *uid = kg_jstr(meta, "uid", NULL);

			if (uid)
				kg_remove(c, uid);
		} else if (strcmp(type, "BOOKMARK") && kg_pod_meta_parse(obj, &m)) {
			kg_upsert(c, &m);
		}
	}
	pthread_mutex_unlock(&c->mu);
	json_object_put(ev);
}

static int kg_on_watch_chunk(void *ctx, const char *data, size_t len)
{
	struct kg_watch_ctx *w = ctx;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (w->len) {
				w->line[w->len] = 0;
				kg_watch_event(w, w->line);
				w->len = 0;
			}
			continue;
		}
		if (w->len + 2 > w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 65536;
			char *n;

			if (cap > (16u << 20))
				return 1;	/* an event this large is not a pod: stop */
			n = realloc(w->line, cap);
			if (!n)
				return 1;
			w->line = n;
			w->cap = cap;
		}
		w->line[w->len++] = data[i];
	}
	return w->gone || w->c->stop;
}

static uint64_t kg_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void kg_sleep_ms(struct kg_pod_cache *c, unsigned ms)
{
	for (unsigned slept = 0; slept < ms && !c->stop; slept += 100)
		usleep(100000);
}

static void *kg_pods_thread(void *arg)
{
	struct kg_pod_cache *c = arg;
	struct kg_k8s_http *h = kg_k8s_http_new(c->cfg);
	unsigned backoff = 800, seed = (unsigned)time(NULL);
	bool need_list = true;

	if (!h)
		return NULL;
	while (!c->stop) {
		struct kg_watch_ctx w = { .c = c };
		struct kg_k8s_resp r;
		char path[640];
		uint64_t started;

		if (need_list && kg_list(c, h)) {
			kg_sleep_ms(c, backoff - backoff / 5 + rand_r(&seed) % (backoff / 5 * 2 + 1));
			backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
			continue;
		}
		need_list = false;
		pthread_mutex_lock(&c->mu);
		snprintf(path, sizeof(path),
			 "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&watch=true&"
			 "allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%u",
			 c->node, c->rv, 300 + rand_r(&seed) % 300);
		c->watches++;
		pthread_mutex_unlock(&c->mu);
		started = kg_now_s();
		kg_k8s_stream(h, path, 660000, kg_on_watch_chunk, &w, &c->stop, &r);
		free(w.line);
		if (w.gone || r.status == 410) {
			kg_info("k8s.pods_relist", "reason=\"410 Gone: resourceVersion too old\"");
			pthread_mutex_lock(&c->mu);
			c->relists_410++;
			pthread_mutex_unlock(&c->mu);
			need_list = true;
		} else if (r.status != 200 && !c->stop) {
			kg_set_error(c, "watch", &r);
			need_list = r.status == 0 ? false : true;
			kg_sleep_ms(c, backoff - backoff / 5 + rand_r(&seed) % (backoff / 5 * 2 + 1));
			backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
		}
		if (kg_now_s() - started > 120)	/* two healthy minutes reset the backoff */
			backoff = 800;
		kg_k8s_resp_free(&r);
	}
	kg_k8s_http_free(h);
	return NULL;
}

int kg_pod_cache_start(struct kg_pod_cache *c, const struct kg_k8s_config *cfg, const char *node,
		       char *err, size_t errsz)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	snprintf(c->node, sizeof(c->node), "%s", node);
	for (const char *p = node; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) {
			snprintf(err, errsz, "node name %s is not a valid Kubernetes name", node);
			return -1;
		}
	}
	pthread_mutex_init(&c->mu, NULL);
	if (pthread_create(&c->thread, NULL, kg_pods_thread, c)) {
		snprintf(err, errsz, "cannot start the pod watcher thread: %s", strerror(errno));
		return -1;
	}
	c->started = true;
	return 0;
}

void kg_pod_cache_stop(struct kg_pod_cache *c)
{
	if (!c->started)
		return;
	c->stop = 1;
	pthread_join(c->thread, NULL);
	kg_clear(c);
	pthread_mutex_destroy(&c->mu);
	c->started = false;
}

bool kg_pod_cache_get(struct kg_pod_cache *c, const char *uid, struct kg_pod_meta *out)
{
	bool found = false;

	pthread_mutex_lock(&c->mu);
	for (struct kg_pod_entry *e = c->pods; e; e = e->next) {
		if (!strcmp(e->m.uid, uid)) {
			*out = e->m;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return found;
}

bool kg_pod_cache_synced(struct kg_pod_cache *c)
{
	bool s;

	pthread_mutex_lock(&c->mu);
	s = c->synced;
	pthread_mutex_unlock(&c->mu);
	return s;
}
