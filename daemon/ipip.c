/*
 * ipip.c - VS/TUN's encapsulation, after ip_vs_tunnel_xmit() in
 * net/netfilter/ipvs/ip_vs_xmit.c: a plain 20-byte IPv4 header in front
 * of the untouched client packet, protocol 4, TOS copied from the inner
 * header, DF copied so path MTU discovery keeps working end to end, and
 * the route's hop limit as TTL. Fragmentation (RFC 791) is only for
 * inner packets without DF that do not fit the path.
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

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
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

/* Payload bytes per fragment: a multiple of 8 (RFC 791). */
static uint32_t frag_step(uint32_t mtu)
{
	return mtu < IPIP_HLEN + 8 ? 0 : ((mtu - IPIP_HLEN) & ~7u);
}

size_t ipip_fragment_space(uint32_t pkt_len, uint32_t mtu)
{
	uint32_t step = frag_step(mtu), data = pkt_len - IPIP_HLEN;
	uint32_t n = step ? (data + step - 1) / step : 0;

	return (size_t)n * IPIP_HLEN + data;
}

int ipip_fragment(const uint8_t *pkt, uint32_t pkt_len, uint32_t mtu,
		  uint8_t *out, size_t cap, uint32_t *lens, unsigned int max)
{
	uint32_t step = frag_step(mtu), data, off = 0;
	unsigned int n = 0;

	if (step == 0 || pkt_len < IPIP_HLEN ||
	    (get16(pkt + 6) & (IP_DF | IP_MF | 0x1fff)) ||
	    ipip_fragment_space(pkt_len, mtu) > cap)
		return -1;
	data = pkt_len - IPIP_HLEN;
	while (off < data) {
		uint32_t len = data - off > step ? step : data - off;
		uint16_t flags = off + len < data ? IP_MF : 0;

		if (n == max)
			return -1;
		memcpy(out, pkt, IPIP_HLEN);
		memcpy(out + IPIP_HLEN, pkt + IPIP_HLEN + off, len);
		put16(out + 2, (uint16_t)(IPIP_HLEN + len));
		put16(out + 6, (uint16_t)(flags | (off >> 3)));
		ip_header_csum(out);
		lens[n++] = IPIP_HLEN + len;
		out += IPIP_HLEN + len;
		off += len;
	}
	return (int)n;
}
