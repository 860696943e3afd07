/*
 * vbatch.h - a batch of NFQUEUE verdicts sent with one sendmsg(2), whose
 * rewritten packets are not copied: each message's header lives in the
 * batch, its payload stays where the caller has it (the queue's receive
 * buffer) and goes to the kernel as its own iovec. The kernel's copy into
 * the netlink message is then the only copy of a mangled packet.
 */
#ifndef NFQLB_VBATCH_H
#define NFQLB_VBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VBATCH_MAX  64		     /* verdicts per batch */
#define VBATCH_HDR  64		     /* header bytes per verdict message */
#define VBATCH_IOVS (3 * VBATCH_MAX) /* header, payload, padding */

struct vbatch {
	uint16_t queue_num;
	size_t limit; /* bytes per sendmsg (the socket's send buffer) */
	size_t bytes; /* of the messages in the batch */
	unsigned int n, niov;
	struct iovec iov[VBATCH_IOVS];
	/* headers are written whole: padding included, nothing unset */
	uint8_t hdr[VBATCH_MAX][VBATCH_HDR] __attribute__((aligned(8)));
};

void vbatch_init(struct vbatch *b, uint16_t queue_num, size_t limit);
/*
 * Whether a verdict with len payload bytes fits in the batch; when not,
 * the caller sends the batch first. A batch always takes one.
 */
int vbatch_room(const struct vbatch *b, uint32_t len);
/*
 * Adds the verdict for packet id: NF_ACCEPT or NF_DROP, with the packet's
 * new mark if mark is not NULL, and its new contents if data is not NULL
 * (data must stay valid until the batch is sent or reset).
 */
void vbatch_add(struct vbatch *b, uint32_t id, int verdict, const void *data,
		uint32_t len, const uint32_t *mark);
/* Sends the batch to the kernel on fd; -1 with errno on failure. The
 * batch is empty afterwards either way. */
int vbatch_send(struct vbatch *b, int fd);
void vbatch_reset(struct vbatch *b);

#endif
