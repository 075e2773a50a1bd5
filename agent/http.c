// SPDX-License-Identifier: GPL-2.0
/*
 * http.c - see http.h.
 *
 * Threading: MHD runs inside the agent's own event loop, not in a thread of
 * its own. The daemon is started in "external polling" mode with epoll
 * (MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD); its epoll fd is
 * one more fd of the loop, and MHD_run() is called when that fd is readable
 * and from the agent's 1 s tick (connection timeouts). So /metrics is built
 * on the engine's thread from the engine's live state: no lock, no snapshot
 * copied every tick, and a scrape can never see a half-updated engine. The
 * price is that building the response runs on the loop: it is bounded
 * (KG_METRICS_MAX_PODS rows) and costs well under a millisecond here. A
 * side effect is wanted: /healthz answers only while the loop turns, so a
 * wedged loop fails its liveness probe by timing out.
 *
 * Bounds: 32 connections (8 per client address), 10 s idle timeout, 32 KiB
 * of request memory each; only GET and HEAD.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "http.h"
#include "log.h"

#define KG_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct kg_http {
	struct MHD_Daemon *d;
	int fd;
	struct kg_http_handlers h;
	struct kg_http_stats st;
};

static char kg_mhd_last[256];

static void kg_mhd_log(void *cls, const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(kg_mhd_last, sizeof(kg_mhd_last), fmt, ap);
	n = strlen(kg_mhd_last);
	while (n && (kg_mhd_last[n - 1] == '\n' || kg_mhd_last[n - 1] == ' '))
		kg_mhd_last[--n] = 0;
	kg_warn("http.mhd", "msg=%s", kg_q(kg_mhd_last));
}

static enum MHD_Result kg_reply(struct MHD_Connection *conn, unsigned code, char *body,
				size_t len, const char *type, bool must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result kg_text(struct MHD_Connection *conn, unsigned code, const char *text)
{
	return kg_reply(conn, code, (char *)text, strlen(text), "text/plain; charset=utf-8", false);
}

static enum MHD_Result kg_probe(struct MHD_Connection *conn,
				bool (*fn)(void *ctx, char *msg, size_t msgsz), void *ctx)
{
	char msg[512], body[520];
	bool ok = fn(ctx, msg, sizeof(msg));

	snprintf(body, sizeof(body), "%s\n", msg);
	return kg_text(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static enum MHD_Result kg_handle(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **req_cls)
{
	struct kg_http *h = cls;

	h->st.requests++;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		h->st.bad_method++;
		return kg_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	}
	if (!strcmp(url, "/metrics")) {
		size_t len = 0;
		char *body = h->h.metrics(h->h.ctx, &len);

		h->st.metrics_scrapes++;
		if (!body) {
			h->st.errors++;
			return kg_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		}
		return kg_reply(conn, MHD_HTTP_OK, body, len, KG_PROM_CONTENT_TYPE, true);
	}
	if (!strcmp(url, "/healthz"))
		return kg_probe(conn, h->h.healthz, h->h.ctx);
	if (!strcmp(url, "/readyz"))
		return kg_probe(conn, h->h.readyz, h->h.ctx);
	if (!strcmp(url, "/"))
		return kg_text(conn, MHD_HTTP_OK,
			       "kernel-gossip agent: /metrics /healthz /readyz\n");
	h->st.not_found++;
	return kg_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz, /readyz\n");
}

int kg_http_start(struct kg_http **out, const struct sockaddr *addr, socklen_t addrlen,
		  const struct kg_http_handlers *handlers, char *err, size_t errsz)
{
	struct kg_http *h = calloc(1, sizeof(*h));
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	*out = NULL;
	if (!h) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	h->h = *handlers;
	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	kg_mhd_last[0] = 0;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, kg_handle, h,
				MHD_OPTION_EXTERNAL_LOGGER, kg_mhd_log, NULL,
				MHD_OPTION_SOCK_ADDR, addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				MHD_OPTION_END);
	(void)addrlen;
	if (!h->d) {
		snprintf(err, errsz, "%s", kg_mhd_last[0] ? kg_mhd_last : "libmicrohttpd failed to start");
		free(h);
		return -EADDRNOTAVAIL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		snprintf(err, errsz, "libmicrohttpd has no epoll fd");
		MHD_stop_daemon(h->d);
		free(h);
		return -ENOTSUP;
	}
	h->fd = info->epoll_fd;
	*out = h;
	return 0;
}

int kg_http_fd(const struct kg_http *h)
{
	return h->fd;
}

void kg_http_run(struct kg_http *h)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	/* MHD asks to be called again at once (timeout 0) when it has buffered work */
	for (int i = 0; i < 8; i++) {
		MHD_run(h->d);
		if (MHD_get_timeout(h->d, &timeout) != MHD_YES || timeout > 0)
			break;
	}
}

void kg_http_get_stats(const struct kg_http *h, struct kg_http_stats *out)
{
	*out = h->st;
}

void kg_http_stop(struct kg_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
