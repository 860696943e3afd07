/* stats.h - traffic counters and their rate estimator (IPVS ip_vs_est.c) */
#ifndef NFQLB_STATS_H
#define NFQLB_STATS_H

#include <stdint.h>

/* Traffic counters, IPVS's ip_vs_stats: 64-bit, kept across reloads,
 * reset only by an explicit zero. */
struct traffic_stats {
	uint64_t conns;
	uint64_t in_packets, out_packets;
	uint64_t in_bytes, out_bytes;
};

/*
 * Rates, IPVS's ip_vs_estimator: the counters are sampled every
 * STATS_EST_INTERVAL seconds and each rate is an exponentially weighted
 * moving average with weight 1/4. Values are fixed point: connections
 * and packets per second scaled by 2^10, bytes per second by 2^5.
 */
#define STATS_EST_INTERVAL 2 /* seconds between samples */

struct stats_est {
	uint64_t last_conns, last_in_packets, last_out_packets;
	uint64_t last_in_bytes, last_out_bytes;
	int64_t cps, in_pps, out_pps; /* << 10 */
	int64_t in_bps, out_bps;      /* << 5 */
};

/* Rates in units per second, rounded as ip_vs_read_estimator(). */
struct stats_rates {
	uint64_t cps, in_pps, out_pps, in_bps, out_bps;
};

/* One sample of s, taken STATS_EST_INTERVAL seconds after the last. */
void stats_est_sample(struct stats_est *e, const struct traffic_stats *s);
void stats_est_read(const struct stats_est *e, struct stats_rates *r);
/* Zeroes the counters and the estimator together (ipvsadm --zero). */
void stats_zero(struct traffic_stats *s, struct stats_est *e);

#endif
