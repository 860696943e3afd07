/*
 * sched_lc.c - least connection, after net/netfilter/ipvs/ip_vs_lc.c: the
 * usable server with the smallest overhead, active * 256 + inactive.
 * Weights only matter as 0 (quiescent); the first server in list order
 * wins a tie.
 */
#include "sched.h"

static struct server *lc_schedule(struct service *svc, const struct pkt *p,
				  uint64_t now)
{
	struct server *least = NULL;
	int64_t loh = 0;

	for (unsigned int i = 0; i < svc->n_servers; i++) {
		struct server *s = svc->servers[i];
		int64_t doh;

		if (!sched_server_usable(s))
			continue;
		doh = sched_conn_overhead(s);
		if (!least || doh < loh) {
			least = s;
			loh = doh;
		}
	}
	return least;
}

const struct sched_ops sched_lc = {
    .name = "lc",
    .init_service = sched_stateless_init,
    .done_service = sched_stateless_done,
    .update_service = sched_stateless_update,
    .schedule = lc_schedule,
};
