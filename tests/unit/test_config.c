// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_config.c - unit tests for agent/config.c.
 *
 * Table-driven over every setting: each good value is parsed as
 * "--flag VALUE", as "--flag=VALUE" and from the environment (through a fake
 * getenv, so the test never depends on the real environment), and again with
 * a different good value in the environment to show the flag wins. The whole
 * resulting struct is compared against the defaults with only that field
 * changed, so a value that leaks into a neighbouring field is caught too.
 * Each bad value is rejected in every form it can be given, with the exact
 * message main() would print.
 */
#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define REP2(s) s s
#define REP4(s) REP2(s) REP2(s)
#define REP6(s) REP4(s) REP2(s)

/* Prefixes at and just over the KG_PREFIX_LEN - 1 limit. */
#define P63 "/" REP6("abcdefghij") "xy"
#define P64 P63 "z"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- fake environment ---- */

/* "NAME=value" strings, NULL-terminated; NULL for an empty environment. */
static const char *const *fake_env;
static const char *env_asked[32];
static int env_nasked;

static const char *fake_getenv(const char *name)
{
	size_t n = strlen(name);

	if (env_nasked < N(env_asked))
		env_asked[env_nasked++] = name;
	for (const char *const *e = fake_env; e && *e; e++) {
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	}
	return NULL;
}

/* ---- running the parser ---- */

static char err[4096];

/* argv is NULL-terminated and excludes argv[0]. */
static int parse(struct kg_config *cfg, const char *const *env, const char *const *args)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = "kernel-gossip-agent";
	for (; args && *args; args++) {
		ck_assert_int_lt(argc, N(argv));
		argv[argc++] = (char *)*args;
	}
	fake_env = env;
	env_nasked = 0;
	memset(err, 0, sizeof(err));
	memset(cfg, 0xa5, sizeof(*cfg)); /* parse must not depend on what was there */
	return kg_config_parse(cfg, argc, argv, fake_getenv, err, sizeof(err));
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ENV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOARGS ((const char *const *)NULL)
#define NOENV ((const char *const *)NULL)

/* Field by field, so a failure names the field. */
static void assert_cfg_eq(const struct kg_config *got, const struct kg_config *want,
			  const char *ctx)
{
	ck_assert_msg(got->standalone == want->standalone, "%s: standalone %d, want %d", ctx,
		      got->standalone, want->standalone);
	ck_assert_msg(!strcmp(got->output_dir, want->output_dir), "%s: output_dir \"%.80s\"", ctx,
		      got->output_dir);
	ck_assert_msg(got->nr_prefixes == want->nr_prefixes, "%s: nr_prefixes %u, want %u", ctx,
		      got->nr_prefixes, want->nr_prefixes);
	for (unsigned i = 0; i < KG_MAX_PREFIXES; i++) {
		/* slots past nr_prefixes are zeroed too: the BPF side copies all of them */
		ck_assert_msg(!memcmp(got->prefixes[i], want->prefixes[i], KG_PREFIX_LEN),
			      "%s: prefix %u \"%.64s\", want \"%.64s\"", ctx, i, got->prefixes[i],
			      want->prefixes[i]);
	}
	ck_assert_msg(got->log_level == want->log_level, "%s: log_level %d, want %d", ctx,
		      got->log_level, want->log_level);
	ck_assert_msg(got->birth_quiet_ms == want->birth_quiet_ms, "%s: birth_quiet_ms %u", ctx,
		      got->birth_quiet_ms);
	ck_assert_msg(got->birth_ready_ms == want->birth_ready_ms, "%s: birth_ready_ms %u", ctx,
		      got->birth_ready_ms);
	ck_assert_msg(got->birth_max_ms == want->birth_max_ms, "%s: birth_max_ms %u", ctx,
		      got->birth_max_ms);
	ck_assert_msg(got->window_s == want->window_s, "%s: window_s %u", ctx, got->window_s);
	ck_assert_msg(got->sample_ms == want->sample_ms, "%s: sample_ms %u", ctx, got->sample_ms);
	ck_assert_msg(got->max_births == want->max_births, "%s: max_births %u", ctx,
		      got->max_births);
	ck_assert_msg(got->ring_bytes == want->ring_bytes, "%s: ring_bytes %u", ctx,
		      got->ring_bytes);
	ck_assert_msg(got->episode_hook == want->episode_hook, "%s: episode_hook %d", ctx,
		      got->episode_hook);
	ck_assert_msg(got->syscall_hooks == want->syscall_hooks, "%s: syscall_hooks %d", ctx,
		      got->syscall_hooks);
	ck_assert_msg(!strcmp(got->debug_socket, want->debug_socket), "%s: debug_socket \"%s\"",
		      ctx, got->debug_socket);
	ck_assert_msg(!strcmp(got->metrics_addr, want->metrics_addr), "%s: metrics_addr \"%s\"",
		      ctx, got->metrics_addr);
	ck_assert_msg(got->pin == want->pin, "%s: pin %d", ctx, got->pin);
	ck_assert_msg(got->show_help == want->show_help, "%s: show_help %d", ctx, got->show_help);
	ck_assert_msg(got->show_version == want->show_version, "%s: show_version %d", ctx,
		      got->show_version);
}

/* The defaults with the prefix list replaced by a comma-separated one. */
static void set_prefixes(struct kg_config *want, const char *list)
{
	const char *p = list;

	memset(want->prefixes, 0, sizeof(want->prefixes));
	want->nr_prefixes = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		ck_assert_uint_lt(len, KG_PREFIX_LEN);
		memcpy(want->prefixes[want->nr_prefixes++], p, len);
		if (!comma)
			break;
		p = comma + 1;
	}
}

/* ---- the settings, as the test sees them ---- */

enum vtype { V_BOOL, V_STR, V_PREFIX, V_LEVEL, V_UINT, V_EPISODE, V_SYSCALLS, V_SOCK, V_ADDR };

struct opt {
	const char *flag;
	const char *env; /* NULL: flag only */
	const char *arg; /* NULL: takes no value */
	const char *good; /* a valid value */
	enum vtype type;
	size_t off;
};

enum {
	O_STANDALONE,
	O_OUTPUT,
	O_TRACK,
	O_LEVEL,
	O_QUIET,
	O_READY,
	O_MAX,
	O_WINDOW,
	O_SAMPLE,
	O_BIRTHS,
	O_RING,
	O_EPISODE,
	O_SYSCALLS,
	O_SOCKET,
	O_METRICS,
	O_PIN,
	O_HELP,
	O_VERSION,
	O_NR,
};

#define OFF(f) offsetof(struct kg_config, f)

/* Written from the documentation (--help and the README), not from config.c's table. */
static const struct opt opts[O_NR] = {
	[O_STANDALONE] = { "--standalone", "KG_STANDALONE", NULL, "true", V_BOOL, OFF(standalone) },
	[O_OUTPUT] = { "--output-dir", "KG_OUTPUT_DIR", "DIR", "/srv", V_STR, OFF(output_dir) },
	[O_TRACK] = { "--track-cgroup", "KG_TRACK_CGROUPS", "PREFIX", "/k", V_PREFIX,
		      OFF(prefixes) },
	[O_LEVEL] = { "--log-level", "KG_LOG_LEVEL", "LEVEL", "warn", V_LEVEL, OFF(log_level) },
	[O_QUIET] = { "--birth-quiet-ms", "KG_BIRTH_QUIET_MS", "MS", "500", V_UINT,
		      OFF(birth_quiet_ms) },
	[O_READY] = { "--birth-ready-ms", "KG_BIRTH_READY_MS", "MS", "500", V_UINT,
		      OFF(birth_ready_ms) },
	[O_MAX] = { "--birth-max-ms", "KG_BIRTH_MAX_MS", "MS", "500", V_UINT, OFF(birth_max_ms) },
	[O_WINDOW] = { "--window-s", "KG_WINDOW_S", "S", "5", V_UINT, OFF(window_s) },
	[O_SAMPLE] = { "--sample-ms", "KG_SAMPLE_MS", "MS", "500", V_UINT, OFF(sample_ms) },
	[O_BIRTHS] = { "--max-births", "KG_MAX_BIRTHS", "N", "5", V_UINT, OFF(max_births) },
	[O_RING] = { "--ring-bytes", "KG_RING_BYTES", "BYTES", "8192", V_UINT, OFF(ring_bytes) },
	[O_EPISODE] = { "--episode-hook", "KG_EPISODE_HOOK", "HOOK", "fentry", V_EPISODE,
			OFF(episode_hook) },
	[O_SYSCALLS] = { "--syscall-hooks", "KG_SYSCALL_HOOKS", "WHEN", "always", V_SYSCALLS,
			 OFF(syscall_hooks) },
	[O_SOCKET] = { "--debug-socket", "KG_DEBUG_SOCKET", "PATH", "/tmp/kg.sock", V_SOCK,
		       OFF(debug_socket) },
	[O_METRICS] = { "--metrics-addr", "KG_METRICS_ADDR", "IP:PORT", "127.0.0.1:9100", V_ADDR,
			OFF(metrics_addr) },
	[O_PIN] = { "--pin", "KG_PIN", NULL, "true", V_BOOL, OFF(pin) },
	[O_HELP] = { "--help", NULL, NULL, NULL, V_BOOL, OFF(show_help) },
	[O_VERSION] = { "--version", NULL, NULL, NULL, V_BOOL, OFF(show_version) },
};

/* Store an expected value: u for numbers, enums and booleans, s for strings and prefixes. */
static void set_field(struct kg_config *want, int o, unsigned u, const char *s)
{
	char *base = (char *)want + opts[o].off;

	switch (opts[o].type) {
	case V_BOOL:
		*(bool *)base = u;
		break;
	case V_STR:
		snprintf(base, sizeof(want->output_dir), "%s", s);
		break;
	case V_PREFIX:
		set_prefixes(want, s);
		break;
	case V_LEVEL:
		*(enum kg_log_level *)base = u;
		break;
	case V_UINT:
		*(unsigned *)base = u;
		break;
	case V_EPISODE:
		*(enum kg_episode_choice *)base = u;
		break;
	case V_SYSCALLS:
		*(enum kg_syscall_hooks *)base = u;
		break;
	case V_SOCK:
		snprintf(base, sizeof(want->debug_socket), "%s", s);
		break;
	case V_ADDR:
		snprintf(base, sizeof(want->metrics_addr), "%s", s);
		break;
	}
}

static size_t field_size(const struct opt *o)
{
	switch (o->type) {
	case V_BOOL:
		return sizeof(bool);
	case V_STR:
		return sizeof(((struct kg_config *)0)->output_dir);
	case V_PREFIX:
		return sizeof(((struct kg_config *)0)->prefixes);
	case V_SOCK:
		return sizeof(((struct kg_config *)0)->debug_socket);
	case V_ADDR:
		return sizeof(((struct kg_config *)0)->metrics_addr);
	default:
		return sizeof(unsigned);
	}
}

START_TEST(test_defaults)
{
	struct kg_config cfg;

	kg_config_defaults(&cfg);
	ck_assert(cfg.standalone);
	ck_assert_str_eq(cfg.output_dir, "/var/lib/kernel-gossip");
	ck_assert_uint_eq(cfg.nr_prefixes, 2);
	ck_assert_str_eq(cfg.prefixes[0], "/kubepods");
	ck_assert_str_eq(cfg.prefixes[1], "/kubepods.slice");
	for (unsigned i = 2; i < KG_MAX_PREFIXES; i++)
		ck_assert_str_eq(cfg.prefixes[i], "");
	ck_assert_int_eq(cfg.log_level, KG_LOG_INFO);
	ck_assert_uint_eq(cfg.birth_quiet_ms, 1000);
	ck_assert_uint_eq(cfg.birth_ready_ms, 250);
	ck_assert_uint_eq(cfg.birth_max_ms, 30000);
	ck_assert_uint_eq(cfg.window_s, 60);
	ck_assert_uint_eq(cfg.sample_ms, 1000);
	ck_assert_uint_eq(cfg.max_births, 512);
	ck_assert_uint_eq(cfg.ring_bytes, 1048576);
	ck_assert_int_eq(cfg.episode_hook, KG_CHOOSE_AUTO);
	ck_assert_int_eq(cfg.syscall_hooks, KG_SYSCALLS_BIRTH);
	ck_assert_str_eq(cfg.debug_socket, "/run/kernel-gossip/debug.sock");
	ck_assert_str_eq(cfg.metrics_addr, "127.0.0.1:9090");
	ck_assert(!cfg.pin);
	ck_assert(!cfg.show_help);
	ck_assert(!cfg.show_version);
}
END_TEST

START_TEST(test_parse_nothing)
{
	struct kg_config cfg, want;

	kg_config_defaults(&want);
	/* no environment lookup at all */
	ck_assert_int_eq(parse(&cfg, NOENV, NOARGS), 0);
	assert_cfg_eq(&cfg, &want, "no args");
	ck_assert_str_eq(err, "");
	/* an environment without any of our variables */
	ck_assert_int_eq(parse(&cfg, ENV("PATH=/bin", "KG_UNKNOWN=1", "HOME=/root"), NOARGS), 0);
	assert_cfg_eq(&cfg, &want, "unrelated env");
	/* a NULL lookup function: flags only */
	memset(&cfg, 0xa5, sizeof(cfg));
	ck_assert_int_eq(
		kg_config_parse(&cfg, 1, (char *[]){ "agent", NULL }, NULL, err, sizeof(err)), 0);
	assert_cfg_eq(&cfg, &want, "NULL env");
}
END_TEST

START_TEST(test_env_names_asked)
{
	/* exactly the documented variables, each once; --help and --version have none */
	static const char *const names[] = {
		"KG_STANDALONE",     "KG_OUTPUT_DIR",	  "KG_TRACK_CGROUPS", "KG_LOG_LEVEL",
		"KG_BIRTH_QUIET_MS", "KG_BIRTH_READY_MS", "KG_BIRTH_MAX_MS",  "KG_WINDOW_S",
		"KG_SAMPLE_MS",	     "KG_MAX_BIRTHS",	  "KG_RING_BYTES",    "KG_EPISODE_HOOK",
		"KG_SYSCALL_HOOKS",  "KG_KUBERNETES",	  "KUBECONFIG",	      "NODE_NAME",
		"KG_SKIP_NAMESPACES", "KG_POD_SELECTION", "KG_API_QPS",	      "KG_API_BURST",
		"KG_KUBE_INSECURE", "KG_DEBUG_SOCKET",	  "KG_METRICS_ADDR",  "KG_PIN",
	};
	struct kg_config cfg;

	ck_assert_int_eq(parse(&cfg, NOENV, NOARGS), 0);
	ck_assert_int_eq(env_nasked, N(names));
	for (int i = 0; i < N(names); i++)
		ck_assert_str_eq(env_asked[i], names[i]);
}
END_TEST

/* ---- good values ---- */

struct good_case {
	int opt;
	const char *value; /* NULL: the bare flag */
	const char *alt; /* another good value with a different result, for "flag wins" */
	unsigned u; /* the expected value */
	const char *s;
};

static const struct good_case good_cases[] = {
	{ O_STANDALONE, NULL, "false", true, NULL },
	{ O_STANDALONE, "true", "0", true, NULL },
	{ O_STANDALONE, "1", "false", true, NULL },
	{ O_STANDALONE, "false", "1", false, NULL },
	{ O_STANDALONE, "0", "true", false, NULL },
	{ O_OUTPUT, "/tmp/kg out", "/srv/kg", 0, "/tmp/kg out" },
	{ O_OUTPUT, "x", "/srv/kg", 0, "x" }, /* one byte is enough */
	{ O_OUTPUT, "--standalone", "/srv/kg", 0, "--standalone" },
	{ O_TRACK, "/", "/x", 0, "/" },
	{ O_TRACK, "/kubepods", "/x", 0, "/kubepods" },
	{ O_TRACK, "/kubepods.slice", "/x", 0, "/kubepods.slice" },
	{ O_TRACK, "/kg-test/a b.c_d", "/x", 0, "/kg-test/a b.c_d" },
	{ O_TRACK, P63, "/x", 0, P63 },
	{ O_LEVEL, "error", "debug", KG_LOG_ERROR, NULL },
	{ O_LEVEL, "warn", "debug", KG_LOG_WARN, NULL },
	{ O_LEVEL, "info", "debug", KG_LOG_INFO, NULL },
	{ O_LEVEL, "debug", "error", KG_LOG_DEBUG, NULL },
	{ O_LEVEL, "DEBUG", "error", KG_LOG_DEBUG, NULL }, /* levels ignore case */
	{ O_LEVEL, "Warn", "error", KG_LOG_WARN, NULL },
	{ O_QUIET, "50", "777", 50, NULL },
	{ O_QUIET, "600000", "777", 600000, NULL },
	{ O_QUIET, "1234", "777", 1234, NULL },
	{ O_QUIET, "0050", "777", 50, NULL }, /* decimal, leading zeros are not octal */
	{ O_READY, "0", "777", 0, NULL },
	{ O_READY, "600000", "777", 600000, NULL },
	{ O_READY, "010", "777", 10, NULL },
	{ O_MAX, "100", "777", 100, NULL },
	{ O_MAX, "3600000", "777", 3600000, NULL },
	{ O_WINDOW, "1", "77", 1, NULL },
	{ O_WINDOW, "3600", "77", 3600, NULL },
	{ O_SAMPLE, "100", "777", 100, NULL },
	{ O_SAMPLE, "60000", "777", 60000, NULL },
	{ O_BIRTHS, "1", "77", 1, NULL },
	{ O_BIRTHS, "65536", "77", 65536, NULL },
	{ O_RING, "4096", "8192", 4096, NULL },
	{ O_RING, "65536", "8192", 65536, NULL },
	{ O_RING, "1073741824", "8192", 1073741824, NULL },
	{ O_EPISODE, "auto", "switch", KG_CHOOSE_AUTO, NULL },
	{ O_EPISODE, "fentry", "switch", KG_CHOOSE_FENTRY, NULL },
	{ O_EPISODE, "switch", "fentry", KG_CHOOSE_SWITCH, NULL },
	{ O_SYSCALLS, "birth", "always", KG_SYSCALLS_BIRTH, NULL },
	{ O_SYSCALLS, "always", "birth", KG_SYSCALLS_ALWAYS, NULL },
	{ O_SOCKET, "/tmp/kg.sock", "/x/y.sock", 0, "/tmp/kg.sock" },
	{ O_SOCKET, "/run/kg/a b.sock", "/x/y.sock", 0, "/run/kg/a b.sock" },
	{ O_SOCKET, "off", "/x/y.sock", 0, "" },	/* no debug socket */
	{ O_SOCKET, "/" REP6("abcdefghij") REP4("abcdefghij") "abcdef", "/x", 0,
	  "/" REP6("abcdefghij") REP4("abcdefghij") "abcdef" },	/* 107 bytes: sun_path's room */
	{ O_METRICS, "127.0.0.1:9100", "0.0.0.0:9090", 0, "127.0.0.1:9100" },
	{ O_METRICS, "0.0.0.0:1", "127.0.0.1:9090", 0, "0.0.0.0:1" },
	{ O_METRICS, "10.1.2.3:65535", "127.0.0.1:9090", 0, "10.1.2.3:65535" },
	{ O_METRICS, "[::1]:9090", "127.0.0.1:9090", 0, "[::1]:9090" },
	{ O_METRICS, "[::]:9090", "127.0.0.1:9090", 0, "[::]:9090" },
	{ O_METRICS, "off", "127.0.0.1:9090", 0, "" },	/* no HTTP endpoint */
	{ O_PIN, NULL, "false", true, NULL },
	{ O_PIN, "true", "0", true, NULL },
	{ O_PIN, "0", "1", false, NULL },
	{ O_HELP, NULL, NULL, true, NULL },
	{ O_HELP, "true", NULL, true, NULL },
	{ O_HELP, "0", NULL, false, NULL },
	{ O_VERSION, NULL, NULL, true, NULL },
	{ O_VERSION, "1", NULL, true, NULL },
};

START_TEST(test_good)
{
	const struct good_case *c = &good_cases[_i];
	const struct opt *o = &opts[c->opt];
	struct kg_config cfg, want;
	char eq[512], envvar[512], altvar[512], ctx[1100];

	kg_config_defaults(&want);
	set_field(&want, c->opt, c->u, c->s);
	if (c->value)
		snprintf(eq, sizeof(eq), "%s=%s", o->flag, c->value);
	else
		snprintf(eq, sizeof(eq), "%s", o->flag);

	/* --flag=VALUE (or the bare flag) */
	snprintf(ctx, sizeof(ctx), "argv %s", eq);
	ck_assert_msg(parse(&cfg, NOENV, ARGS(eq)) == 0, "%s: %s", ctx, err);
	assert_cfg_eq(&cfg, &want, ctx);

	/* --flag VALUE; a flag that takes no value never takes the next argument */
	if (o->arg) {
		snprintf(ctx, sizeof(ctx), "argv %s %s", o->flag, c->value);
		ck_assert_msg(parse(&cfg, NOENV, ARGS(o->flag, c->value)) == 0, "%s: %s", ctx, err);
		assert_cfg_eq(&cfg, &want, ctx);
	}

	if (!o->env || !c->value)
		return;
	/* the environment variable */
	snprintf(envvar, sizeof(envvar), "%s=%s", o->env, c->value);
	snprintf(ctx, sizeof(ctx), "env %s", envvar);
	ck_assert_msg(parse(&cfg, ENV(envvar), NOARGS) == 0, "%s: %s", ctx, err);
	assert_cfg_eq(&cfg, &want, ctx);

	/* the flag wins over the variable, in both forms */
	snprintf(altvar, sizeof(altvar), "%s=%s", o->env, c->alt);
	snprintf(ctx, sizeof(ctx), "env %s, argv %s", altvar, eq);
	ck_assert_msg(parse(&cfg, ENV(altvar), ARGS(eq)) == 0, "%s: %s", ctx, err);
	assert_cfg_eq(&cfg, &want, ctx);
	if (o->arg) {
		ck_assert_msg(parse(&cfg, ENV(altvar), ARGS(o->flag, c->value)) == 0, "%s: %s", ctx,
			      err);
		assert_cfg_eq(&cfg, &want, ctx);
	}
	/* ... which only shows something if the variable alone gives another result */
	ck_assert_int_eq(parse(&cfg, ENV(altvar), NOARGS), 0);
	ck_assert_msg(memcmp((char *)&cfg + o->off, (char *)&want + o->off, field_size(o)) != 0,
		      "%s: alt gives the same value", ctx);
}
END_TEST

START_TEST(test_flag_without_value_ignores_next)
{
	struct kg_config cfg;

	/* "--standalone false" is the flag, then a stray argument */
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--standalone", "false")), -1);
	ck_assert_str_eq(err, "unknown argument false (see --help)");
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--help", "--version")), 0);
	ck_assert(cfg.show_help);
	ck_assert(cfg.show_version);
}
END_TEST

/* ---- bad values ---- */

enum { W_FLAG = 1, W_ENV = 2, W_BOTH = 3 };

struct bad_case {
	int opt;
	const char *value;
	const char *why;
	int where;
};

#define WHOLE "expected a whole number"
#define RANGE(lo, hi) "must be between " #lo " and " #hi
#define SLASH "a cgroup path prefix starts with '/'"
#define CTRL "control characters and ',' are not allowed"

static const struct bad_case bad_cases[] = {
	{ O_STANDALONE, "yes", "expected true or false", W_BOTH },
	{ O_STANDALONE, "", "expected true or false", W_BOTH },
	{ O_STANDALONE, "TRUE", "expected true or false", W_BOTH },
	{ O_STANDALONE, "2", "expected true or false", W_BOTH },
	{ O_STANDALONE, " 1", "expected true or false", W_BOTH },
	{ O_HELP, "yes", "expected true or false", W_FLAG },
	{ O_VERSION, "", "expected true or false", W_FLAG },

	{ O_OUTPUT, "", "must not be empty", W_BOTH },

	{ O_TRACK, "", SLASH, W_BOTH },
	{ O_TRACK, "kubepods", SLASH, W_BOTH },
	{ O_TRACK, "./kubepods", SLASH, W_BOTH },
	{ O_TRACK, " /kubepods", SLASH, W_BOTH },
	{ O_TRACK, "/kubepods/", "must not end with '/'", W_BOTH },
	{ O_TRACK, "//", "must not end with '/'", W_BOTH },
	{ O_TRACK, P64, "longer than 63 bytes", W_BOTH },
	{ O_TRACK, P63 "/", "longer than 63 bytes", W_BOTH }, /* length is checked first */
	{ O_TRACK, "/a\tb", CTRL, W_BOTH },
	{ O_TRACK, "/a\nb", CTRL, W_BOTH },
	{ O_TRACK, "/a\x1b[0m", CTRL, W_BOTH },
	{ O_TRACK, "/a\x7f", CTRL, W_BOTH },
	{ O_TRACK, "/\x01", CTRL, W_BOTH },
	{ O_TRACK, "/a,/b", CTRL, W_FLAG }, /* a flag holds one prefix: ',' is refused */
	{ O_TRACK, "/a,b", SLASH, W_ENV }, /* the variable splits at ',' */
	{ O_TRACK, "/a,,/b", SLASH, W_ENV },
	{ O_TRACK, "/a,", SLASH, W_ENV },
	{ O_TRACK, ",/a", SLASH, W_ENV },
	{ O_TRACK, ",", SLASH, W_ENV },
	{ O_TRACK, "/a/,/b", "must not end with '/'", W_ENV },
	{ O_TRACK, "/a,/b\t", CTRL, W_ENV },
	{ O_TRACK, "/a,/b," P64, "longer than 63 bytes", W_ENV },
	{ O_TRACK, "/1,/2,/3,/4,/5,/6,/7,/8,/9", "at most 8 prefixes", W_ENV },

	{ O_LEVEL, "verbose", "expected error, warn, info or debug", W_BOTH },
	{ O_LEVEL, "", "expected error, warn, info or debug", W_BOTH },
	{ O_LEVEL, "info ", "expected error, warn, info or debug", W_BOTH },
	{ O_LEVEL, "inf", "expected error, warn, info or debug", W_BOTH },
	{ O_LEVEL, "warning", "expected error, warn, info or debug", W_BOTH },
	{ O_LEVEL, "2", "expected error, warn, info or debug", W_BOTH },

	{ O_QUIET, "49", RANGE(50, 600000), W_BOTH },
	{ O_QUIET, "0", RANGE(50, 600000), W_BOTH },
	{ O_QUIET, "600001", RANGE(50, 600000), W_BOTH },
	/* 2^32 + 50: a value truncated to 32 bits before the range check would pass */
	{ O_QUIET, "4294967346", RANGE(50, 600000), W_BOTH },
	{ O_QUIET, "18446744073709551615", RANGE(50, 600000), W_BOTH },
	{ O_QUIET, "18446744073709551616", WHOLE, W_BOTH }, /* ERANGE */
	{ O_QUIET, "99999999999999999999999", WHOLE, W_BOTH },
	{ O_QUIET, "abc", WHOLE, W_BOTH },
	{ O_QUIET, "-5", WHOLE, W_BOTH },
	{ O_QUIET, "-0", WHOLE, W_BOTH },
	{ O_QUIET, "+5", WHOLE, W_BOTH },
	{ O_QUIET, "+100", WHOLE, W_BOTH },
	{ O_QUIET, "", WHOLE, W_BOTH },
	{ O_QUIET, "12abc", WHOLE, W_BOTH },
	{ O_QUIET, "1.5", WHOLE, W_BOTH },
	{ O_QUIET, "100 ", WHOLE, W_BOTH },
	{ O_QUIET, " 100", WHOLE, W_BOTH }, /* strtoul() would skip the blank */
	{ O_QUIET, "\t100", WHOLE, W_BOTH },
	{ O_QUIET, " -100", WHOLE, W_BOTH },
	{ O_QUIET, "0x100", WHOLE, W_BOTH },
	{ O_QUIET, "1e3", WHOLE, W_BOTH },
	{ O_QUIET, "1_000", WHOLE, W_BOTH },
	{ O_READY, "600001", RANGE(0, 600000), W_BOTH },
	{ O_READY, "-1", WHOLE, W_BOTH },
	{ O_READY, "", WHOLE, W_BOTH },
	{ O_MAX, "99", RANGE(100, 3600000), W_BOTH },
	{ O_MAX, "3600001", RANGE(100, 3600000), W_BOTH },
	{ O_MAX, "+5", WHOLE, W_BOTH },
	{ O_WINDOW, "0", RANGE(1, 3600), W_BOTH },
	{ O_WINDOW, "3601", RANGE(1, 3600), W_BOTH },
	{ O_WINDOW, "1m", WHOLE, W_BOTH },
	{ O_SAMPLE, "99", RANGE(100, 60000), W_BOTH },
	{ O_SAMPLE, "60001", RANGE(100, 60000), W_BOTH },
	{ O_SAMPLE, "-100", WHOLE, W_BOTH },
	{ O_BIRTHS, "0", RANGE(1, 65536), W_BOTH },
	{ O_BIRTHS, "65537", RANGE(1, 65536), W_BOTH },
	{ O_BIRTHS, "many", WHOLE, W_BOTH },
	{ O_RING, "4095", RANGE(4096, 1073741824), W_BOTH },
	{ O_RING, "0", RANGE(4096, 1073741824), W_BOTH },
	{ O_RING, "2048", RANGE(4096, 1073741824), W_BOTH }, /* a power of two, too small */
	{ O_RING, "1073741825", RANGE(4096, 1073741824), W_BOTH },
	{ O_RING, "2147483648", RANGE(4096, 1073741824), W_BOTH },
	{ O_RING, "4097", "must be a power of two", W_BOTH },
	{ O_RING, "6144", "must be a power of two", W_BOTH },
	{ O_RING, "12288", "must be a power of two", W_BOTH },
	{ O_RING, "1073741823", "must be a power of two", W_BOTH },
	{ O_RING, "1M", WHOLE, W_BOTH },
	{ O_EPISODE, "kprobe", "expected auto, fentry or switch", W_BOTH },
	{ O_EPISODE, "FENTRY", "expected auto, fentry or switch", W_BOTH },
	{ O_EPISODE, "", "expected auto, fentry or switch", W_BOTH },
	{ O_EPISODE, "auto ", "expected auto, fentry or switch", W_BOTH },
	{ O_SYSCALLS, "never", "expected birth or always", W_BOTH },
	{ O_SYSCALLS, "Birth", "expected birth or always", W_BOTH },
	{ O_SYSCALLS, "", "expected birth or always", W_BOTH },

#define SOCK_ABS "expected an absolute path or off"
#define ADDR "expected IPv4:PORT, [IPv6]:PORT (port 1-65535) or off"
	{ O_SOCKET, "", SOCK_ABS, W_BOTH },
	{ O_SOCKET, "debug.sock", SOCK_ABS, W_BOTH },
	{ O_SOCKET, "./debug.sock", SOCK_ABS, W_BOTH },
	{ O_SOCKET, "OFF", SOCK_ABS, W_BOTH },
	{ O_SOCKET, " /run/x.sock", SOCK_ABS, W_BOTH },
	{ O_SOCKET, "/run/kernel-gossip/", "names a directory, not a socket", W_BOTH },
	{ O_SOCKET, "/" REP6("abcdefghij") REP4("abcdefghij") "abcdefg",
	  "longer than 107 bytes (a Unix socket path)", W_BOTH },
	{ O_SOCKET, "/run/a\nb.sock", "control characters are not allowed", W_BOTH },
	{ O_SOCKET, "/run/\x1b[0m.sock", "control characters are not allowed", W_BOTH },
	{ O_METRICS, "", ADDR, W_BOTH },
	{ O_METRICS, "9090", ADDR, W_BOTH },
	{ O_METRICS, ":9090", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1:", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1:0", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1:65536", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1:99999999999999999999", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1:+80", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1:-80", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1:80x", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1:080", ADDR, W_BOTH },
	{ O_METRICS, "127.0.0.1: 80", ADDR, W_BOTH },
	{ O_METRICS, "localhost:9090", ADDR, W_BOTH }, /* no name lookups */
	{ O_METRICS, "1.2.3:80", ADDR, W_BOTH },
	{ O_METRICS, "256.0.0.1:80", ADDR, W_BOTH },
	{ O_METRICS, "::1:9090", ADDR, W_BOTH }, /* IPv6 needs brackets */
	{ O_METRICS, "[::1]9090", ADDR, W_BOTH },
	{ O_METRICS, "[127.0.0.1]:9090", ADDR, W_BOTH },
	{ O_METRICS, "[::1:9090", ADDR, W_BOTH },
	{ O_METRICS, "Off", ADDR, W_BOTH },
	{ O_PIN, "yes", "expected true or false", W_BOTH },
	{ O_PIN, "", "expected true or false", W_BOTH },
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	const struct opt *o = &opts[c->opt];
	struct kg_config cfg;
	char eq[512], envvar[512], want[1024];

	snprintf(want, sizeof(want), "invalid flag %s=%s: %s", o->flag, c->value, c->why);
	snprintf(eq, sizeof(eq), "%s=%s", o->flag, c->value);
	if (c->where & W_FLAG) {
		ck_assert_int_eq(parse(&cfg, NOENV, ARGS(eq)), -1);
		ck_assert_str_eq(err, want);
		/* the separate form reports the same message */
		if (o->arg) {
			ck_assert_int_eq(parse(&cfg, NOENV, ARGS(o->flag, c->value)), -1);
			ck_assert_str_eq(err, want);
		}
		/* ... after good flags, too */
		ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--window-s", "5", "--help", eq)), -1);
		ck_assert_str_eq(err, want);
	}
	if (c->where & W_ENV) {
		ck_assert_ptr_nonnull(o->env);
		snprintf(envvar, sizeof(envvar), "%s=%s", o->env, c->value);
		snprintf(want, sizeof(want), "invalid environment variable %s=%s: %s", o->env,
			 c->value, c->why);
		/* first: the fake getenv returns the first match, as with duplicates */
		ck_assert_int_eq(parse(&cfg, ENV(envvar, "KG_WINDOW_S=5"), NOARGS), -1);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

START_TEST(test_output_dir_length)
{
	static char dir[1100], arg[1200];
	struct kg_config cfg;

	/* 1023 bytes fit the buffer with its NUL */
	memset(dir, 'd', 1023);
	dir[0] = '/';
	dir[1023] = 0;
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--output-dir", dir)), 0);
	ck_assert_str_eq(cfg.output_dir, dir);
	/* 1024 do not */
	dir[1023] = 'd';
	dir[1024] = 0;
	snprintf(arg, sizeof(arg), "invalid flag --output-dir=%s: too long", dir);
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--output-dir", dir)), -1);
	ck_assert_str_eq(err, arg);
	snprintf(arg, sizeof(arg), "KG_OUTPUT_DIR=%s", dir);
	ck_assert_int_eq(parse(&cfg, ENV(arg), NOARGS), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid environment variable KG_OUTPUT_DIR=/ddd"));
	ck_assert_ptr_nonnull(strstr(err, "d: too long"));
}
END_TEST

START_TEST(test_bad_env_with_good_flag)
{
	struct kg_config cfg;

	/*
	 * The flag wins over a good variable, but a bad variable is still an error:
	 * a broken manifest should not go unnoticed because a flag happens to mask it.
	 */
	ck_assert_int_eq(parse(&cfg, ENV("KG_WINDOW_S=0"), ARGS("--window-s=5")), -1);
	ck_assert_str_eq(err, "invalid environment variable KG_WINDOW_S=0: " RANGE(1, 3600));
}
END_TEST

START_TEST(test_error_truncated)
{
	struct kg_config cfg;
	char small[16];

	memset(small, 'Z', sizeof(small));
	ck_assert_int_eq(kg_config_parse(&cfg, 2, (char *[]){ "agent", "--window-s=0", NULL }, NULL,
					 small, sizeof(small)),
			 -1);
	ck_assert_str_eq(small, "invalid flag --");
	memset(small, 'Z', sizeof(small));
	ck_assert_int_eq(kg_config_parse(&cfg, 2, (char *[]){ "agent", "--nope", NULL }, NULL,
					 small, sizeof(small)),
			 -1);
	ck_assert_str_eq(small, "unknown argumen");
}
END_TEST

/* ---- cgroup prefixes ---- */

START_TEST(test_prefixes)
{
	struct kg_config cfg, want;

	kg_config_defaults(&want);

	/* the variable: a comma-separated list replacing the defaults */
	set_prefixes(&want, "/a,/b.slice,/c/d");
	ck_assert_int_eq(parse(&cfg, ENV("KG_TRACK_CGROUPS=/a,/b.slice,/c/d"), NOARGS), 0);
	assert_cfg_eq(&cfg, &want, "env list");
	set_prefixes(&want, "/only");
	ck_assert_int_eq(parse(&cfg, ENV("KG_TRACK_CGROUPS=/only"), NOARGS), 0);
	assert_cfg_eq(&cfg, &want, "env one");
	set_prefixes(&want, "/1,/2,/3,/4,/5,/6,/7,/8");
	ck_assert_int_eq(parse(&cfg, ENV("KG_TRACK_CGROUPS=/1,/2,/3,/4,/5,/6,/7,/8"), NOARGS), 0);
	assert_cfg_eq(&cfg, &want, "env eight");
	/* the same prefix twice is kept twice: harmless, and what was asked */
	set_prefixes(&want, "/a,/a");
	ck_assert_int_eq(parse(&cfg, ENV("KG_TRACK_CGROUPS=/a,/a"), NOARGS), 0);
	assert_cfg_eq(&cfg, &want, "env duplicate");

	/* the first flag replaces the defaults, later ones add */
	set_prefixes(&want, "/x");
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--track-cgroup", "/x")), 0);
	assert_cfg_eq(&cfg, &want, "one flag");
	set_prefixes(&want, "/x,/y,/z");
	ck_assert_int_eq(parse(&cfg, NOENV,
			       ARGS("--track-cgroup", "/x", "--track-cgroup=/y", "--window-s=9",
				    "--track-cgroup", "/z")),
			 0);
	want.window_s = 9;
	assert_cfg_eq(&cfg, &want, "three flags");
	want.window_s = 60;

	/* flags replace the variable's list rather than adding to it */
	set_prefixes(&want, "/f1,/f2");
	ck_assert_int_eq(parse(&cfg, ENV("KG_TRACK_CGROUPS=/e1,/e2,/e3"),
			       ARGS("--track-cgroup=/f1", "--track-cgroup=/f2")),
			 0);
	assert_cfg_eq(&cfg, &want, "env then flags");
	/* so eight from the variable and eight flags are fine together */
	set_prefixes(&want, "/f1,/f2,/f3,/f4,/f5,/f6,/f7,/f8");
	ck_assert_int_eq(
		parse(&cfg, ENV("KG_TRACK_CGROUPS=/1,/2,/3,/4,/5,/6,/7,/8"),
		      ARGS("--track-cgroup=/f1", "--track-cgroup=/f2", "--track-cgroup=/f3",
			   "--track-cgroup=/f4", "--track-cgroup=/f5", "--track-cgroup=/f6",
			   "--track-cgroup=/f7", "--track-cgroup=/f8")),
		0);
	assert_cfg_eq(&cfg, &want, "eight and eight");

	/* a ninth flag is one too many */
	ck_assert_int_eq(
		parse(&cfg, NOENV,
		      ARGS("--track-cgroup=/f1", "--track-cgroup=/f2", "--track-cgroup=/f3",
			   "--track-cgroup=/f4", "--track-cgroup=/f5", "--track-cgroup=/f6",
			   "--track-cgroup=/f7", "--track-cgroup=/f8", "--track-cgroup", "/f9")),
		-1);
	ck_assert_str_eq(err, "invalid flag --track-cgroup=/f9: at most 8 prefixes");
}
END_TEST

START_TEST(test_everything_at_once)
{
	struct kg_config cfg;

	ck_assert_int_eq(
		parse(&cfg,
		      ENV("KG_STANDALONE=false", "KG_OUTPUT_DIR=/out", "KG_TRACK_CGROUPS=/k1,/k2",
			  "KG_LOG_LEVEL=error", "KG_BIRTH_QUIET_MS=51", "KG_BIRTH_READY_MS=52",
			  "KG_BIRTH_MAX_MS=53000", "KG_WINDOW_S=54", "KG_SAMPLE_MS=5500",
			  "KG_MAX_BIRTHS=56", "KG_RING_BYTES=8192", "KG_EPISODE_HOOK=switch",
			  "KG_SYSCALL_HOOKS=always"),
		      ARGS("--birth-ready-ms", "99", "--ring-bytes=16384")),
		0);
	ck_assert(!cfg.standalone);
	ck_assert_str_eq(cfg.output_dir, "/out");
	ck_assert_uint_eq(cfg.nr_prefixes, 2);
	ck_assert_str_eq(cfg.prefixes[0], "/k1");
	ck_assert_str_eq(cfg.prefixes[1], "/k2");
	ck_assert_int_eq(cfg.log_level, KG_LOG_ERROR);
	ck_assert_uint_eq(cfg.birth_quiet_ms, 51);
	ck_assert_uint_eq(cfg.birth_ready_ms, 99); /* flag */
	ck_assert_uint_eq(cfg.birth_max_ms, 53000);
	ck_assert_uint_eq(cfg.window_s, 54);
	ck_assert_uint_eq(cfg.sample_ms, 5500);
	ck_assert_uint_eq(cfg.max_births, 56);
	ck_assert_uint_eq(cfg.ring_bytes, 16384); /* flag */
	ck_assert_int_eq(cfg.episode_hook, KG_CHOOSE_SWITCH);
	ck_assert_int_eq(cfg.syscall_hooks, KG_SYSCALLS_ALWAYS);
	ck_assert(!cfg.show_help);
	ck_assert(!cfg.show_version);
}
END_TEST

START_TEST(test_last_flag_wins)
{
	struct kg_config cfg;

	ck_assert_int_eq(parse(&cfg, NOENV,
			       ARGS("--window-s", "5", "--window-s=7", "--log-level=debug",
				    "--log-level", "warn", "--standalone=false", "--standalone")),
			 0);
	ck_assert_uint_eq(cfg.window_s, 7);
	ck_assert_int_eq(cfg.log_level, KG_LOG_WARN);
	ck_assert(cfg.standalone);
	/* only the first '=' separates: the rest is the value */
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--output-dir=/a=b")), 0);
	ck_assert_str_eq(cfg.output_dir, "/a=b");
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--window-s=5=6")), -1);
	ck_assert_str_eq(err, "invalid flag --window-s=5=6: " WHOLE);
}
END_TEST

/* ---- argument errors ---- */

static const char *const unknown_args[] = {
	"--nope",
	"nope",
	"-h",
	"-help",
	"--",
	"-",
	"",
	"--window",
	"--window-s-x=5",
	"--WINDOW-S=5",
	"--help-me",
	"--versions",
	"--standalonex",
	"=5",
	"--=5",
	"window-s=5",
	"---window-s=5",
	"--track-cgroups",
	"--log_level=info",
	"--output-dir\t",
};

START_TEST(test_unknown_argument)
{
	struct kg_config cfg;
	char want[256];

	snprintf(want, sizeof(want), "unknown argument %s (see --help)", unknown_args[_i]);
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS(unknown_args[_i])), -1);
	ck_assert_str_eq(err, want);
	/* wherever it is */
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--window-s", "5", unknown_args[_i], "--help")),
			 -1);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_missing_value)
{
	const struct opt *o = &opts[_i];
	struct kg_config cfg;
	char want[256];

	if (!o->arg) {
		/* flags without a value are complete on their own at the end */
		ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--window-s=5", o->flag)), 0);
		return;
	}
	snprintf(want, sizeof(want), "flag %s needs a value (%s)", o->flag, o->arg);
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS(o->flag)), -1);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--window-s=5", "--help", o->flag)), -1);
	ck_assert_str_eq(err, want);
	/* a good variable does not supply a missing flag value */
	if (o->env) {
		char envvar[128];

		snprintf(envvar, sizeof(envvar), "%s=%s", o->env, o->good);
		ck_assert_int_eq(parse(&cfg, ENV(envvar), ARGS(o->flag)), -1);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

START_TEST(test_next_argument_is_the_value)
{
	struct kg_config cfg;

	/* the separate form takes the next argument whatever it looks like */
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--window-s", "--help")), -1);
	ck_assert_str_eq(err, "invalid flag --window-s=--help: " WHOLE);
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--log-level", "--version")), -1);
	ck_assert_str_eq(err, "invalid flag --log-level=--version: expected error, warn, info or "
			      "debug");
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--output-dir", "--help")), 0);
	ck_assert_str_eq(cfg.output_dir, "--help");
	ck_assert(!cfg.show_help);
}
END_TEST

START_TEST(test_help_version)
{
	struct kg_config cfg, want;

	kg_config_defaults(&want);
	want.show_help = true;
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--help")), 0);
	assert_cfg_eq(&cfg, &want, "--help");
	want.show_help = false;
	want.show_version = true;
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--version")), 0);
	assert_cfg_eq(&cfg, &want, "--version");
	/* --help does not stop parsing: a later bad flag is still reported */
	ck_assert_int_eq(parse(&cfg, NOENV, ARGS("--help", "--window-s=0")), -1);
	ck_assert_str_eq(err, "invalid flag --window-s=0: " RANGE(1, 3600));
	/* there is no environment variable for either */
	ck_assert_int_eq(parse(&cfg, ENV("KG_HELP=1", "KG_VERSION=1", "KG_SHOW_HELP=1"), NOARGS),
			 0);
	ck_assert(!cfg.show_help);
	ck_assert(!cfg.show_version);
}
END_TEST

START_TEST(test_usage)
{
	char *text = NULL, line[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	kg_config_usage(f, "kg-agent");
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "Usage: kg-agent [OPTIONS]\n"));
	ck_assert_ptr_nonnull(strstr(text, "Exit codes: 0 clean stop, 1 runtime failure, 2 bad "
					   "configuration.\n"));
	/* every option, with its value name and its variable on its line */
	for (int i = 0; i < O_NR; i++) {
		const struct opt *o = &opts[i];
		const char *at;
		const char *eol;

		snprintf(line, sizeof(line), "\n  %s%s%s ", o->flag, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		at = strstr(text, line);
		ck_assert_msg(at != NULL, "no line for %s", o->flag);
		eol = strchr(at + 1, '\n');
		ck_assert_ptr_nonnull(eol);
		if (o->env) {
			snprintf(line, sizeof(line), " [$%s]\n", o->env);
			ck_assert_int_eq(strncmp(eol - strlen(line) + 1, line, strlen(line)), 0);
		} else {
			ck_assert_int_ne(eol[-1], ']');
		}
	}
	/* the documented defaults are the real ones */
	ck_assert_ptr_nonnull(strstr(text, "(default 1000)"));
	ck_assert_ptr_nonnull(strstr(text, "(default 250)"));
	ck_assert_ptr_nonnull(strstr(text, "(default 30000)"));
	ck_assert_ptr_nonnull(strstr(text, "(default 60)"));
	ck_assert_ptr_nonnull(strstr(text, "(default 512,"));
	ck_assert_ptr_nonnull(strstr(text, "(default 1048576)"));
	ck_assert_ptr_nonnull(strstr(text, "(default /kubepods,/kubepods.slice)"));
	ck_assert_ptr_nonnull(strstr(text, "(default /var/lib/kernel-gossip)"));
	free(text);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_parse_nothing);
	tcase_add_test(tc, test_env_names_asked);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_good, 0, N(good_cases));
	tcase_add_test(tc, test_flag_without_value_ignores_next);
	tcase_add_loop_test(tc, test_bad, 0, N(bad_cases));
	tcase_add_test(tc, test_output_dir_length);
	tcase_add_test(tc, test_bad_env_with_good_flag);
	tcase_add_test(tc, test_error_truncated);
	tcase_add_test(tc, test_everything_at_once);
	tcase_add_test(tc, test_last_flag_wins);
	suite_add_tcase(s, tc);

	tc = tcase_create("prefixes");
	tcase_add_test(tc, test_prefixes);
	suite_add_tcase(s, tc);

	tc = tcase_create("arguments");
	tcase_add_loop_test(tc, test_unknown_argument, 0, N(unknown_args));
	tcase_add_loop_test(tc, test_missing_value, 0, O_NR);
	tcase_add_test(tc, test_next_argument_is_the_value);
	tcase_add_test(tc, test_help_version);
	tcase_add_test(tc, test_usage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
