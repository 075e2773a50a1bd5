// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - one table describes every setting: its flag, its environment
 * variable, its type and bounds and its help line. Parsing, validation and
 * --help all read the same table, so they cannot disagree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "config.h"

enum kg_opt_type { T_FLAG, T_UINT, T_STR, T_PREFIXES, T_LEVEL, T_EPISODE, T_SYSCALLS, T_NSLIST,
		   T_SELECTION, T_SOCKPATH, T_LISTEN };

struct kg_opt {
	const char *flag;
	const char *env;
	enum kg_opt_type type;
	size_t off;
	unsigned min, max;
	const char *arg;
	const char *help;
};

#define OFF(f) offsetof(struct kg_config, f)

static const struct kg_opt kg_opts[] = {
	{ "--standalone", "KG_STANDALONE", T_FLAG, OFF(standalone), 0, 0, NULL,
	  "run without Kubernetes: write resources as JSON files (the default)" },
	{ "--output-dir", "KG_OUTPUT_DIR", T_STR, OFF(output_dir), 1, sizeof(((struct kg_config *)0)->output_dir) - 1, "DIR",
	  "where standalone mode writes resources (default /var/lib/kernel-gossip)" },
	{ "--track-cgroup", "KG_TRACK_CGROUPS", T_PREFIXES, OFF(prefixes), 0, 0, "PREFIX",
	  "record births of cgroups under PREFIX; repeat, or comma-separate in the variable (default /kubepods,/kubepods.slice)" },
	{ "--log-level", "KG_LOG_LEVEL", T_LEVEL, OFF(log_level), 0, 0, "LEVEL",
	  "error, warn, info or debug (default info)" },
	{ "--birth-quiet-ms", "KG_BIRTH_QUIET_MS", T_UINT, OFF(birth_quiet_ms), 50, 600000, "MS",
	  "a start has settled after this long without exec, fork, open or mount (default 1000)" },
	{ "--birth-ready-ms", "KG_BIRTH_READY_MS", T_UINT, OFF(birth_ready_ms), 0, 600000, "MS",
	  "... or this long after its first successful listen() (default 250)" },
	{ "--birth-max-ms", "KG_BIRTH_MAX_MS", T_UINT, OFF(birth_max_ms), 100, 3600000, "MS",
	  "... or at the latest this long after its cgroup was created (default 30000)" },
	{ "--window-s", "KG_WINDOW_S", T_UINT, OFF(window_s), 1, 3600, "S",
	  "window of a whisper's metrics view and kernel view (default 60)" },
	{ "--sample-ms", "KG_SAMPLE_MS", T_UINT, OFF(sample_ms), 100, 60000, "MS",
	  "how often the kernel's counters are read (default 1000)" },
	{ "--max-births", "KG_MAX_BIRTHS", T_UINT, OFF(max_births), 1, 65536, "N",
	  "container starts recorded at once (default 512, 2.1 KiB of kernel memory each)" },
	{ "--ring-bytes", "KG_RING_BYTES", T_UINT, OFF(ring_bytes), 4096, 1u << 30, "BYTES",
	  "per-CPU ring buffer size, a power of two (default 1048576)" },
	{ "--episode-hook", "KG_EPISODE_HOOK", T_EPISODE, OFF(episode_hook), 0, 0, "HOOK",
	  "how throttle episodes are recorded: auto, fentry or switch (default auto: fentry when the kernel allows it)" },
	{ "--syscall-hooks", "KG_SYSCALL_HOOKS", T_SYSCALLS, OFF(syscall_hooks), 0, 0, "WHEN",
	  "attach the syscall counters only while a start is recorded (birth, default) or always" },
	{ "--kubernetes", "KG_KUBERNETES", T_FLAG, OFF(kubernetes), 0, 0, NULL,
	  "write resources to the Kubernetes API server (in-cluster, or --kubeconfig)" },
	{ "--kubeconfig", "KUBECONFIG", T_STR, OFF(kubeconfig), 1, sizeof(((struct kg_config *)0)->kubeconfig) - 1, "FILE",
	  "out-of-cluster access: the kubeconfig's current context (implies --kubernetes)" },
	{ "--node-name", "NODE_NAME", T_STR, OFF(node_name), 1, 253, "NAME",
	  "this node's name, from the downward API (default: the hostname)" },
	{ "--skip-namespaces", "KG_SKIP_NAMESPACES", T_NSLIST, OFF(skip_ns), 0, 0, "NS,...",
	  "namespaces whose pods get no resources (default kube-system,kube-public,kube-node-lease)" },
	{ "--pod-selection", "KG_POD_SELECTION", T_SELECTION, OFF(pod_selection), 0, 0, "WHICH",
	  "all pods (all, default) or only pods annotated kernel-gossip.io/monitor: \"true\" (annotated)" },
	{ "--api-qps", "KG_API_QPS", T_UINT, OFF(api_qps), 1, 1000, "N",
	  "API requests per second, sustained (default 5, as client-go)" },
	{ "--api-burst", "KG_API_BURST", T_UINT, OFF(api_burst), 1, 1000, "N",
	  "API requests in a burst (default 10)" },
	{ "--kube-insecure-skip-tls-verify", "KG_KUBE_INSECURE", T_FLAG, OFF(kube_insecure), 0, 0, NULL,
	  "do not verify the API server's certificate (never do this in production)" },
	{ "--debug-socket", "KG_DEBUG_SOCKET", T_SOCKPATH, OFF(debug_socket), 0, 0, "PATH",
	  "node-local debug socket for kgctl, root only (default /run/kernel-gossip/debug.sock; off: none)" },
	{ "--metrics-addr", "KG_METRICS_ADDR", T_LISTEN, OFF(metrics_addr), 0, 0, "IP:PORT",
	  "serve /metrics, /healthz and /readyz here (default 127.0.0.1:9090; off: none)" },
	{ "--pin", "KG_PIN", T_FLAG, OFF(pin), 0, 0, NULL,
	  "pin programs and maps under /sys/fs/bpf/kernel-gossip while running (removed at exit)" },
	{ "--help", NULL, T_FLAG, OFF(show_help), 0, 0, NULL, "print this help" },
	{ "--version", NULL, T_FLAG, OFF(show_version), 0, 0, NULL, "print the version" },
};

#define NR_OPTS (sizeof(kg_opts) / sizeof(kg_opts[0]))

void kg_config_defaults(struct kg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->standalone = true;
	snprintf(cfg->output_dir, sizeof(cfg->output_dir), "/var/lib/kernel-gossip");
	snprintf(cfg->prefixes[0], KG_PREFIX_LEN, "/kubepods");
	snprintf(cfg->prefixes[1], KG_PREFIX_LEN, "/kubepods.slice");
	cfg->nr_prefixes = 2;
	cfg->log_level = KG_LOG_INFO;
	cfg->birth_quiet_ms = 1000;
	cfg->birth_ready_ms = 250;
	cfg->birth_max_ms = 30000;
	cfg->window_s = 60;
	cfg->sample_ms = 1000;
	cfg->max_births = 512;
	cfg->ring_bytes = 1u << 20;
	cfg->episode_hook = KG_CHOOSE_AUTO;
	cfg->syscall_hooks = KG_SYSCALLS_BIRTH;
	snprintf(cfg->skip_ns[0], sizeof(cfg->skip_ns[0]), "kube-system");
	snprintf(cfg->skip_ns[1], sizeof(cfg->skip_ns[1]), "kube-public");
	snprintf(cfg->skip_ns[2], sizeof(cfg->skip_ns[2]), "kube-node-lease");
	cfg->nr_skip_ns = 3;
	cfg->pod_selection = KG_PODS_ALL;
	snprintf(cfg->debug_socket, sizeof(cfg->debug_socket), "/run/kernel-gossip/debug.sock");
	snprintf(cfg->metrics_addr, sizeof(cfg->metrics_addr), "127.0.0.1:9090");
	cfg->api_qps = 5;
	cfg->api_burst = 10;
}

/* A Kubernetes namespace name: an RFC 1123 label. */
static bool kg_valid_ns(const char *p, size_t len)
{
	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool alnum = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9');

		if (!alnum && (p[i] != '-' || i == 0 || i == len - 1))
			return false;
	}
	return true;
}

static int kg_bad(char *err, size_t errsz, const struct kg_opt *o, bool from_env, const char *val,
		  const char *why)
{
	snprintf(err, errsz, "invalid %s %s=%s: %s", from_env ? "environment variable" : "flag",
		 from_env ? o->env : o->flag, val, why);
	return -1;
}

static int kg_add_prefix(struct kg_config *cfg, const char *p, size_t len, char *why, size_t whysz)
{
	if (len == 0 || p[0] != '/') {
		snprintf(why, whysz, "a cgroup path prefix starts with '/'");
		return -1;
	}
	if (len >= KG_PREFIX_LEN) {
		snprintf(why, whysz, "longer than %d bytes", KG_PREFIX_LEN - 1);
		return -1;
	}
	if (len > 1 && p[len - 1] == '/') {
		snprintf(why, whysz, "must not end with '/'");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == ',') {
			snprintf(why, whysz, "control characters and ',' are not allowed");
			return -1;
		}
	}
	if (cfg->nr_prefixes >= KG_MAX_PREFIXES) {
		snprintf(why, whysz, "at most %d prefixes", KG_MAX_PREFIXES);
		return -1;
	}
	memcpy(cfg->prefixes[cfg->nr_prefixes], p, len);
	cfg->prefixes[cfg->nr_prefixes][len] = 0;
	cfg->nr_prefixes++;
	return 0;
}

static int kg_set(struct kg_config *cfg, const struct kg_opt *o, const char *val, bool from_env,
		  bool *prefixes_reset, char *err, size_t errsz)
{
	char *base = (char *)cfg + o->off, *end, why[128];
	unsigned long v;

	switch (o->type) {
	case T_FLAG:
		if (!val || !strcmp(val, "1") || !strcmp(val, "true"))
			*(bool *)base = true;
		else if (!strcmp(val, "0") || !strcmp(val, "false"))
			*(bool *)base = false;
		else
			return kg_bad(err, errsz, o, from_env, val, "expected true or false");
		return 0;
	case T_UINT:
		errno = 0;
		/* digits only: strtoul() alone would also take blanks and a sign */
		if (*val < '0' || *val > '9')
			return kg_bad(err, errsz, o, from_env, val, "expected a whole number");
		v = strtoul(val, &end, 10);
		if (errno || *end)
			return kg_bad(err, errsz, o, from_env, val, "expected a whole number");
		if (v < o->min || v > o->max) {
			snprintf(why, sizeof(why), "must be between %u and %u", o->min, o->max);
			return kg_bad(err, errsz, o, from_env, val, why);
		}
		if (o->off == OFF(ring_bytes) && (v & (v - 1)))
			return kg_bad(err, errsz, o, from_env, val, "must be a power of two");
		*(unsigned *)base = v;
		return 0;
	case T_STR:
		if (strlen(val) < o->min)
			return kg_bad(err, errsz, o, from_env, val, "must not be empty");
		if (strlen(val) > o->max)
			return kg_bad(err, errsz, o, from_env, val, "too long");
		strcpy(base, val);
		return 0;
	case T_PREFIXES:
		/* the first prefix given replaces the defaults; later ones add */
		if (!*prefixes_reset) {
			cfg->nr_prefixes = 0;
			memset(cfg->prefixes, 0, sizeof(cfg->prefixes));
			*prefixes_reset = true;
		}
		for (const char *p = val;;) {
			const char *comma = from_env ? strchr(p, ',') : NULL;
			size_t len = comma ? (size_t)(comma - p) : strlen(p);

			if (kg_add_prefix(cfg, p, len, why, sizeof(why)))
				return kg_bad(err, errsz, o, from_env, val, why);
			if (!comma)
				break;
			p = comma + 1;
		}
		return 0;
	case T_NSLIST:
		cfg->nr_skip_ns = 0;
		memset(cfg->skip_ns, 0, sizeof(cfg->skip_ns));
		for (const char *p = val; *val;) {	/* "" skips no namespace */
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);

			if (!kg_valid_ns(p, len))
				return kg_bad(err, errsz, o, from_env, val,
					      "each entry must be a namespace name (RFC 1123 label)");
			if (cfg->nr_skip_ns >= KG_MAX_SKIP_NS)
				return kg_bad(err, errsz, o, from_env, val, "at most 16 namespaces");
			memcpy(cfg->skip_ns[cfg->nr_skip_ns++], p, len);
			if (!comma)
				break;
			p = comma + 1;
		}
		return 0;
	case T_SELECTION:
		if (!strcmp(val, "all"))
			cfg->pod_selection = KG_PODS_ALL;
		else if (!strcmp(val, "annotated"))
			cfg->pod_selection = KG_PODS_ANNOTATED;
		else
			return kg_bad(err, errsz, o, from_env, val, "expected all or annotated");
		return 0;
	case T_SOCKPATH: {
		size_t max = sizeof(((struct kg_config *)0)->debug_socket) - 1;

		if (!strcmp(val, "off")) {
			*base = 0;
			return 0;
		}
		if (val[0] != '/')
			return kg_bad(err, errsz, o, from_env, val,
				      "expected an absolute path or off");
		if (strlen(val) > max) {
			snprintf(why, sizeof(why), "longer than %zu bytes (a Unix socket path)", max);
			return kg_bad(err, errsz, o, from_env, val, why);
		}
		if (val[strlen(val) - 1] == '/')
			return kg_bad(err, errsz, o, from_env, val, "names a directory, not a socket");
		for (const char *c = val; *c; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return kg_bad(err, errsz, o, from_env, val,
					      "control characters are not allowed");
		}
		strcpy(base, val);
		return 0;
	}
	case T_LISTEN: {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (!strcmp(val, "off")) {
			*base = 0;
			return 0;
		}
		if (strlen(val) >= sizeof(((struct kg_config *)0)->metrics_addr) ||
		    kg_parse_listen_addr(val, &ss, &sl))
			return kg_bad(err, errsz, o, from_env, val,
				      "expected IPv4:PORT, [IPv6]:PORT (port 1-65535) or off");
		strcpy(base, val);
		return 0;
	}
	case T_LEVEL:
		if (kg_log_level_parse(val, (enum kg_log_level *)base))
			return kg_bad(err, errsz, o, from_env, val,
				      "expected error, warn, info or debug");
		return 0;
	case T_EPISODE:
		if (!strcmp(val, "auto"))
			*(enum kg_episode_choice *)base = KG_CHOOSE_AUTO;
		else if (!strcmp(val, "fentry"))
			*(enum kg_episode_choice *)base = KG_CHOOSE_FENTRY;
		else if (!strcmp(val, "switch"))
			*(enum kg_episode_choice *)base = KG_CHOOSE_SWITCH;
		else
			return kg_bad(err, errsz, o, from_env, val,
				      "expected auto, fentry or switch");
		return 0;
	case T_SYSCALLS:
		if (!strcmp(val, "birth"))
			*(enum kg_syscall_hooks *)base = KG_SYSCALLS_BIRTH;
		else if (!strcmp(val, "always"))
			*(enum kg_syscall_hooks *)base = KG_SYSCALLS_ALWAYS;
		else
			return kg_bad(err, errsz, o, from_env, val, "expected birth or always");
		return 0;
	}
	return -1;
}

int kg_config_parse(struct kg_config *cfg, int argc, char **argv, kg_getenv_fn env, char *err,
		    size_t errsz)
{
	bool env_prefixes = false, flag_prefixes = false;

	kg_config_defaults(cfg);
	for (size_t i = 0; env && i < NR_OPTS; i++) {
		const char *val = kg_opts[i].env ? env(kg_opts[i].env) : NULL;

		if (val && kg_set(cfg, &kg_opts[i], val, true, &env_prefixes, err, errsz))
			return -1;
	}
	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a], *val = NULL, *eq = strchr(arg, '=');
		size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		const struct kg_opt *o = NULL;

		for (size_t i = 0; i < NR_OPTS; i++) {
			if (strlen(kg_opts[i].flag) == name_len &&
			    !strncmp(kg_opts[i].flag, arg, name_len)) {
				o = &kg_opts[i];
				break;
			}
		}
		if (!o) {
			snprintf(err, errsz, "unknown argument %s (see --help)", arg);
			return -1;
		}
		if (o->type == T_FLAG) {
			val = eq ? eq + 1 : NULL;
		} else if (eq) {
			val = eq + 1;
		} else if (a + 1 < argc) {
			val = argv[++a];
		} else {
			snprintf(err, errsz, "flag %s needs a value (%s)", o->flag, o->arg);
			return -1;
		}
		if (kg_set(cfg, o, val, false, &flag_prefixes, err, errsz))
			return -1;
	}
	if (cfg->kubeconfig[0])
		cfg->kubernetes = true;
	if (cfg->kubernetes)
		cfg->standalone = false;
	if (cfg->nr_prefixes == 0) {
		snprintf(err, errsz, "no cgroup prefix to track (--track-cgroup)");
		return -1;
	}
	return 0;
}

void kg_config_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [OPTIONS]\n\n"
		"kernel-gossip node agent: records what the kernel does for each container\n"
		"(PodBirthCertificate) and the CPU throttling metrics hide (KernelWhisper).\n\n"
		"Every option can also be set by the environment variable shown; the flag wins.\n\n",
		prog);
	for (size_t i = 0; i < NR_OPTS; i++) {
		const struct kg_opt *o = &kg_opts[i];
		char left[64];

		snprintf(left, sizeof(left), "%s%s%s", o->flag, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		if (o->env)
			fprintf(out, "  %-26s %s [$%s]\n", left, o->help, o->env);
		else
			fprintf(out, "  %-26s %s\n", left, o->help);
	}
	fprintf(out, "\nExit codes: 0 clean stop, 1 runtime failure, 2 bad configuration.\n");
}

int kg_parse_listen_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon, *host = s;
	char h[INET6_ADDRSTRLEN + 1], *end;
	size_t hl;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -1;
		host = s + 1;
		hl = close - host;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', colon - s))
			return -1;	/* a bare IPv6 address needs brackets */
		hl = colon - s;
	}
	if (!hl || hl >= sizeof(h) || colon[1] < '1' || colon[1] > '9')
		return -1;
	memcpy(h, host, hl);
	h[hl] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -1;
	if (*s == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, h, &a->sin6_addr) != 1)
			return -1;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, h, &a->sin_addr) != 1)
			return -1;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof(*a);
	}
	return 0;
}
