/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kube.h - the agent's Kubernetes side: which pods get resources, what the
 * resources are called there, and handing them to the API writer.
 *
 * The kernel names a pod by the UID in its cgroup path; the API server by
 * namespace and name. A resource finished before the pod's metadata has
 * arrived (an agent just started, a watch event not yet seen) is kept and
 * sent once it does - the facts are not dropped because the metadata was
 * late - and dropped with a warning if it never comes.
 */
#ifndef KG_KUBE_H
#define KG_KUBE_H

#include <stdint.h>
#include <json-c/json.h>
#include "config.h"
#include "k8s_config.h"
#include "k8s_metrics.h"
#include "k8s_pods.h"
#include "sink_k8s.h"

#define KG_KUBE_MAX_WAITING 1024
#define KG_KUBE_WAIT_NS (300ULL * 1000000000ULL)

struct kg_kube_waiting;

struct kg_kube_stats {
	uint64_t written;		/* handed to the API writer */
	uint64_t skipped_namespace;
	uint64_t skipped_unannotated;
	uint64_t not_a_pod;
	uint64_t waited;		/* resources that had to wait for pod metadata */
	uint64_t expired;		/* ... and whose pod never showed up */
};

struct kg_kube {
	const struct kg_config *cfg;
	struct kg_k8s_config api;
	struct kg_pod_cache pods;
	struct kg_k8s_sink sink;
	struct kg_pod_metrics metrics;
	struct kg_kube_waiting *waiting;
	unsigned nwaiting;
	struct kg_kube_stats stats;
	char node[254];
};

int kg_kube_start(struct kg_kube *k, const struct kg_config *cfg, const char *node, char *err,
		  size_t errsz);

/*
 * A finished resource about the pod with this UID (NULL for a cgroup that is
 * not a pod's: such resources stay local). suffix is appended to the pod's
 * name ("-birth", "-cpu-throttle"). doc is copied.
 */
void kg_kube_emit(struct kg_kube *k, const char *plural, const char *suffix, const char *pod_uid,
		  json_object *doc, uint64_t now_ns);

/* Send what was waiting for its pod's metadata; expire what waited too long. */
void kg_kube_tick(struct kg_kube *k, uint64_t now_ns);

void kg_kube_stop(struct kg_kube *k, unsigned flush_ms);

/*
 * The metrics view of a pod's cgroup from the metrics API (kubectl top): its
 * container's CPU use (container_id set) or the pod's. False when the API is
 * not served or has no fresh value: the caller computes it locally.
 */
bool kg_kube_metrics_view(void *kube, const char *pod_uid, const char *container_id,
			  double *millicores, double *window_s);

/* doc rewritten for pod: name, namespace, owner reference, pod and container names. Pure. */
int kg_kube_localize(json_object *doc, const struct kg_pod_meta *pod, const char *suffix);

#endif /* KG_KUBE_H */
