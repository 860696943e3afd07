/* ipip.h - IPIP (RFC 2003) outer headers for VS/TUN */
#ifndef NFQLB_IPIP_H
#define NFQLB_IPIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPIP_HLEN 20 /* the outer header: no options */
#define IP_DF	  0x4000

/* What the outer header carries; addresses in network order. */
struct ipip_outer {
	uint32_t src, dst;
	uint16_t id;
	uint8_t tos; /* the inner TOS byte, as IPVS copies it */
	uint8_t ttl;
	bool df; /* copied from the inner header */
};

/*
 * Writes the 20-byte outer header for an inner packet of inner_len bytes
 * into hdr, checksum included.
 */
void ipip_outer_write(uint8_t *hdr, const struct ipip_outer *o,
		      uint32_t inner_len);

#endif
