/* csum_verify.h - IPv4, TCP, UDP and ICMP checksums verified by an
 * independent byte-wise implementation (not csum.c): for the unit tests
 * (through pktbuild.h) and the fuzzers, so it needs nothing but libc. */
#ifndef NFQLB_CSUM_VERIFY_H
#define NFQLB_CSUM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Independent RFC 1071 sum over big-endian 16-bit words. */
static inline uint32_t sum_be(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static inline uint16_t fold_be(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static inline bool ip_csum_ok(const uint8_t *p)
{
	return fold_be(sum_be(p, (size_t)(p[0] & 15) * 4, 0)) == 0xffff;
}

static inline uint32_t pseudo_be(const uint8_t *p, uint16_t l4len)
{
	uint32_t s = sum_be(p + 12, 8, 0);

	return s + p[9] + l4len;
}

static inline bool l4_csum_ok(const uint8_t *p)
{
	size_t ihl = (size_t)(p[0] & 15) * 4;
	uint16_t tot = (uint16_t)(p[2] << 8 | p[3]);
	uint16_t l4len = (uint16_t)(tot - ihl);

	return fold_be(sum_be(p + ihl, l4len, pseudo_be(p, l4len))) == 0xffff;
}

/* A checksum over a whole buffer (ICMP: header and data). */
static inline bool buf_csum_ok(const uint8_t *b, size_t n)
{
	return fold_be(sum_be(b, n, 0)) == 0xffff;
}

#endif
