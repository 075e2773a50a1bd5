/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loop.h - the agent's one event loop (after Redis' ae): file descriptors
 * and periodic timers on a single epoll instance, one thread. Everything the
 * agent does - draining ring buffers, settling births, sampling throttling,
 * writing resources - runs from a callback here, so no locks are needed.
 */
#ifndef KG_LOOP_H
#define KG_LOOP_H

#include <stdint.h>

struct kg_loop;
typedef void (*kg_loop_fn)(void *ctx, uint32_t events);

struct kg_loop *kg_loop_new(void);
void kg_loop_free(struct kg_loop *l);

/* Watch fd for EPOLLIN; fn gets the epoll events. */
int kg_loop_add_fd(struct kg_loop *l, int fd, kg_loop_fn fn, void *ctx);

/* Call fn every interval_ms (a timerfd; missed expirations are coalesced). */
int kg_loop_add_timer(struct kg_loop *l, unsigned interval_ms, kg_loop_fn fn, void *ctx);

/* Stop on SIGINT/SIGTERM (blocked and read through a signalfd). */
int kg_loop_handle_signals(struct kg_loop *l);

/* Run until kg_loop_stop() or a handled signal; returns the signal number or 0. */
int kg_loop_run(struct kg_loop *l);
void kg_loop_stop(struct kg_loop *l);

#endif /* KG_LOOP_H */
