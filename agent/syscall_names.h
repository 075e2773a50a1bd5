/* SPDX-License-Identifier: GPL-2.0 */
/*
 * syscall_names.h - syscall number to name, for the build architecture.
 */
#ifndef KG_SYSCALL_NAMES_H
#define KG_SYSCALL_NAMES_H

/* The syscall's name, or NULL when the number is unknown. */
const char *kg_syscall_name(unsigned nr);

#endif /* KG_SYSCALL_NAMES_H */
