/*
 * http_reply.c - judging an HTTP health check's reply: the status line
 * (RFC 9112 section 4: HTTP-version SP 3DIGIT SP reason), then, if asked,
 * a text in the body, as keepalived's HTTP_GET status_code and relayd's
 * "check http ... code" / "check send ... expect".
 */
#include "http_reply.h"

#include <ctype.h>
#include <string.h>

/* "HTTP/d.d NNN" followed by a space or the end of the line. Returns the
 * code, or 0 when the line is not a status line. */
static unsigned int status_line_code(const char *l, size_t n)
{
	if (n < 12 || memcmp(l, "HTTP/", 5) != 0 ||
	    !isdigit((unsigned char)l[5]) || l[6] != '.' ||
	    !isdigit((unsigned char)l[7]) || l[8] != ' ')
		return 0;
	for (int i = 9; i < 12; i++)
		if (!isdigit((unsigned char)l[i]))
			return 0;
	if (n > 12 && l[12] != ' ' && l[12] != '\r' && l[12] != '\n')
		return 0;
	return (unsigned int)((l[9] - '0') * 100 + (l[10] - '0') * 10 +
			      (l[11] - '0'));
}

/* Where the body starts (after the blank line), or NULL. */
static const char *body_start(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return buf + i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return buf + i + 3;
	}
	return NULL;
}

enum http_verdict http_reply_judge(const char *buf, size_t len, bool complete,
				   unsigned int expect_status,
				   const char *expect_body,
				   unsigned int *status)
{
	const char *eol = memchr(buf, '\n', len);
	size_t line = eol ? (size_t)(eol - buf) : len;
	const char *body;

	if (!eol && !complete && len < HTTP_STATUS_LINE_MAX)
		return HTTP_MORE;
	*status = status_line_code(buf, line);
	if (*status == 0 || line >= HTTP_STATUS_LINE_MAX)
		return HTTP_BAD_REPLY;
	if (*status != expect_status)
		return HTTP_WRONG_STATUS;
	if (!expect_body[0])
		return HTTP_PASS;
	body = body_start(buf, len);
	if (body && memmem(body, len - (size_t)(body - buf), expect_body,
			   strlen(expect_body)))
		return HTTP_PASS;
	return complete ? HTTP_BODY_MISMATCH : HTTP_MORE;
}
