/* test_conn.c - the connection table: lookups, bound, expiry, purge */
#include "unit.h"

#include <string.h>

#include "conn.h"
#include "service.h"

static const struct timeouts_conf to = {900, 120, 60, 300};

static void test_lookup_both_ways(void **state)
{
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {.svc = &svc,
			     .addr = ip4("198.51.100.11"),
			     .port = htons(8080),
			     .weight = 1};
	uint32_t cl = ip4("192.0.2.2"), vip = ip4("203.0.113.10");
	struct conn *c;

	assert_int_equal(conn_table_init(&t, 100, 1, &to), 0);
	c = conn_new(&t, IPPROTO_TCP, cl, htons(40000), vip, htons(80), &srv,
		     FWD_NAT, 0);
	assert_non_null(c);
	assert_ptr_equal(
	    conn_in_get(&t, IPPROTO_TCP, cl, htons(40000), vip, htons(80)), c);
	assert_ptr_equal(conn_out_get(&t, IPPROTO_TCP, srv.addr, htons(8080),
				      cl, htons(40000)),
			 c);
	/* other protocol, other port, reversed tuple: no match */
	assert_null(
	    conn_in_get(&t, IPPROTO_UDP, cl, htons(40000), vip, htons(80)));
	assert_null(
	    conn_in_get(&t, IPPROTO_TCP, cl, htons(40001), vip, htons(80)));
	assert_null(conn_out_get(&t, IPPROTO_TCP, cl, htons(40000), srv.addr,
				 htons(8080)));
	conn_del(&t, c);
	assert_null(
	    conn_in_get(&t, IPPROTO_TCP, cl, htons(40000), vip, htons(80)));
	assert_int_equal(t.count, 0);
	conn_table_destroy(&t);
}

/* Direct return: the table sees client packets only (IPVS's input-only
 * table), yet the server's counts and the entry's expiry follow the
 * connection: inactive during the handshake, active once the client ACKs,
 * inactive again after its FIN, gone after the FIN timeout. */
static void test_direct_return_life(void **state)
{
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {.svc = &svc,
			     .addr = ip4("198.51.100.11"),
			     .port = htons(80),
			     .weight = 1};
	uint32_t cl = ip4("192.0.2.2"), vip = ip4("203.0.113.10");
	struct conn *c;

	(void)state;
	assert_int_equal(conn_table_init(&t, 100, 1, &to), 0);
	c = conn_new(&t, IPPROTO_TCP, cl, htons(40000), vip, htons(80), &srv,
		     FWD_DR, 0);
	assert_non_null(c);
	conn_update(&t, c, DIR_INPUT, 0x02, 0); /* SYN */
	assert_int_equal(c->state, TCP_S_SYN_RECV);
	assert_int_equal(srv.inactive_conns, 1);
	assert_int_equal(srv.active_conns, 0);
	assert_int_equal(c->expires, 60 * 1000);
	conn_update(&t, c, DIR_INPUT, 0x10, 1000); /* ACK */
	assert_int_equal(c->state, TCP_S_ESTABLISHED);
	assert_int_equal(srv.active_conns, 1);
	assert_int_equal(srv.inactive_conns, 0);
	assert_int_equal(c->expires, 1000 + 900 * 1000);
	conn_update(&t, c, DIR_INPUT, 0x11, 2000); /* FIN|ACK */
	assert_int_equal(c->state, TCP_S_FIN_WAIT);
	assert_int_equal(srv.active_conns, 0);
	assert_int_equal(srv.inactive_conns, 1);
	assert_int_equal(conn_expire(&t, 2000 + 120 * 1000 - 1), 0);
	assert_int_equal(conn_expire(&t, 2000 + 120 * 1000), 1);
	assert_int_equal(srv.inactive_conns, 0);
	assert_int_equal(t.count, 0);
	conn_table_destroy(&t);
}

/* SYN flood defence: above the high-water mark a new flow first drops the
 * oldest half-open entry; established ones are never dropped, and the
 * table never grows past max. */
static void test_drop_embryonic(void **state)
{
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {.svc = &svc, .weight = 1};
	struct conn *est, *c;

	(void)state;
	assert_int_equal(conn_table_init(&t, 16, 1, &to), 0);
	assert_int_equal(t.high_water, 14);
	est = conn_new(&t, IPPROTO_TCP, 1, 1, 2, 3, &srv, FWD_NAT, 0);
	conn_update(&t, est, DIR_INPUT, 0x02, 0);
	conn_update(&t, est, DIR_OUTPUT, 0x12, 0);
	conn_update(&t, est, DIR_INPUT, 0x10, 0);
	assert_int_equal(est->state, TCP_S_ESTABLISHED);
	assert_false(conn_drop_embryonic(&t)); /* nothing half-open */
	for (uint16_t p = 100; p < 115; p++) {
		c = conn_new(&t, IPPROTO_TCP, 9, p, 2, 3, &srv, FWD_NAT, p);
		assert_non_null(c);
		conn_update(&t, c, DIR_INPUT, 0x02, p);
	}
	assert_int_equal(t.count, 16);
	/* the oldest SYN_RECV entry (port 100) goes, never the established */
	assert_true(conn_drop_embryonic(&t));
	assert_null(conn_in_get(&t, IPPROTO_TCP, 9, 100, 2, 3));
	assert_non_null(conn_in_get(&t, IPPROTO_TCP, 9, 101, 2, 3));
	assert_int_equal(t.count, 15);
	assert_int_equal(t.embryonic_drops, 1);
	while (conn_drop_embryonic(&t))
		;
	assert_int_equal(t.count, 1);
	assert_ptr_equal(conn_in_get(&t, IPPROTO_TCP, 1, 1, 2, 3), est);
	conn_table_destroy(&t);
}

static void test_bound(void **state)
{
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {.svc = &svc, .weight = 1};

	assert_int_equal(conn_table_init(&t, 3, 1, &to), 0);
	for (uint16_t p = 1; p <= 3; p++)
		assert_non_null(
		    conn_new(&t, IPPROTO_UDP, 1, p, 2, 3, &srv, FWD_NAT, 0));
	assert_null(conn_new(&t, IPPROTO_UDP, 1, 4, 2, 3, &srv, FWD_NAT, 0));
	assert_int_equal(t.count, 3);
	assert_int_equal(t.full_drops, 1);
	/* an expired entry frees its place */
	assert_int_equal(conn_expire(&t, 300000), 3);
	assert_non_null(
	    conn_new(&t, IPPROTO_UDP, 1, 4, 2, 3, &srv, FWD_NAT, 300000));
	conn_table_destroy(&t);
}

static void test_many_and_expiry_order(void **state)
{
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {.svc = &svc, .weight = 1};
	struct conn *first;

	assert_int_equal(conn_table_init(&t, 20000, 99, &to), 0);
	for (uint32_t i = 0; i < 10000; i++)
		assert_non_null(conn_new(&t, IPPROTO_UDP, htonl(i), 7, 2, 3,
					 &srv, FWD_NAT, i));
	assert_int_equal(srv.inactive_conns, 10000);
	/* touching the first entry moves it to the end of its list */
	first = conn_in_get(&t, IPPROTO_UDP, htonl(0), 7, 2, 3);
	conn_update(&t, first, DIR_INPUT, 0, 20000);
	assert_int_equal(conn_expire(&t, 300000 + 4999), 4999);
	assert_non_null(conn_in_get(&t, IPPROTO_UDP, htonl(0), 7, 2, 3));
	assert_null(conn_in_get(&t, IPPROTO_UDP, htonl(1), 7, 2, 3));
	assert_int_equal(conn_expire(&t, 320000), 5001);
	assert_int_equal(t.count, 0);
	assert_int_equal(srv.inactive_conns, 0);
	conn_table_destroy(&t);
}

static void test_timeout_change(void **state)
{
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {.svc = &svc, .weight = 1};
	struct timeouts_conf shorter = to;
	struct conn *c;

	assert_int_equal(conn_table_init(&t, 10, 1, &to), 0);
	c = conn_new(&t, IPPROTO_UDP, 1, 2, 3, 4, &srv, FWD_NAT, 1000);
	assert_int_equal(c->expires, 301000);
	shorter.udp = 10;
	conn_table_set_timeouts(&t, &shorter);
	assert_int_equal(c->expires, 11000); /* last packet + new timeout */
	assert_int_equal(conn_expire(&t, 10999), 0);
	assert_int_equal(conn_expire(&t, 11000), 1);
	conn_table_destroy(&t);
}

static void test_purge_dest(void **state)
{
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server a = {.svc = &svc, .addr = 1, .weight = 1};
	struct server b = {.svc = &svc, .addr = 2, .weight = 1};

	assert_int_equal(conn_table_init(&t, 100, 1, &to), 0);
	for (uint16_t p = 1; p <= 10; p++)
		conn_new(&t, IPPROTO_TCP, 9, p, 8, 80, p % 2 ? &a : &b, FWD_NAT,
			 0);
	assert_int_equal(conn_purge_dest(&t, &a), 5);
	assert_int_equal(t.count, 5);
	assert_int_equal(a.inactive_conns, 0);
	assert_int_equal(b.inactive_conns, 5);
	assert_null(conn_in_get(&t, IPPROTO_TCP, 9, 1, 8, 80));
	assert_non_null(conn_in_get(&t, IPPROTO_TCP, 9, 2, 8, 80));
	conn_table_destroy(&t);
}

static unsigned int kernel_dels;

static void count_kernel_del(void *arg, const struct conn *c)
{
	(void)arg;
	assert_true(c->flags & CONN_F_OFFLOAD);
	kernel_dels++;
}

/* An offloaded flow: bound to its conntrack entry it leaves the timed
 * lists (only events end it), its states come from the kernel, not from
 * packets, and a purge with its server deletes its conntrack entry. */
static void test_kernel_bound(void **state)
{
	static struct service svc = {.name = "offload"};
	struct server srv = {.svc = &svc, .weight = 1};
	uint32_t cl = ip4("192.0.2.2"), vip = ip4("203.0.113.10");
	struct conn_table t;
	struct conn *c, *plain;

	(void)state;
	srv.addr = ip4("198.51.100.11");
	srv.port = htons(8080);
	assert_int_equal(conn_table_init(&t, 100, 1, &to), 0);
	t.kernel_del = count_kernel_del;
	c = conn_new(&t, IPPROTO_TCP, cl, htons(40000), vip, htons(80), &srv,
		     FWD_NAT, 0);
	plain = conn_new(&t, IPPROTO_TCP, cl, htons(40001), vip, htons(80),
			 &srv, FWD_NAT, 0);
	assert_non_null(plain);
	c->flags |= CONN_F_OFFLOAD;
	conn_update(&t, c, DIR_INPUT, 0x02 /* SYN */, 0);
	assert_int_equal(c->state, TCP_S_SYN_RECV);
	conn_kernel_bind(&t, c, 77, TCP_S_ESTABLISHED);
	assert_int_equal(c->ct_id, 77);
	assert_int_equal(c->state, TCP_S_ESTABLISHED);
	assert_int_equal(srv.active_conns, 1);
	assert_int_equal(srv.inactive_conns, 1); /* plain */
	assert_int_equal(srv.kernel_conns, 1);
	assert_int_equal(t.kernel_count, 1);
	/* a packet (a RST, say) changes nothing: the kernel's events do */
	conn_update(&t, c, DIR_INPUT, 0x04 /* RST */, 1000);
	assert_int_equal(c->state, TCP_S_ESTABLISHED);
	conn_kernel_state(c, TCP_S_TIME_WAIT);
	assert_int_equal(srv.active_conns, 0);
	assert_int_equal(srv.inactive_conns, 2);
	/* a year on, only the plain entry expired */
	assert_int_equal(conn_expire(&t, 365ULL * 86400 * 1000), 1);
	assert_ptr_equal(
	    conn_in_get(&t, IPPROTO_TCP, cl, htons(40000), vip, htons(80)), c);
	/* its server goes: so does its conntrack entry */
	kernel_dels = 0;
	assert_int_equal(conn_purge_dest(&t, &srv), 1);
	assert_int_equal(kernel_dels, 1);
	assert_int_equal(srv.kernel_conns, 0);
	assert_int_equal(t.kernel_count, 0);
	assert_int_equal(t.count, 0);
	conn_table_destroy(&t);
}

static void test_entry_size(void **state)
{
	/* budget: at most 128 bytes per entry (IPVS's own estimate) */
	assert_true(sizeof(struct conn) <= 128);
}

/* ipvsadm -x 4 -y 2: overloaded at 4 connections, usable again below 2;
 * without -y, below 3/4 of the upper threshold. */
static void test_thresholds(void **state)
{
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {
	    .svc = &svc, .weight = 1, .u_threshold = 4, .l_threshold = 2};
	struct conn *c[8];

	assert_int_equal(conn_table_init(&t, 100, 1, &to), 0);
	for (uint16_t p = 0; p < 4; p++) {
		assert_false(srv.overloaded);
		c[p] = conn_new(&t, IPPROTO_UDP, 1, p, 2, 3, &srv, FWD_NAT, 0);
	}
	assert_true(srv.overloaded);
	conn_del(&t, c[0]); /* 3 left: not below 2 */
	assert_true(srv.overloaded);
	conn_del(&t, c[1]); /* 2 left */
	assert_true(srv.overloaded);
	conn_del(&t, c[2]); /* 1 left: below the lower threshold */
	assert_false(srv.overloaded);
	conn_del(&t, c[3]);

	srv.l_threshold = 0; /* default: 3/4 of 4 = 3 */
	for (uint16_t p = 0; p < 4; p++)
		c[p] = conn_new(&t, IPPROTO_UDP, 1, p, 2, 3, &srv, FWD_NAT, 0);
	assert_true(srv.overloaded);
	conn_del(&t, c[0]); /* 3: 3 * 4 < 4 * 3 is false */
	assert_true(srv.overloaded);
	conn_del(&t, c[1]); /* 2 */
	assert_false(srv.overloaded);
	conn_del(&t, c[2]);
	conn_del(&t, c[3]);

	srv.u_threshold = 0; /* no limit */
	for (uint16_t p = 0; p < 8; p++)
		c[p] = conn_new(&t, IPPROTO_UDP, 1, p, 2, 3, &srv, FWD_NAT, 0);
	assert_false(srv.overloaded);
	conn_table_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup_both_ways),
	    cmocka_unit_test(test_bound),
	    cmocka_unit_test(test_drop_embryonic),
	    cmocka_unit_test(test_direct_return_life),
	    cmocka_unit_test(test_many_and_expiry_order),
	    cmocka_unit_test(test_timeout_change),
	    cmocka_unit_test(test_purge_dest),
	    cmocka_unit_test(test_entry_size),
	    cmocka_unit_test(test_kernel_bound),
	    cmocka_unit_test(test_thresholds),
	};

	return cmocka_run_group_tests_name("conn", tests, NULL, NULL);
}
