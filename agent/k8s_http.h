/* SPDX-License-Identifier: GPL-2.0 */
/*
 * k8s_http.h - one HTTPS connection to the API server (libcurl, kept alive
 * and reused), owned by one thread. TLS is verified against the configured
 * CA; the bearer token is read from its file again every minute, because
 * the kubelet rotates projected service-account tokens. Tokens never reach
 * a log line.
 */
#ifndef KG_K8S_HTTP_H
#define KG_K8S_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "k8s_config.h"

struct kg_k8s_http;

struct kg_k8s_resp {
	long status;		/* HTTP status; 0 when the request failed below HTTP */
	char *body;		/* NUL-terminated, owned by the response */
	size_t len;
	long retry_after_s;	/* an integer Retry-After header, else -1 */
	char error[256];	/* transport error (curl's), or "" */
};

/* Called with each chunk of a streamed body; return non-zero to stop the transfer. */
typedef int (*kg_k8s_stream_fn)(void *ctx, const char *data, size_t len);

struct kg_k8s_http *kg_k8s_http_new(const struct kg_k8s_config *cfg);
void kg_k8s_http_free(struct kg_k8s_http *h);

/*
 * One request; body may be NULL. path starts with '/'. timeout_ms bounds the
 * whole request. Returns 0 when an HTTP response arrived (any status), -1 on
 * a transport error (r->error says which).
 */
int kg_k8s_request(struct kg_k8s_http *h, const char *method, const char *path,
		   const char *content_type, const char *body, long timeout_ms,
		   struct kg_k8s_resp *r);

/* A streamed GET (watch): chunks go to fn; stops when fn or *stop says so. */
int kg_k8s_stream(struct kg_k8s_http *h, const char *path, long timeout_ms, kg_k8s_stream_fn fn,
		  void *ctx, volatile int *stop, struct kg_k8s_resp *r);

void kg_k8s_resp_free(struct kg_k8s_resp *r);

/* The message of a Kubernetes Status body, or the start of the body. */
void kg_k8s_status_message(const struct kg_k8s_resp *r, char *out, size_t outsz);

#endif /* KG_K8S_HTTP_H */
