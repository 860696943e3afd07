/*
 * sched_fo.c - weighted failover, after net/netfilter/ipvs/ip_vs_fo.c:
 * every new connection goes to the usable server with the highest
 * weight (the first in list order among equals); the others only take
 * over when it is quiesced (weight 0), overloaded or removed.
 */
#include "sched.h"

static struct server *fo_schedule(struct service *svc, const struct pkt *p,
				  uint64_t now)
{
	struct server *best = NULL;

	for (unsigned int i = 0; i < svc->n_servers; i++) {
		struct server *s = svc->servers[i];

		if (sched_server_usable(s) &&
		    (!best || s->weight > best->weight))
			best = s;
	}
	return best;
}

const struct sched_ops sched_fo = {
    .name = "fo",
    .init_service = sched_stateless_init,
    .done_service = sched_stateless_done,
    .update_service = sched_stateless_update,
    .schedule = fo_schedule,
};
