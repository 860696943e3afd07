/* pktbuild.h - test packets as byte arrays, and checksums verified by an
 * independent byte-wise implementation (not csum.c) */
#ifndef NFQLB_PKTBUILD_H
#define NFQLB_PKTBUILD_H

#include <stdbool.h>
#include <string.h>

#include "csum_verify.h"
#include "unit.h"

static inline void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Zeroes tot bytes at buf and writes a 20-byte IPv4 header (DF, TTL 64,
 * id 0x1234) with its checksum. */
static inline void ip_header(uint8_t *buf, size_t tot, uint8_t proto,
			     const char *src, const char *dst)
{
	uint32_t a;

	memset(buf, 0, tot);
	buf[0] = 0x45;
	set16(buf + 2, (uint16_t)tot);
	set16(buf + 4, 0x1234);
	buf[6] = 0x40; /* DF */
	buf[8] = 64;
	buf[9] = proto;
	a = ip4(src);
	memcpy(buf + 12, &a, 4);
	a = ip4(dst);
	memcpy(buf + 16, &a, 4);
	set16(buf + 10, (uint16_t)~fold_be(sum_be(buf, 20, 0)));
}

/* Builds an IPv4 packet with a correct IP checksum and, depending on
 * csum_mode, a complete L4 checksum (0), the pseudo-header sum only as
 * CHECKSUM_PARTIAL leaves it (1), or no UDP checksum (2). */
static inline size_t build(uint8_t *buf, uint8_t proto, const char *src,
			   uint16_t sport, const char *dst, uint16_t dport,
			   uint8_t tcp_flags, size_t payload, int csum_mode)
{
	size_t l4h = proto == IPPROTO_TCP ? 20 : 8, l4len = l4h + payload;
	size_t tot = 20 + l4len;
	uint8_t *l4 = buf + 20;
	size_t coff = proto == IPPROTO_TCP ? 16 : 6;

	ip_header(buf, tot, proto, src, dst);
	set16(l4, sport);
	set16(l4 + 2, dport);
	if (proto == IPPROTO_TCP) {
		set16(l4 + 4, 0x0102);
		l4[12] = 5 << 4;
		l4[13] = tcp_flags;
		set16(l4 + 14, 64240);
	} else {
		set16(l4 + 4, (uint16_t)l4len);
	}
	for (size_t i = 0; i < payload; i++)
		l4[l4h + i] = (uint8_t)(i * 7 + 3);
	if (csum_mode == 0)
		set16(l4 + coff,
		      (uint16_t)~fold_be(
			  sum_be(l4, l4len, pseudo_be(buf, (uint16_t)l4len))));
	else if (csum_mode == 1)
		set16(l4 + coff, fold_be(pseudo_be(buf, (uint16_t)l4len)));
	return tot;
}

#endif
