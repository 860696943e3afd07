/* ipfrag.h - IPv4 fragmentation (RFC 791) of packets we send ourselves */
#ifndef NFQLB_IPFRAG_H
#define NFQLB_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Splits the IPv4 packet pkt (pkt_len bytes, DF clear, not itself a
 * fragment) into fragments of at most mtu bytes, written back to back
 * into out, each a complete IPv4 packet with its header (options
 * included) and checksum. Fragment i's length goes to lens[i]. Returns
 * the number of fragments, or -1 when pkt may not or cannot be
 * fragmented into out (cap bytes) and lens (max entries).
 */
int ip_fragment(const uint8_t *pkt, uint32_t pkt_len, uint32_t mtu,
		uint8_t *out, size_t cap, uint32_t *lens, unsigned int max);

/* Bytes ip_fragment() needs in out for pkt (0 if it cannot be done). */
size_t ip_fragment_space(const uint8_t *pkt, uint32_t pkt_len, uint32_t mtu);

#endif
