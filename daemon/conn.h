/* conn.h - the connection table: lookups both ways, states, expiry */
#ifndef NFQLB_CONN_H
#define NFQLB_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "persist.h"
#include "proto_tcp.h"

struct server;

/* Connection flags. */
#define CONN_F_INACTIVE 0x01 /* counted in the server's inactive_conns */
#define CONN_F_OFFLOAD	0x02 /* offload service: conntrack does the NAT */
#define CONN_F_KERNEL	0x04 /* its conntrack entry is confirmed (events) */
#define CONN_F_SEEN	0x08 /* found by the running conntrack resync */

/*
 * Timeout lists: one per TCP state, one for UDP, and one for flows the
 * kernel carries (CONN_F_KERNEL): those never expire by time, their
 * conntrack entry's DESTROY event or a resync removes them (ctevents.c).
 */
#define CONN_TL_UDP    TCP_S_LAST
#define CONN_TL_KERNEL (TCP_S_LAST + 1)
#define CONN_TL_LAST   (TCP_S_LAST + 2)
#define CONN_KERNEL_MS (1ULL << 50) /* "never" in the kernel list */

/*
 * One balanced flow: plain data (no pointers that outlive the process
 * but dest), so it can be checkpointed field by field. Addresses and
 * ports are in network order. 88 bytes on x86_64.
 */
struct conn {
	struct conn *in_next;		/* chain of the client-side hash */
	struct conn *out_next;		/* chain of the server-side hash */
	struct conn *tl_prev, *tl_next; /* place in its timeout list */
	struct server *dest;
	struct persist_tmpl *ctl; /* template it was made under, or NULL */
	uint64_t expires;	  /* monotonic milliseconds */
	uint32_t caddr, vaddr, daddr;
	uint16_t cport, vport, dport;
	uint8_t proto;
	uint8_t state; /* enum tcp_state; 0 for UDP */
	uint8_t flags;
	uint8_t fwd;	/* enum fwd_method, bound when the flow is created */
	uint8_t tl;	/* timeout list index */
	uint32_t ct_id; /* CONN_F_KERNEL: its conntrack entry's CTA_ID */
};

/* A timeout list: every entry has the same timeout, so appending on each
 * touch keeps it ordered by expiry and expiry only looks at the head. */
struct conn_tlist {
	struct conn *head, *tail;
	uint64_t timeout_ms;
};

struct conn_chunk;

struct conn_table {
	struct conn **in_hash, **out_hash;
	uint32_t mask; /* buckets - 1 */
	uint32_t seed;
	uint32_t count, max;
	struct conn *free_list;
	struct conn_chunk *chunks;
	struct conn_tlist tl[CONN_TL_LAST];
	uint64_t full_drops;	  /* new flows refused because count == max */
	uint32_t high_water;	  /* above it, half-open entries make room */
	uint64_t embryonic_drops; /* half-open entries dropped early */
	struct persist_table pt;  /* persistence templates, see persist.h */
	/* Called before a CONN_F_OFFLOAD entry is removed because its server
	 * went (purge, retire): the kernel's conntrack entry must go too. */
	void (*kernel_del)(void *arg, const struct conn *c);
	void *kernel_del_arg;
	uint32_t kernel_count; /* entries with CONN_F_KERNEL */
};

int conn_table_init(struct conn_table *t, uint32_t max, uint32_t seed,
		    const struct timeouts_conf *to);
void conn_table_destroy(struct conn_table *t);
/* New timeouts apply to existing entries from their last packet on. */
void conn_table_set_timeouts(struct conn_table *t,
			     const struct timeouts_conf *to);

/* Client-side lookup: the packet as the client sent it. */
struct conn *conn_in_get(const struct conn_table *t, uint8_t proto,
			 uint32_t caddr, uint16_t cport, uint32_t vaddr,
			 uint16_t vport);
/* Server-side lookup: a reply from the real server to the client. */
struct conn *conn_out_get(const struct conn_table *t, uint8_t proto,
			  uint32_t daddr, uint16_t dport, uint32_t caddr,
			  uint16_t cport);

/* Creates and hashes a flow bound to dest; NULL when the table is full. */
struct conn *conn_new(struct conn_table *t, uint8_t proto, uint32_t caddr,
		      uint16_t cport, uint32_t vaddr, uint16_t vport,
		      struct server *dest, uint8_t fwd, uint64_t now);
/* Re-creates a checkpointed flow: the tuple, method and state of from,
 * bound to dest, expiring at expires (kept in order in its list). NULL
 * when the table is full; the caller checks for an existing tuple. */
struct conn *conn_restore(struct conn_table *t, const struct conn *from,
			  struct server *dest, uint64_t expires);
/* A packet of c was seen: state transition (TCP) and a new expiry. */
void conn_update(struct conn_table *t, struct conn *c, enum conn_dir dir,
		 uint8_t tcp_flags, uint64_t now);
void conn_del(struct conn_table *t, struct conn *c);
/*
 * The kernel's conntrack entry ct_id carries c (a NEW event or a dump):
 * c leaves the timed lists; state (enum tcp_state, or -1 when the event
 * did not say) is accounted as for a packet.
 */
void conn_kernel_bind(struct conn_table *t, struct conn *c, uint32_t ct_id,
		      int state);
/* A TCP state change the kernel reported for a bound entry. */
void conn_kernel_state(struct conn *c, enum tcp_state state);
/*
 * The flood defence (IPVS's drop_entry): once the table holds high_water
 * entries, a new flow first removes the oldest half-open TCP entry, so a
 * SYN flood cannot fill the table and established flows are never
 * touched. Returns whether one was removed.
 */
bool conn_drop_embryonic(struct conn_table *t);

/* Removes expired entries; returns how many. */
unsigned int conn_expire(struct conn_table *t, uint64_t now);
/*
 * dest leaves its service but keeps its TCP connections (retired, see
 * expire_nodest_conn): its UDP flows go (a removed server must not
 * blackhole a client that keeps sending), its connections are detached
 * from their persistence templates and those go. Returns how many
 * UDP flows went.
 */
unsigned int conn_retire_dest(struct conn_table *t, const struct server *dest);
/* Removes every entry bound to dest, and its persistence templates;
 * returns how many connections. */
unsigned int conn_purge_dest(struct conn_table *t, const struct server *dest);

static inline bool conn_is_active(const struct conn *c)
{
	return !(c->flags & CONN_F_INACTIVE);
}

#endif
