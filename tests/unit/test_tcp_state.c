/* test_tcp_state.c - IPVS's TCP state walk and active/inactive counts */
#include "unit.h"

#include <string.h>

#include "conn.h"
#include "pkt.h"
#include "proto_tcp.h"
#include "service.h"

#define SYN PKT_TCP_SYN
#define ACK PKT_TCP_ACK
#define FIN PKT_TCP_FIN
#define RST PKT_TCP_RST

static void test_table_rows(void **state)
{
	/* spot checks against ip_vs_proto_tcp.c tcp_states[] */
	assert_int_equal(tcp_next_state(DIR_INPUT, SYN, TCP_S_NONE),
			 TCP_S_SYN_RECV);
	assert_int_equal(tcp_next_state(DIR_INPUT, ACK, TCP_S_SYN_RECV),
			 TCP_S_ESTABLISHED);
	assert_int_equal(
	    tcp_next_state(DIR_INPUT, FIN | ACK, TCP_S_ESTABLISHED),
	    TCP_S_CLOSE_WAIT);
	assert_int_equal(
	    tcp_next_state(DIR_OUTPUT, FIN | ACK, TCP_S_ESTABLISHED),
	    TCP_S_FIN_WAIT);
	assert_int_equal(
	    tcp_next_state(DIR_INPUT_ONLY, FIN | ACK, TCP_S_ESTABLISHED),
	    TCP_S_FIN_WAIT);
	assert_int_equal(
	    tcp_next_state(DIR_INPUT, RST | ACK, TCP_S_ESTABLISHED),
	    TCP_S_CLOSE);
	/* RST wins over SYN */
	assert_int_equal(tcp_next_state(DIR_INPUT, RST | SYN, TCP_S_NONE),
			 TCP_S_CLOSE);
	/* no flag at all: CLOSE, as IPVS */
	assert_int_equal(tcp_next_state(DIR_INPUT, 0, TCP_S_ESTABLISHED),
			 TCP_S_CLOSE);
	assert_int_equal(tcp_next_state(DIR_OUTPUT, SYN | ACK, TCP_S_SYN_RECV),
			 TCP_S_SYN_RECV);
	assert_string_equal(tcp_state_name(TCP_S_TIME_WAIT), "TIME_WAIT");
}

struct walk_step {
	enum conn_dir dir;
	uint8_t flags;
	enum tcp_state expect;
	int active; /* expected server active_conns after the step */
};

/* A whole NAT connection: handshake, data, client closes first. */
static void test_walk_nat_close(void **state)
{
	static const struct walk_step steps[] = {
	    {DIR_INPUT, SYN, TCP_S_SYN_RECV, 0},
	    {DIR_OUTPUT, SYN | ACK, TCP_S_SYN_RECV, 0},
	    {DIR_INPUT, ACK, TCP_S_ESTABLISHED, 1},
	    {DIR_INPUT, ACK, TCP_S_ESTABLISHED, 1},
	    {DIR_OUTPUT, ACK, TCP_S_ESTABLISHED, 1},
	    {DIR_INPUT, FIN | ACK, TCP_S_CLOSE_WAIT, 0},
	    {DIR_OUTPUT, FIN | ACK, TCP_S_TIME_WAIT, 0},
	    {DIR_INPUT, ACK, TCP_S_TIME_WAIT, 0},
	};
	struct timeouts_conf to = {900, 120, 60, 300};
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {.svc = &svc, .addr = 1, .port = 2, .weight = 1};
	struct conn *c;

	assert_int_equal(conn_table_init(&t, 16, 7, &to), 0);
	c = conn_new(&t, IPPROTO_TCP, 10, 11, 20, 21, &srv, FWD_NAT, 0);
	assert_non_null(c);
	assert_int_equal(srv.inactive_conns, 1);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		conn_update(&t, c, steps[i].dir, steps[i].flags, 1000 * i);
		assert_int_equal(c->state, steps[i].expect);
		assert_int_equal(srv.active_conns, steps[i].active);
		assert_int_equal(srv.active_conns + srv.inactive_conns, 1);
	}
	/* TIME_WAIT lives 120 s (IPVS default) from the last packet */
	assert_int_equal(c->expires, 7000 + 120000);
	conn_del(&t, c);
	assert_int_equal(srv.inactive_conns, 0);
	conn_table_destroy(&t);
}

/* Direct return: only client packets are seen (INPUT_ONLY table). */
static void test_walk_input_only(void **state)
{
	struct timeouts_conf to = {900, 120, 60, 300};
	struct conn_table t;
	struct service svc = {.name = "t"};
	struct server srv = {.svc = &svc, .weight = 1};
	struct conn *c;

	assert_int_equal(conn_table_init(&t, 16, 7, &to), 0);
	c = conn_new(&t, IPPROTO_TCP, 10, 11, 20, 21, &srv, FWD_DR, 0);
	conn_update(&t, c, DIR_INPUT, SYN, 0);
	assert_int_equal(c->state, TCP_S_SYN_RECV);
	assert_int_equal(c->expires, 60000); /* tcp_syn */
	conn_update(&t, c, DIR_INPUT, ACK, 0);
	assert_int_equal(c->state, TCP_S_ESTABLISHED);
	assert_int_equal(c->expires, 900000); /* tcp */
	conn_update(&t, c, DIR_INPUT, FIN | ACK, 0);
	assert_int_equal(c->state, TCP_S_FIN_WAIT);
	assert_int_equal(c->expires, 120000); /* tcp_fin */
	conn_table_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_rows),
	    cmocka_unit_test(test_walk_nat_close),
	    cmocka_unit_test(test_walk_input_only),
	};

	return cmocka_run_group_tests_name("tcp_state", tests, NULL, NULL);
}
