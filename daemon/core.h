/* core.h - the per-packet pipeline: bytes and metadata in, verdict out.
 * It never touches netlink, so tests drive it with byte arrays. */
#ifndef NFQLB_CORE_H
#define NFQLB_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "log.h"
#include "pkt.h"
#include "service.h"
#include "xmit.h"

/* Why packets were dropped or passed untouched; each is counted. */
enum core_counter {
	CNT_MALFORMED = 0, /* + enum pkt_class: see pkt.h (dropped) */
	CNT_NO_SERVER = PKT_CLASS_LAST, /* no server can take it (dropped) */
	CNT_TABLE_FULL,			/* max_connections reached (dropped) */
	CNT_UNKNOWN_FLOW,    /* TCP non-SYN to a VIP with no flow (dropped) */
	CNT_NOT_SERVICE,     /* queued but no service matches (passed) */
	CNT_UNKNOWN_REPLY,   /* from a server, no flow (passed) */
	CNT_METHOD_MISSING,  /* flow whose method is not built (dropped) */
	CNT_NO_NEIGH,	     /* DR: server's MAC not resolved yet (dropped) */
	CNT_NO_ROUTE,	     /* DR/TUN: server unreachable (dropped) */
	CNT_FRAG_NEEDED,     /* DF packet too big: ICMP sent (dropped) */
	CNT_TOO_BIG,	     /* too big, no DF, cannot fragment (dropped) */
	CNT_GSO_UNSUPPORTED, /* DR/TUN: a UDP GSO super-packet (dropped) */
	CNT_ICMP_UNKNOWN,    /* ICMP error to a VIP about no flow (dropped) */
	CNT_EMBRYONIC,	     /* half-open entries dropped to make room */
	CNT_OFFLOAD_STRAY,   /* offloaded flow's packet conntrack did not
				carry: rewritten by the daemon (passed) */
	CNT_LAST,
};

/* Where the packet was queued: the hook tells the direction. */
enum core_dir {
	CORE_IN = 0, /* client -> VIP, queued before routing */
	CORE_OUT,    /* server -> client, queued after routing */
};

struct core {
	struct conn_table *ct;
	struct service_set *svcs;
	struct xmit_ctx *xmit; /* DR/TUN sockets; NULL where only NAT runs */
	uint64_t counters[CNT_LAST];
	/* offload: the lowest bit of iptables.offload_mask, and the mark
	 * bits the last packet's verdict must add (its server's id) */
	unsigned int offload_shift;
	uint32_t verdict_mark;
	/* per core, so each future worker limits its own messages */
	struct log_ratelimit rl_noserver, rl_full, rl_flood;
};

/* A queued packet as the core needs it. */
struct core_pkt {
	uint8_t *data;
	uint32_t len;
	enum core_dir dir;
	uint32_t mark; /* the packet's netfilter mark (fwmark services) */
	bool csum_not_ready;
	bool gso;
};

/* Processes one packet; *balanced is set when the packet belongs to a
 * virtual service flow (it then carries the daemon's mark, and
 * c->verdict_mark's bits). */
enum verdict core_packet(struct core *c, const struct core_pkt *cp,
			 uint64_t now, bool *balanced);
const char *core_counter_name(enum core_counter i);
/* Sends what the forwarding methods batched; before the next receive. */
void core_flush(struct core *c);
/* Whether packets counted under i are dropped (else passed or balanced). */
bool core_counter_is_drop(enum core_counter i);
/* Zeroes the counters (nfqlbctl zero). */
void core_counters_zero(struct core *c);

#endif
