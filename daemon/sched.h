/* sched.h - the scheduler registry: one const ops struct per policy */
#ifndef NFQLB_SCHED_H
#define NFQLB_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "service.h"

/*
 * A scheduling policy, as IPVS's struct ip_vs_scheduler. The core only
 * calls schedule(); the other hooks keep the policy's private state in
 * svc->sched_data in step with the server list.
 */
struct sched_ops {
	const char *name;
	/* returns 0, or -1 when out of memory */
	int (*init_service)(struct service *svc);
	void (*done_service)(struct service *svc);
	/*
	 * Servers were added, removed or re-weighted, or the flags changed.
	 * Returns 0, or -1 when out of memory: the policy then schedules
	 * nothing until a later update succeeds (never a freed server).
	 */
	int (*update_service)(struct service *svc);
	/*
	 * Returns NULL when no server can take a new connection. p is the
	 * first packet of the flow; now is the monotonic clock in ms (for
	 * policies with state that expires: lblc, lblcr).
	 */
	struct server *(*schedule)(struct service *svc, const struct pkt *p,
				   uint64_t now);
};

/* The policy of that name (IPVS's, plus twos), or NULL. */
const struct sched_ops *sched_find(const char *name);

/*
 * Whether a server is in service at all (IPVS: IP_VS_DEST_F_AVAILABLE,
 * which keepalived clears by removing a failed server): not disabled by
 * the operator, not down by its health check (health.c). A persistence
 * template keeps sending its client to its server while this holds, even
 * at weight 0 or overloaded, as IPVS does by default.
 */
static inline bool sched_server_available(const struct server *s)
{
	return !s->disabled && !s->health_down;
}

/*
 * Whether a server may take a new connection: the one place that says
 * so, for every scheduler. Weight 0 is quiescent (IPVS: weight <= 0);
 * an overloaded server (upper_threshold reached, IPVS's
 * IP_VS_DEST_F_OVERLOAD) takes nothing until it falls below the lower
 * threshold; a server out of service takes nothing.
 */
static inline bool sched_server_usable(const struct server *s)
{
	return s->weight > 0 && !s->overloaded && sched_server_available(s);
}

/* IPVS's ip_vs_dest_conn_overhead(): an active connection weighs 256
 * inactive ones (those cost the server next to nothing). */
static inline int64_t sched_conn_overhead(const struct server *s)
{
	return ((int64_t)s->active_conns << 8) + s->inactive_conns;
}

/*
 * The usable server with the least overhead(s)/weight, compared by
 * cross-multiplication (no division); the first in list order wins a
 * tie. The loop of ip_vs_wlc.c, ip_vs_sed.c, ip_vs_lblc.c and
 * ip_vs_lblcr.c. NULL if none is usable.
 */
struct server *sched_least_weighted(struct server *const *list, unsigned int n,
				    int64_t (*overhead)(const struct server *));

/* The address (and with port set, the source port) a hashing scheduler
 * keys on, in host order: IPVS's ntohl(addr) + ntohs(port). */
uint32_t sched_hash_key(uint32_t addr, uint16_t port, bool port_too);

/* Hooks of the policies that keep no state (lc, wlc, sed, nq, fo, ovf). */
int sched_stateless_init(struct service *svc);
void sched_stateless_done(struct service *svc);
int sched_stateless_update(struct service *svc);

/* sched_mh.c: the Maglev lookup table of an mh service (for tests). */
struct server *const *sched_mh_table(const struct service *svc,
				     unsigned int *size);

extern const struct sched_ops sched_rr;
extern const struct sched_ops sched_wrr;
extern const struct sched_ops sched_lc;
extern const struct sched_ops sched_wlc;
extern const struct sched_ops sched_sed;
extern const struct sched_ops sched_nq;
extern const struct sched_ops sched_sh;
extern const struct sched_ops sched_dh;
extern const struct sched_ops sched_mh;
extern const struct sched_ops sched_lblc;
extern const struct sched_ops sched_lblcr;
extern const struct sched_ops sched_fo;
extern const struct sched_ops sched_ovf;
extern const struct sched_ops sched_twos;

#endif
