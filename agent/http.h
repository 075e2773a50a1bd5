/* SPDX-License-Identifier: GPL-2.0 */
/*
 * http.h - the agent's HTTP endpoint: /metrics (Prometheus text format
 * 0.0.4), /healthz and /readyz. Served by libmicrohttpd, a maintained HTTP
 * library, rather than a hand-written server.
 */
#ifndef KG_HTTP_H
#define KG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct kg_http;

struct kg_http_handlers {
	void *ctx;
	/* The /metrics body (malloc'd), or NULL: 500. */
	char *(*metrics)(void *ctx, size_t *len);
	/* true: 200, else 503; msg is the body's first line. */
	bool (*healthz)(void *ctx, char *msg, size_t msgsz);
	bool (*readyz)(void *ctx, char *msg, size_t msgsz);
};

struct kg_http_stats {
	uint64_t requests, metrics_scrapes, not_found, bad_method, errors;
};

int kg_http_start(struct kg_http **out, const struct sockaddr *addr, socklen_t addrlen,
		  const struct kg_http_handlers *h, char *err, size_t errsz);

/* An fd for the agent's loop: readable when MHD has work; then call kg_http_run(). */
int kg_http_fd(const struct kg_http *h);
void kg_http_run(struct kg_http *h);

void kg_http_get_stats(const struct kg_http *h, struct kg_http_stats *out);
void kg_http_stop(struct kg_http *h);

#endif /* KG_HTTP_H */
