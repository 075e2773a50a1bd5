/* SPDX-License-Identifier: GPL-2.0 */
/*
 * resource.h - identity shared by kernel-gossip's two resources: who the
 * resource is about (pod or plain cgroup), its object name and where it was
 * observed, and the common envelope (apiVersion, kind, metadata, spec).
 */
#ifndef KG_RESOURCE_H
#define KG_RESOURCE_H

#include <stdint.h>
#include <json-c/json.h>

#define KG_API_GROUP "kernel.gossip.io"
#define KG_API_VERSION "kernel.gossip.io/v1alpha1"
#define KG_KIND_CERT "PodBirthCertificate"
#define KG_KIND_WHISPER "KernelWhisper"
#define KG_NAME_MAX 254

struct kg_resource_meta {
	char name[KG_NAME_MAX];		/* metadata.name */
	char namespace_[64];		/* metadata.namespace; "" in standalone mode */
	char pod_name[KG_NAME_MAX];	/* "" when the cgroup is not a pod's */
	char pod_uid[40];
	char node[KG_NAME_MAX];
	char cgroup_path[4096];		/* spec.cgroupPath of the headline cgroup */
	char container_id[72];		/* spec.containerID of the headline cgroup */
	const char *driver;		/* cgroupfs / systemd / "" */
	const char *qos;
	const char *hooks;		/* how the facts were gathered, for status.observedBy */
	int64_t mono_to_real_ns;	/* CLOCK_MONOTONIC (BPF time) to wall clock */
};

/* {apiVersion, kind, metadata, spec} with the identity fields filled in. */
json_object *kg_resource_envelope(const struct kg_resource_meta *m, const char *kind);

#endif /* KG_RESOURCE_H */
