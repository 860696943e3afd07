/*
 * test_persist.c - persistence templates as IPVS's: one server per
 * (masked) client while the template lives, kept alive by the
 * connections it controls, released after the timeout.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "sched.h"
#include "service.h"

static const struct timeouts_conf to = {900, 120, 60, 300};

struct env {
	struct conn_table ct;
	struct service svc;
	struct server srv[3];
	struct server *list[3];
	struct pkt pkt;
};

static struct env *env_new(unsigned timeout_s, unsigned prefix)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	assert_int_equal(conn_table_init(&e->ct, 1000, 7, &to), 0);
	snprintf(e->svc.name, sizeof(e->svc.name), "web");
	for (int i = 0; i < 3; i++) {
		e->srv[i].svc = &e->svc;
		e->srv[i].addr = htonl(0xc6336400 + 11 + i);
		e->srv[i].port = htons(8080);
		e->srv[i].weight = 1;
		e->list[i] = &e->srv[i];
	}
	e->svc.servers = e->list;
	e->svc.n_servers = 3;
	e->svc.sched = sched_find("rr");
	assert_int_equal(e->svc.sched->init_service(&e->svc), 0);
	e->svc.persist_mask = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
	persist_set_timeout(&e->svc, timeout_s * 1000ULL);
	e->pkt.proto = IPPROTO_TCP;
	e->pkt.daddr = ip4("203.0.113.10");
	e->pkt.dport = htons(80);
	return e;
}

static void env_free(struct env *e)
{
	for (int i = 0; i < 3; i++)
		conn_purge_dest(&e->ct, &e->srv[i]);
	assert_int_equal(e->ct.pt.count, 0);
	e->svc.sched->done_service(&e->svc);
	conn_table_destroy(&e->ct);
	free(e);
}

/* One new connection from client:port at now, as core.c makes it:
 * returns the server index, -1 for none. */
static int new_conn(struct env *e, const char *client, uint16_t port,
		    uint64_t now, struct conn **out)
{
	struct persist_tmpl *t;
	struct conn *c;

	e->pkt.saddr = ip4(client);
	e->pkt.sport = htons(port);
	t = persist_schedule(&e->ct.pt, &e->svc, &e->pkt, now);
	if (!t)
		return -1;
	c = conn_new(&e->ct, IPPROTO_TCP, e->pkt.saddr, e->pkt.sport,
		     e->pkt.daddr, e->pkt.dport, t->dest, FWD_NAT, now);
	assert_non_null(c);
	c->ctl = t;
	persist_bind(&e->svc, t, now);
	if (out)
		*out = c;
	return (int)(t->dest - e->srv);
}

static void test_sticky_per_client(void **state)
{
	struct env *e = env_new(300, 32);

	/* rr alone would give 0 1 2 0 ...; a client keeps its first */
	assert_int_equal(new_conn(e, "192.0.2.2", 40000, 1000, NULL), 0);
	assert_int_equal(new_conn(e, "192.0.2.2", 40001, 2000, NULL), 0);
	assert_int_equal(new_conn(e, "192.0.2.3", 40000, 3000, NULL), 1);
	assert_int_equal(new_conn(e, "192.0.2.2", 40002, 4000, NULL), 0);
	assert_int_equal(new_conn(e, "192.0.2.4", 40000, 5000, NULL), 2);
	assert_int_equal(new_conn(e, "192.0.2.3", 40001, 6000, NULL), 1);
	assert_int_equal(e->ct.pt.count, 3);
	/* a quiesced or overloaded server keeps its persistent clients
	 * (IPVS, expire_quiescent_template = 0); new clients avoid it */
	e->srv[0].weight = 0;
	e->srv[1].overloaded = true;
	assert_int_equal(new_conn(e, "192.0.2.2", 40003, 7000, NULL), 0);
	assert_int_equal(new_conn(e, "192.0.2.3", 40002, 7000, NULL), 1);
	assert_int_equal(new_conn(e, "192.0.2.5", 40000, 7000, NULL), 2);
	/* a server taken out of service (disabled; health: down) loses
	 * them: a new template, while the old one lives on for the
	 * connections it controls */
	e->srv[0].weight = 1;
	e->srv[0].disabled = true;
	assert_int_equal(new_conn(e, "192.0.2.2", 40004, 8000, NULL), 2);
	assert_int_equal(new_conn(e, "192.0.2.2", 40005, 8000, NULL), 2);
	e->srv[0].disabled = false;
	assert_int_equal(new_conn(e, "192.0.2.2", 40006, 8000, NULL), 2);
	env_free(e);
}

/* A server down by its health check, or disabled, does not keep its
 * persistent clients (IPVS drops the templates of an unavailable
 * destination); its established connections and their template stay. */
static void test_unavailable_server(void **state)
{
	struct env *e = env_new(300, 32);
	struct conn *c;

	assert_int_equal(new_conn(e, "192.0.2.2", 40000, 1000, &c), 0);
	assert_int_equal(new_conn(e, "192.0.2.3", 40000, 1000, NULL), 1);
	e->srv[0].health_down = true;
	/* the client moves; the old template lives on with its connection */
	assert_int_equal(new_conn(e, "192.0.2.2", 40001, 2000, NULL), 2);
	assert_int_equal(new_conn(e, "192.0.2.2", 40002, 3000, NULL), 2);
	assert_int_equal(e->ct.pt.count, 3);
	assert_ptr_equal(c->dest, &e->srv[0]);
	e->srv[0].health_down = false;
	assert_int_equal(new_conn(e, "192.0.2.2", 40003, 4000, NULL), 2);
	/* disabled: same; a template that holds nothing goes at once */
	e->srv[1].disabled = true;
	assert_int_equal(new_conn(e, "192.0.2.3", 40001, 5000, NULL), 0);
	assert_int_equal(e->ct.pt.count, 4);
	conn_del(&e->ct, c);
	/* the hidden template expires with its last connection */
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 3000 + 300000), 1);
	env_free(e);
}

static void test_netmask(void **state)
{
	struct env *e = env_new(300, 24);

	assert_int_equal(new_conn(e, "192.0.2.2", 40000, 1000, NULL), 0);
	assert_int_equal(new_conn(e, "192.0.2.200", 40000, 1000, NULL), 0);
	assert_int_equal(new_conn(e, "198.51.100.7", 40000, 1000, NULL), 1);
	assert_int_equal(e->ct.pt.count, 2);
	env_free(e);
}

static void test_expiry(void **state)
{
	struct env *e = env_new(10, 32);
	struct conn *c;

	assert_int_equal(new_conn(e, "192.0.2.2", 40000, 1000, &c), 0);
	/* the connection lives: the template outlives its timeout */
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 11000), 0);
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 30000), 0);
	assert_int_equal(new_conn(e, "192.0.2.2", 40001, 30000, NULL), 0);
	conn_del(&e->ct, c);
	/* re-armed at 30 s by the new connection, which still lives */
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 45000), 0);
	conn_purge_dest(&e->ct, &e->srv[0]); /* also drops the template */
	assert_int_equal(e->ct.pt.count, 0);

	/* no connection left: gone timeout after the last one began */
	assert_int_equal(new_conn(e, "192.0.2.9", 40000, 50000, &c), 1);
	conn_del(&e->ct, c);
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 59999), 0);
	assert_int_equal(new_conn(e, "192.0.2.9", 40001, 59999, &c), 1);
	conn_del(&e->ct, c);
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 69998), 0);
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 69999), 1);
	/* the client is free: rr goes on to the next server */
	assert_int_equal(new_conn(e, "192.0.2.9", 40002, 70000, NULL), 2);
	env_free(e);
}

static void test_lookup_after_timeout(void **state)
{
	struct env *e = env_new(10, 32);
	struct conn *c;

	assert_int_equal(new_conn(e, "192.0.2.2", 40000, 1000, &c), 0);
	conn_del(&e->ct, c);
	/* past its time before the tick removed it: not used */
	assert_int_equal(new_conn(e, "192.0.2.2", 40001, 11000, NULL), 1);
	env_free(e);
}

static void test_timeout_change(void **state)
{
	struct env *e = env_new(10, 32);
	struct conn *c;

	assert_int_equal(new_conn(e, "192.0.2.2", 40000, 1000, &c), 0);
	conn_del(&e->ct, c);
	persist_set_timeout(&e->svc, 100000); /* 10 s -> 100 s */
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 100000), 0);
	assert_int_equal(persist_expire(&e->ct.pt, &e->svc, 101000), 1);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sticky_per_client),
	    cmocka_unit_test(test_unavailable_server),
	    cmocka_unit_test(test_netmask),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_lookup_after_timeout),
	    cmocka_unit_test(test_timeout_change),
	};

	return cmocka_run_group_tests_name("persist", tests, NULL, NULL);
}
