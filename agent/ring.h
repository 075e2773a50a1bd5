/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ring.h - consume the per-CPU BPF ring buffers through one epoll fd.
 *
 * Each record is checked against the contract (kg_events.h) before it is
 * handed on: a record too short for its type, or of an unknown type, is
 * counted as malformed and skipped, never trusted.
 */
#ifndef KG_RING_H
#define KG_RING_H

#include <stddef.h>
#include <stdint.h>
#include "kg_events.h"

struct kg_ring;
typedef void (*kg_event_fn)(void *ctx, const struct kg_event_hdr *hdr, size_t size);

struct kg_ring *kg_ring_new(const int *fds, int nr, kg_event_fn fn, void *ctx);
void kg_ring_free(struct kg_ring *r);
int kg_ring_epoll_fd(const struct kg_ring *r);

/* Drain every ring; returns the number of records consumed or -errno. */
int kg_ring_drain(struct kg_ring *r);

uint64_t kg_ring_events(const struct kg_ring *r);
uint64_t kg_ring_malformed(const struct kg_ring *r);

/* Smallest valid size of a record of this type, 0 for an unknown type. */
size_t kg_event_min_size(uint32_t type);

#endif /* KG_RING_H */
