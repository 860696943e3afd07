/* http_reply.h - judging an HTTP health check's reply (check_http.c) */
#ifndef NFQLB_HTTP_REPLY_H
#define NFQLB_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

enum http_verdict {
	HTTP_MORE = 0,	    /* not decided yet: read more */
	HTTP_PASS,	    /* the expected status (and body text) */
	HTTP_BAD_REPLY,	    /* no "HTTP/x.y NNN" status line */
	HTTP_WRONG_STATUS,  /* a status other than the expected one */
	HTTP_BODY_MISMATCH, /* the body lacks the expected text */
};

/* A status line longer than this is not one. */
#define HTTP_STATUS_LINE_MAX 1024

/*
 * Judges buf[len], the reply received so far; complete when no more will
 * come (the server closed, or the check's buffer is full). *status gets
 * the status code as soon as the status line is there. expect_body ""
 * accepts any body, and then the status line alone decides.
 */
enum http_verdict http_reply_judge(const char *buf, size_t len, bool complete,
				   unsigned int expect_status,
				   const char *expect_body,
				   unsigned int *status);

#endif
