/*
 * neigh.c - the only file that speaks rtnetlink. VS/DR sends frames
 * itself on a packet socket, so it must know what the kernel's IP output
 * would have found: the route to the real server (on-link or not, which
 * interface, which MTU) and the server's MAC in the neighbour table.
 *
 * The kernel stays in charge of ARP: a missing or failed entry is created
 * and resolved with RTM_NEWNEIGH + NTF_USE (what `ip neigh replace ADDR dev
 * DEV use` does), and a stale one is "used" the same way, which moves it
 * to DELAY/PROBE exactly as if the kernel had sent the packet. Link,
 * address, route and neighbour events keep the table current without a
 * restart; a slow refresh covers what events can miss (ENOBUFS).
 */
#include "neigh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define NEIGH_MIN_SLOTS	 64
#define REFRESH_MS	 10000 /* look routes up again this often anyway */
#define KICK_MS		 1000  /* at most one resolution request a second */
#define TIMER_S		 1.0
#define QUERY_TIMEOUT_MS 1000

static const char *const status_names[] = {
    [NH_OK] = "ok",
    [NH_UNRESOLVED] = "neighbour unresolved",
    [NH_NOT_ONLINK] = "not on-link",
    [NH_NO_ROUTE] = "no route",
};

const char *nh_status_name(enum nh_status s)
{
	return s <= NH_NO_ROUTE ? status_names[s] : "?";
}

enum nh_mac_use neigh_mac_use(uint16_t nud, bool has_mac)
{
	if (!has_mac || (nud & (NUD_INCOMPLETE | NUD_FAILED)) || nud == 0)
		return NH_MAC_WAIT;
	if (nud & NUD_STALE)
		return NH_MAC_USE_CONFIRM;
	return NH_MAC_USE; /* REACHABLE, DELAY, PROBE, PERMANENT, NOARP */
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *ip_str(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* ------------------------------------------------------------- the table */

static uint32_t slot_of(const struct neigh *nt, uint32_t addr)
{
	uint32_t h = addr * 0x9e3779b1u;

	return (h ^ (h >> 16)) & nt->mask;
}

static struct nexthop *find(const struct neigh *nt, uint32_t addr)
{
	if (!nt->tab)
		return NULL;
	for (uint32_t i = slot_of(nt, addr);; i = (i + 1) & nt->mask) {
		if (nt->tab[i].addr == addr)
			return &nt->tab[i];
		if (nt->tab[i].addr == 0)
			return NULL;
	}
}

static int grow(struct neigh *nt)
{
	uint32_t slots = nt->tab ? (nt->mask + 1) * 2 : NEIGH_MIN_SLOTS;
	struct nexthop *old = nt->tab;
	uint32_t old_slots = old ? nt->mask + 1 : 0;

	nt->tab = calloc(slots, sizeof(*nt->tab));
	if (!nt->tab) {
		nt->tab = old;
		return -1;
	}
	nt->mask = slots - 1;
	for (uint32_t i = 0; i < old_slots; i++) {
		uint32_t j;

		if (old[i].addr == 0)
			continue;
		for (j = slot_of(nt, old[i].addr); nt->tab[j].addr;
		     j = (j + 1) & nt->mask)
			;
		nt->tab[j] = old[i];
	}
	free(old);
	return 0;
}

static struct nexthop *insert(struct neigh *nt, uint32_t addr)
{
	uint32_t i;

	if ((nt->n + 1) * 2 > (nt->tab ? nt->mask + 1 : 0) && grow(nt) < 0)
		return NULL;
	for (i = slot_of(nt, addr); nt->tab[i].addr; i = (i + 1) & nt->mask)
		;
	memset(&nt->tab[i], 0, sizeof(nt->tab[i]));
	nt->tab[i].addr = addr;
	nt->n++;
	return &nt->tab[i];
}

static void mark_all_dirty(struct neigh *nt)
{
	for (uint32_t i = 0; nt->tab && i <= nt->mask; i++)
		nt->tab[i].dirty = true;
}

/* ------------------------------------------------------------ queries */

/* Drops answers nobody waits for (errors of resolution requests). */
static void drain(struct neigh *nt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	while (recv(mnl_socket_get_fd(nt->req), buf, sizeof(buf),
		    MSG_DONTWAIT) > 0)
		;
}

/* Sends a request and runs cb over its answer. Returns 0, or -1 with
 * errno (ENOENT for "no such entry"). */
static int query(struct neigh *nt, struct nlmsghdr *nlh, mnl_cb_t cb,
		 void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint64_t deadline = now_ms() + QUERY_TIMEOUT_MS;

	drain(nt);
	nlh->nlmsg_seq = ++nt->seq;
	nt->lookups++;
	if (mnl_socket_sendto(nt->req, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while (now_ms() < deadline) {
		ssize_t n = mnl_socket_recvfrom(nt->req, buf, sizeof(buf));
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1; /* EAGAIN: the receive timeout */
		}
		r = mnl_cb_run(buf, (size_t)n, nt->seq, nt->req_port, cb, data);
		if (r >= 0)
			return 0;
		if (errno != ESRCH) /* ESRCH: an old answer, read on */
			return -1;
	}
	errno = ETIMEDOUT;
	return -1;
}

struct route_ans {
	int oif;
	uint32_t gw, src, mtu;
	uint8_t type;
};

static int metrics_cb(const struct nlattr *a, void *data)
{
	uint32_t *mtu = data;

	if (mnl_attr_get_type(a) == RTAX_MTU &&
	    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*mtu = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_attr_cb(const struct nlattr *a, void *data)
{
	struct route_ans *r = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->gw = mnl_attr_get_u32(a);
		break;
	case RTA_PREFSRC:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->src = mnl_attr_get_u32(a);
		break;
	case RTA_METRICS:
		mnl_attr_parse_nested(a, metrics_cb, &r->mtu);
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_ans *r = data;

	r->type = rtm->rtm_type;
	return mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, r);
}

struct link_ans {
	uint8_t mac[6];
	uint32_t mtu;
	bool has_mac;
};

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct link_ans *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(a) == 6) {
			memcpy(l->mac, mnl_attr_get_payload(a), 6);
			l->has_mac = true;
		}
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			l->mtu = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb,
			      data);
}

struct neigh_ans {
	uint32_t dst;
	int ifindex;
	uint16_t state;
	uint8_t mac[6];
	bool has_mac, has_dst;
};

static int neigh_attr_cb(const struct nlattr *a, void *data)
{
	struct neigh_ans *n = data;

	switch (mnl_attr_get_type(a)) {
	case NDA_DST:
		if (mnl_attr_get_payload_len(a) == 4) {
			memcpy(&n->dst, mnl_attr_get_payload(a), 4);
			n->has_dst = true;
		}
		break;
	case NDA_LLADDR:
		if (mnl_attr_get_payload_len(a) == 6) {
			memcpy(n->mac, mnl_attr_get_payload(a), 6);
			n->has_mac = true;
		}
		break;
	}
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_ans *n = data;

	if (ndm->ndm_family != AF_INET)
		return MNL_CB_OK;
	n->ifindex = ndm->ndm_ifindex;
	n->state = ndm->ndm_state;
	return mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, n);
}

static int get_route(struct neigh *nt, uint32_t addr, struct route_ans *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_DST, addr);
	memset(r, 0, sizeof(*r));
	return query(nt, nlh, route_cb, r);
}

static int get_link(struct neigh *nt, int ifindex, struct link_ans *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	memset(l, 0, sizeof(*l));
	return query(nt, nlh, link_cb, l);
}

static struct nlmsghdr *neigh_msg(char *buf, uint16_t type, int ifindex,
				  uint32_t addr)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, 4, &addr);
	return nlh;
}

static void get_neigh(struct neigh *nt, struct nexthop *h)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct neigh_ans a = {0};

	h->nud = 0;
	h->has_mac = false;
	if (query(nt, neigh_msg(buf, RTM_GETNEIGH, h->ifindex, h->addr),
		  neigh_cb, &a) < 0)
		return; /* ENOENT: no entry yet */
	h->nud = a.state;
	h->has_mac = a.has_mac;
	if (a.has_mac)
		memcpy(h->mac, a.mac, 6);
}

/* Asks the kernel to resolve (or re-confirm) h's neighbour entry. */
static void kick(struct neigh *nt, struct nexthop *h, uint64_t now)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	if (now - h->kicked_ms < KICK_MS && h->kicked_ms)
		return;
	h->kicked_ms = now;
	nlh = neigh_msg(buf, RTM_NEWNEIGH, h->ifindex, h->addr);
	nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	nlh->nlmsg_seq = ++nt->seq;
	ndm = mnl_nlmsg_get_payload(nlh);
	ndm->ndm_flags = NTF_USE;
	ndm->ndm_state = NUD_NONE;
	nt->kicks++;
	if (mnl_socket_sendto(nt->req, nlh, nlh->nlmsg_len) < 0) {
		char a[INET_ADDRSTRLEN];

		log_limited(&nt->rl, LOG_LVL_WARNING,
			    "server %s: asking the kernel to resolve its "
			    "MAC: %m",
			    ip_str(h->addr, a));
	}
}

static void log_change(const struct nexthop *old, const struct nexthop *h)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], dev[IF_NAMESIZE] = "?";

	/* a MAC being resolved is not news: routes and interfaces are */
	if ((old->status == h->status ||
	     (old->status <= NH_UNRESOLVED && h->status <= NH_UNRESOLVED)) &&
	    old->ifindex == h->ifindex && old->gateway == h->gateway)
		return;
	if (h->ifindex && !if_indextoname((unsigned int)h->ifindex, dev))
		strcpy(dev, "?");
	ip_str(h->addr, a);
	switch (h->status) {
	case NH_NOT_ONLINK:
		log_err("server %s: not on-link (route via %s dev %s): "
			"forward = \"dr\" needs the real server on a directly "
			"connected network",
			a, ip_str(h->gateway, g), dev);
		break;
	case NH_NO_ROUTE:
		log_err("server %s: no route to it", a);
		break;
	default:
		log_info("server %s: reached on %s (mtu %u)", a, dev, h->mtu);
		break;
	}
}

/* Looks h's route, interface and (for VS/DR) neighbour entry up again. */
static void refresh(struct neigh *nt, struct nexthop *h, uint64_t now)
{
	struct nexthop old = *h;
	struct route_ans r;
	struct link_ans l;

	h->dirty = false;
	h->routed_ms = now;
	h->ifindex = 0;
	h->status = NH_NO_ROUTE;
	if (get_route(nt, h->addr, &r) < 0 || r.type != RTN_UNICAST ||
	    r.oif == 0 || get_link(nt, r.oif, &l) < 0)
		goto out;
	h->ifindex = r.oif;
	h->gateway = r.gw;
	h->src = r.src;
	h->mtu = r.mtu ? r.mtu : l.mtu;
	memcpy(h->ifmac, l.mac, 6);
	if (!h->need_mac) {
		h->status = NH_OK;
		goto out;
	}
	if (r.gw || !l.has_mac) {
		h->status = NH_NOT_ONLINK;
		goto out;
	}
	get_neigh(nt, h);
	h->status = neigh_mac_use(h->nud, h->has_mac) == NH_MAC_WAIT
			? NH_UNRESOLVED
			: NH_OK;
	if (h->status == NH_UNRESOLVED)
		kick(nt, h, now);
out:
	log_change(&old, h);
}

struct nexthop *neigh_track(struct neigh *nt, uint32_t addr, bool need_mac,
			    uint64_t now)
{
	struct nexthop *h = find(nt, addr);

	if (!h && !(h = insert(nt, addr)))
		return NULL;
	h->need_mac |= need_mac;
	refresh(nt, h, now);
	return h;
}

enum nh_status neigh_resolve(struct neigh *nt, uint32_t addr, bool need_mac,
			     uint64_t now, struct nexthop **out)
{
	struct nexthop *h = find(nt, addr);

	if (!h || (need_mac && !h->need_mac)) {
		h = neigh_track(nt, addr, need_mac, now);
		if (!h)
			return NH_NO_ROUTE;
	} else if (h->dirty) {
		refresh(nt, h, now);
	}
	*out = h;
	if (!need_mac) /* VS/TUN: the kernel routes, any route will do */
		return h->ifindex ? NH_OK : NH_NO_ROUTE;
	if (h->status == NH_NO_ROUTE || h->status == NH_NOT_ONLINK)
		return h->status;
	switch (neigh_mac_use(h->nud, h->has_mac)) {
	case NH_MAC_USE:
		return NH_OK;
	case NH_MAC_USE_CONFIRM:
		kick(nt, h, now);
		return NH_OK;
	default:
		kick(nt, h, now);
		return NH_UNRESOLVED;
	}
}

/* ------------------------------------------------------------- events */

static void on_neigh_event(struct neigh *nt, const struct nlmsghdr *nlh)
{
	struct neigh_ans a = {0};
	struct nexthop *h;

	if (neigh_cb(nlh, &a) < 0 || !a.has_dst || !(h = find(nt, a.dst)) ||
	    a.ifindex != h->ifindex)
		return;
	if (nlh->nlmsg_type == RTM_DELNEIGH) {
		h->nud = 0;
		h->has_mac = false;
	} else {
		char s[INET_ADDRSTRLEN];

		if (a.has_mac && h->has_mac && memcmp(a.mac, h->mac, 6) != 0)
			log_info("server %s: MAC changed to "
				 "%02x:%02x:%02x:%02x:%02x:%02x",
				 ip_str(h->addr, s), a.mac[0], a.mac[1],
				 a.mac[2], a.mac[3], a.mac[4], a.mac[5]);
		h->nud = a.state;
		if (a.has_mac)
			memcpy(h->mac, a.mac, 6);
		h->has_mac = a.has_mac || (h->has_mac && a.state != NUD_FAILED);
	}
	if (h->need_mac && h->status != NH_NO_ROUTE &&
	    h->status != NH_NOT_ONLINK)
		h->status = neigh_mac_use(h->nud, h->has_mac) == NH_MAC_WAIT
				? NH_UNRESOLVED
				: NH_OK;
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh *nt = data;

	nt->events++;
	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		on_neigh_event(nt, nlh);
		break;
	default: /* links, addresses, routes */
		mark_all_dirty(nt);
		break;
	}
	return MNL_CB_OK;
}

static void on_events(struct ev_loop *loop, ev_io *w, int revents)
{
	struct neigh *nt = w->data;
	char buf[MNL_SOCKET_BUFFER_SIZE];

	(void)loop;
	(void)revents;
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(nt->ev), buf, sizeof(buf),
				 MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) /* events lost: re-read all */
				mark_all_dirty(nt);
			else if (errno != EINTR)
				break;
			continue;
		}
		if (n == 0)
			break;
		mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, nt);
	}
}

/* Refreshes what events may have missed, and keeps asking for MACs that
 * are still unresolved. */
static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct neigh *nt = w->data;
	uint64_t now = now_ms();

	(void)loop;
	(void)revents;
	for (uint32_t i = 0; nt->tab && i <= nt->mask; i++) {
		struct nexthop *h = &nt->tab[i];

		if (h->addr == 0)
			continue;
		if (h->dirty || now - h->routed_ms >= REFRESH_MS)
			refresh(nt, h, now);
		else if (h->status == NH_UNRESOLVED)
			kick(nt, h, now);
	}
}

static struct mnl_socket *rtnl_socket(unsigned int groups)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	struct timeval tv = {.tv_sec = QUERY_TIMEOUT_MS / 1000,
			     .tv_usec = QUERY_TIMEOUT_MS % 1000 * 1000};

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0) {
		mnl_socket_close(s);
		return NULL;
	}
	return s;
}

int neigh_open(struct neigh *nt, struct ev_loop *loop)
{
	memset(nt, 0, sizeof(*nt));
	nt->loop = loop;
	nt->req = rtnl_socket(0);
	nt->ev = rtnl_socket(RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR |
			     RTMGRP_IPV4_ROUTE);
	if (!nt->req || !nt->ev) {
		log_err("rtnetlink socket: %m");
		neigh_close(nt);
		return -1;
	}
	nt->req_port = mnl_socket_get_portid(nt->req);
	if (loop) {
		ev_io_init(&nt->io, on_events, mnl_socket_get_fd(nt->ev),
			   EV_READ);
		nt->io.data = nt;
		ev_io_start(loop, &nt->io);
		ev_timer_init(&nt->timer, on_timer, TIMER_S, TIMER_S);
		nt->timer.data = nt;
		ev_timer_start(loop, &nt->timer);
	}
	return 0;
}

void neigh_close(struct neigh *nt)
{
	if (nt->loop) {
		ev_io_stop(nt->loop, &nt->io);
		ev_timer_stop(nt->loop, &nt->timer);
	}
	if (nt->req)
		mnl_socket_close(nt->req);
	if (nt->ev)
		mnl_socket_close(nt->ev);
	free(nt->tab);
	memset(nt, 0, sizeof(*nt));
}
