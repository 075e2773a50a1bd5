// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup_path.c - kubelet's cgroup layouts, parsed; cgroup paths, named.
 *
 * Pure string work over the caller's buffers: no I/O, no allocation, no global
 * state. Paths are walked as (pointer, length) spans into the caller's string
 * rather than copied, so a hostile 4 KiB path costs nothing but one pass, and
 * every field of the result is written only once its value is known to be
 * valid. The path is validated in full before anything is parsed, so parsing
 * can assume well-formed components. The rules are documented in
 * cgroup_path.h; this file only implements them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cgroup_path.h"

/* A component of a path: not NUL-terminated, points into the caller's string. */
struct span {
	const char *s;
	size_t len;
};

static bool span_is(struct span c, const char *lit)
{
	size_t n = strlen(lit);

	return c.len == n && memcmp(c.s, lit, n) == 0;
}

/* If c starts with the n bytes at p, drop them from c. */
static bool eat_prefix(struct span *c, const char *p, size_t n)
{
	if (c->len < n || memcmp(c->s, p, n) != 0)
		return false;
	c->s += n;
	c->len -= n;
	return true;
}

static bool eat_lit(struct span *c, const char *lit)
{
	return eat_prefix(c, lit, strlen(lit));
}

/* If c ends with lit, drop it from c. */
static bool eat_suffix(struct span *c, const char *lit)
{
	size_t n = strlen(lit);

	if (c->len < n || memcmp(c->s + c->len - n, lit, n) != 0)
		return false;
	c->len -= n;
	return true;
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool is_alnum(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static char to_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Copy a short literal into a fixed field; the literals used all fit. */
static void set_str(char *dst, size_t dstsz, const char *src)
{
	size_t n = strnlen(src, dstsz - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Split off the component after the '/' at *p and leave *p at the '/' (or NUL)
 * that ends it. False when *p is at the end of the string.
 */
static bool next_comp(const char **p, struct span *c)
{
	const char *s = *p;

	if (*s != '/')
		return false;
	c->s = ++s;
	while (*s != '\0' && *s != '/')
		s++;
	c->len = (size_t)(s - c->s);
	*p = s;
	return true;
}

/* The -EINVAL rules of kg_cgroup_parse(), all of them, before anything is parsed. */
static bool path_valid(const char *path)
{
	const char *p = path;
	struct span c;
	size_t len, i;

	if (!path || path[0] != '/')
		return false;
	len = strnlen(path, KG_CGROUP_PATH_MAX);
	if (len >= KG_CGROUP_PATH_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)path[i];

		if (ch < 0x20 || ch > 0x7e)
			return false;
	}
	if (len == 1)
		return true; /* "/": the root, the only path allowed to end in '/' */
	while (next_comp(&p, &c)) {
		if (c.len == 0 || c.len > KG_CGROUP_NAME_MAX || span_is(c, ".") || span_is(c, ".."))
			return false;
	}
	return true;
}

/*
 * A pod uid: 8-4-4-4-12 hex digits joined by sep ('-' for cgroupfs, '_' for
 * systemd, which reserves '-' for its slice hierarchy). Written to out, dashed
 * and lowercase, only when the whole uid is valid.
 */
static bool parse_uid(struct span c, char sep, char out[KG_POD_UID_LEN])
{
	char uid[KG_POD_UID_LEN];
	size_t i;

	if (c.len != KG_POD_UID_LEN - 1)
		return false;
	for (i = 0; i < c.len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c.s[i] != sep)
				return false;
			uid[i] = '-';
		} else {
			if (!is_hex(c.s[i]))
				return false;
			uid[i] = to_lower(c.s[i]);
		}
	}
	uid[i] = '\0';
	memcpy(out, uid, sizeof(uid));
	return true;
}

/* A container id: KG_CONTAINER_ID_MIN..64 hex digits, written lowercase when valid. */
static bool parse_container_id(struct span c, char out[KG_CONTAINER_ID_LEN])
{
	size_t i;

	if (c.len < KG_CONTAINER_ID_MIN || c.len > KG_CONTAINER_ID_LEN - 1)
		return false;
	for (i = 0; i < c.len; i++) {
		if (!is_hex(c.s[i]))
			return false;
	}
	for (i = 0; i < c.len; i++)
		out[i] = to_lower(c.s[i]);
	out[i] = '\0';
	return true;
}

/* Runtime-prefixed container cgroup names; "crio-conmon-" must precede "crio-". */
static const struct {
	const char *prefix;
	const char *runtime;
} container_prefixes[] = {
	{ "cri-containerd-", "containerd" },
	{ "crio-conmon-", "conmon" },
	{ "crio-", "cri-o" },
	{ "docker-", "docker" },
};

/* The component under a pod: "<id>", or "<prefix><id>" with an optional ".scope". */
static bool parse_container(struct span c, struct kg_cgroup_identity *id)
{
	size_t i;

	for (i = 0; i < sizeof(container_prefixes) / sizeof(container_prefixes[0]); i++) {
		struct span rest = c;

		if (!eat_lit(&rest, container_prefixes[i].prefix))
			continue;
		eat_suffix(&rest, ".scope");
		if (!parse_container_id(rest, id->container_id))
			return false;
		set_str(id->runtime, sizeof(id->runtime), container_prefixes[i].runtime);
		return true;
	}
	return parse_container_id(c, id->container_id); /* runtime unknown */
}

/* systemd names a child slice "<parent stem>-<rest>.slice"; find rest. */
static bool systemd_child(struct span c, struct span stem, struct span *rest)
{
	if (!eat_prefix(&c, stem.s, stem.len) || !eat_lit(&c, "-") || !eat_suffix(&c, ".slice"))
		return false;
	*rest = c;
	return true;
}

/*
 * The systemd driver's root: "kubepods.slice" anywhere, or "<p>-kubepods.slice"
 * directly under "<p>.slice" (kubelet's --cgroup-root, e.g. kind's
 * "/kubelet.slice/kubelet-kubepods.slice"). stem is the name without ".slice",
 * the prefix of every slice kubelet puts below it.
 */
static bool systemd_anchor(struct span prev, struct span c, struct span *stem)
{
	struct span s = c, parent = prev, t;

	if (!eat_suffix(&s, ".slice"))
		return false;
	t = s;
	if (!span_is(s, "kubepods")) {
		if (!eat_suffix(&t, "-kubepods") || t.len == 0 || !eat_suffix(&parent, ".slice") ||
		    parent.len != t.len || memcmp(parent.s, t.s, t.len) != 0)
			return false;
	}
	*stem = s;
	return true;
}

static bool parse_qos(struct span c, enum kg_qos *qos)
{
	if (span_is(c, "burstable"))
		*qos = KG_QOS_BURSTABLE;
	else if (span_is(c, "besteffort"))
		*qos = KG_QOS_BESTEFFORT;
	else
		return false;
	return true;
}

/* A pod component for the driver: "pod<dashed uid>" or "<stem>-pod<underscored uid>.slice". */
static bool parse_pod(struct span c, struct kg_cgroup_identity *id, struct span stem)
{
	if (id->driver == KG_DRIVER_SYSTEMD) {
		if (!systemd_child(c, stem, &c))
			return false;
		return eat_lit(&c, "pod") && parse_uid(c, '_', id->pod_uid);
	}
	return eat_lit(&c, "pod") && parse_uid(c, '-', id->pod_uid);
}

/*
 * Try to go one level down kubelet's layout with component c. On success update
 * id (and, for systemd, the stem that names the next level).
 */
static bool descend(struct kg_cgroup_identity *id, struct span *stem, struct span c)
{
	struct span rest;
	enum kg_qos qos;

	switch (id->kind) {
	case KG_CG_KUBE_ROOT:
		if (id->driver == KG_DRIVER_SYSTEMD) {
			if (systemd_child(c, *stem, &rest) && parse_qos(rest, &qos)) {
				stem->s = c.s; /* "<stem>-<qos>" names the pods below */
				stem->len = c.len - strlen(".slice");
				id->qos = qos;
				id->kind = KG_CG_QOS;
				return true;
			}
		} else if (parse_qos(c, &qos)) {
			id->qos = qos;
			id->kind = KG_CG_QOS;
			return true;
		}
		if (!parse_pod(c, id, *stem))
			return false;
		id->qos = KG_QOS_GUARANTEED;
		id->kind = KG_CG_POD;
		return true;
	case KG_CG_QOS:
		if (!parse_pod(c, id, *stem))
			return false;
		id->kind = KG_CG_POD;
		return true;
	case KG_CG_POD:
		if (!parse_container(c, id))
			return false;
		id->kind = KG_CG_CONTAINER;
		return true;
	default:
		return false; /* nothing kubelet names lives below a container */
	}
}

int kg_cgroup_parse(const char *path, struct kg_cgroup_identity *id)
{
	struct span c, prev = { NULL, 0 }, stem = { NULL, 0 };
	enum kg_cgroup_driver driver = KG_DRIVER_NONE;
	const char *p = path;

	if (!id)
		return -EINVAL;
	memset(id, 0, sizeof(*id));
	if (!path_valid(path))
		return -EINVAL;
	if (path[1] == '\0')
		return 0; /* "/" */

	/* The first kubepods component anchors the match; what precedes it is a prefix. */
	while (next_comp(&p, &c)) {
		if (span_is(c, "kubepods")) {
			driver = KG_DRIVER_CGROUPFS;
			break;
		}
		if (systemd_anchor(prev, c, &stem)) {
			driver = KG_DRIVER_SYSTEMD;
			break;
		}
		prev = c;
	}
	if (driver == KG_DRIVER_NONE)
		return 0;

	id->driver = driver;
	id->kind = KG_CG_KUBE_ROOT;
	/* Once a component does not match, everything after it is merely nested. */
	while (next_comp(&p, &c)) {
		if (id->nested == 0 && descend(id, &stem, c))
			continue;
		id->nested++;
	}
	return 0;
}

static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/* Append "-" and 8 lowercase hex digits of h at out + n; return the new length. */
static size_t put_hash(char *out, size_t n, uint32_t h)
{
	static const char digits[] = "0123456789abcdef";
	int shift;

	out[n++] = '-';
	for (shift = 28; shift >= 0; shift -= 4)
		out[n++] = digits[(h >> shift) & 0xf];
	return n;
}

int kg_cgroup_object_name(const char *path, char *out, size_t outsz, size_t max)
{
	const size_t hash_len = 1 + 8; /* "-" + 8 hex */
	size_t limit, n = 0, run = 0;
	bool run_is_dot = false, overflow = false;
	const char *s;

	if (!path || path[0] == '\0' || !out || outsz < KG_OBJECT_NAME_MIN + 1)
		return -EINVAL;
	if (max != 0 && max < KG_OBJECT_NAME_MIN)
		return -EINVAL;
	if (max == 0 || max > KG_OBJECT_NAME_MAX)
		max = KG_OBJECT_NAME_MAX;
	limit = max < outsz - 1 ? max : outsz - 1;

	if (strcmp(path, "/") == 0) {
		set_str(out, outsz, "root");
		return 4;
	}

	/*
	 * Keep alphanumerics (lowercased); a run of anything else becomes one
	 * separator, emitted only between two alphanumerics, so the name and each
	 * of its dot-separated labels start and end alphanumeric.
	 */
	for (s = path; *s != '\0'; s++) {
		if (!is_alnum(*s)) {
			run_is_dot = run == 0 && *s == '.'; /* a run of exactly one '.' */
			run++;
			continue;
		}
		if (n > 0 && run > 0) {
			if (n == limit) {
				overflow = true;
				break;
			}
			out[n++] = run_is_dot ? '.' : '-';
		}
		run = 0;
		if (n == limit) {
			overflow = true;
			break;
		}
		out[n++] = to_lower(*s);
	}

	if (n == 0) {
		/* Nothing nameable: "cgroup-<hash>" (15 chars, limit is at least that). */
		memcpy(out, "cgroup", 6);
		n = put_hash(out, 6, fnv1a32(path));
	} else if (overflow) {
		n = limit - hash_len;
		while (out[n - 1] == '-' || out[n - 1] == '.')
			n--; /* out[0] is alphanumeric, so this stops */
		n = put_hash(out, n, fnv1a32(path));
	}
	out[n] = '\0';
	return (int)n;
}

const char *kg_cgroup_kind_name(enum kg_cgroup_kind k)
{
	switch (k) {
	case KG_CG_OTHER:
		return "other";
	case KG_CG_KUBE_ROOT:
		return "kube-root";
	case KG_CG_QOS:
		return "qos";
	case KG_CG_POD:
		return "pod";
	case KG_CG_CONTAINER:
		return "container";
	}
	return "unknown";
}

const char *kg_qos_name(enum kg_qos q)
{
	switch (q) {
	case KG_QOS_NONE:
		return "";
	case KG_QOS_GUARANTEED:
		return "guaranteed";
	case KG_QOS_BURSTABLE:
		return "burstable";
	case KG_QOS_BESTEFFORT:
		return "besteffort";
	}
	return "unknown";
}

const char *kg_driver_name(enum kg_cgroup_driver d)
{
	switch (d) {
	case KG_DRIVER_NONE:
		return "";
	case KG_DRIVER_CGROUPFS:
		return "cgroupfs";
	case KG_DRIVER_SYSTEMD:
		return "systemd";
	}
	return "unknown";
}
