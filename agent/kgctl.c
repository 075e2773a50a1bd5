// SPDX-License-Identifier: GPL-2.0
/*
 * kgctl - ask a running kernel-gossip agent what it sees, through its
 * node-local debug socket (agent/debug_proto.h), or read what a standalone
 * agent wrote (--dir).
 *
 *   kgctl status | top | births | whispers | explain POD | watch | raw LINE
 *   kgctl --dir DIR births | whispers | get (birth|whisper) NAME
 *
 * Human tables by default, the agent's JSON with -o json. Exit codes: 0, 1
 * (no agent, refused, an error answer), 2 (usage).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "json_util.h"

#define KG_DEFAULT_SOCKET "/run/kernel-gossip/debug.sock"

static bool kg_json_out;
static const char *kg_socket_path;

/* ---- JSON access ---- */

static json_object *kg_get(json_object *o, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (!json_object_object_get_ex(o, tok, &o))
			return NULL;
	}
	return o;
}

static const char *kg_str(json_object *o, const char *path)
{
	json_object *v = kg_get(o, path);

	return v ? json_object_get_string(v) : "-";
}

static const char *kg_str_or(json_object *o, const char *path, const char *dflt)
{
	json_object *v = kg_get(o, path);

	return v ? json_object_get_string(v) : dflt;
}

static int64_t kg_int(json_object *o, const char *path)
{
	json_object *v = kg_get(o, path);

	return v ? json_object_get_int64(v) : 0;
}

static double kg_dbl(json_object *o, const char *path)
{
	json_object *v = kg_get(o, path);

	return v ? json_object_get_double(v) : 0;
}

static bool kg_bool(json_object *o, const char *path)
{
	json_object *v = kg_get(o, path);

	return v && json_object_get_boolean(v);
}

static size_t kg_len(json_object *o, const char *path)
{
	json_object *v = kg_get(o, path);

	return v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

static json_object *kg_at(json_object *o, const char *path, size_t i)
{
	return json_object_array_get_idx(kg_get(o, path), i);
}

/* Cut s to n columns (bytes; the agent's strings are ASCII) with "…" as "~". */
static const char *kg_cut(const char *s, size_t n)
{
	static char ring[8][512];
	static unsigned next;
	char *out = ring[next++ % 8];

	if (!s)
		s = "-";
	if (n >= sizeof(ring[0]))
		n = sizeof(ring[0]) - 1;
	if (strlen(s) <= n)
		return s;
	snprintf(out, n + 1, "%s", s);
	out[n - 1] = '~';
	return out;
}

/* ---- the socket ---- */

static int kg_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(kg_socket_path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "kgctl: socket path too long: %s\n", kg_socket_path);
		return -1;
	}
	memcpy(a.sun_path, kg_socket_path, strlen(kg_socket_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "kgctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
		return fd;
	if (errno == EACCES || errno == EPERM)
		fprintf(stderr,
			"kgctl: permission denied on %s: the agent's debug socket is for root; "
			"run kgctl as root (sudo kgctl ...)\n",
			kg_socket_path);
	else if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
		fprintf(stderr,
			"kgctl: no agent is listening on %s (%s): is the agent running? Its "
			"--debug-socket / KG_DEBUG_SOCKET sets the path; point kgctl at it with "
			"--socket PATH (or read a standalone agent's files with --dir DIR)\n",
			kg_socket_path, strerror(errno));
	else
		fprintf(stderr, "kgctl: cannot connect to %s: %s\n", kg_socket_path,
			strerror(errno));
	close(fd);
	return -1;
}

struct kg_conn {
	int fd;
	FILE *in;
};

static int kg_open(struct kg_conn *c)
{
	c->fd = kg_connect();
	if (c->fd < 0)
		return -1;
	c->in = fdopen(dup(c->fd), "r");
	if (!c->in) {
		close(c->fd);
		return -1;
	}
	return 0;
}

static void kg_close(struct kg_conn *c)
{
	if (c->in)
		fclose(c->in);
	close(c->fd);
}

/* 0, or -errno (not reported: the agent may have said why it hung up). */
static int kg_send(struct kg_conn *c, const char *line)
{
	size_t n = strlen(line), off = 0;

	while (off < n) {
		ssize_t w = send(c->fd, line + off, n - off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += w;
	}
	return 0;
}

/* One line from the agent (malloc'd, newline removed), or NULL at EOF. */
static char *kg_recv_line(struct kg_conn *c)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, c->in);

	if (n <= 0) {
		free(line);
		return NULL;
	}
	if (line[n - 1] == '\n')
		line[n - 1] = 0;
	return line;
}

static bool kg_is_refusal(const char *msg)
{
	return !strncmp(msg, "permission denied", 17);
}

/* The agent's answer to one request; NULL (after saying why) on any failure. */
static json_object *kg_request(const char *req, char **raw)
{
	struct kg_conn c;
	json_object *resp, *err;
	char *line;

	int sent;

	if (kg_open(&c))
		return NULL;
	/* a refused client is told why, then disconnected: read that even if sending failed */
	sent = kg_send(&c, req);
	line = kg_recv_line(&c);
	kg_close(&c);
	if (!line) {
		if (sent)
			fprintf(stderr, "kgctl: sending to %s: %s\n", kg_socket_path, strerror(-sent));
		else
			fprintf(stderr, "kgctl: the agent closed the connection without answering\n");
		return NULL;
	}
	resp = json_tokener_parse(line);
	if (!resp) {
		fprintf(stderr, "kgctl: not JSON from the agent: %.200s\n", line);
		free(line);
		return NULL;
	}
	if (json_object_object_get_ex(resp, "error", &err)) {
		const char *msg = json_object_get_string(err);

		if (kg_is_refusal(msg))
			fprintf(stderr, "kgctl: the agent refused: %s; run kgctl as root\n", msg);
		else
			fprintf(stderr, "kgctl: %s\n", msg);
		json_object_put(resp);
		free(line);
		return NULL;
	}
	if (raw)
		*raw = line;
	else
		free(line);
	return resp;
}

static void kg_print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- status ---- */

static void kg_duration(double s, char *buf, size_t bufsz)
{
	long t = (long)s;

	if (t >= 86400)
		snprintf(buf, bufsz, "%ldd%02ldh%02ldm", t / 86400, t % 86400 / 3600, t % 3600 / 60);
	else if (t >= 3600)
		snprintf(buf, bufsz, "%ldh%02ldm%02lds", t / 3600, t % 3600 / 60, t % 60);
	else if (t >= 60)
		snprintf(buf, bufsz, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, bufsz, "%.1fs", s);
}

static void kg_print_status(json_object *st)
{
	static const char *const concerns[][2] = {
		{ "cgroupLifecycle", "cgroup lifecycle" }, { "processes", "processes" },
		{ "syscalls", "syscalls" }, { "scheduler", "scheduler" },
		{ "throttleCounters", "throttle counters" },
		{ "throttleEpisodes", "throttle episodes" },
		{ "remoteUnthrottle", "remote unthrottle" },
	};
	json_object *v;
	char up[32], path[64];

	kg_duration(kg_dbl(st, "uptimeSeconds"), up, sizeof(up));
	printf("kernel-gossip %s   mode %s   node %s   up %s   %s\n", kg_str(st, "version"),
	       kg_str(st, "mode"), kg_str(st, "node"), up,
	       kg_bool(st, "ready.ready") ? "ready" : "NOT READY");
	if (!kg_bool(st, "ready.ready"))
		printf("  waiting for: %s\n", kg_str(st, "ready.waitingFor"));
	printf("kernel %s (%s), BTF %s (%s)\n", kg_str(st, "kernel.release"),
	       kg_str(st, "kernel.machine"), kg_str(st, "btf.path"), kg_str(st, "btf.source"));
	printf("API server: %s\n", kg_str(st, "apiServer.state"));
	if (kg_get(st, "apiServer.queueDepth"))
		printf("  queue %lld, requests %lld (2xx %lld, 4xx %lld, 5xx %lld, no answer %lld), "
		       "applied %lld, retries %lld, dropped %lld\n",
		       (long long)kg_int(st, "apiServer.queueDepth"),
		       (long long)kg_int(st, "apiServer.requests"),
		       (long long)kg_int(st, "apiServer.responses.2xx"),
		       (long long)kg_int(st, "apiServer.responses.4xx"),
		       (long long)kg_int(st, "apiServer.responses.5xx"),
		       (long long)kg_int(st, "apiServer.responses.transportErrors"),
		       (long long)kg_int(st, "apiServer.applied"),
		       (long long)kg_int(st, "apiServer.retries"),
		       (long long)kg_int(st, "apiServer.dropped"));

	printf("\nhooks (what this kernel allowed, and why):\n");
	for (size_t i = 0; i < sizeof(concerns) / sizeof(concerns[0]); i++) {
		snprintf(path, sizeof(path), "hooks.%s", concerns[i][0]);
		v = kg_get(st, path);
		if (!v)
			continue;
		printf("  %-18s %-13s %s%s%s\n", concerns[i][1],
		       kg_bool(v, "attachedNow") ? "attached" : "not attached", kg_str(v, "hook"),
		       kg_get(v, "mode") && strcmp(kg_str(v, "mode"), kg_str(v, "hook")) ? "   mode: "
											 : "",
		       kg_get(v, "mode") && strcmp(kg_str(v, "mode"), kg_str(v, "hook"))
			       ? kg_str(v, "mode")
			       : "");
		printf("  %-18s %-13s why: %s\n", "", "", kg_str(v, "why"));
	}
	printf("\nprograms%s:\n", kg_bool(st, "bpfStatsEnabled")
					? ""
					: " (run time needs sysctl kernel.bpf_stats_enabled=1)");
	printf("  %-6s %-17s %-14s %-30s %-10s %12s %12s\n", "ID", "NAME", "TYPE", "SECTION",
	       "ATTACHED", "RUNS", "RUN-TIME-MS");
	for (size_t i = 0; i < kg_len(st, "programs"); i++) {
		json_object *p = kg_at(st, "programs", i);
		char id[16] = "-", runs[24] = "-", ms[24] = "-";

		if (kg_bool(p, "loaded"))
			snprintf(id, sizeof(id), "%lld", (long long)kg_int(p, "id"));
		if (kg_get(p, "runCount")) {
			snprintf(runs, sizeof(runs), "%lld", (long long)kg_int(p, "runCount"));
			snprintf(ms, sizeof(ms), "%.3f", kg_int(p, "runTimeNs") / 1e6);
		}
		printf("  %-6s %-17s %-14s %-30s %-10s %12s %12s\n", id, kg_str(p, "name"),
		       kg_str(p, "type"), kg_cut(kg_str(p, "section"), 30),
		       !kg_bool(p, "loaded") ? "not loaded" : kg_bool(p, "attached") ? "yes" : "no",
		       runs, ms);
	}
	printf("\nring buffers: %lld events (%lld malformed), %lld dropped; per CPU:",
	       (long long)kg_int(st, "ring.events"), (long long)kg_int(st, "ring.malformed"),
	       (long long)kg_int(st, "ring.dropsTotal"));
	for (size_t i = 0; i < kg_len(st, "ring.dropsPerCpu"); i++)
		printf(" %lld", (long long)json_object_get_int64(kg_at(st, "ring.dropsPerCpu", i)));
	printf("; %lld bytes each\n", (long long)kg_int(st, "ring.bytesPerCpu"));
	v = kg_get(st, "kernelCounters");
	if (v) {
		int n = 0;

		printf("kernel counters:");
		json_object_object_foreach(v, key, val)
		{
			printf("%s %s %s", n++ ? "," : "", key, json_object_get_string(val));
		}
		printf("\n");
	}
	printf("births: %lld open, %lld recorded, %lld discarded, %lld orphaned, %lld refused\n",
	       (long long)kg_int(st, "births.open"), (long long)kg_int(st, "births.recorded"),
	       (long long)kg_int(st, "births.discarded"), (long long)kg_int(st, "births.orphaned"),
	       (long long)kg_int(st, "births.refused"));
	printf("tracking: %lld cgroups, %lld pods, %lld cgroups with a CPU quota\n",
	       (long long)kg_int(st, "tracking.cgroups"), (long long)kg_int(st, "tracking.pods"),
	       (long long)kg_int(st, "tracking.throttleCgroups"));
	printf("resources: %lld written (%lld certificates, %lld whispers), %lld unchanged, %lld "
	       "errors\n",
	       (long long)kg_int(st, "resources.written"),
	       (long long)kg_int(st, "resources.writtenByKind.PodBirthCertificate"),
	       (long long)kg_int(st, "resources.writtenByKind.KernelWhisper"),
	       (long long)kg_int(st, "resources.unchanged"), (long long)kg_int(st, "resources.errors"));
	printf("debug socket: %s, %lld clients, %lld watching; refused/dropped:",
	       kg_str(st, "debugSocket.path"), (long long)kg_int(st, "debugSocket.clients"),
	       (long long)kg_int(st, "debugSocket.watchers"));
	v = kg_get(st, "debugSocket.dropped");
	if (v) {
		json_object_object_foreach(v, key, val)
		{
			printf(" %s %s", key, json_object_get_string(val));
		}
	}
	printf("; watch events dropped %lld\n", (long long)kg_int(st, "debugSocket.watchEventsDropped"));
	printf("metrics: %s", kg_str(st, "http.addr"));
	if (kg_get(st, "http.scrapes"))
		printf(" (%lld scrapes)", (long long)kg_int(st, "http.scrapes"));
	if (kg_bool(st, "pins.enabled"))
		printf("   pins: %s (%lld programs, %lld maps)\n", kg_str(st, "pins.dir"),
		       (long long)kg_int(st, "pins.programs"), (long long)kg_int(st, "pins.maps"));
	else
		printf("   pins: off\n");
	if (kg_int(st, "log.suppressed"))
		printf("log lines suppressed (repeated errors): %lld\n",
		       (long long)kg_int(st, "log.suppressed"));
}

/* ---- top ---- */

static const char *kg_who(json_object *o)
{
	static char buf[8][96];
	static unsigned next;
	char *b = buf[next++ % 8];
	const char *uid = kg_str_or(o, "podUID", NULL);

	if (uid)
		snprintf(b, 96, "pod-%s", uid);
	else
		snprintf(b, 96, "%s", kg_cut(kg_str_or(o, "path", kg_str_or(o, "cgroup", "-")), 44));
	return b;
}

static int kg_cmp_thr(const void *a, const void *b)
{
	double x = kg_dbl(*(json_object *const *)a, "window.throttledPercent");
	double y = kg_dbl(*(json_object *const *)b, "window.throttledPercent");

	return x < y ? 1 : x > y ? -1 : 0;
}

static void kg_print_top(json_object *v)
{
	size_t n = kg_len(v, "cgroups"), nt = kg_len(v, "throttling"), open = 0;
	json_object **rows;
	char now[64], up[32];
	time_t t = time(NULL);

	strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
	kg_duration(kg_dbl(v, "uptimeSeconds"), up, sizeof(up));
	printf("kgctl top - %s   agent up %s   %lld cgroups tracked, %lld starts being recorded, "
	       "%zu with a CPU quota\n\n",
	       now, up, (long long)n, (long long)kg_int(v, "openBirths"), nt);
	printf("STARTING NOW\n%-44s %-12s %9s %9s %6s %6s %6s  %s\n", "POD / CGROUP", "CONTAINER",
	       "OPEN-MS", "SYSCALLS", "EXECS", "PROCS", "OPENS", "LAST EXEC");
	for (size_t i = 0; i < n; i++) {
		json_object *c = kg_at(v, "cgroups", i), *b = kg_get(c, "birth");

		if (!b)
			continue;
		open++;
		printf("%-44s %-12.12s %9.0f %9lld %6lld %6lld %6lld  %s\n", kg_who(c),
		       kg_str_or(c, "containerID", "-"), kg_dbl(b, "openForMs"),
		       (long long)kg_int(b, "syscalls"), (long long)kg_int(b, "execs"),
		       (long long)kg_int(b, "processes"), (long long)kg_int(b, "opens"),
		       kg_cut(kg_str_or(b, "lastExec", "-"), 40));
	}
	if (!open)
		printf("  (none)\n");
	printf("\nCPU THROTTLING (over the sample window, most throttled first)\n"
	       "%-44s %-12s %7s %8s %9s %6s %10s %9s\n",
	       "POD / CGROUP", "CONTAINER", "LIMIT", "PERIODS", "THROTTLED", "THR%", "THR-MS",
	       "AVG-USE");
	rows = calloc(nt ? nt : 1, sizeof(*rows));
	for (size_t i = 0; rows && i < nt; i++)
		rows[i] = kg_at(v, "throttling", i);
	if (rows)
		qsort(rows, nt, sizeof(*rows), kg_cmp_thr);
	for (size_t i = 0; rows && i < nt; i++) {
		json_object *c = rows[i];
		char limit[16] = "-", use[16] = "-";

		if (kg_get(c, "limitMillicores"))
			snprintf(limit, sizeof(limit), "%.0fm", kg_dbl(c, "limitMillicores"));
		if (kg_get(c, "window.averageMillicores"))
			snprintf(use, sizeof(use), "%.0fm", kg_dbl(c, "window.averageMillicores"));
		printf("%-44s %-12.12s %7s %8lld %9lld %6.1f %10.1f %9s\n", kg_who(c),
		       kg_str_or(c, "containerID", "-"), limit,
		       (long long)kg_int(c, "window.periods"),
		       (long long)kg_int(c, "window.throttledPeriods"),
		       kg_dbl(c, "window.throttledPercent"), kg_dbl(c, "window.throttledMs"), use);
	}
	if (!nt)
		printf("  (no cgroup with a CPU quota)\n");
	free(rows);
}

static volatile sig_atomic_t kg_stop;

static void kg_on_signal(int sig)
{
	kg_stop = 1;
}

static int kg_cmd_top(int iterations, double interval)
{
	bool tty = isatty(STDOUT_FILENO);

	signal(SIGINT, kg_on_signal);
	signal(SIGTERM, kg_on_signal);
	for (int i = 0; !kg_stop && (iterations <= 0 || i < iterations); i++) {
		json_object *r = kg_request("{\"cmd\":\"cgroups\"}\n", NULL);
		struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };

		if (!r)
			return 1;
		if (tty)
			printf("\033[H\033[2J");
		if (kg_json_out)
			kg_print_json(kg_get(r, "cgroups"));
		else
			kg_print_top(kg_get(r, "cgroups"));
		fflush(stdout);
		json_object_put(r);
		if (iterations > 0 && i + 1 >= iterations)
			break;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ---- births, whispers ---- */

static const char *kg_headline(json_object *doc)
{
	json_object *in = kg_get(doc, "status.insights");

	if (!in || !json_object_array_length(in))
		return "-";
	return kg_str(json_object_array_get_idx(in, 0), "headline");
}

static void kg_print_recent(json_object *v, bool whispers)
{
	size_t n = kg_len(v, "items");

	if (whispers)
		printf("%-53s %-9s %8s %9s %6s %8s  %s\n", "NAME", "SEVERITY", "PERIODS", "THROTTLED",
		       "THR%", "AVG-USE%", "SUMMARY");
	else
		printf("%-46s %-9s %9s %4s %11s  %s\n", "NAME", "SEVERITY", "SYSCALLS", "CTRS",
		       "DURATION-MS", "HEADLINE");
	for (size_t i = 0; i < n; i++) {
		json_object *it = kg_at(v, "items", i), *doc = kg_get(it, "document");
		json_object *in = kg_get(doc, "status.insights");
		const char *sev = in && json_object_array_length(in)
					  ? kg_str(json_object_array_get_idx(in, 0), "severity")
					  : "-";

		if (whispers)
			printf("%-53s %-9s %8s %9s %6s %8s  %s\n", kg_str(it, "name"), sev,
			       kg_str(doc, "status.kernelTruth.periods"),
			       kg_str(doc, "status.kernelTruth.throttledPeriods"),
			       kg_str(doc, "status.kernelTruth.throttledPercent"),
			       kg_str(doc, "status.metricsView.averageUtilizationPercent"),
			       kg_str(doc, "status.summary"));
		else
			printf("%-46s %-9s %9s %4s %11s  %s\n", kg_str(it, "name"), sev,
			       kg_str(doc, "status.syscalls.total"), kg_str(doc, "status.containerCount"),
			       kg_str(doc, "status.durationMs"), kg_headline(doc));
	}
	if (!n)
		printf("(none written since the agent started; kept: the last %lld)\n",
		       (long long)kg_int(v, "max"));
}

/* ---- explain ---- */

static void kg_print_insight(json_object *in)
{
	printf("  [%s] %s\n", kg_str(in, "severity"), kg_str(in, "headline"));
	if (kg_get(in, "impact"))
		printf("      impact: %s\n", kg_str(in, "impact"));
	if (kg_get(in, "recommendation"))
		printf("      advice: %s\n", kg_str(in, "recommendation"));
	if (kg_len(in, "evidence")) {
		printf("      evidence:");
		for (size_t e = 0; e < kg_len(in, "evidence"); e++) {
			json_object *x = kg_at(in, "evidence", e);

			printf("%s %s=%s %s", e ? "," : "", kg_str(x, "name"), kg_str(x, "value"),
			       kg_str(x, "unit"));
		}
		printf("\n");
	}
}

static void kg_print_explain(json_object *v)
{
	size_t nr = kg_len(v, "resources");
	json_object *live = kg_get(v, "live");

	printf("pod %s", kg_str(v, "pod"));
	if (kg_get(v, "podUID") && strcmp(kg_str(v, "podUID"), kg_str(v, "pod")))
		printf(" (uid %s)", kg_str(v, "podUID"));
	if (kg_get(v, "namespace"))
		printf(" = %s/%s", kg_str(v, "namespace"), kg_str(v, "name"));
	printf("\n");
	for (size_t i = 0; i < nr; i++) {
		json_object *r = kg_at(v, "resources", i);
		size_t ni = kg_len(r, "insights");

		printf("\n%s %s (%s%s%s)\n", kg_str(r, "kind"), kg_str(r, "name"),
		       kg_get(r, "writtenAt") ? "written " : "from ",
		       kg_get(r, "writtenAt") ? kg_str(r, "writtenAt") : kg_str(r, "source"),
		       kg_get(r, "writtenAt") ? "" : " the output directory");
		if (kg_get(r, "summary"))
			printf("  %s\n", kg_str(r, "summary"));
		if (kg_get(r, "syscalls.total"))
			printf("  %s syscalls in %s ms\n", kg_str(r, "syscalls.total"),
			       kg_str(r, "durationMs"));
		for (size_t k = 0; k < ni; k++)
			kg_print_insight(kg_at(r, "insights", k));
		if (!ni)
			printf("  no insight: nothing to flag\n");
		for (size_t k = 0; k < kg_len(r, "conditions"); k++) {
			json_object *c = kg_at(r, "conditions", k);

			printf("  condition %s=%s (%s): %s\n", kg_str(c, "type"), kg_str(c, "status"),
			       kg_str(c, "reason"), kg_str(c, "message"));
		}
	}
	if (!nr)
		printf("\nno certificate or whisper about it since the agent started\n");
	if (live) {
		size_t nc = kg_len(live, "cgroups"), nt = kg_len(live, "throttling");

		printf("\nnow: %zu tracked cgroup(s)", nc);
		for (size_t i = 0; i < nc; i++) {
			json_object *b = kg_get(kg_at(live, "cgroups", i), "birth");

			if (b)
				printf("; a start being recorded for %.0f ms (%lld syscalls so far)",
				       kg_dbl(b, "openForMs"), (long long)kg_int(b, "syscalls"));
		}
		printf("\n");
		for (size_t i = 0; i < nt; i++) {
			json_object *t = kg_at(live, "throttling", i);

			printf("  %s: throttled in %lld of %lld periods (%.1f %%) over the last %.0f s, "
			       "%.1f ms held\n",
			       kg_cut(kg_str(t, "path"), 100), (long long)kg_int(t, "window.throttledPeriods"),
			       (long long)kg_int(t, "window.periods"),
			       kg_dbl(t, "window.throttledPercent"), kg_dbl(t, "window.seconds"),
			       kg_dbl(t, "window.throttledMs"));
		}
	}
}

/* ---- watch ---- */

static void kg_print_event(json_object *ev)
{
	const char *type = kg_str(ev, "event"), *ts = kg_str_or(ev, "ts", "");
	const char *t = strchr(ts, 'T');
	char clock[16];

	snprintf(clock, sizeof(clock), "%.12s", t ? t + 1 : ts);
	if (!strcmp(type, "birth.opened"))
		printf("%s %-20s %s (%s)\n", clock, type, kg_str(ev, "cgroup"), kg_str(ev, "kind"));
	else if (!strcmp(type, "birth.settled"))
		printf("%s %-20s %s: %s syscalls, %s execs in %s ms, settled by %s, entrypoint %s\n",
		       clock, type, kg_str(ev, "cgroup"), kg_str(ev, "syscalls"), kg_str(ev, "execs"),
		       kg_str(ev, "durationMs"), kg_str(ev, "settledBy"), kg_str(ev, "entrypoint"));
	else if (!strcmp(type, "certificate.written") || !strcmp(type, "whisper.written"))
		printf("%s %-20s %s: %s\n", clock, type, kg_str(ev, "name"),
		       kg_str_or(ev, "summary", kg_str_or(ev, "headline", "-")));
	else if (!strcmp(type, "ring.drops"))
		printf("%s %-20s %s new, %s in total (raise --ring-bytes)\n", clock, type,
		       kg_str(ev, "new"), kg_str(ev, "total"));
	else if (!strcmp(type, "watch.dropped"))
		printf("%-12s %-20s %s events lost: kgctl read too slowly\n", "", type,
		       kg_str(ev, "count"));
	else
		printf("%s %-20s %s\n", clock, type,
		       json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
}

static int kg_cmd_watch(long count)
{
	struct kg_conn c;
	json_object *r;
	char *line;
	long seen = 0;

	if (kg_open(&c))
		return 1;
	kg_send(&c, "{\"cmd\":\"watch\"}\n");	/* a refusal is read below */
	line = kg_recv_line(&c);
	r = line ? json_tokener_parse(line) : NULL;
	if (!r || kg_get(r, "error")) {
		fprintf(stderr, "kgctl: %s\n", r ? kg_str(r, "error") : "no answer to watch");
		json_object_put(r);
		free(line);
		kg_close(&c);
		return 1;
	}
	json_object_put(r);
	free(line);
	if (!kg_json_out)
		fprintf(stderr, "watching %s (Ctrl-C to stop)\n", kg_socket_path);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((count <= 0 || seen < count) && (line = kg_recv_line(&c))) {
		if (kg_json_out) {
			printf("%s\n", line);
		} else {
			json_object *ev = json_tokener_parse(line);

			if (ev)
				kg_print_event(ev);
			json_object_put(ev);
		}
		free(line);
		seen++;
	}
	kg_close(&c);
	return 0;
}

/* ---- --dir: a standalone agent's files ---- */

static int kg_list(const char *dir, const char *plural, int whispers)
{
	char p[4096];
	struct dirent *de;
	DIR *d;

	snprintf(p, sizeof(p), "%s/%s", dir, plural);
	d = opendir(p);
	if (!d) {
		fprintf(stderr, "kgctl: cannot read %s: %s (is the agent running with --output-dir %s?)\n",
			p, strerror(errno), dir);
		return 1;
	}
	if (whispers)
		printf("%-44s %9s %9s %10s %12s  %s\n", "NAME", "PERIODS", "THROTTLED", "THROTTLED%",
		       "AVG-USE%", "CGROUP");
	else
		printf("%-52s %9s %6s %6s %11s  %s\n", "NAME", "SYSCALLS", "EXECS", "OPENS",
		       "DURATION-MS", "SETTLED-BY");
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		json_object *doc;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(p, sizeof(p), "%s/%s/%s", dir, plural, de->d_name);
		doc = kg_json_read_file(p);
		if (!doc) {
			fprintf(stderr, "kgctl: %s: not valid JSON\n", p);
			continue;
		}
		if (whispers)
			printf("%-44s %9s %9s %10s %12s  %s\n", kg_str(doc, "metadata.name"),
			       kg_str(doc, "status.kernelTruth.periods"),
			       kg_str(doc, "status.kernelTruth.throttledPeriods"),
			       kg_str(doc, "status.kernelTruth.throttledPercent"),
			       kg_str(doc, "status.metricsView.averageUtilizationPercent"),
			       kg_str(doc, "spec.cgroupPath"));
		else
			printf("%-52s %9s %6s %6s %11s  %s\n", kg_str(doc, "metadata.name"),
			       kg_str(doc, "status.syscalls.total"), kg_str(doc, "status.execs.total"),
			       kg_str(doc, "status.files.opened"), kg_str(doc, "status.durationMs"),
			       kg_str(json_object_array_get_idx(kg_get(doc, "status.containers"), 0),
				      "settledBy"));
		json_object_put(doc);
	}
	closedir(d);
	return 0;
}

static int kg_dir_mode(const char *dir, int argc, char **argv, int a)
{
	if (a < argc && !strcmp(argv[a], "births"))
		return kg_list(dir, "podbirthcertificates", 0);
	if (a < argc && !strcmp(argv[a], "whispers"))
		return kg_list(dir, "kernelwhispers", 1);
	if (a + 2 < argc && !strcmp(argv[a], "get")) {
		char p[4096];
		const char *plural = !strcmp(argv[a + 1], "whisper") ? "kernelwhispers"
								     : "podbirthcertificates";
		json_object *doc;

		if (strchr(argv[a + 2], '/')) {
			fprintf(stderr, "kgctl: invalid name\n");
			return 2;
		}
		snprintf(p, sizeof(p), "%s/%s/%s.json", dir, plural, argv[a + 2]);
		doc = kg_json_read_file(p);
		if (!doc) {
			fprintf(stderr, "kgctl: cannot read %s: %s\n", p, strerror(errno));
			return 1;
		}
		kg_print_json(doc);
		json_object_put(doc);
		return 0;
	}
	fprintf(stderr, "kgctl: with --dir: births, whispers or get (birth|whisper) NAME\n");
	return 2;
}

/* ---- main ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: kgctl [--socket PATH] [-o table|json] COMMAND\n"
		"       kgctl --dir DIR births | whispers | get (birth|whisper) NAME\n\n"
		"Ask the running agent, through its debug socket (root only):\n"
		"  status                 version, kernel, the hook chosen for each concern and why,\n"
		"                         programs, ring-buffer drops per CPU, API server, health\n"
		"  top [-n N] [-d SEC]    live view, refreshed every SEC (default 2) seconds: starts\n"
		"                         being recorded and CPU throttling per cgroup\n"
		"  births [N]             the last PodBirthCertificates written\n"
		"  whispers [N]           the last KernelWhispers written\n"
		"  explain POD            why a pod is flagged (uid, name or namespace/name)\n"
		"  watch [--count N]      stream events: starts opened/settled, resources, drops\n"
		"  raw LINE               send one request line as is, print the answer\n\n"
		"  --socket PATH   the agent's --debug-socket (default $KG_DEBUG_SOCKET, else %s)\n"
		"  -o json         the agent's JSON instead of tables\n"
		"  --dir DIR       read a standalone agent's --output-dir instead (no socket needed)\n",
		KG_DEFAULT_SOCKET);
}

static int kg_positive(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end || *out < 0 || end == s ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *cmd;
	char req[512];
	json_object *r, *body;
	int a = 1;

	kg_socket_path = getenv("KG_DEBUG_SOCKET");
	if (!kg_socket_path || !*kg_socket_path || !strcmp(kg_socket_path, "off"))
		kg_socket_path = KG_DEFAULT_SOCKET;
	while (a < argc && argv[a][0] == '-') {
		if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[a], "--dir") && a + 1 < argc) {
			dir = argv[++a];
		} else if (!strcmp(argv[a], "--socket") && a + 1 < argc) {
			kg_socket_path = argv[++a];
		} else if (!strcmp(argv[a], "-o") && a + 1 < argc) {
			a++;
			if (!strcmp(argv[a], "json"))
				kg_json_out = true;
			else if (strcmp(argv[a], "table")) {
				fprintf(stderr, "kgctl: -o takes table or json\n");
				return 2;
			}
		} else {
			fprintf(stderr, "kgctl: unknown option %s (see --help)\n", argv[a]);
			return 2;
		}
		a++;
	}
	if (a >= argc) {
		usage(stderr);
		return 2;
	}
	if (dir)
		return kg_dir_mode(dir, argc, argv, a);
	cmd = argv[a++];

	if (!strcmp(cmd, "top")) {
		long n = 0;
		double d = 2;

		for (; a < argc; a++) {
			if (!strcmp(argv[a], "-n") && a + 1 < argc && !kg_positive(argv[a + 1], &n))
				a++;
			else if (!strcmp(argv[a], "-d") && a + 1 < argc && atof(argv[a + 1]) > 0)
				d = atof(argv[++a]);
			else {
				fprintf(stderr, "kgctl: top [-n N] [-d SECONDS]\n");
				return 2;
			}
		}
		return kg_cmd_top(n, d);
	}
	if (!strcmp(cmd, "watch")) {
		long n = 0;

		if (a + 1 < argc && !strcmp(argv[a], "--count") && !kg_positive(argv[a + 1], &n))
			a += 2;
		if (a < argc) {
			fprintf(stderr, "kgctl: watch [--count N]\n");
			return 2;
		}
		return kg_cmd_watch(n);
	}
	if (!strcmp(cmd, "raw")) {
		char *raw = NULL, *line;

		if (a + 1 != argc) {
			fprintf(stderr, "kgctl: raw takes one request line\n");
			return 2;
		}
		line = malloc(strlen(argv[a]) + 2);
		if (!line)
			return 1;
		sprintf(line, "%s\n", argv[a]);
		r = kg_request(line, &raw);
		free(line);
		if (!r)
			return 1;
		printf("%s\n", raw);
		free(raw);
		json_object_put(r);
		return 0;
	}
	if (!strcmp(cmd, "status") && a == argc) {
		snprintf(req, sizeof(req), "{\"cmd\":\"status\"}\n");
	} else if ((!strcmp(cmd, "births") || !strcmp(cmd, "whispers")) && a + 1 >= argc) {
		long n = 0;

		if (a < argc && kg_positive(argv[a], &n)) {
			fprintf(stderr, "kgctl: %s [N]: N is a count\n", cmd);
			return 2;
		}
		snprintf(req, sizeof(req), "{\"cmd\":\"%s\",\"limit\":%ld}\n", cmd, n);
	} else if (!strcmp(cmd, "explain") && a + 1 == argc) {
		json_object *q = json_object_new_object();

		json_object_object_add(q, "cmd", json_object_new_string("explain"));
		json_object_object_add(q, "pod", json_object_new_string(argv[a]));
		snprintf(req, sizeof(req), "%s\n",
			 json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN));
		json_object_put(q);
	} else {
		usage(stderr);
		return 2;
	}
	r = kg_request(req, NULL);
	if (!r)
		return 1;
	body = kg_get(r, kg_str(r, "cmd"));
	if (kg_json_out)
		kg_print_json(body);
	else if (!strcmp(cmd, "status"))
		kg_print_status(body);
	else if (!strcmp(cmd, "births") || !strcmp(cmd, "whispers"))
		kg_print_recent(body, !strcmp(cmd, "whispers"));
	else
		kg_print_explain(body);
	json_object_put(r);
	return 0;
}
