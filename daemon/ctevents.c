/*
 * ctevents.c - the only file that speaks ctnetlink. Offloaded flows
 * (offload = true, see fw.c) are carried by conntrack's NAT; the daemon
 * still holds an entry for each, and follows it here:
 *   NEW     binds the entry to its conntrack entry (CTA_ID) and takes it
 *           off the timed lists (conn.h: CONN_TL_KERNEL);
 *   UPDATE  carries TCP state changes: active/inactive counts, so the
 *           least-connection schedulers see offloaded flows;
 *   DESTROY removes the entry (only the one bound to that CTA_ID: a
 *           client that reopens its tuple has a new entry by then).
 * Events can be lost (ENOBUFS on a full socket): then, at start (entries
 * restored from a checkpoint) and every RESYNC_S anyway, the kernel's
 * table is dumped and compared with ours: entries it no longer holds go,
 * offloaded flows we have no entry for are adopted.
 * When a server goes with its flows (expire_nodest_conn), their conntrack
 * entries are deleted (IPCTNL_MSG_CT_DELETE), as the per-packet path
 * drops them from its table.
 * Flows are matched by their original tuple (client -> VIP), which is
 * also the key of the daemon's client-side hash.
 */
#include "ctevents.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "conn.h"
#include "service.h"

#define CT_BUF_SIZE   65536		/* one dump part */
#define EV_BATCH      32		/* events per recvmmsg */
#define EV_MSG_SIZE   2048		/* an event (about 300 bytes) */
#define CT_EV_RCVBUF  (8 * 1024 * 1024) /* events of a burst of new flows */
#define CT_CMD_RCVBUF (1024 * 1024)
#define RESYNC_S      300.0 /* a dump even without lost events */
#define RESYNC_SOON_S 0.2   /* after ENOBUFS: once the burst is read */
#define EVENTS_SYSCTL "/proc/sys/net/netfilter/nf_conntrack_events"

/* One conntrack entry as an event or a dump part describes it. */
struct ct_msg {
	bool destroy, created;
	uint8_t proto;
	uint32_t src, dst, rsrc; /* network order; rsrc: the reply's source */
	uint16_t sport, dport, rsport;
	uint32_t mark, id;
	int state; /* enum tcp_state, or -1: not said */
	bool counters;
	uint64_t packets[2], bytes[2]; /* original, reply direction */
};

int ctevents_tcp_state(uint8_t s)
{
	switch (s) {
	case TCP_CONNTRACK_SYN_SENT:
	case TCP_CONNTRACK_SYN_SENT2:
		return TCP_S_SYN_RECV; /* the client's SYN went through */
	case TCP_CONNTRACK_SYN_RECV:
		return TCP_S_SYNACK;
	case TCP_CONNTRACK_ESTABLISHED:
		return TCP_S_ESTABLISHED;
	case TCP_CONNTRACK_FIN_WAIT:
		return TCP_S_FIN_WAIT;
	case TCP_CONNTRACK_CLOSE_WAIT:
		return TCP_S_CLOSE_WAIT;
	case TCP_CONNTRACK_LAST_ACK:
		return TCP_S_LAST_ACK;
	case TCP_CONNTRACK_TIME_WAIT:
		return TCP_S_TIME_WAIT;
	case TCP_CONNTRACK_CLOSE:
		return TCP_S_CLOSE;
	default:
		return -1;
	}
}

/* ------------------------------------------------------------ parsing */

struct attr_tb {
	const struct nlattr **tb;
	int max;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct attr_tb *t = data;
	int type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

static int nested(const struct nlattr *a, const struct nlattr **tb, int max)
{
	struct attr_tb t = {.tb = tb, .max = max};

	memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
	return a ? mnl_attr_parse_nested(a, attr_cb, &t) : MNL_CB_ERROR;
}

static uint32_t get_be32(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 4 ? mnl_attr_get_u32(a) : 0;
}

static uint16_t get_be16(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 2 ? mnl_attr_get_u16(a) : 0;
}

static uint64_t get_be64(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) >= 8
		   ? be64toh(mnl_attr_get_u64(a))
		   : 0;
}

/* An IPv4 TCP or UDP tuple; addresses and ports stay in network order. */
static int parse_tuple(const struct nlattr *a, uint8_t *proto, uint32_t *src,
		       uint32_t *dst, uint16_t *sport, uint16_t *dport)
{
	const struct nlattr *tb[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1],
	    *pr[CTA_PROTO_MAX + 1];

	if (nested(a, tb, CTA_TUPLE_MAX) < 0 ||
	    nested(tb[CTA_TUPLE_IP], ip, CTA_IP_MAX) < 0 ||
	    nested(tb[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX) < 0 ||
	    !ip[CTA_IP_V4_SRC] || !ip[CTA_IP_V4_DST] || !pr[CTA_PROTO_NUM])
		return -1;
	*proto = mnl_attr_get_u8(pr[CTA_PROTO_NUM]);
	*src = get_be32(ip[CTA_IP_V4_SRC]);
	*dst = get_be32(ip[CTA_IP_V4_DST]);
	*sport = get_be16(pr[CTA_PROTO_SRC_PORT]);
	*dport = get_be16(pr[CTA_PROTO_DST_PORT]);
	return *proto == IPPROTO_TCP || *proto == IPPROTO_UDP ? 0 : -1;
}

static int parse_state(const struct nlattr *a)
{
	const struct nlattr *pi[CTA_PROTOINFO_MAX + 1],
	    *tcp[CTA_PROTOINFO_TCP_MAX + 1];

	if (!a || nested(a, pi, CTA_PROTOINFO_MAX) < 0 ||
	    nested(pi[CTA_PROTOINFO_TCP], tcp, CTA_PROTOINFO_TCP_MAX) < 0 ||
	    !tcp[CTA_PROTOINFO_TCP_STATE])
		return -1;
	return ctevents_tcp_state(
	    mnl_attr_get_u8(tcp[CTA_PROTOINFO_TCP_STATE]));
}

static void parse_counters(const struct nlattr *a, uint64_t *packets,
			   uint64_t *bytes)
{
	const struct nlattr *c[CTA_COUNTERS_MAX + 1];

	if (nested(a, c, CTA_COUNTERS_MAX) < 0)
		return;
	*packets = get_be64(c[CTA_COUNTERS_PACKETS]);
	*bytes = get_be64(c[CTA_COUNTERS_BYTES]);
}

/* Returns 0, or -1 for what is not an IPv4 TCP/UDP conntrack entry. */
static int parse_ct(const struct nlmsghdr *nlh, struct ct_msg *m)
{
	const struct nlattr *tb[CTA_MAX + 1] = {0};
	struct attr_tb t = {.tb = tb, .max = CTA_MAX};
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	uint8_t rproto;
	uint32_t rdst;
	uint16_t rdport;

	memset(m, 0, sizeof(*m));
	if (nfg->nfgen_family != AF_INET ||
	    mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, &t) < 0)
		return -1;
	if (parse_tuple(tb[CTA_TUPLE_ORIG], &m->proto, &m->src, &m->dst,
			&m->sport, &m->dport) < 0 ||
	    parse_tuple(tb[CTA_TUPLE_REPLY], &rproto, &m->rsrc, &rdst,
			&m->rsport, &rdport) < 0)
		return -1;
	m->destroy = (nlh->nlmsg_type & 0xff) == IPCTNL_MSG_CT_DELETE;
	m->created = !m->destroy && (nlh->nlmsg_flags & NLM_F_CREATE);
	m->mark = ntohl(get_be32(tb[CTA_MARK]));
	m->id = ntohl(get_be32(tb[CTA_ID]));
	m->state =
	    m->proto == IPPROTO_TCP ? parse_state(tb[CTA_PROTOINFO]) : -1;
	if (tb[CTA_COUNTERS_ORIG] && tb[CTA_COUNTERS_REPLY]) {
		m->counters = true;
		parse_counters(tb[CTA_COUNTERS_ORIG], &m->packets[0],
			       &m->bytes[0]);
		parse_counters(tb[CTA_COUNTERS_REPLY], &m->packets[1],
			       &m->bytes[1]);
	}
	return 0;
}

/* ---------------------------------------------------------- the table */

/*
 * An offloaded flow we hold no entry for (lost to the flood defence, a
 * full table, or a stop without checkpoint): its service by the VIP,
 * its server by the reply's source. Firewall-mark services have no VIP
 * to find them by: their flows are only followed from a checkpoint.
 */
static struct conn *adopt(struct ctevents *ce, const struct ct_msg *m)
{
	struct service *svc =
	    service_find(ce->svcs, m->proto, m->dst, m->dport);
	struct server *dest =
	    svc ? service_dest_find(svc, m->rsrc, m->rsport) : NULL;
	struct conn *c;

	if (!dest)
		return NULL;
	c = conn_new(ce->ct, m->proto, m->src, m->sport, m->dst, m->dport, dest,
		     FWD_NAT, 0);
	if (!c)
		return NULL;
	c->flags |= CONN_F_OFFLOAD;
	ce->stats.adopted++;
	return c;
}

/* The traffic of an ended flow (with net.netfilter.nf_conntrack_acct). */
static void count_ended(struct server *dest, const struct ct_msg *m)
{
	struct traffic_stats *st[2] = {&dest->stats, &dest->svc->stats};

	if (!m->counters)
		return;
	for (int i = 0; i < 2; i++) {
		st[i]->in_packets += m->packets[0];
		st[i]->in_bytes += m->bytes[0];
		st[i]->out_packets += m->packets[1];
		st[i]->out_bytes += m->bytes[1];
	}
}

/* One conntrack entry from an event (dump false) or a dump. */
static void on_ct(struct ctevents *ce, const struct ct_msg *m, bool dump)
{
	struct conn *c;

	if (!(m->mark & ce->mask))
		return; /* not an offloaded flow */
	c = conn_in_get(ce->ct, m->proto, m->src, m->sport, m->dst, m->dport);
	if (m->destroy) {
		if (c && (c->flags & CONN_F_KERNEL) && c->ct_id == m->id) {
			count_ended(c->dest, m);
			conn_del(ce->ct, c);
			ce->stats.ended++;
		}
		return;
	}
	/* An update binds nothing: it may be about the conntrack entry of
	 * an earlier flow on this tuple (the client reopened it). */
	if (!dump && !m->created &&
	    (!c || !(c->flags & CONN_F_KERNEL) || c->ct_id != m->id))
		return;
	if (!c)
		c = adopt(ce, m);
	if (!c || !(c->flags & CONN_F_OFFLOAD))
		return;
	conn_kernel_bind(ce->ct, c, m->id, m->state);
	if (dump)
		c->flags |= CONN_F_SEEN;
}

void ctevents_on_msg(struct ctevents *ce, const struct nlmsghdr *nlh, bool dump)
{
	struct ct_msg m;

	if (!dump)
		ce->stats.events++;
	if (parse_ct(nlh, &m) == 0)
		on_ct(ce, &m, dump);
}

static int on_event_msg(const struct nlmsghdr *nlh, void *data)
{
	ctevents_on_msg(data, nlh, false);
	return MNL_CB_OK;
}

static int on_dump_msg(const struct nlmsghdr *nlh, void *data)
{
	ctevents_on_msg(data, nlh, true);
	return MNL_CB_OK;
}

/* ------------------------------------------------------------ netlink */

static struct nlmsghdr *put_ct_msg(char *buf, uint16_t type, uint16_t flags,
				   uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* Sends nlh on the command socket and reads the answer to its end;
 * cb sees every message of a dump. Returns 0, or -1 with errno. */
static int cmd_run(struct ctevents *ce, struct nlmsghdr *nlh, mnl_cb_t cb)
{
	uint32_t seq = nlh->nlmsg_seq;
	int rc;

	if (mnl_socket_sendto(ce->cmd, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		ssize_t n = mnl_socket_recvfrom(ce->cmd, ce->buf, CT_BUF_SIZE);

		if (n < 0)
			return -1;
		rc =
		    mnl_cb_run(ce->buf, (size_t)n, seq, ce->cmd_portid, cb, ce);
	} while (rc > 0);
	return rc < 0 ? -1 : 0;
}

void ctevents_resync_begin(struct ctevents *ce)
{
	struct conn_tlist *l = &ce->ct->tl[CONN_TL_KERNEL];

	for (struct conn *c = l->head; c; c = c->tl_next)
		c->flags &= (uint8_t)~CONN_F_SEEN;
	ce->resync_before = ce->ct->kernel_count;
}

unsigned int ctevents_resync_end(struct ctevents *ce)
{
	struct conn_tlist *l = &ce->ct->tl[CONN_TL_KERNEL];
	unsigned int lost = 0;

	for (struct conn *c = l->head; c;) {
		struct conn *next = c->tl_next;

		if (!(c->flags & CONN_F_SEEN)) {
			conn_del(ce->ct, c);
			lost++;
		}
		c = next;
	}
	ce->stats.resyncs++;
	ce->stats.lost += lost;
	if (lost || ce->ct->kernel_count != ce->resync_before)
		log_info("conntrack: resync: %u offloaded flows in the kernel, "
			 "%u entries whose flow ended removed",
			 ce->ct->kernel_count, lost);
	return lost;
}

int ctevents_resync(struct ctevents *ce)
{
	struct nlmsghdr *nlh;

	ctevents_resync_begin(ce);
	nlh = put_ct_msg(ce->buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, ++ce->seq);
	if (cmd_run(ce, nlh, on_dump_msg) < 0) {
		ce->stats.errors++;
		log_err("conntrack: dumping the table: %m");
		return -1;
	}
	ctevents_resync_end(ce);
	return 0;
}

/*
 * conn_table's kernel_del hook: c goes with its server, so does its
 * conntrack entry (the CTA_ID too when bound: only that one). ENOENT:
 * it had ended already.
 */
static void kernel_del(void *arg, const struct conn *c)
{
	struct ctevents *ce = arg;
	struct nlmsghdr *nlh;
	struct nlattr *orig, *nest;

	nlh = put_ct_msg(ce->buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, ++ce->seq);
	orig = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, c->caddr);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, c->vaddr);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, c->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, c->cport);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, c->vport);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, orig);
	if ((c->flags & CONN_F_KERNEL) && c->ct_id)
		mnl_attr_put_u32(nlh, CTA_ID, htonl(c->ct_id));
	if (cmd_run(ce, nlh, NULL) == 0) {
		ce->stats.deleted++;
	} else if (errno != ENOENT) {
		char a[INET_ADDRSTRLEN];

		ce->stats.errors++;
		log_limited(&ce->rl, LOG_LVL_ERROR,
			    "conntrack: deleting the flow of %s:%u: %m",
			    inet_ntop(AF_INET, &c->caddr, a, sizeof(a)),
			    ntohs(c->cport));
	}
}

/* Events were lost: a dump once this burst is read. */
static void lost_events(struct ctevents *ce, struct ev_loop *loop,
			const char *why)
{
	ce->stats.enobufs++;
	log_limited(&ce->rl, LOG_LVL_WARNING,
		    "conntrack: events lost (%s): the table will be compared "
		    "with the kernel's",
		    why);
	if (ce->want_resync)
		return;
	ce->want_resync = true;
	ev_timer_stop(loop, &ce->resync);
	ev_timer_set(&ce->resync, RESYNC_SOON_S, RESYNC_S);
	ev_timer_start(loop, &ce->resync);
}

/* Up to EV_BATCH events per system call: a new connection brings about
 * six (NEW, its state changes, DESTROY). */
static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctevents *ce = w->data;
	int fd = mnl_socket_get_fd(ce->ev);

	for (int round = 0; round < 64; round++) {
		int n = recvmmsg(fd, ce->msgs, EV_BATCH, MSG_DONTWAIT, NULL);

		if (n < 0 && errno == ENOBUFS) {
			lost_events(ce, loop, "ENOBUFS");
			continue;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_limited(&ce->rl, LOG_LVL_ERROR,
					    "conntrack: reading events: %m");
			return;
		}
		for (int i = 0; i < n; i++) {
			if (ce->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				lost_events(ce, loop, "truncated");
				continue;
			}
			mnl_cb_run(ce->iov[i].iov_base, ce->msgs[i].msg_len, 0,
				   0, on_event_msg, ce);
		}
		if (n < EV_BATCH)
			return;
	}
}

static void on_resync(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctevents *ce = w->data;

	ce->want_resync = false;
	ctevents_resync(ce);
	ev_timer_stop(loop, w);
	ev_timer_set(w, RESYNC_S, RESYNC_S);
	ev_timer_start(loop, w);
}

static struct mnl_socket *ct_socket(int rcvbuf, const char *what)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int fd;

	if (!nl) {
		log_err("conntrack: %s socket: %m", what);
		return NULL;
	}
	fd = mnl_socket_get_fd(nl);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		log_err("conntrack: %s socket: bind: %m", what);
		mnl_socket_close(nl);
		return NULL;
	}
	/* FORCE needs CAP_NET_ADMIN (we have it), else the rmem_max cap */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		log_warn("conntrack: %s socket: receive buffer: %m", what);
	return nl;
}

/* Joins the event groups; the socket reads without blocking. */
static int subscribe(struct mnl_socket *nl)
{
	static const int groups[] = {NFNLGRP_CONNTRACK_NEW,
				     NFNLGRP_CONNTRACK_UPDATE,
				     NFNLGRP_CONNTRACK_DESTROY};
	int fd = mnl_socket_get_fd(nl), one = 1;

	for (unsigned int i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP,
					  (void *)&groups[i],
					  sizeof(groups[i])) < 0)
			return -1;
	/* a DESTROY that does not fit is delivered again later */
	if (mnl_socket_setsockopt(nl, NETLINK_BROADCAST_ERROR, &one,
				  sizeof(one)) < 0)
		log_warn("conntrack: NETLINK_BROADCAST_ERROR: %m");
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Without events only the periodic dump sees flows end: say so. */
static void check_events_sysctl(void)
{
	FILE *f = fopen(EVENTS_SYSCTL, "r");
	int v = -1;

	if (!f)
		return;
	if (fscanf(f, "%d", &v) == 1 && v == 0)
		log_warn("conntrack: net.netfilter.nf_conntrack_events is 0: "
			 "the ends of offloaded flows are only seen by the "
			 "table dump every %.0f s",
			 RESYNC_S);
	fclose(f);
}

bool ctevents_is_open(const struct ctevents *ce)
{
	return ce->ev != NULL;
}

int ctevents_open(struct ctevents *ce, struct ev_loop *loop,
		  struct conn_table *ct, const struct service_set *svcs,
		  uint32_t mask)
{
	memset(ce, 0, sizeof(*ce));
	ce->loop = loop;
	ce->ct = ct;
	ce->svcs = svcs;
	ce->mask = mask;
	ce->seq = (uint32_t)time(NULL);
	ce->buf = malloc(CT_BUF_SIZE);
	ce->evbuf = malloc(EV_BATCH * EV_MSG_SIZE);
	ce->msgs = calloc(EV_BATCH, sizeof(*ce->msgs));
	ce->iov = calloc(EV_BATCH, sizeof(*ce->iov));
	if (!ce->buf || !ce->evbuf || !ce->msgs || !ce->iov) {
		ctevents_close(ce);
		log_err("conntrack: out of memory");
		return -1;
	}
	for (int i = 0; i < EV_BATCH; i++) {
		ce->iov[i].iov_base = ce->evbuf + (size_t)i * EV_MSG_SIZE;
		ce->iov[i].iov_len = EV_MSG_SIZE;
		ce->msgs[i].msg_hdr.msg_iov = &ce->iov[i];
		ce->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* events first: nothing that ends during the dump goes unseen */
	ce->ev = ct_socket(CT_EV_RCVBUF, "event");
	if (!ce->ev || subscribe(ce->ev) < 0) {
		log_err("conntrack: subscribing to events: %m");
		ctevents_close(ce);
		return -1;
	}
	ce->cmd = ct_socket(CT_CMD_RCVBUF, "command");
	if (!ce->cmd) {
		ctevents_close(ce);
		return -1;
	}
	ce->cmd_portid = mnl_socket_get_portid(ce->cmd);
	check_events_sysctl();
	ct->kernel_del = kernel_del;
	ct->kernel_del_arg = ce;
	ctevents_resync(ce);
	ev_io_init(&ce->io, on_readable, mnl_socket_get_fd(ce->ev), EV_READ);
	ce->io.data = ce;
	ev_io_start(loop, &ce->io);
	ev_timer_init(&ce->resync, on_resync, RESYNC_S, RESYNC_S);
	ce->resync.data = ce;
	ev_timer_start(loop, &ce->resync);
	log_info("conntrack: following offloaded flows (%u in the kernel)",
		 ct->kernel_count);
	return 0;
}

void ctevents_close(struct ctevents *ce)
{
	if (ce->loop) {
		ev_io_stop(ce->loop, &ce->io);
		ev_timer_stop(ce->loop, &ce->resync);
	}
	if (ce->ct && ce->ct->kernel_del_arg == ce) {
		ce->ct->kernel_del = NULL;
		ce->ct->kernel_del_arg = NULL;
	}
	if (ce->ev)
		mnl_socket_close(ce->ev);
	if (ce->cmd)
		mnl_socket_close(ce->cmd);
	free(ce->buf);
	free(ce->evbuf);
	free(ce->msgs);
	free(ce->iov);
	memset(ce, 0, sizeof(*ce));
}
