/* hash.h - the integer mixer of the connection and template tables */
#ifndef NFQLB_HASH_H
#define NFQLB_HASH_H

#include <stdint.h>

/* murmur3's finaliser: every input bit reaches every output bit. */
static inline uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

#endif
