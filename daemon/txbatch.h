/* txbatch.h - packets sent in batches: one sendmmsg per queue batch */
#ifndef NFQLB_TXBATCH_H
#define NFQLB_TXBATCH_H

#include <netinet/in.h>
#include <linux/if_packet.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"

#define TXB_HDR_MAX 64 /* per-message header slot: vnet + Ethernet, or IPIP */

union txb_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_ll ll;
};

/*
 * A message is [header slot][payload]: the payload usually points into
 * the queue's receive buffer (valid until the next receive, so the queue
 * flushes every batch before it reads again) or into the batch's arena
 * for packets built here (segments, fragments, ICMP errors).
 */
struct txbatch {
	const char *name; /* for messages: "dr", "tun" */
	int fd;
	unsigned int n, max;
	struct mmsghdr *msgs;
	struct iovec *iov; /* two per message */
	union txb_addr *addr;
	uint8_t *hdr; /* max * TXB_HDR_MAX */
	uint8_t *arena;
	size_t used, cap;
	uint64_t sent, errors;
	struct log_ratelimit rl;
};

/* fd is owned by the batch from here on. Returns 0 or -1 (no memory). */
int txbatch_init(struct txbatch *b, const char *name, int fd, unsigned int max,
		 size_t arena);
void txbatch_free(struct txbatch *b);

/* Makes room for msgs more messages and arena bytes, sending what is
 * pending if needed. Returns -1 if they can never fit. */
int txbatch_reserve(struct txbatch *b, unsigned int msgs, size_t arena);
/* arena bytes, reserved before */
uint8_t *txbatch_alloc(struct txbatch *b, size_t len);
/* The header slot of the next message. */
static inline uint8_t *txbatch_hdr(struct txbatch *b)
{
	return b->hdr + (size_t)b->n * TXB_HDR_MAX;
}
/* Queues the next message: hdr_len bytes of its slot, then payload. */
void txbatch_add(struct txbatch *b, size_t hdr_len, const void *payload,
		 size_t len, const union txb_addr *to, socklen_t tolen);
/* Sends everything pending. */
void txbatch_flush(struct txbatch *b);

#endif
