/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kg_syscalls.h - numbers of the syscalls whose arguments and results the
 * birth recorder decodes. vmlinux.h carries no __NR_ macros, so the BPF side
 * needs them spelled out; the agent's unit tests check every one against the
 * build host's <asm/unistd.h>. Syscalls an architecture lacks are -1.
 */
#ifndef KG_SYSCALLS_H
#define KG_SYSCALLS_H

#if defined(__TARGET_ARCH_x86) || defined(__x86_64__)
#define KG_NR_open 2
#define KG_NR_creat 85
#define KG_NR_openat 257
#define KG_NR_clone 56
#define KG_NR_fork 57
#define KG_NR_vfork 58
#define KG_NR_execve 59
#define KG_NR_execveat 322
#define KG_NR_unshare 272
#define KG_NR_setns 308
#define KG_NR_mount 165
#define KG_NR_umount2 166
#define KG_NR_pivot_root 155
#define KG_NR_listen 50
#elif defined(__TARGET_ARCH_arm64) || defined(__aarch64__)
#define KG_NR_open -1
#define KG_NR_creat -1
#define KG_NR_openat 56
#define KG_NR_clone 220
#define KG_NR_fork -1
#define KG_NR_vfork -1
#define KG_NR_execve 221
#define KG_NR_execveat 281
#define KG_NR_unshare 97
#define KG_NR_setns 268
#define KG_NR_mount 40
#define KG_NR_umount2 39
#define KG_NR_pivot_root 41
#define KG_NR_listen 201
#else
#error "kernel-gossip: syscall numbers for this architecture are not known"
#endif

/* numbered alike on every architecture (the unified table, 424 and up) */
#define KG_NR_open_tree 428
#define KG_NR_move_mount 429
#define KG_NR_fsmount 432
#define KG_NR_clone3 435
#define KG_NR_openat2 437

#endif /* KG_SYSCALLS_H */
