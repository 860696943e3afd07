/*
 * queue.c - the NFQUEUE netlink side, after libnetfilter_queue's
 * examples/nf-queue.c: bind a queue through the libmnl API, read many
 * queued packets per system call (recvmmsg), hand each to the core, and
 * send all verdicts of a batch with one sendmsg (vbatch.h: a rewritten
 * packet goes back from the receive buffer, without a copy in between).
 *
 * Decisions: NFQA_CFG_F_GSO so TCP arrives as super-packets (without it
 * the kernel segments before queueing, ~10x slower); no FAIL_OPEN, so a
 * full queue drops rather than letting VIP packets reach the director's
 * own stack, which would reset them; ENOBUFS (the kernel dropped queue
 * messages because we were slow) is counted, not hidden.
 */
#include "queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "vbatch.h"

#define RX_BATCH     64			 /* packets per recvmmsg */
#define RX_BUF	     (0xffff + 4096)	 /* one packet + netlink overhead */
#define RX_ROUNDS    8			 /* batches per wakeup, then yield */
#define TX_LIMIT     (512 * 1024)	 /* verdict bytes per sendmsg */
#define TX_BUF	     (TX_LIMIT + RX_BUF) /* send buffer: room past it */
#define QUEUE_MAXLEN 8192		 /* packets the kernel may hold */
#define SOCK_RCVBUF  (16 * 1024 * 1024)

uint64_t queue_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sends one configuration message and waits for the kernel's answer. */
static int queue_config(struct queue *q, struct nlmsghdr *nlh, const char *what)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0) {
		log_err("queue %u: %s: %m", q->queue_num, what);
		return -1;
	}
	n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (n < 0 ||
	    mnl_cb_run(buf, (size_t)n, seq, q->portid, NULL, NULL) < 0) {
		log_err("queue %u: %s: %m%s", q->queue_num, what,
			errno == EBUSY ? " (another process has bound it)"
				       : "");
		return -1;
	}
	return 0;
}

static int queue_bind(struct queue *q)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	/* libmnl (1.0.4) leaves attribute padding unwritten */
	memset(buf, 0, sizeof(buf));
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue_num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (queue_config(q, nlh, "bind") < 0)
		return -1;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue_num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, QUEUE_MAXLEN);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	return queue_config(q, nlh, "set copy mode and GSO");
}

/*
 * The kernel refuses a netlink message larger than the socket's send
 * buffer (EMSGSIZE), which would lose a whole batch of verdicts: raise
 * the buffer, then size the batch to what we really got.
 */
static size_t queue_tx_limit(struct queue *q)
{
	int fd = mnl_socket_get_fd(q->nl), size = TX_BUF;
	socklen_t len = sizeof(size);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0)
		return 2 * RX_BUF;
	size -= 64; /* the kernel keeps a little for itself */
	if (size < 2 * RX_BUF)
		size = 2 * RX_BUF;
	return (size_t)size < TX_LIMIT ? (size_t)size : TX_LIMIT;
}

static int queue_buffers(struct queue *q)
{
	q->rx = malloc((size_t)RX_BATCH * RX_BUF);
	q->msgs = calloc(RX_BATCH, sizeof(*q->msgs));
	q->iov = calloc(RX_BATCH, sizeof(*q->iov));
	q->vb = malloc(sizeof(*q->vb));
	if (!q->rx || !q->msgs || !q->iov || !q->vb)
		return -1;
	for (int i = 0; i < RX_BATCH; i++) {
		q->iov[i].iov_base = q->rx + (size_t)i * RX_BUF;
		q->iov[i].iov_len = RX_BUF;
		q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	vbatch_init(q->vb, q->queue_num, queue_tx_limit(q));
	return 0;
}

int queue_open(struct queue *q, uint16_t queue_num, struct core *core,
	       uint32_t mark)
{
	int fd, size = SOCK_RCVBUF;

	memset(q, 0, sizeof(*q));
	q->queue_num = queue_num;
	q->core = core;
	q->mark = mark;
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!q->nl) {
		log_err("queue %u: netlink socket: %m", queue_num);
		return -1;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_err("queue %u: netlink bind: %m", queue_num);
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	fd = mnl_socket_get_fd(q->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) <
		0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		log_warn("queue %u: receive buffer of %d bytes: %m", queue_num,
			 size);
	if (queue_bind(q) < 0)
		goto fail;
	if (queue_buffers(q) < 0) {
		log_err("queue %u: out of memory for packet buffers",
			queue_num);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		log_err("queue %u: non-blocking mode: %m", queue_num);
		goto fail;
	}
	log_info("queue %u: bound (GSO, %d packets per read)", queue_num,
		 RX_BATCH);
	return 0;
fail:
	queue_close(q);
	return -1;
}

int queue_adopt(struct queue *q, int fd, uint16_t queue_num, struct core *core,
		uint32_t mark)
{
	memset(q, 0, sizeof(*q));
	q->queue_num = queue_num;
	q->core = core;
	q->mark = mark;
	/* the next exec must not inherit it unless asked again */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		log_err("queue %u: handed-over socket %d: %m", queue_num, fd);
		return -1;
	}
	q->nl = mnl_socket_fdopen(fd);
	if (!q->nl) {
		log_err("queue %u: handed-over socket %d: %m", queue_num, fd);
		close(fd);
		return -1;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	if (queue_buffers(q) < 0) {
		log_err("queue %u: out of memory for packet buffers",
			queue_num);
		queue_close(q);
		return -1;
	}
	log_info("queue %u: taken over from the previous image", queue_num);
	return 0;
}

int queue_fd(const struct queue *q)
{
	return q->nl ? mnl_socket_get_fd(q->nl) : -1;
}

static void queue_flush(struct queue *q)
{
	if (vbatch_send(q->vb, mnl_socket_get_fd(q->nl)) < 0) {
		q->stats.send_errors++;
		log_limited(&q->rl_verdict, LOG_LVL_ERROR,
			    "queue %u: sending verdicts: %m", q->queue_num);
	}
}

static void queue_verdict(struct queue *q, uint32_t id, enum verdict v,
			  const void *data, uint32_t len, const uint32_t *mark)
{
	bool mangled = v == VERDICT_MANGLED;

	if (!vbatch_room(q->vb, mangled ? len : 0))
		queue_flush(q);
	vbatch_add(q->vb, id, v == VERDICT_DROP ? NF_DROP : NF_ACCEPT,
		   mangled ? data : NULL, len, mark);
}

/* One queued packet: exactly one verdict on every path. */
static int queue_on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct queue *q = data;
	struct nlattr *attr[NFQA_MAX + 1] = {0};
	const struct nfqnl_msg_packet_hdr *ph;
	struct core_pkt cp = {0};
	uint32_t id, skbinfo, mark;
	enum verdict v;
	bool balanced;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK; /* nothing to give a verdict to */
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	q->stats.received++;
	if (!attr[NFQA_PAYLOAD]) {
		queue_verdict(q, id, VERDICT_ACCEPT, NULL, 0, NULL);
		return MNL_CB_OK;
	}
	skbinfo = attr[NFQA_SKB_INFO]
		      ? ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]))
		      : 0;
	cp.data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	cp.len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	cp.dir = ph->hook == NF_INET_POST_ROUTING ? CORE_OUT : CORE_IN;
	cp.csum_not_ready = skbinfo & NFQA_SKB_CSUMNOTREADY;
	cp.gso = skbinfo & NFQA_SKB_GSO;
	/* the operator's mark selects firewall-mark services */
	mark = attr[NFQA_MARK] ? ntohl(mnl_attr_get_u32(attr[NFQA_MARK])) : 0;
	cp.mark = mark;
	v = core_packet(q->core, &cp, q->now_ms, &balanced);
	if (balanced && v != VERDICT_DROP) {
		/* keep the packet's other mark bits */
		mark |= q->mark;
		queue_verdict(q, id, v, cp.data, cp.len, &mark);
	} else {
		queue_verdict(q, id, v, cp.data, cp.len, NULL);
	}
	return MNL_CB_OK;
}

static void queue_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct queue *q = w->data;
	int fd = mnl_socket_get_fd(q->nl);

	for (int round = 0; round < RX_ROUNDS; round++) {
		int n = recvmmsg(fd, q->msgs, RX_BATCH, MSG_DONTWAIT, NULL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == ENOBUFS) {
				q->stats.enobufs++;
				log_limited(&q->rl_recv, LOG_LVL_WARNING,
					    "queue %u: the kernel dropped "
					    "queued packets (ENOBUFS)",
					    q->queue_num);
				continue;
			}
			log_limited(&q->rl_recv, LOG_LVL_ERROR,
				    "queue %u: receive: %m", q->queue_num);
			break;
		}
		q->now_ms = queue_clock_ms();
		for (int i = 0; i < n; i++) {
			char *buf = q->iov[i].iov_base;

			if (mnl_cb_run(buf, q->msgs[i].msg_len, 0, q->portid,
				       queue_on_packet, q) < 0) {
				/* an NLMSG_ERROR: the kernel refused a
				 * verdict we sent earlier */
				q->stats.verdict_errors++;
				log_limited(&q->rl_verdict, LOG_LVL_ERROR,
					    "queue %u: verdict refused: %m",
					    q->queue_num);
			}
		}
		/* frames the core sent point into our receive buffers */
		core_flush(q->core);
		queue_flush(q);
		if (n < RX_BATCH)
			break;
	}
}

void queue_start(struct queue *q, struct ev_loop *loop)
{
	ev_io_init(&q->io, queue_on_readable, mnl_socket_get_fd(q->nl),
		   EV_READ);
	q->io.data = q;
	ev_io_start(loop, &q->io);
}

void queue_stop(struct queue *q, struct ev_loop *loop)
{
	if (q->nl)
		ev_io_stop(loop, &q->io);
}

void queue_close(struct queue *q)
{
	if (q->nl) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh;

		/* Unbind explicitly; closing the socket would do too. */
		nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue_num);
		nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
		mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
		mnl_socket_close(q->nl);
	}
	free(q->rx);
	free(q->msgs);
	free(q->iov);
	free(q->vb);
	memset(q, 0, sizeof(*q));
}
