/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - the agent's settings: one flag and one environment variable per
 * setting (the flag wins), validated at start. Parsing is pure (the
 * environment comes through a lookup function) so every bad value has a
 * unit test; main() turns a parse error into a message and exit code 2.
 */
#ifndef KG_CONFIG_H
#define KG_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/socket.h>
#include "kg_events.h"
#include "log.h"

enum kg_episode_choice { KG_CHOOSE_AUTO = 0, KG_CHOOSE_FENTRY, KG_CHOOSE_SWITCH };
enum kg_syscall_hooks { KG_SYSCALLS_BIRTH = 0, KG_SYSCALLS_ALWAYS };
enum kg_pod_selection { KG_PODS_ALL = 0, KG_PODS_ANNOTATED };

#define KG_MAX_SKIP_NS 16

struct kg_config {
	bool standalone;
	char output_dir[1024];
	char prefixes[KG_MAX_PREFIXES][KG_PREFIX_LEN];
	unsigned nr_prefixes;
	enum kg_log_level log_level;
	unsigned birth_quiet_ms;	/* no new exec/fork/open/mount for this long: settled */
	unsigned birth_ready_ms;	/* after the first listen(): settled this much later */
	unsigned birth_max_ms;		/* a birth never stays open longer */
	unsigned window_s;		/* whisper window: metrics view and kernel view */
	unsigned sample_ms;		/* how often kernel maps are read */
	unsigned max_births;
	unsigned ring_bytes;		/* per-CPU ring buffer size, power of two */
	enum kg_episode_choice episode_hook;
	enum kg_syscall_hooks syscall_hooks;
	/* Kubernetes */
	bool kubernetes;		/* write resources to the API server */
	char kubeconfig[1024];		/* out of cluster; empty: in-cluster */
	char node_name[254];
	char skip_ns[KG_MAX_SKIP_NS][64];
	unsigned nr_skip_ns;
	enum kg_pod_selection pod_selection;
	unsigned api_qps, api_burst;
	bool kube_insecure;		/* explicit opt-out of TLS verification */
	/* operability */
	char debug_socket[108];		/* Unix socket path; "" when off */
	char metrics_addr[64];		/* IP:port of /metrics, /healthz, /readyz; "" when off */
	bool pin;			/* pin programs and maps under /sys/fs/bpf/kernel-gossip */
	bool show_help;
	bool show_version;
};

/* Returns the value of an environment variable, or NULL. */
typedef const char *(*kg_getenv_fn)(const char *name);

void kg_config_defaults(struct kg_config *cfg);

/*
 * Parse flags over the environment over the defaults. Returns 0, or -1 with
 * a one-line explanation naming the flag or variable in err.
 */
int kg_config_parse(struct kg_config *cfg, int argc, char **argv, kg_getenv_fn env, char *err,
		    size_t errsz);

void kg_config_usage(FILE *out, const char *prog);

/* "IPv4:port" or "[IPv6]:port" (an address literal: no name lookups) into a socket address. */
int kg_parse_listen_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif /* KG_CONFIG_H */
