/* pkt.c - IPv4/TCP/UDP header parsing of queued packets; never trusts them */
#include "pkt.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>

#include "csum.h"

static const char *const class_names[PKT_CLASS_LAST] = {
    [PKT_OK] = "ok",
    [PKT_TRUNCATED] = "truncated",
    [PKT_BAD_HEADER] = "bad_header",
    [PKT_FRAGMENT] = "fragment",
    [PKT_UNKNOWN_PROTO] = "unknown_protocol",
    [PKT_ICMP_NOT_ERROR] = "icmp_not_error",
    [PKT_ICMP_BAD_QUOTE] = "icmp_bad_quote",
};

const char *pkt_class_name(enum pkt_class c)
{
	return c < PKT_CLASS_LAST ? class_names[c] : "?";
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * An ICMP error quotes the IP header and at least the first 8 bytes of the
 * packet it is about (RFC 792): enough for the ports of TCP and UDP.
 */
static enum pkt_class parse_icmp(struct pkt *p)
{
	uint8_t *in;
	uint32_t len, ihl;

	if (p->l4len < 8)
		return PKT_TRUNCATED;
	p->icmp_type = p->l4[0];
	if (p->icmp_type != PKT_ICMP_DEST_UNREACH &&
	    p->icmp_type != PKT_ICMP_TIME_EXCEEDED)
		return PKT_ICMP_NOT_ERROR;
	in = p->l4 + 8;
	len = p->l4len - 8;
	if (len < 20 || (in[0] >> 4) != 4)
		return PKT_ICMP_BAD_QUOTE;
	ihl = (uint32_t)(in[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl + 8 || (get16(in + 6) & 0x1fff) ||
	    (in[9] != IPPROTO_TCP && in[9] != IPPROTO_UDP))
		return PKT_ICMP_BAD_QUOTE;
	p->inner = in;
	p->inner_len = len;
	p->inner_ihl = ihl;
	p->in_proto = in[9];
	memcpy(&p->in_saddr, in + 12, 4);
	memcpy(&p->in_daddr, in + 16, 4);
	memcpy(&p->in_sport, in + ihl, 2);
	memcpy(&p->in_dport, in + ihl + 2, 2);
	return PKT_OK;
}

/*
 * A GSO super-packet may carry a total length of 0 when it exceeds 64 KB;
 * the queue copies at most 64 KB, so such packets are refused as
 * truncated. Everything is checked against caplen, the bytes we hold.
 */
enum pkt_class pkt_parse(struct pkt *p, uint8_t *data, uint32_t caplen)
{
	uint32_t tot, ihl, off;

	memset(p, 0, sizeof(*p));
	if (caplen < 20)
		return PKT_TRUNCATED;
	if ((data[0] >> 4) != 4)
		return PKT_BAD_HEADER;
	ihl = (uint32_t)(data[0] & 0x0f) * 4;
	tot = get16(data + 2);
	if (ihl < 20 || tot < ihl)
		return PKT_BAD_HEADER;
	if (tot > caplen)
		return PKT_TRUNCATED;

	p->data = data;
	p->len = tot;
	p->ihl = ihl;
	p->proto = data[9];
	memcpy(&p->saddr, data + 12, 4);
	memcpy(&p->daddr, data + 16, 4);

	/* Any fragment (offset set or more to come) lacks a transport
	 * header for the whole datagram. */
	off = get16(data + 6);
	if (off & 0x3fff)
		return PKT_FRAGMENT;

	p->l4 = data + ihl;
	p->l4len = tot - ihl;
	switch (p->proto) {
	case IPPROTO_TCP: {
		uint32_t doff;

		if (p->l4len < 20)
			return PKT_TRUNCATED;
		doff = (uint32_t)(p->l4[12] >> 4) * 4;
		if (doff < 20)
			return PKT_BAD_HEADER;
		if (doff > p->l4len)
			return PKT_TRUNCATED;
		p->tcp_flags = p->l4[13];
		break;
	}
	case IPPROTO_UDP: {
		uint32_t ulen;

		if (p->l4len < 8)
			return PKT_TRUNCATED;
		ulen = get16(p->l4 + 4);
		/* A GSO UDP packet's length field covers one segment only. */
		if (ulen < 8 || ulen > p->l4len)
			return PKT_BAD_HEADER;
		break;
	}
	case IPPROTO_ICMP:
		return parse_icmp(p);
	default:
		return PKT_UNKNOWN_PROTO;
	}
	memcpy(&p->sport, p->l4, 2);
	memcpy(&p->dport, p->l4 + 2, 2);
	return PKT_OK;
}

void pkt_l4_csum_full(struct pkt *p)
{
	unsigned int off =
	    p->proto == IPPROTO_TCP ? PKT_TCP_CSUM_OFF : PKT_UDP_CSUM_OFF;
	uint32_t sum;
	uint16_t check;

	memset(p->l4 + off, 0, 2);
	sum = csum_pseudo(p->saddr, p->daddr, p->proto, (uint16_t)p->l4len);
	sum = csum_partial(p->l4, p->l4len, sum);
	check = (uint16_t)~csum_fold(sum);
	if (p->proto == IPPROTO_UDP && check == 0)
		check = 0xffff; /* 0 means "no checksum" in UDP */
	memcpy(p->l4 + off, &check, 2);
}
