// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_debug_proto.c - unit tests for agent/debug_proto.c: the debug
 * socket's request parser and dispatcher, without a socket.
 *
 * Every request form is parsed (JSON object and words), every malformed
 * input gets the exact error a client sees, and the dispatcher is driven
 * through a fake source that records what it was asked, so the envelope
 * ({"ok","cmd",<cmd>} or {"error"}, "id" echoed) is checked end to end.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "debug_proto.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- parsing: good requests ---- */

struct good {
	const char *line;
	enum kg_dbg_cmd cmd;
	const char *pod;
	unsigned limit;
	const char *id;	/* JSON text of the echoed id, NULL if none */
};

static const struct good goods[] = {
	{ "{\"cmd\":\"status\"}", KG_DBG_STATUS, "", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "  {\"cmd\": \"status\"}  \r", KG_DBG_STATUS, "", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "{\"cmd\":\"cgroups\"}", KG_DBG_CGROUPS, "", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "{\"cmd\":\"cgroups\",\"pod\":\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"}", KG_DBG_CGROUPS,
	  "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "{\"cmd\":\"births\"}", KG_DBG_BIRTHS, "", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "{\"cmd\":\"births\",\"limit\":3}", KG_DBG_BIRTHS, "", 3, NULL },
	{ "{\"cmd\":\"whispers\",\"limit\":0}", KG_DBG_WHISPERS, "", 0, NULL },
	{ "{\"limit\":1000000,\"cmd\":\"whispers\"}", KG_DBG_WHISPERS, "", 1000000, NULL },
	{ "{\"cmd\":\"explain\",\"pod\":\"web-1\"}", KG_DBG_EXPLAIN, "web-1", KG_DBG_DEFAULT_LIMIT,
	  NULL },
	{ "{\"cmd\":\"explain\",\"pod\":\"default/web-1\",\"id\":7}", KG_DBG_EXPLAIN,
	  "default/web-1", KG_DBG_DEFAULT_LIMIT, "7" },
	{ "{\"cmd\":\"watch\",\"id\":\"w1\"}", KG_DBG_WATCH, "", KG_DBG_DEFAULT_LIMIT, "\"w1\"" },
	{ "{\"id\":null,\"cmd\":\"status\"}", KG_DBG_STATUS, "", KG_DBG_DEFAULT_LIMIT, NULL },
	/* the same as words, for people at a terminal */
	{ "status", KG_DBG_STATUS, "", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "  watch\t", KG_DBG_WATCH, "", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "cgroups", KG_DBG_CGROUPS, "", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "cgroups pod-1", KG_DBG_CGROUPS, "pod-1", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "births 5", KG_DBG_BIRTHS, "", 5, NULL },
	{ "whispers", KG_DBG_WHISPERS, "", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "explain web-1", KG_DBG_EXPLAIN, "web-1", KG_DBG_DEFAULT_LIMIT, NULL },
	{ "explain   kube-system/coredns-5d78c9869d-x2x4f  ", KG_DBG_EXPLAIN,
	  "kube-system/coredns-5d78c9869d-x2x4f", KG_DBG_DEFAULT_LIMIT, NULL },
};

START_TEST(test_parse_good)
{
	const struct good *g = &goods[_i];
	struct kg_dbg_req req;
	char err[256] = "";

	ck_assert_msg(kg_dbg_parse(g->line, strlen(g->line), &req, err, sizeof(err)) == 0,
		      "%s: %s", g->line, err);
	ck_assert_int_eq(req.cmd, g->cmd);
	ck_assert_str_eq(req.pod, g->pod);
	ck_assert_uint_eq(req.limit, g->limit);
	if (g->id)
		ck_assert_str_eq(json_object_to_json_string_ext(req.id, JSON_C_TO_STRING_PLAIN), g->id);
	else
		ck_assert_ptr_null(req.id);
	json_object_put(req.id);
}
END_TEST

/* ---- parsing: bad requests, with the exact answer ---- */

struct bad {
	const char *line;
	const char *why;
};

#define LIST "(expected status, cgroups, births, whispers, explain, watch)"

static const struct bad bads[] = {
	{ "{", "invalid JSON: the object is not complete on this line" },
	{ "{\"cmd\":\"status\"", "invalid JSON: the object is not complete on this line" },
	{ "{\"cmd\":status}", NULL /* json-c's own wording: checked to start with invalid JSON */ },
	{ "{\"cmd\":\"status\"} {", "invalid JSON: trailing characters after the object" },
	{ "{\"cmd\":\"status\"}x", "invalid JSON: trailing characters after the object" },
	{ "{}", "missing \"cmd\" " LIST },
	{ "{\"command\":\"status\"}", "missing \"cmd\" " LIST },
	{ "{\"cmd\":1}", "\"cmd\" must be a string" },
	{ "{\"cmd\":null}", "\"cmd\" must be a string" },
	{ "{\"cmd\":[\"status\"]}", "\"cmd\" must be a string" },
	{ "{\"cmd\":\"\"}", "unknown request \"\" " LIST },
	{ "{\"cmd\":\"STATUS\"}", "unknown request \"STATUS\" " LIST },
	{ "{\"cmd\":\"shutdown\"}", "unknown request \"shutdown\" " LIST },
	{ "{\"cmd\":\"a\\\"b\"}", "unknown request \"a?b\" " LIST },	/* quotes never echoed */
	{ "{\"cmd\":\"status\",\"verbose\":true}", "unknown field \"verbose\" (cmd, pod, limit, id)" },
	{ "{\"cmd\":\"status\",\"pod\":\"x\"}", "status takes no \"pod\"" },
	{ "{\"cmd\":\"watch\",\"limit\":3}", "watch takes no \"limit\"" },
	{ "{\"cmd\":\"births\",\"pod\":\"x\"}", "births takes no \"pod\"" },
	{ "{\"cmd\":\"explain\"}", "explain needs \"pod\": a pod uid or name" },
	{ "{\"cmd\":\"explain\",\"pod\":\"\"}", "explain: \"pod\" must not be empty" },
	{ "{\"cmd\":\"explain\",\"pod\":1}", "\"pod\" must be a string" },
	{ "{\"cmd\":\"explain\",\"pod\":\"a b\"}",
	  "explain: \"pod\" holds a blank, quote, control or non-ASCII character" },
	{ "{\"cmd\":\"explain\",\"pod\":\"a\\nb\"}",
	  "explain: \"pod\" holds a blank, quote, control or non-ASCII character" },
	{ "{\"cmd\":\"births\",\"limit\":-1}", "\"limit\" must be 0 to 1000000" },
	{ "{\"cmd\":\"births\",\"limit\":1000001}", "\"limit\" must be 0 to 1000000" },
	{ "{\"cmd\":\"births\",\"limit\":\"5\"}", "\"limit\" must be a whole number" },
	{ "{\"cmd\":\"births\",\"limit\":1.5}", "\"limit\" must be a whole number" },
	{ "{\"cmd\":\"status\",\"id\":{}}", "\"id\" must be a string or a number" },
	{ "{\"cmd\":\"status\",\"id\":[1]}", "\"id\" must be a string or a number" },
	{ "[\"status\"]", "unknown request \"[?status?]\" " LIST },	/* quotes never echoed */
	{ "\"status\"", "unknown request \"?status?\" " LIST },
	{ "{\"cmd\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{}}}}}}}}}", NULL },	/* too deep */
	{ "bogus", "unknown request \"bogus\" " LIST },
	{ "status now", "status takes no argument" },
	{ "watch all", "watch takes no argument" },
	{ "explain", "explain needs \"pod\": a pod uid or name" },
	{ "births five", "births: limit must be a whole number" },
	{ "births -1", "births: limit must be a whole number" },
	{ "explain a\"b", "explain: \"pod\" holds a blank, quote, control or non-ASCII character" },
	{ "explain a\x01", "explain: \"pod\" holds a blank, quote, control or non-ASCII character" },
	{ "explain a b", "explain: \"pod\" holds a blank, quote, control or non-ASCII character" },
	{ "explain caf\xc3\xa9", "explain: \"pod\" holds a blank, quote, control or non-ASCII character" },
	{ "\xff\xfe", "unknown request \"??\" " LIST },
};

START_TEST(test_parse_bad)
{
	const struct bad *b = &bads[_i];
	struct kg_dbg_req req;
	char err[256] = "";

	ck_assert_msg(kg_dbg_parse(b->line, strlen(b->line), &req, err, sizeof(err)) == -1,
		      "accepted: %s", b->line);
	if (b->why)
		ck_assert_str_eq(err, b->why);
	else
		ck_assert_msg(!strncmp(err, "invalid JSON: ", 14) || !strncmp(err, "\"cmd\"", 5),
			      "%s: %s", b->line, err);
	ck_assert_ptr_null(req.id);	/* nothing to free after an error */
}
END_TEST

START_TEST(test_parse_limits)
{
	static char line[KG_DBG_MAX_LINE + 64], pod[KG_DBG_POD_LEN + 8];
	struct kg_dbg_req req;
	char err[256];
	int n;

	/* a line of exactly KG_DBG_MAX_LINE bytes is parsed; one more is refused unread */
	n = snprintf(line, sizeof(line), "{\"cmd\":\"status\",\"id\":\"");
	memset(line + n, 'x', KG_DBG_MAX_LINE - n - 2);
	memcpy(line + KG_DBG_MAX_LINE - 2, "\"}", 3);
	ck_assert_uint_eq(strlen(line), KG_DBG_MAX_LINE);
	ck_assert_int_eq(kg_dbg_parse(line, KG_DBG_MAX_LINE, &req, err, sizeof(err)), 0);
	json_object_put(req.id);
	ck_assert_int_eq(kg_dbg_parse(line, KG_DBG_MAX_LINE + 1, &req, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "request line longer than 4096 bytes");

	/* pod: 255 bytes fit, 256 do not */
	memset(pod, 'p', KG_DBG_POD_LEN - 1);
	pod[KG_DBG_POD_LEN - 1] = 0;
	snprintf(line, sizeof(line), "explain %s", pod);
	ck_assert_int_eq(kg_dbg_parse(line, strlen(line), &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.pod, pod);
	strcat(pod, "p");
	snprintf(line, sizeof(line), "{\"cmd\":\"explain\",\"pod\":\"%s\"}", pod);
	ck_assert_int_eq(kg_dbg_parse(line, strlen(line), &req, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "explain: \"pod\" is too long");

	/* NUL bytes are refused (a C string would silently end there) */
	ck_assert_int_eq(kg_dbg_parse("status\0x", 8, &req, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "NUL byte in the request");
	{
		const char *nul = "{\"cmd\":\"st\\u0000atus\"}";

		ck_assert_int_eq(kg_dbg_parse(nul, strlen(nul), &req, err, sizeof(err)), -1);
		ck_assert_str_eq(err, "unknown request \"st\" " LIST);
	}
	/* empty */
	ck_assert_int_eq(kg_dbg_parse("", 0, &req, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "empty request");
	ck_assert_int_eq(kg_dbg_parse(" \r", 2, &req, err, sizeof(err)), -1);
	/* only len bytes are read: the rest of the buffer is not the request */
	ck_assert_int_eq(kg_dbg_parse("statusXYZ", 6, &req, err, sizeof(err)), 0);
	ck_assert_int_eq(req.cmd, KG_DBG_STATUS);
	/* a tiny error buffer is cut, not overrun */
	{
		char small[8];

		memset(small, 'Z', sizeof(small));
		ck_assert_int_eq(kg_dbg_parse("bogus", 5, &req, small, sizeof(small)), -1);
		ck_assert_str_eq(small, "unknown");
	}
}
END_TEST

/* ---- the dispatcher, through a fake source ---- */

static int asked_status, asked_cgroups, asked_recent, asked_explain;
static char asked_pod[300];
static enum kg_dbg_cmd asked_which;
static unsigned asked_limit;
static bool fail_explain;

static json_object *fake_status(void *ctx)
{
	json_object *o = json_object_new_object();

	asked_status++;
	json_object_object_add(o, "version", json_object_new_string((const char *)ctx));
	return o;
}

static json_object *fake_cgroups(void *ctx, const char *pod)
{
	asked_cgroups++;
	snprintf(asked_pod, sizeof(asked_pod), "%s", pod);
	return json_object_new_array();
}

static json_object *fake_recent(void *ctx, enum kg_dbg_cmd which, unsigned limit)
{
	json_object *o = json_object_new_object();

	asked_recent++;
	asked_which = which;
	asked_limit = limit;
	json_object_object_add(o, "count", json_object_new_int(0));
	return o;
}

static json_object *fake_explain(void *ctx, const char *pod, char *err, size_t errsz)
{
	asked_explain++;
	snprintf(asked_pod, sizeof(asked_pod), "%s", pod);
	if (fail_explain) {
		snprintf(err, errsz, "nothing known about pod \"%s\"", pod);
		return NULL;
	}
	return json_object_new_object();
}

static const struct kg_dbg_source fake = {
	.ctx = "v1.2.3",
	.status = fake_status,
	.cgroups = fake_cgroups,
	.recent = fake_recent,
	.explain = fake_explain,
};

static void reset(void)
{
	asked_status = asked_cgroups = asked_recent = asked_explain = 0;
	asked_pod[0] = 0;
	asked_limit = 0;
	fail_explain = false;
}

/* Dispatch, check it is one newline-terminated JSON line, return it parsed. */
static json_object *ask(const struct kg_dbg_source *src, const char *line, bool *watch)
{
	char *out = kg_dbg_dispatch(src, line, strlen(line), watch);
	json_object *o;
	size_t n;

	ck_assert_ptr_nonnull(out);
	n = strlen(out);
	ck_assert_uint_gt(n, 1);
	ck_assert_int_eq(out[n - 1], '\n');
	ck_assert_ptr_null(memchr(out, '\n', n - 1));	/* exactly one line */
	o = json_tokener_parse(out);
	ck_assert_msg(o != NULL, "not JSON: %s", out);
	free(out);
	return o;
}

static const char *field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

START_TEST(test_dispatch)
{
	json_object *r, *v;
	bool watch = true;

	reset();
	r = ask(&fake, "{\"cmd\":\"status\",\"id\":42}", &watch);
	ck_assert(!watch);
	ck_assert_int_eq(asked_status, 1);
	ck_assert_str_eq(field(r, "ok"), "true");
	ck_assert_str_eq(field(r, "cmd"), "status");
	ck_assert_str_eq(field(r, "id"), "42");
	ck_assert(json_object_object_get_ex(r, "status", &v));
	ck_assert_str_eq(field(v, "version"), "v1.2.3");
	ck_assert_ptr_null(field(r, "error"));
	json_object_put(r);

	r = ask(&fake, "cgroups 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", &watch);
	ck_assert_int_eq(asked_cgroups, 1);
	ck_assert_str_eq(asked_pod, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	ck_assert(json_object_object_get_ex(r, "cgroups", &v));
	ck_assert(json_object_is_type(v, json_type_array));
	json_object_put(r);

	r = ask(&fake, "whispers 7", &watch);
	ck_assert_int_eq(asked_which, KG_DBG_WHISPERS);
	ck_assert_uint_eq(asked_limit, 7);
	ck_assert(json_object_object_get_ex(r, "whispers", &v));
	json_object_put(r);

	r = ask(&fake, "{\"cmd\":\"births\"}", &watch);
	ck_assert_int_eq(asked_which, KG_DBG_BIRTHS);
	ck_assert_uint_eq(asked_limit, KG_DBG_DEFAULT_LIMIT);
	json_object_put(r);

	r = ask(&fake, "{\"cmd\":\"watch\"}", &watch);
	ck_assert(watch);
	ck_assert_str_eq(field(r, "watch"), "true");
	json_object_put(r);
}
END_TEST

START_TEST(test_dispatch_errors)
{
	json_object *r;
	bool watch = true;

	reset();
	/* a malformed request: an error, nothing asked of the source */
	r = ask(&fake, "{\"cmd\":", &watch);
	ck_assert(!watch);
	ck_assert_str_eq(field(r, "error"), "invalid JSON: the object is not complete on this line");
	ck_assert_ptr_null(field(r, "ok"));
	json_object_put(r);
	ck_assert_int_eq(asked_status + asked_cgroups + asked_recent + asked_explain, 0);

	/* the source's own error, with the id echoed */
	fail_explain = true;
	r = ask(&fake, "{\"cmd\":\"explain\",\"pod\":\"ghost\",\"id\":\"q\"}", &watch);
	ck_assert_int_eq(asked_explain, 1);
	ck_assert_str_eq(field(r, "error"), "nothing known about pod \"ghost\"");
	ck_assert_str_eq(field(r, "id"), "q");
	json_object_put(r);

	/* a source that cannot answer */
	{
		const struct kg_dbg_source none = { 0 };

		r = ask(&none, "status", &watch);
		ck_assert_str_eq(field(r, "error"), "not available");
		json_object_put(r);
	}
	/* watch after an error is still a watch: errors never end a connection */
	r = ask(&fake, "watch", &watch);
	ck_assert(watch);
	json_object_put(r);
}
END_TEST

START_TEST(test_dispatch_blank)
{
	bool watch = true;

	/* blank lines are allowed and unanswered (keep-alives, a stray Enter) */
	ck_assert_ptr_null(kg_dbg_dispatch(&fake, "", 0, &watch));
	ck_assert(!watch);
	ck_assert_ptr_null(kg_dbg_dispatch(&fake, "  \t\r", 4, &watch));
}
END_TEST

START_TEST(test_lines)
{
	char *l = kg_dbg_error_line("a \"quoted\"\nmessage");
	json_object *o;

	/* a newline inside a message is escaped: one response is always one line */
	ck_assert_str_eq(l, "{\"error\":\"a \\\"quoted\\\"\\nmessage\"}\n");
	free(l);
	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string("/kubepods/x"));
	l = kg_dbg_line(o);
	ck_assert_str_eq(l, "{\"path\":\"/kubepods/x\"}\n");	/* no \/ escaping */
	free(l);
	json_object_put(o);
	ck_assert_str_eq(kg_dbg_cmd_name(KG_DBG_EXPLAIN), "explain");
	ck_assert_str_eq(kg_dbg_cmd_name(KG_DBG_CMD_NR), "unknown");
	ck_assert_str_eq(kg_dbg_drop_name(KG_DBG_DROP_OUTPUT_FULL), "output_full");
	ck_assert_str_eq(kg_dbg_drop_name(KG_DBG_DROP_NR), "unknown");
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("debug_proto");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_good, 0, N(goods));
	tcase_add_loop_test(tc, test_parse_bad, 0, N(bads));
	tcase_add_test(tc, test_parse_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("dispatch");
	tcase_add_test(tc, test_dispatch);
	tcase_add_test(tc, test_dispatch_errors);
	tcase_add_test(tc, test_dispatch_blank);
	tcase_add_test(tc, test_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
