/*
 * sched_lbl.h - the locality table shared by lblc and lblcr: destination
 * address -> the server(s) that served it, after the tables of
 * net/netfilter/ipvs/ip_vs_lblc.c and ip_vs_lblcr.c, with their expiry.
 */
#ifndef NFQLB_SCHED_LBL_H
#define NFQLB_SCHED_LBL_H

#include <stdbool.h>
#include <stdint.h>

#include "service.h"

#define LBL_TAB_BITS 10
#define LBL_TAB_SIZE (1u << LBL_TAB_BITS)
/* IPVS: entries beyond 16 per bucket are trimmed by the periodic check */
#define LBL_MAX_SIZE (LBL_TAB_SIZE * 16)
/* The periodic check runs every minute (IPVS: CHECK_EXPIRE_INTERVAL)... */
#define LBL_CHECK_INTERVAL_MS (60 * 1000ULL)
/* ...and every 30th one is a full check (COUNT_FOR_FULL_EXPIRATION) */
#define LBL_FULL_EVERY 30
/* an oversized table loses entries idle this long (ENTRY_TIMEOUT) */
#define LBL_ENTRY_TIMEOUT_MS (6 * 60 * 1000ULL)
/* a full check removes entries idle this long (sysctl lblc_expiration
 * and lblcr_expiration, both 24 hours by default); lblcr also drops the
 * busiest server of a set not changed for this long */
#define LBL_EXPIRATION_MS (24 * 60 * 60 * 1000ULL)

/* One destination address and the servers that took its connections:
 * one for lblc, a set for lblcr (most recently added first). */
struct lbl_entry {
	struct lbl_entry *next; /* bucket chain */
	uint32_t addr;		/* network order */
	uint64_t lastuse;	/* ms: last connection to addr */
	uint64_t lastmod;	/* ms: last change of the set (lblcr) */
	struct server **set;
	unsigned int n, cap;
};

struct lbl_table {
	struct lbl_entry *buckets[LBL_TAB_SIZE];
	unsigned int entries;
	unsigned int rover;   /* bucket where the last check stopped */
	unsigned int counter; /* checks since the last full one */
	uint64_t next_check;  /* ms; 0 = not started */
};

/* The sched_ops hooks of lblc and lblcr: svc->sched_data is the table;
 * an update drops the servers svc no longer holds. */
int lbl_init_service(struct service *svc);
void lbl_done_service(struct service *svc);
int lbl_update_service(struct service *svc);
struct lbl_entry *lbl_get(struct lbl_table *t, uint32_t addr);
/* The entry of addr, created empty if there is none; NULL: no memory. */
struct lbl_entry *lbl_get_or_new(struct lbl_table *t, uint32_t addr,
				 uint64_t now);
/* Puts s at the head of e's set unless it is in it; -1: no memory. */
int lbl_set_insert(struct lbl_entry *e, struct server *s, uint64_t now);
void lbl_set_erase(struct lbl_entry *e, const struct server *s, uint64_t now);
/* Runs the periodic check when it is due (scheduling drives the clock
 * in place of IPVS's timer: an idle service has nothing to expire). */
void lbl_check_expire(struct lbl_table *t, uint64_t now);
/* IPVS's is_overloaded() of lblc/lblcr: s has more active connections
 * than its weight while some server is under half its weight. */
bool lbl_overloaded(const struct server *s, const struct service *svc);

#endif
