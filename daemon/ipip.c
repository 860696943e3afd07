/*
 * ipip.c - VS/TUN's encapsulation, after ip_vs_tunnel_xmit() in
 * net/netfilter/ipvs/ip_vs_xmit.c: a plain 20-byte IPv4 header in front
 * of the untouched client packet, protocol 4, TOS copied from the inner
 * header, DF copied so path MTU discovery keeps working end to end, and
 * the route's hop limit as TTL.
 */
#include "ipip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "csum.h"

static void put16(uint8_t *p, uint16_t host)
{
	p[0] = (uint8_t)(host >> 8);
	p[1] = (uint8_t)host;
}

static void ip_header_csum(uint8_t *hdr)
{
	uint16_t check;

	hdr[10] = hdr[11] = 0;
	check = (uint16_t)~csum_fold(csum_partial(hdr, 20, 0));
	memcpy(hdr + 10, &check, 2);
}

void ipip_outer_write(uint8_t *hdr, const struct ipip_outer *o,
		      uint32_t inner_len)
{
	hdr[0] = 0x45;
	hdr[1] = o->tos;
	put16(hdr + 2, (uint16_t)(IPIP_HLEN + inner_len));
	put16(hdr + 4, o->id);
	put16(hdr + 6, o->df ? IP_DF : 0);
	hdr[8] = o->ttl;
	hdr[9] = IPPROTO_IPIP;
	memcpy(hdr + 12, &o->src, 4);
	memcpy(hdr + 16, &o->dst, 4);
	ip_header_csum(hdr);
}
