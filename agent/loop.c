// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - epoll + timerfd + signalfd. See loop.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "loop.h"

#define KG_LOOP_MAX 64

struct kg_watch {
	int fd;
	int kind;	/* 0 fd, 1 timer, 2 signal */
	kg_loop_fn fn;
	void *ctx;
};

struct kg_loop {
	int epfd;
	int nr;
	int stop;
	int signo;
	struct kg_watch w[KG_LOOP_MAX];
};

struct kg_loop *kg_loop_new(void)
{
	struct kg_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void kg_loop_free(struct kg_loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->nr; i++) {
		if (l->w[i].kind != 0)
			close(l->w[i].fd);	/* timers and the signalfd are ours */
	}
	close(l->epfd);
	free(l);
}

static int kg_loop_watch(struct kg_loop *l, int fd, int kind, kg_loop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (l->nr >= KG_LOOP_MAX)
		return -ENOSPC;
	l->w[l->nr] = (struct kg_watch){ .fd = fd, .kind = kind, .fn = fn, .ctx = ctx };
	ev.data.u32 = l->nr;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->nr++;
	return 0;
}

int kg_loop_add_fd(struct kg_loop *l, int fd, kg_loop_fn fn, void *ctx)
{
	return kg_loop_watch(l, fd, 0, fn, ctx);
}

int kg_loop_add_timer(struct kg_loop *l, unsigned interval_ms, kg_loop_fn fn, void *ctx)
{
	struct itimerspec its = {
		.it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
		.it_value = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = kg_loop_watch(l, fd, 1, fn, ctx);
	if (ret)
		close(fd);
	return ret;
}

int kg_loop_handle_signals(struct kg_loop *l)
{
	sigset_t set;
	int fd, ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = kg_loop_watch(l, fd, 2, NULL, NULL);
	if (ret)
		close(fd);
	return ret;
}

void kg_loop_stop(struct kg_loop *l)
{
	l->stop = 1;
}

int kg_loop_run(struct kg_loop *l)
{
	struct epoll_event evs[16];

	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			struct kg_watch *w = &l->w[evs[i].data.u32];

			if (w->kind == 1) {
				uint64_t expirations;

				if (read(w->fd, &expirations, sizeof(expirations)) < 0)
					continue;
			} else if (w->kind == 2) {
				struct signalfd_siginfo si;

				if (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
					l->signo = si.ssi_signo;
					l->stop = 1;
				}
				continue;
			}
			w->fn(w->ctx, evs[i].events);
		}
	}
	return l->signo;
}
