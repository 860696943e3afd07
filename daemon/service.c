/* service.c - virtual services and their real servers at run time */
#include "service.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "sched.h"

const char *server_label(const struct server *srv, char *buf, unsigned size)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &srv->addr, a, sizeof(a));
	snprintf(buf, size, "%s: %s %s:%u", srv->svc->name,
		 srv == srv->svc->sorry ? "sorry server" : "server", a,
		 ntohs(srv->port));
	return buf;
}

static const char *const state_names[SERVER_STATE_LAST] = {
    [SERVER_UP] = "up",
    [SERVER_DOWN] = "down",
    [SERVER_DRAIN] = "drain",
    [SERVER_DISABLED] = "disabled",
};

const char *server_state_name(enum server_state st)
{
	return st < SERVER_STATE_LAST ? state_names[st] : "?";
}

/* The operator's disable wins over a health state, which wins over the
 * weight: the listed reason is the one an enable or check would lift. */
enum server_state server_state(const struct server *srv)
{
	if (srv->disabled)
		return SERVER_DISABLED;
	if (srv->health_down)
		return SERVER_DOWN;
	if (srv->weight == 0)
		return SERVER_DRAIN;
	return SERVER_UP;
}

struct server *service_server_find(const struct service *svc, uint32_t addr,
				   uint16_t port, bool any_port,
				   bool *ambiguous)
{
	struct server *found = NULL;

	*ambiguous = false;
	for (unsigned int i = 0; i < svc->n_servers; i++) {
		struct server *s = svc->servers[i];

		if (s->addr != addr || (!any_port && s->port != port))
			continue;
		if (found) {
			*ambiguous = true;
			return NULL;
		}
		found = s;
	}
	return found;
}

int server_act(struct server *srv, enum server_action act, uint32_t weight)
{
	char label[128];
	uint32_t old = srv->weight;
	int rc = 0;

	switch (act) {
	case SERVER_SET_WEIGHT:
		srv->weight = weight;
		break;
	case SERVER_DRAIN_IT:
		srv->weight = 0;
		break;
	case SERVER_ENABLE:
		srv->weight = srv->conf_weight;
		srv->disabled = false;
		break;
	case SERVER_DISABLE:
		srv->disabled = true;
		break;
	}
	if (srv->weight)
		srv->last_weight = srv->weight;
	server_label(srv, label, sizeof(label));
	/* schedulers cache weights (wrr's gcd, mh's table) */
	if (srv->svc->sched && srv->svc->sched->update_service(srv->svc) < 0) {
		log_err("%s: scheduler out of memory; no new connections "
			"until the next reload",
			label);
		rc = -1;
	}
	log_info("%s: %s by nfqlbctl: weight %u -> %u, state %s, %u "
		 "connections",
		 label,
		 act == SERVER_SET_WEIGHT ? "weight set"
		 : act == SERVER_DRAIN_IT ? "drained"
		 : act == SERVER_ENABLE	  ? "enabled"
					  : "disabled",
		 old, srv->weight, server_state_name(server_state(srv)),
		 srv->active_conns + srv->inactive_conns);
	return rc;
}

void service_set_est_sample(struct service_set *set)
{
	for (unsigned int i = 0; i < set->n; i++) {
		struct service *svc = set->svcs[i];

		stats_est_sample(&svc->est, &svc->stats);
		for (unsigned int j = 0; j < svc->n_servers; j++)
			stats_est_sample(&svc->servers[j]->est,
					 &svc->servers[j]->stats);
		if (svc->sorry)
			stats_est_sample(&svc->sorry->est, &svc->sorry->stats);
	}
}

void service_zero(struct service *svc)
{
	stats_zero(&svc->stats, &svc->est);
	for (unsigned int j = 0; j < svc->n_servers; j++)
		stats_zero(&svc->servers[j]->stats, &svc->servers[j]->est);
	if (svc->sorry)
		stats_zero(&svc->sorry->stats, &svc->sorry->est);
}

void service_set_zero(struct service_set *set)
{
	for (unsigned int i = 0; i < set->n; i++)
		service_zero(set->svcs[i]);
}

struct service *service_find(const struct service_set *set, uint8_t proto,
			     uint32_t vip, uint16_t port)
{
	/* A handful of services: a linear scan beats a hash here. */
	for (unsigned int i = 0; i < set->n; i++) {
		struct service *s = set->svcs[i];

		if (s->vip == vip && s->port == port && s->proto == proto &&
		    !s->fwmark)
			return s;
	}
	return NULL;
}

struct service *service_find_fwmark(const struct service_set *set,
				    uint8_t proto, uint32_t mark)
{
	for (unsigned int i = 0; i < set->n; i++) {
		struct service *s = set->svcs[i];

		if (s->fwmark == mark && s->fwmark && s->proto == proto)
			return s;
	}
	return NULL;
}

/* What dropping a server needs: its connections and the set's hook. */
struct drop_ctx {
	struct conn_table *ct;
	void (*gone)(struct server *srv);
};

struct server *server_find(const struct service *svc, uint32_t addr,
			   uint16_t port)
{
	for (unsigned int i = 0; i < svc->n_servers; i++)
		if (svc->servers[i]->addr == addr &&
		    svc->servers[i]->port == port)
			return svc->servers[i];
	return NULL;
}

struct server *service_dest_find(const struct service *svc, uint32_t addr,
				 uint16_t port)
{
	struct server *s = server_find(svc, addr, port);

	if (!s && svc->sorry && svc->sorry->addr == addr &&
	    svc->sorry->port == port)
		s = svc->sorry;
	return s;
}

static void server_drop(struct server *srv, const struct drop_ctx *dc)
{
	char label[128];
	unsigned int n = dc->ct ? conn_purge_dest(dc->ct, srv) : 0;

	if (dc->gone)
		dc->gone(srv);
	if (n)
		log_info("%s: removed with %u connections",
			 server_label(srv, label, sizeof(label)), n);
	free(srv);
}

static struct server *retired_find(const struct service *svc, uint32_t addr,
				   uint16_t port)
{
	for (struct server *r = svc->retired; r; r = r->retired_next)
		if (r->addr == addr && r->port == port)
			return r;
	return NULL;
}

static void retired_unlink(struct service *svc, const struct server *srv)
{
	struct server **pp = &svc->retired;

	while (*pp && *pp != srv)
		pp = &(*pp)->retired_next;
	if (*pp)
		*pp = srv->retired_next;
}

/*
 * A server the configuration no longer lists. With expire_nodest_conn
 * (IPVS's sysctl of that name, but acting at once rather than on the
 * next packet) its connections go with it: the client's next TCP packet
 * is dropped as an unknown flow, a UDP datagram is scheduled afresh.
 * Without, it retires: no new connections, its TCP connections carry on
 * to it until they end, then it is freed (service_set_reap). Its UDP
 * flows go either way, so none is blackholed for the UDP timeout.
 */
static void server_remove(struct service *svc, struct server *srv,
			  const struct drop_ctx *dc)
{
	char label[128];
	unsigned int udp;

	if (svc->expire_nodest_conn || !dc->ct) {
		server_drop(srv, dc);
		return;
	}
	udp = conn_retire_dest(dc->ct, srv);
	if (srv->active_conns + srv->inactive_conns == 0) {
		server_drop(srv, dc);
		return;
	}
	/* out of the configuration: no more health checks */
	if (dc->gone)
		dc->gone(srv);
	log_info("%s: removed; %u connections carry on until they end "
		 "(expire_nodest_conn = false), %u UDP flows expired",
		 server_label(srv, label, sizeof(label)),
		 srv->active_conns + srv->inactive_conns, udp);
	srv->retired_next = svc->retired;
	svc->retired = srv;
}

unsigned int service_set_reap(struct service_set *set)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < set->n; i++) {
		struct server **pp = &set->svcs[i]->retired;

		while (*pp) {
			struct server *r = *pp;
			char label[128];

			if (r->active_conns + r->inactive_conns) {
				pp = &r->retired_next;
				continue;
			}
			*pp = r->retired_next;
			log_info("%s: the last connection of the removed "
				 "server ended",
				 server_label(r, label, sizeof(label)));
			free(r);
			n++;
		}
	}
	return n;
}

/*
 * __ip_vs_update_dest(): a lifted or raised upper threshold clears the
 * overload at once. Unlike IPVS, which waits for the next connection,
 * a server already at its new upper threshold is overloaded at once.
 */
static void server_set_thresholds(struct server *s, const struct server_conf *c)
{
	if (c->u_threshold == 0 || c->u_threshold > s->u_threshold)
		s->overloaded = false;
	s->u_threshold = c->u_threshold;
	s->l_threshold = c->l_threshold;
	if (s->u_threshold &&
	    s->active_conns + s->inactive_conns >= s->u_threshold)
		s->overloaded = true;
}

/* Under alpha a server with a check starts down until one passes. */
static struct server *server_new(struct service *svc,
				 const struct server_conf *c, bool alpha)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->svc = svc;
	s->addr = c->addr;
	s->port = htons(c->port);
	s->last_weight = c->weight;
	if (alpha && c->health.type != HEALTH_NONE) {
		s->health_down = true;
		snprintf(s->health_reason, sizeof(s->health_reason),
			 "alpha: no check passed yet");
	}
	return s;
}

/* Gives svc the server list of sc, reusing servers that stay. */
static int service_set_servers(struct service *svc,
			       const struct service_conf *sc,
			       const struct drop_ctx *dc)
{
	struct server **list = calloc(sc->n_servers, sizeof(*list));

	if (!list)
		return -1;
	for (unsigned int i = 0; i < sc->n_servers; i++) {
		const struct server_conf *c = &sc->servers[i];
		struct server *s = server_find(svc, c->addr, htons(c->port));

		/* listed again while retired: it comes back as it is */
		if (!s)
			s = retired_find(svc, c->addr, htons(c->port));
		if (!s) {
			s = server_new(svc, c, sc->alpha);
			if (!s) {
				while (i--)
					if (!server_find(svc, list[i]->addr,
							 list[i]->port) &&
					    !retired_find(svc, list[i]->addr,
							  list[i]->port))
						free(list[i]);
				free(list);
				return -1;
			}
		}
		/* The file's values replace runtime changes (SPEC). */
		s->weight = c->weight;
		if (c->weight)
			s->last_weight = c->weight;
		server_set_thresholds(s, c);
		s->conf_weight = c->weight;
		s->disabled = false;
		s->health = c->health;
		list[i] = s;
	}
	/* Servers of the old list that the new one no longer holds. */
	for (unsigned int i = 0; i < svc->n_servers; i++) {
		bool kept = false;

		for (unsigned int j = 0; j < sc->n_servers; j++)
			if (list[j] == svc->servers[i])
				kept = true;
		if (!kept)
			server_remove(svc, svc->servers[i], dc);
	}
	for (unsigned int j = 0; j < sc->n_servers; j++)
		retired_unlink(svc, list[j]);
	free(svc->servers);
	svc->servers = list;
	svc->n_servers = sc->n_servers;
	return 0;
}

/* The sorry server stays as long as its address:port does. */
static int service_set_sorry(struct service *svc, const struct service_conf *sc,
			     const struct drop_ctx *dc)
{
	struct server *old = svc->sorry;

	if (old && sc->has_sorry && old->addr == sc->sorry.addr &&
	    old->port == htons(sc->sorry.port))
		return 0;
	if (old)
		server_remove(svc, old, dc);
	svc->sorry = NULL;
	if (!sc->has_sorry)
		return 0;
	svc->sorry = server_new(svc, &sc->sorry, false);
	if (!svc->sorry)
		return -1;
	svc->sorry->weight = sc->sorry.weight;
	return 0;
}

static int service_set_sched(struct service *svc, const char *name)
{
	const struct sched_ops *ops = sched_find(name);

	if (!ops) {
		log_err("%s: scheduler '%s' is not available", svc->name, name);
		return -1;
	}
	if (svc->sched == ops) {
		if (ops->update_service(svc) < 0) {
			log_err("%s: scheduler '%s': out of memory; no new "
				"connections until the next reload",
				svc->name, name);
			return -1;
		}
		return 0;
	}
	if (svc->sched)
		svc->sched->done_service(svc);
	svc->sched = NULL;
	if (ops->init_service(svc) < 0) {
		log_err("%s: scheduler '%s': out of memory", svc->name, name);
		return -1;
	}
	svc->sched = ops;
	return 0;
}

static void service_destroy(struct service *svc, const struct drop_ctx *dc)
{
	for (unsigned int i = 0; i < svc->n_servers; i++)
		server_drop(svc->servers[i], dc);
	while (svc->retired) {
		struct server *r = svc->retired;

		svc->retired = r->retired_next;
		server_drop(r, dc);
	}
	if (svc->sorry)
		server_drop(svc->sorry, dc);
	if (svc->sched)
		svc->sched->done_service(svc);
	free(svc->servers);
	free(svc);
}

/*
 * offload = true hands established flows to conntrack's NAT (README,
 * "Kernel fast path"). VS/DR and VS/TUN have no kernel path here: the VIP
 * is a local address, so the local routing table wins over any fwmark
 * route, and this kernel has no tunnel device. Said once per change.
 */
static void service_set_offload(struct service *svc,
				const struct service_conf *sc)
{
	bool fallback = sc->offload && sc->fwd != FWD_NAT;

	if (fallback && (svc->offload || !svc->offload_fallback))
		log_warn(
		    "%s: offload = true: forward = \"%s\" has no kernel "
		    "fast path (%s); its flows stay on the per-packet path",
		    sc->name, fwd_method_name(sc->fwd),
		    sc->fwd == FWD_DR
			? "the VIP is a local address, so the local "
			  "routing table wins over a firewall-mark route"
			: "no tunnel device to route through");
	svc->offload_fallback = fallback;
	svc->offload = sc->offload && sc->fwd == FWD_NAT;
}

/* Brings svc (new or kept) to the state sc describes. */
static int service_configure(struct service *svc, const struct service_conf *sc,
			     const struct drop_ctx *dc)
{
	snprintf(svc->name, sizeof(svc->name), "%s", sc->name);
	svc->proto = sc->proto;
	svc->vip = sc->vip;
	svc->port = htons(sc->port);
	svc->fwmark = sc->fwmark;
	svc->fwd = sc->fwd;
	svc->sched_flags = sc->sched_flags;
	svc->expire_nodest_conn = sc->expire_nodest_conn;
	svc->tunnel_src = sc->tunnel_source;
	svc->persist_mask = sc->persist_mask;
	persist_set_timeout(svc, (uint64_t)sc->persistence * 1000);
	svc->alpha = sc->alpha;
	service_set_offload(svc, sc);
	if (service_set_servers(svc, sc, dc) < 0 ||
	    service_set_sorry(svc, sc, dc) < 0) {
		log_err("%s: out of memory", svc->name);
		return -1;
	}
	return service_set_sched(svc, sc->scheduler);
}

struct service *service_by_name(const struct service_set *set, const char *name)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (strcmp(set->svcs[i]->name, name) == 0)
			return set->svcs[i];
	return NULL;
}

int service_set_apply(struct service_set *set, const struct config *cfg,
		      struct conn_table *ct)
{
	const struct drop_ctx dc = {.ct = ct, .gone = set->server_gone};
	struct service **list = NULL;
	int rc = 0;

	if (cfg->n_services) {
		list = calloc(cfg->n_services, sizeof(*list));
		if (!list) {
			log_err("services: out of memory");
			return -1;
		}
	}
	for (unsigned int i = 0; i < cfg->n_services; i++) {
		const struct service_conf *sc = &cfg->services[i];
		struct service *svc = service_by_name(set, sc->name);

		if (svc && (svc->proto != sc->proto || svc->vip != sc->vip ||
			    svc->port != htons(sc->port) ||
			    svc->fwmark != sc->fwmark)) {
			/* A new address makes it another service: flows
			 * to the old one cannot continue. */
			svc = NULL;
		}
		if (!svc) {
			svc = calloc(1, sizeof(*svc));
			if (!svc) {
				log_err("%s: out of memory", sc->name);
				rc = -1;
				continue;
			}
		}
		list[i] = svc;
		if (service_configure(svc, sc, &dc) < 0)
			rc = -1;
	}
	for (unsigned int i = 0; i < set->n; i++) {
		bool kept = false;

		for (unsigned int j = 0; j < cfg->n_services; j++)
			if (list[j] == set->svcs[i])
				kept = true;
		if (!kept)
			service_destroy(set->svcs[i], &dc);
	}
	free(set->svcs);
	set->svcs = list;
	set->n = cfg->n_services;
	/* Drop slots that failed to allocate. */
	for (unsigned int i = 0; i < set->n;) {
		if (!set->svcs[i]) {
			memmove(&set->svcs[i], &set->svcs[i + 1],
				(set->n - i - 1) * sizeof(*set->svcs));
			set->n--;
		} else {
			i++;
		}
	}
	service_set_offload_ids(set, cfg->fw_offload_mask);
	return rc;
}

/* Calls fn on every server of set: listed, sorry and retired. */
static void for_each_server(struct service_set *set,
			    void (*fn)(struct server *srv, void *arg),
			    void *arg)
{
	for (unsigned int i = 0; i < set->n; i++) {
		struct service *svc = set->svcs[i];

		for (unsigned int j = 0; j < svc->n_servers; j++)
			fn(svc->servers[j], arg);
		if (svc->sorry)
			fn(svc->sorry, arg);
		for (struct server *r = svc->retired; r; r = r->retired_next)
			fn(r, arg);
	}
}

struct id_map {
	uint8_t *used; /* one byte per id */
	uint32_t max;
	uint32_t next;
	bool exhausted;
};

/* Servers out of offload lose their id; the rest mark theirs used. */
static void id_mark_used(struct server *srv, void *arg)
{
	struct id_map *m = arg;

	if (!srv->svc->offload)
		srv->offload_id = 0;
	if (srv->offload_id && srv->offload_id <= m->max)
		m->used[srv->offload_id] = 1;
}

static void id_assign(struct server *srv, void *arg)
{
	struct id_map *m = arg;
	char label[128];

	if (!srv->svc->offload || srv->offload_id)
		return;
	while (m->next <= m->max && m->used[m->next])
		m->next++;
	if (m->next > m->max) {
		if (!m->exhausted)
			log_warn("%s: no free id in iptables.offload_mask: its "
				 "flows stay on the per-packet path",
				 server_label(srv, label, sizeof(label)));
		m->exhausted = true;
		return;
	}
	srv->offload_id = (uint16_t)m->next;
	m->used[m->next] = 1;
}

/*
 * Gives every server of an offload service the lowest free id of mask.
 * A server that stays keeps its id across reloads, so its rule in the
 * nat table stays as it is. (The id only names the server between the
 * daemon's verdict and the nat table's DNAT rule; conntrack entries are
 * found by their tuple, so a restart that numbers anew is harmless.)
 */
void service_set_offload_ids(struct service_set *set, uint32_t mask)
{
	unsigned int bits = offload_mask_bits(mask);
	struct id_map m = {.max = bits >= 16 ? 65535 : (1u << bits) - 1,
			   .next = 1};

	if (!bits)
		return;
	m.used = calloc(m.max + 1, 1);
	if (!m.used) {
		log_err("offload ids: out of memory");
		return;
	}
	for_each_server(set, id_mark_used, &m);
	for_each_server(set, id_assign, &m);
	free(m.used);
}

unsigned int service_set_expire_templates(struct service_set *set,
					  struct conn_table *ct, uint64_t now)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < set->n; i++)
		n += persist_expire(&ct->pt, set->svcs[i], now);
	return n;
}

int service_set_build(struct service_set *set, const struct config *cfg)
{
	memset(set, 0, sizeof(*set));
	return service_set_apply(set, cfg, NULL);
}

void service_set_free(struct service_set *set, struct conn_table *ct)
{
	const struct drop_ctx dc = {.ct = ct, .gone = set->server_gone};

	for (unsigned int i = 0; i < set->n; i++)
		service_destroy(set->svcs[i], &dc);
	free(set->svcs);
	memset(set, 0, sizeof(*set));
}
