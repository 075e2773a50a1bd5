/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loader.h - probe the kernel, choose a hook for each concern, load and
 * attach kernel-gossip's BPF programs, and own them until the agent exits.
 *
 * Every choice is reported (which hook, and why not the preferred one), so
 * an operator can tell from the logs and the debug socket what this node
 * can see. Any other failure is fatal and names the program and libbpf's
 * reason.
 */
#ifndef KG_LOADER_H
#define KG_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "cgroupfs.h"
#include "kg_events.h"

struct kernel_gossip;
struct bpf_link;

struct kg_bpf {
	struct kernel_gossip *skel;
	int nr_cpus;		/* possible CPUs: one ring buffer each */
	int *ring_fds;
	enum kg_episode_hook episode_hook;
	char episode_reason[256];
	bool csd_hook;		/* remote-unthrottle IPI hook attached */
	struct bpf_link *sys_links[2];
	unsigned syscall_attaches;	/* how many times the syscall counters were attached */
};

int kg_bpf_open(struct kg_bpf *b, const struct kg_config *cfg, const struct kg_cgroupfs *fs,
		char *err, size_t errsz);
void kg_bpf_close(struct kg_bpf *b);

/* Attach (on) or detach (off) the syscall counters; idempotent. */
int kg_bpf_syscalls(struct kg_bpf *b, bool on);
bool kg_bpf_syscalls_attached(const struct kg_bpf *b);

/* Sum of each kg_counter over CPUs; per_cpu_drops[cpu] (nr_cpus entries) may be NULL. */
int kg_bpf_counters(const struct kg_bpf *b, uint64_t totals[KG_CNT_MAX], uint64_t *per_cpu_drops);

/* Map fds for the engine's periodic reads. */
int kg_bpf_births_fd(const struct kg_bpf *b);
int kg_bpf_sched_fd(const struct kg_bpf *b);
int kg_bpf_cfs_fd(const struct kg_bpf *b);
int kg_bpf_episodes_fd(const struct kg_bpf *b);

const char *kg_episode_hook_name(enum kg_episode_hook h);

#endif /* KG_LOADER_H */
