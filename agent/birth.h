/* SPDX-License-Identifier: GPL-2.0 */
/*
 * birth.h - the record of one container's start, from its cgroup's creation
 * until it has settled. Fed with the kernel's events (exec chain, opens,
 * namespaces, mounts, readiness) and, when it settles, with the counts the
 * kernel kept in place (syscalls by number, processes, ...). Pure: no BPF,
 * no I/O, so every rule here is unit-tested.
 */
#ifndef KG_BIRTH_H
#define KG_BIRTH_H

#include <stdbool.h>
#include <stdint.h>
#include "kg_events.h"

#define KG_BIRTH_MAX_EXECS 32	/* exec chain kept in full up to this length */
#define KG_BIRTH_MAX_FILES 512	/* distinct paths counted per start */
#define KG_BIRTH_MAX_MOUNTS 32
#define KG_BIRTH_TOP 10		/* entries in the "top" lists of a certificate */

enum kg_settle_reason {
	KG_SETTLE_NONE = 0,
	KG_SETTLE_READY,	/* listened, then birth_ready_ms passed */
	KG_SETTLE_QUIET,	/* no exec/fork/open/mount for birth_quiet_ms */
	KG_SETTLE_EXITED,	/* every process of the container exited */
	KG_SETTLE_REMOVED,	/* the cgroup was removed */
	KG_SETTLE_TIMEOUT,	/* birth_max_ms after the cgroup was created */
	KG_SETTLE_SHUTDOWN,	/* the agent stopped while the start was recorded */
};

enum kg_ns_type { KG_NS_MNT, KG_NS_UTS, KG_NS_IPC, KG_NS_USER, KG_NS_PID, KG_NS_NET,
		  KG_NS_CGROUP, KG_NS_TIME, KG_NS_NR };

struct kg_birth_exec {
	uint64_t ts_ns;
	uint64_t syscalls_before;	/* the birth's syscalls when this exec succeeded */
	uint32_t pid, ppid;
	char comm[KG_COMM_LEN];
	char file[KG_FILE_LEN];		/* as passed to execve */
	char exe[KG_EXE_LEN];		/* the file that ran (behind /proc/self/exe, symlinks) */
	char args[KG_ARGS_LEN + 1];	/* argv joined with spaces, maybe cut */
};

struct kg_birth_file {
	char *path;
	uint32_t opens, failed;
	int32_t last_errno;	/* of the last failure, positive */
	uint64_t first_ns;
};

struct kg_birth_mount {
	uint64_t ts_ns;
	uint32_t syscall_nr;
	int32_t ret;
	char target[128];
};

struct kg_birth {
	uint64_t cgid;
	char path[KG_PATH_LEN];
	uint64_t created_ns;		/* first mkdir of this path in any hierarchy */
	uint32_t cgroups_created;	/* mkdirs of this path across hierarchies */
	uint64_t attached_ns;		/* the runtime moved the first task in */
	uint32_t attach_pid;
	char attach_comm[KG_COMM_LEN];
	uint64_t first_ns_created_ns;	/* first namespace created from inside */
	uint64_t ready_ns;		/* first successful listen() */
	uint32_t ready_pid;
	char ready_comm[KG_COMM_LEN];
	uint64_t last_activity_ns;	/* last exec/fork/exit/open/mount/namespace/listen */
	int32_t live;			/* processes alive: attached + forked - exited */
	uint32_t attached;		/* processes the runtime moved in */
	bool had_task;
	uint32_t ns_created[KG_NS_NR];
	uint32_t ns_joined;
	uint32_t execs_n, execs_beyond;
	struct kg_birth_exec execs[KG_BIRTH_MAX_EXECS];
	struct kg_birth_file *files;
	uint32_t nfiles, files_cap;
	uint32_t opens_untracked;	/* opens of paths beyond KG_BIRTH_MAX_FILES */
	uint32_t mounts_n, mounts_beyond;
	struct kg_birth_mount mounts[KG_BIRTH_MAX_MOUNTS];
	uint64_t events;		/* detail events received */
	/* set when settled */
	enum kg_settle_reason reason;
	uint64_t settled_ns;
	bool have_kernel;
	struct kg_birth_counts kernel;	/* the kernel's in-place counts */
};

struct kg_birth_rules {
	unsigned quiet_ms, ready_ms, max_ms;
};

struct kg_birth *kg_birth_new(uint64_t cgid, const char *path, uint64_t created_ns);
void kg_birth_free(struct kg_birth *b);

/* Account one event of this birth's cgroup (type checked by the ring). */
void kg_birth_event(struct kg_birth *b, const struct kg_event_hdr *h);

/*
 * Should this birth settle now? k is the kernel's record (NULL if gone).
 * Returns KG_SETTLE_NONE to keep recording.
 */
enum kg_settle_reason kg_birth_check(const struct kg_birth *b, uint64_t now_ns,
				     const struct kg_birth_counts *k,
				     const struct kg_birth_rules *rules);

/* Freeze the record; k (may be NULL) is the kernel's final record. */
void kg_birth_settle(struct kg_birth *b, enum kg_settle_reason reason, uint64_t now_ns,
		     const struct kg_birth_counts *k);

const char *kg_settle_reason_name(enum kg_settle_reason r);
const char *kg_ns_type_name(enum kg_ns_type t);

/* Indexes of up to n files, by opens (failed=false) or failures (true), most first. */
unsigned kg_birth_top_files(const struct kg_birth *b, bool failed, unsigned *idx, unsigned n);

/* Up to n syscall numbers by count, most first; returns how many. */
unsigned kg_birth_top_syscalls(const struct kg_birth_counts *k, unsigned *nr, unsigned n);

#endif /* KG_BIRTH_H */
