// SPDX-License-Identifier: GPL-2.0
/*
 * storm - the load generator of `make bench`: one hot path of the kernel,
 * driven as hard as this machine allows (or at a paced rate), for a bounded
 * time, and counted by the workload itself.
 *
 *   storm switch [--procs N]           N pairs of processes ping-ponging one byte
 *                                      over two pipes; pair i pinned to CPU i mod
 *                                      ncpu, so every round trip is two context
 *                                      switches on that CPU (ops = round trips)
 *   storm open   [--procs N] [--path P] [--rate R]
 *                                      open(P, O_RDONLY) + close() in a loop
 *                                      (ops = opens); --rate paces all procs
 *                                      together to R opens/s
 *   storm fork   [--procs N] [--exec]  fork + wait (the child _exits), or with
 *                                      --exec fork + execve(this binary, "noop")
 *                                      + wait (ops = children)
 *   storm spin   [--procs N]           N threads of one process burning CPU
 *                                      (ops = loop iterations / 1000)
 *   storm noop                         exit 0 at once (the --exec target)
 *
 * Common options:
 *   --seconds S     how long (default 2)
 *   --cgroup DIR    join cgroup DIR (its cgroup.procs) before any work starts;
 *                   repeat for several hierarchies. The storm is exec'd
 *                   outside the cgroup and joins it itself, so the cgroup sees
 *                   only the storm: its forks, its opens, its exits.
 *
 * It prints one line of key=value pairs on stdout:
 *   storm=open procs=2 seconds=2.0003 ops=2345678 rate=1172661.2
 * Static, so that exec'ing it opens no shared libraries: in an open storm
 * every open is one the loop made.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 256
#define MAX_CGROUPS 8

struct shared {
	volatile int go;
	volatile int stop;
	uint64_t ops[MAX_PROCS];
	int failed;
};

static struct shared *sh;
static unsigned nprocs = 0;
static double seconds = 2;
static double rate;		/* ops/s over all procs; 0 = as fast as possible */
static const char *path = "/dev/null";
static int do_exec;
static char self_exe[4096];

static void die(const char *what)
{
	fprintf(stderr, "storm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = { (time_t)t, (long)((t - (time_t)t) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void pin(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort: cpusets may forbid it */
}

/* a worker must not outlive the storm (killed by a timeout, ^C): it would spin on */
static void die_with_parent(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void wait_go(void)
{
	while (!sh->go)
		sched_yield();
}

/* ---- open ---- */

static void worker_open(unsigned idx)
{
	double per = rate / nprocs, t0;
	unsigned batch = 64;
	uint64_t n = 0;

	if (rate > 0) {
		/* about one batch per millisecond, so pacing stays smooth */
		batch = per / 1000 < 1 ? 1 : (unsigned)(per / 1000);
		if (batch > 64)
			batch = 64;
	}
	wait_go();
	t0 = now_s();
	while (!sh->stop) {
		for (unsigned i = 0; i < batch; i++) {
			int fd = open(path, O_RDONLY);

			if (fd >= 0)
				close(fd);
		}
		n += batch;
		if (rate > 0)
			sleep_until(t0 + n / per);
	}
	sh->ops[idx] = n;
}

/* ---- fork / exec ---- */

static void worker_fork(unsigned idx)
{
	uint64_t n = 0;

	wait_go();
	while (!sh->stop) {
		pid_t c = fork();

		if (c < 0) {
			sh->failed = 1;
			break;
		}
		if (c == 0) {
			if (do_exec) {
				execl(self_exe, "storm", "noop", (char *)NULL);
				_exit(127);
			}
			_exit(0);
		}
		if (waitpid(c, NULL, 0) < 0)
			break;
		n++;
	}
	sh->ops[idx] = n;
}

/* ---- switch ---- */

static void worker_switch(unsigned idx)
{
	int ab[2], ba[2];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t n = 0;
	char c = 0;
	pid_t peer;

	if (pipe(ab) || pipe(ba))
		die("pipe");
	pin(idx % (ncpu > 0 ? ncpu : 1));
	peer = fork();
	if (peer < 0)
		die("fork");
	if (peer == 0) {	/* echo back until the pipe closes */
		die_with_parent();
		close(ab[1]);
		close(ba[0]);
		while (read(ab[0], &c, 1) == 1 && write(ba[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	wait_go();
	while (!sh->stop) {
		for (int i = 0; i < 64; i++) {
			if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1) {
				sh->failed = 1;
				goto out;
			}
		}
		n += 64;
	}
out:
	close(ab[1]);
	close(ba[0]);
	waitpid(peer, NULL, 0);
	sh->ops[idx] = n;
}

/* ---- spin ---- */

static void *spin_thread(void *arg)
{
	unsigned idx = (unsigned)(uintptr_t)arg;
	volatile uint64_t x = 0;
	uint64_t n = 0;

	wait_go();
	while (!sh->stop) {
		for (int i = 0; i < 1000; i++)
			x += i;
		n++;
	}
	sh->ops[idx] = n;
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: storm switch|open|fork|spin|noop [--procs N] [--seconds S] "
			"[--rate R] [--path P] [--exec] [--cgroup DIR]...\n");
	exit(2);
}

static void join_cgroup(const char *dir)
{
	char f[4096];
	int fd;

	snprintf(f, sizeof(f), "%s/cgroup.procs", dir);
	fd = open(f, O_WRONLY);
	if (fd < 0 || write(fd, "0\n", 2) != 2) {
		fprintf(stderr, "storm: cannot join cgroup %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	const char *mode, *cgroups[MAX_CGROUPS];
	unsigned ncg = 0;
	uint64_t total = 0;
	double t0, t1;
	pid_t pids[MAX_PROCS];
	pthread_t threads[MAX_PROCS];

	if (argc < 2)
		usage();
	mode = argv[1];
	if (!strcmp(mode, "noop"))
		return 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			nprocs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (!strcmp(argv[i], "--path") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--exec"))
			do_exec = 1;
		else if (!strcmp(argv[i], "--cgroup") && i + 1 < argc && ncg < MAX_CGROUPS)
			cgroups[ncg++] = argv[++i];
		else
			usage();
	}
	if (!nprocs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		nprocs = n > 0 ? n : 1;
	}
	if (nprocs > MAX_PROCS || seconds <= 0 || rate < 0)
		usage();
	if (readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) < 0)
		die("readlink /proc/self/exe");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	memset(sh, 0, sizeof(*sh));
	for (unsigned i = 0; i < ncg; i++)
		join_cgroup(cgroups[i]);

	if (!strcmp(mode, "spin")) {
		for (unsigned i = 0; i < nprocs; i++)
			if (pthread_create(&threads[i], NULL, spin_thread, (void *)(uintptr_t)i))
				die("pthread_create");
	} else {
		void (*fn)(unsigned);

		if (!strcmp(mode, "open"))
			fn = worker_open;
		else if (!strcmp(mode, "fork"))
			fn = worker_fork;
		else if (!strcmp(mode, "switch"))
			fn = worker_switch;
		else
			usage();
		for (unsigned i = 0; i < nprocs; i++) {
			pids[i] = fork();
			if (pids[i] < 0)
				die("fork");
			if (pids[i] == 0) {
				die_with_parent();
				fn(i);
				/* let a tracer drain what the storm produced before the exits'
				 * own events come: a full ring then drops only the storm's */
				usleep(100000);
				_exit(0);
			}
		}
	}
	usleep(20000);	/* every worker at its start line */
	t0 = now_s();
	sh->go = 1;
	sleep_until(t0 + seconds);
	sh->stop = 1;
	t1 = now_s();
	if (!strcmp(mode, "spin")) {
		for (unsigned i = 0; i < nprocs; i++)
			pthread_join(threads[i], NULL);
	} else {
		for (unsigned i = 0; i < nprocs; i++) {
			int st;

			if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
				sh->failed = 1;
		}
	}
	for (unsigned i = 0; i < nprocs; i++)
		total += sh->ops[i];
	printf("storm=%s procs=%u seconds=%.4f ops=%llu rate=%.1f\n", mode, nprocs, t1 - t0,
	       (unsigned long long)total, total / (t1 - t0));
	if (sh->failed) {
		fprintf(stderr, "storm: a worker failed\n");
		return 1;
	}
	return 0;
}
