// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - logfmt lines on stderr. See log.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "log.h"

static enum kg_log_level kg_level = KG_LOG_INFO;
static FILE *kg_stream;

/* Rate limiting of repeated warnings and errors, per event name. */
#define KG_LOG_KEYS 64
struct kg_log_key {
	char event[64];
	uint64_t window_start_ns, last_ns;
	unsigned count;
	unsigned long long suppressed;
};
static struct kg_log_key kg_keys[KG_LOG_KEYS];
static unsigned long long kg_suppressed_total;
static unsigned kg_burst = KG_LOG_BURST;
static uint64_t kg_window_ns = KG_LOG_WINDOW_S * 1000000000ULL;
/* the Kubernetes client logs from its own threads: the limiter's table is shared */
static pthread_mutex_t kg_log_lock = PTHREAD_MUTEX_INITIALIZER;
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

void kg_log_set_stream(void *file)
{
	kg_stream = file;
}

void kg_log_set_rate_limit(unsigned burst, unsigned window_ms)
{
	pthread_mutex_lock(&kg_log_lock);
	kg_burst = burst;
	kg_window_ns = window_ms * 1000000ULL;
	memset(kg_keys, 0, sizeof(kg_keys));
	pthread_mutex_unlock(&kg_log_lock);
}

static uint64_t kg_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void kg_emit_line(const char *line)
{
	fprintf(kg_stream ? kg_stream : stderr, "%s\n", line);
}

static void kg_timestamp(char *out, size_t outsz)
{
	char ts[40];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsz, "%.32s.%03dZ", ts, (int)(now.tv_nsec / 1000000));
}

/* Called with kg_log_lock held. */
static void kg_summarise(struct kg_log_key *k)
{
	char ts[48], line[256];

	if (!k->suppressed)
		return;
	kg_timestamp(ts, sizeof(ts));
	snprintf(line, sizeof(line),
		 "ts=%s level=warn event=log.suppressed of=%s suppressed=%llu window_s=%g", ts,
		 k->event, k->suppressed, kg_window_ns / 1e9);
	kg_emit_line(line);
	k->suppressed = 0;
}

/* May this warning or error be written now? Called with kg_log_lock held. */
static bool kg_admit(const char *event, uint64_t now)
{
	const uint64_t window = kg_window_ns;
	struct kg_log_key *k = NULL, *oldest = &kg_keys[0];

	for (unsigned i = 0; i < KG_LOG_KEYS; i++) {
		if (!strcmp(kg_keys[i].event, event)) {
			k = &kg_keys[i];
			break;
		}
		if (kg_keys[i].last_ns < oldest->last_ns)
			oldest = &kg_keys[i];
	}
	if (!k) {
		k = oldest;	/* an empty slot has last_ns 0: the oldest */
		kg_summarise(k);
		memset(k, 0, sizeof(*k));
		snprintf(k->event, sizeof(k->event), "%s", event);
		k->window_start_ns = now;
	}
	k->last_ns = now;
	if (now - k->window_start_ns >= window) {
		kg_summarise(k);
		k->window_start_ns = now;
		k->count = 0;
	}
	if (k->count < kg_burst) {
		k->count++;
		return true;
	}
	k->suppressed++;
	kg_suppressed_total++;
	return false;
}

void kg_log_flush_suppressed(void)
{
	uint64_t window, now = kg_mono_ns();

	pthread_mutex_lock(&kg_log_lock);
	window = kg_window_ns;
	for (unsigned i = 0; i < KG_LOG_KEYS; i++) {
		struct kg_log_key *k = &kg_keys[i];

		if (k->suppressed && now - k->window_start_ns >= window) {
			kg_summarise(k);
			k->window_start_ns = now;
			k->count = 0;
		}
	}
	pthread_mutex_unlock(&kg_log_lock);
}

unsigned long long kg_log_suppressed_total(void)
{
	unsigned long long n;

	pthread_mutex_lock(&kg_log_lock);
	n = kg_suppressed_total;
	pthread_mutex_unlock(&kg_log_lock);
	return n;
}

/* A key that names a secret: token, password, ... or ends with one (auth_token, client_secret). */
static bool kg_secret_key(const char *key, size_t len)
{
	static const char *const words[] = { "token", "password", "passwd", "secret",
					     "authorization", "bearer", "apikey", "api_key",
					     "credentials" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t wl = strlen(words[i]);

		if (len >= wl && !strncasecmp(key + len - wl, words[i], wl))
			return true;
	}
	return false;
}

/* Replace [start, end) of line by "[REDACTED]", cutting the line at size. Returns the index past it. */
static size_t kg_splice(char *line, size_t size, size_t start, size_t end)
{
	static const char red[] = "[REDACTED]";
	size_t rl = sizeof(red) - 1, tail = strlen(line) - end;

	if (start + rl >= size) {
		line[start] = 0;
		return start;
	}
	if (start + rl + tail + 1 > size)
		tail = size - 1 - start - rl;
	memmove(line + start + rl, line + end, tail);
	memcpy(line + start, red, rl);
	line[start + rl + tail] = 0;
	return start + rl;
}

/* End of a logfmt value starting at v: a quoted string or up to the next blank. */
static size_t kg_value_end(const char *line, size_t v)
{
	size_t i = v;

	if (line[i] == '"') {
		for (i++; line[i] && line[i] != '"'; i++)
			if (line[i] == '\\' && line[i + 1])
				i++;
		return line[i] ? i + 1 : i;
	}
	while (line[i] && line[i] != ' ')
		i++;
	return i;
}

void kg_log_redact(char *line, size_t size)
{
	size_t i = 0;

	while (line[i]) {
		/* "Bearer xyz", anywhere (a header quoted into a message) */
		if (!strncasecmp(line + i, "bearer ", 7)) {
			size_t v = i + 7, e = v;

			while (line[e] && line[e] != ' ' && line[e] != '"' && line[e] != ',')
				e++;
			if (e > v && strncmp(line + v, "[REDACTED]", 10)) {
				i = kg_splice(line, size, v, e);
				continue;
			}
		}
		/* key=value with a secret-sounding key */
		if (line[i] == '=' && i > 0) {
			size_t k = i;

			while (k > 0 && line[k - 1] != ' ' && line[k - 1] != '"')
				k--;
			if (kg_secret_key(line + k, i - k)) {
				size_t e = kg_value_end(line, i + 1);

				if (e > i + 1 && strncmp(line + i + 1, "[REDACTED]", 10)) {
					i = kg_splice(line, size, i + 1, e);
					continue;
				}
			}
		}
		i++;
	}
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
	if (level <= KG_LOG_WARN) {
		bool ok;

		pthread_mutex_lock(&kg_log_lock);
		ok = kg_admit(event, kg_mono_ns());
		pthread_mutex_unlock(&kg_log_lock);
		if (!ok)
			return;
	}
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
	kg_log_redact(line, sizeof(line));
	kg_emit_line(line);
}
