/* csum.h - Internet checksum primitives (RFC 1071) and incremental
 * updates (RFC 1624) used by the packet rewriters. */
#ifndef NFQLB_CSUM_H
#define NFQLB_CSUM_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

/* One's complement sum of a buffer, not folded: add to it, fold at the end. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);

static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header sum for TCP/UDP over IPv4; addresses in network order. */
static inline uint32_t csum_pseudo(uint32_t saddr, uint32_t daddr,
				   uint8_t proto, uint16_t len)
{
	uint32_t sum = 0;

	sum += (saddr >> 16) + (saddr & 0xffff);
	sum += (daddr >> 16) + (daddr & 0xffff);
	sum += htons(proto);
	sum += htons(len);
	return sum;
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Works on a field holding a
 * finished (complemented) checksum. Values are 16-bit words exactly as
 * they sit in memory (network order), which one's complement arithmetic
 * does not care about as long as it is consistent.
 */
static inline uint16_t csum_replace2(uint16_t check, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~from;
	sum += to;
	return (uint16_t)~csum_fold(sum);
}

static inline uint16_t csum_replace4(uint16_t check, uint32_t from, uint32_t to)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t) ~(from >> 16);
	sum += (uint16_t) ~(from & 0xffff);
	sum += to >> 16;
	sum += to & 0xffff;
	return (uint16_t)~csum_fold(sum);
}

/*
 * The same for a field that holds an uncomplemented partial sum, as a
 * packet whose checksum the NIC or the kernel will finish
 * (CHECKSUM_PARTIAL) carries the pseudo-header sum only.
 */
static inline uint16_t csum_partial_replace4(uint16_t psum, uint32_t from,
					     uint32_t to)
{
	return (uint16_t)~csum_replace4((uint16_t)~psum, from, to);
}

#endif
