/*
 * test_nat.c - VS/NAT through the packet core with byte arrays: the
 * rewritten addresses and ports, and checksums verified by an independent
 * byte-wise implementation (not csum.c).
 */
#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "core.h"
#include "pktbuild.h"
#include "service.h"

struct env {
	struct config cfg;
	struct service_conf sc[2];
	struct server_conf srv[2];
	struct conn_table ct;
	struct service_set set;
	struct core core;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	e->srv[0] = (struct server_conf){
	    .addr = ip4("198.51.100.11"), .port = 8080, .weight = 1};
	e->srv[1] = (struct server_conf){
	    .addr = ip4("198.51.100.12"), .port = 8080, .weight = 1};
	for (int i = 0; i < 2; i++) {
		struct service_conf *s = &e->sc[i];

		snprintf(s->name, sizeof(s->name), i ? "dns" : "web");
		s->proto = i ? IPPROTO_UDP : IPPROTO_TCP;
		s->vip = ip4("203.0.113.10");
		s->port = i ? 53 : 80;
		snprintf(s->scheduler, sizeof(s->scheduler), "rr");
		s->fwd = FWD_NAT;
		s->servers = e->srv;
		s->n_servers = 2;
	}
	e->cfg.services = e->sc;
	e->cfg.n_services = 2;
	e->cfg.timeouts = (struct timeouts_conf){900, 120, 60, 300};
	assert_int_equal(conn_table_init(&e->ct, 1000, 5, &e->cfg.timeouts), 0);
	assert_int_equal(service_set_build(&e->set, &e->cfg), 0);
	e->core.ct = &e->ct;
	e->core.svcs = &e->set;
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

static enum verdict run(struct env *e, uint8_t *buf, size_t len,
			enum core_dir dir, bool not_ready, bool *balanced)
{
	struct core_pkt cp = {.data = buf,
			      .len = (uint32_t)len,
			      .dir = dir,
			      .csum_not_ready = not_ready};

	return core_packet(&e->core, &cp, 1000, balanced);
}

static void expect_addr(const uint8_t *p, size_t off, const char *addr)
{
	uint32_t a;

	memcpy(&a, p + off, 4);
	assert_int_equal(a, ip4(addr));
}

/* A client's packet rewritten to server:8080, its checksums valid. */
static void expect_to_server(const uint8_t *buf, const char *server)
{
	expect_addr(buf, 12, "192.0.2.2");
	expect_addr(buf, 16, server);
	assert_int_equal(buf[22] << 8 | buf[23], 8080);
	assert_true(ip_csum_ok(buf));
	assert_true(l4_csum_ok(buf));
}

/* A server's reply rewritten to come from VIP:80, its checksums valid. */
static void expect_from_vip(const uint8_t *buf)
{
	expect_addr(buf, 12, "203.0.113.10");
	expect_addr(buf, 16, "192.0.2.2");
	assert_int_equal(buf[20] << 8 | buf[21], 80);
	assert_true(ip_csum_ok(buf));
	assert_true(l4_csum_ok(buf));
}

static void tcp_roundtrip(void **state, bool not_ready, size_t payload)
{
	struct env *e = *state;
	uint8_t buf[2048];
	bool balanced;
	size_t n;

	n = build(buf, IPPROTO_TCP, "192.0.2.2", 40000, "203.0.113.10", 80,
		  PKT_TCP_SYN, payload, not_ready ? 1 : 0);
	assert_int_equal(run(e, buf, n, CORE_IN, not_ready, &balanced),
			 VERDICT_MANGLED);
	assert_true(balanced);
	expect_to_server(buf, "198.51.100.11");

	/* the server's SYN-ACK goes back out as VIP:80 */
	n = build(buf, IPPROTO_TCP, "198.51.100.11", 8080, "192.0.2.2", 40000,
		  PKT_TCP_SYN | PKT_TCP_ACK, payload, not_ready ? 1 : 0);
	assert_int_equal(run(e, buf, n, CORE_OUT, not_ready, &balanced),
			 VERDICT_MANGLED);
	expect_from_vip(buf);
}

static void test_tcp_complete_csum(void **state)
{
	tcp_roundtrip(state, false, 100);
}

static void test_tcp_odd_payload(void **state)
{
	tcp_roundtrip(state, false, 1001);
}

static void test_tcp_csum_not_ready(void **state)
{
	tcp_roundtrip(state, true, 1400);
}

static void test_rr_spreads_flows(void **state)
{
	struct env *e = *state;
	uint8_t buf[256];
	bool balanced;
	int hits[2] = {0};

	for (uint16_t p = 1000; p < 1010; p++) {
		size_t n = build(buf, IPPROTO_TCP, "192.0.2.2", p,
				 "203.0.113.10", 80, PKT_TCP_SYN, 0, 0);

		assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
				 VERDICT_MANGLED);
		hits[buf[19] - 11]++;
	}
	assert_int_equal(hits[0], 5);
	assert_int_equal(hits[1], 5);
	/* a second packet of the first flow stays on its server */
	{
		size_t n = build(buf, IPPROTO_TCP, "192.0.2.2", 1000,
				 "203.0.113.10", 80, PKT_TCP_ACK, 10, 0);

		run(e, buf, n, CORE_IN, false, &balanced);
		expect_addr(buf, 16, "198.51.100.11");
	}
	assert_int_equal(e->set.svcs[0]->stats.conns, 10);
}

/* A client reusing the port of an ended flow: its SYN is a new connection,
 * scheduled afresh (rr moves on), while a SYN retransmitted during the
 * handshake stays with its flow. */
static void test_syn_reopens_ended_flow(void **state)
{
	struct env *e = *state;
	uint8_t buf[256];
	bool balanced;
	size_t n;

	n = build(buf, IPPROTO_TCP, "192.0.2.2", 2000, "203.0.113.10", 80,
		  PKT_TCP_SYN, 0, 0);
	run(e, buf, n, CORE_IN, false, &balanced);
	expect_addr(buf, 16, "198.51.100.11");
	/* retransmitted SYN: same flow, same server */
	n = build(buf, IPPROTO_TCP, "192.0.2.2", 2000, "203.0.113.10", 80,
		  PKT_TCP_SYN, 0, 0);
	run(e, buf, n, CORE_IN, false, &balanced);
	expect_addr(buf, 16, "198.51.100.11");
	assert_int_equal(e->set.svcs[0]->stats.conns, 1);
	/* the server refuses it with a reset (CLOSE), then the port is
	 * reused */
	n = build(buf, IPPROTO_TCP, "198.51.100.11", 8080, "192.0.2.2", 2000,
		  PKT_TCP_RST | PKT_TCP_ACK, 0, 0);
	run(e, buf, n, CORE_OUT, false, &balanced);
	n = build(buf, IPPROTO_TCP, "192.0.2.2", 2000, "203.0.113.10", 80,
		  PKT_TCP_SYN, 0, 0);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_MANGLED);
	expect_addr(buf, 16, "198.51.100.12");
	assert_int_equal(e->set.svcs[0]->stats.conns, 2);
	assert_int_equal(e->ct.count, 1);
}

static void test_udp(void **state)
{
	struct env *e = *state;
	uint8_t buf[256];
	bool balanced;
	size_t n;

	for (int mode = 0; mode < 3; mode++) {
		n = build(buf, IPPROTO_UDP, "192.0.2.2",
			  (uint16_t)(5000 + mode), "203.0.113.10", 53, 0, 33,
			  mode);
		assert_int_equal(run(e, buf, n, CORE_IN, mode == 1, &balanced),
				 VERDICT_MANGLED);
		assert_int_equal(buf[22] << 8 | buf[23], 8080);
		assert_true(ip_csum_ok(buf));
		if (mode == 2)
			assert_int_equal(buf[26] | buf[27], 0); /* stays off */
		else
			assert_true(l4_csum_ok(buf));
	}
}

static void test_unknown_and_bad(void **state)
{
	struct env *e = *state;
	uint8_t buf[256];
	bool balanced;
	size_t n;

	/* a TCP ACK for no known flow: dropped, counted */
	n = build(buf, IPPROTO_TCP, "192.0.2.9", 1, "203.0.113.10", 80,
		  PKT_TCP_ACK, 0, 0);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_DROP);
	assert_int_equal(e->core.counters[CNT_UNKNOWN_FLOW], 1);
	/* a port that is no service: passed untouched */
	n = build(buf, IPPROTO_TCP, "192.0.2.9", 1, "203.0.113.10", 81,
		  PKT_TCP_SYN, 0, 0);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_ACCEPT);
	/* a reply of no flow: passed untouched */
	n = build(buf, IPPROTO_TCP, "198.51.100.11", 8080, "192.0.2.9", 1,
		  PKT_TCP_ACK, 0, 0);
	assert_int_equal(run(e, buf, n, CORE_OUT, false, &balanced),
			 VERDICT_ACCEPT);
	/* truncated: total length beyond what we hold */
	n = build(buf, IPPROTO_TCP, "192.0.2.2", 2, "203.0.113.10", 80,
		  PKT_TCP_SYN, 40, 0);
	assert_int_equal(run(e, buf, n - 1, CORE_IN, false, &balanced),
			 VERDICT_DROP);
	assert_int_equal(e->core.counters[PKT_TRUNCATED], 1);
	/* a fragment */
	n = build(buf, IPPROTO_UDP, "192.0.2.2", 2, "203.0.113.10", 53, 0, 8,
		  0);
	buf[6] |= 0x20; /* MF */
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_DROP);
	assert_int_equal(e->core.counters[PKT_FRAGMENT], 1);
	/* TCP data offset below 5 words */
	n = build(buf, IPPROTO_TCP, "192.0.2.2", 3, "203.0.113.10", 80,
		  PKT_TCP_SYN, 0, 0);
	buf[32] = 4 << 4;
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_DROP);
	assert_int_equal(e->core.counters[PKT_BAD_HEADER], 1);
}

/* An ICMP error (type 3 code 4) from src to dst quoting the first 28
 * bytes of the packet quote (built by build()). */
static size_t icmp_error(uint8_t *buf, const char *src, const char *dst,
			 const uint8_t *quote)
{
	size_t tot = 20 + 8 + 28;

	ip_header(buf, tot, IPPROTO_ICMP, src, dst);
	buf[20] = 3;
	buf[21] = 4;
	set16(buf + 26, 1400);
	memcpy(buf + 28, quote, 28);
	set16(buf + 22, (uint16_t)~fold_be(sum_be(buf + 20, tot - 20, 0)));
	return tot;
}

static bool icmp_csum_ok(const uint8_t *p, size_t len)
{
	return fold_be(sum_be(p + 20, len - 20, 0)) == 0xffff;
}

/* ICMP errors about a NAT flow, both ways, as ip_vs_nat_icmp(): outer and
 * quoted addresses and ports rewritten, every checksum right; an error
 * to the VIP about no flow is dropped, one towards a client about no
 * flow passes untouched. */
static void test_icmp_errors(void **state)
{
	struct env *e = *state;
	uint8_t pkt[256], buf[256];
	bool balanced;
	size_t n;

	n = build(pkt, IPPROTO_UDP, "192.0.2.2", 40000, "203.0.113.10", 53, 0,
		  20, 0);
	assert_int_equal(run(e, pkt, n, CORE_IN, false, &balanced),
			 VERDICT_MANGLED);
	/* pkt is now 192.0.2.2:40000 -> 198.51.100.11:8080: a router on the
	 * servers' side sends "fragmentation needed" about it */
	n = icmp_error(buf, "198.51.100.1", "192.0.2.2", pkt);
	assert_int_equal(run(e, buf, n, CORE_OUT, false, &balanced),
			 VERDICT_MANGLED);
	assert_true(balanced);
	expect_addr(buf, 12, "203.0.113.10"); /* from the VIP */
	expect_addr(buf, 16, "192.0.2.2");
	expect_addr(buf, 28 + 12, "192.0.2.2");
	expect_addr(buf, 28 + 16, "203.0.113.10"); /* quote: to the VIP */
	assert_int_equal(buf[48 + 2] << 8 | buf[48 + 3], 53);
	assert_true(ip_csum_ok(buf));
	assert_true(ip_csum_ok(buf + 28));
	assert_true(icmp_csum_ok(buf, n));

	/* the client's error about the reply it got, VIP:53 -> client */
	n = build(pkt, IPPROTO_UDP, "203.0.113.10", 53, "192.0.2.2", 40000, 0,
		  20, 0);
	n = icmp_error(buf, "192.0.2.2", "203.0.113.10", pkt);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_MANGLED);
	expect_addr(buf, 16, "198.51.100.11"); /* to the server */
	expect_addr(buf, 28 + 12, "198.51.100.11");
	assert_int_equal(buf[48] << 8 | buf[49], 8080);
	assert_true(ip_csum_ok(buf));
	assert_true(ip_csum_ok(buf + 28));
	assert_true(icmp_csum_ok(buf, n));

	/* about flows we do not know */
	n = build(pkt, IPPROTO_UDP, "203.0.113.10", 53, "192.0.2.9", 40000, 0,
		  20, 0);
	n = icmp_error(buf, "192.0.2.9", "203.0.113.10", pkt);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_DROP);
	assert_int_equal(e->core.counters[CNT_ICMP_UNKNOWN], 1);
	n = build(pkt, IPPROTO_UDP, "192.0.2.9", 1, "198.51.100.11", 8080, 0,
		  20, 0);
	n = icmp_error(buf, "198.51.100.1", "192.0.2.9", pkt);
	assert_int_equal(run(e, buf, n, CORE_OUT, false, &balanced),
			 VERDICT_ACCEPT);
	/* an ICMP echo or a quote without ports is not relayed */
	buf[20] = 8;
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_DROP);
	assert_int_equal(e->core.counters[PKT_ICMP_NOT_ERROR], 1);
	n = icmp_error(buf, "192.0.2.2", "203.0.113.10", pkt);
	set16(buf + 2, 20 + 8 + 20);
	assert_int_equal(run(e, buf, 48, CORE_IN, false, &balanced),
			 VERDICT_DROP);
	assert_int_equal(e->core.counters[PKT_ICMP_BAD_QUOTE], 1);
	/* the same leaving towards a client (the director's own error about
	 * another protocol): not ours, it passes */
	assert_int_equal(run(e, buf, 48, CORE_OUT, false, &balanced),
			 VERDICT_ACCEPT);
	assert_int_equal(e->core.counters[PKT_ICMP_BAD_QUOTE], 1);
}

/* Sends one packet from the client; returns the last octet of the server
 * it went to, or -1 when it was not forwarded. */
static int client_pkt(struct env *e, uint8_t proto, uint16_t sport,
		      uint8_t flags)
{
	uint8_t buf[256];
	bool balanced;
	size_t n = build(buf, proto, "192.0.2.2", sport, "203.0.113.10",
			 proto == IPPROTO_TCP ? 80 : 53, flags, 10, 0);

	if (run(e, buf, n, CORE_IN, false, &balanced) != VERDICT_MANGLED)
		return -1;
	return buf[19];
}

/* expire_nodest_conn: a removed server retires with its TCP flows (false)
 * or takes them along (true); its UDP flows go either way. */
static void test_removed_server(void **state)
{
	struct env *e = *state;
	struct service *web = e->set.svcs[0];
	struct conn *c;

	assert_int_equal(client_pkt(e, IPPROTO_TCP, 7000, PKT_TCP_SYN), 11);
	assert_int_equal(client_pkt(e, IPPROTO_UDP, 7000, 0), 11);
	for (int i = 0; i < 2; i++) {
		e->sc[i].servers = &e->srv[1];
		e->sc[i].n_servers = 1;
		e->sc[i].expire_nodest_conn = false;
	}
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	/* the TCP flow carries on to the retired .11 */
	assert_non_null(web->retired);
	assert_int_equal(client_pkt(e, IPPROTO_TCP, 7000, PKT_TCP_ACK), 11);
	/* the UDP flow went: the same client port is scheduled anew */
	assert_null(e->set.svcs[1]->retired);
	assert_int_equal(client_pkt(e, IPPROTO_UDP, 7000, 0), 12);
	/* new connections never reach it */
	assert_int_equal(client_pkt(e, IPPROTO_TCP, 7001, PKT_TCP_SYN), 12);
	assert_int_equal(client_pkt(e, IPPROTO_TCP, 7002, PKT_TCP_SYN), 12);
	/* freed once its last connection is gone */
	assert_int_equal(service_set_reap(&e->set), 0);
	c = conn_in_get(&e->ct, IPPROTO_TCP, ip4("192.0.2.2"), htons(7000),
			ip4("203.0.113.10"), htons(80));
	assert_non_null(c);
	conn_del(&e->ct, c);
	assert_int_equal(service_set_reap(&e->set), 1);
	assert_null(web->retired);

	/* true: .12's connections go with it */
	e->sc[0].servers = &e->srv[0];
	e->sc[0].expire_nodest_conn = true;
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	assert_null(web->retired);
	assert_int_equal(client_pkt(e, IPPROTO_TCP, 7001, PKT_TCP_ACK), -1);
}

/*
 * offload = true: the first packet is accepted unchanged with its
 * server's id in the verdict mark (the nat table DNATs it); ids are the
 * servers' in configuration order and stay with a server across a reload
 * that adds one before it. (Replies and later packets: test_offload_stray.)
 */
static void test_offload(void **state)
{
	struct env *e = *state;
	struct server_conf three[3] = {
	    {.addr = ip4("198.51.100.13"), .port = 8080, .weight = 1},
	    e->srv[0],
	    e->srv[1]};
	uint8_t buf[256], orig[256];
	bool balanced;
	size_t n;

	e->cfg.fw_offload_mask = 0x0fff0000;
	e->core.offload_shift = 16;
	e->sc[0].offload = true;
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	assert_int_equal(e->set.svcs[0]->servers[0]->offload_id, 1);
	assert_int_equal(e->set.svcs[0]->servers[1]->offload_id, 2);
	assert_int_equal(e->set.svcs[1]->servers[0]->offload_id, 0); /* dns */

	n = build(buf, IPPROTO_TCP, "192.0.2.2", 41000, "203.0.113.10", 80,
		  PKT_TCP_SYN, 0, 0);
	memcpy(orig, buf, n);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_ACCEPT);
	assert_true(balanced);
	assert_memory_equal(buf, orig, n);
	assert_int_equal(e->core.verdict_mark, 1u << 16); /* .11 */
	n = build(buf, IPPROTO_TCP, "192.0.2.2", 41001, "203.0.113.10", 80,
		  PKT_TCP_SYN, 0, 0);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_ACCEPT);
	assert_int_equal(e->core.verdict_mark, 2u << 16); /* .12 */
	assert_int_equal(e->core.counters[CNT_OFFLOAD_STRAY], 0);
	/* a per-packet service beside it is rewritten as before */
	n = build(buf, IPPROTO_UDP, "192.0.2.2", 41000, "203.0.113.10", 53, 0,
		  0, 0);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_MANGLED);
	assert_int_equal(e->core.verdict_mark, 0);

	/* .13 comes first: .11 and .12 keep their ids, .13 gets 3 */
	e->sc[0].servers = three;
	e->sc[0].n_servers = 3;
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	assert_int_equal(e->set.svcs[0]->servers[0]->offload_id, 3);
	assert_int_equal(e->set.svcs[0]->servers[1]->offload_id, 1);
	assert_int_equal(e->set.svcs[0]->servers[2]->offload_id, 2);
	/* offload off: ids go, new flows are rewritten again */
	e->sc[0].offload = false;
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	assert_int_equal(e->set.svcs[0]->servers[1]->offload_id, 0);
	n = build(buf, IPPROTO_TCP, "192.0.2.2", 41002, "203.0.113.10", 80,
		  PKT_TCP_SYN, 0, 0);
	assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
			 VERDICT_MANGLED);
	e->sc[0].servers = e->srv;
	e->sc[0].n_servers = 2;
}

/* One packet of an offloaded flow's client (192.0.2.2:cport -> VIP:port)
 * or, out, of its server (198.51.100.x:sport -> client); the verdict. */
static enum verdict offload_pkt(struct env *e, uint8_t *buf, size_t *n,
				bool out, uint8_t proto, uint16_t port,
				uint16_t cport, uint8_t flags)
{
	bool balanced = false;
	enum verdict v;

	if (out)
		*n = build(buf, proto, "198.51.100.11", port, "192.0.2.2",
			   cport, flags, 10, 0);
	else
		*n = build(buf, proto, "192.0.2.2", cport, "203.0.113.10", port,
			   flags, 10, 0);
	v = run(e, buf, *n, out ? CORE_OUT : CORE_IN, false, &balanced);
	assert_true(balanced);
	return v;
}

/*
 * A packet of an offloaded flow that still reaches the queue: conntrack
 * takes a flow's first packet, a SYN again and a UDP datagram before the
 * flow is bound (accepted unchanged with the server's id); anything else
 * had no conntrack entry (INVALID, out of window) and is rewritten by the
 * daemon as on the per-packet path, counted as offload_stray, while the
 * entry stays the kernel's (no timer).
 */
static void test_offload_stray(void **state)
{
	struct env *e = *state;
	uint8_t buf[256], orig[256];
	struct server *s11;
	struct conn *c;
	uint64_t expires;
	size_t n;

	e->cfg.fw_offload_mask = 0x0fff0000;
	e->core.offload_shift = 16;
	e->sc[0].offload = true;
	e->sc[1].offload = true;
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	s11 = e->set.svcs[0]->servers[0];

	/* the first SYN, then a retransmission before conntrack confirmed
	 * the flow: both accepted unchanged with .11's id */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(offload_pkt(e, buf, &n, false, IPPROTO_TCP, 80,
					     41000, PKT_TCP_SYN),
				 VERDICT_ACCEPT);
		expect_addr(buf, 16, "203.0.113.10");
		assert_int_equal(e->core.verdict_mark, 1u << 16);
	}
	c = conn_in_get(&e->ct, IPPROTO_TCP, ip4("192.0.2.2"), htons(41000),
			ip4("203.0.113.10"), htons(80));
	assert_non_null(c);
	conn_kernel_bind(&e->ct, c, 77, TCP_S_ESTABLISHED);
	expires = c->expires;
	assert_int_equal(s11->stats.in_packets, 2);

	/* an out-of-window ACK of the bound flow: to .11:8080 */
	assert_int_equal(
	    offload_pkt(e, buf, &n, false, IPPROTO_TCP, 80, 41000, PKT_TCP_ACK),
	    VERDICT_MANGLED);
	expect_to_server(buf, "198.51.100.11");
	assert_int_equal(e->core.verdict_mark, 0);
	assert_int_equal(e->core.counters[CNT_OFFLOAD_STRAY], 1);
	assert_int_equal(s11->stats.in_packets, 3);
	/* still the kernel's: no state change, no timer */
	assert_int_equal(c->tl, CONN_TL_KERNEL);
	assert_int_equal(c->expires, expires);
	assert_int_equal(c->state, TCP_S_ESTABLISHED);

	/* a reply without a conntrack entry: from VIP:80 */
	assert_int_equal(offload_pkt(e, buf, &n, true, IPPROTO_TCP, 8080, 41000,
				     PKT_TCP_ACK),
			 VERDICT_MANGLED);
	expect_from_vip(buf);
	assert_int_equal(e->core.counters[CNT_OFFLOAD_STRAY], 2);
	assert_int_equal(s11->stats.out_packets, 1);

	/* a SYN on the bound flow (its conntrack entry replaced): for
	 * conntrack again */
	assert_int_equal(
	    offload_pkt(e, buf, &n, false, IPPROTO_TCP, 80, 41000, PKT_TCP_SYN),
	    VERDICT_ACCEPT);
	assert_int_equal(e->core.verdict_mark, 1u << 16);
	assert_int_equal(e->core.counters[CNT_OFFLOAD_STRAY], 2);

	/* a TCP non-SYN before the flow is bound: rewritten too (to .12) */
	assert_int_equal(
	    offload_pkt(e, buf, &n, false, IPPROTO_TCP, 80, 41001, PKT_TCP_SYN),
	    VERDICT_ACCEPT);
	assert_int_equal(
	    offload_pkt(e, buf, &n, false, IPPROTO_TCP, 80, 41001, PKT_TCP_ACK),
	    VERDICT_MANGLED);
	expect_to_server(buf, "198.51.100.12");
	assert_int_equal(e->core.counters[CNT_OFFLOAD_STRAY], 3);

	/* UDP: unchanged until bound, rewritten after */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		    offload_pkt(e, buf, &n, false, IPPROTO_UDP, 53, 41000, 0),
		    VERDICT_ACCEPT);
		assert_int_not_equal(e->core.verdict_mark, 0);
	}
	memcpy(orig, buf, n);
	c = conn_in_get(&e->ct, IPPROTO_UDP, ip4("192.0.2.2"), htons(41000),
			ip4("203.0.113.10"), htons(53));
	assert_non_null(c);
	conn_kernel_bind(&e->ct, c, 78, -1);
	assert_int_equal(
	    offload_pkt(e, buf, &n, false, IPPROTO_UDP, 53, 41000, 0),
	    VERDICT_MANGLED);
	assert_memory_not_equal(buf, orig, n);
	expect_to_server(buf, "198.51.100.11");
	assert_int_equal(e->core.counters[CNT_OFFLOAD_STRAY], 4);
	/* passed, not dropped */
	assert_false(core_counter_is_drop(CNT_OFFLOAD_STRAY));
	assert_string_equal(core_counter_name(CNT_OFFLOAD_STRAY),
			    "offload_stray");
}

/* A SYN from client port cport; returns the last octet of the server. */
static int syn_to(struct env *e, uint16_t cport, enum verdict *v)
{
	uint8_t buf[256];
	bool balanced;
	size_t n = build(buf, IPPROTO_TCP, "192.0.2.2", cport, "203.0.113.10",
			 80, PKT_TCP_SYN, 0, 0);

	*v = run(e, buf, n, CORE_IN, false, &balanced);
	return buf[19];
}

/* Health: a down server gets no new flow but keeps its own; with every
 * server down new flows go to the sorry server, and back when one is up;
 * a reload keeps a server's health state. */
static void test_health_down_and_sorry(void **state)
{
	struct env *e = *state;
	struct server *s11, *s12;
	enum verdict v;

	e->sc[0].has_sorry = true;
	e->sc[0].sorry = (struct server_conf){
	    .addr = ip4("198.51.100.13"), .port = 9090, .weight = 1};
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	s11 = e->set.svcs[0]->servers[0];
	s12 = e->set.svcs[0]->servers[1];
	assert_string_equal(server_state_name(server_state(s11)), "up");

	assert_int_equal(syn_to(e, 2000, &v), 11); /* a flow on .11 */
	s11->health_down = true;
	assert_string_equal(server_state_name(server_state(s11)), "down");
	for (uint16_t p = 2001; p < 2005; p++)
		assert_int_equal(syn_to(e, p, &v), 12);
	/* the established flow of the down server carries on */
	{
		uint8_t buf[256];
		bool balanced;
		size_t n = build(buf, IPPROTO_TCP, "192.0.2.2", 2000,
				 "203.0.113.10", 80, PKT_TCP_ACK, 10, 0);

		assert_int_equal(run(e, buf, n, CORE_IN, false, &balanced),
				 VERDICT_MANGLED);
		expect_addr(buf, 16, "198.51.100.11");
	}
	/* a reload keeps the state of servers that stay */
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	assert_true(e->set.svcs[0]->servers[0]->health_down);

	s12->health_down = true;
	assert_int_equal(syn_to(e, 2010, &v), 13);
	assert_int_equal(v, VERDICT_MANGLED);
	assert_int_equal(e->set.svcs[0]->sorry->stats.conns, 1);
	s11->health_down = false;
	assert_int_equal(syn_to(e, 2011, &v), 11);

	/* without a sorry server: no destination, dropped and counted */
	e->sc[0].has_sorry = false;
	assert_int_equal(service_set_apply(&e->set, &e->cfg, &e->ct), 0);
	assert_null(e->set.svcs[0]->sorry);
	s11->health_down = true;
	syn_to(e, 2020, &v);
	assert_int_equal(v, VERDICT_DROP);
	assert_int_equal(e->core.counters[CNT_NO_SERVER], 1);
}

/* alpha: servers with a check start down, those without start up. */
static void test_alpha(void **state)
{
	struct env *e = *state;

	service_set_free(&e->set, &e->ct);
	e->sc[0].alpha = true;
	e->srv[0].health.type = HEALTH_TCP;
	assert_int_equal(service_set_build(&e->set, &e->cfg), 0);
	assert_true(e->set.svcs[0]->servers[0]->health_down);
	assert_false(e->set.svcs[0]->servers[1]->health_down);
	/* dns has no alpha: its servers start up despite the check */
	assert_false(e->set.svcs[1]->servers[0]->health_down);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_syn_reopens_ended_flow,
					    env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_errors, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_complete_csum, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_odd_payload, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_csum_not_ready, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_rr_spreads_flows, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_udp, env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_removed_server, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_and_bad, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_health_down_and_sorry,
					    env_setup, env_teardown),
	    cmocka_unit_test_setup_teardown(test_offload, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_offload_stray, env_setup,
					    env_teardown),
	    cmocka_unit_test_setup_teardown(test_alpha, env_setup,
					    env_teardown),
	};

	return cmocka_run_group_tests_name("nat", tests, NULL, NULL);
}
