/* SPDX-License-Identifier: GPL-2.0 */
/*
 * k8s_pods.h - what the API server says about the pods on this node: a
 * cache filled by LIST and kept current by WATCH, in a thread of its own.
 *
 * As the kubelet and client-go's reflector do: the pods of this node only
 * (fieldSelector=spec.nodeName, served from the watch cache with
 * resourceVersion=0), bookmarks on, a watch timeout between 5 and 10
 * minutes, a relist after 410 Gone, backoff 800 ms doubling to 30 s with
 * jitter, reset after two healthy minutes. The engine asks by pod UID (what
 * the cgroup path gives) and gets name, namespace, owner, whether the pod
 * is monitored, and the container names by container id.
 */
#ifndef KG_K8S_PODS_H
#define KG_K8S_PODS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "k8s_config.h"

#define KG_POD_MAX_CONTAINERS 16
#define KG_MONITOR_ANNOTATION "kernel-gossip.io/monitor"

struct kg_pod_meta {
	char uid[40];
	char name[254];
	char namespace_[64];
	char owner_kind[64], owner_name[254];
	bool annotated;			/* kernel-gossip.io/monitor: "true" */
	unsigned ncontainers;
	struct {
		char name[64];
		char id[72];		/* without the "containerd://" scheme */
		unsigned cpu_limit_m;	/* 0: none */
		unsigned cpu_request_m;
	} containers[KG_POD_MAX_CONTAINERS];
};

struct kg_pod_entry;

struct kg_pod_cache {
	const struct kg_k8s_config *cfg;
	char node[254];
	pthread_t thread;
	bool started;
	volatile int stop;
	pthread_mutex_t mu;
	struct kg_pod_entry *pods;
	unsigned npods;
	bool synced;			/* a LIST completed */
	char rv[64];
	uint64_t lists, watches, relists_410, errors, events;
	char last_error[256];
};

int kg_pod_cache_start(struct kg_pod_cache *c, const struct kg_k8s_config *cfg, const char *node,
		       char *err, size_t errsz);
void kg_pod_cache_stop(struct kg_pod_cache *c);

/* Copy the pod with this UID into out; false when unknown (yet). */
bool kg_pod_cache_get(struct kg_pod_cache *c, const char *uid, struct kg_pod_meta *out);
bool kg_pod_cache_synced(struct kg_pod_cache *c);

/* Parse a Pod object (pure; unit-tested). Returns false when it is not a usable pod. */
bool kg_pod_meta_parse(json_object *pod, struct kg_pod_meta *out);

/* Parse a Kubernetes CPU quantity ("500m", "2", "1.5") into millicores; -1 if invalid. */
long kg_cpu_millicores(const char *q);

#endif /* KG_K8S_PODS_H */
