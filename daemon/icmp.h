/* icmp.h - ICMP error messages the director sends itself */
#ifndef NFQLB_ICMP_H
#define NFQLB_ICMP_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the offending packet an error quotes: its IP header and the
 * first 8 bytes after it (RFC 792), enough for the ports and sequence. */
#define ICMP_QUOTE_L4 8
#define ICMP_ERR_MAX  (20 + 8 + 60 + ICMP_QUOTE_L4)

/*
 * Writes an IPv4 packet carrying ICMP "fragmentation needed" (type 3,
 * code 4, RFC 1191) about orig (orig_len bytes, an IPv4 packet) into out:
 * from src (the address orig was sent to, the VIP) back to orig's source,
 * announcing next-hop MTU mtu. Returns its length, or 0 if orig is not a
 * usable IPv4 packet, is an ICMP error itself, or cap is too small.
 */
size_t icmp_frag_needed(uint8_t *out, size_t cap, const uint8_t *orig,
			size_t orig_len, uint32_t src, uint16_t mtu);

#endif
