// SPDX-License-Identifier: GPL-2.0
/*
 * syscall_names.c - the table is generated at build time by
 * scripts/gen-syscall-table.sh from <asm/unistd.h>.
 */
#include <stddef.h>
#include "syscall_names.h"

static const char *const kg_syscall_table[] = {
#include "syscall_table.h"
};

const char *kg_syscall_name(unsigned nr)
{
	if (nr >= sizeof(kg_syscall_table) / sizeof(kg_syscall_table[0]))
		return NULL;
	return kg_syscall_table[nr];
}
