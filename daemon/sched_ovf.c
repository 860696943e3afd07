/*
 * sched_ovf.c - weighted overflow, after net/netfilter/ipvs/ip_vs_ovf.c:
 * the usable server with the highest weight (the first in list order
 * among equals) whose active connections do not exceed its weight; when
 * it has more, the next highest weight takes the overflow. The weight is
 * thus a connection limit as well as a priority.
 */
#include "sched.h"

static struct server *ovf_schedule(struct service *svc, const struct pkt *p,
				   uint64_t now)
{
	struct server *best = NULL;

	for (unsigned int i = 0; i < svc->n_servers; i++) {
		struct server *s = svc->servers[i];

		if (!sched_server_usable(s) || s->active_conns > s->weight)
			continue;
		if (!best || s->weight > best->weight)
			best = s;
	}
	return best;
}

const struct sched_ops sched_ovf = {
    .name = "ovf",
    .init_service = sched_stateless_init,
    .done_service = sched_stateless_done,
    .update_service = sched_stateless_update,
    .schedule = ovf_schedule,
};
