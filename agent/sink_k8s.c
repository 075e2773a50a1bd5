// SPDX-License-Identifier: GPL-2.0
/*
 * sink_k8s.c - see sink_k8s.h.
 *
 * Retry policy (after client-go's rest client, adapted to idempotent
 * server-side apply): 429 and 5xx wait max(Retry-After, backoff) and try
 * again; transport errors and timeouts too (an apply is idempotent, so
 * repeating one that did reach the server is harmless); 404 means the CRDs
 * are not installed: said with the fix, retried; 401/403: said, retried (a
 * rotated token is read again after a 401; a fixed RBAC heals a 403); 409
 * retried; any other 4xx can never succeed and is dropped with the server's
 * reason. The backoff grows from 800 ms to 30 s, so a long outage costs a
 * request per resource every 30 s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json_util.h"
#include "k8s_http.h"
#include "log.h"
#include "metrics.h"
#include "resource.h"
#include "sink_k8s.h"

#define NS_PER_MS 1000000ULL
#define KG_REQ_TIMEOUT_MS 10000

struct kg_k8s_item {
	char plural[32], ns[64], name[254];
	char *object;		/* apply body of the resource: apiVersion, kind, metadata, spec */
	json_object *status;	/* its status, applied to /status after the object */
	uint64_t key_hash, content_hash;
	uint64_t not_before_ns;
	unsigned attempts;
	bool object_done;	/* the object is applied; only its status is left to send */
	int64_t generation;	/* metadata.generation the object's apply returned */
	struct kg_k8s_item *next;
};

static uint64_t kg_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t kg_fnv(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

unsigned kg_backoff_ms(unsigned attempt, unsigned random)
{
	unsigned ms = 800;

	for (unsigned i = 1; i < attempt && ms < 30000; i++)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	/* +-20 % so that a fleet of agents does not retry in step */
	return ms - ms / 5 + (random % (2 * (ms / 5) + 1));
}

static void kg_item_free(struct kg_k8s_item *it)
{
	if (!it)
		return;
	free(it->object);
	json_object_put(it->status);
	free(it);
}

static unsigned kg_queue_len(const struct kg_k8s_sink *s)
{
	unsigned n = 0;

	for (struct kg_k8s_item *i = s->queue; i; i = i->next)
		n++;
	return n;
}

static bool kg_applied_same(struct kg_k8s_sink *s, uint64_t key, uint64_t content)
{
	for (unsigned i = 0; i < s->nhashes; i++) {
		if (s->applied_hashes[2 * i] == key)
			return s->applied_hashes[2 * i + 1] == content;
	}
	return false;
}

static void kg_remember_applied(struct kg_k8s_sink *s, uint64_t key, uint64_t content)
{
	uint64_t *n;

	for (unsigned i = 0; i < s->nhashes; i++) {
		if (s->applied_hashes[2 * i] == key) {
			s->applied_hashes[2 * i + 1] = content;
			return;
		}
	}
	if (s->nhashes >= 2 * KG_K8S_MAX_PENDING) {	/* bounded: forget the oldest */
		memmove(s->applied_hashes, s->applied_hashes + 2,
			(s->nhashes - 1) * 2 * sizeof(uint64_t));
		s->nhashes--;
	}
	n = realloc(s->applied_hashes, (s->nhashes + 1) * 2 * sizeof(uint64_t));
	if (!n)
		return;
	s->applied_hashes = n;
	s->applied_hashes[2 * s->nhashes] = key;
	s->applied_hashes[2 * s->nhashes + 1] = content;
	s->nhashes++;
}

void kg_k8s_sink_submit(struct kg_k8s_sink *s, const char *plural, json_object *doc)
{
	json_object *meta, *copy = NULL, *status = NULL, *v;
	struct kg_k8s_item *it, **pp;
	const char *ns = NULL, *name = NULL;
	uint64_t key, content;

	if (json_object_object_get_ex(doc, "metadata", &meta)) {
		if (json_object_object_get_ex(meta, "namespace", &v))
			ns = json_object_get_string(v);
		if (json_object_object_get_ex(meta, "name", &v))
			name = json_object_get_string(v);
	}
	if (!ns || !name || strlen(ns) >= sizeof(it->ns) || strlen(name) >= sizeof(it->name)) {
		kg_error("k8s.refused", "kind=%s reason=\"document without metadata.namespace/name\"",
			 plural);
		return;
	}
	if (json_object_deep_copy(doc, &copy, NULL))
		return;
	if (json_object_object_get_ex(copy, "status", &status)) {
		json_object_get(status);
		json_object_object_del(copy, "status");
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		json_object_put(copy);
		json_object_put(status);
		return;
	}
	snprintf(it->plural, sizeof(it->plural), "%s", plural);
	snprintf(it->ns, sizeof(it->ns), "%s", ns);
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->object = strdup(json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN));
	it->status = status;
	json_object_put(copy);
	if (!it->object) {
		kg_item_free(it);
		return;
	}
	key = kg_fnv(ns, kg_fnv(name, kg_fnv(plural, 0xcbf29ce484222325ULL)));
	content = kg_fnv(it->object, 0xcbf29ce484222325ULL);
	if (status)
		content = kg_fnv(json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN),
				 content);
	it->key_hash = key;
	it->content_hash = content;

	pthread_mutex_lock(&s->mu);
	/* a queued older version of the same resource is replaced in place */
	for (pp = &s->queue; *pp; pp = &(*pp)->next) {
		if ((*pp)->key_hash == key) {
			it->next = (*pp)->next;
			kg_item_free(*pp);
			*pp = it;
			s->stats.coalesced++;
			goto wake;
		}
	}
	if (kg_applied_same(s, key, content)) {
		s->stats.unchanged++;
		kg_item_free(it);
		pthread_mutex_unlock(&s->mu);
		return;
	}
	if (kg_queue_len(s) >= KG_K8S_MAX_PENDING) {
		s->stats.dropped++;
		kg_error("k8s.queue_full", "kind=%s name=%s/%s pending=%u", plural, ns, name,
			 KG_K8S_MAX_PENDING);
		kg_item_free(it);
		pthread_mutex_unlock(&s->mu);
		return;
	}
	*pp = it;
wake:
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Wait on the queue's condition (lock held) for at most wait_ns. */
static void kg_wait_ns(struct kg_k8s_sink *s, uint64_t wait_ns)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ns / 1000000000ULL;
	until.tv_nsec += wait_ns % 1000000000ULL;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&s->cv, &s->mu, &until);
}

/* Token bucket: wait (lock held, cond-waiting) until a request may go. */
static bool kg_take_token(struct kg_k8s_sink *s)
{
	for (;;) {
		uint64_t now = kg_mono_ns();

		s->tokens += (now - s->refill_ns) / 1e9 * s->qps;
		if (s->tokens > s->burst)
			s->tokens = s->burst;
		s->refill_ns = now;
		if (s->tokens >= 1) {
			s->tokens -= 1;
			return true;
		}
		if (s->stop && kg_mono_ns() > s->flush_deadline_ns)
			return false;
		kg_wait_ns(s, (uint64_t)((1 - s->tokens) / s->qps * 1e9) + 1);
	}
}

static void kg_count(struct kg_k8s_sink *s, const struct kg_k8s_resp *r)
{
	kg_metrics_count_api(r->status);	/* /metrics: requests by code */
	pthread_mutex_lock(&s->mu);
	s->stats.requests++;
	s->stats.by_class[r->status >= 100 && r->status < 600 ? r->status / 100 : 0]++;
	pthread_mutex_unlock(&s->mu);
}

enum kg_outcome { KG_DONE, KG_RETRY, KG_DROP };

static enum kg_outcome kg_classify(struct kg_k8s_sink *s, struct kg_k8s_item *it,
				   const struct kg_k8s_resp *r, const char *what)
{
	char msg[512];

	if (r->status >= 200 && r->status < 300)
		return KG_DONE;
	kg_k8s_status_message(r, msg, sizeof(msg));
	if (!r->status) {
		kg_warn("k8s.unreachable", "kind=%s name=%s/%s step=%s error=%s", it->plural, it->ns,
			it->name, what, kg_q(r->error));
		return KG_RETRY;
	}
	switch (r->status) {
	case 404:
		pthread_mutex_lock(&s->mu);
		s->stats.crd_missing++;
		pthread_mutex_unlock(&s->mu);
		kg_error("k8s.crd_missing",
			 "kind=%s name=%s/%s status=404 message=%s hint=\"install the CRDs: "
			 "kubectl apply -f crds/\"",
			 it->plural, it->ns, it->name, kg_q(msg));
		return KG_RETRY;
	case 401:
	case 403:
		pthread_mutex_lock(&s->mu);
		s->stats.auth_errors++;
		pthread_mutex_unlock(&s->mu);
		kg_error("k8s.denied",
			 "kind=%s name=%s/%s status=%ld message=%s hint=\"check the service "
			 "account token and the ClusterRole in deploy/\"",
			 it->plural, it->ns, it->name, r->status, kg_q(msg));
		return KG_RETRY;
	case 409:
	case 429:
		kg_debug("k8s.retry", "kind=%s name=%s/%s status=%ld retry_after_s=%ld", it->plural,
			 it->ns, it->name, r->status, r->retry_after_s);
		return KG_RETRY;
	default:
		if (r->status >= 500) {
			kg_warn("k8s.server_error", "kind=%s name=%s/%s status=%ld message=%s",
				it->plural, it->ns, it->name, r->status, kg_q(msg));
			return KG_RETRY;
		}
		/* 400, 422...: the document itself is refused; sending it again cannot help */
		kg_error("k8s.rejected", "kind=%s name=%s/%s step=%s status=%ld message=%s",
			 it->plural, it->ns, it->name, what, r->status, kg_q(msg));
		return KG_DROP;
	}
}

static enum kg_outcome kg_apply(struct kg_k8s_sink *s, struct kg_k8s_http *h,
				struct kg_k8s_item *it, long *retry_after)
{
	char path[1024];
	struct kg_k8s_resp r;
	enum kg_outcome o;

	if (it->object_done)
		goto status;
	snprintf(path, sizeof(path),
		 "/apis/" KG_API_GROUP "/v1alpha1/namespaces/%s/%s/%s?fieldManager=" KG_FIELD_MANAGER
		 "&force=true",
		 it->ns, it->plural, it->name);
	kg_k8s_request(h, "PATCH", path, "application/apply-patch+yaml", it->object,
		       KG_REQ_TIMEOUT_MS, &r);
	kg_count(s, &r);
	o = kg_classify(s, it, &r, "object");
	*retry_after = r.retry_after_s;
	if (o == KG_DONE) {
		json_object *resp = json_tokener_parse(r.body), *m, *g;

		if (resp && json_object_object_get_ex(resp, "metadata", &m) &&
		    json_object_object_get_ex(m, "generation", &g))
			it->generation = json_object_get_int64(g);
		json_object_put(resp);
		it->object_done = true;
	}
	kg_k8s_resp_free(&r);
	if (o != KG_DONE || !it->status)
		return o;

status:	/* the status subresource: the same body shape, with status only */
	{
		json_object *body = json_tokener_parse(it->object), *meta, *st = NULL, *keep = NULL;
		const char *text;

		if (!body)
			return KG_DROP;
		if (json_object_object_get_ex(body, "metadata", &meta)) {
			json_object *nm = NULL, *nsv = NULL;

			json_object_object_get_ex(meta, "name", &nm);
			json_object_object_get_ex(meta, "namespace", &nsv);
			keep = json_object_new_object();
			json_object_object_add(keep, "name", json_object_get(nm));
			json_object_object_add(keep, "namespace", json_object_get(nsv));
			json_object_object_add(body, "metadata", keep);
		}
		json_object_object_del(body, "spec");
		if (json_object_deep_copy(it->status, &st, NULL)) {
			json_object_put(body);
			return KG_DROP;
		}
		if (it->generation)
			kg_json_i64(st, "observedGeneration", it->generation);
		json_object_object_add(body, "status", st);
		text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
		snprintf(path, sizeof(path),
			 "/apis/" KG_API_GROUP "/v1alpha1/namespaces/%s/%s/%s/status?fieldManager="
			 KG_FIELD_MANAGER "&force=true",
			 it->ns, it->plural, it->name);
		kg_k8s_request(h, "PATCH", path, "application/apply-patch+yaml", text,
			       KG_REQ_TIMEOUT_MS, &r);
		json_object_put(body);
	}
	kg_count(s, &r);
	o = kg_classify(s, it, &r, "status");
	*retry_after = r.retry_after_s;
	kg_k8s_resp_free(&r);
	return o;
}

/* The first item ready to go; NULL and *wait_ns set when all are backing off. */
static struct kg_k8s_item *kg_pop_ready(struct kg_k8s_sink *s, uint64_t now, uint64_t *wait_ns)
{
	*wait_ns = UINT64_MAX;
	for (struct kg_k8s_item **pp = &s->queue; *pp; pp = &(*pp)->next) {
		struct kg_k8s_item *it = *pp;

		if (it->not_before_ns <= now) {
			*pp = it->next;
			it->next = NULL;
			return it;
		}
		if (it->not_before_ns - now < *wait_ns)
			*wait_ns = it->not_before_ns - now;
	}
	return NULL;
}

static void *kg_worker(void *arg)
{
	struct kg_k8s_sink *s = arg;
	struct kg_k8s_http *h = kg_k8s_http_new(s->cfg);
	unsigned seed = (unsigned)kg_mono_ns();

	if (!h) {
		kg_error("k8s.worker_failed", "reason=\"cannot create an HTTP client\"");
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	for (;;) {
		uint64_t now = kg_mono_ns(), wait_ns;
		struct kg_k8s_item *it;
		enum kg_outcome o;
		long retry_after = -1;

		if (s->stop && (!s->queue || now > s->flush_deadline_ns))
			break;
		it = kg_pop_ready(s, now, &wait_ns);
		if (!it) {
			if (s->stop && wait_ns != UINT64_MAX && now + wait_ns > s->flush_deadline_ns)
				break;	/* only backed-off items left past the flush deadline */
			if (wait_ns == UINT64_MAX)
				pthread_cond_wait(&s->cv, &s->mu);
			else
				kg_wait_ns(s, wait_ns);
			continue;
		}
		if (!kg_take_token(s)) {
			it->next = s->queue;
			s->queue = it;
			break;
		}
		pthread_mutex_unlock(&s->mu);
		o = kg_apply(s, h, it, &retry_after);
		pthread_mutex_lock(&s->mu);
		if (o == KG_DONE) {
			s->stats.applied++;
			kg_remember_applied(s, it->key_hash, it->content_hash);
			kg_debug("k8s.applied", "kind=%s name=%s/%s attempts=%u", it->plural, it->ns,
				 it->name, it->attempts + 1);
			kg_item_free(it);
		} else if (o == KG_DROP) {
			s->stats.dropped++;
			kg_item_free(it);
		} else {
			bool newer = false;
			unsigned ms;

			for (struct kg_k8s_item *q = s->queue; q; q = q->next)
				newer |= q->key_hash == it->key_hash;
			if (newer) {	/* a newer version waits already: this one is obsolete */
				kg_item_free(it);
				continue;
			}
			it->attempts++;
			s->stats.retries++;
			ms = kg_backoff_ms(it->attempts, rand_r(&seed));
			if (retry_after >= 0 && (unsigned)retry_after * 1000 > ms)
				ms = retry_after * 1000;
			it->not_before_ns = kg_mono_ns() + ms * NS_PER_MS;
			/* back of the queue: one failing resource does not starve the others */
			{
				struct kg_k8s_item **pp = &s->queue;

				while (*pp)
					pp = &(*pp)->next;
				*pp = it;
			}
		}
	}
	pthread_mutex_unlock(&s->mu);
	kg_k8s_http_free(h);
	return NULL;
}

int kg_k8s_sink_start(struct kg_k8s_sink *s, const struct kg_k8s_config *cfg, unsigned qps,
		      unsigned burst, char *err, size_t errsz)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->qps = qps;
	s->burst = burst;
	s->tokens = burst;
	s->refill_ns = kg_mono_ns();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, kg_worker, s)) {
		snprintf(err, errsz, "cannot start the API writer thread: %s", strerror(errno));
		return -1;
	}
	s->started = true;
	return 0;
}

void kg_k8s_sink_stop(struct kg_k8s_sink *s, unsigned flush_ms)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	s->flush_deadline_ns = kg_mono_ns() + flush_ms * NS_PER_MS;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	for (struct kg_k8s_item *it = s->queue, *n; it; it = n) {
		n = it->next;
		kg_error("k8s.unsent", "kind=%s name=%s/%s attempts=%u reason=\"agent stopping, API "
				       "server did not take it in time\"",
			 it->plural, it->ns, it->name, it->attempts);
		kg_item_free(it);
	}
	s->queue = NULL;
	free(s->applied_hashes);
	s->applied_hashes = NULL;
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	s->started = false;
}

void kg_k8s_sink_stats(struct kg_k8s_sink *s, struct kg_k8s_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	out->depth = kg_queue_len(s);
	pthread_mutex_unlock(&s->mu);
}
