// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - kernel-gossip-agent: parse the configuration, check that this
 * process may do what the agent needs, run the engine until told to stop.
 *
 * Exit codes: 0 clean stop, 1 runtime failure (no BPF, no cgroups, ...),
 * 2 bad configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "engine.h"
#include "log.h"
#include "ops.h"

/* Capabilities the agent cannot work without, as bits of CapEff. */
#define CAP_DAC_READ_SEARCH 2
#define CAP_SYS_ADMIN 21
#define CAP_PERFMON 38
#define CAP_BPF 39

static int kg_check_caps(char *err, size_t errsz)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	bool bpf_ok, perf_ok, admin;

	if (!f) {
		snprintf(err, errsz, "cannot read /proc/self/status: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	}
	fclose(f);
	admin = eff & (1ULL << CAP_SYS_ADMIN);
	bpf_ok = admin || (eff & (1ULL << CAP_BPF));
	perf_ok = admin || (eff & (1ULL << CAP_PERFMON));
	if (!bpf_ok || !perf_ok) {
		snprintf(err, errsz,
			 "missing capabilities: need CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to "
			 "load tracing programs; run as root or grant them (CapEff=%016llx)",
			 eff);
		return -1;
	}
	if (!(eff & (1ULL << CAP_DAC_READ_SEARCH))) {
		snprintf(err, errsz,
			 "missing capability CAP_DAC_READ_SEARCH: needed to resolve cgroup ids to "
			 "paths (open_by_handle_at) (CapEff=%016llx)",
			 eff);
		return -1;
	}
	return 0;
}

static const char *kg_env(const char *name)
{
	return getenv(name);
}

int main(int argc, char **argv)
{
	static struct kg_config cfg;
	static struct kg_engine engine;
	static struct kg_ops ops;	/* debug socket, /metrics, pins: up after the engine */
	char err[2048];
	int ret;

	if (kg_config_parse(&cfg, argc, argv, kg_env, err, sizeof(err))) {
		fprintf(stderr, "kernel-gossip-agent: %s\n", err);
		return 2;
	}
	if (cfg.show_help) {
		kg_config_usage(stdout, "kernel-gossip-agent");
		return 0;
	}
	if (cfg.show_version) {
		printf("kernel-gossip-agent %s\n", KG_VERSION);
		return 0;
	}
	kg_log_set_level(cfg.log_level);
	if (kg_check_caps(err, sizeof(err))) {
		kg_error("agent.failed", "reason=%s", kg_q(err));
		return 1;
	}
	ret = kg_engine_init(&engine, &cfg, err, sizeof(err));
	if (ret) {
		kg_error("agent.failed", "reason=%s", kg_q(err));
		kg_engine_fini(&engine);
		return 1;
	}
	ret = kg_ops_start(&ops, &engine, &cfg, err, sizeof(err));
	if (ret) {
		kg_error("agent.failed", "reason=%s", kg_q(err));
		kg_ops_stop(&ops);
		kg_engine_fini(&engine);
		return 1;
	}
	ret = kg_engine_run(&engine);
	kg_ops_stop(&ops);	/* socket file removed, HTTP stopped, pins removed */
	kg_engine_fini(&engine);
	return ret ? 1 : 0;
}
