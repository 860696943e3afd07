/*
 * sched_wlc.c - weighted least connection, after
 * net/netfilter/ipvs/ip_vs_wlc.c: the usable server with the smallest
 * (active * 256 + inactive) / weight, compared by cross-multiplication;
 * the first in list order wins a tie. IPVS's default scheduler, and
 * nfqlb's when a service names none.
 */
#include "sched.h"

static struct server *wlc_schedule(struct service *svc, const struct pkt *p,
				   uint64_t now)
{
	return sched_least_weighted(svc->servers, svc->n_servers,
				    sched_conn_overhead);
}

const struct sched_ops sched_wlc = {
    .name = "wlc",
    .init_service = sched_stateless_init,
    .done_service = sched_stateless_done,
    .update_service = sched_stateless_update,
    .schedule = wlc_schedule,
};
