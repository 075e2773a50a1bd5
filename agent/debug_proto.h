/* SPDX-License-Identifier: GPL-2.0 */
/*
 * debug_proto.h - the debug socket's protocol, without the socket: one
 * request a line, one JSON response a line. Pure (json-c only), so every
 * malformed input has a unit test; agent/debug_sock.c moves the bytes.
 *
 * A request is a JSON object, {"cmd": "status"}, or for people typing into
 * `socat - UNIX:...` the same as words: "status", "explain web-1".
 *
 *   status                     agent, kernel, hooks chosen and why, programs, drops
 *   cgroups   [pod]            live view: tracked cgroups, open births, throttling
 *   births    [limit]          recent PodBirthCertificates (newest first)
 *   whispers  [limit]          recent KernelWhispers
 *   explain   pod              insights of the pod's latest resources, and its live view
 *   watch                      stream events, one JSON object a line, until disconnect
 *
 * Optional "id" (any JSON scalar) is echoed in the response. The response is
 * {"ok": true, "cmd": ..., <cmd>: ...} or {"error": "..."}; an error never
 * closes the connection.
 */
#ifndef KG_DEBUG_PROTO_H
#define KG_DEBUG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#define KG_DBG_MAX_LINE 4096	/* longest request line accepted, newline excluded */
#define KG_DBG_POD_LEN 256
#define KG_DBG_DEFAULT_LIMIT 20

enum kg_dbg_cmd {
	KG_DBG_STATUS = 0,
	KG_DBG_CGROUPS,
	KG_DBG_BIRTHS,
	KG_DBG_WHISPERS,
	KG_DBG_EXPLAIN,
	KG_DBG_WATCH,
	KG_DBG_CMD_NR,
};

/* Why the agent refused or dropped a debug-socket client (counted per reason). */
enum kg_dbg_drop {
	KG_DBG_DROP_PERMISSION = 0,	/* peer is neither root nor the agent's user */
	KG_DBG_DROP_TOO_MANY,		/* all client slots taken */
	KG_DBG_DROP_OUTPUT_FULL,	/* responses queued past the per-client bound */
	KG_DBG_DROP_STALLED,		/* a watcher that read nothing for too long */
	KG_DBG_DROP_IDLE,		/* no request for too long */
	KG_DBG_DROP_ERROR,		/* the connection failed */
	KG_DBG_DROP_NR,
};

struct kg_dbg_req {
	enum kg_dbg_cmd cmd;
	char pod[KG_DBG_POD_LEN];	/* explain (required), cgroups (optional filter) */
	unsigned limit;			/* births, whispers */
	json_object *id;		/* owned; NULL when absent */
};

/*
 * Parse one request line (no newline). Returns 0, or -1 with a one-line
 * reason in err. On success the caller frees req->id (json_object_put).
 */
int kg_dbg_parse(const char *line, size_t len, struct kg_dbg_req *req, char *err, size_t errsz);

/* What the dispatcher asks for; every function returns a new object, or NULL with err. */
struct kg_dbg_source {
	void *ctx;
	json_object *(*status)(void *ctx);
	json_object *(*cgroups)(void *ctx, const char *pod);	/* pod "" = all */
	json_object *(*recent)(void *ctx, enum kg_dbg_cmd which, unsigned limit);
	json_object *(*explain)(void *ctx, const char *pod, char *err, size_t errsz);
};

/*
 * Answer one request line: the response line, newline-terminated and
 * malloc'd (NULL only when out of memory or for a blank line). *watch is set
 * when the request was a valid watch.
 */
char *kg_dbg_dispatch(const struct kg_dbg_source *src, const char *line, size_t len, bool *watch);

/* {"error": msg} as a newline-terminated malloc'd line. */
char *kg_dbg_error_line(const char *msg);

/* A JSON object as one newline-terminated malloc'd line. */
char *kg_dbg_line(json_object *o);

const char *kg_dbg_cmd_name(enum kg_dbg_cmd c);
const char *kg_dbg_drop_name(enum kg_dbg_drop r);

#endif /* KG_DEBUG_PROTO_H */
