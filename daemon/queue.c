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
#include "workers.h"

#define RX_BATCH     64			 /* packets per recvmmsg */
#define RX_BUF	     (0xffff + 4096)	 /* one packet + netlink overhead */
#define RX_ROUNDS    8			 /* batches per wakeup, then yield */
#define TX_LIMIT     (512 * 1024)	 /* verdict bytes per sendmsg */
#define TX_BUF	     (TX_LIMIT + RX_BUF) /* send buffer: room past it */
#define QUEUE_MAXLEN 8192		 /* packets the kernel may hold */
#define SOCK_RCVBUF  (16 * 1024 * 1024)

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t queue_clock_ms(void)
{
	return clock_ns() / 1000000;
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
	q->pending = calloc(RX_BATCH, sizeof(*q->pending));
	q->vb = malloc(sizeof(*q->vb));
	if (!q->rx || !q->msgs || !q->iov || !q->pending || !q->vb)
		return -1;
	q->stats.since_ms = queue_clock_ms();
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
		close(fd);
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
		queue_stat_add(&q->stats.send_errors, 1);
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

/*
 * Keeps a verdict for after the core lock; a batch never holds more
 * packets than messages, but should a message carry several, the extra
 * verdicts are built at once (under the lock, still correct).
 */
static void queue_pend(struct queue *q, uint32_t id, enum verdict v,
		       const void *data, uint32_t len, const uint32_t *mark)
{
	struct queue_verdict *pv;

	if (q->n_pending == RX_BATCH) {
		queue_verdict(q, id, v, data, len, mark);
		return;
	}
	pv = &q->pending[q->n_pending++];
	pv->id = id;
	pv->verdict = (uint8_t)v;
	pv->data = data;
	pv->len = len;
	pv->has_mark = mark != NULL;
	pv->mark = mark ? *mark : 0;
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
	q->n_received++;
	if (!attr[NFQA_PAYLOAD]) {
		queue_pend(q, id, VERDICT_ACCEPT, NULL, 0, NULL);
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
		mark |= q->mark | q->core->verdict_mark;
		queue_pend(q, id, v, cp.data, cp.len, &mark);
	} else {
		queue_pend(q, id, v, cp.data, cp.len, NULL);
	}
	return MNL_CB_OK;
}

/*
 * The core's part of a batch of n messages, under the core lock when
 * there are several queues: parse, look up, schedule, rewrite, and send
 * what the forwarding methods batched (those frames point into our
 * receive buffers, and their batch is shared). The verdicts are only
 * noted: they are sent after the lock is released.
 */
static void queue_core_batch(struct queue *q, int n)
{
	uint64_t t0 = clock_ns(), t1 = t0, t2;

	if (q->lock) {
		pthread_mutex_lock(&q->lock->mu);
		t1 = clock_ns();
	}
	q->now_ms = t1 / 1000000;
	q->n_pending = q->n_received = 0;
	for (int i = 0; i < n; i++) {
		char *buf = q->iov[i].iov_base;

		if (mnl_cb_run(buf, q->msgs[i].msg_len, 0, q->portid,
			       queue_on_packet, q) < 0) {
			/* an NLMSG_ERROR: the kernel refused a verdict we
			 * sent earlier */
			queue_stat_add(&q->stats.verdict_errors, 1);
			log_limited(&q->rl_verdict, LOG_LVL_ERROR,
				    "queue %u: verdict refused: %m",
				    q->queue_num);
		}
	}
	core_flush(q->core);
	t2 = clock_ns();
	if (q->lock)
		pthread_mutex_unlock(&q->lock->mu);
	queue_stat_add(&q->stats.received, q->n_received);
	queue_stat_add(&q->stats.batches, 1);
	queue_stat_add(&q->stats.lock_wait_ns, t1 - t0);
	queue_stat_add(&q->stats.lock_hold_ns, t2 - t1);
}

/* The verdicts of the batch, in as few sendmsg() calls as they fit. */
static void queue_send_verdicts(struct queue *q)
{
	for (unsigned int i = 0; i < q->n_pending; i++) {
		const struct queue_verdict *pv = &q->pending[i];

		queue_verdict(q, pv->id, (enum verdict)pv->verdict, pv->data,
			      pv->len, pv->has_mark ? &pv->mark : NULL);
	}
	q->n_pending = 0;
	queue_flush(q);
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
				queue_stat_add(&q->stats.enobufs, 1);
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
		queue_core_batch(q, n);
		queue_send_verdicts(q);
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
	free(q->pending);
	free(q->vb);
	memset(q, 0, sizeof(*q));
}
