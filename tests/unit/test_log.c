// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_log.c - unit tests for agent/log.c: rate limiting of repeated
 * warnings and errors (with the summary of what was suppressed), and the
 * redaction that keeps secrets out of every line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static char *buf;
static size_t buflen;
static FILE *out;

static void capture(void)
{
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &buflen);
	kg_log_set_stream(out);
}

static const char *captured(void)
{
	fflush(out);
	return buf;
}

static void release(void)
{
	kg_log_set_stream(NULL);
	fclose(out);
	free(buf);
	buf = NULL;
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

START_TEST(test_rate_limit)
{
	unsigned long long before = kg_log_suppressed_total();

	kg_log_set_level(KG_LOG_INFO);
	kg_log_set_rate_limit(10, 200);
	capture();
	for (int i = 0; i < 25; i++)
		kg_warn("sink.write_failed", "n=%d", i);
	for (int i = 0; i < 3; i++)
		kg_error("other.failure", "n=%d", i);	/* its own budget */
	for (int i = 0; i < 30; i++)
		kg_info("birth.settled", "n=%d", i);	/* info is never limited */
	ck_assert_int_eq(count(captured(), "event=sink.write_failed"), 10);
	ck_assert_ptr_nonnull(strstr(captured(), "event=sink.write_failed n=9\n"));
	ck_assert_ptr_null(strstr(captured(), "event=sink.write_failed n=10\n"));
	ck_assert_int_eq(count(captured(), "event=other.failure"), 3);
	ck_assert_int_eq(count(captured(), "event=birth.settled"), 30);
	ck_assert_int_eq(count(captured(), "log.suppressed"), 0);
	ck_assert_uint_eq(kg_log_suppressed_total() - before, 15);

	/* a flush inside the window says nothing yet */
	kg_log_flush_suppressed();
	ck_assert_int_eq(count(captured(), "log.suppressed"), 0);
	/* after the window: one summary line, and the budget is back */
	sleep_ms(250);
	kg_log_flush_suppressed();
	ck_assert_ptr_nonnull(strstr(captured(), "level=warn event=log.suppressed "
						 "of=sink.write_failed suppressed=15 window_s=0.2\n"));
	kg_log_flush_suppressed();
	ck_assert_int_eq(count(captured(), "log.suppressed"), 1);
	kg_warn("sink.write_failed", "n=%d", 100);
	ck_assert_ptr_nonnull(strstr(captured(), "event=sink.write_failed n=100\n"));

	/* the summary also comes with the next line after the window, without a flush */
	for (int i = 0; i < 12; i++)
		kg_warn("ring.drops", "n=%d", i);
	sleep_ms(250);
	kg_warn("ring.drops", "n=%d", 99);
	ck_assert_ptr_nonnull(strstr(captured(), "event=log.suppressed of=ring.drops suppressed=2 "));
	ck_assert_ptr_nonnull(strstr(captured(), "event=ring.drops n=99\n"));
	release();
	kg_log_set_rate_limit(KG_LOG_BURST, KG_LOG_WINDOW_S * 1000);
}
END_TEST

START_TEST(test_many_events)
{
	char ev[32];

	/* more distinct events than the table holds: the oldest make room, nothing is lost */
	kg_log_set_rate_limit(2, 60000);
	capture();
	for (int i = 0; i < 200; i++) {
		snprintf(ev, sizeof(ev), "ev.%d", i);
		kg_warn(ev, "i=%d", i);
	}
	ck_assert_int_eq(count(captured(), " event=ev."), 200);
	release();
	kg_log_set_rate_limit(KG_LOG_BURST, KG_LOG_WINDOW_S * 1000);
}
END_TEST

struct redact_case {
	const char *in, *out;
};

static const struct redact_case redactions[] = {
	{ "event=k8s.request header=\"Authorization: Bearer eyJhbGciOi.x.y\" code=401",
	  "event=k8s.request header=\"Authorization: Bearer [REDACTED]\" code=401" },
	{ "msg=\"bearer abc123, retrying\"", "msg=\"bearer [REDACTED], retrying\"" },
	{ "token=abc123 next=1", "token=[REDACTED] next=1" },
	{ "bearer_token=\"a b c\" next=1", "bearer_token=[REDACTED] next=1" },
	{ "client_secret=s3cr3t", "client_secret=[REDACTED]" },
	{ "Password=hunter2 user=root", "Password=[REDACTED] user=root" },
	{ "authorization=\"Bearer x\"", "authorization=[REDACTED]" },
	{ "api_key=k", "api_key=[REDACTED]" },
	/* not secrets: names that only contain a word, counts, paths of token files */
	{ "tokens=5 token_file=/var/run/secrets/token", "tokens=5 token_file=/var/run/secrets/token" },
	{ "event=k8s.token_rotated path=\"/x\"", "event=k8s.token_rotated path=\"/x\"" },
	{ "token=", "token=" },
	{ "token=[REDACTED]", "token=[REDACTED]" },
	{ "Bearer ", "Bearer " },
};

START_TEST(test_redact)
{
	const struct redact_case *c = &redactions[_i];
	char line[512];

	snprintf(line, sizeof(line), "%s", c->in);
	kg_log_redact(line, sizeof(line));
	ck_assert_str_eq(line, c->out);
}
END_TEST

START_TEST(test_redact_bounds)
{
	char line[24];

	/* growing the line never overruns the buffer: the end is cut instead */
	snprintf(line, sizeof(line), "token=a b=1234567890");
	kg_log_redact(line, sizeof(line));
	ck_assert_str_eq(line, "token=[REDACTED] b=1234");
	snprintf(line, sizeof(line), "xxxxxxxxxxxxxx token=a");
	kg_log_redact(line, sizeof(line));
	ck_assert_uint_lt(strlen(line), sizeof(line));
	ck_assert_int_eq(strncmp(line, "xxxxxxxxxxxxxx token=", 21), 0);
}
END_TEST

START_TEST(test_lines_redacted)
{
	kg_log_set_rate_limit(KG_LOG_BURST, KG_LOG_WINDOW_S * 1000);
	capture();
	kg_error("k8s.auth_failed", "status=401 token=%s header=%s", "abc.def.ghi",
		 kg_q("Bearer abc.def.ghi"));
	ck_assert_ptr_null(strstr(captured(), "abc.def.ghi"));
	ck_assert_ptr_nonnull(strstr(captured(), "token=[REDACTED]"));
	release();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_many_events);
	tcase_add_loop_test(tc, test_redact, 0, sizeof(redactions) / sizeof(redactions[0]));
	tcase_add_test(tc, test_redact_bounds);
	tcase_add_test(tc, test_lines_redacted);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
