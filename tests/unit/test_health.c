/*
 * test_health.c - the pure parts of health checking: rise/fall counting
 * (health_state.c) and judging an HTTP reply (http_reply.c), table-driven.
 */
#include "unit.h"

#include <stdbool.h>
#include <string.h>

#include "health_state.h"
#include "http_reply.h"

/* A run of results ('+' pass, '-' fail) and the state after each. */
struct fsm_case {
	bool start_down;
	unsigned int rise, fall;
	const char *results;
	const char *states; /* 'U' up, 'D' down, after each result */
};

static const struct fsm_case fsm_cases[] = {
    /* up: fall 3 failures in a row take it down, one pass resets */
    {false, 2, 3, "--+---", "UUUUUD"},
    /* down: rise 2 passes in a row bring it up, a failure resets */
    {true, 2, 3, "+-++", "DDDU"},
    /* alpha start with rise 1: the first pass */
    {true, 1, 1, "-+", "DU"},
    /* fall 1: every failure while up takes it down at once */
    {false, 3, 1, "-+++-", "DDDUD"},
    /* flapping below both thresholds changes nothing */
    {false, 2, 2, "-+-+-+", "UUUUUU"},
    {true, 2, 2, "+-+-+-", "DDDDDD"},
    /* failures while down and passes while up count for nothing */
    {true, 2, 2, "----++--", "DDDDDUUD"},
};

static void test_rise_fall(void **state)
{
	for (size_t i = 0; i < sizeof(fsm_cases) / sizeof(fsm_cases[0]); i++) {
		const struct fsm_case *c = &fsm_cases[i];
		struct health_counts cnt = {0, 0};
		bool down = c->start_down;

		for (size_t r = 0; c->results[r]; r++) {
			bool was = down;
			enum health_change ch =
			    health_count(&cnt, &down, c->results[r] == '+',
					 c->rise, c->fall);
			char got = down ? 'D' : 'U';

			if (got != c->states[r])
				fail_msg("case %zu result %zu: state %c, want "
					 "%c",
					 i, r, got, c->states[r]);
			/* a change is reported exactly when it happens */
			assert_int_equal(ch, was == down ? HEALTH_SAME
					     : down	 ? HEALTH_WENT_DOWN
							 : HEALTH_WENT_UP);
		}
	}
}

struct http_case {
	const char *reply;
	bool complete;
	unsigned int expect_status;
	const char *expect_body;
	enum http_verdict want;
	unsigned int status; /* 0: not checked */
};

static const struct http_case http_cases[] = {
    {"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nok\n", true, 200, "", HTTP_PASS, 200},
    {"HTTP/1.1 200 OK\r\n", false, 200, "", HTTP_PASS, 200},
    {"HTTP/1.0 500 Internal Server Error\r\n\r\n", true, 200, "",
     HTTP_WRONG_STATUS, 500},
    {"HTTP/1.0 204 No Content\r\n\r\n", true, 204, "", HTTP_PASS, 204},
    {"HTTP/1.0 301\r\nLocation: /x\r\n\r\n", true, 200, "", HTTP_WRONG_STATUS,
     301},
    /* no reason phrase, bare LF line ends */
    {"HTTP/1.0 200\n\nhealthy\n", true, 200, "healthy", HTTP_PASS, 200},
    /* the status line is not complete yet */
    {"HTTP/1.0 20", false, 200, "", HTTP_MORE, 0},
    {"", false, 200, "", HTTP_MORE, 0},
    /* not HTTP */
    {"SSH-2.0-OpenSSH_9.2\r\n", false, 200, "", HTTP_BAD_REPLY, 0},
    {"HTTP/1.0 2x0 OK\r\n\r\n", true, 200, "", HTTP_BAD_REPLY, 0},
    {"HTTP/1.0 2000 OK\r\n\r\n", true, 200, "", HTTP_BAD_REPLY, 0},
    {"HTTP/1.0 200", true, 200, "", HTTP_PASS, 200},
    {"HTTP/1.0", true, 200, "", HTTP_BAD_REPLY, 0},
    /* body text: found, not there yet, never came */
    {"HTTP/1.0 200 OK\r\n\r\nall healthy here", true, 200, "healthy", HTTP_PASS,
     200},
    {"HTTP/1.0 200 OK\r\n\r\nall hea", false, 200, "healthy", HTTP_MORE, 200},
    {"HTTP/1.0 200 OK\r\n\r\ndegraded\n", true, 200, "healthy",
     HTTP_BODY_MISMATCH, 200},
    /* the text in a header is not in the body */
    {"HTTP/1.0 200 OK\r\nX-State: healthy\r\n\r\nsick", true, 200, "healthy",
     HTTP_BODY_MISMATCH, 200},
    /* a wrong status fails before the body is looked at */
    {"HTTP/1.0 503 Busy\r\n\r\nhealthy", true, 200, "healthy",
     HTTP_WRONG_STATUS, 503},
};

static void test_http_reply(void **state)
{
	for (size_t i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]);
	     i++) {
		const struct http_case *c = &http_cases[i];
		unsigned int status = 0;
		enum http_verdict v =
		    http_reply_judge(c->reply, strlen(c->reply), c->complete,
				     c->expect_status, c->expect_body, &status);

		if (v != c->want)
			fail_msg("case %zu (%s): verdict %d, want %d", i,
				 c->reply, v, c->want);
		if (c->status && status != c->status)
			fail_msg("case %zu: status %u, want %u", i, status,
				 c->status);
	}
}

/* A status line that never ends is refused once it is too long. */
static void test_http_long_line(void **state)
{
	char buf[HTTP_STATUS_LINE_MAX + 16];
	unsigned int status;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "HTTP/1.0 200 ", 13);
	assert_int_equal(http_reply_judge(buf, 100, false, 200, "", &status),
			 HTTP_MORE);
	assert_int_equal(
	    http_reply_judge(buf, sizeof(buf), false, 200, "", &status),
	    HTTP_BAD_REPLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rise_fall),
	    cmocka_unit_test(test_http_reply),
	    cmocka_unit_test(test_http_long_line),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
