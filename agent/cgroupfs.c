// SPDX-License-Identifier: GPL-2.0
/*
 * cgroupfs.c - mount discovery from /proc/self/mountinfo and /proc/cgroups,
 * id <-> path translation and CPU usage reads. See cgroupfs.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroupfs.h"

#define KG_FILEID_KERNFS 0xfe	/* file handle type of kernfs (cgroupfs) inodes */

/* Hierarchy id of a v1 controller, from /proc/cgroups. */
static int kg_hier_id_of(const char *controller, unsigned *id)
{
	char line[256], name[64];
	unsigned hier, num, enabled;
	FILE *f = fopen("/proc/cgroups", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %u %u %u", name, &hier, &num, &enabled) == 4 &&
		    !strcmp(name, controller) && enabled) {
			*id = hier;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void kg_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)strtol((char[]){ s[1], s[2], s[3], 0 }, NULL, 8);
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

static bool kg_has_option(const char *opts, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, want, n) && (p[n] == ',' || p[n] == 0))
			return true;
	}
	return false;
}

static void kg_set_mount(struct kg_mount *m, const char *root, const char *dir, bool v2,
			 unsigned hier_id)
{
	/* prefer a mount of the whole hierarchy over one of a subtree */
	if (m->dir[0] && (strcmp(root, "/") || !strcmp(m->root, "/")))
		return;
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	snprintf(m->root, sizeof(m->root), "%s", root);
	m->v2 = v2;
	m->hier_id = hier_id;
}

int kg_cgroupfs_open(struct kg_cgroupfs *fs, char *err, size_t errsz)
{
	char *line = NULL;
	size_t cap = 0;
	struct kg_mount v2 = { .fd = -1 }, cpu = { .fd = -1 }, cpuacct = { .fd = -1 };
	bool any_v1 = false;
	FILE *f;

	memset(fs, 0, sizeof(*fs));
	for (int h = 0; h < KG_HIER_NR; h++)
		fs->m[h].fd = -1;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		snprintf(err, errsz, "cannot read /proc/self/mountinfo: %s", strerror(errno));
		return -errno;
	}
	while (getline(&line, &cap, f) > 0) {
		char root[PATH_MAX], dir[PATH_MAX], fstype[64], opts[1024];
		char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, dir) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		kg_unescape(root);
		kg_unescape(dir);
		if (!strcmp(fstype, "cgroup2")) {
			kg_set_mount(&v2, root, dir, true, 0);
		} else if (!strcmp(fstype, "cgroup")) {
			any_v1 = true;
			if (kg_has_option(opts, "cpu"))
				kg_set_mount(&cpu, root, dir, false, 0);
			if (kg_has_option(opts, "cpuacct"))
				kg_set_mount(&cpuacct, root, dir, false, 0);
		}
	}
	free(line);
	fclose(f);

	if (cpu.dir[0] && kg_hier_id_of("cpu", &cpu.hier_id)) {
		snprintf(err, errsz, "cpu controller mounted at %s but not in /proc/cgroups", cpu.dir);
		return -ENOENT;
	}
	if (cpuacct.dir[0])
		kg_hier_id_of("cpuacct", &cpuacct.hier_id);
	if (!v2.dir[0] && !cpu.dir[0]) {
		snprintf(err, errsz,
			 "no cgroup hierarchy found: neither cgroup2 nor a v1 cpu controller is "
			 "mounted (is /sys/fs/cgroup mounted?)");
		return -ENOENT;
	}
	fs->m[KG_HIER_IDENTITY] = v2.dir[0] ? v2 : cpu;
	fs->m[KG_HIER_CPU] = cpu.dir[0] ? cpu : v2;
	fs->m[KG_HIER_CPUACCT] = cpuacct.dir[0] ? cpuacct : fs->m[KG_HIER_CPU];
	fs->hybrid = v2.dir[0] && any_v1;

	for (int h = 0; h < KG_HIER_NR; h++) {
		struct kg_mount *m = &fs->m[h];

		m->fd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (m->fd < 0) {
			snprintf(err, errsz, "cannot open cgroup mount %s: %s", m->dir,
				 strerror(errno));
			kg_cgroupfs_close(fs);
			return -errno;
		}
	}
	return 0;
}

void kg_cgroupfs_close(struct kg_cgroupfs *fs)
{
	for (int h = 0; h < KG_HIER_NR; h++) {
		if (fs->m[h].fd >= 0)
			close(fs->m[h].fd);
		fs->m[h].fd = -1;
	}
}

int kg_cgroupfs_fs_path(const struct kg_cgroupfs *fs, enum kg_hier h, const char *rel, char *out,
			size_t outsz)
{
	const struct kg_mount *m = &fs->m[h];
	size_t rl = strlen(m->root);
	int n;

	if (!m->dir[0] || rel[0] != '/')
		return -ENOENT;
	if (strcmp(m->root, "/")) {
		if (strncmp(rel, m->root, rl) || (rel[rl] && rel[rl] != '/'))
			return -ENOENT;
		rel += rl;
	}
	n = snprintf(out, outsz, "%s%s", m->dir, rel);
	return n < 0 || (size_t)n >= outsz ? -ENAMETOOLONG : 0;
}

int kg_cgroupfs_id_path(const struct kg_cgroupfs *fs, enum kg_hier h, uint64_t id, char *out,
			size_t outsz)
{
	const struct kg_mount *m = &fs->m[h];
	struct {
		struct file_handle fh;
		uint64_t id;
	} handle = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = KG_FILEID_KERNFS } };
	char link[64], target[PATH_MAX];
	size_t dl = strlen(m->dir), rl;
	ssize_t n;
	int fd, ret = 0;

	if (m->fd < 0)
		return -ENOENT;
	handle.id = id;
	fd = open_by_handle_at(m->fd, &handle.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	target[n] = 0;
	/* target is mount dir + path below the mount root */
	if (strncmp(target, m->dir, dl) || (target[dl] && target[dl] != '/'))
		return -EXDEV;
	rl = strcmp(m->root, "/") ? strlen(m->root) : 0;
	if (rl + strlen(target + dl) + 2 > outsz)
		return -ENAMETOOLONG;
	snprintf(out, outsz, "%s%s", rl ? m->root : "", target[dl] ? target + dl : (rl ? "" : "/"));
	return ret;
}

int kg_cgroupfs_path_id(const struct kg_cgroupfs *fs, enum kg_hier h, const char *rel, uint64_t *id)
{
	char p[PATH_MAX];
	struct stat st;
	int ret = kg_cgroupfs_fs_path(fs, h, rel, p, sizeof(p));

	if (ret)
		return ret;
	if (stat(p, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

static int kg_read_small(const char *path, char *buf, size_t bufsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, bufsz - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

int kg_cgroupfs_cpu_usage_ns(const struct kg_cgroupfs *fs, const char *rel, uint64_t *ns)
{
	char p[PATH_MAX + 32], buf[1024], *s;
	int ret;

	/* v1: cpuacct.usage in nanoseconds */
	if (!fs->m[KG_HIER_CPUACCT].v2 &&
	    !kg_cgroupfs_fs_path(fs, KG_HIER_CPUACCT, rel, p, sizeof(p) - 16)) {
		strcat(p, "/cpuacct.usage");
		if (!kg_read_small(p, buf, sizeof(buf))) {
			*ns = strtoull(buf, NULL, 10);
			return 0;
		}
	}
	/* v2: usage_usec in cpu.stat, kept for every cgroup whatever its controllers */
	ret = kg_cgroupfs_fs_path(fs, KG_HIER_IDENTITY, rel, p, sizeof(p) - 16);
	if (ret || !fs->m[KG_HIER_IDENTITY].v2)
		return ret ? ret : -ENOENT;
	strcat(p, "/cpu.stat");
	ret = kg_read_small(p, buf, sizeof(buf));
	if (ret)
		return ret;
	s = strstr(buf, "usage_usec ");
	if (!s)
		return -ENODATA;
	*ns = strtoull(s + 11, NULL, 10) * 1000;
	return 0;
}

static int kg_walk_dir(int dfd, char *rel, size_t cap, kg_cgroup_visit_fn fn, void *ctx, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	size_t len = strlen(rel);

	if (fstat(dfd, &st)) {
		close(dfd);
		return -errno;
	}
	fn(ctx, rel, st.st_ino);
	if (depth > 32) {	/* deeper than any real layout: stop rather than recurse forever */
		close(dfd);
		return 0;
	}
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int cfd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (len + strlen(de->d_name) + 2 > cap)
			continue;
		cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;	/* removed meanwhile */
		snprintf(rel + len, cap - len, "%s%s", len > 1 ? "/" : "", de->d_name);
		kg_walk_dir(cfd, rel, cap, fn, ctx, depth + 1);
		rel[len] = 0;
	}
	closedir(d);
	return 0;
}

int kg_cgroupfs_walk(const struct kg_cgroupfs *fs, const char *rel, kg_cgroup_visit_fn fn,
		     void *ctx)
{
	char p[PATH_MAX], r[PATH_MAX];
	int fd, ret = kg_cgroupfs_fs_path(fs, KG_HIER_IDENTITY, rel, p, sizeof(p));

	if (ret)
		return ret;
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(r, sizeof(r), "%s", rel);
	return kg_walk_dir(fd, r, sizeof(r), fn, ctx, 0);
}
