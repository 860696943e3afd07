/* obuf.c - a growable output buffer for replies */
#include "obuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void obuf_init(struct obuf *b)
{
	memset(b, 0, sizeof(*b));
}

void obuf_free(struct obuf *b)
{
	free(b->data);
	obuf_init(b);
}

void obuf_reset(struct obuf *b)
{
	b->len = b->off = 0;
	b->oom = false;
}

/* Room for n more bytes plus a NUL; false (and oom) when none. */
static bool obuf_room(struct obuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *d;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	while (cap < b->len + n + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	d = realloc(b->data, cap);
	if (!d) {
		b->oom = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

void obuf_add(struct obuf *b, const void *data, size_t n)
{
	/* nothing to add may come as (NULL, 0): memcpy must not see NULL */
	if (n == 0 || !obuf_room(b, n))
		return;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void obuf_puts(struct obuf *b, const char *s)
{
	obuf_add(b, s, strlen(s));
}

void obuf_printf(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!obuf_room(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void obuf_json_str(struct obuf *b, const char *s)
{
	obuf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			obuf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			obuf_printf(b, "\\u%04x", *p);
		else
			obuf_add(b, p, 1);
	}
	obuf_add(b, "\"", 1);
}

/* The exposition format escapes exactly backslash, quote and newline. */
void obuf_prom_label(struct obuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			obuf_puts(b, "\\\\");
		else if (*s == '"')
			obuf_puts(b, "\\\"");
		else if (*s == '\n')
			obuf_puts(b, "\\n");
		else
			obuf_add(b, s, 1);
	}
}

int obuf_send(struct obuf *b, int fd)
{
	while (b->off < b->len) {
		ssize_t n = send(fd, b->data + b->off, b->len - b->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		b->off += (size_t)n;
	}
	obuf_reset(b);
	return 1;
}
