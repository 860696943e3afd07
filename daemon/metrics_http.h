/* metrics_http.h - the Prometheus scrape endpoint (daemon.metrics_listen):
 * a tiny non-blocking HTTP/1.0 responder on the event loop. */
#ifndef NFQLB_METRICS_HTTP_H
#define NFQLB_METRICS_HTTP_H

#include <ev.h>
#include <stdint.h>

#include "ctl_fmt.h"

struct http_client;

struct metrics_http {
	struct ev_loop *loop;
	int fd;
	ev_io io;
	void (*view)(void *arg, struct ctl_view *v);
	void *arg;
	struct http_client *clients;
	unsigned int n_clients;
};

/* Listens on addr:port (network order). Returns 0, or -1 logged. */
int metrics_http_open(struct metrics_http *m, struct ev_loop *loop,
		      uint32_t addr, uint16_t port,
		      void (*view)(void *arg, struct ctl_view *v), void *arg);
void metrics_http_close(struct metrics_http *m);

/*
 * The response to one request head (pure, for the tests): GET /metrics
 * gets 200 and the metrics text, other paths 404, other methods 405.
 */
void metrics_http_respond(struct obuf *out, const char *head,
			  const struct ctl_view *v);

#endif
