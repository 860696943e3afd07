/*
 * xmit_dr.c - VS/DR (direct routing), after ip_vs_dr_xmit() in
 * net/netfilter/ipvs/ip_vs_xmit.c: the client's IP packet is not changed
 * at all; it goes out in a frame addressed to the real server's MAC,
 * which holds the VIP on a loopback with ARP suppressed and answers the
 * client directly. A verdict cannot change layer 2, so the frame is sent
 * on a packet socket and the queued packet is dropped.
 *
 * Offloads: the queue hands over GSO super-packets (up to 64 KB) and
 * packets whose checksum is not finished. Both travel as they are, with
 * a virtio-net header (PACKET_VNET_HDR) that tells the kernel to finish
 * the checksum and to segment at the egress MTU - or to pass the
 * super-packet on whole where the device can do that itself.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include "core.h"
#include "csum.h"
#include "ipfrag.h"
#include "tcp_seg.h"
#include "xmit.h"

/* The virtio-net header for p: checksum to finish, segment size. */
static void dr_vnet_hdr(struct virtio_net_hdr *vh, struct pkt *p, uint32_t mtu)
{
	uint32_t csum_off =
	    p->proto == IPPROTO_TCP ? PKT_TCP_CSUM_OFF : PKT_UDP_CSUM_OFF;

	memset(vh, 0, sizeof(*vh));
	if ((!p->csum_not_ready && !p->gso) || p->proto == IPPROTO_ICMP)
		return; /* complete: nothing for the kernel to do */
	if (!p->csum_not_ready) {
		/* GRO merged it and left the first segment's checksum:
		 * the kernel finishes from the pseudo-header sum. */
		uint16_t ps = csum_fold(csum_pseudo(
		    p->saddr, p->daddr, p->proto, (uint16_t)p->l4len));

		memcpy(p->l4 + csum_off, &ps, 2);
	}
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)(ETH_HLEN + p->ihl);
	vh->csum_offset = (uint16_t)csum_off;
	if (p->gso) {
		uint32_t thl = (uint32_t)(p->l4[12] >> 4) * 4;

		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh->hdr_len = (uint16_t)(ETH_HLEN + p->ihl + thl);
		vh->gso_size = (uint16_t)tcp_seg_mss(p, mtu, 0);
	}
}

/* Queues one frame to h: the header slot's virtio-net header (set by the
 * caller through vh, or zero) and Ethernet header, then data. */
static struct virtio_net_hdr *dr_frame(struct xmit_ctx *x,
				       const struct nexthop *h,
				       const uint8_t *data, uint32_t len)
{
	union txb_addr to = {.ll = {.sll_family = AF_PACKET}};
	uint8_t *hdr = txbatch_hdr(&x->dr);
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)hdr;
	struct ethhdr *eth = (struct ethhdr *)(hdr + sizeof(*vh));

	memset(vh, 0, sizeof(*vh));
	memcpy(eth->h_dest, h->mac, ETH_ALEN);
	memcpy(eth->h_source, h->ifmac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	to.ll.sll_ifindex = h->ifindex;
	to.ll.sll_protocol = htons(ETH_P_IP);
	to.ll.sll_halen = ETH_ALEN;
	memcpy(to.ll.sll_addr, h->mac, ETH_ALEN);
	txbatch_add(&x->dr, sizeof(*vh) + ETH_HLEN, data, len, &to,
		    sizeof(to.ll));
	return vh;
}

/* A datagram the kernel reassembled before the queue (see fw.c), too big
 * for the wire and without DF: sent in fragments. */
static enum verdict dr_fragmented(struct xmit_ctx *x, const struct pkt *p,
				  const struct conn *c, const struct nexthop *h)
{
	size_t space = ip_fragment_space(p->data, p->len, h->mtu);
	uint32_t lens[64];
	uint8_t *frags;
	int n;

	if (!space || txbatch_reserve(&x->dr, 64, space) < 0) {
		xmit_drop(x, c, CNT_TOO_BIG, "too big to fragment");
		return VERDICT_DROP;
	}
	frags = txbatch_alloc(&x->dr, space);
	n = ip_fragment(p->data, p->len, h->mtu, frags, space, lens, 64);
	if (n < 0) {
		xmit_drop(x, c, CNT_TOO_BIG, "cannot fragment");
		return VERDICT_DROP;
	}
	for (int i = 0; i < n; i++) {
		dr_frame(x, h, frags, lens[i]);
		frags += lens[i];
	}
	return VERDICT_DROP;
}

static enum verdict dr_in(struct xmit_ctx *x, struct pkt *p, struct conn *c)
{
	struct nexthop *h;

	switch (neigh_resolve(&x->neigh, c->daddr, true, x->now, &h)) {
	case NH_OK:
		break;
	case NH_UNRESOLVED:
		xmit_drop(x, c, CNT_NO_NEIGH, "MAC address not resolved yet");
		return VERDICT_DROP;
	case NH_NOT_ONLINK:
		xmit_drop(x, c, CNT_NO_ROUTE,
			  "not on-link (dr needs a directly connected server)");
		return VERDICT_DROP;
	default:
		xmit_drop(x, c, CNT_NO_ROUTE, "no route");
		return VERDICT_DROP;
	}
	if (p->gso && p->proto != IPPROTO_TCP) {
		xmit_drop(x, c, CNT_GSO_UNSUPPORTED, "UDP GSO super-packet");
		return VERDICT_DROP;
	}
	if (p->gso && tcp_seg_mss(p, h->mtu, 0) == 0) {
		/* no segment size would do: the kernel would get 0 or a
		 * wrapped one (found by fuzz/fuzz_core) */
		xmit_drop(x, c, CNT_TOO_BIG, "headers larger than the MTU");
		return VERDICT_DROP;
	}
	if (!p->gso && p->len > h->mtu) {
		/* as ip_vs_dr_xmit()'s MTU check */
		if (pkt_df(p)) {
			xmit_frag_needed(x, p, h->mtu);
			return VERDICT_DROP;
		}
		/* no virtio-net header on fragments to finish a checksum
		 * the sender left to offload (found by fuzz/fuzz_core) */
		if (p->csum_not_ready && p->proto != IPPROTO_ICMP)
			pkt_l4_csum_full(p);
		return dr_fragmented(x, p, c, h);
	}
	if (txbatch_reserve(&x->dr, 1, 0) < 0)
		return VERDICT_DROP;
	dr_vnet_hdr(dr_frame(x, h, p->data, p->len), p, h->mtu);
	return VERDICT_DROP;
}

const struct xmit_ops xmit_dr = {
    .name = "dr",
    .in = dr_in,
    .out = NULL,      /* replies go from the server to the client directly */
    .icmp_in = dr_in, /* the error goes to the server unchanged */
    .icmp_out = NULL,
};
