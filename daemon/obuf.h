/* obuf.h - a growable output buffer for replies, with JSON and Prometheus
 * escaping; out of memory is sticky and checked once at the end. */
#ifndef NFQLB_OBUF_H
#define NFQLB_OBUF_H

#include <stdbool.h>
#include <stddef.h>

struct obuf {
	char *data;
	size_t len; /* bytes held */
	size_t off; /* bytes already consumed (written to a socket) */
	size_t cap;
	bool oom; /* an append failed: the content is incomplete */
};

void obuf_init(struct obuf *b);
void obuf_free(struct obuf *b);
/* Forgets the content, keeps the memory. */
void obuf_reset(struct obuf *b);
void obuf_add(struct obuf *b, const void *data, size_t n);
void obuf_puts(struct obuf *b, const char *s);
void obuf_printf(struct obuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal, quotes included. */
void obuf_json_str(struct obuf *b, const char *s);
/* s as a Prometheus label value (without the quotes). */
void obuf_prom_label(struct obuf *b, const char *s);

/*
 * Sends what is pending on a non-blocking socket: 1 when all is sent, 0
 * when the socket is full (wait for EV_WRITE), -1 on an error (errno).
 */
int obuf_send(struct obuf *b, int fd);

/* Bytes not consumed yet. */
static inline size_t obuf_pending(const struct obuf *b)
{
	return b->len - b->off;
}

#endif
