/* SPDX-License-Identifier: GPL-2.0 */
/*
 * debug_sock.h - the node-local debug socket: a Unix stream socket speaking
 * newline-delimited JSON (agent/debug_proto.h), served from the agent's one
 * event loop without ever blocking it.
 *
 * Safety: the socket's directory is 0700 and the socket 0600; each peer's
 * credentials (SO_PEERCRED) are checked - root or the agent's own user only.
 * Bounds, per client: one request line of KG_DBG_MAX_LINE bytes (longer gets
 * an error and is skipped; the connection stays usable), KG_DBG_OUT_MAX bytes
 * of queued responses (a client that never reads its answers is dropped), and
 * KG_DBG_WATCH_QUEUE watch events (a slow watcher loses the oldest, counted
 * and announced in the stream, and is dropped once it has read nothing for
 * KG_DBG_STALL_S). While a client has more than KG_DBG_READ_PAUSE bytes of
 * answers unread, its further requests wait in the kernel's socket buffer:
 * a client cannot make the agent grow by sending faster than it reads.
 */
#ifndef KG_DEBUG_SOCK_H
#define KG_DEBUG_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "debug_proto.h"

#define KG_DBG_MAX_CLIENTS 16
#define KG_DBG_OUT_MAX (8u << 20)
#define KG_DBG_READ_PAUSE (256u << 10)
#define KG_DBG_WATCH_QUEUE 256
#define KG_DBG_SNDBUF 32768	/* per-client kernel send buffer: keeps "slow" honest */
#define KG_DBG_STALL_S 60
#define KG_DBG_IDLE_S 600

struct kg_dbg_server;

/* Answer a request line (see kg_dbg_dispatch); NULL: nothing to send. */
typedef char *(*kg_dbg_handler_fn)(void *ctx, const char *line, size_t len, bool *watch);

struct kg_dbg_stats {
	unsigned clients, watchers;
	uint64_t accepted, requests;
	uint64_t dropped[KG_DBG_DROP_NR];	/* refused or disconnected, by reason */
	uint64_t watch_events, watch_dropped;	/* events queued to watchers; dropped oldest */
};

/* Create the socket (and its directory); a stale socket file is replaced. */
int kg_dbg_open(struct kg_dbg_server **out, const char *path, kg_dbg_handler_fn fn, void *ctx,
		char *err, size_t errsz);

/* An epoll fd: readable when a client or the listener needs service. */
int kg_dbg_fd(const struct kg_dbg_server *s);

/* Serve whatever is ready; never blocks. */
void kg_dbg_poll(struct kg_dbg_server *s);

/* Drop stalled watchers and idle clients. */
void kg_dbg_tick(struct kg_dbg_server *s, uint64_t now_ns);

/* Queue one event line (newline-terminated) to every watcher. */
void kg_dbg_broadcast(struct kg_dbg_server *s, const char *line, size_t len);
bool kg_dbg_has_watchers(const struct kg_dbg_server *s);

void kg_dbg_get_stats(const struct kg_dbg_server *s, struct kg_dbg_stats *out);
const char *kg_dbg_path(const struct kg_dbg_server *s);

/* Disconnect everyone, remove the socket file (and the directory if it was created). */
void kg_dbg_close(struct kg_dbg_server *s);

#endif /* KG_DEBUG_SOCK_H */
