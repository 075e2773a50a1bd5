/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - structured, levelled logs: one event per line in logfmt
 * ("ts=... level=info event=birth.settled pod=web-1 syscalls=1285"), so a
 * human can read them and a log pipeline can parse them. Values that are not
 * plain tokens go through kg_q(), which quotes and escapes them; nothing a
 * workload controls (paths, comms) is ever printed unquoted.
 */
#ifndef KG_LOG_H
#define KG_LOG_H

#include <stdarg.h>

enum kg_log_level { KG_LOG_ERROR = 0, KG_LOG_WARN, KG_LOG_INFO, KG_LOG_DEBUG };

void kg_log_set_level(enum kg_log_level level);
enum kg_log_level kg_log_get_level(void);
int kg_log_level_parse(const char *s, enum kg_log_level *out);

/* Log `event` with a logfmt fragment of key=value pairs (printf format). */
void kg_log(enum kg_log_level level, const char *event, const char *kvfmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Quote a value for logfmt: "..." with \" \\ \n \t and \xNN escapes. Returns
 * one of a small ring of static buffers, valid for the next few calls: the
 * agent logs from a single thread.
 */
const char *kg_q(const char *s);

/*
 * Repeated warnings and errors are rate-limited per event name: at most
 * KG_LOG_BURST lines of one event per KG_LOG_WINDOW_S seconds; the rest are
 * counted and summarised in one "event=log.suppressed" line when the window
 * ends. Info and debug lines are never dropped.
 */
#define KG_LOG_BURST 10
#define KG_LOG_WINDOW_S 60

/* Write the summaries of windows that have ended (called from a periodic tick). */
void kg_log_flush_suppressed(void);
unsigned long long kg_log_suppressed_total(void);

/*
 * Secrets never reach the log: every line passes kg_log_redact(), which
 * replaces the value after "Bearer ", and the value of any key named like
 * token, password, secret or authorization, with "[REDACTED]". Exported for
 * tests.
 */
void kg_log_redact(char *line, size_t size);

/* Where lines go (stderr by default), and another burst and window; for tests. */
void kg_log_set_stream(void *file);
void kg_log_set_rate_limit(unsigned burst, unsigned window_ms);

#define kg_error(ev, ...) kg_log(KG_LOG_ERROR, ev, __VA_ARGS__)
#define kg_warn(ev, ...) kg_log(KG_LOG_WARN, ev, __VA_ARGS__)
#define kg_info(ev, ...) kg_log(KG_LOG_INFO, ev, __VA_ARGS__)
#define kg_debug(ev, ...)                                                                  \
	do {                                                                               \
		if (kg_log_get_level() >= KG_LOG_DEBUG)                                    \
			kg_log(KG_LOG_DEBUG, ev, __VA_ARGS__);                             \
	} while (0)

#endif /* KG_LOG_H */
