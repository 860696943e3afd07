/* test_ctl.c - control protocol encoding, output formats, the estimator */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "ctl_fmt.h"
#include "ctl_proto.h"
#include "obuf.h"
#include "queue.h"
#include "sched.h"
#include "service.h"
#include "stats.h"

/* ------------------------------------------------------------ protocol */

static void test_request_roundtrip(void **state)
{
	const char *argv[] = {"web", "198.51.100.11:8080", "weight", "3"};
	uint8_t buf[CTL_HDR_LEN + CTL_MAX_BODY];
	struct ctl_request req;
	size_t used = 0;
	int n = ctl_request_encode(buf, sizeof(buf), CTL_CMD_SERVER, CTL_F_JSON,
				   4, argv);
	static const uint8_t hdr[CTL_HDR_LEN] = {
	    'N', 'Q', 1, CTL_CMD_SERVER, 0, 1, 0, 4, 0, 0, 0, 32};

	assert_int_equal(n, CTL_HDR_LEN + 32);
	assert_memory_equal(buf, hdr, sizeof(hdr));
	assert_memory_equal(buf + CTL_HDR_LEN, "web\0", 4);
	assert_int_equal(ctl_request_parse(&req, buf, (size_t)n, &used),
			 CTL_PARSE_DONE);
	assert_int_equal(used, n);
	assert_int_equal(req.cmd, CTL_CMD_SERVER);
	assert_int_equal(req.flags, CTL_F_JSON);
	assert_int_equal(req.argc, 4);
	for (int i = 0; i < 4; i++)
		assert_string_equal(req.argv[i], argv[i]);
	/* every shorter prefix asks for more */
	for (int len = 0; len < n; len++)
		assert_int_equal(
		    ctl_request_parse(&req, buf, (size_t)len, &used),
		    CTL_PARSE_MORE);
}

static void test_request_bad(void **state)
{
	/* header + body; each case breaks one rule */
	static const struct {
		uint8_t bytes[24];
		size_t len;
		enum ctl_parse want;
	} cases[] = {
	    /* bad magic, seen at once */
	    {{'X', 'Q'}, 2, CTL_PARSE_BAD},
	    {{'N', 'X'}, 2, CTL_PARSE_BAD},
	    /* another version: well-formed, refused as such */
	    {{'N', 'Q', 2, 1, 0, 0, 0, 0, 0, 0, 0, 0}, 12, CTL_PARSE_VERSION},
	    /* argc 2 but one string */
	    {{'N', 'Q', 1, 3, 0, 0, 0, 2, 0, 0, 0, 2, 'a', 0},
	     14,
	     CTL_PARSE_BAD},
	    /* body bytes after the last string */
	    {{'N', 'Q', 1, 3, 0, 0, 0, 1, 0, 0, 0, 3, 'a', 0, 'b'},
	     15,
	     CTL_PARSE_BAD},
	    /* string without its NUL */
	    {{'N', 'Q', 1, 3, 0, 0, 0, 1, 0, 0, 0, 2, 'a', 'b'},
	     14,
	     CTL_PARSE_BAD},
	    /* body longer than CTL_MAX_BODY */
	    {{'N', 'Q', 1, 3, 0, 0, 0, 0, 0, 0, 0x10, 1}, 12, CTL_PARSE_BAD},
	    /* more arguments than CTL_MAX_ARGS */
	    {{'N', 'Q', 1, 3, 0, 0, 0, 9, 0, 0, 0, 0}, 12, CTL_PARSE_BAD},
	};
	struct ctl_request req;
	size_t used;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ctl_request_parse(&req, cases[i].bytes,
						   cases[i].len, &used),
				 cases[i].want);
}

static void test_request_limits(void **state)
{
	static char big[CTL_MAX_BODY + 1];
	const char *many[CTL_MAX_ARGS + 1];
	const char *one[] = {big};
	uint8_t buf[CTL_HDR_LEN + CTL_MAX_BODY];

	for (int i = 0; i < CTL_MAX_ARGS + 1; i++)
		many[i] = "x";
	assert_int_equal(ctl_request_encode(buf, sizeof(buf), CTL_CMD_ZERO, 0,
					    CTL_MAX_ARGS + 1, many),
			 -1);
	memset(big, 'a', CTL_MAX_BODY - 1); /* with its NUL: exactly the max */
	assert_int_equal(
	    ctl_request_encode(buf, sizeof(buf), CTL_CMD_ZERO, 0, 1, one),
	    CTL_HDR_LEN + CTL_MAX_BODY);
	big[CTL_MAX_BODY - 1] = 'a'; /* one byte too many */
	assert_int_equal(
	    ctl_request_encode(buf, sizeof(buf), CTL_CMD_ZERO, 0, 1, one), -1);
}

static void test_frames(void **state)
{
	uint8_t hdr[CTL_HDR_LEN];
	struct ctl_frame f;

	ctl_frame_encode(hdr, CTL_FRAME_END, CTL_E_NOTFOUND, 42);
	assert_int_equal(ctl_frame_parse(&f, hdr, 11), CTL_PARSE_MORE);
	assert_int_equal(ctl_frame_parse(&f, hdr, sizeof(hdr)), CTL_PARSE_DONE);
	assert_int_equal(f.type, CTL_FRAME_END);
	assert_int_equal(f.status, CTL_E_NOTFOUND);
	assert_int_equal(f.len, 42);
	ctl_frame_encode(hdr, CTL_FRAME_DATA, CTL_OK, CTL_MAX_FRAME + 1);
	assert_int_equal(ctl_frame_parse(&f, hdr, sizeof(hdr)), CTL_PARSE_BAD);
	ctl_frame_encode(hdr, 7, CTL_OK, 1);
	assert_int_equal(ctl_frame_parse(&f, hdr, sizeof(hdr)), CTL_PARSE_BAD);
	/* another version may only say so in an END frame */
	ctl_frame_encode(hdr, CTL_FRAME_END, CTL_E_VERSION, 0);
	hdr[2] = 2;
	assert_int_equal(ctl_frame_parse(&f, hdr, sizeof(hdr)),
			 CTL_PARSE_VERSION);
	hdr[3] = CTL_FRAME_DATA;
	assert_int_equal(ctl_frame_parse(&f, hdr, sizeof(hdr)), CTL_PARSE_BAD);
}

/* ------------------------------------------------------------- escaping */

static void test_escaping(void **state)
{
	struct obuf b;

	obuf_init(&b);
	obuf_json_str(&b, "a\"b\\c\n\x01z");
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\u000a\\u0001z\"");
	obuf_reset(&b);
	obuf_prom_label(&b, "a\"b\\c\nd");
	assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
	obuf_reset(&b);
	for (int i = 0; i < 10000; i++)
		obuf_printf(&b, "%d,", i % 10);
	assert_int_equal(b.len, 20000);
	assert_false(b.oom);
	obuf_free(&b);
}

/* An empty message (NULL, 0), as every successful reply's end frame
 * carries: nothing added, and no NULL to memcpy (UBSan). */
static void test_obuf_empty_add(void **state)
{
	struct obuf b;

	(void)state;
	obuf_init(&b);
	obuf_add(&b, NULL, 0);
	assert_int_equal(b.len, 0);
	obuf_add(&b, "ab", 2);
	obuf_add(&b, NULL, 0);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ab");
	obuf_free(&b);
}

/* ------------------------------------------------------------ estimator */

static void test_estimator_converges(void **state)
{
	struct traffic_stats s = {0};
	struct stats_est e = {0};
	struct stats_rates r;

	/* 100 connections, 300 packets in, 1000 bytes in every 2 s */
	s.conns = 100;
	s.in_packets = 300;
	s.in_bytes = 1000;
	stats_est_sample(&e, &s);
	stats_est_read(&e, &r);
	/* first sample: a quarter of the rate, as ip_vs_est.c */
	assert_int_equal(e.cps, 100 << 9 >> 2);
	assert_int_equal(r.cps, 12);	/* (12800 + 0x1FF) >> 10 */
	assert_int_equal(r.in_pps, 37); /* 150/s / 4 = 37.5 */
	assert_int_equal(r.in_bps, 125);
	assert_int_equal(r.out_pps, 0);
	for (int i = 0; i < 60; i++) {
		s.conns += 100;
		s.in_packets += 300;
		s.in_bytes += 1000;
		stats_est_sample(&e, &s);
	}
	stats_est_read(&e, &r);
	assert_int_equal(r.cps, 50);
	assert_int_equal(r.in_pps, 150);
	assert_int_equal(r.in_bps, 500);
	/* traffic stops: the average decays to exactly 0 */
	for (int i = 0; i < 80; i++)
		stats_est_sample(&e, &s);
	stats_est_read(&e, &r);
	assert_int_equal(r.cps, 0);
	assert_int_equal(e.cps, 0);
	assert_int_equal(e.in_bps, 0);
	stats_zero(&s, &e);
	assert_int_equal(s.conns, 0);
	assert_int_equal(e.last_conns, 0);
}

/* --------------------------------------------------------------- output */

struct fixture {
	struct config cfg;
	struct service_conf sc;
	struct server_conf srv[2];
	struct service_set set;
	struct conn_table ct;
	uint64_t counters[CNT_LAST];
	struct ctl_view v;
};

static const struct timeouts_conf to = {900, 120, 60, 300};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->sc.name, sizeof(f->sc.name), "web");
	f->sc.proto = IPPROTO_TCP;
	f->sc.vip = ip4("203.0.113.10");
	f->sc.port = 80;
	snprintf(f->sc.scheduler, sizeof(f->sc.scheduler), "wrr");
	f->srv[0].addr = ip4("198.51.100.11");
	f->srv[0].port = 8080;
	f->srv[0].weight = 3;
	f->srv[1].addr = ip4("198.51.100.12");
	f->srv[1].port = 8080;
	f->srv[1].weight = 1;
	f->sc.servers = f->srv;
	f->sc.n_servers = 2;
	f->cfg.services = &f->sc;
	f->cfg.n_services = 1;
	assert_int_equal(service_set_build(&f->set, &f->cfg), 0);
	assert_int_equal(conn_table_init(&f->ct, 5000, 7, &to), 0);
	f->v.svcs = &f->set;
	f->v.ct = &f->ct;
	f->v.counters = f->counters;
	f->v.version = "9.9";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	service_set_free(&f->set, &f->ct);
	conn_table_destroy(&f->ct);
	free(f);
	return 0;
}

static struct server *srv(struct fixture *f, int i)
{
	return f->set.svcs[0]->servers[i];
}

/* n TCP flows from 192.0.2.2:10000+ to server i, at time 0 */
static void add_conns(struct fixture *f, int i, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		struct conn *c = conn_new(
		    &f->ct, IPPROTO_TCP, ip4("192.0.2.2"),
		    htons((uint16_t)(10000 + f->ct.count)), ip4("203.0.113.10"),
		    htons(80), srv(f, i), FWD_NAT, 0);

		assert_non_null(c);
		srv(f, i)->stats.conns++;
		f->set.svcs[0]->stats.conns++;
	}
}

static void test_list_table(void **state)
{
	struct fixture *f = *state;
	struct obuf b;

	add_conns(f, 0, 2);
	server_act(srv(f, 1), SERVER_DRAIN_IT, 0);
	obuf_init(&b);
	fmt_list(&b, &f->v, 0);
	assert_string_equal(
	    b.data,
	    "nfqlb version 9.9 (size=5000)\n"
	    "Prot LocalAddress:Port Scheduler Service\n"
	    "  -> RemoteAddress:Port           Forward Weight ActiveConn "
	    "InActConn State\n"
	    "TCP  203.0.113.10:80 wrr web\n"
	    "  -> 198.51.100.11:8080           Masq    3      0          2  "
	    "       up\n"
	    "  -> 198.51.100.12:8080           Masq    0      0          0  "
	    "       drain\n");
	/* a firewall-mark service is named by its mark, as ipvsadm does */
	obuf_reset(&b);
	f->set.svcs[0]->fwmark = 5;
	fmt_list(&b, &f->v, 0);
	assert_non_null(strstr(b.data, "\nFWM  5 wrr web\n  -> 198.51.100.11"));
	f->set.svcs[0]->fwmark = 0;
	obuf_reset(&b);
	srv(f, 0)->stats.in_packets = 12345678901ULL;
	f->set.svcs[0]->stats.in_packets = 12345678901ULL;
	fmt_list(&b, &f->v, CTL_F_STATS);
	assert_string_equal(
	    b.data,
	    "nfqlb version 9.9 (size=5000)\n"
	    "Prot LocalAddress:Port                Conns   InPkts  OutPkts  "
	    "InBytes OutBytes\n"
	    "  -> RemoteAddress:Port\n"
	    "TCP  203.0.113.10:80                      2 12345678901        0 "
	    "       0        0\n"
	    "  -> 198.51.100.11:8080                   2 12345678901        0 "
	    "       0        0\n"
	    "  -> 198.51.100.12:8080                   0        0        0    "
	    "    0        0\n"
	    "Dropped packets: truncated 0, bad_header 0, fragment 0, "
	    "unknown_protocol 0, icmp_not_error 0, icmp_bad_quote 0, "
	    "no_server 0, table_full 0, unknown_flow 0, "
	    "method_missing 0, neighbour_unresolved 0, no_route 0, "
	    "frag_needed 0, too_big 0, gso_unsupported 0, "
	    "icmp_unknown_flow 0, embryonic_dropped 0\n");
	obuf_free(&b);
}

static void test_list_json(void **state)
{
	struct fixture *f = *state;
	struct obuf b;

	add_conns(f, 1, 1);
	server_act(srv(f, 0), SERVER_DISABLE, 0);
	obuf_init(&b);
	fmt_list(&b, &f->v, CTL_F_JSON | CTL_F_RATE);
	assert_string_equal(
	    b.data,
	    "{\"services\":[{\"name\":\"web\",\"protocol\":\"tcp\","
	    "\"vip\":\"203.0.113.10\",\"port\":80,\"fwmark\":0,"
	    "\"scheduler\":\"wrr\",\"forward\":\"nat\",\"conns\":1,"
	    "\"active_conns\":0,\"inactive_conns\":1,\"in_packets\":0,"
	    "\"out_packets\":0,\"in_bytes\":0,\"out_bytes\":0,\"cps\":0,"
	    "\"in_pps\":0,\"out_pps\":0,\"in_bps\":0,\"out_bps\":0,"
	    "\"offload\":false,\"offloaded_conns\":0,"
	    "\"servers\":[{\"address\":\"198.51.100.11\",\"port\":8080,"
	    "\"weight\":3,\"state\":\"disabled\",\"conns\":0,"
	    "\"active_conns\":0,\"inactive_conns\":0,\"in_packets\":0,"
	    "\"out_packets\":0,\"in_bytes\":0,\"out_bytes\":0,\"cps\":0,"
	    "\"in_pps\":0,\"out_pps\":0,\"in_bps\":0,\"out_bps\":0,"
	    "\"offloaded_conns\":0},"
	    "{\"address\":\"198.51.100.12\",\"port\":8080,\"weight\":1,"
	    "\"state\":\"up\",\"conns\":1,\"active_conns\":0,"
	    "\"inactive_conns\":1,\"in_packets\":0,\"out_packets\":0,"
	    "\"in_bytes\":0,\"out_bytes\":0,\"cps\":0,\"in_pps\":0,"
	    "\"out_pps\":0,\"in_bps\":0,\"out_bps\":0,"
	    "\"offloaded_conns\":0}],"
	    "\"sorry_server\":null}],"
	    "\"drops\":{\"truncated\":0,\"bad_header\":0,\"fragment\":0,"
	    "\"unknown_protocol\":0,\"icmp_not_error\":0,"
	    "\"icmp_bad_quote\":0,\"no_server\":0,\"table_full\":0,"
	    "\"unknown_flow\":0,\"method_missing\":0,"
	    "\"neighbour_unresolved\":0,\"no_route\":0,\"frag_needed\":0,"
	    "\"too_big\":0,\"gso_unsupported\":0,"
	    "\"icmp_unknown_flow\":0,\"embryonic_dropped\":0},"
	    "\"queues\":[]}\n");
	obuf_free(&b);
}

/* Health: a down server's state, check and reason, without the log. */
static void test_list_health(void **state)
{
	struct fixture *f = *state;
	struct obuf b;

	srv(f, 0)->health.type = HEALTH_TCP;
	srv(f, 0)->health_down = true;
	snprintf(srv(f, 0)->health_reason, sizeof(srv(f, 0)->health_reason),
		 "connect: Connection refused");
	obuf_init(&b);
	fmt_list(&b, &f->v, 0);
	assert_non_null(strstr(
	    b.data, "  -> 198.51.100.11:8080           Masq    3      0    "
		    "      0         down\n"
		    "  -> 198.51.100.12:8080           Masq    1      0    "
		    "      0         up\n"));
	obuf_reset(&b);
	fmt_list(&b, &f->v, CTL_F_JSON);
	assert_non_null(strstr(b.data, "\"state\":\"down\","));
	assert_non_null(strstr(b.data, "\"out_bytes\":0,\"offloaded_conns\":0,"
				       "\"check\":\"tcp\","
				       "\"reason\":\"connect: Connection "
				       "refused\"}"));
	/* no check, no check fields */
	assert_null(strstr(strstr(b.data, "198.51.100.12"), "\"check\""));
	/* up again: the reason goes */
	srv(f, 0)->health_down = false;
	obuf_reset(&b);
	fmt_list(&b, &f->v, CTL_F_JSON);
	assert_non_null(strstr(b.data, "\"check\":\"tcp\",\"reason\":\"\"}"));
	obuf_free(&b);
}

static void test_server_actions(void **state)
{
	struct fixture *f = *state;
	struct server *s = srv(f, 0);
	bool amb;

	assert_ptr_equal(service_server_find(f->set.svcs[0],
					     ip4("198.51.100.11"), 0, true,
					     &amb),
			 s);
	assert_null(service_server_find(f->set.svcs[0], ip4("198.51.100.11"),
					htons(81), false, &amb));
	assert_false(amb);
	server_act(s, SERVER_SET_WEIGHT, 7);
	assert_int_equal(s->weight, 7);
	assert_int_equal(server_state(s), SERVER_UP);
	server_act(s, SERVER_DRAIN_IT, 0);
	assert_int_equal(server_state(s), SERVER_DRAIN);
	assert_false(sched_server_usable(s));
	server_act(s, SERVER_DISABLE, 0);
	assert_int_equal(server_state(s), SERVER_DISABLED);
	server_act(s, SERVER_ENABLE, 0);
	assert_int_equal(s->weight, 3); /* the configured weight */
	assert_int_equal(server_state(s), SERVER_UP);
	assert_true(sched_server_usable(s));
	server_act(s, SERVER_DISABLE, 0);
	assert_false(sched_server_usable(s));
	/* a disabled server is never scheduled, whatever its weight */
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(
		    f->set.svcs[0]->sched->schedule(f->set.svcs[0], NULL, 0),
		    srv(f, 1));
}

static unsigned int count(const char *hay, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A listing in tiny steps is the same as in one go. */
static void test_conns_stream(void **state)
{
	struct fixture *f = *state;
	struct obuf one, steps;
	struct fmt_conns c1 = {0}, c2 = {0};
	unsigned int n;

	add_conns(f, 0, 700);
	add_conns(f, 1, 300);
	obuf_init(&one);
	obuf_init(&steps);
	for (int json = 0; json < 2; json++) {
		unsigned int flags = json ? CTL_F_JSON : 0;

		memset(&c1, 0, sizeof(c1));
		memset(&c2, 0, sizeof(c2));
		obuf_reset(&one);
		obuf_reset(&steps);
		fmt_conns_step(&one, &f->v, flags, &c1, (size_t)-1, UINT32_MAX);
		assert_true(c1.done);
		for (n = 0; !c2.done; n++)
			fmt_conns_step(&steps, &f->v, flags, &c2, 1, 3);
		assert_true(n > 100);
		assert_int_equal(c1.listed, 1000);
		assert_string_equal(one.data, steps.data);
	}
	/* JSON: a well-formed list of 1000 objects */
	assert_int_equal(count(one.data, "{\"protocol\":\"tcp\""), 1000);
	assert_int_equal(count(one.data, "},{"), 999);
	assert_int_equal(strncmp(one.data, "{\"connections\":[{", 17), 0);
	assert_string_equal(one.data + one.len - 4, "}]}\n");
	assert_null(strstr(one.data, ",,"));
	assert_int_equal(count(steps.data, "\n"), 1);
	/* table: two header lines, then one line each */
	obuf_reset(&steps);
	memset(&c2, 0, sizeof(c2));
	fmt_conns_step(&steps, &f->v, 0, &c2, (size_t)-1, UINT32_MAX);
	assert_int_equal(count(steps.data, "\n"), 1002);
	assert_non_null(strstr(steps.data, "TCP 00:02  NONE        "
					   "192.0.2.2:10000       "
					   "203.0.113.10:80       "
					   "198.51.100.11:8080\n"));
	obuf_free(&one);
	obuf_free(&steps);
}

static void test_expire(void **state)
{
	char b[16];

	fmt_expire(b, sizeof(b), 0);
	assert_string_equal(b, "00:00");
	fmt_expire(b, sizeof(b), 125);
	assert_string_equal(b, "02:05");
	fmt_expire(b, sizeof(b), 900);
	assert_string_equal(b, "15:00");
}

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	struct obuf b;

	add_conns(f, 0, 4);
	f->counters[CNT_NO_SERVER] = 5;
	srv(f, 1)->stats.out_bytes = 1ULL << 40;
	snprintf(f->set.svcs[0]->name, sizeof(f->set.svcs[0]->name), "we\"b");
	obuf_init(&b);
	fmt_metrics(&b, &f->v);
	assert_non_null(
	    strstr(b.data, "# HELP nfqlb_service_connections_total Connections "
			   "scheduled.\n# TYPE nfqlb_service_connections_total "
			   "counter\nnfqlb_service_connections_total{service="
			   "\"we\\\"b\"} 4\n"));
	assert_non_null(strstr(b.data, "nfqlb_server_bytes_total{service="
				       "\"we\\\"b\",server=\"198.51.100.12:"
				       "8080\",direction=\"out\"} "
				       "1099511627776\n"));
	assert_non_null(
	    strstr(b.data, "nfqlb_packets_dropped_total{cause=\"no_server\"} "
			   "5\n"));
	assert_non_null(strstr(b.data, "nfqlb_connections 4\n"));
	/* one TYPE per family: packets_total in and out share one */
	assert_int_equal(count(b.data, "# TYPE nfqlb_server_packets_total "),
			 1);
	assert_int_equal(count(b.data, "# TYPE "), count(b.data, "# HELP "));
	assert_int_equal(b.data[b.len - 1], '\n');
	obuf_free(&b);
}

/* Each queue's figures: list --stats, --json list, the metrics. */
static void test_queues(void **state)
{
	struct fixture *f = *state;
	struct queue qs[2];
	struct obuf b;

	memset(qs, 0, sizeof(qs));
	qs[0].queue_num = 4;
	qs[0].stats = (struct queue_stats){.received = 100,
					   .batches = 10,
					   .lock_wait_ns = 500000000,
					   .lock_hold_ns = 1000000000,
					   .since_ms = 0};
	qs[1].queue_num = 5;
	qs[1].stats = (struct queue_stats){.received = 7,
					   .batches = 3,
					   .enobufs = 1,
					   .verdict_errors = 2,
					   .send_errors = 3,
					   .lock_wait_ns = 250000000,
					   .lock_hold_ns = 125000000,
					   .since_ms = 5000};
	f->v.queues = qs;
	f->v.n_queues = 2;
	f->v.now_ms = 10000;
	obuf_init(&b);
	fmt_list(&b, &f->v, CTL_F_STATS);
	assert_non_null(strstr(
	    b.data, "\nQueue 4: 100 packets in 10 batches, core lock held "
		    "10.0% waited 5.0% of 10 s, enobufs 0, verdict errors 0, "
		    "send errors 0\nQueue 5: 7 packets in 3 batches, core lock "
		    "held 2.5% waited 5.0% of 5 s, enobufs 1, verdict errors "
		    "2, send errors 3\n"));
	obuf_free(&b);
	obuf_init(&b);
	fmt_list(&b, &f->v, CTL_F_JSON);
	assert_non_null(strstr(
	    b.data, "},\"queues\":[{\"queue\":4,\"packets\":100,\"batches\":10,"
		    "\"enobufs\":0,\"verdict_errors\":0,\"send_errors\":0,"
		    "\"lock_wait_us\":500000,\"lock_hold_us\":1000000,"
		    "\"counting_ms\":10000},{\"queue\":5,\"packets\":7,"
		    "\"batches\":3,\"enobufs\":1,\"verdict_errors\":2,"
		    "\"send_errors\":3,\"lock_wait_us\":250000,"
		    "\"lock_hold_us\":125000,\"counting_ms\":5000}]}\n"));
	obuf_free(&b);
	obuf_init(&b);
	fmt_metrics(&b, &f->v);
	assert_non_null(strstr(b.data, "nfqlb_queue_packets_total{queue=\"4\"} "
				       "100\nnfqlb_queue_packets_total{queue="
				       "\"5\"} 7\n"));
	assert_non_null(strstr(b.data, "nfqlb_queue_lock_hold_seconds_total{"
				       "queue=\"5\"} 0.125000\n"));
	assert_non_null(strstr(b.data, "nfqlb_queue_send_errors_total{"
				       "queue=\"5\"} 3\n"));
	assert_int_equal(count(b.data, "# TYPE nfqlb_queue_"), 7);
	obuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_roundtrip),
	    cmocka_unit_test_setup_teardown(test_queues, setup, teardown),
	    cmocka_unit_test(test_request_bad),
	    cmocka_unit_test(test_request_limits),
	    cmocka_unit_test(test_frames),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_obuf_empty_add),
	    cmocka_unit_test(test_estimator_converges),
	    cmocka_unit_test(test_expire),
	    cmocka_unit_test_setup_teardown(test_list_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_health, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_actions, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_conns_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
