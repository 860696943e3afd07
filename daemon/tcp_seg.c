/*
 * tcp_seg.c - software segmentation for packets the kernel handed us as
 * GSO super-packets (NFQA_CFG_F_GSO) but that must leave through a path
 * that cannot carry them whole: VS/TUN wraps each segment in IPIP and
 * sends it on a raw socket, where no segmentation offload applies.
 * Re-segmenting at any size is valid TCP; the rules for the headers
 * follow net/ipv4/tcp_offload.c.
 */
#include "tcp_seg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "csum.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint32_t tcp_hlen(const struct pkt *p)
{
	return (uint32_t)(p->l4[12] >> 4) * 4;
}

uint32_t tcp_seg_payload(const struct pkt *p)
{
	return p->l4len - tcp_hlen(p);
}

uint32_t tcp_seg_mss(const struct pkt *p, uint32_t mtu, uint32_t encap)
{
	uint32_t hdrs = encap + p->ihl + tcp_hlen(p);

	return mtu > hdrs ? mtu - hdrs : 0;
}

unsigned int tcp_seg_count(const struct pkt *p, uint32_t mss)
{
	uint32_t data = tcp_seg_payload(p);

	if (mss == 0)
		return 0;
	return data == 0 ? 1 : (data + mss - 1) / mss;
}

size_t tcp_seg_stride(const struct pkt *p, uint32_t mss, uint32_t headroom)
{
	return (size_t)headroom + p->ihl + tcp_hlen(p) + mss;
}

static void put16(uint8_t *b, uint16_t host)
{
	b[0] = (uint8_t)(host >> 8);
	b[1] = (uint8_t)host;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Finishes the IP and TCP checksums of one segment. */
static void seg_checksums(uint8_t *ip, uint32_t ihl, uint32_t len,
			  uint32_t saddr, uint32_t daddr)
{
	uint8_t *th = ip + ihl;
	uint16_t check;
	uint32_t sum;

	ip[10] = ip[11] = 0;
	check = (uint16_t)~csum_fold(csum_partial(ip, ihl, 0));
	memcpy(ip + 10, &check, 2);
	th[16] = th[17] = 0;
	sum = csum_pseudo(saddr, daddr, IPPROTO_TCP, (uint16_t)(len - ihl));
	check = (uint16_t)~csum_fold(csum_partial(th, len - ihl, sum));
	memcpy(th + 16, &check, 2);
}

int tcp_segment(const struct pkt *p, uint32_t mss, uint32_t headroom,
		uint8_t *out, size_t cap, uint32_t *lens, unsigned int max)
{
	uint32_t thl = tcp_hlen(p), hdrs = p->ihl + thl;
	uint32_t data = tcp_seg_payload(p), off = 0, seq;
	size_t stride = tcp_seg_stride(p, mss, headroom);
	unsigned int n = tcp_seg_count(p, mss);
	uint16_t id = get16(p->data + 4);
	uint8_t flags = p->l4[13];

	if (n == 0 || n > max || stride * n > cap)
		return -1;
	memcpy(&seq, p->l4 + 4, 4);
	seq = ntohl(seq);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *ip = out + i * stride + headroom;
		uint32_t len = data - off > mss ? mss : data - off;
		uint32_t s = htonl(seq + off);
		uint8_t f = flags;

		memcpy(ip, p->data, hdrs);
		memcpy(ip + hdrs, p->l4 + thl + off, len);
		put16(ip + 2, (uint16_t)(hdrs + len));
		put16(ip + 4, (uint16_t)(id + i));
		memcpy(ip + p->ihl + 4, &s, 4);
		if (i + 1 < n)
			f &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (i > 0)
			f &= (uint8_t)~TCP_CWR;
		ip[p->ihl + 13] = f;
		seg_checksums(ip, p->ihl, hdrs + len, p->saddr, p->daddr);
		lens[i] = hdrs + len;
		off += len;
	}
	return (int)n;
}
