/*
 * sched_rr.c - round robin, after net/netfilter/ipvs/ip_vs_rr.c: the next
 * server after the last one chosen, skipping those with weight 0.
 */
#include <stdlib.h>

#include "sched.h"

struct rr_state {
	unsigned int next; /* index to try first */
};

static int rr_init(struct service *svc)
{
	struct rr_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	svc->sched_data = st;
	return 0;
}

static void rr_done(struct service *svc)
{
	free(svc->sched_data);
	svc->sched_data = NULL;
}

static int rr_update(struct service *svc)
{
	struct rr_state *st = svc->sched_data;

	if (st->next >= svc->n_servers)
		st->next = 0;
	return 0;
}

static struct server *rr_schedule(struct service *svc, const struct pkt *p,
				  uint64_t now)
{
	struct rr_state *st = svc->sched_data;
	unsigned int n = svc->n_servers;

	for (unsigned int i = 0; i < n; i++) {
		unsigned int idx = (st->next + i) % n;
		struct server *s = svc->servers[idx];

		if (sched_server_usable(s)) {
			st->next = (idx + 1) % n;
			return s;
		}
	}
	return NULL;
}

const struct sched_ops sched_rr = {
    .name = "rr",
    .init_service = rr_init,
    .done_service = rr_done,
    .update_service = rr_update,
    .schedule = rr_schedule,
};
