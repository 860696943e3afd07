/*
 * sched_twos.c - power of two random choices, after
 * net/netfilter/ipvs/ip_vs_twos.c: draw two usable servers at random,
 * each with a probability proportional to its weight, and take the one
 * with the smaller (active * 256 + inactive) / weight (the first draw on
 * a tie). Load spreads almost as well as with wlc, without every
 * director herding onto the same least-loaded server.
 *
 * As IPVS, the draws are uniform in [0, sum of weights] inclusive, so
 * the first usable server gets one value more than its weight.
 */
#include <stdlib.h>
#include <sys/random.h>

#include "sched.h"

struct twos_state {
	uint64_t rng; /* xorshift64* state, never 0 */
};

static int twos_init(struct service *svc)
{
	struct twos_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	if (getrandom(&st->rng, sizeof(st->rng), GRND_NONBLOCK) !=
	    sizeof(st->rng))
		st->rng = (uint64_t)(uintptr_t)st ^ 0x9e3779b97f4a7c15ULL;
	st->rng |= 1;
	svc->sched_data = st;
	return 0;
}

static void twos_done(struct service *svc)
{
	free(svc->sched_data);
	svc->sched_data = NULL;
}

/* Uniform in [0, bound): xorshift64*, then a multiply-shift. */
static uint64_t twos_below(struct twos_state *st, uint64_t bound)
{
	uint64_t x = st->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rng = x;
	x *= 0x2545f4914f6cdd1dULL;
	return (uint64_t)(((unsigned __int128)x * bound) >> 64);
}

/* The usable server where the running sum of weights reaches r. */
static struct server *twos_pick(struct service *svc, int64_t r)
{
	for (unsigned int i = 0; i < svc->n_servers; i++) {
		struct server *s = svc->servers[i];

		if (!sched_server_usable(s))
			continue;
		r -= s->weight;
		if (r <= 0)
			return s;
	}
	return NULL;
}

static struct server *twos_schedule(struct service *svc, const struct pkt *p,
				    uint64_t now)
{
	struct twos_state *st = svc->sched_data;
	struct server *c1, *c2;
	uint64_t total = 0;

	for (unsigned int i = 0; i < svc->n_servers; i++)
		if (sched_server_usable(svc->servers[i]))
			total += svc->servers[i]->weight;
	if (total == 0)
		return NULL;
	c1 = twos_pick(svc, (int64_t)twos_below(st, total + 1));
	c2 = twos_pick(svc, (int64_t)twos_below(st, total + 1));
	if (sched_conn_overhead(c1) * c2->weight >
	    sched_conn_overhead(c2) * c1->weight)
		return c2;
	return c1;
}

const struct sched_ops sched_twos = {
    .name = "twos",
    .init_service = twos_init,
    .done_service = twos_done,
    .update_service = sched_stateless_update,
    .schedule = twos_schedule,
};
