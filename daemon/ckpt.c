/*
 * ckpt.c - the checkpoint format of the connection table.
 *
 * A checkpoint is one header followed by count fixed-width records, every
 * field big-endian, never an in-memory struct (the layout of struct conn
 * may change between versions; this format only changes with
 * CKPT_VERSION). Drawn as net/netfilter/ipvs/ip_vs_sync.c draws its
 * messages.
 *
 * Header (CKPT_HDR_LEN = 56 bytes):
 *
 *       0                   1                   2                   3
 *       0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *      +---------------------------------------------------------------+
 *    0 |                 magic "NFQLBCKP" (8 bytes)                    |
 *      |                                                               |
 *      +-------------------------------+-------------------------------+
 *    8 |        format version         |         header length         |
 *      +-------------------------------+-------------------------------+
 *   12 |         record length         |          reserved (0)         |
 *      +-------------------------------+-------------------------------+
 *   16 |          writer version (16 bytes, text, NUL padded)          |
 *      :                                                               :
 *      +---------------------------------------------------------------+
 *   32 |       creation time, wall clock ms since the epoch (64)       |
 *      |                                                               |
 *      +---------------------------------------------------------------+
 *   40 |                          record count                         |
 *      +---------------------------------------------------------------+
 *   44 |              CRC32 of the records (all count of them)         |
 *      +---------------------------------------------------------------+
 *   48 |                          reserved (0)                         |
 *      +---------------------------------------------------------------+
 *   52 |                  CRC32 of header bytes 0..51                  |
 *      +---------------------------------------------------------------+
 *
 *   magic           tells a checkpoint from any other file
 *   format version  CKPT_VERSION of the writer; a reader refuses a newer
 *                   one (it cannot know what the new fields mean)
 *   header length,  what this version's header and records measure; a
 *   record length   mismatch means a damaged or foreign file
 *   writer version  the writer's PACKAGE_VERSION, for the operator's log
 *   creation time   lifetimes are aged by the wall clock time since then
 *                   (the monotonic clock does not survive a reboot)
 *   record count    records that follow; the file is exactly
 *                   header length + count * record length bytes
 *   CRCs            IEEE 802.3 CRC32 (as zlib's crc32()); the header's own
 *                   lets a damaged count be told from a truncated file
 *
 * Record (CKPT_REC_LEN = 40 bytes):
 *
 *       0                   1                   2                   3
 *       0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *      +---------------+---------------+---------------+---------------+
 *    0 |     type      |   protocol    |    method     |     state     |
 *      +---------------+---------------+---------------+---------------+
 *    4 |     flags     |                  reserved (0)                 |
 *      +---------------+-----------------------------------------------+
 *    8 |                         client address                        |
 *      +---------------------------------------------------------------+
 *   12 |                        virtual address                        |
 *      +---------------------------------------------------------------+
 *   16 |                      real server address                      |
 *      +-------------------------------+-------------------------------+
 *   20 |          client port          |          virtual port         |
 *      +-------------------------------+-------------------------------+
 *   24 |        real server port       |          reserved (0)         |
 *      +-------------------------------+-------------------------------+
 *   28 |            firewall mark of the service (0: none)             |
 *      +---------------------------------------------------------------+
 *   32 |              remaining lifetime in milliseconds               |
 *      +---------------------------------------------------------------+
 *   36 |       timeout in milliseconds the lifetime was counted from   |
 *      +---------------------------------------------------------------+
 *
 *   type       1 connection; 2 persistence template (as IPVS's: client
 *              address masked with persistence_netmask, client port 0,
 *              the service's VIP and port, its server, no state);
 *              templates come first, so that the connections made under
 *              them find them again
 *   protocol   IP protocol number: 6 TCP, 17 UDP
 *   method     enum fwd_method: 0 nat, 1 dr, 2 tun
 *   state      enum tcp_state (IPVS's order); 0 for UDP
 *   flags      0x01 inactive (IPVS's inactconns rather than activeconns)
 *              0x02 offload: the flow of an offload service
 *              0x04 kernel: conntrack carries it (then its lifetime is
 *              the conntrack entry's: a restore binds it again, see
 *              ctevents.c, and remaining/timeout say nothing)
 *   addresses  the client-side tuple and the real server by address and
 *   and ports  port (never an index: the server list may change)
 *   firewall   for a firewall-mark service; the flow's service is then
 *   mark       found by mark, otherwise by protocol, vaddr and vport
 *   remaining  lifetime left at the creation time; with the timeout it
 *   timeout    gives the idle time, so a restore re-bases the expiry on
 *              the timeouts then in force, as a reload does
 */
#include "ckpt.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "proto_tcp.h"
#include "service.h"

/* Header field offsets. */
#define H_MAGIC	  0
#define H_VERSION 8
#define H_HDR_LEN 10
#define H_REC_LEN 12
#define H_WRITER  16
#define H_CREATED 32
#define H_COUNT	  40
#define H_CRC	  44
#define H_HDR_CRC 52

static const char *const err_names[CKPT_E_LAST] = {
    [CKPT_OK] = "valid",
    [CKPT_E_SHORT] = "shorter than a header",
    [CKPT_E_MAGIC] = "not a checkpoint (bad magic)",
    [CKPT_E_VERSION] = "unsupported format version",
    [CKPT_E_HDR_LEN] = "bad header length",
    [CKPT_E_REC_LEN] = "bad record length",
    [CKPT_E_HDR_CRC] = "header checksum mismatch",
    [CKPT_E_COUNT] = "absurd record count",
    [CKPT_E_TRUNCATED] = "truncated",
    [CKPT_E_TRAILING] = "trailing bytes after the records",
    [CKPT_E_CRC] = "record checksum mismatch",
    [CKPT_E_RECORD] = "impossible record",
};

const char *ckpt_strerror(enum ckpt_err e)
{
	return e < CKPT_E_LAST ? err_names[e] : "?";
}

/* ---------------------------------------------------------------- CRC32 */

/* Slicing-by-8 tables of the reflected IEEE polynomial, built once. */
static uint32_t crc_tab[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int s = 1; s < 8; s++)
			crc_tab[s][i] = (crc_tab[s - 1][i] >> 8) ^
					crc_tab[0][crc_tab[s - 1][i] & 0xff];
}

uint32_t ckpt_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc_tab[0][1])
		crc_init();
	crc = ~crc;
	/* eight bytes per step: the 40 MB of 1M entries in a few 10 ms */
	while (len >= 8) {
		uint32_t lo =
		    crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);

		crc = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		      crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
		      crc_tab[3][p[4]] ^ crc_tab[2][p[5]] ^ crc_tab[1][p[6]] ^
		      crc_tab[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ------------------------------------------------- big-endian fields */

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

static void put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)get16(b) << 16 | get16(b + 2);
}

static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) << 32 | get32(b + 4);
}

/* Network-order values (addresses, ports) are stored as they are: their
 * bytes already are big-endian. */
static void put_net32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, 4);
}
static void put_net16(uint8_t *b, uint16_t v)
{
	memcpy(b, &v, 2);
}

static uint32_t get_net32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

static uint16_t get_net16(const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}

/* ------------------------------------------------------------ encode */

size_t ckpt_size(uint32_t count)
{
	return CKPT_HDR_LEN + (size_t)count * CKPT_REC_LEN;
}

void ckpt_put_header(uint8_t *buf, const struct ckpt_header *h)
{
	memset(buf, 0, CKPT_HDR_LEN);
	memcpy(buf + H_MAGIC, CKPT_MAGIC, 8);
	put16(buf + H_VERSION, h->version);
	put16(buf + H_HDR_LEN, CKPT_HDR_LEN);
	put16(buf + H_REC_LEN, CKPT_REC_LEN);
	memcpy(buf + H_WRITER, h->writer, strnlen(h->writer, CKPT_WRITER_LEN));
	put64(buf + H_CREATED, h->created_ms);
	put32(buf + H_COUNT, h->count);
	put32(buf + H_CRC, h->crc);
	put32(buf + H_HDR_CRC, ckpt_crc32(0, buf, H_HDR_CRC));
}

void ckpt_put_rec(uint8_t *buf, const struct ckpt_rec *r)
{
	memset(buf, 0, CKPT_REC_LEN);
	buf[0] = r->type;
	buf[1] = r->proto;
	buf[2] = r->fwd;
	buf[3] = r->state;
	buf[4] = r->flags;
	put_net32(buf + 8, r->caddr);
	put_net32(buf + 12, r->vaddr);
	put_net32(buf + 16, r->daddr);
	put_net16(buf + 20, r->cport);
	put_net16(buf + 22, r->vport);
	put_net16(buf + 24, r->dport);
	put32(buf + 28, r->fwmark);
	put32(buf + 32, r->remaining_ms);
	put32(buf + 36, r->timeout_ms);
}

static uint32_t clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Lifetime left of something expiring at expires, within timeout. */
static void put_lifetime(struct ckpt_rec *r, uint64_t expires, uint64_t timeout,
			 uint64_t now_ms)
{
	r->timeout_ms = clamp32(timeout);
	if (expires > now_ms)
		r->remaining_ms = clamp32(expires - now_ms);
	if (r->remaining_ms > r->timeout_ms)
		r->remaining_ms = r->timeout_ms;
}

struct tmpl_writer {
	const struct service *svc;
	uint8_t *p;
	uint32_t count;
	uint64_t now_ms;
};

static void put_template(const struct persist_tmpl *t, void *arg)
{
	struct tmpl_writer *tw = arg;
	const struct service *svc = tw->svc;
	struct ckpt_rec r = {
	    .type = CKPT_REC_TEMPLATE,
	    .proto = svc->proto,
	    .fwd = (uint8_t)svc->fwd,
	    .caddr = t->caddr,
	    .vaddr = svc->vip,
	    .vport = svc->port,
	    .daddr = t->dest->addr,
	    .dport = t->dest->port,
	    .fwmark = svc->fwmark,
	};

	put_lifetime(&r, t->expires, svc->persist_ms, tw->now_ms);
	ckpt_put_rec(tw->p, &r);
	tw->p += CKPT_REC_LEN;
	tw->count++;
}

uint32_t ckpt_entries(const struct conn_table *t)
{
	return t->count + t->pt.count;
}

static uint8_t ckpt_conn_flags(const struct conn *c)
{
	return (uint8_t)((conn_is_active(c) ? 0 : CKPT_RF_INACTIVE) |
			 (c->flags & CONN_F_OFFLOAD ? CKPT_RF_OFFLOAD : 0) |
			 (c->flags & CONN_F_KERNEL ? CKPT_RF_KERNEL : 0));
}

size_t ckpt_encode(const struct conn_table *t, const struct service_set *svcs,
		   uint64_t now_ms, uint64_t wall_ms, const char *writer,
		   uint8_t *buf)
{
	struct ckpt_header h = {.version = CKPT_VERSION, .created_ms = wall_ms};
	struct tmpl_writer tw = {.p = buf + CKPT_HDR_LEN, .now_ms = now_ms};

	/* Templates first, so the connections made under them find them
	 * on restore. A service whose persistence was switched off keeps
	 * no template worth restoring. */
	for (unsigned int i = 0; i < svcs->n; i++) {
		tw.svc = svcs->svcs[i];
		if (tw.svc->persist_ms)
			persist_for_each(tw.svc, put_template, &tw);
	}
	/* Walking each timeout list from its head writes the entries of a
	 * list in expiry order, which a restore keeps for free (the same
	 * holds for a service's templates). */
	for (int i = 0; i < CONN_TL_LAST; i++) {
		const struct conn_tlist *l = &t->tl[i];

		for (const struct conn *c = l->head; c; c = c->tl_next) {
			struct ckpt_rec r = {
			    .type = CKPT_REC_CONN,
			    .proto = c->proto,
			    .fwd = c->fwd,
			    .state = c->state,
			    .flags = ckpt_conn_flags(c),
			    .caddr = c->caddr,
			    .vaddr = c->vaddr,
			    .daddr = c->daddr,
			    .cport = c->cport,
			    .vport = c->vport,
			    .dport = c->dport,
			    .fwmark = c->dest->svc->fwmark,
			};

			put_lifetime(&r, c->expires, l->timeout_ms, now_ms);
			ckpt_put_rec(tw.p, &r);
			tw.p += CKPT_REC_LEN;
			tw.count++;
		}
	}
	h.count = tw.count;
	snprintf(h.writer, sizeof(h.writer), "%s", writer);
	h.crc = ckpt_crc32(0, buf + CKPT_HDR_LEN,
			   (size_t)(tw.p - buf) - CKPT_HDR_LEN);
	ckpt_put_header(buf, &h);
	return (size_t)(tw.p - buf);
}

/* ------------------------------------------------------------ decode */

enum ckpt_err ckpt_get_rec(const uint8_t *buf, struct ckpt_rec *r)
{
	r->type = buf[0];
	r->proto = buf[1];
	r->fwd = buf[2];
	r->state = buf[3];
	r->flags = buf[4];
	r->caddr = get_net32(buf + 8);
	r->vaddr = get_net32(buf + 12);
	r->daddr = get_net32(buf + 16);
	r->cport = get_net16(buf + 20);
	r->vport = get_net16(buf + 22);
	r->dport = get_net16(buf + 24);
	r->fwmark = get32(buf + 28);
	r->remaining_ms = get32(buf + 32);
	r->timeout_ms = get32(buf + 36);

	if (r->type != CKPT_REC_CONN && r->type != CKPT_REC_TEMPLATE)
		return CKPT_E_RECORD;
	if (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
		return CKPT_E_RECORD;
	if (r->fwd >= FWD_LAST || r->state >= TCP_S_LAST ||
	    (r->proto == IPPROTO_UDP && r->state != 0))
		return CKPT_E_RECORD;
	if (r->flags & ~(CKPT_RF_INACTIVE | CKPT_RF_OFFLOAD | CKPT_RF_KERNEL) ||
	    buf[5] || buf[6] || buf[7] || buf[26] || buf[27])
		return CKPT_E_RECORD;
	if (r->timeout_ms == 0 || r->remaining_ms > r->timeout_ms)
		return CKPT_E_RECORD;
	return CKPT_OK;
}

#define WHY(...)                                                               \
	do {                                                                   \
		if (why)                                                       \
			snprintf(why, why_len, __VA_ARGS__);                   \
	} while (0)

static enum ckpt_err check_header(const uint8_t *buf, size_t len,
				  struct ckpt_header *h, char *why,
				  size_t why_len)
{
	uint32_t crc;

	if (len >= 8 && memcmp(buf, CKPT_MAGIC, 8) != 0) {
		WHY("it does not start with \"%s\"", CKPT_MAGIC);
		return CKPT_E_MAGIC;
	}
	if (len < H_HDR_LEN + 2) {
		WHY("%zu bytes", len);
		return CKPT_E_SHORT;
	}
	h->version = get16(buf + H_VERSION);
	if (h->version != CKPT_VERSION) {
		WHY("format version %u, this build reads version %u",
		    h->version, CKPT_VERSION);
		return CKPT_E_VERSION;
	}
	if (get16(buf + H_HDR_LEN) != CKPT_HDR_LEN) {
		WHY("header length %u, version %u has %u",
		    get16(buf + H_HDR_LEN), CKPT_VERSION, CKPT_HDR_LEN);
		return CKPT_E_HDR_LEN;
	}
	if (len < CKPT_HDR_LEN) {
		WHY("%zu bytes, the header has %u", len, CKPT_HDR_LEN);
		return CKPT_E_SHORT;
	}
	crc = ckpt_crc32(0, buf, H_HDR_CRC);
	if (crc != get32(buf + H_HDR_CRC)) {
		WHY("header CRC32 %08x, computed %08x", get32(buf + H_HDR_CRC),
		    crc);
		return CKPT_E_HDR_CRC;
	}
	if (get16(buf + H_REC_LEN) != CKPT_REC_LEN) {
		WHY("record length %u, version %u has %u",
		    get16(buf + H_REC_LEN), CKPT_VERSION, CKPT_REC_LEN);
		return CKPT_E_REC_LEN;
	}
	memcpy(h->writer, buf + H_WRITER, CKPT_WRITER_LEN);
	h->writer[CKPT_WRITER_LEN] = '\0';
	h->created_ms = get64(buf + H_CREATED);
	h->count = get32(buf + H_COUNT);
	h->crc = get32(buf + H_CRC);
	return CKPT_OK;
}

enum ckpt_err ckpt_check(const uint8_t *buf, size_t len, struct ckpt_view *v,
			 char *why, size_t why_len)
{
	struct ckpt_header *h = &v->hdr;
	enum ckpt_err e = check_header(buf, len, h, why, why_len);
	uint32_t crc;

	if (e != CKPT_OK)
		return e;
	if (h->count > CKPT_MAX_RECORDS) {
		WHY("%" PRIu32 " records, more than the %u any table holds",
		    h->count, CKPT_MAX_RECORDS);
		return CKPT_E_COUNT;
	}
	if (len < ckpt_size(h->count)) {
		WHY("%zu bytes, %" PRIu32 " records need %zu", len, h->count,
		    ckpt_size(h->count));
		return CKPT_E_TRUNCATED;
	}
	if (len > ckpt_size(h->count)) {
		WHY("%zu bytes, %" PRIu32 " records need only %zu", len,
		    h->count, ckpt_size(h->count));
		return CKPT_E_TRAILING;
	}
	crc = ckpt_crc32(0, buf + CKPT_HDR_LEN, len - CKPT_HDR_LEN);
	if (crc != h->crc) {
		WHY("records CRC32 %08" PRIx32 ", computed %08" PRIx32, h->crc,
		    crc);
		return CKPT_E_CRC;
	}
	v->recs = buf + CKPT_HDR_LEN;
	for (uint32_t i = 0; i < h->count; i++) {
		struct ckpt_rec r;

		if (ckpt_get_rec(v->recs + (size_t)i * CKPT_REC_LEN, &r) !=
		    CKPT_OK) {
			WHY("record %" PRIu32 " of %" PRIu32
			    " holds an impossible value",
			    i + 1, h->count);
			return CKPT_E_RECORD;
		}
	}
	return CKPT_OK;
}

/* ----------------------------------------------------------- restore */

/*
 * The expiry a record has now: idle time so far is what the old timeout
 * had used up plus the wall clock time since the file was written, and
 * the current timeout of its list starts from its last packet, as
 * conn_table_set_timeouts() does on a reload. 0 when already over.
 */
static uint64_t restored_expiry(const struct ckpt_rec *r, uint64_t timeout,
				uint64_t elapsed, uint64_t now_ms)
{
	uint64_t idle = (uint64_t)(r->timeout_ms - r->remaining_ms) + elapsed;

	if (r->remaining_ms == 0 || idle >= timeout)
		return 0;
	return now_ms + timeout - idle;
}

/* The server of a record (or its service's sorry server), found as a
 * reload finds it: the service by its
 * firewall mark, or by protocol, VIP and port; the server by address and
 * port (a fwmark service's server may keep the client's port: port 0). */
static struct server *record_dest(const struct ckpt_rec *r,
				  const struct service_set *svcs,
				  bool *no_service)
{
	struct service *svc =
	    r->fwmark ? service_find_fwmark(svcs, r->proto, r->fwmark)
		      : service_find(svcs, r->proto, r->vaddr, r->vport);
	struct server *dest;

	*no_service = !svc;
	if (!svc)
		return NULL;
	dest = service_dest_find(svc, r->daddr, r->dport);
	if (!dest && svc->fwmark)
		dest = service_dest_find(svc, r->daddr, 0);
	return dest;
}

static void restore_template(const struct ckpt_rec *r, struct conn_table *t,
			     const struct service_set *svcs, uint64_t elapsed,
			     uint64_t now_ms, struct ckpt_restore_stats *st)
{
	bool no_service;
	struct server *dest = record_dest(r, svcs, &no_service);
	struct service *svc = dest ? dest->svc : NULL;
	uint32_t caddr;
	uint64_t expires;

	if (!svc || !svc->persist_ms) {
		st->templates_dropped++;
		return;
	}
	caddr = r->caddr & svc->persist_mask;
	/* one whose time is up stays until the next tick: the connections
	 * restored after it may hold it, and IPVS keeps a template while it
	 * controls connections */
	expires = restored_expiry(r, svc->persist_ms, elapsed, now_ms);
	if (!expires)
		expires = now_ms;
	if (persist_get(&t->pt, svc, caddr) ||
	    !persist_restore(&t->pt, svc, caddr, dest, expires)) {
		st->templates_dropped++;
		return;
	}
	st->templates++;
}

/* A restored connection of a persistent service is controlled by the
 * template it was made under, if that came back too. */
static void rebind_template(struct conn_table *t, struct conn *c)
{
	const struct service *svc = c->dest->svc;
	struct persist_tmpl *tp;

	if (!svc->persist_ms)
		return;
	tp = persist_get(&t->pt, svc, c->caddr & svc->persist_mask);
	if (tp && tp->dest == c->dest) {
		c->ctl = tp;
		tp->n_control++;
	}
}

static void restore_conn(const struct ckpt_rec *r, struct conn_table *t,
			 const struct service_set *svcs, uint64_t elapsed,
			 uint64_t now_ms, struct ckpt_restore_stats *st)
{
	bool no_service;
	struct server *dest;
	struct conn from = {0}, *c;
	uint8_t tl = r->proto == IPPROTO_TCP ? r->state : CONN_TL_UDP;
	uint64_t expires;

	/* the kernel's entry decides whether a flow it carries lives on */
	expires =
	    r->flags & CKPT_RF_KERNEL
		? now_ms + 1
		: restored_expiry(r, t->tl[tl].timeout_ms, elapsed, now_ms);
	if (!expires) {
		st->expired++;
		return;
	}
	dest = record_dest(r, svcs, &no_service);
	if (!dest) {
		if (no_service)
			st->no_service++;
		else
			st->no_server++;
		return;
	}
	if (conn_in_get(t, r->proto, r->caddr, r->cport, r->vaddr, r->vport)) {
		st->duplicate++;
		return;
	}
	from.proto = r->proto;
	from.caddr = r->caddr;
	from.cport = r->cport;
	from.vaddr = r->vaddr;
	from.vport = r->vport;
	from.fwd = r->fwd;
	from.state = r->state;
	c = conn_restore(t, &from, dest, expires);
	if (!c) {
		st->table_full++;
		return;
	}
	if (r->flags & CKPT_RF_OFFLOAD)
		c->flags |= CONN_F_OFFLOAD;
	if (r->flags & CKPT_RF_KERNEL)
		conn_kernel_bind(t, c, 0, -1);
	rebind_template(t, c);
	st->restored++;
	if (conn_is_active(c))
		st->active++;
	else
		st->inactive++;
}

void ckpt_restore(const struct ckpt_view *v, struct conn_table *t,
		  const struct service_set *svcs, uint64_t now_ms,
		  uint64_t wall_ms, struct ckpt_restore_stats *st)
{
	/* a clock set back gives no time credit, never negative ageing */
	uint64_t elapsed =
	    wall_ms > v->hdr.created_ms ? wall_ms - v->hdr.created_ms : 0;

	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < v->hdr.count; i++) {
		struct ckpt_rec r;

		/* ckpt_check() has vetted every record */
		ckpt_get_rec(v->recs + (size_t)i * CKPT_REC_LEN, &r);
		if (r.type == CKPT_REC_TEMPLATE)
			restore_template(&r, t, svcs, elapsed, now_ms, st);
		else
			restore_conn(&r, t, svcs, elapsed, now_ms, st);
	}
}
