/* xmit.h - forwarding methods, bound to a connection when it is created */
#ifndef NFQLB_XMIT_H
#define NFQLB_XMIT_H

#include <ev.h>

#include "config.h"
#include "conn.h"
#include "neigh.h"
#include "pkt.h"
#include "txbatch.h"

struct service_set;

/* What the queue does with a packet. */
enum verdict {
	VERDICT_ACCEPT = 0, /* reinject unchanged */
	VERDICT_MANGLED,    /* reinject the rewritten bytes */
	VERDICT_DROP,	    /* drop (VS/DR and VS/TUN sent their own copy) */
};

/*
 * What the direct-return methods send with: VS/DR frames on a packet
 * socket, VS/TUN packets (and ICMP errors) on a raw IPv4 socket, both in
 * batches flushed once per queue batch.
 */
struct xmit_ctx {
	struct neigh neigh;
	struct txbatch dr;  /* AF_PACKET, PACKET_VNET_HDR */
	struct txbatch raw; /* AF_INET SOCK_RAW IPPROTO_RAW: IPIP and ICMP */
	uint64_t *counters; /* the core's, indexed by enum core_counter */
	uint64_t now;	    /* ms, of the packet being handled */
	uint16_t ip_id;	    /* outer IPIP header ids */
	struct log_ratelimit rl;
};

/* A forwarding method, as IPVS's packet_xmit bound per connection. */
struct xmit_ops {
	const char *name;
	/* a client packet of c (x is NULL in unit tests of NAT) */
	enum verdict (*in)(struct xmit_ctx *x, struct pkt *p, struct conn *c);
	/* a server's reply of c (NAT only; NULL where replies bypass us) */
	enum verdict (*out)(struct xmit_ctx *x, struct pkt *p, struct conn *c);
	/* an ICMP error from the client's side about c */
	enum verdict (*icmp_in)(struct xmit_ctx *x, struct pkt *p,
				struct conn *c);
	/* an ICMP error towards the client about c (NULL: passed as is) */
	enum verdict (*icmp_out)(struct xmit_ctx *x, struct pkt *p,
				 struct conn *c);
};

extern const struct xmit_ops xmit_nat, xmit_dr, xmit_tun;

/* The method for a connection's fwd, or NULL if it is not built yet. */
const struct xmit_ops *xmit_for(enum fwd_method m);

/* Opens the sockets (CAP_NET_RAW) and starts following routes and
 * neighbours on loop. Returns 0, or -1 with a logged reason. */
int xmit_open(struct xmit_ctx *x, struct ev_loop *loop, uint64_t *counters);
void xmit_close(struct xmit_ctx *x);
/* Sends what the batch holds; the queue calls it before reading again. */
void xmit_flush(struct xmit_ctx *x);
/* Looks up how to reach every VS/DR and VS/TUN server of set (at start and
 * reload), logging those that cannot be reached. */
void xmit_prepare(struct xmit_ctx *x, const struct service_set *set,
		  uint64_t now);

/* Shared by the direct-return methods: */
/* Tells p's sender that it must fit mtu (ICMP fragmentation needed). */
void xmit_frag_needed(struct xmit_ctx *x, const struct pkt *p, uint32_t mtu);
/* Counts and logs (rate-limited) a packet dropped for reason cnt. */
void xmit_drop(struct xmit_ctx *x, const struct conn *c, int cnt,
	       const char *why);

#endif
