// SPDX-License-Identifier: GPL-2.0
/*
 * floor - attach one empty program (bench/floor.bpf.c) and hold it until
 * SIGINT or SIGTERM: the floor the agent's programs are compared with.
 *
 *   floor switch     tp_btf/sched_switch
 *   floor syscall    tp_btf/sys_enter
 *
 * Exits 1, saying why, if the program cannot load or attach.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "bench_floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_program *want, *other;
	struct bench_floor *skel;
	struct bpf_link *link;
	int err;

	if (argc != 2 || (strcmp(argv[1], "switch") && strcmp(argv[1], "syscall"))) {
		fprintf(stderr, "usage: floor switch|syscall\n");
		return 2;
	}
	skel = bench_floor__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	want = strcmp(argv[1], "switch") ? skel->progs.floor_sys_enter : skel->progs.floor_switch;
	other = strcmp(argv[1], "switch") ? skel->progs.floor_switch : skel->progs.floor_sys_enter;
	bpf_program__set_autoload(other, false);
	err = bench_floor__load(skel);
	if (err) {
		fprintf(stderr, "floor: BPF load failed: %s\n", strerror(-err));
		return 1;
	}
	link = bpf_program__attach(want);
	if (!link) {
		fprintf(stderr, "floor: attach failed: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("floor: %s attached\n", bpf_program__name(want));
	fflush(stdout);
	while (!stop)
		pause();
	bpf_link__destroy(link);
	bench_floor__destroy(skel);
	return 0;
}
