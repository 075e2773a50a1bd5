// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - logfmt lines on stderr. See log.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "log.h"

static enum kg_log_level kg_level = KG_LOG_INFO;
static const char *const kg_level_names[] = { "error", "warn", "info", "debug" };

void kg_log_set_level(enum kg_log_level level)
{
	kg_level = level;
}

enum kg_log_level kg_log_get_level(void)
{
	return kg_level;
}

int kg_log_level_parse(const char *s, enum kg_log_level *out)
{
	for (unsigned i = 0; i < sizeof(kg_level_names) / sizeof(kg_level_names[0]); i++) {
		if (s && !strcasecmp(s, kg_level_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

const char *kg_q(const char *s)
{
	static char ring[8][1024];
	static unsigned next;
	char *out = ring[next++ % 8];
	size_t n = 0, cap = sizeof(ring[0]) - 6;	/* room for an escape, '"', "..." */

	if (!s)
		s = "";
	out[n++] = '"';
	for (; *s && n < cap; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = c;
		} else if (c == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else if (c == '\t') {
			out[n++] = '\\';
			out[n++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			n += snprintf(out + n, 5, "\\x%02x", c);
		} else {
			out[n++] = c;
		}
	}
	if (*s) {	/* truncated */
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n++] = '"';
	out[n] = 0;
	return out;
}

void kg_log(enum kg_log_level level, const char *event, const char *kvfmt, ...)
{
	char ts[40], line[4096];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level > kg_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s event=%s", ts,
		     now.tv_nsec / 1000000, kg_level_names[level], event);
	if (kvfmt && *kvfmt && n > 0 && (size_t)n < sizeof(line) - 1) {
		line[n++] = ' ';
		va_start(ap, kvfmt);
		vsnprintf(line + n, sizeof(line) - n, kvfmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "%s\n", line);
}
