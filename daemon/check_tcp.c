/*
 * check_tcp.c - the tcp check, as relayd's check_tcp.c and keepalived's
 * TCP_CHECK: a non-blocking connect to the server's address:port; up when
 * the handshake completes. Also the connect of the http check.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "health.h"
#include "log.h"

int check_connect(struct health_check *hc,
		  void (*cb)(struct ev_loop *, ev_io *, int))
{
	struct sockaddr_in sin = {
	    .sin_family = AF_INET,
	    .sin_port = hc->srv->port,
	    .sin_addr.s_addr = hc->srv->addr,
	};
	int fd;

	hc->phase = "connect";
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		health_done(hc, HC_INTERNAL, "socket: %s", strerror(errno));
		return -1;
	}
	hc->fd = fd;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		health_done(hc, HC_CONNECT_FAIL, "connect: %s",
			    strerror(errno));
		return -1;
	}
	ev_io_init(&hc->io, cb, fd, EV_WRITE);
	hc->io.data = hc;
	ev_io_start(hc->loop, &hc->io);
	return 0;
}

int check_connected(struct health_check *hc)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(hc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		health_done(hc, HC_CONNECT_FAIL, "connect: %s", strerror(err));
		return -1;
	}
	return 0;
}

void check_close(struct health_check *hc)
{
	if (hc->fd < 0)
		return;
	ev_io_stop(hc->loop, &hc->io);
	if (close(hc->fd) < 0)
		log_debug("health check socket: close: %m");
	hc->fd = -1;
}

static void tcp_on_connect(struct ev_loop *loop, ev_io *w, int revents)
{
	struct health_check *hc = w->data;

	if (check_connected(hc) == 0)
		health_done(hc, HC_PASS, "passed");
}

static void tcp_start(struct health_check *hc)
{
	check_connect(hc, tcp_on_connect);
}

const struct check_ops check_tcp = {
    .name = "tcp",
    .start = tcp_start,
    .release = check_close,
};
