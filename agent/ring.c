// SPDX-License-Identifier: GPL-2.0
/*
 * ring.c - libbpf's ring_buffer manager over one map per CPU. See ring.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include "ring.h"

struct kg_ring {
	struct ring_buffer *rb;
	kg_event_fn fn;
	void *ctx;
	uint64_t events;
	uint64_t malformed;
};

size_t kg_event_min_size(uint32_t type)
{
	switch (type) {
	case KG_EV_CGROUP_MKDIR:
	case KG_EV_CGROUP_RMDIR:
	case KG_EV_CGROUP_ATTACH:
		return sizeof(struct kg_cgroup_event);
	case KG_EV_EXEC:
		return sizeof(struct kg_exec_event);
	case KG_EV_FORK:
	case KG_EV_EXIT:
		return sizeof(struct kg_fork_event);
	case KG_EV_OPEN:
		return sizeof(struct kg_open_event);
	case KG_EV_NAMESPACE:
		return sizeof(struct kg_ns_event);
	case KG_EV_MOUNT:
	case KG_EV_LISTEN:
		return sizeof(struct kg_mount_event);
	default:
		return 0;
	}
}

static int kg_ring_record(void *ctx, void *data, size_t size)
{
	struct kg_ring *r = ctx;
	const struct kg_event_hdr *h = data;
	size_t min;

	if (size < sizeof(*h)) {
		r->malformed++;
		return 0;
	}
	min = kg_event_min_size(h->type);
	if (!min || size < min) {
		r->malformed++;
		return 0;
	}
	r->events++;
	r->fn(r->ctx, h, size);
	return 0;
}

struct kg_ring *kg_ring_new(const int *fds, int nr, kg_event_fn fn, void *ctx)
{
	struct kg_ring *r = calloc(1, sizeof(*r));

	if (!r || nr <= 0)
		goto fail;
	r->fn = fn;
	r->ctx = ctx;
	r->rb = ring_buffer__new(fds[0], kg_ring_record, r, NULL);
	if (!r->rb)
		goto fail;
	for (int i = 1; i < nr; i++) {
		if (ring_buffer__add(r->rb, fds[i], kg_ring_record, r))
			goto fail;
	}
	return r;
fail:
	kg_ring_free(r);
	return NULL;
}

void kg_ring_free(struct kg_ring *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	free(r);
}

int kg_ring_epoll_fd(const struct kg_ring *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int kg_ring_drain(struct kg_ring *r)
{
	return ring_buffer__consume(r->rb);
}

uint64_t kg_ring_events(const struct kg_ring *r)
{
	return r->events;
}

uint64_t kg_ring_malformed(const struct kg_ring *r)
{
	return r->malformed;
}
