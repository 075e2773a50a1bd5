/* SPDX-License-Identifier: GPL-2.0 */
/*
 * k8s_metrics.h - the metrics view from the metrics API: what `kubectl top`
 * shows for a pod (metrics.k8s.io PodMetrics, from metrics-server), fetched
 * in a thread of its own for the pods the engine asks about - only pods
 * being whispered about, so a node costs a few requests, not a listing of
 * the cluster. When the API is not served, callers fall back to the same
 * computation done locally from the cgroup's usage counter.
 */
#ifndef KG_K8S_METRICS_H
#define KG_K8S_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "k8s_config.h"

struct kg_pm_entry;

struct kg_pod_metrics {
	const struct kg_k8s_config *cfg;
	pthread_t thread;
	bool started;
	volatile int stop;
	pthread_mutex_t mu;
	struct kg_pm_entry *entries;
	unsigned n;
	int served;		/* -1 not known yet, 0 not served, 1 served */
	uint64_t fetches, errors;
};

int kg_pod_metrics_start(struct kg_pod_metrics *m, const struct kg_k8s_config *cfg, char *err,
			 size_t errsz);
void kg_pod_metrics_stop(struct kg_pod_metrics *m);

/*
 * The pod's CPU use as the metrics API last reported it, for one container
 * (by name) or the whole pod (container NULL); marks the pod as wanted, so
 * the next call has a fresh value. False when there is none yet or it is
 * older than a minute.
 */
bool kg_pod_metrics_get(struct kg_pod_metrics *m, const char *ns, const char *pod,
			const char *container, double *millicores, double *window_s);

/* A CPU quantity ("250m", "1", "12345n", "7u") in millicores; false if invalid. Pure. */
bool kg_cpu_quantity_mc(const char *q, double *mc);

/* A metrics window ("30s", "1m0s", "15.5s") in seconds; false if invalid. Pure. */
bool kg_duration_s(const char *d, double *s);

#endif /* KG_K8S_METRICS_H */
