/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ops.h - operability: the ways an operator looks into a running agent,
 * started after the engine and stopped before it.
 *
 *   debug socket (agent/debug_sock.c)  status, live cgroups, recent resources,
 *                                      explain, watch - what kgctl talks to
 *   HTTP (agent/http.c)                /metrics, /healthz, /readyz
 *   pins (agent/pin.c)                 --pin: programs and maps in bpffs
 *
 * The engine tells ops what happens (births opened and settled, resources
 * written, ring drops) through the kg_ops_note_* calls, which do nothing when
 * ops is NULL or nobody watches; ops reads the engine only through
 * agent/introspect.h. Everything runs on the engine's loop thread.
 */
#ifndef KG_OPS_H
#define KG_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "pin.h"
#include "recent.h"

struct kg_engine;
struct kg_config;
struct kg_cg;
struct kg_birth;
struct kg_dbg_server;
struct kg_http;

struct kg_ops {
	struct kg_engine *e;
	const struct kg_config *cfg;
	struct kg_recent certs, whispers;	/* the last documents written, for explain */
	struct kg_dbg_server *dbg;	/* NULL: --debug-socket off */
	struct kg_http *http;		/* NULL: --metrics-addr off */
	struct kg_pins pins;
	bool pinned;
	uint64_t written_certs, written_whispers;
	uint64_t ticks;
};

/* Start what the configuration asks for; on failure err says what and why. */
int kg_ops_start(struct kg_ops *o, struct kg_engine *e, const struct kg_config *cfg, char *err,
		 size_t errsz);

/* Close the socket (file removed), stop HTTP, unpin; idempotent. */
void kg_ops_stop(struct kg_ops *o);

/* From the engine: "birth.opened" / "birth.settled". */
void kg_ops_note_birth(struct kg_ops *o, const char *event, const struct kg_cg *cg,
		       const struct kg_birth *b);

/* From the engine: a resource was handed to the sink; ret is its result (0 written, 1 same). */
void kg_ops_note_resource(struct kg_ops *o, const char *plural, const char *name,
			  json_object *doc, int ret);

/* From the engine: ring buffers lost events (total so far, new since the last note). */
void kg_ops_note_drops(struct kg_ops *o, uint64_t total, uint64_t new_drops,
		       const uint64_t *per_cpu, int nr_cpus);

/* The debug socket's request handler (exported for tests). */
char *kg_ops_handle(void *ctx, const char *line, size_t len, bool *watch);

#endif /* KG_OPS_H */
