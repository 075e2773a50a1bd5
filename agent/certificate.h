/* SPDX-License-Identifier: GPL-2.0 */
/*
 * certificate.h - a pod's PodBirthCertificate document, built from the
 * settled birth records of its containers. Pure: records in, json-c out.
 */
#ifndef KG_CERTIFICATE_H
#define KG_CERTIFICATE_H

#include <stdint.h>
#include <json-c/json.h>
#include "birth.h"
#include "resource.h"

struct kg_cert_container {
	const struct kg_birth *birth;
	const char *container_id;	/* "" when the cgroup is not a container */
	const char *runtime;
};

/*
 * Build the certificate of meta's pod from its containers' births (settled
 * ones only); the headline container (spec.containerID, status timeline) is
 * the last one to settle that is not the pod sandbox.
 */
json_object *kg_certificate_json(const struct kg_resource_meta *meta,
				 const struct kg_cert_container *c, unsigned n);

/* One container's birth as JSON (also what kgctl and logs summarise). */
json_object *kg_birth_json(const struct kg_cert_container *c, int64_t mono_to_real_ns);

/* True when the exec chain is the pod sandbox's ("pause"). */
bool kg_birth_is_sandbox(const struct kg_birth *b);

/* Duration of the start in ns: to readiness, else to the last activity. */
uint64_t kg_birth_duration_ns(const struct kg_birth *b);

#endif /* KG_CERTIFICATE_H */
