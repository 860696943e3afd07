/* vbatch.c - see vbatch.h. The message is what libnetfilter_queue's
 * nfq_nlmsg_put, nfq_nlmsg_verdict_put and _put_mark write, built with
 * libmnl alone (so the unit tests need no queue library), followed by an
 * NFQA_PAYLOAD attribute whose header ends the batch's part and whose data
 * is the caller's. */
#include "vbatch.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t zero_pad[MNL_ALIGNTO];

void vbatch_init(struct vbatch *b, uint16_t queue_num, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->queue_num = queue_num;
	b->limit = limit;
}

void vbatch_reset(struct vbatch *b)
{
	b->n = 0;
	b->niov = 0;
	b->bytes = 0;
}

int vbatch_room(const struct vbatch *b, uint32_t len)
{
	if (b->n == 0)
		return 1;
	return b->n < VBATCH_MAX &&
	       b->bytes + VBATCH_HDR + MNL_ALIGN(len) <= b->limit;
}

void vbatch_add(struct vbatch *b, uint32_t id, int verdict, const void *data,
		uint32_t len, const uint32_t *mark)
{
	uint8_t *buf = b->hdr[b->n++];
	struct nlmsghdr *nlh;
	size_t hlen;

	struct nfgenmsg *nfg;
	struct nfqnl_msg_verdict_hdr vh = {htonl((uint32_t)verdict), htonl(id)};

	memset(buf, 0, VBATCH_HDR);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
	nlh->nlmsg_flags = NLM_F_REQUEST; /* else the kernel skips it */
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(b->queue_num);
	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	if (mark)
		mnl_attr_put_u32(nlh, NFQA_MARK, htonl(*mark));
	hlen = nlh->nlmsg_len;
	if (data) {
		struct nlattr *a = (struct nlattr *)(buf + hlen);

		a->nla_type = NFQA_PAYLOAD;
		a->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
		hlen += MNL_ATTR_HDRLEN;
		nlh->nlmsg_len = (uint32_t)(hlen + MNL_ALIGN(len));
	}
	b->iov[b->niov++] = (struct iovec){buf, hlen};
	if (data && len) {
		b->iov[b->niov++] = (struct iovec){(void *)data, len};
		if (MNL_ALIGN(len) != len)
			b->iov[b->niov++] = (struct iovec){
			    (void *)zero_pad, MNL_ALIGN(len) - len};
	}
	b->bytes += nlh->nlmsg_len;
}

int vbatch_send(struct vbatch *b, int fd)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct msghdr msg = {
	    .msg_name = &kernel,
	    .msg_namelen = sizeof(kernel),
	    .msg_iov = b->iov,
	    .msg_iovlen = b->niov,
	};
	ssize_t n = 0;

	if (b->n > 0)
		n = sendmsg(fd, &msg, 0);
	vbatch_reset(b);
	return n < 0 ? -1 : 0;
}
