/* xmit.h - forwarding methods, bound to a connection when it is created */
#ifndef NFQLB_XMIT_H
#define NFQLB_XMIT_H

#include "config.h"
#include "conn.h"
#include "pkt.h"

/* What the queue does with a packet. */
enum verdict {
	VERDICT_ACCEPT = 0, /* reinject unchanged */
	VERDICT_MANGLED,    /* reinject the rewritten bytes */
	VERDICT_DROP,
};

/* A forwarding method, as IPVS's packet_xmit bound per connection. */
struct xmit_ops {
	const char *name;
	/* a client packet of c */
	enum verdict (*in)(struct pkt *p, const struct conn *c);
	/* a server's reply of c (NAT only; NULL where replies bypass us) */
	enum verdict (*out)(struct pkt *p, const struct conn *c);
};

extern const struct xmit_ops xmit_nat;

/* The method for a connection's fwd, or NULL if it is not built yet. */
const struct xmit_ops *xmit_for(enum fwd_method m);

#endif
