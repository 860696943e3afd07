/*
 * sched_wrr.c - weighted round robin, after net/netfilter/ipvs/ip_vs_wrr.c.
 *
 * Passes over the server list with a current weight cw that starts at the
 * highest weight and steps down by the gcd of the weights; each pass picks
 * the servers whose weight is at least cw. Weights 4,3,2 give
 * A A B A B C A B C: highest weight first, exact proportions per cycle.
 * As in IPVS, mw is reduced by (gcd - 1) so the last pass runs at cw = 1.
 */
#include <stdlib.h>

#include "sched.h"

struct wrr_state {
	int cl; /* index of the server chosen last; -1 = before the first */
	int cw; /* current weight */
	int mw; /* maximum weight, less (di - 1) */
	int di; /* gcd of the weights: the step of cw */
};

static int gcd(int a, int b)
{
	while (b) {
		int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static void wrr_recompute(struct service *svc, struct wrr_state *st)
{
	int g = 0, max = 0;

	for (unsigned int i = 0; i < svc->n_servers; i++) {
		int w = (int)svc->servers[i]->weight;

		if (w > 0)
			g = g ? gcd(w, g) : w;
		if (w > max)
			max = w;
	}
	st->di = g ? g : 1;
	st->mw = max - (st->di - 1);
}

static int wrr_init(struct service *svc)
{
	struct wrr_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	st->cl = -1;
	wrr_recompute(svc, st);
	st->cw = st->mw;
	svc->sched_data = st;
	return 0;
}

static void wrr_done(struct service *svc)
{
	free(svc->sched_data);
	svc->sched_data = NULL;
}

/* IPVS ip_vs_wrr_dest_changed: restart from the head, keep cw if valid. */
static int wrr_update(struct service *svc)
{
	struct wrr_state *st = svc->sched_data;

	st->cl = -1;
	wrr_recompute(svc, st);
	if (st->cw > st->mw || st->cw <= 0)
		st->cw = st->mw;
	else if (st->di > 1)
		st->cw = (st->cw / st->di) * st->di + 1;
	return 0;
}

static struct server *wrr_schedule(struct service *svc, const struct pkt *p,
				   uint64_t now)
{
	struct wrr_state *st = svc->sched_data;
	int n = (int)svc->n_servers;
	int passes;

	if (st->mw <= 0 || n == 0)
		return NULL;
	/* Every weight >= 1 is tried within mw/di + 1 full passes. */
	passes = st->mw / st->di + 2;
	for (int step = 0; step < passes * n; step++) {
		st->cl++;
		if (st->cl >= n) {
			st->cl = 0;
			st->cw -= st->di;
			if (st->cw <= 0)
				st->cw = st->mw;
		}
		if ((int)svc->servers[st->cl]->weight >= st->cw &&
		    sched_server_usable(svc->servers[st->cl]))
			return svc->servers[st->cl];
	}
	return NULL;
}

const struct sched_ops sched_wrr = {
    .name = "wrr",
    .init_service = wrr_init,
    .done_service = wrr_done,
    .update_service = wrr_update,
    .schedule = wrr_schedule,
};
