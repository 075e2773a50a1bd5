/* SPDX-License-Identifier: GPL-2.0 */
/*
 * k8s_config.h - how to reach the Kubernetes API server: in-cluster (the
 * service account's token and CA, KUBERNETES_SERVICE_HOST/PORT) or from a
 * kubeconfig's current context (token or client certificate). TLS is always
 * verified unless the user opted out explicitly. The token file is re-read
 * by the HTTP layer: the kubelet rotates it.
 */
#ifndef KG_K8S_CONFIG_H
#define KG_K8S_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define KG_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kg_blob {
	char *data;	/* PEM, from a file or a kubeconfig *-data field */
	size_t len;
};

struct kg_k8s_config {
	char server[512];		/* https://host:port, no trailing slash */
	struct kg_blob ca;		/* empty: the system's trust store */
	char token_file[PATH_MAX];	/* re-read periodically; empty when none */
	char *token;			/* a static token (kubeconfig); NULL when none */
	struct kg_blob client_cert, client_key;
	bool insecure;
	char source[PATH_MAX + 128];	/* for logs: where this came from (no secrets) */
};

/*
 * Load from kubeconfig (a path) or, when kubeconfig is NULL or "", from the
 * in-cluster environment. Returns 0, or -1 with a one-line reason in err.
 */
int kg_k8s_config_load(struct kg_k8s_config *c, const char *kubeconfig, bool insecure, char *err,
		       size_t errsz);
void kg_k8s_config_free(struct kg_k8s_config *c);

/* Decode base64 (kubeconfig *-data fields); returns the length or -1. Pure, unit-tested. */
long kg_base64_decode(const char *in, char *out, size_t outsz);

#endif /* KG_K8S_CONFIG_H */
