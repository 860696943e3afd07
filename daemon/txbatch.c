/*
 * txbatch.c - many packets per system call on the send side, as the
 * queue does for verdicts: a packet costs about one microsecond of system
 * call on these machines, a batch about the same.
 */
#include "txbatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int txbatch_init(struct txbatch *b, const char *name, int fd, unsigned int max,
		 size_t arena)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->fd = fd;
	b->max = max;
	b->cap = arena;
	b->msgs = calloc(max, sizeof(*b->msgs));
	b->iov = calloc((size_t)max * 2, sizeof(*b->iov));
	b->addr = calloc(max, sizeof(*b->addr));
	b->hdr = calloc(max, TXB_HDR_MAX);
	b->arena = malloc(arena);
	if (!b->msgs || !b->iov || !b->addr || !b->hdr || !b->arena) {
		txbatch_free(b);
		return -1;
	}
	return 0;
}

void txbatch_free(struct txbatch *b)
{
	if (b->fd > 0)
		close(b->fd);
	free(b->msgs);
	free(b->iov);
	free(b->addr);
	free(b->hdr);
	free(b->arena);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

int txbatch_reserve(struct txbatch *b, unsigned int msgs, size_t arena)
{
	if (msgs > b->max || arena > b->cap)
		return -1;
	if (b->n + msgs > b->max || b->used + arena > b->cap)
		txbatch_flush(b);
	return 0;
}

uint8_t *txbatch_alloc(struct txbatch *b, size_t len)
{
	uint8_t *p = b->arena + b->used;

	b->used += len;
	return p;
}

void txbatch_add(struct txbatch *b, size_t hdr_len, const void *payload,
		 size_t len, const union txb_addr *to, socklen_t tolen)
{
	struct iovec *iov = &b->iov[(size_t)b->n * 2];
	struct msghdr *m = &b->msgs[b->n].msg_hdr;

	iov[0].iov_base = txbatch_hdr(b);
	iov[0].iov_len = hdr_len;
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	b->addr[b->n] = *to;
	memset(m, 0, sizeof(*m));
	m->msg_name = &b->addr[b->n];
	m->msg_namelen = tolen;
	m->msg_iov = iov;
	m->msg_iovlen = 2;
	b->n++;
}

/*
 * A message the kernel refuses (no route, EMSGSIZE, a full device queue)
 * stops sendmmsg there: count it as lost and go on with the rest, so one
 * bad packet never holds up the batch.
 */
void txbatch_flush(struct txbatch *b)
{
	unsigned int done = 0;

	while (done < b->n) {
		int r =
		    sendmmsg(b->fd, b->msgs + done, b->n - done, MSG_DONTWAIT);

		if (r > 0) {
			done += (unsigned int)r;
			b->sent += (uint64_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		b->errors++;
		log_limited(&b->rl, LOG_LVL_WARNING, "%s: send: %m", b->name);
		done++;
	}
	b->n = 0;
	b->used = 0;
}
