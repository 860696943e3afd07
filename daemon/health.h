/*
 * health.h - the health engine (health.c) and one file per check type
 * (check_tcp.c, check_http.c, check_exec.c), after relayd's hce.c and
 * check_*.c. Every check runs on the event loop: non-blocking sockets in
 * an ev_io, commands in an ev_child, one ev_timer per server for both
 * the interval and the running check's timeout.
 */
#ifndef NFQLB_HEALTH_H
#define NFQLB_HEALTH_H

#include <ev.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "health_state.h"
#include "service.h"

/* How a check ended, as relayd's enum host_error. */
enum hc_result {
	HC_PASS = 0,
	HC_CONNECT_FAIL,   /* connect refused, unreachable, reset */
	HC_TIMEOUT,	   /* no verdict within the timeout */
	HC_IO_FAIL,	   /* send or receive failed after connecting */
	HC_HTTP_BAD_REPLY, /* not an HTTP status line, or nothing */
	HC_HTTP_STATUS,	   /* another status than expect_status */
	HC_HTTP_BODY,	   /* the body lacks expect_body */
	HC_EXEC_FAIL,	   /* the command exited non-zero or was killed */
	HC_INTERNAL,	   /* the director could not run it (socket, fork) */
	HC_LAST
};

struct health_check;

/* A check type: start() ends, at once or later, in health_done(). */
struct check_ops {
	const char *name;
	void (*start)(struct health_check *hc);
	/* frees what a check holds; called when it ends and when it is
	 * cut short (timeout, server removed); a no-op when idle */
	void (*release)(struct health_check *hc);
};

/* The checker of one server. */
struct health_check {
	struct ev_loop *loop;
	struct server *srv;
	struct health_conf conf; /* what runs: srv->health when started */
	const struct check_ops *ops;
	struct health_counts counts;
	bool running;
	ev_tstamp started; /* of the running or last check */
	ev_timer timer;	   /* the next check, or the running one's timeout */
	const char *phase; /* "connect", "http", "exec": for messages */
	/* check_tcp.c, check_http.c */
	int fd;
	ev_io io;
	char *req; /* http request, req_len bytes, sent so far: req_sent */
	size_t req_len, req_sent;
	char *reply; /* http reply, reply_len bytes of HTTP_CHECK_REPLY_MAX */
	size_t reply_len;
	/* check_exec.c */
	pid_t pid; /* the command's process (and group); 0 = none */
	ev_child child;
};

/* health.c */
/* Starts, changes or stops the checkers to match every server's config. */
void health_sync(struct ev_loop *loop, struct service_set *set);
/* service_set's server_gone hook: stops and frees srv's checker. */
void health_server_gone(struct server *srv);
/* Ends the running check with r; reason (printf) says why it failed. */
void health_done(struct health_check *hc, enum hc_result r, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

/* check_tcp.c: the connect that tcp and http checks start with. */
/* Returns 0 when the connect is under way (cb runs on EV_WRITE), or -1
 * after health_done(). */
int check_connect(struct health_check *hc,
		  void (*cb)(struct ev_loop *, ev_io *, int));
/* In cb: 0 when connected, or -1 after health_done(). */
int check_connected(struct health_check *hc);
/* Closes the socket of a tcp or http check. */
void check_close(struct health_check *hc);

extern const struct check_ops check_tcp;
extern const struct check_ops check_http;
extern const struct check_ops check_exec;

#endif
