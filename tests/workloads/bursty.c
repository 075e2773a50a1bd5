// SPDX-License-Identifier: GPL-2.0
/*
 * bursty - a CPU workload that is idle most of the time and bursts on many
 * threads at once: the shape that CPU averages hide and CFS quotas punish.
 *
 *   bursty [--threads N] [--burst-ms MS] [--interval-ms MS] [--duration-s S]
 *
 * Every interval, all N threads wake at the same instant and each burns MS
 * milliseconds of its own CPU time (CLOCK_THREAD_CPUTIME_ID, so throttling
 * stretches a burst in wall time but never changes the work). At the end it
 * prints how many bursts ran and their wall-clock latency (tick to the last
 * thread done): what a request served in such a burst would feel.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned nthreads = 4, burst_ms = 40, interval_ms = 1000, duration_s = 10;
static struct timespec t0;
static pthread_barrier_t start;

#define MAX_BURSTS 100000
static double done_ms[MAX_BURSTS];	/* per burst: latest completion after its tick */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static void burn(unsigned ms)
{
	struct timespec s, n;
	volatile unsigned long x = 0;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &s);
	do {
		for (int i = 0; i < 10000; i++)
			x += i;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &n);
	} while (ms_between(&s, &n) < ms);
}

static void *worker(void *arg)
{
	unsigned bursts = duration_s * 1000 / interval_ms;

	pthread_barrier_wait(&start);
	for (unsigned b = 0; b < bursts && b < MAX_BURSTS; b++) {
		struct timespec tick = t0, now;

		tick.tv_sec += (b * (unsigned long)interval_ms) / 1000;
		tick.tv_nsec += ((b * (unsigned long)interval_ms) % 1000) * 1000000L;
		if (tick.tv_nsec >= 1000000000L) {
			tick.tv_sec++;
			tick.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR)
			;
		burn(burst_ms);
		clock_gettime(CLOCK_MONOTONIC, &now);
		pthread_mutex_lock(&lock);
		if (ms_between(&tick, &now) > done_ms[b])
			done_ms[b] = ms_between(&tick, &now);
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static unsigned arg(int argc, char **argv, int *i)
{
	char *end;
	unsigned long v;

	if (*i + 1 >= argc) {
		fprintf(stderr, "bursty: %s needs a value\n", argv[*i]);
		exit(2);
	}
	v = strtoul(argv[++*i], &end, 10);
	if (*end || v == 0 || v > 1000000) {
		fprintf(stderr, "bursty: bad value for %s: %s\n", argv[*i - 1], argv[*i]);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned bursts;
	pthread_t *t;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads"))
			nthreads = arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--burst-ms"))
			burst_ms = arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--interval-ms"))
			interval_ms = arg(argc, argv, &i);
		else if (!strcmp(argv[i], "--duration-s"))
			duration_s = arg(argc, argv, &i);
		else {
			fprintf(stderr, "usage: bursty [--threads N] [--burst-ms MS] "
					"[--interval-ms MS] [--duration-s S]\n");
			return 2;
		}
	}
	t = calloc(nthreads, sizeof(*t));
	if (!t || pthread_barrier_init(&start, NULL, nthreads + 1))
		return 1;
	for (unsigned i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t0.tv_nsec += 50000000L;	/* first tick 50 ms from now, the same for all */
	if (t0.tv_nsec >= 1000000000L) {
		t0.tv_sec++;
		t0.tv_nsec -= 1000000000L;
	}
	pthread_barrier_wait(&start);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	/* run the whole duration: an average over it is what a metrics window sees */
	t0.tv_sec += duration_s;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t0, NULL) == EINTR)
		;
	bursts = duration_s * 1000 / interval_ms;
	if (bursts > MAX_BURSTS)
		bursts = MAX_BURSTS;
	qsort(done_ms, bursts, sizeof(done_ms[0]), cmp);
	printf("bursty: %u bursts of %u threads x %u ms CPU every %u ms; burst latency "
	       "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
	       bursts, nthreads, burst_ms, interval_ms, done_ms[bursts / 2],
	       done_ms[(bursts * 99) / 100 < bursts ? (bursts * 99) / 100 : bursts - 1],
	       done_ms[bursts - 1]);
	return 0;
}
