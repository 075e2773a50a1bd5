// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_recent.c - unit tests for agent/recent.c: the bounded store of the
 * last documents written (what the debug socket's births, whispers and
 * explain answer from).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "recent.h"

static json_object *doc(const char *name, const char *uid, const char *ns, const char *pod)
{
	json_object *d = json_object_new_object(), *m = json_object_new_object(),
		    *s = json_object_new_object();

	json_object_object_add(m, "name", json_object_new_string(name));
	json_object_object_add(d, "metadata", m);
	if (uid)
		json_object_object_add(s, "podUID", json_object_new_string(uid));
	if (ns)
		json_object_object_add(s, "podNamespace", json_object_new_string(ns));
	if (pod)
		json_object_object_add(s, "podName", json_object_new_string(pod));
	json_object_object_add(d, "spec", s);
	return d;
}

static const char *name_of(const struct kg_recent_doc *d)
{
	json_object *m, *n;

	json_object_object_get_ex(d->doc, "metadata", &m);
	json_object_object_get_ex(m, "name", &n);
	return json_object_get_string(n);
}

START_TEST(test_order_replace_evict)
{
	struct kg_recent r;
	const struct kg_recent_doc *list[KG_RECENT_MAX];
	char name[64];

	kg_recent_init(&r);
	ck_assert_uint_eq(kg_recent_list(&r, list, KG_RECENT_MAX), 0);
	for (int i = 0; i < 3; i++) {
		json_object *d;

		snprintf(name, sizeof(name), "doc-%d", i);
		d = doc(name, NULL, NULL, NULL);
		ck_assert_int_eq(kg_recent_put(&r, name, d, 1000 + i), 0);
		json_object_put(d);	/* the store has its own copy */
	}
	ck_assert_uint_eq(kg_recent_list(&r, list, KG_RECENT_MAX), 3);
	ck_assert_str_eq(list[0]->name, "doc-2");	/* newest first */
	ck_assert_str_eq(list[2]->name, "doc-0");
	ck_assert_str_eq(name_of(list[2]), "doc-0");
	ck_assert_int_eq(list[2]->written_ns, 1000);

	/* a rewrite replaces the older copy and becomes the newest */
	{
		json_object *d = doc("doc-0", "u", NULL, NULL);

		kg_recent_put(&r, "doc-0", d, 2000);
		json_object_put(d);
	}
	ck_assert_uint_eq(kg_recent_list(&r, list, KG_RECENT_MAX), 3);
	ck_assert_str_eq(list[0]->name, "doc-0");
	ck_assert_int_eq(list[0]->written_ns, 2000);
	ck_assert_uint_eq(r.n, 3);

	/* a limit takes the newest */
	ck_assert_uint_eq(kg_recent_list(&r, list, 2), 2);
	ck_assert_str_eq(list[0]->name, "doc-0");
	ck_assert_str_eq(list[1]->name, "doc-2");

	/* bounded: the oldest goes */
	for (int i = 3; i < KG_RECENT_MAX + 10; i++) {
		json_object *d;

		snprintf(name, sizeof(name), "doc-%d", i);
		d = doc(name, NULL, NULL, NULL);
		kg_recent_put(&r, name, d, 1000 + i);
		json_object_put(d);
	}
	ck_assert_uint_eq(r.n, KG_RECENT_MAX);
	ck_assert_uint_eq(kg_recent_list(&r, list, KG_RECENT_MAX), KG_RECENT_MAX);
	snprintf(name, sizeof(name), "doc-%d", KG_RECENT_MAX + 9);
	ck_assert_str_eq(list[0]->name, name);
	snprintf(name, sizeof(name), "doc-%d", 10);
	ck_assert_str_eq(list[KG_RECENT_MAX - 1]->name, name);
	kg_recent_fini(&r);
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(test_copy_is_private)
{
	struct kg_recent r;
	const struct kg_recent_doc *list[1];
	json_object *d = doc("a", "uid-1", NULL, NULL), *m;

	kg_recent_init(&r);
	kg_recent_put(&r, "a", d, 1);
	/* the writer changes its document afterwards (a sink adding metadata) */
	json_object_object_get_ex(d, "metadata", &m);
	json_object_object_add(m, "name", json_object_new_string("changed"));
	json_object_put(d);
	kg_recent_list(&r, list, 1);
	ck_assert_str_eq(name_of(list[0]), "a");
	kg_recent_fini(&r);
}
END_TEST

START_TEST(test_find_pod)
{
	struct kg_recent r;
	json_object *d;
	const struct kg_recent_doc *f;

	kg_recent_init(&r);
	d = doc("pod-0f1e-birth", "0f1e", NULL, "pod-0f1e");
	kg_recent_put(&r, "pod-0f1e-birth", d, 1);
	json_object_put(d);
	d = doc("web-1-birth", "a1b2", "team-a", "web-1");
	kg_recent_put(&r, "web-1-birth", d, 2);
	json_object_put(d);
	d = doc("web-1-birth-2", "a1b2", "team-a", "web-1");
	kg_recent_put(&r, "web-1-birth-2", d, 3);
	json_object_put(d);

	ck_assert_str_eq(kg_recent_find_pod(&r, "0f1e")->name, "pod-0f1e-birth");	/* uid */
	ck_assert_str_eq(kg_recent_find_pod(&r, "pod-0f1e")->name, "pod-0f1e-birth");	/* name */
	ck_assert_str_eq(kg_recent_find_pod(&r, "pod-0f1e-birth")->name, "pod-0f1e-birth");
	f = kg_recent_find_pod(&r, "team-a/web-1");	/* namespace/name: the newest */
	ck_assert_str_eq(f->name, "web-1-birth-2");
	ck_assert_str_eq(kg_recent_find_pod(&r, "web-1")->name, "web-1-birth-2");
	ck_assert_ptr_null(kg_recent_find_pod(&r, "team-b/web-1"));
	ck_assert_ptr_null(kg_recent_find_pod(&r, "/web-1"));
	ck_assert_ptr_null(kg_recent_find_pod(&r, "team-a/"));
	ck_assert_ptr_null(kg_recent_find_pod(&r, "0f1"));	/* no prefixes */
	ck_assert_ptr_null(kg_recent_find_pod(&r, ""));
	kg_recent_fini(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("recent");
	TCase *tc = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_order_replace_evict);
	tcase_add_test(tc, test_copy_is_private);
	tcase_add_test(tc, test_find_pod);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
