// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_cgroup_path.c - unit tests for agent/cgroup_path.c.
 *
 * Table-driven: every kubelet layout for both cgroup drivers and all QoS
 * classes, runtime prefixes, prefixes above kubepods, sub-cgroups, non-Kubernetes
 * paths and hostile input, each row asserting every field of the result (and
 * the whole struct, bytes included, against one built from the row). Expected
 * object names, hashes included, come from an independent reference
 * implementation, not from this code. A seeded generator then throws
 * Kubernetes-flavoured garbage at both functions and checks the invariants
 * that must hold for any input. Every object name produced anywhere in this
 * file goes through the same RFC 1123 checker.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_path.h"

/* String literals built by repetition, so long inputs stay readable. */
#define REP2(s) s s
#define REP4(s) REP2(s) REP2(s)
#define REP5(s) REP4(s) s
#define REP9(s) REP5(s) REP4(s)
#define REP10(s) REP5(s) REP5(s)

#define UID "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define UIDU "0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0" /* systemd spelling */
#define UID_UPPER "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
#define UIDU_UPPER "0F1E2D3C_4B5A_6978_8796_A5B4C3D2E1F0"
#define UID2 "11111111-2222-3333-4444-555555555555"
#define CID "3b4f6c2d1e0a9f8e7d6c5b4a392817160f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define CID_UPPER "3B4F6C2D1E0A9F8E7D6C5B4A392817160F1E2D3C4B5A69788796A5B4C3D2E1F0"
#define CID12 "3b4f6c2d1e0a"
#define CID11 "3b4f6c2d1e0"
#define CID65 CID "a"
#define CID2 REP4("abababababababab")

#define CF KG_DRIVER_CGROUPFS
#define SD KG_DRIVER_SYSTEMD
#define GU KG_QOS_GUARANTEED
#define BU KG_QOS_BURSTABLE
#define BE KG_QOS_BESTEFFORT

struct parse_case {
	const char *path;
	enum kg_cgroup_kind kind;
	enum kg_cgroup_driver driver;
	enum kg_qos qos;
	const char *uid;
	const char *cid;
	const char *runtime;
	unsigned int nested;
};

/* clang-format off */
#define OTHER(p) { p, KG_CG_OTHER, KG_DRIVER_NONE, KG_QOS_NONE, "", "", "", 0 }
#define ROOT(p, drv, n) { p, KG_CG_KUBE_ROOT, drv, KG_QOS_NONE, "", "", "", n }
#define QOS(p, drv, q, n) { p, KG_CG_QOS, drv, q, "", "", "", n }
#define POD(p, drv, q, n) { p, KG_CG_POD, drv, q, UID, "", "", n }
#define CTR(p, drv, q, rt, n) { p, KG_CG_CONTAINER, drv, q, UID, CID, rt, n }
/* clang-format on */

/* cgroupfs pod cgroups per QoS class, and systemd ones. */
#define CF_G "/kubepods/pod" UID
#define CF_BU "/kubepods/burstable/pod" UID
#define CF_BE "/kubepods/besteffort/pod" UID
#define SD_G "/kubepods.slice/kubepods-pod" UIDU ".slice"
#define SD_BU "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice"
#define SD_BE "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU ".slice"
#define KIND_BE                                                                    \
	"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/" \
	"kubelet-kubepods-besteffort-pod" UIDU ".slice"

static const struct parse_case parse_cases[] = {
	/* cgroupfs driver: root, QoS, pods (guaranteed directly under root), containers */
	ROOT("/kubepods", CF, 0),
	QOS("/kubepods/burstable", CF, BU, 0),
	QOS("/kubepods/besteffort", CF, BE, 0),
	POD(CF_G, CF, GU, 0),
	POD(CF_BU, CF, BU, 0),
	POD(CF_BE, CF, BE, 0),
	CTR(CF_G "/" CID, CF, GU, "", 0),
	CTR(CF_BU "/" CID, CF, BU, "", 0),
	CTR(CF_BE "/" CID, CF, BE, "", 0),
	/* cgroupfs: runtime-prefixed container names, with and without .scope */
	CTR(CF_BU "/cri-containerd-" CID, CF, BU, "containerd", 0),
	CTR(CF_BU "/cri-containerd-" CID ".scope", CF, BU, "containerd", 0),
	CTR(CF_BU "/crio-" CID, CF, BU, "cri-o", 0),
	CTR(CF_BU "/crio-" CID ".scope", CF, BU, "cri-o", 0),
	CTR(CF_BE "/docker-" CID, CF, BE, "docker", 0),
	CTR(CF_G "/docker-" CID ".scope", CF, GU, "docker", 0),
	CTR(CF_BU "/crio-conmon-" CID, CF, BU, "conmon", 0),
	CTR(CF_BU "/crio-conmon-" CID ".scope", CF, BU, "conmon", 0),

	/* systemd driver */
	ROOT("/kubepods.slice", SD, 0),
	QOS("/kubepods.slice/kubepods-burstable.slice", SD, BU, 0),
	QOS("/kubepods.slice/kubepods-besteffort.slice", SD, BE, 0),
	POD(SD_G, SD, GU, 0),
	POD(SD_BU, SD, BU, 0),
	POD(SD_BE, SD, BE, 0),
	CTR(SD_G "/cri-containerd-" CID ".scope", SD, GU, "containerd", 0),
	CTR(SD_BU "/cri-containerd-" CID ".scope", SD, BU, "containerd", 0),
	CTR(SD_BE "/cri-containerd-" CID ".scope", SD, BE, "containerd", 0),
	CTR(SD_G "/crio-" CID ".scope", SD, GU, "cri-o", 0),
	CTR(SD_BU "/crio-" CID ".scope", SD, BU, "cri-o", 0),
	CTR(SD_BE "/crio-" CID ".scope", SD, BE, "cri-o", 0),
	CTR(SD_G "/docker-" CID ".scope", SD, GU, "docker", 0),
	CTR(SD_BU "/docker-" CID ".scope", SD, BU, "docker", 0),
	CTR(SD_BE "/docker-" CID ".scope", SD, BE, "docker", 0),
	CTR(SD_BU "/crio-conmon-" CID ".scope", SD, BU, "conmon", 0),
	CTR(SD_BE "/cri-containerd-" CID, SD, BE, "containerd", 0),
	CTR(SD_BE "/" CID, SD, BE, "", 0),

	/* kubepods anywhere: under a prefix; systemd's "<p>-kubepods.slice" under "<p>.slice" */
	CTR("/system.slice/containerd.service" CF_BU "/" CID, CF, BU, "", 0),
	CTR("/kubelet" CF_BE "/" CID, CF, BE, "", 0),
	CTR("/kubelet.slice" CF_G "/crio-" CID, CF, GU, "cri-o", 0),
	POD("/kubelet.slice" SD_BU, SD, BU, 0),
	CTR("/system.slice/containerd.service" SD_G "/cri-containerd-" CID ".scope", SD, GU,
	    "containerd", 0),
	ROOT("/kubelet.slice/kubelet-kubepods.slice", SD, 0),
	QOS("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice", SD, BU, 0),
	POD("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" UIDU ".slice", SD, GU, 0),
	POD(KIND_BE, SD, BE, 0),
	CTR(KIND_BE "/cri-containerd-" CID ".scope", SD, BE, "containerd", 0),
	ROOT("/a.slice/a-b.slice/a-b-kubepods.slice", SD, 0),
	OTHER("/foo.slice/bar-kubepods.slice"), /* parent is not "bar.slice" */
	OTHER("/fo.slice/bar-kubepods.slice"),
	OTHER("/bar-kubepods.slice"),
	OTHER("/-.slice/-kubepods.slice"),
	OTHER("/.slice/-kubepods.slice"),
	/* the stem comes from the anchor: kubepods.slice does not hold kubelet-kubepods-* */
	ROOT("/kubepods.slice/kubelet-kubepods-burstable.slice", SD, 1),
	QOS("/kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" UIDU ".slice", SD,
	    BU, 1),
	QOS("/kubepods.slice/kubepods-burstable.slice/kubepods-pod" UIDU ".slice", SD, BU, 1),

	/* sub-cgroups: below a container everything is that container, nested */
	CTR(SD_BU "/cri-containerd-" CID ".scope/init", SD, BU, "containerd", 1),
	CTR(CF_BE "/" CID "/extra/more", CF, BE, "", 2),
	CTR(CF_BE "/" CID "/" CID2, CF, BE, "", 1),
	/* ... and kubepods-looking names made inside a container are never honoured */
	CTR(CF_BU "/" CID "/kubepods/besteffort/pod" UID2 "/" CID2, CF, BU, "", 4),
	CTR(SD_BE "/crio-" CID ".scope" CF_G "/" CID2, SD, BE, "cri-o", 3),
	ROOT("/kubepods/kubepods/burstable/pod" UID, CF, 3), /* the first kubepods anchors */
	ROOT("/kubepods/x/kubepods/burstable/pod" UID, CF, 4),
	ROOT("/kubepods.slice/kubepods" CF_BU, SD, 4),
	/* unrecognised children: kind stays at the level above, nested counts the rest */
	ROOT("/kubepods/guaranteed", CF, 1),
	ROOT("/kubepods/Burstable", CF, 1),
	ROOT("/kubepods/kubepods-burstable.slice", CF, 1), /* drivers do not mix */
	ROOT("/kubepods.slice/burstable", SD, 1),
	ROOT("/kubepods.slice/kubepods-guaranteed.slice", SD, 1),
	ROOT("/kubepods.slice/kubepods-pod" UID ".slice", SD, 1), /* systemd uid uses '_' */
	ROOT("/kubepods/pod" UIDU, CF, 1), /* cgroupfs uid uses '-' */
	ROOT("/kubepods/pod", CF, 1),
	QOS("/kubepods/burstable/podfoo", CF, BU, 1),
	QOS("/kubepods/burstable/pod" UID "a", CF, BU, 1), /* 37 chars */
	QOS("/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f", CF, BU, 1), /* 35 */
	QOS("/kubepods/burstable/pod0f1e2d3c4-b5a-6978-8796-a5b4c3d2e1f0", CF, BU, 1), /* 9-3 */
	QOS("/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg", CF, BU, 1), /* 'g' */
	QOS("/kubepods/burstable/pod0f1e2d3c-4b5a_6978-8796-a5b4c3d2e1f0", CF, BU, 1), /* mixed */
	QOS("/kubepods/burstable/pod" UID ".slice", CF, BU, 1),
	QOS("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU, SD, BE, 1),
	POD(CF_BU "/notacontainer", CF, BU, 1),
	POD(CF_BU "/cri-containerd-xyz.scope", CF, BU, 1),
	POD(CF_BU "/" CID ".scope", CF, BU, 1), /* bare ids take no .scope */
	POD(CF_BU "/crio-" CID ".scope.scope", CF, BU, 1),
	POD(CF_BU "/libpod-" CID ".scope", CF, BU, 1),
	POD(CF_BU "/containerd-" CID, CF, BU, 1),
	POD(SD_BU "/crio-conmon-.scope", SD, BU, 1),
	POD(CF_BU "/" CID11, CF, BU, 1),
	POD(CF_BU "/" CID65, CF, BU, 1),
	CTR(CF_BU "/" CID "/x", CF, BU, "", 1),
	POD(CF_BU "/pod" UID, CF, BU, 1),

	/* not Kubernetes */
	OTHER("/"),
	OTHER("/system.slice/nginx.service"),
	OTHER("/user.slice/user-0.slice/session-1.scope"),
	OTHER("/kg-test/a"),
	OTHER("/kg-test/Throttled_A"),
	OTHER("/kubepodsx"),
	OTHER("/Kubepods/burstable"),
	OTHER("/kubepods-burstable.slice"),
	OTHER("/kubepods.slice.bak"),
	OTHER("/system.slice/docker-" CID ".scope"),
	OTHER("/pod" UID "/" CID),
	OTHER("/kg test/a b"), /* spaces are printable: a valid if odd name */
	OTHER("/.hidden/.../a..b"),
};

/* Container ids: bounds and case, checked on their own. */
static const struct {
	const char *name;
	bool ok;
	const char *want;
} cid_cases[] = {
	{ CID11, false, "" },
	{ CID12, true, CID12 },
	{ "ABCDEF012345", true, "abcdef012345" },
	{ CID, true, CID },
	{ CID_UPPER, true, CID },
	{ CID65, false, "" },
	{ REP2(CID), false, "" },
	{ "3b4f6c2d1e0g", false, "" },
	{ "3b4f6c2d1e0-", false, "" },
	{ "cri-containerd-" CID12 ".scope", true, CID12 },
	{ "cri-containerd-" CID11 ".scope", false, "" },
	{ "cri-containerd-" CID65 ".scope", false, "" },
	{ "docker-" CID_UPPER ".scope", true, CID },
};

/* Pod uids: case-insensitive in, dashed lowercase out, for both drivers. */
static const struct {
	const char *path;
	const char *want;
} uid_cases[] = {
	{ "/kubepods/pod" UID, UID },
	{ "/kubepods/pod" UID_UPPER, UID },
	{ "/kubepods/burstable/pod0F1e2D3c-4B5a-6978-8796-A5b4C3d2E1f0", UID },
	{ "/kubepods.slice/kubepods-pod" UIDU ".slice", UID },
	{ "/kubepods.slice/kubepods-pod" UIDU_UPPER ".slice", UID },
	{ "/kubepods/pod" UID2, UID2 },
	{ "/kubepods/podffffffff-ffff-ffff-ffff-ffffffffffff",
	  "ffffffff-ffff-ffff-ffff-ffffffffffff" },
};

/* Input that cannot be a cgroup path. */
static const char *const invalid_paths[] = {
	"",
	"kubepods",
	"kubepods/burstable",
	" /kubepods",
	"//",
	"//kubepods",
	"/kubepods//burstable",
	"/kubepods/./burstable",
	"/kubepods/../kubepods",
	"/kubepods/..",
	"/kubepods/.",
	"/.",
	"/..",
	"/kubepods/",
	"/kubepods/burstable/",
	CF_BU "/" CID "/",
	"/kube\npods",
	"/kubepods\n",
	"/kubepods/\tburstable",
	"/a\x7f",
	"/\x01",
	"/\x1b[31mred",
	"/caf\xc3\xa9",
	CF_BU "/" CID "\xff",
	"/\r",
};

/*
 * RFC 1123 DNS subdomain, and no longer than 63 so it is a label value too:
 * dot-separated labels of [a-z0-9-], each starting and ending alphanumeric.
 */
static bool rfc1123_ok(const char *s)
{
	size_t len = strlen(s), i, label = 0;

	if (len == 0 || len > 63)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!alnum && c != '-')
			return false;
		if (label == 0 && !alnum)
			return false;
		label++;
	}
	return s[len - 1] != '-' && s[len - 1] != '.';
}

/* kg_cgroup_object_name() with every output passed through the checker. */
static int name_of(const char *path, char *out, size_t outsz, size_t max)
{
	int n = kg_cgroup_object_name(path, out, outsz, max);

	if (n >= 0) {
		ck_assert_uint_eq(strlen(out), (size_t)n);
		ck_assert_msg(rfc1123_ok(out), "not RFC 1123: \"%s\" from \"%s\"", out, path);
	}
	return n;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i] != 0)
			return false;
	}
	return true;
}

static struct kg_cgroup_identity expected_identity(const struct parse_case *c)
{
	struct kg_cgroup_identity want;

	memset(&want, 0, sizeof(want));
	want.kind = c->kind;
	want.driver = c->driver;
	want.qos = c->qos;
	strcpy(want.pod_uid, c->uid);
	strcpy(want.container_id, c->cid);
	strcpy(want.runtime, c->runtime);
	want.nested = c->nested;
	return want;
}

START_TEST(test_parse_table)
{
	const struct parse_case *c = &parse_cases[_i];
	struct kg_cgroup_identity id, want = expected_identity(c);
	char name[64];

	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(c->path, &id), 0);
	ck_assert_msg(id.kind == c->kind, "%s: kind %s, want %s", c->path,
		      kg_cgroup_kind_name(id.kind), kg_cgroup_kind_name(c->kind));
	ck_assert_msg(id.driver == c->driver, "%s: driver %s, want %s", c->path,
		      kg_driver_name(id.driver), kg_driver_name(c->driver));
	ck_assert_msg(id.qos == c->qos, "%s: qos %s, want %s", c->path, kg_qos_name(id.qos),
		      kg_qos_name(c->qos));
	ck_assert_str_eq(id.pod_uid, c->uid);
	ck_assert_str_eq(id.container_id, c->cid);
	ck_assert_str_eq(id.runtime, c->runtime);
	ck_assert_uint_eq(id.nested, c->nested);
	/* whole struct, so nothing is left over in the buffers past the strings */
	ck_assert_msg(memcmp(&id, &want, sizeof(id)) == 0, "%s: stray bytes", c->path);
	/* every valid path also gets a valid object name */
	ck_assert_int_gt(name_of(c->path, name, sizeof(name), 0), 0);
}
END_TEST

START_TEST(test_container_id_bounds)
{
	char path[512];
	struct kg_cgroup_identity id;

	/* the same id, bare under cgroupfs and as a systemd scope */
	snprintf(path, sizeof(path), "%s/%s", CF_BU, cid_cases[_i].name);
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(path, &id), 0);
	ck_assert_int_eq(id.kind, cid_cases[_i].ok ? KG_CG_CONTAINER : KG_CG_POD);
	ck_assert_uint_eq(id.nested, cid_cases[_i].ok ? 0 : 1);
	ck_assert_str_eq(id.container_id, cid_cases[_i].want);
	ck_assert_str_eq(id.pod_uid, UID);
	if (!cid_cases[_i].ok)
		ck_assert_str_eq(id.runtime, "");

	if (strchr(cid_cases[_i].name, '.') != NULL)
		return; /* already a scope */
	snprintf(path, sizeof(path), "%s/crio-%s.scope", SD_BE, cid_cases[_i].name);
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(path, &id), 0);
	ck_assert_int_eq(id.kind, cid_cases[_i].ok ? KG_CG_CONTAINER : KG_CG_POD);
	ck_assert_str_eq(id.container_id, cid_cases[_i].want);
	ck_assert_str_eq(id.runtime, cid_cases[_i].ok ? "cri-o" : "");
	ck_assert_int_eq(id.qos, KG_QOS_BESTEFFORT);
	ck_assert_int_eq(id.driver, KG_DRIVER_SYSTEMD);
}
END_TEST

START_TEST(test_uid_normalisation)
{
	struct kg_cgroup_identity id;

	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(uid_cases[_i].path, &id), 0);
	ck_assert_int_eq(id.kind, KG_CG_POD);
	ck_assert_uint_eq(id.nested, 0);
	ck_assert_str_eq(id.pod_uid, uid_cases[_i].want);
	ck_assert_uint_eq(strlen(id.pod_uid), KG_POD_UID_LEN - 1);
}
END_TEST

START_TEST(test_parse_invalid)
{
	struct kg_cgroup_identity id;

	memset(&id, 0xa5, sizeof(id));
	ck_assert_msg(kg_cgroup_parse(invalid_paths[_i], &id) == -EINVAL, "accepted \"%s\"",
		      invalid_paths[_i]);
	ck_assert(all_zero(&id, sizeof(id)));
}
END_TEST

START_TEST(test_parse_null)
{
	struct kg_cgroup_identity id;

	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(NULL, &id), -EINVAL);
	ck_assert(all_zero(&id, sizeof(id)));
	ck_assert_int_eq(kg_cgroup_parse("/kubepods", NULL), -EINVAL);
	ck_assert_int_eq(kg_cgroup_parse(NULL, NULL), -EINVAL);
}
END_TEST

/*
 * Fill buf with a path of exactly len bytes: prefix, then "/aaa...a" components
 * of at most comp bytes, never ending in '/'. len - strlen(prefix) must not be 1.
 */
static void make_path(char *buf, size_t len, const char *prefix, size_t comp)
{
	size_t n = strlen(prefix);

	memcpy(buf, prefix, n);
	while (n < len) {
		size_t r = len - n, seg = r - 1 < comp ? r - 1 : comp;

		if (r - 1 - seg == 1)
			seg--; /* do not leave room for only a lone '/' */
		buf[n++] = '/';
		memset(buf + n, 'a', seg);
		n += seg;
	}
	buf[len] = '\0';
}

START_TEST(test_parse_lengths)
{
	static char buf[8192];
	struct kg_cgroup_identity id;

	/* longest path that fits a KG_CGROUP_PATH_MAX buffer: fine, and its container is found */
	make_path(buf, KG_CGROUP_PATH_MAX - 1, CF_BU "/" CID, 200);
	ck_assert_uint_eq(strlen(buf), KG_CGROUP_PATH_MAX - 1);
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(buf, &id), 0);
	ck_assert_int_eq(id.kind, KG_CG_CONTAINER);
	ck_assert_str_eq(id.container_id, CID);
	ck_assert_uint_gt(id.nested, 15);

	/* one more byte does not fit */
	make_path(buf, KG_CGROUP_PATH_MAX, CF_BU "/" CID, 200);
	ck_assert_uint_eq(strlen(buf), KG_CGROUP_PATH_MAX);
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(buf, &id), -EINVAL);
	ck_assert(all_zero(&id, sizeof(id)));

	make_path(buf, 5000, "/kubepods", 100);
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(buf, &id), -EINVAL);
	ck_assert(all_zero(&id, sizeof(id)));

	/* a component of NAME_MAX bytes exists; one longer cannot */
	buf[0] = '/';
	memset(buf + 1, 'x', KG_CGROUP_NAME_MAX);
	buf[1 + KG_CGROUP_NAME_MAX] = '\0';
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(buf, &id), 0);
	ck_assert(all_zero(&id, sizeof(id)));
	strcpy(buf, CF_BU "/");
	memset(buf + strlen(buf), 'a', KG_CGROUP_NAME_MAX + 1);
	buf[strlen(CF_BU "/") + KG_CGROUP_NAME_MAX + 1] = '\0';
	memset(&id, 0xa5, sizeof(id));
	ck_assert_int_eq(kg_cgroup_parse(buf, &id), -EINVAL);
	ck_assert(all_zero(&id, sizeof(id)));
	/* a huge hex-only component is not mistaken for a (truncated) container id */
	strcpy(buf, CF_BU "/");
	memset(buf + strlen(buf), 'a', KG_CGROUP_NAME_MAX);
	buf[strlen(CF_BU "/") + KG_CGROUP_NAME_MAX] = '\0';
	ck_assert_int_eq(kg_cgroup_parse(buf, &id), 0);
	ck_assert_int_eq(id.kind, KG_CG_POD);
	ck_assert_str_eq(id.container_id, "");
}
END_TEST

START_TEST(test_parse_idempotent_case)
{
	/* upper and lower case spellings of the same ids give byte-identical results */
	struct kg_cgroup_identity a, b;

	ck_assert_int_eq(kg_cgroup_parse("/kubepods/pod" UID "/" CID, &a), 0);
	ck_assert_int_eq(kg_cgroup_parse("/kubepods/pod" UID_UPPER "/" CID_UPPER, &b), 0);
	ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
	ck_assert_int_eq(kg_cgroup_parse(SD_BU "/docker-" CID ".scope", &a), 0);
	ck_assert_int_eq(kg_cgroup_parse("/kubepods.slice/kubepods-burstable.slice/"
					 "kubepods-burstable-pod" UIDU_UPPER
					 ".slice/docker-" CID_UPPER ".scope",
					 &b),
			 0);
	ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
}
END_TEST

struct name_case {
	const char *path;
	size_t max;
	size_t outsz;
	const char *want;
};

/* Expected values, hashes included, from an independent reference implementation. */
static const struct name_case name_cases[] = {
	{ "/", 0, 64, "root" },
	{ "/system.slice/nginx.service", 0, 64, "system.slice-nginx.service" },
	{ "/kg-test/Throttled_A", 0, 64, "kg-test-throttled-a" },
	{ "/kg-test/a", 0, 64, "kg-test-a" },
	{ "/user.slice/user-0.slice/session-1.scope", 0, 64,
	  "user.slice-user-0.slice-session-1.scope" },
	{ "/KG-TEST/UPPER", 0, 64, "kg-test-upper" },
	{ "/under_score/__x__", 0, 64, "under-score-x" },
	{ "/a..b", 0, 64, "a-b" },
	{ "/a.-b", 0, 64, "a-b" },
	{ "/a-.b", 0, 64, "a-b" },
	{ "/.hidden", 0, 64, "hidden" },
	{ "/trailing.", 0, 64, "trailing" },
	{ "/x/ y ", 0, 64, "x-y" },
	{ "/caf\xc3\xa9s", 0, 64, "caf-s" },
	{ "/kg test/\ttab", 0, 64, "kg-test-tab" },
	{ "/0/9", 0, 64, "0-9" },
	{ "/---/___", 0, 64, "cgroup-65d185af" },
	{ "/\xc3\xa9", 0, 64, "cgroup-23a5a38a" },
	/* at the limit: no hash; one over: 54 chars, "-", 8 hex */
	{ "/" REP9("aaaaaaa"), 0, 64, REP9("aaaaaaa") },
	{ "/" REP9("aaaaaaa") "a", 0, 64, REP9("aaaaaa") "-5acacc1e" },
	{ "/" REP9("aaaaaaa") "a", 0, 1000, REP9("aaaaaa") "-5acacc1e" },
	{ "/" REP9("aaaaaaa") "a", 1000, 1000, REP9("aaaaaa") "-5acacc1e" },
	/* long paths differing only at the end */
	{ "/kg-test/" REP10(REP10("a")) "/x1", 0, 64, "kg-test-" REP9("aaaaa") "a-7bfffa32" },
	{ "/kg-test/" REP10(REP10("a")) "/x2", 0, 64, "kg-test-" REP9("aaaaa") "a-7afff89f" },
	/* a cut right after a separator drops it: no "--" or ".-" before the hash */
	{ "/kg-test/" REP9("bbbbb") "/" REP4("ccccc"), 0, 64,
	  "kg-test-" REP9("bbbbb") "-54a0426b" },
	{ "/kg-test/" REP9("bbbbb") "." REP4("ccccc"), 0, 64,
	  "kg-test-" REP9("bbbbb") "-ea78af20" },
	/* smaller limits, from max and from outsz */
	{ "/system.slice/nginx.service", 20, 64, "system.slic-1256f699" },
	{ "/system.slice/nginx.service", 0, 16, "system-1256f699" },
	{ "/system.slice/nginx.service", 26, 64, "system.slice-nginx.service" },
	{ "/" REP10("AAAA") "/_____" REP10("ZZZZ"), 30, 64, REP10("aa") "a-b9bde2d8" },
	{ "/---/___", 15, 16, "cgroup-65d185af" },
};

START_TEST(test_object_name_table)
{
	const struct name_case *c = &name_cases[_i];
	char out[1024];
	size_t limit = c->max == 0 || c->max > 63 ? 63 : c->max;
	int n;

	if (limit > c->outsz - 1)
		limit = c->outsz - 1;
	memset(out, 'Z', sizeof(out));
	n = name_of(c->path, out, c->outsz, c->max);
	ck_assert_int_eq(n, (int)strlen(c->want));
	ck_assert_str_eq(out, c->want);
	ck_assert_uint_le((size_t)n, limit);
	ck_assert_int_eq(out[c->outsz], 'Z'); /* nothing written past outsz */
}
END_TEST

START_TEST(test_object_name_distinct)
{
	char a[64], b[64];
	int na, nb;

	na = name_of("/kg-test/" REP10(REP10("q")) "/tail-1", a, sizeof(a), 0);
	nb = name_of("/kg-test/" REP10(REP10("q")) "/tail-2", b, sizeof(b), 0);
	ck_assert_int_eq(na, 63);
	ck_assert_int_eq(nb, 63);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(memcmp(a, b, 54), 0); /* same readable part, different hash */
	ck_assert_int_eq(a[54], '-');
	/* stable: the same path names the same every time */
	ck_assert_int_eq(name_of("/kg-test/" REP10(REP10("q")) "/tail-1", b, sizeof(b), 0), 63);
	ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_object_name_invalid)
{
	char out[64];

	memset(out, 'Z', sizeof(out));
	ck_assert_int_eq(kg_cgroup_object_name("/a", out, 15, 0), -EINVAL);
	ck_assert_int_eq(kg_cgroup_object_name("/a", out, 0, 0), -EINVAL);
	ck_assert_int_eq(kg_cgroup_object_name("/a", NULL, 64, 0), -EINVAL);
	ck_assert_int_eq(kg_cgroup_object_name(NULL, out, sizeof(out), 0), -EINVAL);
	ck_assert_int_eq(kg_cgroup_object_name("", out, sizeof(out), 0), -EINVAL);
	ck_assert_int_eq(kg_cgroup_object_name("/a", out, sizeof(out), 14), -EINVAL);
	ck_assert_int_eq(kg_cgroup_object_name("/a", out, sizeof(out), 1), -EINVAL);
	ck_assert_int_eq(out[0], 'Z'); /* untouched */
	ck_assert_int_eq(out[63], 'Z');
	/* the smallest accepted sizes work */
	ck_assert_int_eq(name_of("/a", out, 16, 15), 1);
	ck_assert_str_eq(out, "a");
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(kg_cgroup_kind_name(KG_CG_OTHER), "other");
	ck_assert_str_eq(kg_cgroup_kind_name(KG_CG_KUBE_ROOT), "kube-root");
	ck_assert_str_eq(kg_cgroup_kind_name(KG_CG_QOS), "qos");
	ck_assert_str_eq(kg_cgroup_kind_name(KG_CG_POD), "pod");
	ck_assert_str_eq(kg_cgroup_kind_name(KG_CG_CONTAINER), "container");
	ck_assert_str_eq(kg_cgroup_kind_name((enum kg_cgroup_kind)5), "unknown");
	ck_assert_str_eq(kg_cgroup_kind_name((enum kg_cgroup_kind) - 1), "unknown");
	ck_assert_str_eq(kg_qos_name(KG_QOS_NONE), "");
	ck_assert_str_eq(kg_qos_name(KG_QOS_GUARANTEED), "guaranteed");
	ck_assert_str_eq(kg_qos_name(KG_QOS_BURSTABLE), "burstable");
	ck_assert_str_eq(kg_qos_name(KG_QOS_BESTEFFORT), "besteffort");
	ck_assert_str_eq(kg_qos_name((enum kg_qos)4), "unknown");
	ck_assert_str_eq(kg_driver_name(KG_DRIVER_NONE), "");
	ck_assert_str_eq(kg_driver_name(KG_DRIVER_CGROUPFS), "cgroupfs");
	ck_assert_str_eq(kg_driver_name(KG_DRIVER_SYSTEMD), "systemd");
	ck_assert_str_eq(kg_driver_name((enum kg_cgroup_driver)3), "unknown");
}
END_TEST

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static bool is_lower_hex(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	}
	return true;
}

/*
 * Fuzz checks assert only on failure: a passing ck_assert() records a mark
 * point through the Check runner, too slow for hundreds of thousands of rounds.
 */
#define FUZZ_CHECK(cond, path)                                            \
	do {                                                              \
		if (!(cond))                                              \
			ck_abort_msg("%s, for path \"%s\"", #cond, path); \
	} while (0)

static bool is_runtime(const char *rt)
{
	return strcmp(rt, "containerd") == 0 || strcmp(rt, "cri-o") == 0 ||
	       strcmp(rt, "docker") == 0 || strcmp(rt, "conmon") == 0;
}

static bool uid_canonical(const char *uid)
{
	size_t i;

	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = uid[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return uid[36] == '\0';
}

/* What must hold for any input. */
static void check_invariants(const char *path, int ret, const struct kg_cgroup_identity *id)
{
	size_t ul = strnlen(id->pod_uid, sizeof(id->pod_uid));
	size_t cl = strnlen(id->container_id, sizeof(id->container_id));
	size_t rl = strnlen(id->runtime, sizeof(id->runtime));

	if (ret != 0) {
		FUZZ_CHECK(ret == -EINVAL, path);
		FUZZ_CHECK(all_zero(id, sizeof(*id)), path);
		return;
	}
	FUZZ_CHECK(ul < sizeof(id->pod_uid), path);
	FUZZ_CHECK(cl < sizeof(id->container_id), path);
	FUZZ_CHECK(rl < sizeof(id->runtime), path);
	FUZZ_CHECK(id->kind <= KG_CG_CONTAINER, path);
	FUZZ_CHECK((id->kind == KG_CG_OTHER) == (id->driver == KG_DRIVER_NONE), path);
	FUZZ_CHECK((id->kind <= KG_CG_KUBE_ROOT) == (id->qos == KG_QOS_NONE), path);
	FUZZ_CHECK((id->kind >= KG_CG_POD) == (ul > 0), path);
	FUZZ_CHECK(ul == 0 || uid_canonical(id->pod_uid), path);
	FUZZ_CHECK((id->kind == KG_CG_CONTAINER) == (cl > 0), path);
	FUZZ_CHECK(cl == 0 || (cl >= 12 && cl <= 64 && is_lower_hex(id->container_id)), path);
	FUZZ_CHECK(rl == 0 || (id->kind == KG_CG_CONTAINER && is_runtime(id->runtime)), path);
	FUZZ_CHECK(id->kind != KG_CG_OTHER || id->nested == 0, path);
	FUZZ_CHECK(strstr(path, "kubepods") != NULL || id->kind == KG_CG_OTHER, path);
}

static const char *const fuzz_tokens[] = {
	"/",	      "/",
	"/",	      "kubepods",
	"kubepods",   ".slice",
	"kubepods-",  "burstable",
	"besteffort", "-pod",
	"pod",	      UID,
	UIDU,	      UID_UPPER,
	CID,	      CID12,
	CID11,	      "cri-containerd-",
	"crio-",      "crio-conmon-",
	"docker-",    ".scope",
	"-",	      "_",
	".",	      "..",
	"kubelet",    "init",
	"\n",	      "\x7f",
	"\xc3\xa9",   " ",
	"A",	      "z",
	"0",
};

START_TEST(test_fuzz)
{
	static char path[6000];
	char name[80];
	size_t t, n, i;
	int iter;

	for (iter = 0; iter < 200000; iter++) {
		struct kg_cgroup_identity id;
		size_t target = rng() % 100 == 0 ? 4000 + rng() % 1500 : rng() % 300;
		size_t outsz = 16 + rng() % 64;
		size_t max = rng() % 4 == 0 ? 0 : 15 + rng() % 60;
		size_t limit;
		int ret;

		n = 0;
		if (rng() % 8 != 0)
			path[n++] = '/';
		while (n < target) {
			const char *tok =
				fuzz_tokens[rng() % (sizeof(fuzz_tokens) / sizeof(fuzz_tokens[0]))];

			t = strlen(tok);
			if (n + t >= sizeof(path) - 1)
				break;
			if (rng() % 50 == 0) {
				path[n++] = (char)(1 + rng() % 255); /* any byte but NUL */
				continue;
			}
			memcpy(path + n, tok, t);
			n += t;
		}
		path[n] = '\0';

		memset(&id, 0xa5, sizeof(id));
		ret = kg_cgroup_parse(path, &id);
		check_invariants(path, ret, &id);

		memset(name, 'Z', sizeof(name));
		ret = kg_cgroup_object_name(path, name, outsz, max);
		if (path[0] == '\0') {
			FUZZ_CHECK(ret == -EINVAL, path);
			continue;
		}
		limit = max == 0 || max > 63 ? 63 : max;
		if (limit > outsz - 1)
			limit = outsz - 1;
		FUZZ_CHECK(ret > 0 && (size_t)ret <= limit, path);
		FUZZ_CHECK(strlen(name) == (size_t)ret, path);
		FUZZ_CHECK(rfc1123_ok(name), path);
		for (i = outsz; i < sizeof(name); i++)
			FUZZ_CHECK(name[i] == 'Z', path);
	}
}
END_TEST

static Suite *cgroup_path_suite(void)
{
	Suite *s = suite_create("cgroup_path");
	TCase *tc;

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_table, 0, N(parse_cases));
	tcase_add_loop_test(tc, test_container_id_bounds, 0, N(cid_cases));
	tcase_add_loop_test(tc, test_uid_normalisation, 0, N(uid_cases));
	tcase_add_loop_test(tc, test_parse_invalid, 0, N(invalid_paths));
	tcase_add_test(tc, test_parse_null);
	tcase_add_test(tc, test_parse_lengths);
	tcase_add_test(tc, test_parse_idempotent_case);
	suite_add_tcase(s, tc);

	tc = tcase_create("object_name");
	tcase_add_loop_test(tc, test_object_name_table, 0, N(name_cases));
	tcase_add_test(tc, test_object_name_distinct);
	tcase_add_test(tc, test_object_name_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fuzz);
	suite_add_tcase(s, tc);
#undef N
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cgroup_path_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
