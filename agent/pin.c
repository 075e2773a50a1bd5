// SPDX-License-Identifier: GPL-2.0
/*
 * pin.c - see pin.h.
 *
 * bpffs: the pins live in the BPF filesystem. When /sys/fs/bpf is not one
 * (a host or container without it mounted), the agent mounts it there - and
 * only then - and leaves it mounted at exit: other tools may have pinned
 * things in it since.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel_gossip.skel.h"
#include "log.h"
#include "pin.h"

#define KG_BPF_FS_MAGIC 0xcafe4a11

static int kg_pin_record(struct kg_pins *p, const char *path)
{
	if (p->n == p->cap) {
		unsigned cap = p->cap ? p->cap * 2 : 64;
		char **np = realloc(p->paths, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		p->paths = np;
		p->cap = cap;
	}
	p->paths[p->n] = strdup(path);
	if (!p->paths[p->n])
		return -ENOMEM;
	p->n++;
	return 0;
}

static int kg_pin_fd(struct kg_pins *p, int fd, const char *sub, const char *name, char *err,
		     size_t errsz)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/%s", p->dir, sub, name);
	if (bpf_obj_pin(fd, path)) {
		int ret = -errno;

		snprintf(err, errsz, "cannot pin %s: %s", path, strerror(errno));
		return ret;
	}
	return kg_pin_record(p, path);
}

static int kg_bpffs(struct kg_pins *p, char *err, size_t errsz)
{
	struct statfs fs;

	if (!statfs(KG_BPFFS, &fs) && (unsigned long)fs.f_type == KG_BPF_FS_MAGIC)
		return 0;
	if (mkdir(KG_BPFFS, 0700) && errno != EEXIST) {
		snprintf(err, errsz, "cannot create %s for the BPF filesystem: %s", KG_BPFFS,
			 strerror(errno));
		return -errno;
	}
	if (mount("bpf", KG_BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700")) {
		snprintf(err, errsz, "--pin: %s is not a BPF filesystem and mounting one failed: %s",
			 KG_BPFFS, strerror(errno));
		return -errno;
	}
	p->mounted_bpffs = true;
	kg_info("pin.bpffs_mounted", "path=%s", KG_BPFFS);
	return 0;
}

/* Pins left by an agent that did not stop cleanly: ours to remove (the directory is ours). */
static unsigned kg_pin_clear(const char *dir)
{
	unsigned n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!unlink(path))
			n++;
	}
	closedir(d);
	return n;
}

static int kg_pin_mkdir(const char *path, char *err, size_t errsz)
{
	if (mkdir(path, 0700) && errno != EEXIST) {
		snprintf(err, errsz, "cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int kg_pins_create(struct kg_pins *p, const struct kg_bpf *b, const char *dir, char *err,
		   size_t errsz)
{
	struct bpf_object *obj = b->skel->obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	char sub[512];
	unsigned stale;
	int ret;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	if ((ret = kg_bpffs(p, err, errsz)) || (ret = kg_pin_mkdir(p->dir, err, errsz)))
		return ret;
	snprintf(sub, sizeof(sub), "%s/progs", p->dir);
	stale = kg_pin_clear(sub);
	if ((ret = kg_pin_mkdir(sub, err, errsz)))
		return ret;
	snprintf(sub, sizeof(sub), "%s/maps", p->dir);
	stale += kg_pin_clear(sub);
	if ((ret = kg_pin_mkdir(sub, err, errsz)))
		return ret;
	if (stale)
		kg_warn("pin.stale_removed", "dir=%s pins=%u reason=\"left by an agent that did "
			"not stop cleanly\"", kg_q(p->dir), stale);

	bpf_object__for_each_program(prog, obj) {
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue;	/* not loaded on this kernel (fentry where refused) */
		ret = kg_pin_fd(p, fd, "progs", bpf_program__name(prog), err, errsz);
		if (ret)
			return ret;
		p->progs++;
	}
	bpf_object__for_each_map(map, obj) {
		int fd = bpf_map__fd(map);

		if (fd < 0 || bpf_map__is_internal(map))
			continue;	/* .rodata/.bss: configuration, not data */
		ret = kg_pin_fd(p, fd, "maps", bpf_map__name(map), err, errsz);
		if (ret)
			return ret;
		p->maps++;
	}
	for (int cpu = 0; cpu < b->nr_cpus; cpu++) {
		char name[32];

		snprintf(name, sizeof(name), "kg_ring_%d", cpu);
		ret = kg_pin_fd(p, b->ring_fds[cpu], "maps", name, err, errsz);
		if (ret)
			return ret;
		p->maps++;
	}
	kg_info("pin.created", "dir=%s programs=%u maps=%u", kg_q(p->dir), p->progs, p->maps);
	return 0;
}

void kg_pins_remove(struct kg_pins *p)
{
	char sub[512];
	unsigned failed = 0;

	if (!p->dir[0])
		return;
	for (unsigned i = 0; i < p->n; i++) {
		if (unlink(p->paths[i]) && errno != ENOENT)
			failed++;
		free(p->paths[i]);
	}
	free(p->paths);
	snprintf(sub, sizeof(sub), "%s/progs", p->dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/maps", p->dir);
	rmdir(sub);
	if (rmdir(p->dir) && errno != ENOENT)
		failed++;
	if (failed)
		kg_warn("pin.remove_failed", "dir=%s left=%u", kg_q(p->dir), failed);
	else
		kg_info("pin.removed", "dir=%s pins=%u", kg_q(p->dir), p->n);
	memset(p, 0, sizeof(*p));
}
