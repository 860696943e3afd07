/*
 * metrics_http.c - GET /metrics over HTTP/1.0 for a Prometheus scrape.
 * One request per connection, read until the blank line (at most
 * HTTP_MAX_HEAD bytes), answered with Content-Length and closed; every
 * socket is non-blocking on the loop and idle clients are dropped.
 */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define HTTP_MAX_HEAD	 4096
#define HTTP_MAX_CLIENTS 16
#define HTTP_TIMEOUT	 10.0 /* seconds without progress */

struct http_client {
	struct metrics_http *m;
	struct http_client *next, *prev;
	int fd;
	ev_io io;
	ev_timer timer;
	char head[HTTP_MAX_HEAD + 1];
	size_t len;
	struct obuf out;
	bool answered;
};

static void http_client_free(struct http_client *hc)
{
	struct metrics_http *m = hc->m;

	ev_io_stop(m->loop, &hc->io);
	ev_timer_stop(m->loop, &hc->timer);
	close(hc->fd);
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		m->clients = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	m->n_clients--;
	obuf_free(&hc->out);
	free(hc);
}

static void respond(struct obuf *out, const char *status, const char *type,
		    const char *body, size_t len)
{
	obuf_printf(out,
		    "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n",
		    status, type, len);
	obuf_add(out, body, len);
}

void metrics_http_respond(struct obuf *out, const char *head,
			  const struct ctl_view *v)
{
	static const char text[] = "text/plain; charset=utf-8";
	const char *sp = strchr(head, ' ');
	size_t plen;
	struct obuf body;

	if (!sp || (size_t)(sp - head) != 3 || strncmp(head, "GET", 3) != 0) {
		respond(out, "405 Method Not Allowed", text, "GET only\n", 9);
		return;
	}
	plen = strcspn(sp + 1, " \r\n?");
	if (plen != 8 || strncmp(sp + 1, "/metrics", 8) != 0) {
		respond(out, "404 Not Found", text, "try /metrics\n", 13);
		return;
	}
	obuf_init(&body);
	fmt_metrics(&body, v);
	if (body.oom)
		respond(out, "503 Service Unavailable", text, "out of memory\n",
			14);
	else
		respond(out, "200 OK",
			"text/plain; version=0.0.4; charset=utf-8", body.data,
			body.len);
	obuf_free(&body);
}

static void http_write(struct http_client *hc)
{
	int rc = obuf_send(&hc->out, hc->fd);

	if (rc == 0) {
		ev_io_stop(hc->m->loop, &hc->io);
		ev_io_set(&hc->io, hc->fd, EV_WRITE);
		ev_io_start(hc->m->loop, &hc->io);
		return;
	}
	/* all sent, or the scraper went away */
	http_client_free(hc);
}

static void http_read(struct http_client *hc)
{
	struct ctl_view v;
	ssize_t n = recv(hc->fd, hc->head + hc->len, HTTP_MAX_HEAD - hc->len,
			 MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		http_client_free(hc);
		return;
	}
	hc->len += (size_t)n;
	hc->head[hc->len] = '\0';
	if (!strstr(hc->head, "\r\n\r\n") && !strstr(hc->head, "\n\n")) {
		if (hc->len < HTTP_MAX_HEAD)
			return;
		respond(&hc->out, "431 Request Header Fields Too Large",
			"text/plain", "", 0);
	} else {
		memset(&v, 0, sizeof(v));
		hc->m->view(hc->m->arg, &v);
		metrics_http_respond(&hc->out, hc->head, &v);
	}
	hc->answered = true;
	http_write(hc);
}

static void on_http_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_client *hc = w->data;

	ev_timer_again(loop, &hc->timer);
	if (hc->answered)
		http_write(hc);
	else
		http_read(hc);
}

static void on_http_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	http_client_free(w->data);
}

static void on_http_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_http *m = w->data;

	for (int i = 0; i < 8; i++) {
		int fd =
		    accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct http_client *hc;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("metrics: accept: %m");
			return;
		}
		hc = m->n_clients < HTTP_MAX_CLIENTS ? calloc(1, sizeof(*hc))
						     : NULL;
		if (!hc) {
			close(fd);
			continue;
		}
		hc->m = m;
		hc->fd = fd;
		obuf_init(&hc->out);
		hc->next = m->clients;
		if (m->clients)
			m->clients->prev = hc;
		m->clients = hc;
		m->n_clients++;
		ev_io_init(&hc->io, on_http_client, fd, EV_READ);
		hc->io.data = hc;
		ev_io_start(loop, &hc->io);
		ev_init(&hc->timer, on_http_timeout);
		hc->timer.repeat = HTTP_TIMEOUT;
		hc->timer.data = hc;
		ev_timer_again(loop, &hc->timer);
	}
}

int metrics_http_open(struct metrics_http *m, struct ev_loop *loop,
		      uint32_t addr, uint16_t port,
		      void (*view)(void *arg, struct ctl_view *v), void *arg)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = addr};
	char a[INET_ADDRSTRLEN];
	int one = 1;

	memset(m, 0, sizeof(*m));
	m->loop = loop;
	m->view = view;
	m->arg = arg;
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	m->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0) {
		log_err("metrics_listen %s:%u: socket: %m", a, ntohs(port));
		return -1;
	}
	if (setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
		0 ||
	    bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(m->fd, HTTP_MAX_CLIENTS) < 0) {
		log_err("metrics_listen %s:%u: %m", a, ntohs(port));
		close(m->fd);
		m->fd = -1;
		return -1;
	}
	ev_io_init(&m->io, on_http_accept, m->fd, EV_READ);
	m->io.data = m;
	ev_io_start(loop, &m->io);
	log_info("metrics on http://%s:%u/metrics", a, ntohs(port));
	return 0;
}

void metrics_http_close(struct metrics_http *m)
{
	if (!m->loop)
		return; /* never opened */
	while (m->clients)
		http_client_free(m->clients);
	if (m->fd >= 0) {
		ev_io_stop(m->loop, &m->io);
		close(m->fd);
	}
	m->fd = -1;
}
