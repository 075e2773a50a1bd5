// SPDX-License-Identifier: GPL-2.0
/*
 * json_util.c - see json_util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "json_util.h"

void kg_json_str(json_object *o, const char *key, const char *val)
{
	if (val)
		json_object_object_add(o, key, json_object_new_string(val));
}

void kg_json_u64(json_object *o, const char *key, uint64_t val)
{
	/* int64 in JSON: Kubernetes' integer format; counters never reach 2^63 */
	json_object_object_add(o, key, json_object_new_int64(val > INT64_MAX ? INT64_MAX : (int64_t)val));
}

void kg_json_i64(json_object *o, const char *key, int64_t val)
{
	json_object_object_add(o, key, json_object_new_int64(val));
}

void kg_json_dbl(json_object *o, const char *key, double val, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, val);
	/* hold the value that is written, so a document read back compares equal */
	json_object_object_add(o, key, json_object_new_double_s(strtod(buf, NULL), buf));
}

void kg_json_bool(json_object *o, const char *key, int val)
{
	json_object_object_add(o, key, json_object_new_boolean(!!val));
}

json_object *kg_json_obj(json_object *parent, const char *key)
{
	json_object *o = json_object_new_object();

	json_object_object_add(parent, key, o);
	return o;
}

json_object *kg_json_arr(json_object *parent, const char *key)
{
	json_object *a = json_object_new_array();

	json_object_object_add(parent, key, a);
	return a;
}

void kg_rfc3339(int64_t wall_ns, char *buf, size_t bufsz)
{
	time_t sec = wall_ns / 1000000000;
	int64_t frac = wall_ns % 1000000000;
	struct tm tm;
	char base[32];

	if (frac < 0) {	/* before 1970: floor, so the fraction is never negative */
		frac += 1000000000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, bufsz, "%s.%06ldZ", base, (long)(frac / 1000));
}

void kg_json_time(json_object *o, const char *key, int64_t wall_ns)
{
	char buf[40];

	kg_rfc3339(wall_ns, buf, sizeof(buf));
	kg_json_str(o, key, buf);
}

int kg_json_write_file(const char *path, json_object *doc)
{
	char tmp[PATH_MAX];
	const char *text;
	size_t len;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
						   JSON_C_TO_STRING_SPACED |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		off += n;
	}
	if (!ret && write(fd, "\n", 1) != 1)
		ret = -EIO;
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

json_object *kg_json_read_file(const char *path)
{
	json_object *o;

	errno = 0;	/* json-c leaves errno alone on a parse error: no stale value */
	o = json_object_from_file(path);
	if (!o && !errno)
		errno = EINVAL;
	return o;
}
