/*
 * persist.h - persistence templates, as IPVS's connection templates
 * (IP_VS_CONN_F_TEMPLATE in net/netfilter/ipvs/ip_vs_conn.c, used by
 * ip_vs_sched_persist() in ip_vs_core.c): while a service's template for
 * a client (address & persistence_netmask) lives, every new connection of
 * that client to the service goes to the template's server.
 *
 * Templates are a table of their own next to the connection table (they
 * have no ports, no state and a per-service timeout): hashed on (service,
 * masked client), and on one expiry list per service, in the service, so
 * that a timeout shared by the whole list keeps it ordered by expiry.
 */
#ifndef NFQLB_PERSIST_H
#define NFQLB_PERSIST_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"

struct server;
struct service;

struct persist_tmpl {
	struct persist_tmpl *hnext;	  /* hash chain */
	struct persist_tmpl *prev, *next; /* service's expiry list */
	struct server *dest;		  /* its service is dest->svc */
	uint64_t expires;		  /* monotonic ms */
	uint32_t caddr;			  /* client & netmask, network order */
	uint32_t n_control; /* connections made under it (IPVS n_control) */
};

/* A service's templates, oldest expiry first. */
struct persist_list {
	struct persist_tmpl *head, *tail;
};

struct persist_table {
	struct persist_tmpl **hash;
	uint32_t mask; /* buckets - 1 */
	uint32_t seed;
	uint32_t count, max;
	uint64_t full_drops; /* templates refused because count == max */
};

int persist_table_init(struct persist_table *pt, uint32_t max, uint32_t seed);
/* Frees every template and the hash, without touching the services'
 * lists: for the end, after the services are gone. */
void persist_table_destroy(struct persist_table *pt);

/*
 * The template of svc for the client caddr (not yet masked) if one lives;
 * else a new one bound to the server svc's scheduler picks. NULL when the
 * scheduler finds no server or the table is full.
 */
struct persist_tmpl *persist_schedule(struct persist_table *pt,
				      struct service *svc, const struct pkt *p,
				      uint64_t now);
/* A connection c was made under t: t lives at least as long as c, and
 * its timeout restarts (IPVS re-arms the template's timer). */
void persist_bind(struct service *svc, struct persist_tmpl *t, uint64_t now);
/* One connection made under t is gone. */
static inline void persist_unbind(struct persist_tmpl *t)
{
	t->n_control--;
}

/*
 * Removes the templates of svc whose time is up; one that still controls
 * connections gets another full timeout (ip_vs_conn_expire()). Returns
 * how many went.
 */
unsigned int persist_expire(struct persist_table *pt, struct service *svc,
			    uint64_t now);
/* Removes every template bound to dest; its connections must be gone. */
unsigned int persist_purge_dest(struct persist_table *pt,
				const struct server *dest);
/* A new persistence timeout for svc: every template's expiry shifts by
 * the difference, as connection timeouts do on reload. */
void persist_set_timeout(struct service *svc, uint64_t timeout_ms);

/* The template of svc for caddr (already masked), or NULL. */
struct persist_tmpl *persist_get(const struct persist_table *pt,
				 const struct service *svc, uint32_t caddr);
/*
 * Re-creates a checkpointed template of svc for caddr (already masked),
 * bound to dest and expiring at expires, kept in expiry order. NULL when
 * the table is full; the caller checks for an existing one.
 */
struct persist_tmpl *persist_restore(struct persist_table *pt,
				     struct service *svc, uint32_t caddr,
				     struct server *dest, uint64_t expires);

/*
 * Calls fn for every template of svc, oldest expiry first (for the
 * checkpoint and the control socket). fn must not add or remove
 * templates.
 */
void persist_for_each(const struct service *svc,
		      void (*fn)(const struct persist_tmpl *t, void *arg),
		      void *arg);

#endif
