// SPDX-License-Identifier: GPL-2.0
/*
 * sink_file.c - standalone mode's resource store. See sink.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "json_util.h"
#include "log.h"
#include "sink.h"

int kg_valid_object_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && c != '.')
			return 0;
		if ((i == 0 || i == n - 1) && !alnum)
			return 0;
		/* each dot-separated label starts and ends alphanumeric: no "..", ".-", "-." */
		if (c == '.' && (name[i - 1] == '.' || name[i - 1] == '-' || name[i + 1] == '-'))
			return 0;
	}
	return 1;
}

static int kg_mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int kg_sink_init(struct kg_sink *s, const char *dir, char *err, size_t errsz)
{
	const char *plurals[] = { KG_PLURAL_CERT, KG_PLURAL_WHISPER };
	char p[PATH_MAX];
	int ret;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, plurals[i]);
		ret = kg_mkdir_p(p);
		if (ret) {
			snprintf(err, errsz, "cannot create output directory %s: %s", p,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int kg_sink_write(struct kg_sink *s, const char *plural, const char *name, json_object *doc)
{
	char path[PATH_MAX];
	json_object *old;
	int ret;

	if (!kg_valid_object_name(name)) {
		s->errors++;
		kg_error("sink.refused", "kind=%s name=%s reason=\"not a valid object name\"", plural,
			 kg_q(name));
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s/%s.json", s->dir, plural, name);
	old = json_object_from_file(path);
	/*
	 * Compare the text, not the values (json_object_equal): decimals are written
	 * rounded, and a whole number written from a double ("500") reads back as an int.
	 */
	if (old && !strcmp(json_object_to_json_string_ext(old, JSON_C_TO_STRING_PLAIN),
			   json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN))) {
		json_object_put(old);
		s->unchanged++;
		return 1;
	}
	json_object_put(old);
	ret = kg_json_write_file(path, doc);
	if (ret) {
		s->errors++;
		kg_error("sink.write_failed", "path=%s error=%s", kg_q(path), kg_q(strerror(-ret)));
		return ret;
	}
	s->written++;
	return 0;
}
