// SPDX-License-Identifier: GPL-2.0
/*
 * loader.c - see loader.h.
 *
 * Hook choice for throttle episodes, in order of preference:
 *   fentry   fentry/fexit on unthrottle_cfs_rq: runs only when a runqueue is
 *            unthrottled. Needs BPF trampolines (BPF_PROG_TYPE_TRACING) and
 *            the function in BTF (it is static and may be inlined away).
 *   switch   the sched_switch program, already attached for the scheduler
 *            facts, notices the throttled task and opens the episode; the
 *            period timer and the remote-unthrottle IPI close it.
 * The exact counters (periods, throttled periods, throttled time) come from
 * the period timer on every kernel and need no choice.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kernel_gossip.skel.h"
#include "loader.h"
#include "log.h"

#define KG_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* The last warnings libbpf printed: the reason attached to a load failure. */
static char kg_libbpf_last[8][512];
static unsigned kg_libbpf_next;

static int kg_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[2048];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = 0;
	if (!n)
		return 0;
	if (level == LIBBPF_WARN) {
		snprintf(kg_libbpf_last[kg_libbpf_next++ % 8], sizeof(kg_libbpf_last[0]), "%s", msg);
		kg_debug("libbpf", "level=warn msg=%s", kg_q(msg));
	} else if (level == LIBBPF_INFO) {
		kg_debug("libbpf", "level=info msg=%s", kg_q(msg));
	}
	return 0;
}

/* The most recent libbpf warnings, oldest first, joined with " | ". */
static void kg_libbpf_reason(char *out, size_t outsz)
{
	size_t n = 0;

	out[0] = 0;
	for (unsigned i = 0; i < 8; i++) {
		const char *m = kg_libbpf_last[(kg_libbpf_next + i) % 8];

		if (m[0] && n < outsz)
			n += snprintf(out + n, outsz - n, "%s%s", n ? " | " : "", m);
	}
	memset(kg_libbpf_last, 0, sizeof(kg_libbpf_last));
}

const char *kg_episode_hook_name(enum kg_episode_hook h)
{
	switch (h) {
	case KG_EPISODE_FENTRY:
		return "fentry";
	case KG_EPISODE_SWITCH:
		return "tp_btf/sched_switch";
	default:
		return "none";
	}
}

static bool kg_btf_has(const struct btf *btf, const char *name, int kind)
{
	return btf && btf__find_by_name_kind(btf, name, kind) >= 0;
}

static void kg_set_config(struct kernel_gossip *skel, const struct kg_config *cfg,
			  const struct kg_cgroupfs *fs)
{
	const struct kg_mount *id = &fs->m[KG_HIER_IDENTITY];

	skel->rodata->kg_cfg_identity_v1 = !id->v2;
	skel->rodata->kg_cfg_identity_hier = id->v2 ? 0 : id->hier_id;
	skel->rodata->kg_cfg_nr_prefixes = cfg->nr_prefixes;
	skel->rodata->kg_cfg_nr_cpus = libbpf_num_possible_cpus();
	for (unsigned i = 0; i < cfg->nr_prefixes; i++)
		memcpy((char *)skel->rodata->kg_cfg_prefixes[i], cfg->prefixes[i], KG_PREFIX_LEN);
	/* wake the consumer at once past 1/16 of a ring, else its timer drains it */
	skel->rodata->kg_cfg_wakeup_bytes = cfg->ring_bytes / 16;
}

static int kg_open_skel(struct kg_bpf *b, const struct kg_config *cfg,
			const struct kg_cgroupfs *fs, bool fentry, bool csd, char *err,
			size_t errsz)
{
	struct kernel_gossip *skel = kernel_gossip__open();
	int ret;

	if (!skel) {
		snprintf(err, errsz, "cannot open the BPF object: %s", strerror(errno));
		return -errno ? -errno : -EINVAL;
	}
	kg_set_config(skel, cfg, fs);
	bpf_map__set_max_entries(skel->maps.kg_rings, b->nr_cpus);
	/* CPU 0's ring is the template the verifier checks the inner maps against */
	bpf_map__set_inner_map_fd(skel->maps.kg_rings, b->ring_fds[0]);
	bpf_map__set_max_entries(skel->maps.kg_births, cfg->max_births);
	bpf_program__set_autoload(skel->progs.kg_unthr_in, fentry);
	bpf_program__set_autoload(skel->progs.kg_unthr_out, fentry);
	bpf_program__set_autoload(skel->progs.kg_cfs_csd, csd);
	/* attached on demand, while a birth is recorded */
	bpf_program__set_autoattach(skel->progs.kg_sys_enter, false);
	bpf_program__set_autoattach(skel->progs.kg_sys_exit, false);
	bpf_program__set_autoattach(skel->progs.kg_unthr_in, false);
	bpf_program__set_autoattach(skel->progs.kg_unthr_out, false);

	ret = kernel_gossip__load(skel);
	if (ret) {
		char why[1500];

		kg_libbpf_reason(why, sizeof(why));
		snprintf(err, errsz, "loading the BPF programs failed (%s): %s", strerror(-ret),
			 why[0] ? why : "no detail from libbpf");
		kernel_gossip__destroy(skel);
		return ret;
	}
	b->skel = skel;
	return 0;
}

/* One ring buffer per possible CPU, created before the object so CPU 0's is its template. */
static int kg_make_rings(struct kg_bpf *b, const struct kg_config *cfg, char *err, size_t errsz)
{
	b->ring_fds = calloc(b->nr_cpus, sizeof(int));
	if (!b->ring_fds) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	for (int cpu = 0; cpu < b->nr_cpus; cpu++)
		b->ring_fds[cpu] = -1;
	for (int cpu = 0; cpu < b->nr_cpus; cpu++) {
		char name[32];

		snprintf(name, sizeof(name), "kg_ring_%u", (unsigned)cpu % 10000);
		b->ring_fds[cpu] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0, 0, cfg->ring_bytes,
						  NULL);
		if (b->ring_fds[cpu] < 0) {
			snprintf(err, errsz, "cannot create the ring buffer of CPU %d (%u bytes): %s",
				 cpu, cfg->ring_bytes, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int kg_insert_rings(struct kg_bpf *b, char *err, size_t errsz)
{
	int outer = bpf_map__fd(b->skel->maps.kg_rings);

	for (int cpu = 0; cpu < b->nr_cpus; cpu++) {
		if (bpf_map_update_elem(outer, &cpu, &b->ring_fds[cpu], BPF_ANY)) {
			snprintf(err, errsz, "cannot install the ring buffer of CPU %d: %s", cpu,
				 strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int kg_attach_fentry(struct kg_bpf *b)
{
	struct bpf_link *in = bpf_program__attach(b->skel->progs.kg_unthr_in);
	struct bpf_link *out = in ? bpf_program__attach(b->skel->progs.kg_unthr_out) : NULL;

	if (!in || !out) {
		int ret = -errno;

		bpf_link__destroy(in);
		return ret ? ret : -EINVAL;
	}
	b->skel->links.kg_unthr_in = in;
	b->skel->links.kg_unthr_out = out;
	return 0;
}

int kg_bpf_open(struct kg_bpf *b, const struct kg_config *cfg, const struct kg_cgroupfs *fs,
		char *err, size_t errsz)
{
	struct btf *vmlinux;
	bool want_fentry, csd;
	int ret;

	memset(b, 0, sizeof(*b));
	libbpf_set_print(kg_libbpf_print);
	if (access(KG_VMLINUX_BTF, R_OK)) {
		snprintf(err, errsz,
			 "kernel BTF not found at %s (%s): kernel-gossip's CO-RE programs need a "
			 "kernel built with CONFIG_DEBUG_INFO_BTF=y",
			 KG_VMLINUX_BTF, strerror(errno));
		return -ENOENT;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		snprintf(err, errsz, "cannot parse the kernel BTF at %s: %s", KG_VMLINUX_BTF,
			 strerror(errno));
		return -errno;
	}
	b->nr_cpus = libbpf_num_possible_cpus();
	if (b->nr_cpus <= 0 || b->nr_cpus > KG_MAX_CPUS) {
		snprintf(err, errsz, "unsupported number of possible CPUs: %d", b->nr_cpus);
		btf__free(vmlinux);
		return -EINVAL;
	}
	csd = kg_btf_has(vmlinux, "btf_trace_csd_function_exit", BTF_KIND_TYPEDEF);
	want_fentry = cfg->episode_hook != KG_CHOOSE_SWITCH;
	if (want_fentry && !kg_btf_has(vmlinux, "unthrottle_cfs_rq", BTF_KIND_FUNC)) {
		snprintf(b->episode_reason, sizeof(b->episode_reason),
			 "unthrottle_cfs_rq is not in the kernel's BTF (inlined or renamed)");
		want_fentry = false;
	}
	btf__free(vmlinux);
	if (cfg->episode_hook == KG_CHOOSE_FENTRY && !want_fentry) {
		snprintf(err, errsz, "--episode-hook=fentry is not possible: %s", b->episode_reason);
		return -EOPNOTSUPP;
	}

	ret = kg_make_rings(b, cfg, err, errsz);
	if (ret)
		goto fail;
	ret = kg_open_skel(b, cfg, fs, want_fentry, csd, err, errsz);
	if (ret && want_fentry && strstr(err, "'kg_unthr_")) {
		/* trampolines refused (EPERM on kernels that block ftrace hooks): fall back */
		snprintf(b->episode_reason, sizeof(b->episode_reason),
			 "the kernel refused the fentry/fexit programs at load: %s", strerror(-ret));
		if (cfg->episode_hook == KG_CHOOSE_FENTRY) {
			/* say what failed first: libbpf's detail alone suggests a memlock limit */
			char *detail = strdup(err);

			snprintf(err, errsz, "--episode-hook=fentry is not possible: %s (%s)",
				 b->episode_reason, detail ? detail : "");
			free(detail);
			goto fail;
		}
		kg_info("bpf.fallback", "concern=throttle-episodes from=fentry to=%s reason=%s",
			kg_episode_hook_name(KG_EPISODE_SWITCH), kg_q(b->episode_reason));
		want_fentry = false;
		ret = kg_open_skel(b, cfg, fs, false, csd, err, errsz);
	}
	if (ret)
		goto fail;
	ret = kg_insert_rings(b, err, errsz);
	if (ret)
		goto fail;

	b->episode_hook = KG_EPISODE_SWITCH;
	if (want_fentry) {
		ret = kg_attach_fentry(b);
		if (!ret) {
			b->episode_hook = KG_EPISODE_FENTRY;
			b->episode_reason[0] = 0;
		} else if (cfg->episode_hook == KG_CHOOSE_FENTRY) {
			snprintf(err, errsz, "attaching fentry/unthrottle_cfs_rq failed: %s",
				 strerror(-ret));
			goto fail;
		} else {
			snprintf(b->episode_reason, sizeof(b->episode_reason),
				 "fentry attach failed: %s", strerror(-ret));
		}
	} else if (!b->episode_reason[0]) {
		snprintf(b->episode_reason, sizeof(b->episode_reason), "chosen by --episode-hook");
	}
	b->skel->bss->kg_episode_hook = b->episode_hook;

	ret = kernel_gossip__attach(b->skel);
	if (ret) {
		char why[1024];

		kg_libbpf_reason(why, sizeof(why));
		snprintf(err, errsz, "attaching the BPF programs failed (%s): %s", strerror(-ret),
			 why[0] ? why : "no detail from libbpf");
		goto fail;
	}
	b->csd_hook = csd;
	if (cfg->syscall_hooks == KG_SYSCALLS_ALWAYS) {
		ret = kg_bpf_syscalls(b, true);
		if (ret) {
			snprintf(err, errsz, "attaching the syscall counters failed: %s",
				 strerror(-ret));
			goto fail;
		}
	}
	return 0;
fail:
	kg_bpf_close(b);
	return ret ? ret : -EINVAL;
}

void kg_bpf_close(struct kg_bpf *b)
{
	kg_bpf_syscalls(b, false);
	if (b->skel)
		kernel_gossip__destroy(b->skel);
	b->skel = NULL;
	for (int i = 0; b->ring_fds && i < b->nr_cpus; i++) {
		if (b->ring_fds[i] >= 0)
			close(b->ring_fds[i]);
	}
	free(b->ring_fds);
	b->ring_fds = NULL;
}

bool kg_bpf_syscalls_attached(const struct kg_bpf *b)
{
	return b->sys_links[0] != NULL;
}

int kg_bpf_syscalls(struct kg_bpf *b, bool on)
{
	if (!b->skel)
		return 0;
	if (!on) {
		for (int i = 0; i < 2; i++) {
			bpf_link__destroy(b->sys_links[i]);
			b->sys_links[i] = NULL;
		}
		return 0;
	}
	if (b->sys_links[0])
		return 0;
	/* exit first: an entry counted must find its exit hook ready */
	b->sys_links[1] = bpf_program__attach(b->skel->progs.kg_sys_exit);
	if (!b->sys_links[1])
		return -errno;
	b->sys_links[0] = bpf_program__attach(b->skel->progs.kg_sys_enter);
	if (!b->sys_links[0]) {
		int ret = -errno;

		bpf_link__destroy(b->sys_links[1]);
		b->sys_links[1] = NULL;
		return ret;
	}
	b->syscall_attaches++;
	return 0;
}

int kg_bpf_counters(const struct kg_bpf *b, uint64_t totals[KG_CNT_MAX], uint64_t *per_cpu_drops)
{
	int fd = bpf_map__fd(b->skel->maps.kg_counters);
	uint64_t vals[KG_MAX_CPUS];

	for (uint32_t k = 0; k < KG_CNT_MAX; k++) {
		totals[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			return -errno;
		for (int cpu = 0; cpu < b->nr_cpus; cpu++) {
			totals[k] += vals[cpu];
			if (k == KG_CNT_RB_DROP && per_cpu_drops)
				per_cpu_drops[cpu] = vals[cpu];
		}
	}
	return 0;
}

int kg_bpf_births_fd(const struct kg_bpf *b)
{
	return bpf_map__fd(b->skel->maps.kg_births);
}

int kg_bpf_sched_fd(const struct kg_bpf *b)
{
	return bpf_map__fd(b->skel->maps.kg_sched);
}

int kg_bpf_cfs_fd(const struct kg_bpf *b)
{
	return bpf_map__fd(b->skel->maps.kg_cfs);
}

int kg_bpf_episodes_fd(const struct kg_bpf *b)
{
	return bpf_map__fd(b->skel->maps.kg_episodes);
}
