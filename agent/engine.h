/* SPDX-License-Identifier: GPL-2.0 */
/*
 * engine.h - the kernel truth engine: loads the programs, consumes their
 * events and maps, and turns them into resources. Data flows one way:
 * kernel (loader) -> ring / maps -> track + birth / throttle -> certificate /
 * whisper -> sink.
 */
#ifndef KG_ENGINE_H
#define KG_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "cgroupfs.h"
#include "config.h"
#include "loader.h"
#include "kube.h"
#include "loop.h"
#include "resource.h"
#include "ring.h"
#include "sink.h"
#include "throttle.h"
#include "track.h"

struct kg_ops;

struct kg_engine_stats {
	uint64_t births_recorded;	/* certificates' container records written */
	uint64_t births_discarded;	/* cgroups no task ever joined */
	uint64_t births_orphaned;	/* kernel records without an agent record, dropped */
	uint64_t births_refused;	/* kernel had no room (--max-births) */
	uint64_t unknown_cgroups;	/* events for cgroups the agent could not resolve */
	uint64_t syscall_attach_cycles;
	uint64_t events_by_type[KG_EV_TYPE_MAX];	/* consumed from the rings */
};

struct kg_engine {
	const struct kg_config *cfg;
	struct kg_cgroupfs fs;
	struct kg_bpf bpf;
	struct kg_ring *ring;
	struct kg_loop *loop;
	struct kg_track track;
	struct kg_throttle throttle;
	struct kg_sink sink;		/* standalone: resources as files */
	struct kg_kube kube;		/* --kubernetes: resources to the API server */
	bool kube_on;
	struct kg_resource_meta tmpl;	/* node, clock offset, hooks: copied per resource */
	char hooks[256];
	uint64_t warm_until_ns;		/* keep the syscall counters attached until then */
	uint64_t last_orphan_scan_ns;
	uint64_t last_drops;		/* ring-buffer drops already reported */
	struct kg_engine_stats stats;
	uint64_t started_ns;
	struct kg_ops *ops;		/* debug socket, metrics (agent/ops.h); NULL: none */
};

int kg_engine_init(struct kg_engine *e, const struct kg_config *cfg, char *err, size_t errsz);

/* Run until SIGINT/SIGTERM; returns 0 on a clean stop. */
int kg_engine_run(struct kg_engine *e);

/* Settle what is being recorded, write it, detach everything. */
void kg_engine_fini(struct kg_engine *e);

uint64_t kg_now_ns(void);	/* CLOCK_MONOTONIC, the clock of BPF timestamps */

#endif /* KG_ENGINE_H */
