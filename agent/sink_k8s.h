/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sink_k8s.h - resources to the Kubernetes API server, politely.
 *
 * The engine hands over finished documents and never waits: submit() copies
 * the document into a queue and returns. A worker thread applies them with
 * server-side apply (the object, then its /status subresource), so an upsert
 * is one idempotent request and an agent restart duplicates nothing. The
 * queue holds at most one pending version per resource (a newer document
 * replaces the queued one: only the latest state is sent), requests pass a
 * token bucket (--api-qps / --api-burst), failures are retried with
 * exponential backoff and jitter honouring Retry-After, and what cannot
 * succeed (422: the schema refused a field) is logged with the field and
 * dropped. At shutdown the queue is flushed for a bounded time; what is
 * still pending then is logged by name.
 */
#ifndef KG_SINK_K8S_H
#define KG_SINK_K8S_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "k8s_config.h"

#define KG_FIELD_MANAGER "kernel-gossip"
#define KG_K8S_MAX_PENDING 4096

struct kg_k8s_item;

struct kg_k8s_stats {
	uint64_t requests;
	uint64_t by_class[6];		/* 0: transport errors, 1..5: 1xx..5xx */
	uint64_t applied;		/* resources written (object and status) */
	uint64_t unchanged;		/* submits skipped: same as the last applied */
	uint64_t coalesced;		/* queued versions replaced by a newer one */
	uint64_t retries;
	uint64_t dropped;		/* refused for good (4xx other than 404/409/429) or queue full */
	uint64_t crd_missing;		/* 404s: the CRDs are not installed */
	uint64_t auth_errors;		/* 401/403 */
	unsigned depth;			/* pending now */
};

struct kg_k8s_sink {
	const struct kg_k8s_config *cfg;	/* owned by the engine, outlives the sink */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct kg_k8s_item *queue;	/* FIFO of pending resources */
	bool stop;
	uint64_t flush_deadline_ns;
	double tokens, qps, burst;
	uint64_t refill_ns;
	struct kg_k8s_stats stats;
	uint64_t *applied_hashes;	/* key hash -> content hash of the last applied version */
	unsigned nhashes;
};

int kg_k8s_sink_start(struct kg_k8s_sink *s, const struct kg_k8s_config *cfg, unsigned qps,
		      unsigned burst, char *err, size_t errsz);

/* Queue doc (metadata.name and .namespace set) for plural; takes no ownership. */
void kg_k8s_sink_submit(struct kg_k8s_sink *s, const char *plural, json_object *doc);

/* Flush for at most flush_ms, stop the worker, log what was left. */
void kg_k8s_sink_stop(struct kg_k8s_sink *s, unsigned flush_ms);

void kg_k8s_sink_stats(struct kg_k8s_sink *s, struct kg_k8s_stats *out);

/* Backoff before attempt n (1-based), ms: 800 x 2^(n-1) up to 30 s, +-20 % jitter. */
unsigned kg_backoff_ms(unsigned attempt, unsigned random);

#endif /* KG_SINK_K8S_H */
