// SPDX-License-Identifier: GPL-2.0
/*
 * debug_proto.c - see debug_proto.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "debug_proto.h"

static const char *const kg_cmd_names[KG_DBG_CMD_NR] = {
	[KG_DBG_STATUS] = "status", [KG_DBG_CGROUPS] = "cgroups", [KG_DBG_BIRTHS] = "births",
	[KG_DBG_WHISPERS] = "whispers", [KG_DBG_EXPLAIN] = "explain", [KG_DBG_WATCH] = "watch",
};

static const char *const kg_drop_names[KG_DBG_DROP_NR] = {
	[KG_DBG_DROP_PERMISSION] = "permission", [KG_DBG_DROP_TOO_MANY] = "too_many_clients",
	[KG_DBG_DROP_OUTPUT_FULL] = "output_full", [KG_DBG_DROP_STALLED] = "stalled",
	[KG_DBG_DROP_IDLE] = "idle", [KG_DBG_DROP_ERROR] = "error",
};

const char *kg_dbg_cmd_name(enum kg_dbg_cmd c)
{
	return c < KG_DBG_CMD_NR ? kg_cmd_names[c] : "unknown";
}

const char *kg_dbg_drop_name(enum kg_dbg_drop r)
{
	return r < KG_DBG_DROP_NR ? kg_drop_names[r] : "unknown";
}

/* What a client sent, made safe to echo: printable ASCII without quotes, '?' for the rest. */
static void kg_printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
			*s = '?';
}

#define KG_CMD_LIST "status, cgroups, births, whispers, explain, watch"

__attribute__((format(printf, 3, 4))) static int kg_err(char *err, size_t errsz,
							 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/* A pod reference: uid, name or namespace/name: printable, no blanks, bounded. */
static int kg_set_pod(struct kg_dbg_req *req, const char *pod, size_t len, char *err,
		      size_t errsz)
{
	if (len == 0)
		return kg_err(err, errsz, "%s: \"pod\" must not be empty", kg_cmd_names[req->cmd]);
	if (len >= sizeof(req->pod))
		return kg_err(err, errsz, "%s: \"pod\" is too long", kg_cmd_names[req->cmd]);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = pod[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return kg_err(err, errsz,
				      "%s: \"pod\" holds a blank, quote, control or non-ASCII "
				      "character",
				      kg_cmd_names[req->cmd]);
	}
	memcpy(req->pod, pod, len);
	req->pod[len] = 0;
	return 0;
}

static int kg_find_cmd(const char *name, size_t len, enum kg_dbg_cmd *out)
{
	for (int c = 0; c < KG_DBG_CMD_NR; c++) {
		if (strlen(kg_cmd_names[c]) == len && !memcmp(kg_cmd_names[c], name, len)) {
			*out = c;
			return 0;
		}
	}
	return -1;
}

static int kg_check_args(struct kg_dbg_req *req, bool have_pod, bool have_limit, char *err,
			 size_t errsz)
{
	bool pod_ok = req->cmd == KG_DBG_EXPLAIN || req->cmd == KG_DBG_CGROUPS;
	bool limit_ok = req->cmd == KG_DBG_BIRTHS || req->cmd == KG_DBG_WHISPERS;

	if (have_pod && !pod_ok)
		return kg_err(err, errsz, "%s takes no \"pod\"", kg_cmd_names[req->cmd]);
	if (have_limit && !limit_ok)
		return kg_err(err, errsz, "%s takes no \"limit\"", kg_cmd_names[req->cmd]);
	if (req->cmd == KG_DBG_EXPLAIN && !have_pod)
		return kg_err(err, errsz, "%s needs \"pod\": a pod uid or name", "explain");
	return 0;
}

/* "status", "explain web-1", "births 5" */
static int kg_parse_words(const char *line, size_t len, struct kg_dbg_req *req, char *err,
			  size_t errsz)
{
	const char *w = line, *end = line + len, *arg;
	size_t wl;
	bool have_pod = false, have_limit = false;

	while (w < end && (*w == ' ' || *w == '\t'))
		w++;
	for (wl = 0; w + wl < end && w[wl] != ' ' && w[wl] != '\t'; wl++)
		;
	if (kg_find_cmd(w, wl, &req->cmd)) {
		char name[40];

		snprintf(name, sizeof(name), "%.*s", (int)(wl > 32 ? 32 : wl), w);
		kg_printable(name);
		return kg_err(err, errsz, "unknown request \"%s\" (expected " KG_CMD_LIST ")",
			      name);
	}
	arg = w + wl;
	while (arg < end && (*arg == ' ' || *arg == '\t'))
		arg++;
	while (end > arg && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (arg < end) {
		if (req->cmd == KG_DBG_BIRTHS || req->cmd == KG_DBG_WHISPERS) {
			unsigned long v = 0;

			for (const char *c = arg; c < end; c++) {
				if (*c < '0' || *c > '9' || v > 1000000)
					return kg_err(err, errsz, "%s: limit must be a whole number",
						      kg_cmd_names[req->cmd]);
				v = v * 10 + (*c - '0');
			}
			req->limit = v;
			have_limit = true;
		} else if (req->cmd == KG_DBG_EXPLAIN || req->cmd == KG_DBG_CGROUPS) {
			if (kg_set_pod(req, arg, end - arg, err, errsz))
				return -1;
			have_pod = true;
		} else {
			return kg_err(err, errsz, "%s takes no argument", kg_cmd_names[req->cmd]);
		}
	}
	return kg_check_args(req, have_pod, have_limit, err, errsz);
}

static int kg_parse_object(json_object *o, struct kg_dbg_req *req, char *err, size_t errsz)
{
	json_object *cmd = NULL;
	bool have_pod = false, have_limit = false;

	if (!json_object_object_get_ex(o, "cmd", &cmd))
		return kg_err(err, errsz, "%s", "missing \"cmd\" (expected " KG_CMD_LIST ")");
	if (!json_object_is_type(cmd, json_type_string))
		return kg_err(err, errsz, "%s", "\"cmd\" must be a string");
	if (kg_find_cmd(json_object_get_string(cmd), json_object_get_string_len(cmd), &req->cmd)) {
		char name[40];

		snprintf(name, sizeof(name), "%.32s", json_object_get_string(cmd));
		kg_printable(name);
		return kg_err(err, errsz, "unknown request \"%s\" (expected " KG_CMD_LIST ")",
			      name);
	}
	json_object_object_foreach(o, key, val)
	{
		if (!strcmp(key, "cmd"))
			continue;
		if (!strcmp(key, "id")) {
			if (json_object_is_type(val, json_type_object) ||
			    json_object_is_type(val, json_type_array))
				return kg_err(err, errsz, "%s", "\"id\" must be a string or a number");
			req->id = json_object_get(val);
		} else if (!strcmp(key, "pod")) {
			if (!json_object_is_type(val, json_type_string))
				return kg_err(err, errsz, "%s", "\"pod\" must be a string");
			if (kg_set_pod(req, json_object_get_string(val),
				       json_object_get_string_len(val), err, errsz))
				return -1;
			have_pod = true;
		} else if (!strcmp(key, "limit")) {
			int64_t v;

			if (!json_object_is_type(val, json_type_int))
				return kg_err(err, errsz, "%s", "\"limit\" must be a whole number");
			v = json_object_get_int64(val);
			if (v < 0 || v > 1000000)
				return kg_err(err, errsz, "%s", "\"limit\" must be 0 to 1000000");
			req->limit = v;
			have_limit = true;
		} else {
			char name[40];

			snprintf(name, sizeof(name), "%.32s", key);
			kg_printable(name);
			return kg_err(err, errsz, "unknown field \"%s\" (cmd, pod, limit, id)", name);
		}
	}
	return kg_check_args(req, have_pod, have_limit, err, errsz);
}

int kg_dbg_parse(const char *line, size_t len, struct kg_dbg_req *req, char *err, size_t errsz)
{
	json_tokener *tok;
	json_object *o;
	int ret;

	memset(req, 0, sizeof(*req));
	req->limit = KG_DBG_DEFAULT_LIMIT;
	if (len > KG_DBG_MAX_LINE) {
		snprintf(err, errsz, "request line longer than %d bytes", KG_DBG_MAX_LINE);
		return -1;
	}
	if (memchr(line, 0, len))
		return kg_err(err, errsz, "%s", "NUL byte in the request");
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	if (!len)
		return kg_err(err, errsz, "%s", "empty request");
	if (*line != '{')
		return kg_parse_words(line, len, req, err, errsz);

	tok = json_tokener_new_ex(8);	/* a request is flat: depth 8 is plenty */
	if (!tok)
		return kg_err(err, errsz, "%s", "out of memory");
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		if (o)
			snprintf(err, errsz, "invalid JSON: trailing characters after the object");
		else if (e == json_tokener_continue)
			snprintf(err, errsz, "invalid JSON: the object is not complete on this line");
		else
			snprintf(err, errsz, "invalid JSON: %s", json_tokener_error_desc(e));
		json_object_put(o);
		json_tokener_free(tok);
		return -1;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return kg_err(err, errsz, "%s", "a request is a JSON object");
	}
	ret = kg_parse_object(o, req, err, errsz);
	json_object_put(o);
	if (ret) {
		json_object_put(req->id);
		req->id = NULL;
	}
	return ret;
}

char *kg_dbg_line(json_object *o)
{
	size_t n;
	const char *s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char *line = s ? malloc(n + 2) : NULL;

	if (!line)
		return NULL;
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = 0;
	return line;
}

char *kg_dbg_error_line(const char *msg)
{
	json_object *o = json_object_new_object();
	char *line;

	json_object_object_add(o, "error", json_object_new_string(msg));
	line = kg_dbg_line(o);
	json_object_put(o);
	return line;
}

static char *kg_dbg_error_id(const char *msg, json_object *id)
{
	json_object *o = json_object_new_object();
	char *line;

	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	json_object_object_add(o, "error", json_object_new_string(msg));
	line = kg_dbg_line(o);
	json_object_put(o);
	return line;
}

char *kg_dbg_dispatch(const struct kg_dbg_source *src, const char *line, size_t len, bool *watch)
{
	struct kg_dbg_req req;
	json_object *resp, *body = NULL;
	char err[256] = "";
	char *out;

	*watch = false;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return NULL;	/* blank lines are allowed and unanswered */
	if (kg_dbg_parse(line, len, &req, err, sizeof(err)))
		return kg_dbg_error_line(err);

	switch (req.cmd) {
	case KG_DBG_STATUS:
		body = src->status ? src->status(src->ctx) : NULL;
		break;
	case KG_DBG_CGROUPS:
		body = src->cgroups ? src->cgroups(src->ctx, req.pod) : NULL;
		break;
	case KG_DBG_BIRTHS:
	case KG_DBG_WHISPERS:
		body = src->recent ? src->recent(src->ctx, req.cmd, req.limit) : NULL;
		break;
	case KG_DBG_EXPLAIN:
		body = src->explain ? src->explain(src->ctx, req.pod, err, sizeof(err)) : NULL;
		break;
	case KG_DBG_WATCH:
		body = json_object_new_boolean(1);
		*watch = true;
		break;
	default:
		break;
	}
	if (!body) {
		out = kg_dbg_error_id(err[0] ? err : "not available", req.id);
		json_object_put(req.id);
		return out;
	}
	resp = json_object_new_object();
	if (req.id)
		json_object_object_add(resp, "id", req.id);
	json_object_object_add(resp, "ok", json_object_new_boolean(1));
	json_object_object_add(resp, "cmd", json_object_new_string(kg_cmd_names[req.cmd]));
	json_object_object_add(resp, kg_cmd_names[req.cmd], body);
	out = kg_dbg_line(resp);
	json_object_put(resp);
	return out;
}
