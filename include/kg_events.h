/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kg_events.h - the contract between kernel-gossip's BPF programs and its agent.
 *
 * Everything both sides must agree on lives here and only here: the events
 * streamed through the per-CPU ring buffers, the keys and values of the maps
 * that aggregate high-rate facts in the kernel, and the load-time
 * configuration. The BPF side includes it after vmlinux.h, the agent after
 * <linux/types.h>; both see the same layout.
 */
#ifndef KG_EVENTS_H
#define KG_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define KG_COMM_LEN 16
#define KG_PATH_LEN 256		/* cgroup path in lifecycle events (kubelet's are < 200) */
#define KG_FILE_LEN 256		/* file name in exec/open events */
#define KG_NR_SYSCALLS 512	/* per-syscall breakdown slots; larger numbers go to slot 511 */
#define KG_HIST_SLOTS 32	/* log2 histograms: slot i counts durations in [2^i, 2^(i+1)) ns */
#define KG_MAX_PREFIXES 8	/* cgroup path prefixes whose new cgroups are tracked */
#define KG_PREFIX_LEN 64
#define KG_MAX_CPUS 1024	/* per-CPU ring buffers and loops over CPUs are bounded by this */
#define KG_DEMAND_SLOTS 101	/* per-period CPU demand in 10 % steps of the quota, last: 1000 %+ */
#define KG_USAGE_SLOTS 11	/* CPU use of an active period in 10 % steps of the quota, last: 100 %+ */

/* Namespace flags, as in <linux/sched.h>; repeated because vmlinux.h has no macros. */
#define KG_CLONE_NEWTIME 0x00000080
#define KG_CLONE_NEWNS 0x00020000
#define KG_CLONE_NEWCGROUP 0x02000000
#define KG_CLONE_NEWUTS 0x04000000
#define KG_CLONE_NEWIPC 0x08000000
#define KG_CLONE_NEWUSER 0x10000000
#define KG_CLONE_NEWPID 0x20000000
#define KG_CLONE_NEWNET 0x40000000
#define KG_CLONE_NS_MASK                                                                   \
	(KG_CLONE_NEWTIME | KG_CLONE_NEWNS | KG_CLONE_NEWCGROUP | KG_CLONE_NEWUTS |          \
	 KG_CLONE_NEWIPC | KG_CLONE_NEWUSER | KG_CLONE_NEWPID | KG_CLONE_NEWNET)
#define KG_CLONE_THREAD 0x00010000

enum kg_event_type {
	KG_EV_CGROUP_MKDIR = 1,	/* a cgroup under a tracked prefix was created (any hierarchy) */
	KG_EV_CGROUP_RMDIR,	/* ... and removed */
	KG_EV_CGROUP_ATTACH,	/* a task was moved into a cgroup whose birth is recorded */
	KG_EV_EXEC,		/* successful exec inside a birth cgroup */
	KG_EV_FORK,		/* new process or thread inside a birth cgroup */
	KG_EV_EXIT,		/* process (thread group leader) exit inside a birth cgroup */
	KG_EV_OPEN,		/* open/openat/openat2/creat with its result */
	KG_EV_NAMESPACE,	/* clone/clone3/unshare/setns that created or joined namespaces */
	KG_EV_MOUNT,		/* mount-related syscall with its result */
	KG_EV_LISTEN,		/* first sign of readiness: a successful listen() */
	KG_EV_TYPE_MAX,
};

/* Common header of every ring-buffer event. */
struct kg_event_hdr {
	__u32 type;		/* enum kg_event_type */
	__u32 pid;		/* thread id of the task the event is about */
	__u32 tgid;
	__u32 cpu;
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgid;		/* cgroup id in the identity hierarchy (see kg_config) */
	char comm[KG_COMM_LEN];
};

struct kg_cgroup_event {	/* KG_EV_CGROUP_MKDIR / RMDIR / ATTACH */
	struct kg_event_hdr hdr;
	__u64 id;		/* kernfs id of the cgroup in its own hierarchy */
	__u32 hierarchy_id;	/* 0 = unified (v2) hierarchy, else the v1 hierarchy id */
	__u32 level;
	__u32 birth;		/* 1 when the kernel opened a birth record for it */
	__u32 truncated;	/* path longer than KG_PATH_LEN - 1: resolve the id instead */
	char path[KG_PATH_LEN];	/* relative to the hierarchy's root, "/kubepods/..." */
};

#define KG_ARGS_LEN 256	/* first bytes of an exec's argv, NUL-separated; a power of 2 */
#define KG_EXE_LEN 64	/* name of the file executed (after /proc/self/exe, symlinks) */

struct kg_exec_event {		/* KG_EV_EXEC */
	struct kg_event_hdr hdr;
	__u32 ppid;
	__u32 old_pid;
	__u32 args_len;		/* bytes of args that are argv */
	__u32 argv0_only;	/* argv too near the stack top for a full read: args = argv[0] */
	__u64 syscalls_before;	/* syscalls the birth had counted when this exec succeeded */
	char filename[KG_FILE_LEN];	/* as passed to execve */
	char exe[KG_EXE_LEN];
	char args[KG_ARGS_LEN];
};

struct kg_fork_event {		/* KG_EV_FORK / KG_EV_EXIT */
	struct kg_event_hdr hdr;
	__u32 child_pid;	/* FORK: new task; EXIT: 0 */
	__u32 child_tgid;
	__s32 exit_code;	/* EXIT: task->exit_code (wait status) */
	__u32 is_thread;	/* FORK: 1 for a new thread of an existing process */
};

struct kg_open_event {		/* KG_EV_OPEN */
	struct kg_event_hdr hdr;
	__s64 ret;		/* fd, or -errno */
	__u32 flags;
	__u32 syscall_nr;
	char filename[KG_FILE_LEN];
};

struct kg_ns_event {		/* KG_EV_NAMESPACE */
	struct kg_event_hdr hdr;
	__s64 ret;
	__u64 flags;		/* CLONE_NEW* flags requested (setns: nstype) */
	__u32 syscall_nr;
	__u32 pad;
};

struct kg_mount_event {		/* KG_EV_MOUNT / KG_EV_LISTEN */
	struct kg_event_hdr hdr;
	__s64 ret;
	__u32 syscall_nr;
	__u32 pad;
	char target[KG_FILE_LEN]; /* MOUNT: target path when the syscall has one */
};

/*
 * Birth record of one cgroup, kept in the kernel from the cgroup's creation
 * until the agent declares its start settled. Counted in place because a
 * start makes thousands of syscalls: streaming each would cost more than the
 * start itself.
 */
struct kg_birth_counts {
	__u64 syscalls;		/* every syscall entered by a task of the cgroup */
	__u64 created_ns;	/* cgroup_mkdir time (bpf_ktime_get_ns) */
	__u64 first_task_ns;	/* first task attached */
	__u64 first_syscall_ns;
	__u64 last_syscall_ns;
	__u32 execs;		/* successful execs */
	__u32 processes;	/* new processes (fork/vfork/clone without CLONE_THREAD) */
	__u32 threads;		/* new threads */
	__u32 exits;		/* processes exited */
	__u32 opens;		/* open-family syscalls completed */
	__u32 opens_failed;
	__u32 namespaces;	/* namespaces created (one per CLONE_NEW* bit) */
	__u32 setns;		/* namespaces joined */
	__u32 mounts;		/* mount-family syscalls that succeeded */
	__u32 listens;
	__u32 events_dropped;	/* events of this birth that found its ring buffer full */
	__u32 pad;
	__u32 by_nr[KG_NR_SYSCALLS];
};

/*
 * Scheduler facts per cgroup (identity hierarchy), per CPU: summed by the
 * agent. Times are in the run-queue clock the kernel itself uses for
 * /proc/<pid>/schedstat.
 */
struct kg_sched_stats {
	__u64 oncpu_ns;
	__u64 switches_voluntary;	/* as /proc/<pid>/status voluntary_ctxt_switches */
	__u64 switches_involuntary;
	__u64 runq_delay_ns;		/* runnable (including held by throttling) but not running */
	__u64 runq_waits;
	__u64 runq_delay_max_ns;
	__u64 throttle_wait_ns;		/* part of runq_delay_ns spent held by CFS throttling */
	__u64 throttled_tasks;		/* task throttle events seen at sched_switch */
	__u64 runq_hist[KG_HIST_SLOTS];	/* run-queue delay, log2 nanoseconds */
};

/*
 * CFS bandwidth of one cgroup with a CPU quota, keyed by the id of the
 * cgroup in the hierarchy where the cpu controller lives (the v1 "cpu"
 * hierarchy on hybrid hosts, the unified one on cgroup v2). The first
 * three counters are the kernel's own cfs_bandwidth counters (what cpu.stat
 * prints), copied at the exit of every period timer; base_* are their values
 * at the entry of the first period timer the agent saw, so that
 * (value - base) is exact over the agent's window.
 */
struct kg_cfs_stats {
	__u64 nr_periods;
	__u64 nr_throttled;
	__u64 throttled_time_ns;
	__u64 base_nr_periods;
	__u64 base_nr_throttled;
	__u64 base_throttled_time_ns;
	__u64 base_ts_ns;
	__u64 last_ts_ns;
	__u64 quota_ns;		/* per period; ~0 = unlimited */
	__u64 period_ns;
	__u64 burst_ns;
	__u64 timer_fires;
	__u64 episodes;		/* per-CPU runqueue throttle episodes opened */
	__u64 episodes_closed;
	__u64 episode_ns;	/* summed length of closed episodes */
	__u64 episode_max_ns;
	__u64 episode_hist[KG_HIST_SLOTS]; /* episode length, log2 nanoseconds */
	/*
	 * CPU demand, measured at each period timer from the group's CPU time
	 * (the sum of its per-CPU scheduling entities' runtime). A run of
	 * throttled periods, with the period before it (a burst that begins
	 * late in a period is throttled only in the next), is one burst: the
	 * work it took, done in one period, is what the burst asked for.
	 * Unthrottled periods ask for what they used.
	 */
	__u64 usage_ns;		/* group CPU time at the last period timer */
	__u64 prev_used_ns;	/* CPU time of the last period, if unthrottled and no burst's end */
	__u64 burst_work_ns;	/* CPU time of the throttled burst in progress */
	__u32 burst_periods;	/* periods of the burst in progress */
	__u32 bursts;		/* throttled bursts completed */
	__u32 demand_hist[KG_DEMAND_SLOTS];
	__u32 usage_hist[KG_USAGE_SLOTS];
};

/* An open throttle episode of one per-CPU group runqueue (kg_episodes, keyed by the cfs_rq). */
struct kg_episode {
	__u64 start;		/* cfs_rq->throttled_clock: run-queue clock at throttle */
	__u64 cgid;		/* the group's cgroup, as kg_cfs keys it */
};

/* Drop and error counters, one array slot each, per CPU. */
enum kg_counter {
	KG_CNT_RB_DROP = 0,		/* ring buffer full: event lost */
	KG_CNT_RB_MISSING,		/* no ring buffer for this CPU (should never happen) */
	KG_CNT_BIRTH_MAP_FULL,		/* a birth could not be recorded: births map full */
	KG_CNT_SCHED_MAP_FULL,
	KG_CNT_CFS_MAP_FULL,
	KG_CNT_EPISODE_MAP_FULL,
	KG_CNT_ARGS_MAP_FULL,		/* syscall arguments could not be kept until exit */
	KG_CNT_TSTAMP_MAP_FULL,		/* a throttled task's wait could not be stamped */
	KG_CNT_EPISODE_INDEX_FULL,	/* an episode missing from its CPU's index: closed late */
	KG_CNT_EVENTS,			/* events submitted */
	KG_CNT_MAX,
};

/* Which hook records CFS throttle episodes (chosen by the agent at load time). */
enum kg_episode_hook {
	KG_EPISODE_NONE = 0,
	KG_EPISODE_FENTRY,		/* fexit/throttle_cfs_rq + fentry/unthrottle_cfs_rq */
	KG_EPISODE_SWITCH,		/* tp_btf/sched_switch: walk prev's cfs_rq chain */
};

#endif /* KG_EVENTS_H */
