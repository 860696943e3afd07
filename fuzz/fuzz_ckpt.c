/*
 * fuzz_ckpt.c - libFuzzer harness for the checkpoint loader: a file's
 * bytes through ckpt_check() and, when it passes, ckpt_restore() into a
 * small table (the file is hostile: counts, lengths, fields and CRCs).
 *
 * Input: one control byte, then the file. Control bit 0 recomputes both
 * CRCs of the file before it is checked, so mutations reach the record
 * decoder instead of stopping at a checksum mismatch; bits 1-7 set how
 * long ago (wall clock) the file was written, in minutes.
 *
 * Invariants: ckpt_check() answers one of its errors and never reads
 * beyond the buffer; a valid file's restore accounts for every record
 * exactly once and never passes max_connections; the restored table,
 * encoded again, is a valid checkpoint that restores the same entries.
 */
#include <netinet/in.h>
#include <string.h>

#include "ckpt.h"
#include "conn.h"
#include "fuzz_check.h"
#include "service.h"

#define TABLE_MAX 32

/* Where ckpt.c keeps the CRCs (see its header drawing). */
#define H_COUNT	  40
#define H_CRC	  44
#define H_HDR_CRC 52

static struct config cfg;
static struct service_conf sc[2];
static struct server_conf web[3], dns[3];

static void setup(void)
{
	for (int i = 0; i < 3; i++) {
		web[i] = (struct server_conf){
		    htonl(0xc6336400 + 11 + (uint32_t)i), 8080, 1}; /* .11.. */
		dns[i] = web[i];
		dns[i].port = 5353;
	}
	snprintf(sc[0].name, sizeof(sc[0].name), "web");
	snprintf(sc[0].scheduler, sizeof(sc[0].scheduler), "rr");
	sc[0].proto = IPPROTO_TCP;
	sc[0].vip = fuzz_addr("203.0.113.10");
	sc[0].port = 80;
	sc[0].servers = web;
	sc[0].n_servers = 3;
	sc[1] = sc[0];
	snprintf(sc[1].name, sizeof(sc[1].name), "dns");
	sc[1].proto = IPPROTO_UDP;
	sc[1].port = 53;
	sc[1].servers = dns;
	cfg.services = sc;
	cfg.n_services = 2;
	cfg.timeouts = (struct timeouts_conf){900, 120, 60, 300};
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The CRCs a writer would have put there, for whatever count is said. */
static void fix_crcs(uint8_t *buf, size_t len)
{
	size_t recs;

	if (len < CKPT_HDR_LEN)
		return;
	recs = (size_t)get32(buf + H_COUNT) * CKPT_REC_LEN;
	if (recs <= len - CKPT_HDR_LEN)
		put32(buf + H_CRC, ckpt_crc32(0, buf + CKPT_HDR_LEN, recs));
	put32(buf + H_HDR_CRC, ckpt_crc32(0, buf, H_HDR_CRC));
}

static uint32_t sum_stats(const struct ckpt_restore_stats *st)
{
	return st->restored + st->expired + st->no_service + st->no_server +
	       st->duplicate + st->table_full + st->templates +
	       st->templates_dropped;
}

/* Restores v into a fresh table: checks the accounting, returns the
 * table (to be destroyed by the caller). */
static void restore(const struct ckpt_view *v, struct conn_table *t,
		    const struct service_set *set, uint64_t now, uint64_t wall,
		    struct ckpt_restore_stats *st)
{
	check(conn_table_init(t, TABLE_MAX, 3, &cfg.timeouts) == 0);
	ckpt_restore(v, t, set, now, wall, st);
	check(sum_stats(st) == v->hdr.count);
	check(st->restored == t->count && t->count <= TABLE_MAX);
	check(st->active + st->inactive == st->restored);
}

/* The restored table written out again must be a checkpoint that
 * restores every entry it holds. */
static void roundtrip(struct conn_table *t, const struct service_set *set,
		      uint64_t now, uint64_t wall)
{
	/* connections and as many persistence templates at most */
	static uint8_t out[CKPT_HDR_LEN + 2 * TABLE_MAX * CKPT_REC_LEN];
	struct ckpt_restore_stats st;
	struct conn_table t2;
	struct ckpt_view v;
	size_t n;

	check(ckpt_size(ckpt_entries(t)) <= sizeof(out));
	n = ckpt_encode(t, set, now, wall, "fuzz", out);
	check(n == ckpt_size(ckpt_entries(t)));
	check(ckpt_check(out, n, &v, NULL, 0) == CKPT_OK);
	check(v.hdr.count == ckpt_entries(t));
	restore(&v, &t2, set, now, wall, &st);
	check(st.restored + st.expired + st.templates == v.hdr.count);
	check(st.templates == t->pt.count);
	conn_table_destroy(&t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static struct service_set set;
	struct ckpt_restore_stats st;
	struct conn_table t;
	struct ckpt_view v;
	enum ckpt_err e;
	char why[256] = "";
	uint8_t *buf;

	if (!ready) {
		setup();
		check(service_set_build(&set, &cfg) == 0);
		ready = true;
	}
	if (size < 1)
		return 0;
	/* an exact copy: ASan then sees any read past the file's end */
	buf = malloc(size - 1 ? size - 1 : 1);
	check(buf != NULL);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		fix_crcs(buf, size - 1);
	e = ckpt_check(buf, size - 1, &v, why, sizeof(why));
	check(e < CKPT_E_LAST && strlen(why) < sizeof(why));
	if (e == CKPT_OK) {
		uint64_t now = 5000000, wall;

		check(ckpt_size(v.hdr.count) == size - 1);
		wall = v.hdr.created_ms + (uint64_t)(data[0] >> 1) * 60000;
		restore(&v, &t, &set, now, wall, &st);
		roundtrip(&t, &set, now, wall);
		conn_table_destroy(&t);
	}
	free(buf);
	return 0;
}
