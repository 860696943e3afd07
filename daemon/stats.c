/*
 * stats.c - the rate estimator of net/netfilter/ipvs/ip_vs_est.c
 * (estimation_timer(), ip_vs_read_estimator(), ip_vs_zero_estimator()):
 * every 2 seconds, rate = delta scaled by 2^10 (2^5 for bytes) and halved
 * for the 2-second period, then avg += (rate - avg) / 4.
 */
#include "stats.h"

#include <string.h>

/* delta << shift is the scaled per-second rate of a 2-second delta. */
static void ewma(int64_t *avg, uint64_t *last, uint64_t now, int shift)
{
	int64_t rate = (int64_t)((now - *last) << shift);

	*last = now;
	/* arithmetic shift of a signed value, as the kernel's s64 code */
	*avg += (rate - *avg) >> 2;
}

void stats_est_sample(struct stats_est *e, const struct traffic_stats *s)
{
	/* scaled by 2^10, but divided 2 seconds */
	ewma(&e->cps, &e->last_conns, s->conns, 9);
	ewma(&e->in_pps, &e->last_in_packets, s->in_packets, 9);
	ewma(&e->out_pps, &e->last_out_packets, s->out_packets, 9);
	/* scaled by 2^5, but divided 2 seconds */
	ewma(&e->in_bps, &e->last_in_bytes, s->in_bytes, 4);
	ewma(&e->out_bps, &e->last_out_bytes, s->out_bytes, 4);
}

static uint64_t unscale(int64_t v, int shift)
{
	int64_t round = ((int64_t)1 << (shift - 1)) - 1; /* 0x1FF, 0xF */

	return v <= 0 ? 0 : (uint64_t)((v + round) >> shift);
}

void stats_est_read(const struct stats_est *e, struct stats_rates *r)
{
	r->cps = unscale(e->cps, 10);
	r->in_pps = unscale(e->in_pps, 10);
	r->out_pps = unscale(e->out_pps, 10);
	r->in_bps = unscale(e->in_bps, 5);
	r->out_bps = unscale(e->out_bps, 5);
}

void stats_zero(struct traffic_stats *s, struct stats_est *e)
{
	memset(s, 0, sizeof(*s));
	memset(e, 0, sizeof(*e));
}
