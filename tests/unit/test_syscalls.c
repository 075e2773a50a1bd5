// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_syscalls.c - include/kg_syscalls.h and agent/syscall_names.c against
 * the build host's <asm/unistd.h>.
 *
 * The BPF programs match syscalls by the numbers in kg_syscalls.h, typed by
 * hand because vmlinux.h has no __NR_ macros; a wrong one silently records
 * nothing. Each is checked against the kernel's uapi header, a syscall the
 * architecture lacks must be -1 there and absent here, and the generated
 * name table must agree for every one of them.
 */
#include <asm/unistd.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kg_events.h"
#include "kg_syscalls.h"
#include "syscall_names.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* -1 in the header's column when the architecture has no such syscall. */
#define ROW(name, nr)                   \
	{                               \
#name, KG_NR_##name, nr \
	}
#define NONE (-1)

static const struct {
	const char *name;
	int kg; /* kg_syscalls.h */
	int host; /* <asm/unistd.h>, NONE when it has no __NR_ for it */
} rows[] = {
#ifdef __NR_open
	ROW(open, __NR_open),
#else
	ROW(open, NONE),
#endif
#ifdef __NR_creat
	ROW(creat, __NR_creat),
#else
	ROW(creat, NONE),
#endif
	ROW(openat, __NR_openat),
	ROW(clone, __NR_clone),
#ifdef __NR_fork
	ROW(fork, __NR_fork),
#else
	ROW(fork, NONE),
#endif
#ifdef __NR_vfork
	ROW(vfork, __NR_vfork),
#else
	ROW(vfork, NONE),
#endif
	ROW(execve, __NR_execve),
	ROW(execveat, __NR_execveat),
	ROW(unshare, __NR_unshare),
	ROW(setns, __NR_setns),
	ROW(mount, __NR_mount),
	ROW(umount2, __NR_umount2),
	ROW(pivot_root, __NR_pivot_root),
	ROW(listen, __NR_listen),
	ROW(open_tree, __NR_open_tree),
	ROW(move_mount, __NR_move_mount),
	ROW(fsmount, __NR_fsmount),
	ROW(clone3, __NR_clone3),
	ROW(openat2, __NR_openat2),
};

START_TEST(test_number)
{
	ck_assert_msg(rows[_i].kg == rows[_i].host, "KG_NR_%s is %d, <asm/unistd.h> says %d",
		      rows[_i].name, rows[_i].kg, rows[_i].host);
}
END_TEST

START_TEST(test_name)
{
	const char *name;

	if (rows[_i].kg == NONE)
		return; /* not on this architecture: nothing to name */
	/* every decoded syscall fits the per-number counters, below the "other" slot */
	ck_assert_int_ge(rows[_i].kg, 0);
	ck_assert_int_lt(rows[_i].kg, KG_NR_SYSCALLS - 1);
	name = kg_syscall_name(rows[_i].kg);
	ck_assert_msg(name != NULL, "no name for %s (%d)", rows[_i].name, rows[_i].kg);
	ck_assert_str_eq(name, rows[_i].name);
}
END_TEST

/* Common syscalls named from the same header, to check the table beyond kg_syscalls.h. */
static const struct {
	const char *name;
	int nr;
} common[] = {
	{ "read", __NR_read },
	{ "write", __NR_write },
	{ "close", __NR_close },
	{ "mmap", __NR_mmap },
	{ "brk", __NR_brk },
	{ "exit_group", __NR_exit_group },
	{ "getpid", __NR_getpid },
	{ "socket", __NR_socket },
	{ "bind", __NR_bind },
	{ "accept4", __NR_accept4 },
	{ "futex", __NR_futex },
	{ "rt_sigaction", __NR_rt_sigaction },
	{ "prctl", __NR_prctl },
	{ "capset", __NR_capset },
	{ "close_range", __NR_close_range },
};

START_TEST(test_common_names)
{
	ck_assert_str_eq(kg_syscall_name(common[_i].nr), common[_i].name);
}
END_TEST

START_TEST(test_unknown_numbers)
{
	/* beyond any table */
	ck_assert_ptr_null(kg_syscall_name(100000));
	ck_assert_ptr_null(kg_syscall_name(~0u));
	ck_assert_ptr_null(kg_syscall_name(KG_NR_SYSCALLS * 4));
#ifdef __x86_64__
	/* the hole between rseq (334) and the unified numbers (424) */
	ck_assert_str_eq(kg_syscall_name(334), "rseq");
	ck_assert_ptr_null(kg_syscall_name(335));
	ck_assert_ptr_null(kg_syscall_name(423));
	ck_assert_str_eq(kg_syscall_name(424), "pidfd_send_signal");
	ck_assert_str_eq(kg_syscall_name(257), "openat");
	ck_assert_str_eq(kg_syscall_name(0), "read");
#endif
}
END_TEST

static Suite *syscalls_suite(void)
{
	Suite *s = suite_create("syscalls");
	TCase *tc = tcase_create("numbers");

	tcase_add_loop_test(tc, test_number, 0, N(rows));
	tcase_add_loop_test(tc, test_name, 0, N(rows));
	tcase_add_loop_test(tc, test_common_names, 0, N(common));
	tcase_add_test(tc, test_unknown_numbers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(syscalls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
