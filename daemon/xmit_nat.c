/*
 * xmit_nat.c - VS/NAT: a client packet's destination VIP:vport becomes the
 * real server's RIP:rport; a reply's source RIP:rport becomes VIP:vport.
 *
 * Checksums: the IP header checksum is always complete and is updated
 * incrementally. A complete TCP/UDP checksum is updated incrementally
 * (RFC 1624). A packet whose checksum the kernel has not finished yet
 * (NFQA_SKB_CSUMNOTREADY: the field holds only the pseudo-header sum)
 * cannot stay that way: the queue marks every rewritten packet
 * CHECKSUM_NONE, so such a packet - GSO super-packets included, which may
 * reach the server unsegmented - gets its full checksum computed here.
 */
#include <netinet/in.h>
#include <string.h>

#include "csum.h"
#include "xmit.h"

#define IP_CSUM_OFF  10
#define IP_SADDR_OFF 12
#define IP_DADDR_OFF 16

static uint16_t get_u16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void put_u16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static unsigned int l4_csum_off(const struct pkt *p)
{
	return p->proto == IPPROTO_TCP ? PKT_TCP_CSUM_OFF : PKT_UDP_CSUM_OFF;
}

/*
 * Rewrites the address at addr_off of the IP header and the port at
 * port_off of the transport header, fixing every checksum.
 */
static void nat_rewrite(struct pkt *p, unsigned int addr_off,
			unsigned int port_off, uint32_t addr, uint16_t port)
{
	uint8_t *field = p->l4 + l4_csum_off(p);
	uint32_t old_addr;
	uint16_t old_port = get_u16(p->l4 + port_off);

	memcpy(&old_addr, p->data + addr_off, 4);
	memcpy(p->data + addr_off, &addr, 4);
	put_u16(p->l4 + port_off, port);
	put_u16(p->data + IP_CSUM_OFF,
		csum_replace4(get_u16(p->data + IP_CSUM_OFF), old_addr, addr));
	if (addr_off == IP_SADDR_OFF)
		p->saddr = addr;
	else
		p->daddr = addr;
	if (port_off == 0)
		p->sport = port;
	else
		p->dport = port;

	if (p->csum_not_ready) {
		pkt_l4_csum_full(p);
	} else if (p->proto == IPPROTO_TCP || get_u16(field) != 0) {
		uint16_t check = get_u16(field);

		check = csum_replace4(check, old_addr, addr);
		check = csum_replace2(check, old_port, port);
		if (p->proto == IPPROTO_UDP && check == 0)
			check = 0xffff;
		put_u16(field, check);
	}
}

static enum verdict nat_in(struct xmit_ctx *x, struct pkt *p, struct conn *c)
{
	(void)x;
	nat_rewrite(p, IP_DADDR_OFF, 2, c->daddr, c->dport);
	return VERDICT_MANGLED;
}

static enum verdict nat_out(struct xmit_ctx *x, struct pkt *p, struct conn *c)
{
	(void)x;
	nat_rewrite(p, IP_SADDR_OFF, 0, c->vaddr, c->vport);
	return VERDICT_MANGLED;
}

/* Replaces an IPv4 address in a header whose checksum is at csum. */
static void set_addr(uint8_t *at, uint8_t *csum, uint32_t addr)
{
	uint32_t old;

	memcpy(&old, at, 4);
	memcpy(at, &addr, 4);
	put_u16(csum, csum_replace4(get_u16(csum), old, addr));
}

/*
 * The packet an ICMP error quotes went the other way: its address at
 * addr_off (of its IP header) and port at port_off (of its transport
 * header) become addr:port. Its IP checksum is fixed, and its transport
 * checksum too when the quote holds it (UDP's always, TCP's rarely).
 */
static void nat_rewrite_quote(struct pkt *p, unsigned int addr_off,
			      unsigned int port_off, uint32_t addr,
			      uint16_t port)
{
	uint8_t *th = p->inner + p->inner_ihl;
	uint32_t old_addr;
	uint16_t old_port = get_u16(th + port_off);
	unsigned int coff =
	    p->in_proto == IPPROTO_TCP ? PKT_TCP_CSUM_OFF : PKT_UDP_CSUM_OFF;

	memcpy(&old_addr, p->inner + addr_off, 4);
	set_addr(p->inner + addr_off, p->inner + IP_CSUM_OFF, addr);
	put_u16(th + port_off, port);
	if (p->inner_ihl + coff + 2 <= p->inner_len &&
	    (p->in_proto == IPPROTO_TCP || get_u16(th + coff) != 0)) {
		uint16_t check = get_u16(th + coff);

		check = csum_replace4(check, old_addr, addr);
		check = csum_replace2(check, old_port, port);
		put_u16(th + coff, check);
	}
}

/* The ICMP checksum covers the whole message: computed anew. */
static void icmp_csum(struct pkt *p)
{
	uint16_t check;

	put_u16(p->l4 + 2, 0);
	check = (uint16_t)~csum_fold(csum_partial(p->l4, p->l4len, 0));
	put_u16(p->l4 + 2, check);
}

/* A client's error about a reply (VIP:vport -> client) goes to the real
 * server about its own packet (RIP:rport -> client), as ip_vs_nat_icmp(). */
static enum verdict nat_icmp_in(struct xmit_ctx *x, struct pkt *p,
				struct conn *c)
{
	(void)x;
	set_addr(p->data + IP_DADDR_OFF, p->data + IP_CSUM_OFF, c->daddr);
	p->daddr = c->daddr;
	nat_rewrite_quote(p, IP_SADDR_OFF, 0, c->daddr, c->dport);
	icmp_csum(p);
	return VERDICT_MANGLED;
}

/* An error towards the client about its packet to the server (client ->
 * RIP:rport) must look like one about its packet to VIP:vport, and come
 * from the VIP, as ip_vs_nat_icmp() does for the out direction. */
static enum verdict nat_icmp_out(struct xmit_ctx *x, struct pkt *p,
				 struct conn *c)
{
	(void)x;
	set_addr(p->data + IP_SADDR_OFF, p->data + IP_CSUM_OFF, c->vaddr);
	p->saddr = c->vaddr;
	nat_rewrite_quote(p, IP_DADDR_OFF, 2, c->vaddr, c->vport);
	icmp_csum(p);
	return VERDICT_MANGLED;
}

const struct xmit_ops xmit_nat = {
    .name = "nat",
    .in = nat_in,
    .out = nat_out,
    .icmp_in = nat_icmp_in,
    .icmp_out = nat_icmp_out,
};
