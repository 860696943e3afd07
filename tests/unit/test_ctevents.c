/*
 * test_ctevents.c - following offloaded flows: ctnetlink messages built
 * byte for byte with libmnl, as the kernel sends them, applied to a table
 * (no socket): binding by CTA_ID, TCP states, DESTROY, the reopened tuple,
 * adoption, the resync, the traffic counters of an ended flow.
 */
#include "unit.h"

#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "ctevents.h"
#include "service.h"

#define MASK 0x0fff0000u

struct env {
	struct config cfg;
	struct service_conf sc;
	struct server_conf srv[2];
	struct conn_table ct;
	struct service_set set;
	struct ctevents ce;
	char buf[8192];
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	e->srv[0] = (struct server_conf){
	    .addr = ip4("198.51.100.11"), .port = 8080, .weight = 1};
	e->srv[1] = (struct server_conf){
	    .addr = ip4("198.51.100.12"), .port = 8080, .weight = 1};
	snprintf(e->sc.name, sizeof(e->sc.name), "web");
	e->sc.proto = IPPROTO_TCP;
	e->sc.vip = ip4("203.0.113.10");
	e->sc.port = 80;
	snprintf(e->sc.scheduler, sizeof(e->sc.scheduler), "rr");
	e->sc.fwd = FWD_NAT;
	e->sc.offload = true;
	e->sc.servers = e->srv;
	e->sc.n_servers = 2;
	e->cfg.services = &e->sc;
	e->cfg.n_services = 1;
	e->cfg.fw_offload_mask = MASK;
	e->cfg.timeouts = (struct timeouts_conf){900, 120, 60, 300};
	assert_int_equal(conn_table_init(&e->ct, 100, 5, &e->cfg.timeouts), 0);
	assert_int_equal(service_set_build(&e->set, &e->cfg), 0);
	e->ce.ct = &e->ct;
	e->ce.svcs = &e->set;
	e->ce.mask = MASK;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	service_set_free(&e->set, &e->ct);
	conn_table_destroy(&e->ct);
	free(e);
	return 0;
}

static void put_tuple(struct nlmsghdr *nlh, uint16_t type, const char *src,
		      uint16_t sport, const char *dst, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, ip4(src));
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, ip4(dst));
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

static void put_counters(struct nlmsghdr *nlh, uint16_t type, uint64_t pkts,
			 uint64_t bytes)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(pkts));
	mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(bytes));
	mnl_attr_nest_end(nlh, n);
}

enum kind { NEW, UPDATE, DESTROY, DUMP };

/*
 * A conntrack message about 192.0.2.2:cport -> VIP:80, DNATed to server
 * (.11 or .12):8080, with mark, CTA_ID id, and the conntrack TCP state
 * (-1: none); DESTROY carries counters (3 packets, 300 bytes each way).
 */
static void msg(struct env *e, enum kind k, uint16_t cport, const char *server,
		uint32_t mark, uint32_t id, int state)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	memset(e->buf, 0, sizeof(e->buf));
	nlh = mnl_nlmsg_put_header(e->buf);
	nlh->nlmsg_type =
	    (NFNL_SUBSYS_CTNETLINK << 8) |
	    (k == DESTROY ? IPCTNL_MSG_CT_DELETE : IPCTNL_MSG_CT_NEW);
	nlh->nlmsg_flags = k == NEW    ? NLM_F_CREATE | NLM_F_EXCL
			   : k == DUMP ? NLM_F_MULTI
				       : 0;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	put_tuple(nlh, CTA_TUPLE_ORIG, "192.0.2.2", cport, "203.0.113.10", 80);
	put_tuple(nlh, CTA_TUPLE_REPLY, server, 8080, "192.0.2.2", cport);
	if (state >= 0) {
		struct nlattr *pi = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
		struct nlattr *tcp =
		    mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);

		mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, (uint8_t)state);
		mnl_attr_nest_end(nlh, tcp);
		mnl_attr_nest_end(nlh, pi);
	}
	if (k == DESTROY) {
		put_counters(nlh, CTA_COUNTERS_ORIG, 3, 300);
		put_counters(nlh, CTA_COUNTERS_REPLY, 3, 300);
	}
	mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
	mnl_attr_put_u32(nlh, CTA_ID, htonl(id));
	ctevents_on_msg(&e->ce, nlh, k == DUMP);
}

static struct conn *get(struct env *e, uint16_t cport)
{
	return conn_in_get(&e->ct, IPPROTO_TCP, ip4("192.0.2.2"), htons(cport),
			   ip4("203.0.113.10"), htons(80));
}

/* As core.c makes it: the first packet scheduled the flow to .11. */
static struct conn *scheduled(struct env *e, uint16_t cport)
{
	struct conn *c = conn_new(&e->ct, IPPROTO_TCP, ip4("192.0.2.2"),
				  htons(cport), ip4("203.0.113.10"), htons(80),
				  e->set.svcs[0]->servers[0], FWD_NAT, 1000);

	assert_non_null(c);
	c->flags |= CONN_F_OFFLOAD;
	return c;
}

/* NEW binds, UPDATE moves the states and the counts, DESTROY removes. */
static void test_life(void **state)
{
	struct env *e = *state;
	struct server *s11 = e->set.svcs[0]->servers[0];
	struct conn *c = scheduled(e, 40000);

	msg(e, NEW, 40000, "198.51.100.11", 1u << 16, 7,
	    TCP_CONNTRACK_SYN_SENT);
	assert_true(c->flags & CONN_F_KERNEL);
	assert_int_equal(c->ct_id, 7);
	assert_int_equal(c->state, TCP_S_SYN_RECV);
	assert_int_equal(e->ct.kernel_count, 1);
	msg(e, UPDATE, 40000, "198.51.100.11", 1u << 16, 7,
	    TCP_CONNTRACK_ESTABLISHED);
	assert_int_equal(c->state, TCP_S_ESTABLISHED);
	assert_int_equal(s11->active_conns, 1);
	assert_int_equal(s11->inactive_conns, 0);
	/* an update without protoinfo (a mark change) keeps the state */
	msg(e, UPDATE, 40000, "198.51.100.11", 1u << 16, 7, -1);
	assert_int_equal(c->state, TCP_S_ESTABLISHED);
	/* not ours (no offload mark), or another conntrack entry: nothing */
	msg(e, UPDATE, 40000, "198.51.100.11", 0x10000000, 7,
	    TCP_CONNTRACK_CLOSE);
	msg(e, UPDATE, 40000, "198.51.100.11", 1u << 16, 99,
	    TCP_CONNTRACK_CLOSE);
	msg(e, DESTROY, 40000, "198.51.100.11", 1u << 16, 99, -1);
	assert_ptr_equal(get(e, 40000), c);
	assert_int_equal(c->state, TCP_S_ESTABLISHED);
	msg(e, UPDATE, 40000, "198.51.100.11", 1u << 16, 7,
	    TCP_CONNTRACK_TIME_WAIT);
	assert_int_equal(s11->active_conns, 0);
	assert_int_equal(s11->inactive_conns, 1);
	msg(e, DESTROY, 40000, "198.51.100.11", 1u << 16, 7, -1);
	assert_null(get(e, 40000));
	assert_int_equal(s11->inactive_conns, 0);
	assert_int_equal(s11->kernel_conns, 0);
	assert_int_equal(e->ct.kernel_count, 0);
	assert_int_equal(e->ce.stats.ended, 1);
	/* the ended flow's traffic, from the DESTROY's counters */
	assert_int_equal(s11->stats.in_packets, 3);
	assert_int_equal(s11->stats.out_bytes, 300);
	assert_int_equal(e->set.svcs[0]->stats.in_bytes, 300);
	assert_int_equal(e->ce.stats.events, 8);
}

/* The client reopens its tuple: the old conntrack entry's DESTROY, read
 * after the new flow was scheduled, must not remove the new entry. */
static void test_reopened_tuple(void **state)
{
	struct env *e = *state;
	struct conn *c = scheduled(e, 40001);

	msg(e, NEW, 40001, "198.51.100.11", 1u << 16, 7,
	    TCP_CONNTRACK_SYN_SENT);
	msg(e, UPDATE, 40001, "198.51.100.11", 1u << 16, 7,
	    TCP_CONNTRACK_TIME_WAIT);
	conn_del(&e->ct, c); /* core.c: a SYN on an ended flow */
	c = scheduled(e, 40001);
	msg(e, UPDATE, 40001, "198.51.100.11", 1u << 16, 7,
	    TCP_CONNTRACK_CLOSE);
	msg(e, DESTROY, 40001, "198.51.100.11", 1u << 16, 7, -1);
	assert_ptr_equal(get(e, 40001), c);
	assert_false(c->flags & CONN_F_KERNEL);
	assert_int_equal(c->state, TCP_S_NONE);
	msg(e, NEW, 40001, "198.51.100.11", 1u << 16, 8,
	    TCP_CONNTRACK_SYN_SENT);
	assert_int_equal(c->ct_id, 8);
	assert_true(c->flags & CONN_F_KERNEL);
}

/* An offloaded flow without an entry: NEW and dumps adopt it (service by
 * VIP, server by the reply's source), an update alone does not. */
static void test_adopt(void **state)
{
	struct env *e = *state;
	struct conn *c;

	msg(e, UPDATE, 40002, "198.51.100.12", 2u << 16, 5,
	    TCP_CONNTRACK_ESTABLISHED);
	assert_null(get(e, 40002));
	msg(e, DUMP, 40002, "198.51.100.12", 2u << 16, 5,
	    TCP_CONNTRACK_ESTABLISHED);
	c = get(e, 40002);
	assert_non_null(c);
	assert_ptr_equal(c->dest, e->set.svcs[0]->servers[1]);
	assert_int_equal(c->flags & (CONN_F_OFFLOAD | CONN_F_KERNEL),
			 CONN_F_OFFLOAD | CONN_F_KERNEL);
	assert_int_equal(c->dest->active_conns, 1);
	assert_int_equal(e->ce.stats.adopted, 1);
	/* a server the service does not have: not adopted */
	msg(e, NEW, 40003, "198.51.100.99", 2u << 16, 6,
	    TCP_CONNTRACK_SYN_SENT);
	assert_null(get(e, 40003));
}

/* A resync binds what the dump holds (entries from a checkpoint have no
 * CTA_ID yet) and removes bound entries the kernel no longer has; an
 * entry not yet confirmed by conntrack is left to its own timer. */
static void test_resync(void **state)
{
	struct env *e = *state;
	struct conn *kept = scheduled(e, 40004), *gone = scheduled(e, 40005);
	struct conn *pending = scheduled(e, 40006);

	conn_kernel_bind(&e->ct, kept, 0, -1); /* as ckpt.c restores */
	conn_kernel_bind(&e->ct, gone, 0, -1);
	ctevents_resync_begin(&e->ce);
	msg(e, DUMP, 40004, "198.51.100.11", 1u << 16, 11,
	    TCP_CONNTRACK_ESTABLISHED);
	assert_int_equal(ctevents_resync_end(&e->ce), 1);
	assert_ptr_equal(get(e, 40004), kept);
	assert_int_equal(kept->ct_id, 11);
	assert_int_equal(kept->state, TCP_S_ESTABLISHED);
	assert_null(get(e, 40005));
	assert_ptr_equal(get(e, 40006), pending);
	assert_int_equal(e->ct.kernel_count, 1);
	assert_int_equal(e->ce.stats.lost, 1);
	assert_int_equal(e->ce.stats.resyncs, 1);
}

static void test_tcp_states(void **state)
{
	(void)state;
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_SYN_SENT),
			 TCP_S_SYN_RECV);
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_SYN_RECV),
			 TCP_S_SYNACK);
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_ESTABLISHED),
			 TCP_S_ESTABLISHED);
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_FIN_WAIT),
			 TCP_S_FIN_WAIT);
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_CLOSE_WAIT),
			 TCP_S_CLOSE_WAIT);
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_LAST_ACK),
			 TCP_S_LAST_ACK);
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_TIME_WAIT),
			 TCP_S_TIME_WAIT);
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_CLOSE), TCP_S_CLOSE);
	assert_int_equal(ctevents_tcp_state(TCP_CONNTRACK_NONE), -1);
	assert_int_equal(ctevents_tcp_state(200), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_life, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_reopened_tuple, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_adopt, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_resync, env_setup,
					    env_teardown),
	    cmocka_unit_test(test_tcp_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
