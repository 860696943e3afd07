/*
 * sched_sed.c - shortest expected delay, after
 * net/netfilter/ipvs/ip_vs_sed.c: the usable server with the smallest
 * (active + 1) / weight, the delay a new connection expects if every
 * active one is served at a rate proportional to the weight. Inactive
 * connections do not count. The first in list order wins a tie.
 */
#include "sched.h"

/* ip_vs_sed_dest_overhead() */
static int64_t sed_overhead(const struct server *s)
{
	return (int64_t)s->active_conns + 1;
}

static struct server *sed_schedule(struct service *svc, const struct pkt *p,
				   uint64_t now)
{
	return sched_least_weighted(svc->servers, svc->n_servers, sed_overhead);
}

const struct sched_ops sched_sed = {
    .name = "sed",
    .init_service = sched_stateless_init,
    .done_service = sched_stateless_done,
    .update_service = sched_stateless_update,
    .schedule = sed_schedule,
};
