/* ctl_fmt.h - what nfqlbctl prints: tables shaped like ipvsadm -L -n,
 * JSON per SPEC.md, and the Prometheus text exposition format. Pure:
 * it reads the run-time state and appends text to a buffer. */
#ifndef NFQLB_CTL_FMT_H
#define NFQLB_CTL_FMT_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "obuf.h"
#include "service.h"

struct queue;
struct ctevents_stats;

/* The daemon state a reply reads. */
struct ctl_view {
	const struct service_set *svcs;
	const struct conn_table *ct;
	const uint64_t *counters;   /* core counters, CNT_LAST of them */
	const struct queue *queues; /* NULL: no queue figures */
	unsigned int n_queues;
	const struct ctevents_stats *cts; /* NULL: no offload running */
	uint64_t now_ms;		  /* monotonic, as conn expiry */
	const char *version;
};

/* nfqlbctl list; flags are CTL_F_JSON, CTL_F_STATS, CTL_F_RATE. */
void fmt_list(struct obuf *b, const struct ctl_view *v, unsigned int flags);

/* One server after nfqlbctl server ...: a line, or its list JSON object. */
void fmt_server(struct obuf *b, const struct server *srv, unsigned int flags);
void fmt_server_json(struct obuf *b, const struct server *srv,
		     unsigned int flags);

/*
 * nfqlbctl conns, a step at a time so a huge table never holds the loop:
 * each call lists whole hash buckets until about max_bytes were added or
 * max_buckets were visited. Resuming at a bucket index stays valid while
 * entries come and go between steps (each entry is listed at most once).
 */
struct fmt_conns {
	uint32_t bucket; /* next bucket to list */
	bool started, done;
	uint64_t listed;
};

void fmt_conns_step(struct obuf *b, const struct ctl_view *v,
		    unsigned int flags, struct fmt_conns *cur, size_t max_bytes,
		    uint32_t max_buckets);

/* The Prometheus text exposition format (version 0.0.4). */
void fmt_metrics(struct obuf *b, const struct ctl_view *v);

/* "12:34" minutes and seconds, as ipvsadm -L -c shows expiry. */
void fmt_expire(char *buf, unsigned int size, uint64_t seconds);

#endif
