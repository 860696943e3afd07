/* service.h - virtual services and their real servers at run time */
#ifndef NFQLB_SERVICE_H
#define NFQLB_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "persist.h"
#include "stats.h"

struct sched_ops;
struct conn_table;
struct health_check;

/* A real server. Connections point at it, so it lives at a fixed address
 * until it is removed from its service (its connections go first). */
struct server {
	struct service *svc;
	uint32_t addr;		 /* network order */
	uint16_t port;		 /* network order */
	uint32_t weight;	 /* effective weight; 0 = no new connections */
	uint32_t conf_weight;	 /* the config file's, restored by enable */
	uint32_t last_weight;	 /* last weight above 0 (IPVS: mh's table) */
	bool overloaded;	 /* IPVS's IP_VS_DEST_F_OVERLOAD */
	uint32_t u_threshold;	 /* overloaded at this many connections */
	uint32_t l_threshold;	 /* and again usable below this many */
	bool disabled;		 /* taken out by nfqlbctl disable */
	uint32_t active_conns;	 /* IPVS activeconns: ESTABLISHED TCP */
	uint32_t inactive_conns; /* everything else, UDP included */
	uint32_t kernel_conns;	 /* of those, carried by conntrack (offload) */
	uint16_t offload_id; /* its value in iptables.offload_mask; 0: none */
	struct server *retired_next; /* in svc->retired, see there */
	struct traffic_stats stats;
	struct stats_est est;
	/* Health (health.c): a server that failed its check, or under alpha
	 * has not passed one yet, takes no new connections. */
	bool health_down;
	char health_reason[96];	    /* the failed check, e.g. "connect: ..." */
	struct health_conf health;  /* its check, as configured */
	struct health_check *check; /* health.c's checker; NULL without */
};

/* What list shows for a server; server_state() derives it. */
enum server_state {
	SERVER_UP = 0,	 /* takes new connections */
	SERVER_DOWN,	 /* failed its health check */
	SERVER_DRAIN,	 /* weight 0: keeps its flows, gets no new ones */
	SERVER_DISABLED, /* taken out by the operator */
	SERVER_STATE_LAST,
};

/* Operator actions on a server (nfqlbctl server ...). */
enum server_action {
	SERVER_SET_WEIGHT = 0,
	SERVER_DRAIN_IT,
	SERVER_ENABLE,
	SERVER_DISABLE,
};

struct service {
	char name[CONFIG_NAME_MAX];
	uint8_t proto;
	uint32_t vip;	 /* network order */
	uint16_t port;	 /* network order */
	uint32_t fwmark; /* a firewall-mark service (vip, port 0), or 0 */
	enum fwd_method fwd;
	uint32_t tunnel_src; /* VS/TUN outer source; 0: the route's */
	const struct sched_ops *sched;
	void *sched_data;
	unsigned int sched_flags;  /* SCHED_F_*, see config.h */
	uint64_t persist_ms;	   /* persistence timeout; 0 = off */
	uint32_t persist_mask;	   /* persistence_netmask, network order */
	struct persist_list plist; /* its templates, by expiry */
	struct server **servers;   /* in configuration order */
	unsigned int n_servers;
	/* expire_nodest_conn (default true): a server the configuration
	 * drops takes its connections with it; false: it retires, out of
	 * scheduling, until its TCP connections end */
	bool expire_nodest_conn;
	struct server *retired; /* list through server.retired_next */
	struct server *sorry;	/* sorry_server: new flows when none can */
	bool alpha;		/* new servers start down until checked */
	bool offload;		/* conntrack carries its flows (NAT only) */
	bool offload_fallback;	/* offload asked for a method without one */
	struct traffic_stats stats;
	struct stats_est est;
};

/*
 * A connection was bound to s (IPVS's ip_vs_bind_dest()): reaching the
 * upper threshold (active + inactive connections) overloads it.
 */
static inline void server_conn_bound(struct server *s)
{
	if (s->u_threshold &&
	    s->active_conns + s->inactive_conns >= s->u_threshold)
		s->overloaded = true;
}

/*
 * A connection of s went (ip_vs_unbind_dest()): below the lower
 * threshold, or without one below 3/4 of the upper, s takes new
 * connections again.
 */
static inline void server_conn_unbound(struct server *s)
{
	uint64_t total = (uint64_t)s->active_conns + s->inactive_conns;

	if (s->l_threshold)
		s->overloaded = s->overloaded && total >= s->l_threshold;
	else if (s->u_threshold)
		s->overloaded =
		    s->overloaded && total * 4 >= s->u_threshold * 3ULL;
	else
		s->overloaded = false;
}

struct service_set {
	struct service **svcs;
	unsigned int n;
	/* Called before a server is freed (health.c stops its checker). */
	void (*server_gone)(struct server *srv);
};

/* Builds the run-time services of cfg into set (which must be empty).
 * Returns 0, or -1 with a logged reason. */
int service_set_build(struct service_set *set, const struct config *cfg);

/*
 * Changes set in place to match cfg: services and servers are matched by
 * name and by address:port, so the counters and connections of those that
 * stay are kept; weights, schedulers and methods take the new values.
 * Connections to servers that go away are removed from ct.
 */
int service_set_apply(struct service_set *set, const struct config *cfg,
		      struct conn_table *ct);
void service_set_free(struct service_set *set, struct conn_table *ct);

/* Gives each server of an offload service its id in the offload mask
 * (kept while it stays; run by service_set_apply). */
void service_set_offload_ids(struct service_set *set, uint32_t mask);

/* Frees the retired servers whose last connection went; returns how
 * many (their NAT reply rules can go then). */
unsigned int service_set_reap(struct service_set *set);

/* Removes the persistence templates whose time is up; returns how many. */
unsigned int service_set_expire_templates(struct service_set *set,
					  struct conn_table *ct, uint64_t now);

struct service *service_find(const struct service_set *set, uint8_t proto,
			     uint32_t vip, uint16_t port);
/* The firewall-mark service of proto for mark, or NULL. */
struct service *service_find_fwmark(const struct service_set *set,
				    uint8_t proto, uint32_t mark);

/* The server of svc at addr:port (network order), or NULL. */
struct server *server_find(const struct service *svc, uint32_t addr,
			   uint16_t port);
/* The same, or svc's sorry server: where a connection may be bound. */
struct server *service_dest_find(const struct service *svc, uint32_t addr,
				 uint16_t port);

/* The one place that turns a server's fields into its listed state. */
enum server_state server_state(const struct server *srv);
const char *server_state_name(enum server_state st);

struct service *service_by_name(const struct service_set *set,
				const char *name);
/*
 * The server of svc at addr:port, or at addr alone when any_port (then
 * *ambiguous tells that several ports matched and NULL is returned).
 */
struct server *service_server_find(const struct service *svc, uint32_t addr,
				   uint16_t port, bool any_port,
				   bool *ambiguous);
/* Applies an operator action; weight is for SERVER_SET_WEIGHT. Returns
 * 0, or -1 (logged) when the scheduler ran out of memory updating. */
int server_act(struct server *srv, enum server_action act, uint32_t weight);

/* A counter sample of every service and server (every 2 seconds). */
void service_set_est_sample(struct service_set *set);
/* Zeroes counters and rates of svc and its servers. */
void service_zero(struct service *svc);
/* Zeroes counters and rates of every service and server. */
void service_set_zero(struct service_set *set);

/* "web: server 198.51.100.12:8080" style prefix for messages. */
const char *server_label(const struct server *srv, char *buf, unsigned size);

#endif
