// SPDX-License-Identifier: GPL-2.0
/*
 * kube.c - see kube.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_util.h"
#include "kube.h"
#include "log.h"

struct kg_kube_waiting {
	char plural[32], suffix[32], uid[40];
	json_object *doc;
	uint64_t since_ns;
	struct kg_kube_waiting *next;
};

static uint32_t kg_fnv32(const char *s)
{
	uint32_t h = 0x811c9dc5;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x01000193;
	return h;
}

int kg_kube_localize(json_object *doc, const struct kg_pod_meta *pod, const char *suffix)
{
	json_object *meta, *spec, *owners, *owner, *cid;
	char name[254];
	size_t plen = strlen(pod->name), slen = strlen(suffix);

	if (!json_object_object_get_ex(doc, "metadata", &meta) ||
	    !json_object_object_get_ex(doc, "spec", &spec))
		return -1;
	if (plen + slen <= 253) {
		snprintf(name, sizeof(name), "%s%s", pod->name, suffix);
	} else {
		/* too long for a name: keep it unique with a hash of the pod's name */
		snprintf(name, sizeof(name), "%.*s-%08x%s", (int)(253 - slen - 9), pod->name,
			 kg_fnv32(pod->name), suffix);
	}
	kg_json_str(meta, "name", name);
	kg_json_str(meta, "namespace", pod->namespace_);
	/* garbage-collected with the pod; no blockOwnerDeletion: it needs delete on pods */
	owners = kg_json_arr(meta, "ownerReferences");
	owner = json_object_new_object();
	kg_json_str(owner, "apiVersion", "v1");
	kg_json_str(owner, "kind", "Pod");
	kg_json_str(owner, "name", pod->name);
	kg_json_str(owner, "uid", pod->uid);
	json_object_array_add(owners, owner);

	kg_json_str(spec, "podName", pod->name);
	kg_json_str(spec, "podNamespace", pod->namespace_);
	if (json_object_object_get_ex(spec, "containerID", &cid)) {
		const char *id = json_object_get_string(cid);

		for (unsigned i = 0; id && *id && i < pod->ncontainers; i++) {
			if (!strcmp(pod->containers[i].id, id))
				kg_json_str(spec, "containerName", pod->containers[i].name);
		}
	}
	if (pod->owner_kind[0]) {
		kg_json_str(spec, "ownerKind", pod->owner_kind);
		kg_json_str(spec, "ownerName", pod->owner_name);
	}
	return 0;
}

int kg_kube_start(struct kg_kube *k, const struct kg_config *cfg, const char *node, char *err,
		  size_t errsz)
{
	memset(k, 0, sizeof(*k));
	k->cfg = cfg;
	snprintf(k->node, sizeof(k->node), "%s", node);
	if (kg_k8s_config_load(&k->api, cfg->kubeconfig, cfg->kube_insecure, err, errsz))
		return -1;
	if (k->api.insecure)
		kg_warn("k8s.insecure", "server=%s reason=\"TLS verification disabled by the user\"",
			kg_q(k->api.server));
	if (kg_k8s_sink_start(&k->sink, &k->api, cfg->api_qps, cfg->api_burst, err, errsz) ||
	    kg_pod_cache_start(&k->pods, &k->api, node, err, errsz) ||
	    kg_pod_metrics_start(&k->metrics, &k->api, err, errsz)) {
		kg_kube_stop(k, 0);
		return -1;
	}
	kg_info("k8s.started", "server=%s source=%s node=%s qps=%u burst=%u selection=%s",
		kg_q(k->api.server), kg_q(k->api.source), node, cfg->api_qps, cfg->api_burst,
		cfg->pod_selection == KG_PODS_ANNOTATED ? "annotated" : "all");
	return 0;
}

static bool kg_skipped_ns(const struct kg_config *cfg, const char *ns)
{
	for (unsigned i = 0; i < cfg->nr_skip_ns; i++) {
		if (!strcmp(cfg->skip_ns[i], ns))
			return true;
	}
	return false;
}

/* Try to send; false when the pod is not known yet. */
static bool kg_kube_send(struct kg_kube *k, const char *plural, const char *suffix,
			 const char *uid, json_object *doc)
{
	struct kg_pod_meta pod;
	json_object *copy = NULL;

	if (!kg_pod_cache_get(&k->pods, uid, &pod))
		return false;
	if (kg_skipped_ns(k->cfg, pod.namespace_)) {
		k->stats.skipped_namespace++;
		return true;
	}
	if (k->cfg->pod_selection == KG_PODS_ANNOTATED && !pod.annotated) {
		k->stats.skipped_unannotated++;
		return true;
	}
	if (json_object_deep_copy(doc, &copy, NULL) || kg_kube_localize(copy, &pod, suffix)) {
		json_object_put(copy);
		return true;
	}
	kg_k8s_sink_submit(&k->sink, plural, copy);
	k->stats.written++;
	json_object_put(copy);
	return true;
}

void kg_kube_emit(struct kg_kube *k, const char *plural, const char *suffix, const char *pod_uid,
		  json_object *doc, uint64_t now_ns)
{
	struct kg_kube_waiting *w;

	if (!pod_uid || !*pod_uid) {
		k->stats.not_a_pod++;
		return;
	}
	if (kg_kube_send(k, plural, suffix, pod_uid, doc))
		return;
	/* the pod's metadata has not arrived: keep the latest document until it does */
	for (w = k->waiting; w; w = w->next) {
		if (!strcmp(w->uid, pod_uid) && !strcmp(w->plural, plural)) {
			json_object_put(w->doc);
			w->doc = NULL;	/* json_object_deep_copy() wants an empty destination */
			json_object_deep_copy(doc, &w->doc, NULL);
			return;
		}
	}
	if (k->nwaiting >= KG_KUBE_MAX_WAITING) {
		k->stats.expired++;
		kg_warn("k8s.waiting_full", "kind=%s pod_uid=%s", plural, pod_uid);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w || json_object_deep_copy(doc, &w->doc, NULL)) {
		free(w);
		return;
	}
	snprintf(w->plural, sizeof(w->plural), "%s", plural);
	snprintf(w->suffix, sizeof(w->suffix), "%s", suffix);
	snprintf(w->uid, sizeof(w->uid), "%s", pod_uid);
	w->since_ns = now_ns;
	w->next = k->waiting;
	k->waiting = w;
	k->nwaiting++;
	k->stats.waited++;
	kg_debug("k8s.waiting", "kind=%s pod_uid=%s reason=\"pod metadata not seen yet\"", plural,
		 pod_uid);
}

void kg_kube_tick(struct kg_kube *k, uint64_t now_ns)
{
	for (struct kg_kube_waiting **pp = &k->waiting; *pp;) {
		struct kg_kube_waiting *w = *pp;
		bool done = kg_kube_send(k, w->plural, w->suffix, w->uid, w->doc);

		if (!done && now_ns && now_ns - w->since_ns > KG_KUBE_WAIT_NS) {
			k->stats.expired++;
			kg_warn("k8s.pod_unknown",
				"kind=%s pod_uid=%s waited_s=%llu reason=\"no pod with this UID on "
				"node %s: not written\"",
				w->plural, w->uid, (unsigned long long)(KG_KUBE_WAIT_NS / 1000000000ULL),
				k->node);
			done = true;
		}
		if (done) {
			*pp = w->next;
			json_object_put(w->doc);
			free(w);
			k->nwaiting--;
		} else {
			pp = &w->next;
		}
	}
}

void kg_kube_stop(struct kg_kube *k, unsigned flush_ms)
{
	kg_kube_tick(k, 0);	/* a last chance for what waited (0: nothing expires) */
	kg_pod_metrics_stop(&k->metrics);
	kg_pod_cache_stop(&k->pods);
	kg_k8s_sink_stop(&k->sink, flush_ms);
	for (struct kg_kube_waiting *w = k->waiting, *n; w; w = n) {
		n = w->next;
		kg_warn("k8s.unsent", "kind=%s pod_uid=%s reason=\"pod metadata never arrived\"",
			w->plural, w->uid);
		json_object_put(w->doc);
		free(w);
	}
	k->waiting = NULL;
	kg_k8s_config_free(&k->api);
}

bool kg_kube_metrics_view(void *kube, const char *pod_uid, const char *container_id,
			  double *millicores, double *window_s)
{
	struct kg_kube *k = kube;
	const char *container = NULL;
	struct kg_pod_meta pod;

	if (!pod_uid || !kg_pod_cache_get(&k->pods, pod_uid, &pod))
		return false;
	if (container_id && *container_id) {
		for (unsigned i = 0; i < pod.ncontainers; i++) {
			if (!strcmp(pod.containers[i].id, container_id))
				container = pod.containers[i].name;
		}
		if (!container) {
			kg_debug("k8s.metrics_view", "pod=%s/%s container_id=%s reason=\"no such container "
				 "id in the pod's status yet\"", pod.namespace_, pod.name, container_id);
			return false;	/* not reported by the kubelet yet: no way to match */
		}
	}
	return kg_pod_metrics_get(&k->metrics, pod.namespace_, pod.name, container, millicores,
				  window_s);
}
