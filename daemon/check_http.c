/*
 * check_http.c - the http check, as keepalived's HTTP_GET and relayd's
 * "check http": connect, send "GET path HTTP/1.0" with a Host header,
 * read the reply (at most HTTP_CHECK_REPLY_MAX bytes) and judge it
 * (http_reply.c): up on expect_status, and expect_body in the body when
 * one is set. HTTP/1.0 so the server closes when it is done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "health.h"
#include "http_reply.h"

#define HTTP_CHECK_REPLY_MAX 65536

static void http_release(struct health_check *hc)
{
	check_close(hc);
	free(hc->req);
	free(hc->reply);
	hc->req = hc->reply = NULL;
	hc->req_len = hc->req_sent = hc->reply_len = 0;
}

static void http_judge(struct health_check *hc, bool complete)
{
	const struct health_conf *c = &hc->conf;
	unsigned int status = 0;

	if (complete && hc->reply_len == 0) {
		health_done(hc, HC_HTTP_BAD_REPLY,
			    "http: connection closed without a reply");
		return;
	}
	switch (http_reply_judge(hc->reply, hc->reply_len, complete,
				 c->expect_status, c->expect_body, &status)) {
	case HTTP_MORE:
		return;
	case HTTP_PASS:
		health_done(hc, HC_PASS, "passed");
		return;
	case HTTP_BAD_REPLY:
		health_done(hc, HC_HTTP_BAD_REPLY,
			    "http: the reply is not HTTP");
		return;
	case HTTP_WRONG_STATUS:
		health_done(hc, HC_HTTP_STATUS, "http: status %u, expected %u",
			    status, c->expect_status);
		return;
	case HTTP_BODY_MISMATCH:
		health_done(hc, HC_HTTP_BODY, "http: body lacks \"%.40s\"",
			    c->expect_body);
		return;
	}
}

static void http_read(struct health_check *hc)
{
	for (;;) {
		size_t room = HTTP_CHECK_REPLY_MAX - hc->reply_len;
		ssize_t n = recv(hc->fd, hc->reply + hc->reply_len, room, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			health_done(hc, HC_IO_FAIL, "http: receive: %s",
				    strerror(errno));
			return;
		}
		hc->reply_len += (size_t)n;
		/* closed, or as much as we read: judge what is there */
		if (n == 0 || hc->reply_len == HTTP_CHECK_REPLY_MAX) {
			http_judge(hc, true);
			return;
		}
		http_judge(hc, false);
		if (!hc->running)
			return;
	}
}

static void http_write(struct health_check *hc)
{
	while (hc->req_sent < hc->req_len) {
		ssize_t n = send(hc->fd, hc->req + hc->req_sent,
				 hc->req_len - hc->req_sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			health_done(hc, HC_IO_FAIL, "http: send: %s",
				    strerror(errno));
			return;
		}
		hc->req_sent += (size_t)n;
	}
	ev_io_stop(hc->loop, &hc->io);
	ev_io_set(&hc->io, hc->fd, EV_READ);
	ev_io_start(hc->loop, &hc->io);
}

static void http_on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health_check *hc = w->data;

	if (hc->req_sent < hc->req_len) {
		if (hc->req_sent == 0 && check_connected(hc) < 0)
			return;
		hc->phase = "http";
		http_write(hc);
	} else {
		http_read(hc);
	}
}

/* The Host header: the configured one, or the server's address[:port]. */
static void http_host(const struct health_check *hc, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];

	if (hc->conf.host[0]) {
		snprintf(buf, size, "%s", hc->conf.host);
		return;
	}
	inet_ntop(AF_INET, &hc->srv->addr, a, sizeof(a));
	if (ntohs(hc->srv->port) == 80)
		snprintf(buf, size, "%s", a);
	else
		snprintf(buf, size, "%s:%u", a, ntohs(hc->srv->port));
}

static void http_start(struct health_check *hc)
{
	char host[HEALTH_PATH_MAX];
	int n;

	http_host(hc, host, sizeof(host));
	n = asprintf(&hc->req,
		     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: nfqlb-health"
		     "\r\nAccept: */*\r\nConnection: close\r\n\r\n",
		     hc->conf.path, host);
	hc->reply = malloc(HTTP_CHECK_REPLY_MAX);
	if (n < 0 || !hc->reply) {
		if (n < 0)
			hc->req = NULL;
		health_done(hc, HC_INTERNAL, "http: out of memory");
		return;
	}
	hc->req_len = (size_t)n;
	check_connect(hc, http_on_io);
}

const struct check_ops check_http = {
    .name = "http",
    .start = http_start,
    .release = http_release,
};
