/*
 * xmit_tun.c - VS/TUN (IP tunnelling), after ip_vs_tunnel_xmit() in
 * net/netfilter/ipvs/ip_vs_xmit.c: the client's packet, unchanged, inside
 * an IPIP header from the director (the route's source address, or the
 * service's tunnel_source) to the real server, which decapsulates it and
 * answers the client directly.
 *
 * Sent on a raw socket with our own outer header, so the packet leaves
 * through the director's routing and OUTPUT/POSTROUTING like IPVS's.
 * Path MTU as IPVS: a packet with DF that does not fit the tunnel earns
 * the client an ICMP "fragmentation needed" with the MTU less the tunnel
 * header, and is dropped; one without DF is fragmented (the outer
 * header). GSO super-packets cannot cross a raw socket whole: they are
 * cut into segments that fit (tcp_seg.c). The queue does not say what
 * segment size the client used, so a super-packet never earns an ICMP
 * error; it is re-segmented instead, which TCP accepts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core.h"
#include "ipfrag.h"
#include "ipip.h"
#include "service.h"
#include "tcp_seg.h"
#include "xmit.h"

#define TUN_TTL	     64 /* IPVS: ip4_dst_hoplimit(), the default */
#define TUN_MAX_SEGS 128

static void outer_for(struct xmit_ctx *x, const struct pkt *p,
		      const struct conn *c, const struct nexthop *h,
		      struct ipip_outer *o)
{
	uint32_t src = c->dest->svc->tunnel_src;

	o->src = src ? src : h->src;
	o->dst = c->daddr;
	o->tos = p->data[1];
	o->ttl = TUN_TTL;
	o->df = pkt_df(p);
	if (++x->ip_id == 0)
		x->ip_id = 1;
	o->id = x->ip_id;
}

/* A super-packet: segments of the largest size the tunnel carries. */
static enum verdict tun_segmented(struct xmit_ctx *x, struct pkt *p,
				  const struct conn *c,
				  const struct ipip_outer *tmpl, uint32_t mtu,
				  const union txb_addr *to)
{
	uint32_t mss = tcp_seg_mss(p, mtu, IPIP_HLEN);
	uint32_t lens[TUN_MAX_SEGS];
	unsigned int n = tcp_seg_count(p, mss);
	size_t stride = tcp_seg_stride(p, mss, IPIP_HLEN);
	uint8_t *buf;
	int got;

	/* Headers that leave no room, or a tiny MTU that would take more
	 * segments than a batch holds: segments over the MTU would only
	 * be refused by the kernel (found by fuzz/fuzz_core). */
	if (mss == 0 || n > TUN_MAX_SEGS ||
	    txbatch_reserve(&x->raw, n, stride * n) < 0) {
		xmit_drop(x, c, CNT_TOO_BIG,
			  "cannot be segmented to fit the MTU");
		return VERDICT_DROP;
	}
	buf = txbatch_alloc(&x->raw, stride * n);
	got = tcp_segment(p, mss, IPIP_HLEN, buf, stride * n, lens, n);
	for (int i = 0; i < got; i++) {
		struct ipip_outer o = *tmpl;
		uint8_t *seg = buf + (size_t)i * stride;

		if (i > 0 && ++x->ip_id == 0)
			x->ip_id = 1;
		o.id = i > 0 ? x->ip_id : tmpl->id;
		ipip_outer_write(seg, &o, lens[i]);
		txbatch_add(&x->raw, 0, seg, IPIP_HLEN + lens[i], to,
			    sizeof(to->in));
	}
	return VERDICT_DROP;
}

/* Too big, no DF: the outer packet goes in fragments. */
static enum verdict tun_fragmented(struct xmit_ctx *x, struct pkt *p,
				   const struct conn *c,
				   const struct ipip_outer *o, uint32_t mtu,
				   const union txb_addr *to)
{
	uint32_t total = IPIP_HLEN + p->len, lens[64];
	uint8_t hdr[IPIP_HLEN], *whole, *frags;
	size_t space;
	int n;

	/* the space only depends on the outer header's length */
	ipip_outer_write(hdr, o, p->len);
	space = ip_fragment_space(hdr, total, mtu);
	if (!space || txbatch_reserve(&x->raw, 64, total + space) < 0) {
		xmit_drop(x, c, CNT_TOO_BIG, "too big to fragment");
		return VERDICT_DROP;
	}
	whole = txbatch_alloc(&x->raw, total);
	frags = txbatch_alloc(&x->raw, space);
	memcpy(whole, hdr, IPIP_HLEN);
	memcpy(whole + IPIP_HLEN, p->data, p->len);
	n = ip_fragment(whole, total, mtu, frags, space, lens, 64);
	if (n < 0) {
		xmit_drop(x, c, CNT_TOO_BIG, "cannot fragment");
		return VERDICT_DROP;
	}
	for (int i = 0; i < n; i++) {
		txbatch_add(&x->raw, 0, frags, lens[i], to, sizeof(to->in));
		frags += lens[i];
	}
	return VERDICT_DROP;
}

static enum verdict tun_in(struct xmit_ctx *x, struct pkt *p, struct conn *c)
{
	union txb_addr to = {.in = {.sin_family = AF_INET}};
	struct ipip_outer o;
	struct nexthop *h;
	uint32_t mtu;

	if (neigh_resolve(&x->neigh, c->daddr, false, x->now, &h) != NH_OK) {
		xmit_drop(x, c, CNT_NO_ROUTE, "no route");
		return VERDICT_DROP;
	}
	outer_for(x, p, c, h, &o);
	if (o.src == 0) {
		xmit_drop(x, c, CNT_NO_ROUTE,
			  "no source address for the tunnel");
		return VERDICT_DROP;
	}
	to.in.sin_addr.s_addr = c->daddr;
	mtu = h->mtu;
	/* The server's stack gets the inner packet as it is, whole or in
	 * outer fragments: finish a checksum the sender's kernel left to
	 * offload (fragments too: found by fuzz/fuzz_core). */
	if (p->csum_not_ready && !p->gso && p->proto != IPPROTO_ICMP)
		pkt_l4_csum_full(p);
	if (p->gso) {
		if (p->proto != IPPROTO_TCP) {
			xmit_drop(x, c, CNT_GSO_UNSUPPORTED,
				  "UDP GSO super-packet");
			return VERDICT_DROP;
		}
		return tun_segmented(x, p, c, &o, mtu, &to);
	}
	if (p->len + IPIP_HLEN > mtu) {
		if (o.df) {
			xmit_frag_needed(x, p, mtu - IPIP_HLEN);
			return VERDICT_DROP;
		}
		return tun_fragmented(x, p, c, &o, mtu, &to);
	}
	if (txbatch_reserve(&x->raw, 1, 0) < 0)
		return VERDICT_DROP;
	ipip_outer_write(txbatch_hdr(&x->raw), &o, p->len);
	txbatch_add(&x->raw, IPIP_HLEN, p->data, p->len, &to, sizeof(to.in));
	return VERDICT_DROP;
}

const struct xmit_ops xmit_tun = {
    .name = "tun",
    .in = tun_in,
    .out = NULL,       /* replies go from the server to the client directly */
    .icmp_in = tun_in, /* the error goes to the server unchanged */
    .icmp_out = NULL,
};
