// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_sink.c - unit tests for agent/sink_file.c and agent/json_util.c.
 *
 * Object names are the only thing standing between a workload-influenced
 * name and a path on the node, so the RFC 1123 subdomain rule is tested
 * with hostile input as well as good names. The file sink then writes into a
 * private mkdtemp() directory: atomic replacement, "unchanged" detection
 * (including documents with rounded decimals), refusals that leave nothing
 * behind, and the JSON helpers under it: RFC 3339 times, typed setters,
 * reading back what was written.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_util.h"
#include "sink.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- object names ---- */

static const struct {
	const char *name;
	int ok;
} name_cases[] = {
	{ "a", 1 },
	{ "0", 1 },
	{ "web-1", 1 },
	{ "web-1-birth", 1 },
	{ "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", 1 },
	{ "a.b", 1 },
	{ "a-b.c-d", 1 },
	{ "1.2.3", 1 },
	{ "a--b", 1 },
	{ "kube-system.web-1.birth", 1 },
	{ "system.slice-nginx.service", 1 },
	/* path tricks */
	{ "", 0 },
	{ ".", 0 },
	{ "..", 0 },
	{ "...", 0 },
	{ "../x", 0 },
	{ "./x", 0 },
	{ "a/b", 0 },
	{ "/a", 0 },
	{ "a/", 0 },
	{ "a\\b", 0 },
	{ "a/../../etc/passwd", 0 },
	/* case, edges and characters */
	{ "A", 0 },
	{ "aB", 0 },
	{ "Web-1", 0 },
	{ "-a", 0 },
	{ "a-", 0 },
	{ ".a", 0 },
	{ "a.", 0 },
	{ "a_b", 0 },
	{ "a b", 0 },
	{ " a", 0 },
	{ "a\n", 0 },
	{ "a\tb", 0 },
	{ "a\x7f", 0 },
	{ "caf\xc3\xa9", 0 },
	{ "a:b", 0 },
	{ "a%2fb", 0 },
	{ "a;b", 0 },
	{ "a*", 0 },
	/* every dot-separated label must start and end alphanumeric */
	{ "a..b", 0 },
	{ "a.-b", 0 },
	{ "a-.b", 0 },
	{ "a.b-", 0 },
	{ "a.-.b", 0 },
	{ "a.b..c", 0 },
};

START_TEST(test_valid_object_name)
{
	ck_assert_msg(kg_valid_object_name(name_cases[_i].name) == name_cases[_i].ok,
		      "\"%s\": want %d", name_cases[_i].name, name_cases[_i].ok);
}
END_TEST

START_TEST(test_object_name_length)
{
	char name[300];

	ck_assert_int_eq(kg_valid_object_name(NULL), 0);
	/* 253 characters is the limit; a label may be longer than 63 in a subdomain */
	memset(name, 'a', sizeof(name));
	name[253] = 0;
	ck_assert_int_eq(kg_valid_object_name(name), 1);
	name[253] = 'a';
	name[254] = 0;
	ck_assert_int_eq(kg_valid_object_name(name), 0);
	/* 253 with dots */
	for (int i = 1; i < 253; i += 2)
		name[i] = '.';
	name[253] = 0;
	ck_assert_int_eq(kg_valid_object_name(name), 1);
	name[250] = '.'; /* "...": empty labels */
	ck_assert_int_eq(kg_valid_object_name(name), 0);
}
END_TEST

/* ---- a private directory per test ---- */

/*
 * The root is made and removed by the runner's own process (unchecked fixture),
 * so it goes away even when a test fails in its forked child; each test then
 * works in a fresh directory of its own under it.
 */
static char root[64], tmp[128];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void root_setup(void)
{
	snprintf(root, sizeof(root), "/tmp/kg-test-sink-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void root_teardown(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "%s/t-XXXXXX", root);
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	umask(022);
}

/* Entries of a directory, "." and ".." excluded. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	}
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = 0;
	close(fd);
	return buf;
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

/* Silence the sink's error log lines for tests that provoke them. */
static void quiet_stderr(void)
{
	int fd = open("/dev/null", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* ---- sink ---- */

START_TEST(test_sink_init)
{
	struct kg_sink s;
	char dir[256], p[512], err[256] = "untouched";
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/out/a/b", tmp);
	memset(&s, 0xa5, sizeof(s));
	ck_assert_int_eq(kg_sink_init(&s, dir, err, sizeof(err)), 0);
	ck_assert_str_eq(s.dir, dir);
	ck_assert_uint_eq(s.written, 0);
	ck_assert_uint_eq(s.unchanged, 0);
	ck_assert_uint_eq(s.errors, 0);
	ck_assert_str_eq(err, "untouched");
	snprintf(p, sizeof(p), "%s/podbirthcertificates", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0755);
	snprintf(p, sizeof(p), "%s/kernelwhispers", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(count_entries(dir), 2);
	/* again over what exists: fine */
	ck_assert_int_eq(kg_sink_init(&s, dir, err, sizeof(err)), 0);
	/* a trailing slash is harmless */
	snprintf(p, sizeof(p), "%s/", dir);
	ck_assert_int_eq(kg_sink_init(&s, p, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_sink_init_fails)
{
	struct kg_sink s;
	char file[256], dir[300], want[512], err[512];
	FILE *f;

	/* a path component that is a file */
	snprintf(file, sizeof(file), "%s/file", tmp);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/out", file);
	ck_assert_int_eq(kg_sink_init(&s, dir, err, sizeof(err)), -ENOTDIR);
	snprintf(want, sizeof(want),
		 "cannot create output directory %s/podbirthcertificates: Not a directory", dir);
	ck_assert_str_eq(err, want);
	/* the directory itself is a file */
	ck_assert_int_eq(kg_sink_init(&s, file, err, sizeof(err)), -ENOTDIR);
}
END_TEST

static json_object *doc_v(int v)
{
	json_object *d = json_object_new_object();

	kg_json_str(d, "kind", "PodBirthCertificate");
	kg_json_str(d, "path", "/kubepods/a/b");
	kg_json_u64(d, "v", v);
	return d;
}

START_TEST(test_sink_write)
{
	struct kg_sink s;
	char err[256], path[512], dir[512];
	json_object *d = doc_v(1), *back;
	const char *text;
	ino_t ino;

	ck_assert_int_eq(kg_sink_init(&s, tmp, err, sizeof(err)), 0);
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_CERT, "web-1-birth", d), 0);
	ck_assert_uint_eq(s.written, 1);
	snprintf(path, sizeof(path), "%s/podbirthcertificates/web-1-birth.json", tmp);
	back = kg_json_read_file(path);
	ck_assert_ptr_nonnull(back);
	ck_assert(json_object_equal(back, d));
	json_object_put(back);
	/* pretty, slashes as they are, one trailing newline */
	text = slurp(path);
	ck_assert_ptr_nonnull(strstr(text, "\"path\": \"/kubepods/a/b\""));
	ck_assert_ptr_null(strstr(text, "\\/"));
	ck_assert_ptr_nonnull(strchr(text, '\n'));
	ck_assert_str_eq(text + strlen(text) - 2, "}\n");
	ino = inode_of(path);

	/* the same document again: left alone */
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_CERT, "web-1-birth", d), 1);
	ck_assert_uint_eq(s.written, 1);
	ck_assert_uint_eq(s.unchanged, 1);
	ck_assert_uint_eq(inode_of(path), ino);
	json_object_put(d);

	/* a new version replaces it atomically: a new file renamed over the old */
	d = doc_v(2);
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_CERT, "web-1-birth", d), 0);
	ck_assert_uint_eq(s.written, 2);
	ck_assert_uint_ne(inode_of(path), ino);
	back = kg_json_read_file(path);
	ck_assert(json_object_equal(back, d));
	json_object_put(back);
	/* the other kind goes to its own directory */
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_WHISPER, "web-1-birth", d), 0);
	snprintf(path, sizeof(path), "%s/kernelwhispers/web-1-birth.json", tmp);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* no temporary file left anywhere */
	snprintf(dir, sizeof(dir), "%s/podbirthcertificates", tmp);
	ck_assert_int_eq(count_entries(dir), 1);
	snprintf(dir, sizeof(dir), "%s/kernelwhispers", tmp);
	ck_assert_int_eq(count_entries(dir), 1);
	ck_assert_uint_eq(s.errors, 0);
	json_object_put(d);
}
END_TEST

START_TEST(test_sink_unchanged_with_decimals)
{
	struct kg_sink s;
	char err[256];
	json_object *d = json_object_new_object();

	/*
	 * Every certificate and whisper carries decimals rounded for display
	 * (durationMs, atMs, throttledPercent): rewriting the same facts must
	 * still be recognised as unchanged, or every tick rewrites every file.
	 */
	kg_json_dbl(d, "durationMs", 1234.567891, 3);
	kg_json_dbl(d, "throttledPercent", 100.0 / 3, 1);
	kg_json_dbl(d, "cpuLimitMillicores", 333.33, 0);
	ck_assert_int_eq(kg_sink_init(&s, tmp, err, sizeof(err)), 0);
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_WHISPER, "w", d), 0);
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_WHISPER, "w", d), 1);
	ck_assert_uint_eq(s.unchanged, 1);
	ck_assert_uint_eq(s.written, 1);
	json_object_put(d);
	/* built again from the same numbers: still unchanged */
	d = json_object_new_object();
	kg_json_dbl(d, "durationMs", 1234.567891, 3);
	kg_json_dbl(d, "throttledPercent", 100.0 / 3, 1);
	kg_json_dbl(d, "cpuLimitMillicores", 333.33, 0);
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_WHISPER, "w", d), 1);
	json_object_put(d);
	/* a change that shows in the text is written */
	d = json_object_new_object();
	kg_json_dbl(d, "durationMs", 1234.569, 3);
	kg_json_dbl(d, "throttledPercent", 100.0 / 3, 1);
	kg_json_dbl(d, "cpuLimitMillicores", 333.33, 0);
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_WHISPER, "w", d), 0);
	ck_assert_uint_eq(s.written, 2);
	json_object_put(d);
}
END_TEST

START_TEST(test_sink_refuses_bad_names)
{
	static const char *const bad[] = { "../escape", "..",	".",  "a/b", "/abs", "",
					   "A",		"a..b", "-x", "x-",  "a b",  "a\n" };
	struct kg_sink s;
	char err[256], path[512];
	json_object *d = doc_v(1);

	quiet_stderr();
	ck_assert_int_eq(kg_sink_init(&s, tmp, err, sizeof(err)), 0);
	for (int i = 0; i < N(bad); i++) {
		ck_assert_msg(kg_sink_write(&s, KG_PLURAL_CERT, bad[i], d) == -EINVAL,
			      "wrote \"%s\"", bad[i]);
		ck_assert_uint_eq(s.errors, (uint64_t)i + 1);
	}
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_CERT, NULL, d), -EINVAL);
	ck_assert_uint_eq(s.written, 0);
	/* nothing was created, inside or outside */
	ck_assert_int_eq(count_entries(tmp), 2);
	snprintf(path, sizeof(path), "%s/podbirthcertificates", tmp);
	ck_assert_int_eq(count_entries(path), 0);
	snprintf(path, sizeof(path), "%s/escape.json", tmp);
	ck_assert_int_ne(access(path, F_OK), 0);
	json_object_put(d);
}
END_TEST

START_TEST(test_sink_write_fails)
{
	struct kg_sink s;
	char err[256], path[512];
	json_object *d = doc_v(1);

	quiet_stderr();
	ck_assert_int_eq(kg_sink_init(&s, tmp, err, sizeof(err)), 0);
	/* the kind's directory vanished under us */
	snprintf(path, sizeof(path), "%s/kernelwhispers", tmp);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(kg_sink_write(&s, KG_PLURAL_WHISPER, "w", d), -ENOENT);
	ck_assert_uint_eq(s.errors, 1);
	ck_assert_uint_eq(s.written, 0);
	ck_assert_int_eq(count_entries(tmp), 1);
	/* a directory where the file should go */
	snprintf(path, sizeof(path), "%s/podbirthcertificates/d.json", tmp);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_lt(kg_sink_write(&s, KG_PLURAL_CERT, "d", d), 0);
	ck_assert_uint_eq(s.errors, 2);
	/* the temporary file was cleaned up */
	snprintf(path, sizeof(path), "%s/podbirthcertificates", tmp);
	ck_assert_int_eq(count_entries(path), 1);
	json_object_put(d);
}
END_TEST

/* ---- JSON helpers ---- */

static const struct {
	int64_t ns;
	const char *want;
} time_cases[] = {
	{ 0, "1970-01-01T00:00:00.000000Z" },
	{ 999, "1970-01-01T00:00:00.000000Z" }, /* truncated, not rounded */
	{ 1999, "1970-01-01T00:00:00.000001Z" },
	{ 1764086400123456789LL, "2025-11-25T16:00:00.123456Z" },
	{ 1764086399999999999LL, "2025-11-25T15:59:59.999999Z" },
	{ 1709251199999999999LL, "2024-02-29T23:59:59.999999Z" }, /* leap day */
	{ 1709251200000000000LL, "2024-03-01T00:00:00.000000Z" },
	{ 2147483648LL * 1000000000LL, "2038-01-19T03:14:08.000000Z" }, /* past 32-bit time_t */
	{ 4102444800LL * 1000000000LL, "2100-01-01T00:00:00.000000Z" },
	/* before the epoch (a skewed clock offset): still a valid time */
	{ -1, "1969-12-31T23:59:59.999999Z" },
	{ -1500, "1969-12-31T23:59:59.999998Z" },
	{ -1000000000LL, "1969-12-31T23:59:59.000000Z" },
	{ -1000000001LL, "1969-12-31T23:59:58.999999Z" },
};

START_TEST(test_rfc3339)
{
	char buf[64];
	json_object *o = json_object_new_object(), *v;

	memset(buf, 'Z', sizeof(buf));
	kg_rfc3339(time_cases[_i].ns, buf, sizeof(buf));
	ck_assert_str_eq(buf, time_cases[_i].want);
	kg_json_time(o, "t", time_cases[_i].ns);
	ck_assert(json_object_object_get_ex(o, "t", &v));
	ck_assert_str_eq(json_object_get_string(v), time_cases[_i].want);
	json_object_put(o);
}
END_TEST

START_TEST(test_rfc3339_small_buffer)
{
	char buf[11];

	memset(buf, 'Z', sizeof(buf));
	kg_rfc3339(1764086400123456789LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2025-11-25");
}
END_TEST

START_TEST(test_json_setters)
{
	json_object *o = json_object_new_object(), *v;

	kg_json_str(o, "s", "x\"y");
	kg_json_str(o, "none", NULL);
	kg_json_u64(o, "u", 1234567890123ULL);
	kg_json_u64(o, "max", UINT64_MAX);
	kg_json_u64(o, "big", 1ULL << 63);
	kg_json_i64(o, "neg", -5);
	kg_json_bool(o, "t", 2);
	kg_json_bool(o, "f", 0);
	kg_json_dbl(o, "d3", 2.0 / 3, 3);
	kg_json_dbl(o, "d0", 2.5, 0);
	kg_json_dbl(o, "d1", 0.05, 1);
	ck_assert(!json_object_object_get_ex(o, "none", NULL)); /* NULL: left out */
	ck_assert(json_object_object_get_ex(o, "s", &v));
	ck_assert_str_eq(json_object_get_string(v), "x\"y");
	ck_assert(json_object_object_get_ex(o, "u", &v));
	ck_assert_int_eq(json_object_get_int64(v), 1234567890123LL);
	/* beyond int64: clamped, never negative */
	ck_assert(json_object_object_get_ex(o, "max", &v));
	ck_assert_int_eq(json_object_get_int64(v), INT64_MAX);
	ck_assert(json_object_object_get_ex(o, "big", &v));
	ck_assert_int_eq(json_object_get_int64(v), INT64_MAX);
	ck_assert(json_object_object_get_ex(o, "neg", &v));
	ck_assert_int_eq(json_object_get_int64(v), -5);
	ck_assert(json_object_object_get_ex(o, "t", &v));
	ck_assert(json_object_is_type(v, json_type_boolean));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(o, "f", &v));
	ck_assert(!json_object_get_boolean(v));
	/* decimals: the text written, and the value a reader of that text gets */
	ck_assert(json_object_object_get_ex(o, "d3", &v));
	ck_assert_str_eq(json_object_to_json_string(v), "0.667");
	ck_assert(json_object_get_double(v) == 0.667);
	ck_assert(json_object_object_get_ex(o, "d0", &v));
	ck_assert_str_eq(json_object_to_json_string(v), "2");
	ck_assert(json_object_get_double(v) == 2.0);
	ck_assert(json_object_object_get_ex(o, "d1", &v));
	ck_assert_str_eq(json_object_to_json_string(v), "0.1");
	ck_assert(json_object_get_double(v) == 0.1);
	json_object_put(o);
}
END_TEST

START_TEST(test_json_file_roundtrip)
{
	char path[256], tmpname[300];
	json_object *d = json_object_new_object(), *back, *v;
	struct stat st;

	kg_json_str(d, "url", "https://example.com/a");
	kg_json_dbl(d, "ms", 12.3456, 2);
	kg_json_u64(d, "n", 42);
	snprintf(path, sizeof(path), "%s/doc.json", tmp);
	ck_assert_int_eq(kg_json_write_file(path, d), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);
	back = kg_json_read_file(path);
	ck_assert_ptr_nonnull(back);
	ck_assert(json_object_equal(back, d));
	ck_assert(json_object_object_get_ex(back, "ms", &v));
	ck_assert(json_object_get_double(v) == 12.35);
	json_object_put(back);
	ck_assert_ptr_nonnull(strstr(slurp(path), "\"https://example.com/a\""));
	/* the temporary file is gone */
	snprintf(tmpname, sizeof(tmpname), "%s.tmp.%d", path, (int)getpid());
	ck_assert_int_ne(access(tmpname, F_OK), 0);
	ck_assert_int_eq(count_entries(tmp), 1);

	/* into a directory that does not exist */
	snprintf(path, sizeof(path), "%s/missing/doc.json", tmp);
	ck_assert_int_eq(kg_json_write_file(path, d), -ENOENT);
	json_object_put(d);
}
END_TEST

START_TEST(test_json_read_errors)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nope.json", tmp);
	errno = 0;
	ck_assert_ptr_null(kg_json_read_file(path));
	ck_assert_int_eq(errno, ENOENT);

	/* not JSON: EINVAL, whatever errno held before */
	snprintf(path, sizeof(path), "%s/bad.json", tmp);
	f = fopen(path, "w");
	fputs("{ \"a\": ", f);
	fclose(f);
	errno = EEXIST;
	ck_assert_ptr_null(kg_json_read_file(path));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(kg_json_read_file(path));
	ck_assert_int_eq(errno, EINVAL);

	/* empty */
	snprintf(path, sizeof(path), "%s/empty.json", tmp);
	f = fopen(path, "w");
	fclose(f);
	errno = EEXIST;
	ck_assert_ptr_null(kg_json_read_file(path));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *sink_suite(void)
{
	Suite *s = suite_create("sink");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_valid_object_name, 0, N(name_cases));
	tcase_add_test(tc, test_object_name_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_sink_init);
	tcase_add_test(tc, test_sink_init_fails);
	tcase_add_test(tc, test_sink_write);
	tcase_add_test(tc, test_sink_unchanged_with_decimals);
	tcase_add_test(tc, test_sink_refuses_bad_names);
	tcase_add_test(tc, test_sink_write_fails);
	tcase_add_test(tc, test_json_file_roundtrip);
	tcase_add_test(tc, test_json_read_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_loop_test(tc, test_rfc3339, 0, N(time_cases));
	tcase_add_test(tc, test_rfc3339_small_buffer);
	tcase_add_test(tc, test_json_setters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sink_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
