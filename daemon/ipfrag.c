/*
 * ipfrag.c - IPv4 fragmentation for the packets nfqlb sends itself: VS/TUN
 * outer packets and VS/DR frames whose datagram (already reassembled by
 * the kernel before the queue, see fw.c) does not fit the egress MTU and
 * carries no DF. A reinjected NAT packet is fragmented by the kernel.
 * Every fragment repeats the whole header, options included (RFC 791 asks
 * only for the "copied" ones; receivers accept the rest).
 */
#include "ipfrag.h"

#include <string.h>

#include "csum.h"

#define IP_DF 0x4000
#define IP_MF 0x2000

static void put16(uint8_t *p, uint16_t host)
{
	p[0] = (uint8_t)(host >> 8);
	p[1] = (uint8_t)host;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Payload bytes per fragment: a multiple of 8 (RFC 791); 0: impossible. */
static uint32_t frag_step(uint32_t ihl, uint32_t mtu)
{
	return mtu < ihl + 8 ? 0 : ((mtu - ihl) & ~7u);
}

static uint32_t header_len(const uint8_t *pkt, uint32_t pkt_len)
{
	uint32_t ihl = (uint32_t)(pkt[0] & 0x0f) * 4;

	return pkt_len >= 20 && ihl >= 20 && ihl <= pkt_len ? ihl : 0;
}

size_t ip_fragment_space(const uint8_t *pkt, uint32_t pkt_len, uint32_t mtu)
{
	uint32_t ihl = header_len(pkt, pkt_len), step, data, n;

	step = ihl ? frag_step(ihl, mtu) : 0;
	if (!step)
		return 0;
	data = pkt_len - ihl;
	n = (data + step - 1) / step;
	return (size_t)n * ihl + data;
}

int ip_fragment(const uint8_t *pkt, uint32_t pkt_len, uint32_t mtu,
		uint8_t *out, size_t cap, uint32_t *lens, unsigned int max)
{
	uint32_t ihl = header_len(pkt, pkt_len), step, data, off = 0;
	size_t space = ip_fragment_space(pkt, pkt_len, mtu);
	unsigned int n = 0;

	if (!ihl || !space || space > cap ||
	    (get16(pkt + 6) & (IP_DF | IP_MF | 0x1fff)))
		return -1;
	step = frag_step(ihl, mtu);
	data = pkt_len - ihl;
	while (off < data) {
		uint32_t len = data - off > step ? step : data - off;
		uint16_t check;

		if (n == max)
			return -1;
		memcpy(out, pkt, ihl);
		memcpy(out + ihl, pkt + ihl + off, len);
		put16(out + 2, (uint16_t)(ihl + len));
		put16(out + 6,
		      (uint16_t)((off + len < data ? IP_MF : 0) | (off >> 3)));
		out[10] = out[11] = 0;
		check = (uint16_t)~csum_fold(csum_partial(out, ihl, 0));
		memcpy(out + 10, &check, 2);
		lens[n++] = ihl + len;
		out += ihl + len;
		off += len;
	}
	return (int)n;
}
