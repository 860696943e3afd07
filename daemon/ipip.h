/* ipip.h - IPIP (RFC 2003) outer headers and outer fragmentation for VS/TUN */
#ifndef NFQLB_IPIP_H
#define NFQLB_IPIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPIP_HLEN 20 /* the outer header: no options */
#define IP_DF	  0x4000
#define IP_MF	  0x2000

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

/*
 * Splits an outer packet pkt (outer header + inner packet, pkt_len bytes,
 * DF clear) into fragments of at most mtu bytes, written back to back
 * into out (each a complete IPv4 packet with its own header and
 * checksum). Fragment i's length goes to lens[i]. Returns the number of
 * fragments, or -1 when mtu is too small or out/lens cannot hold them.
 */
int ipip_fragment(const uint8_t *pkt, uint32_t pkt_len, uint32_t mtu,
		  uint8_t *out, size_t cap, uint32_t *lens, unsigned int max);

/* Bytes ipip_fragment() needs in out for a packet of pkt_len. */
size_t ipip_fragment_space(uint32_t pkt_len, uint32_t mtu);

#endif
