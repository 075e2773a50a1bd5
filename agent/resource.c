// SPDX-License-Identifier: GPL-2.0
/*
 * resource.c - the envelope both resources share. See resource.h.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "json_util.h"
#include "resource.h"

/*
 * A label value is at most 63 characters of [A-Za-z0-9._-], alphanumeric at
 * both ends; a node name may be a DNS subdomain of up to 253. The API server
 * rejects a whole apply (422) for one bad label, so such a node name is left
 * out of the labels: spec.nodeName still carries it.
 */
static bool kg_label_value_ok(const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0 || n > 63 || !isalnum((unsigned char)v[0]) || !isalnum((unsigned char)v[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("._-", v[i]))
			return false;
	return true;
}

json_object *kg_resource_envelope(const struct kg_resource_meta *m, const char *kind)
{
	json_object *doc = json_object_new_object(), *meta, *labels, *spec;

	kg_json_str(doc, "apiVersion", KG_API_VERSION);
	kg_json_str(doc, "kind", kind);
	meta = kg_json_obj(doc, "metadata");
	kg_json_str(meta, "name", m->name);
	if (m->namespace_[0])
		kg_json_str(meta, "namespace", m->namespace_);
	labels = kg_json_obj(meta, "labels");
	kg_json_str(labels, "app.kubernetes.io/managed-by", "kernel-gossip");
	if (kg_label_value_ok(m->node))
		kg_json_str(labels, "kernel.gossip.io/node", m->node);

	spec = kg_json_obj(doc, "spec");
	if (m->pod_name[0])
		kg_json_str(spec, "podName", m->pod_name);
	if (m->namespace_[0])
		kg_json_str(spec, "podNamespace", m->namespace_);
	if (m->pod_uid[0])
		kg_json_str(spec, "podUID", m->pod_uid);
	kg_json_str(spec, "containerID", m->container_id);
	kg_json_str(spec, "cgroupPath", m->cgroup_path);
	if (m->driver && m->driver[0])
		kg_json_str(spec, "cgroupDriver", m->driver);
	if (m->qos && m->qos[0])
		kg_json_str(spec, "qosClass", m->qos);
	if (m->node[0])
		kg_json_str(spec, "nodeName", m->node);
	return doc;
}
