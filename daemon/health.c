/*
 * health.c - the health engine, after relayd's hce.c and keepalived's
 * checkers: one checker per real server with a check, run every interval
 * from the director to the server's address:port (for NAT the real
 * server's port; direct return takes the service's), with a timeout.
 * rise/fall results in a row change the server's health_down, which
 * sched_server_usable() reads: a down server takes no new connections and
 * keeps its established ones, as keepalived's inhibit_on_failure (IPVS
 * quiesces a weight-0 destination the same way). When no server of a
 * service can take a connection, its sorry server does (core.c).
 *
 * The checks' own traffic is never balanced: it leaves the director from
 * its own address to RIP:port and the replies come back to that address,
 * so neither matches the daemon's rules (fw.c: client packets to VIP:port
 * in raw PREROUTING; NAT replies from RIP:port are seen in mangle
 * POSTROUTING only when forwarded, and these are delivered locally).
 */
#include "health.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sched.h"

static const struct check_ops *ops_for(enum health_type t)
{
	switch (t) {
	case HEALTH_TCP:
		return &check_tcp;
	case HEALTH_HTTP:
		return &check_http;
	case HEALTH_EXEC:
		return &check_exec;
	case HEALTH_NONE:
		break;
	}
	return NULL;
}

/* When srv's change decides whether its service has a server left. */
static void log_service_change(const struct server *srv)
{
	const struct service *svc = srv->svc;
	char a[INET_ADDRSTRLEN];

	if (srv->weight == 0)
		return;
	for (unsigned int i = 0; i < svc->n_servers; i++)
		if (svc->servers[i] != srv &&
		    sched_server_usable(svc->servers[i]))
			return;
	if (!svc->sorry) {
		if (srv->health_down)
			log_warn("%s: no server is up: new connections are "
				 "dropped",
				 svc->name);
		return;
	}
	inet_ntop(AF_INET, &svc->sorry->addr, a, sizeof(a));
	if (srv->health_down)
		log_warn("%s: no server is up: new connections go to the sorry "
			 "server %s:%u",
			 svc->name, a, ntohs(svc->sorry->port));
	else
		log_info("%s: a server is up: the sorry server %s:%u takes no "
			 "new connections",
			 svc->name, a, ntohs(svc->sorry->port));
}

/* Counts a result; a change of state is logged once, when it happens. */
static void health_account(struct health_check *hc, bool passed,
			   const char *reason)
{
	struct server *srv = hc->srv;
	char label[128];
	enum health_change ch;

	server_label(srv, label, sizeof(label));
	if (!passed) {
		snprintf(srv->health_reason, sizeof(srv->health_reason), "%s",
			 reason);
		log_debug("%s: %s check failed (%s)", label, hc->ops->name,
			  reason);
	}
	ch = health_count(&hc->counts, &srv->health_down, passed, hc->conf.rise,
			  hc->conf.fall);
	if (ch == HEALTH_WENT_DOWN) {
		log_warn("%s: down (%s)", label, srv->health_reason);
		log_service_change(srv);
	} else if (ch == HEALTH_WENT_UP) {
		srv->health_reason[0] = '\0';
		log_info("%s: up (%s check passed %u times)", label,
			 hc->ops->name, hc->conf.rise);
		log_service_change(srv);
	}
}

void health_done(struct health_check *hc, enum hc_result r, const char *fmt,
		 ...)
{
	char reason[sizeof(hc->srv->health_reason)] = "";
	ev_tstamp delay;

	if (!hc->running)
		return;
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	}
	hc->ops->release(hc);
	hc->running = false;
	ev_timer_stop(hc->loop, &hc->timer);
	health_account(hc, r == HC_PASS, reason);
	/* the next one an interval after this one started */
	delay = hc->started + hc->conf.interval - ev_now(hc->loop);
	ev_timer_set(&hc->timer, delay > 0 ? delay : 0, 0);
	ev_timer_start(hc->loop, &hc->timer);
}

/* The timer: the next check is due, or the running one took too long. */
static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct health_check *hc = w->data;

	if (hc->running) {
		health_done(hc, HC_TIMEOUT, "%s: timed out after %u s",
			    hc->phase, hc->conf.timeout);
		return;
	}
	hc->running = true;
	hc->started = ev_now(loop);
	hc->phase = hc->ops->name;
	ev_timer_set(&hc->timer, hc->conf.timeout, 0);
	ev_timer_start(loop, &hc->timer);
	hc->ops->start(hc);
}

/* Cuts a running check short and stops the timer. */
static void checker_stop(struct health_check *hc)
{
	if (hc->running)
		hc->ops->release(hc);
	hc->running = false;
	ev_timer_stop(hc->loop, &hc->timer);
}

/* (Re)starts hc with srv's config: the first check runs at once. */
static void checker_start(struct health_check *hc)
{
	hc->conf = hc->srv->health;
	hc->ops = ops_for(hc->conf.type);
	memset(&hc->counts, 0, sizeof(hc->counts));
	ev_timer_set(&hc->timer, 0, 0);
	ev_timer_start(hc->loop, &hc->timer);
}

static struct health_check *checker_new(struct ev_loop *loop,
					struct server *srv)
{
	struct health_check *hc = calloc(1, sizeof(*hc));

	if (!hc)
		return NULL;
	hc->loop = loop;
	hc->srv = srv;
	hc->fd = -1;
	ev_timer_init(&hc->timer, on_timer, 0, 0);
	hc->timer.data = hc;
	return hc;
}

void health_server_gone(struct server *srv)
{
	if (!srv->check)
		return;
	checker_stop(srv->check);
	free(srv->check);
	srv->check = NULL;
}

static void health_sync_server(struct ev_loop *loop, struct server *srv)
{
	char label[128];

	server_label(srv, label, sizeof(label));
	if (srv->health.type == HEALTH_NONE) {
		health_server_gone(srv);
		if (srv->health_down) {
			srv->health_down = false;
			srv->health_reason[0] = '\0';
			log_info("%s: up (no health check)", label);
			log_service_change(srv);
		}
		return;
	}
	if (srv->check &&
	    memcmp(&srv->check->conf, &srv->health, sizeof(srv->health)) == 0)
		return;
	if (!srv->check) {
		srv->check = checker_new(loop, srv);
		if (!srv->check) {
			log_err("%s: out of memory: no health check", label);
			return;
		}
		if (srv->health_down)
			log_info("%s: down until a %s check passes (alpha)",
				 label, health_type_name(srv->health.type));
	} else {
		checker_stop(srv->check);
		log_info("%s: health check changed, now %s every %u s", label,
			 health_type_name(srv->health.type),
			 srv->health.interval);
	}
	checker_start(srv->check);
}

void health_sync(struct ev_loop *loop, struct service_set *set)
{
	for (unsigned int i = 0; i < set->n; i++)
		for (unsigned int j = 0; j < set->svcs[i]->n_servers; j++)
			health_sync_server(loop, set->svcs[i]->servers[j]);
}
