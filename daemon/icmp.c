/*
 * icmp.c - building ICMP errors, as the kernel's icmp_send() would for
 * IPVS (ip_vs_xmit.c sends "fragmentation needed" when a tunnelled or
 * forwarded packet does not fit): TOS with the internetwork-control
 * precedence, TTL 64, and a quote of the offending header.
 */
#include "icmp.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "csum.h"

#define ICMP_HLEN	      8
#define ICMP_TYPE_UNREACH     3
#define ICMP_CODE_FRAG_NEEDED 4
#define IPTOS_INTERNETCONTROL 0xc0

/* Whether orig is itself an ICMP error (or of a type we do not know):
 * never the subject of another one (RFC 1122 3.2.2, as the kernel's
 * icmp_send() checks), so two directors cannot ping-pong errors. */
static bool icmp_is_error(const uint8_t *orig, size_t ihl, size_t orig_len)
{
	if (orig[9] != IPPROTO_ICMP)
		return false;
	if (ihl >= orig_len)
		return true; /* no type to tell: keep quiet */
	switch (orig[ihl]) {
	case 0:	 /* echo reply */
	case 8:	 /* echo request */
	case 13: /* timestamp */
	case 14: /* timestamp reply */
		return false;
	default:
		return true;
	}
}

size_t icmp_frag_needed(uint8_t *out, size_t cap, const uint8_t *orig,
			size_t orig_len, uint32_t src, uint16_t mtu)
{
	size_t ihl, quote, len;
	uint8_t *icmp;
	uint16_t check;

	if (orig_len < 20 || (orig[0] >> 4) != 4)
		return 0;
	ihl = (size_t)(orig[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > orig_len || icmp_is_error(orig, ihl, orig_len))
		return 0;
	quote = ihl + ICMP_QUOTE_L4 < orig_len ? ihl + ICMP_QUOTE_L4 : orig_len;
	len = 20 + ICMP_HLEN + quote;
	if (len > cap)
		return 0;

	memset(out, 0, 20 + ICMP_HLEN);
	out[0] = 0x45;
	out[1] = (uint8_t)((orig[1] & 0x1e) | IPTOS_INTERNETCONTROL);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[8] = 64;
	out[9] = IPPROTO_ICMP;
	memcpy(out + 12, &src, 4);
	memcpy(out + 16, orig + 12, 4); /* back to the sender */
	check = (uint16_t)~csum_fold(csum_partial(out, 20, 0));
	memcpy(out + 10, &check, 2);

	icmp = out + 20;
	icmp[0] = ICMP_TYPE_UNREACH;
	icmp[1] = ICMP_CODE_FRAG_NEEDED;
	icmp[6] = (uint8_t)(mtu >> 8);
	icmp[7] = (uint8_t)mtu;
	memcpy(icmp + ICMP_HLEN, orig, quote);
	check = (uint16_t)~csum_fold(csum_partial(icmp, ICMP_HLEN + quote, 0));
	memcpy(icmp + 2, &check, 2);
	return len;
}
