/* test_ckpt.c - checkpoint format: round trip, ageing, the reload rule,
 * and every kind of corruption refused without a crash */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "conn.h"
#include "service.h"

static const struct timeouts_conf to = {900, 120, 60, 300};

/* Two services: web (tcp 203.0.113.10:80) and dns (udp :53), three
 * servers each (198.51.100.11..13, port 8080 / 5353). */
struct env {
	struct server_conf web_srv[3], dns_srv[3];
	struct service_conf sc[2];
	struct config cfg;
	struct service_set svcs;
	struct conn_table t;
	uint8_t *buf;
	size_t len;
};

static void env_conf(struct env *e, unsigned n_web, unsigned n_svcs)
{
	memset(&e->cfg, 0, sizeof(e->cfg));
	memset(e->sc, 0, sizeof(e->sc));
	for (unsigned i = 0; i < 3; i++) {
		e->web_srv[i] =
		    (struct server_conf){.addr = htonl(0xc6336400 + 11 + i),
					 .port = 8080,
					 .weight = 1};
		e->dns_srv[i] = e->web_srv[i];
		e->dns_srv[i].port = 5353;
	}
	snprintf(e->sc[0].name, sizeof(e->sc[0].name), "web");
	e->sc[0].proto = IPPROTO_TCP;
	e->sc[0].vip = ip4("203.0.113.10");
	e->sc[0].port = 80;
	snprintf(e->sc[0].scheduler, sizeof(e->sc[0].scheduler), "rr");
	e->sc[0].servers = e->web_srv;
	e->sc[0].n_servers = n_web;
	e->sc[1] = e->sc[0];
	snprintf(e->sc[1].name, sizeof(e->sc[1].name), "dns");
	e->sc[1].proto = IPPROTO_UDP;
	e->sc[1].port = 53;
	e->sc[1].servers = e->dns_srv;
	e->sc[1].n_servers = 3;
	e->cfg.services = e->sc;
	e->cfg.n_services = n_svcs;
	e->cfg.timeouts = to;
}

/* With persistence seconds on web (mask /32), if not 0. */
static struct env *env_new_p(unsigned n_web, unsigned n_svcs, uint32_t max,
			     unsigned persistence)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	env_conf(e, n_web, n_svcs);
	e->sc[0].persistence = persistence;
	e->sc[0].persist_mask = 0xffffffff;
	assert_int_equal(service_set_build(&e->svcs, &e->cfg), 0);
	assert_int_equal(conn_table_init(&e->t, max, 7, &e->cfg.timeouts), 0);
	return e;
}

static struct env *env_new(unsigned n_web, unsigned n_svcs, uint32_t max)
{
	return env_new_p(n_web, n_svcs, max, 0);
}

static void env_free(struct env *e)
{
	service_set_free(&e->svcs, NULL);
	conn_table_destroy(&e->t);
	free(e->buf);
	free(e);
}

static struct server *srv(struct env *e, unsigned svc, unsigned i)
{
	return e->svcs.svcs[svc]->servers[i];
}

/* A SYN, and with established the rest of the handshake. */
static void handshake(struct env *e, struct conn *c, bool established,
		      uint64_t now)
{
	conn_update(&e->t, c, DIR_INPUT, 0x02, now); /* SYN */
	if (established) {
		conn_update(&e->t, c, DIR_OUTPUT, 0x12, now); /* SYN-ACK */
		conn_update(&e->t, c, DIR_INPUT, 0x10, now);  /* ACK */
	}
}

/* A TCP flow from 192.0.2.2:port walked to state by real packets. */
static struct conn *tcp_flow(struct env *e, uint16_t port, unsigned server,
			     bool established, uint64_t now)
{
	struct conn *c = conn_new(&e->t, IPPROTO_TCP, ip4("192.0.2.2"),
				  htons(port), ip4("203.0.113.10"), htons(80),
				  srv(e, 0, server), FWD_NAT, now);

	assert_non_null(c);
	handshake(e, c, established, now);
	return c;
}

static struct conn *udp_flow(struct env *e, uint16_t port, unsigned server,
			     uint64_t now)
{
	struct conn *c = conn_new(&e->t, IPPROTO_UDP, ip4("192.0.2.2"),
				  htons(port), ip4("203.0.113.10"), htons(53),
				  srv(e, 1, server), FWD_NAT, now);

	assert_non_null(c);
	conn_update(&e->t, c, DIR_INPUT, 0, now);
	return c;
}

static void encode(struct env *e, uint64_t now, uint64_t wall)
{
	free(e->buf);
	e->buf = malloc(ckpt_size(ckpt_entries(&e->t)));
	assert_non_null(e->buf);
	e->len = ckpt_encode(&e->t, &e->svcs, now, wall, "test-1.0", e->buf);
	assert_int_equal(e->len, ckpt_size(ckpt_entries(&e->t)));
}

/* The standard table: 2 established + 1 half-open TCP, 2 UDP flows. */
static void fill(struct env *e, uint64_t now)
{
	tcp_flow(e, 40000, 0, true, now);
	tcp_flow(e, 40001, 1, true, now + 1000);
	tcp_flow(e, 40002, 2, false, now + 2000);
	udp_flow(e, 41000, 0, now + 3000);
	udp_flow(e, 41001, 2, now + 4000);
}

/* encode() and a view of the result, which must be valid. */
static void encode_checked(struct env *e, uint64_t now, uint64_t wall,
			   struct ckpt_view *v)
{
	encode(e, now, wall);
	assert_int_equal(ckpt_check(e->buf, e->len, v, NULL, 0), CKPT_OK);
}

/* The restored flow from 192.0.2.2:port to the VIP (proto's service). */
static struct conn *find(struct env *e, uint8_t proto, uint16_t port)
{
	struct conn *c = conn_in_get(&e->t, proto, ip4("192.0.2.2"),
				     htons(port), ip4("203.0.113.10"),
				     htons(proto == IPPROTO_TCP ? 80 : 53));

	assert_non_null(c);
	return c;
}

static enum ckpt_err check(const uint8_t *buf, size_t len)
{
	struct ckpt_view v;
	char why[160];
	enum ckpt_err err = ckpt_check(buf, len, &v, why, sizeof(why));

	/* every refusal says something */
	if (err != CKPT_OK)
		assert_true(strlen(why) > 0);
	return err;
}

static void test_crc32(void **state)
{
	/* the standard check value of CRC-32/ISO-HDLC */
	assert_int_equal(ckpt_crc32(0, "123456789", 9), 0xcbf43926);
	assert_int_equal(ckpt_crc32(0, "", 0), 0);
	/* incremental equals whole, across the 8-byte steps */
	assert_int_equal(ckpt_crc32(ckpt_crc32(0, "1234567", 7), "89", 2),
			 0xcbf43926);
}

static void test_round_trip(void **state)
{
	struct env *a = env_new(3, 2, 100), *b = env_new(3, 2, 100);
	struct ckpt_view v;
	struct ckpt_restore_stats st;
	uint64_t now = 10000;

	fill(a, now);
	encode(a, now + 5000, 1700000000000ull);
	assert_int_equal(check(a->buf, a->len), CKPT_OK);
	assert_int_equal(ckpt_check(a->buf, a->len, &v, NULL, 0), CKPT_OK);
	assert_int_equal(v.hdr.count, 5);
	assert_string_equal(v.hdr.writer, "test-1.0");
	assert_int_equal(v.hdr.created_ms, 1700000000000ull);

	/* the new process: another monotonic clock, the same wall clock */
	ckpt_restore(&v, &b->t, &b->svcs, 500, 1700000000000ull, &st);
	assert_int_equal(st.restored, 5);
	assert_int_equal(st.active, 2);
	assert_int_equal(st.inactive, 3);
	assert_int_equal(b->t.count, 5);
	for (unsigned s = 0; s < 2; s++)
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(srv(b, s, i)->active_conns,
					 srv(a, s, i)->active_conns);
			assert_int_equal(srv(b, s, i)->inactive_conns,
					 srv(a, s, i)->inactive_conns);
		}
	/* every flow: same server, state, method, remaining lifetime */
	for (int l = 0; l < CONN_TL_LAST; l++)
		for (struct conn *c = a->t.tl[l].head; c; c = c->tl_next) {
			struct conn *r =
			    conn_in_get(&b->t, c->proto, c->caddr, c->cport,
					c->vaddr, c->vport);

			assert_non_null(r);
			assert_int_equal(r->daddr, c->daddr);
			assert_int_equal(r->dport, c->dport);
			assert_int_equal(r->dest->addr, c->dest->addr);
			assert_string_equal(r->dest->svc->name,
					    c->dest->svc->name);
			assert_int_equal(r->state, c->state);
			assert_int_equal(r->fwd, c->fwd);
			assert_int_equal(r->tl, c->tl);
			assert_int_equal(r->flags, c->flags);
			assert_int_equal(r->expires - 500,
					 c->expires - (now + 5000));
			/* replies still find it */
			assert_ptr_equal(conn_out_get(&b->t, c->proto, c->daddr,
						      c->dport, c->caddr,
						      c->cport),
					 r);
		}
	/* and the restored table expires like the original */
	assert_int_equal(conn_expire(&b->t, 500 + 900 * 1000), 5);
	env_free(a);
	env_free(b);
}

static void test_empty_table(void **state)
{
	struct env *a = env_new(3, 2, 100), *b = env_new(3, 2, 100);
	struct ckpt_view v;
	struct ckpt_restore_stats st;

	encode(a, 0, 1);
	assert_int_equal(a->len, CKPT_HDR_LEN);
	assert_int_equal(ckpt_check(a->buf, a->len, &v, NULL, 0), CKPT_OK);
	ckpt_restore(&v, &b->t, &b->svcs, 0, 1, &st);
	assert_int_equal(st.restored, 0);
	assert_int_equal(b->t.count, 0);
	env_free(a);
	env_free(b);
}

/* Wall-clock time that passed is taken off every lifetime, and entries
 * whose lifetime is over are dropped. */
static void test_ageing(void **state)
{
	struct env *a = env_new(3, 2, 100), *b = env_new(3, 2, 100);
	struct ckpt_view v;
	struct ckpt_restore_stats st;
	struct conn *c;

	fill(a, 0);
	encode_checked(a, 4000, 1000000, &v);
	/* 100 s later: SYN_RECV (60 s timeout) is over, the rest lives */
	ckpt_restore(&v, &b->t, &b->svcs, 0, 1000000 + 100000, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.restored, 4);
	c = find(b, IPPROTO_UDP, 41000);
	/* last packet at 3000, written at 4000, 100 s later: 299 s - 100 s */
	assert_int_equal(c->expires, 300000 - 1000 - 100000);
	env_free(b);

	/* 1000 s later: everything is over */
	b = env_new(3, 2, 100);
	ckpt_restore(&v, &b->t, &b->svcs, 0, 1000000 + 1000000, &st);
	assert_int_equal(st.expired, 5);
	assert_int_equal(b->t.count, 0);
	env_free(b);

	/* a clock set back gives no extra life */
	b = env_new(3, 2, 100);
	ckpt_restore(&v, &b->t, &b->svcs, 0, 1000, &st);
	assert_int_equal(st.restored, 5);
	c = find(b, IPPROTO_UDP, 41000);
	assert_int_equal(c->expires, 300000 - 1000);
	env_free(a);
	env_free(b);
}

/* New timeouts apply from each flow's last packet, as a reload does. */
static void test_timeouts_rebased(void **state)
{
	struct env *a = env_new(3, 2, 100), *b = env_new(3, 2, 100);
	struct timeouts_conf shorter = {100, 120, 60, 30};
	struct ckpt_view v;
	struct ckpt_restore_stats st;
	struct conn *c;

	tcp_flow(a, 40000, 0, true, 0);
	udp_flow(a, 41000, 0, 0);
	encode_checked(a, 50000, 0, &v);
	conn_table_set_timeouts(&b->t, &shorter);
	ckpt_restore(&v, &b->t, &b->svcs, 7, 0, &st);
	/* UDP idle 50 s > new 30 s: over; TCP idle 50 s of 100 s */
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.restored, 1);
	c = find(b, IPPROTO_TCP, 40000);
	assert_int_equal(c->expires, 7 + 100000 - 50000);
	env_free(a);
	env_free(b);
}

/* A server or service the config no longer has: its flows are dropped,
 * as a reload drops them. */
static void test_gone_as_reload(void **state)
{
	struct env *a = env_new(3, 2, 100), *b = env_new(2, 1, 100);
	struct ckpt_view v;
	struct ckpt_restore_stats st;

	fill(a, 0);
	encode_checked(a, 0, 0, &v);
	ckpt_restore(&v, &b->t, &b->svcs, 0, 0, &st);
	assert_int_equal(st.no_server, 1);  /* web's s3 */
	assert_int_equal(st.no_service, 2); /* dns */
	assert_int_equal(st.restored, 2);
	assert_int_equal(srv(b, 0, 0)->active_conns, 1);
	assert_int_equal(srv(b, 0, 1)->active_conns, 1);
	env_free(a);
	env_free(b);
}

static void test_table_full_and_duplicates(void **state)
{
	struct env *a = env_new(3, 2, 100), *b = env_new(3, 2, 3);
	struct ckpt_view v;
	struct ckpt_restore_stats st;

	fill(a, 0);
	encode_checked(a, 0, 0, &v);
	ckpt_restore(&v, &b->t, &b->svcs, 0, 0, &st);
	assert_int_equal(st.restored, 3);
	assert_int_equal(st.table_full, 2);
	assert_int_equal(b->t.count, 3);
	/* restoring again over the same entries */
	ckpt_restore(&v, &b->t, &b->svcs, 0, 0, &st);
	assert_int_equal(st.duplicate, 3);
	assert_int_equal(st.restored, 0);
	env_free(a);
	env_free(b);
}

/* Rewrites the header checksum so a test reaches the check behind it. */
static void fix_hdr_crc(uint8_t *buf)
{
	uint32_t crc = ckpt_crc32(0, buf, 52);

	buf[52] = (uint8_t)(crc >> 24);
	buf[53] = (uint8_t)(crc >> 16);
	buf[54] = (uint8_t)(crc >> 8);
	buf[55] = (uint8_t)crc;
}

static void fix_rec_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = ckpt_crc32(0, buf + CKPT_HDR_LEN, len - CKPT_HDR_LEN);

	buf[44] = (uint8_t)(crc >> 24);
	buf[45] = (uint8_t)(crc >> 16);
	buf[46] = (uint8_t)(crc >> 8);
	buf[47] = (uint8_t)crc;
	fix_hdr_crc(buf);
}

/* Every length short of the whole file is refused; the error names the
 * part that is missing. Each cut is a fresh allocation of exactly that
 * size, so ASan sees any read past it. */
static void test_truncation_everywhere(void **state)
{
	struct env *a = env_new(3, 2, 100);

	fill(a, 0);
	encode(a, 0, 0);
	for (size_t n = 0; n < a->len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		enum ckpt_err err;

		assert_non_null(cut);
		memcpy(cut, a->buf, n);
		err = check(cut, n);
		if (n < CKPT_HDR_LEN)
			assert_int_equal(err, CKPT_E_SHORT);
		else
			assert_int_equal(err, CKPT_E_TRUNCATED);
		free(cut);
	}
	env_free(a);
}

/* Any single byte changed anywhere is caught. */
static void test_flipped_bytes(void **state)
{
	struct env *a = env_new(3, 2, 100);

	fill(a, 0);
	encode(a, 0, 0);
	for (size_t i = 0; i < a->len; i++)
		for (int bit = 0; bit < 8; bit++) {
			a->buf[i] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(check(a->buf, a->len), CKPT_OK);
			a->buf[i] ^= (uint8_t)(1u << bit);
		}
	assert_int_equal(check(a->buf, a->len), CKPT_OK);
	env_free(a);
}

static void test_bad_header_fields(void **state)
{
	struct env *a = env_new(3, 2, 100);
	uint8_t *b;

	fill(a, 0);
	encode(a, 0, 0);
	b = a->buf;

	memcpy(b, "NFQLBCKX", 8);
	assert_int_equal(check(b, a->len), CKPT_E_MAGIC);
	memcpy(b, "NFQLBCKP", 8);
	assert_int_equal(check(b, 3), CKPT_E_SHORT);

	b[9] = CKPT_VERSION + 1; /* a future version, checksums valid */
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_VERSION);
	b[8] = 0xff;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_VERSION);
	b[8] = 0;
	b[9] = 0;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_VERSION);
	b[9] = CKPT_VERSION;

	b[11] = CKPT_HDR_LEN + 8;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_HDR_LEN);
	b[11] = CKPT_HDR_LEN;
	b[13] = CKPT_REC_LEN - 1;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_REC_LEN);
	b[13] = CKPT_REC_LEN;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_OK);
	env_free(a);
}

static void test_absurd_counts(void **state)
{
	struct env *a = env_new(3, 2, 100);
	uint8_t *b;

	fill(a, 0);
	encode(a, 0, 0);
	b = a->buf;
	/* 0xffffffff and 2^26 + 1 records: beyond any table */
	memset(b + 40, 0xff, 4);
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_COUNT);
	b[40] = 0x04;
	b[41] = b[42] = 0;
	b[43] = 1;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_COUNT);
	/* one more than the file holds, one fewer */
	memset(b + 40, 0, 4);
	b[43] = 6;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_TRUNCATED);
	b[43] = 4;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_E_TRAILING);
	b[43] = 5;
	fix_hdr_crc(b);
	assert_int_equal(check(b, a->len), CKPT_OK);
	env_free(a);
}

/* Records with valid checksums but impossible fields (a buggy or
 * hostile writer) are refused as a whole file. */
static void test_impossible_records(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
	    {0, 0},    /* type 0 */
	    {0, 3},    /* unknown type */
	    {1, 1},    /* ICMP */
	    {2, 3},    /* method past tun */
	    {3, 11},   /* state past the last */
	    {4, 0x08}, /* unknown flag */
	    {6, 1},    /* reserved */
	    {27, 1},   /* reserved */
	    {32, 0xff} /* remaining far beyond the timeout */
	};
	struct env *a = env_new(3, 2, 100);

	fill(a, 0);
	encode(a, 0, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the 4th record is UDP, the first TCP */
		uint8_t *r = a->buf + CKPT_HDR_LEN;
		uint8_t old = r[bad[i].off];

		r[bad[i].off] = bad[i].val;
		fix_rec_crc(a->buf, a->len);
		assert_int_equal(check(a->buf, a->len), CKPT_E_RECORD);
		r[bad[i].off] = old;
	}
	/* a UDP record with a TCP state; a zero timeout */
	for (unsigned i = 0; i < 5; i++) {
		uint8_t *r = a->buf + CKPT_HDR_LEN + i * CKPT_REC_LEN;

		if (r[1] == IPPROTO_UDP) {
			r[3] = 1;
			fix_rec_crc(a->buf, a->len);
			assert_int_equal(check(a->buf, a->len), CKPT_E_RECORD);
			r[3] = 0;
		}
	}
	memset(a->buf + CKPT_HDR_LEN + 32, 0, 8);
	fix_rec_crc(a->buf, a->len);
	assert_int_equal(check(a->buf, a->len), CKPT_E_RECORD);
	env_free(a);
}

/* Records out of expiry order (not what we write, but a valid file) still
 * give timeout lists ordered by expiry; a template of a service without
 * persistence is dropped. */
static void test_order(void **state)
{
	struct env *b = env_new(3, 2, 100);
	size_t len = ckpt_size(4);
	uint8_t *buf = calloc(1, len);
	struct ckpt_header h = {.version = CKPT_VERSION, .count = 4};
	static const uint32_t remaining[3] = {200000, 100000, 250000};
	struct ckpt_view v;
	struct ckpt_restore_stats st;
	uint64_t last = 0;

	assert_non_null(buf);
	for (unsigned i = 0; i < 4; i++) {
		struct ckpt_rec r = {
		    .type = i < 3 ? CKPT_REC_CONN : CKPT_REC_TEMPLATE,
		    .proto = IPPROTO_UDP,
		    .caddr = ip4("192.0.2.2"),
		    .cport = htons((uint16_t)(41000 + i)),
		    .vaddr = ip4("203.0.113.10"),
		    .vport = htons(53),
		    .daddr = srv(b, 1, 0)->addr,
		    .dport = srv(b, 1, 0)->port,
		    .remaining_ms = i < 3 ? remaining[i] : 1000,
		    .timeout_ms = 300000,
		};

		ckpt_put_rec(buf + CKPT_HDR_LEN + i * CKPT_REC_LEN, &r);
	}
	h.crc = ckpt_crc32(0, buf + CKPT_HDR_LEN, len - CKPT_HDR_LEN);
	ckpt_put_header(buf, &h);
	assert_int_equal(check(buf, len), CKPT_OK);
	assert_int_equal(ckpt_check(buf, len, &v, NULL, 0), CKPT_OK);
	ckpt_restore(&v, &b->t, &b->svcs, 0, 0, &st);
	assert_int_equal(st.restored, 3);
	assert_int_equal(st.templates, 0);
	assert_int_equal(st.templates_dropped, 1);
	for (struct conn *c = b->t.tl[CONN_TL_UDP].head; c; c = c->tl_next) {
		assert_true(c->expires >= last);
		last = c->expires;
	}
	assert_int_equal(last, 250000);
	assert_int_equal(b->t.tl[CONN_TL_UDP].tail->expires, 250000);
	assert_int_equal(b->t.tl[CONN_TL_UDP].head->expires, 100000);
	/* expiry walks the list from its head */
	assert_int_equal(conn_expire(&b->t, 150000), 1);
	assert_int_equal(conn_expire(&b->t, 250000), 2);
	free(buf);
	env_free(b);
}

/* Client addr: its web template (rr's choice), and ports[] connections
 * made under it, as the core does. */
static struct persist_tmpl *persistent_client(struct env *e, const char *addr,
					      const uint16_t *ports, unsigned n,
					      uint64_t now)
{
	struct service *svc = e->svcs.svcs[0];
	struct pkt p = {.saddr = ip4(addr)};
	struct persist_tmpl *t = persist_schedule(&e->t.pt, svc, &p, now);

	assert_non_null(t);
	for (unsigned i = 0; i < n; i++) {
		struct conn *c =
		    conn_new(&e->t, IPPROTO_TCP, p.saddr, htons(ports[i]),
			     svc->vip, svc->port, t->dest, FWD_NAT, now);

		assert_non_null(c);
		handshake(e, c, true, now);
		c->ctl = t;
		persist_bind(svc, t, now);
	}
	return t;
}

static struct persist_tmpl *tmpl_of(struct env *e, const char *addr)
{
	return persist_get(&e->t.pt, e->svcs.svcs[0], ip4(addr));
}

/* Templates come back with their server, lifetime and the connections
 * they control; they steer the client's next connection; one whose time
 * is up lives on while it controls connections, as in IPVS. */
static void test_templates(void **state)
{
	static const uint16_t ports[2] = {40000, 40001};
	struct env *a = env_new_p(3, 2, 100, 60), *b = env_new_p(3, 2, 100, 60);
	struct service *svc = b->svcs.svcs[0];
	struct persist_tmpl *ta, *tb;
	struct pkt p = {.saddr = ip4("192.0.2.2")};
	struct ckpt_view v;
	struct ckpt_restore_stats st;

	/* .2 on s1 with two connections; .3 on s2 with none */
	ta = persistent_client(a, "192.0.2.2", ports, 2, 1000);
	assert_ptr_equal(ta->dest, srv(a, 0, 0));
	assert_ptr_equal(persistent_client(a, "192.0.2.3", NULL, 0, 2000)->dest,
			 srv(a, 0, 1));
	encode_checked(a, 6000, 0, &v);
	assert_int_equal(v.hdr.count, 4);
	ckpt_restore(&v, &b->t, &b->svcs, 7, 0, &st);
	assert_int_equal(st.templates, 2);
	assert_int_equal(st.restored, 2);
	tb = tmpl_of(b, "192.0.2.2");
	assert_non_null(tb);
	assert_ptr_equal(tb->dest, srv(b, 0, 0));
	assert_int_equal(tb->n_control, 2);
	assert_int_equal(tb->expires, 7 + 61000 - 6000);
	assert_ptr_equal(find(b, IPPROTO_TCP, 40000)->ctl, tb);
	assert_ptr_equal(find(b, IPPROTO_TCP, 40001)->ctl, tb);
	assert_int_equal(tmpl_of(b, "192.0.2.3")->n_control, 0);
	assert_int_equal(tmpl_of(b, "192.0.2.3")->expires, 7 + 62000 - 6000);
	/* the template, not rr (which would say s1), picks .3's server */
	p.saddr = ip4("192.0.2.3");
	assert_ptr_equal(persist_schedule(&b->t.pt, svc, &p, 100)->dest,
			 srv(b, 0, 1));
	env_free(b);

	/* 70 s later both templates' time is up: .3's goes, .2's stays
	 * while its connections live */
	b = env_new_p(3, 2, 100, 60);
	svc = b->svcs.svcs[0];
	ckpt_restore(&v, &b->t, &b->svcs, 7, 70000, &st);
	assert_int_equal(st.templates, 2);
	assert_int_equal(persist_expire(&b->t.pt, svc, 7), 1);
	assert_null(tmpl_of(b, "192.0.2.3"));
	tb = tmpl_of(b, "192.0.2.2");
	assert_non_null(tb);
	assert_int_equal(tb->expires, 7 + 60000);
	env_free(a);
	env_free(b);
}

/* A service whose persistence is now off: its templates are dropped, its
 * connections come back without one. */
static void test_templates_persistence_off(void **state)
{
	static const uint16_t ports[1] = {40000};
	struct env *a = env_new_p(3, 2, 100, 60), *b = env_new(3, 2, 100);
	struct ckpt_view v;
	struct ckpt_restore_stats st;

	persistent_client(a, "192.0.2.2", ports, 1, 1000);
	encode_checked(a, 1000, 0, &v);
	ckpt_restore(&v, &b->t, &b->svcs, 0, 0, &st);
	assert_int_equal(st.templates, 0);
	assert_int_equal(st.templates_dropped, 1);
	assert_int_equal(st.restored, 1);
	assert_null(find(b, IPPROTO_TCP, 40000)->ctl);
	assert_int_equal(b->t.pt.count, 0);
	env_free(a);
	env_free(b);
}

/* A firewall-mark service (no VIP, servers that keep the client's port):
 * its flows and templates are found again by mark, and a flow's server by
 * address with port 0. */
static void test_fwmark(void **state)
{
	static const uint16_t ports[1] = {40000};
	struct env *e[2];
	struct ckpt_view v;
	struct ckpt_restore_stats st;
	struct conn *c;

	for (int k = 0; k < 2; k++) {
		e[k] = calloc(1, sizeof(*e[k]));
		assert_non_null(e[k]);
		env_conf(e[k], 3, 1);
		e[k]->sc[0].fwmark = 5;
		e[k]->sc[0].vip = 0;
		e[k]->sc[0].port = 0;
		e[k]->sc[0].persistence = 60;
		e[k]->sc[0].persist_mask = 0xffffffff;
		for (int i = 0; i < 3; i++)
			e[k]->web_srv[i].port = 0;
		assert_int_equal(service_set_build(&e[k]->svcs, &e[k]->cfg), 0);
		assert_int_equal(conn_table_init(&e[k]->t, 100, 7, &to), 0);
	}
	persistent_client(e[0], "192.0.2.2", ports, 1, 1000);
	c = conn_in_get(&e[0]->t, IPPROTO_TCP, ip4("192.0.2.2"), htons(40000),
			0, 0);
	assert_non_null(c);
	encode_checked(e[0], 1000, 0, &v);
	ckpt_restore(&v, &e[1]->t, &e[1]->svcs, 0, 0, &st);
	assert_int_equal(st.templates, 1);
	assert_int_equal(st.restored, 1);
	c = conn_in_get(&e[1]->t, IPPROTO_TCP, ip4("192.0.2.2"), htons(40000),
			0, 0);
	assert_non_null(c);
	assert_ptr_equal(c->dest, srv(e[1], 0, 0));
	assert_non_null(c->ctl);
	assert_int_equal(c->ctl->n_control, 1);
	env_free(e[0]);
	env_free(e[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_empty_table),
	    cmocka_unit_test(test_ageing),
	    cmocka_unit_test(test_timeouts_rebased),
	    cmocka_unit_test(test_gone_as_reload),
	    cmocka_unit_test(test_table_full_and_duplicates),
	    cmocka_unit_test(test_truncation_everywhere),
	    cmocka_unit_test(test_flipped_bytes),
	    cmocka_unit_test(test_bad_header_fields),
	    cmocka_unit_test(test_absurd_counts),
	    cmocka_unit_test(test_impossible_records),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_templates),
	    cmocka_unit_test(test_templates_persistence_off),
	    cmocka_unit_test(test_fwmark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
