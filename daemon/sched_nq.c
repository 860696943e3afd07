/*
 * sched_nq.c - never queue, after net/netfilter/ipvs/ip_vs_nq.c: the
 * first usable server with no active connection, so no request waits
 * behind another; if every server is busy, shortest expected delay,
 * (active + 1) / weight, as sed.
 */
#include "sched.h"

static struct server *nq_schedule(struct service *svc, const struct pkt *p,
				  uint64_t now)
{
	struct server *least = NULL;
	int64_t loh = 0;

	for (unsigned int i = 0; i < svc->n_servers; i++) {
		struct server *s = svc->servers[i];
		int64_t doh = (int64_t)s->active_conns + 1;

		if (!sched_server_usable(s))
			continue;
		if (s->active_conns == 0)
			return s; /* idle: it answers at once */
		if (!least || loh * s->weight > doh * least->weight) {
			least = s;
			loh = doh;
		}
	}
	return least;
}

const struct sched_ops sched_nq = {
    .name = "nq",
    .init_service = sched_stateless_init,
    .done_service = sched_stateless_done,
    .update_service = sched_stateless_update,
    .schedule = nq_schedule,
};
