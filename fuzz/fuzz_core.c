/*
 * fuzz_core.c - libFuzzer harness for the packet core: bytes in, verdict
 * and rewritten bytes out, through core_packet() as the queue calls it.
 *
 * One input is a short conversation, so flows get past their first packet
 * (a SYN, then the ACK, then the server's reply); every input starts from
 * an empty connection table. Records, until the input ends:
 *
 *   ctl  1 byte   bit 0: CORE_OUT (else CORE_IN), bit 1: csum_not_ready,
 *                 bit 2: gso, bits 3-4: what the route lookup answers
 *                 (enum nh_status), bits 5-7: the route's MTU (mtus[])
 *   len  2 bytes  big endian; cut to what the input still holds
 *   data len bytes, the queued packet (starting at the IPv4 header)
 *
 * Services (a NAT, a DR and a TUN one for TCP and for UDP each):
 *   203.0.113.10:80/tcp, :53/udp  nat -> 198.51.100.11, .12 (:8080, :5353)
 *   203.0.113.20:80/tcp, :53/udp  dr  -> 198.51.100.21
 *   203.0.113.30:80/tcp, :53/udp  tun -> 198.51.100.31
 * VS/DR and VS/TUN run their whole send path against a fake neighbour
 * table (fake_neigh.c) into the send batches, which are checked and
 * emptied after every packet instead of being sent.
 *
 * Invariants (a violation aborts, which libFuzzer reports as a crash):
 *  - no memory error or undefined behaviour (ASan, UBSan);
 *  - VERDICT_ACCEPT: the packet is unchanged, byte for byte;
 *  - VERDICT_MANGLED: same length; only the addresses, ports and
 *    checksums changed; the IP checksum verifies if it did before; the
 *    TCP/UDP checksum verifies if it did before, or if the kernel had
 *    left it to offload (csum_not_ready: the core must finish it); of an
 *    ICMP error, only the outer addresses, the ICMP checksum and the
 *    quoted header may change, and its checksums verify if they did;
 *  - every packet VS/DR or VS/TUN built: a sound IPv4 packet whose length
 *    fields match what is sent, checksums that verify, within the MTU;
 *    never an ICMP error about an ICMP error.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/unit/csum_verify.h"
#include "core.h"
#include "fake_neigh.h"
#include "fuzz_check.h"
#include "ipip.h"

#define MAX_RECORDS 16
#define PKT_MAX	    65535

static const uint32_t mtus[8] = {1500, 1280, 576, 68, 9000, 1480, 296, 65535};

static struct xmit_ctx xmit;
static struct core core;
static struct config cfg;
static struct service_conf sc[6];
static struct server_conf srv_nat[2], srv_dr[1], srv_tun[1];

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void service(struct service_conf *s, const char *name, uint8_t proto,
		    const char *vip, uint16_t port, enum fwd_method fwd,
		    struct server_conf *servers, unsigned int n)
{
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->scheduler, sizeof(s->scheduler), "rr");
	s->proto = proto;
	s->vip = fuzz_addr(vip);
	s->port = port;
	s->fwd = fwd;
	s->servers = servers;
	s->n_servers = n;
}

static void setup(void)
{
	srv_nat[0] = (struct server_conf){fuzz_addr("198.51.100.11"), 8080, 1};
	srv_nat[1] = (struct server_conf){fuzz_addr("198.51.100.12"), 8080, 1};
	srv_dr[0] = (struct server_conf){fuzz_addr("198.51.100.21"), 80, 1};
	srv_tun[0] = (struct server_conf){fuzz_addr("198.51.100.31"), 80, 1};
	for (int i = 0; i < 3; i++) {
		static const char *const vips[3] = {
		    "203.0.113.10", "203.0.113.20", "203.0.113.30"};
		static const char *const names[3][2] = {
		    {"web", "dns"}, {"drweb", "drdns"}, {"tunweb", "tundns"}};
		struct server_conf *srv[3] = {srv_nat, srv_dr, srv_tun};
		unsigned int n = i ? 1 : 2;

		service(&sc[2 * i], names[i][0], IPPROTO_TCP, vips[i], 80,
			(enum fwd_method)i, srv[i], n);
		service(&sc[2 * i + 1], names[i][1], IPPROTO_UDP, vips[i], 53,
			(enum fwd_method)i, srv[i], n);
	}
	cfg.services = sc;
	cfg.n_services = 6;
	cfg.timeouts = (struct timeouts_conf){900, 120, 60, 300};

	/* The send batches as xmit_open() sizes them, without sockets:
	 * they are emptied after every packet and never flushed. */
	if (txbatch_init(&xmit.dr, "dr", -1, 256, 4096) < 0 ||
	    txbatch_init(&xmit.raw, "tun", -1, 256, 2 * 1024 * 1024) < 0)
		abort();
	xmit.counters = core.counters;
	xmit.ip_id = 1;
	fake_hop.ifindex = 2;
	fake_hop.src = fuzz_addr("198.51.100.1");
	fake_hop.has_mac = true;
	memcpy(fake_hop.mac, "\x02\x00\x00\x00\x00\x21", 6);
	memcpy(fake_hop.ifmac, "\x02\x00\x00\x00\x00\x01", 6);
	/* per-packet warnings would flood the fuzzer's output */
	log_set_level((enum log_level)LOG_CRIT);
}

/* A parsed copy of the packet as it was queued. */
struct before {
	uint32_t len;
	bool parsed;	     /* pkt_parse() said PKT_OK, TCP or UDP */
	bool icmp;	     /* pkt_parse() said PKT_OK, an ICMP error */
	uint32_t ihl, tot;   /* when parsed or icmp */
	bool ip_ok, l4_ok;   /* checksums verified (l4: TCP, UDP, ICMP) */
	bool udp_no_csum;    /* UDP with checksum 0 */
	unsigned int l4_off; /* of the TCP/UDP checksum, from the IP header */
	uint32_t inner_off;  /* ICMP: the quoted IP header */
	uint32_t inner_end;  /* ... and the 8 bytes after it */
	bool inner_ok;	     /* ICMP: the quoted header's checksum verified */
	uint8_t data[PKT_MAX];
};

static void before_take(struct before *b, const uint8_t *data, uint32_t len)
{
	struct pkt p;

	memset(b, 0, offsetof(struct before, data));
	memcpy(b->data, data, len);
	b->len = len;
	if (pkt_parse(&p, b->data, len) != PKT_OK)
		return;
	b->ihl = p.ihl;
	b->tot = p.len;
	b->ip_ok = ip_csum_ok(b->data);
	if (p.proto == IPPROTO_ICMP) {
		b->icmp = true;
		b->l4_ok = buf_csum_ok(p.l4, p.l4len);
		b->inner_off = (uint32_t)(p.inner - b->data);
		b->inner_end = b->inner_off + p.inner_ihl + 8;
		b->inner_ok = ip_csum_ok(p.inner);
		return;
	}
	b->parsed = true;
	b->l4_ok = l4_csum_ok(b->data);
	b->l4_off = p.ihl + (p.proto == IPPROTO_TCP ? PKT_TCP_CSUM_OFF
						    : PKT_UDP_CSUM_OFF);
	b->udp_no_csum =
	    p.proto == IPPROTO_UDP && get16(b->data + b->l4_off) == 0;
}

/* Whether a VS/NAT rewrite may have changed byte i: addresses, ports and
 * checksums; of an ICMP error, also the header it quotes. */
static bool nat_field(const struct before *b, uint32_t i)
{
	if (i >= 10 && i < 20) /* checksum, addresses */
		return true;
	if (b->icmp)
		return (i >= b->ihl + 2 && i < b->ihl + 4) ||
		       (i >= b->inner_off && i < b->inner_end);
	return (i >= b->ihl && i < b->ihl + 4) ||     /* ports */
	       (i >= b->l4_off && i < b->l4_off + 2); /* L4 checksum */
}

static void check_mangled(const struct before *b, const struct core_pkt *cp)
{
	const uint8_t *p = cp->data;

	check(b->parsed || b->icmp);
	check(cp->len == b->len);
	check(get16(p + 2) == b->tot && (p[0] & 15) * 4u == b->ihl);
	for (uint32_t i = 0; i < b->len; i++)
		check(p[i] == b->data[i] || nat_field(b, i));
	if (b->ip_ok)
		check(ip_csum_ok(p));
	if (b->icmp) {
		if (b->l4_ok)
			check(buf_csum_ok(p + b->ihl, b->tot - b->ihl));
		if (b->inner_ok)
			check(ip_csum_ok(p + b->inner_off));
		return;
	}
	if (b->udp_no_csum && !cp->csum_not_ready)
		check(get16(p + b->l4_off) == 0); /* stays off */
	else if (b->l4_ok || cp->csum_not_ready)
		check(l4_csum_ok(p));
}

/* A message of a send batch, both parts copied together. */
static uint32_t msg_bytes(const struct txbatch *t, unsigned int i, uint8_t *out)
{
	const struct iovec *iov = &t->iov[(size_t)i * 2];

	check(iov[0].iov_len + iov[1].iov_len <= PKT_MAX + TXB_HDR_MAX);
	memcpy(out, iov[0].iov_base, iov[0].iov_len);
	memcpy(out + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
	return (uint32_t)(iov[0].iov_len + iov[1].iov_len);
}

/* A sound IPv4 header at p of a packet of exactly len bytes, with a
 * checksum that verifies if csum (a copied header keeps a bad one). */
static void check_ipv4(const uint8_t *p, uint32_t len, bool csum)
{
	check(len >= 20 && p[0] >> 4 == 4);
	check((p[0] & 15) * 4u <= len && (p[0] & 15) >= 5);
	check(get16(p + 2) == len);
	if (csum)
		check(ip_csum_ok(p));
}

/* The fragments one packet was sent in, put back together. */
struct reasm {
	uint32_t bytes, end;
	unsigned int n;
	bool last;
	uint8_t data[PKT_MAX]; /* last: what memset leaves alone */
};

static bool is_fragment(const uint8_t *ip)
{
	return get16(ip + 6) & 0x3fff;
}

/* A fragment: a sound IPv4 packet within the MTU, payload in 8-byte
 * units but for the last. */
static void reasm_add(struct reasm *r, const uint8_t *ip, uint32_t len,
		      uint32_t mtu)
{
	uint32_t ihl = (ip[0] & 15) * 4u, off = (get16(ip + 6) & 0x1fff) * 8u;
	uint32_t n;

	check_ipv4(ip, len, true);
	check(len <= mtu && !(get16(ip + 6) & 0x4000));
	n = len - ihl;
	check(off + n <= PKT_MAX);
	memcpy(r->data + off, ip + ihl, n);
	r->bytes += n;
	r->n++;
	if (get16(ip + 6) & 0x2000) {
		check(n % 8 == 0);
	} else {
		check(!r->last);
		r->last = true;
		r->end = off + n;
	}
}

/* The fragments make up want[len] exactly (but for an L4 checksum at
 * want + skip, which the sender may have finished). */
static void reasm_check(const struct reasm *r, const uint8_t *want,
			uint32_t len, uint32_t skip)
{
	if (r->n == 0)
		return;
	check(r->last && r->end == len && r->bytes == len);
	for (uint32_t i = 0; i < len; i++)
		check(r->data[i] == want[i] || i == skip || i == skip + 1);
}

/* VS/DR: the queued packet unchanged but for an offloaded checksum, in a
 * frame to the server's MAC, with a virtio-net header that fits it; or,
 * too big and without DF, in fragments that make it up. */
static void check_dr(const struct before *b, const struct core_pkt *cp,
		     uint32_t mtu)
{
	bool gso = cp->gso;

	static uint8_t m[PKT_MAX + TXB_HDR_MAX];
	static struct reasm r;

	memset(&r, 0, offsetof(struct reasm, data));
	for (unsigned int i = 0; i < xmit.dr.n; i++) {
		uint32_t len = msg_bytes(&xmit.dr, i, m);
		const struct virtio_net_hdr *vh = (const void *)m;
		const uint8_t *ip = m + sizeof(*vh) + ETH_HLEN;

		check(b->parsed || b->icmp);
		check(memcmp(m + sizeof(*vh), fake_hop.mac, 6) == 0);
		if (is_fragment(ip)) {
			check(!gso && vh->flags == 0);
			reasm_add(&r, ip, len - sizeof(*vh) - ETH_HLEN, mtu);
			continue;
		}
		check(len == sizeof(*vh) + ETH_HLEN + b->tot);
		for (uint32_t j = 0; j < b->tot; j++)
			check(ip[j] == b->data[j] ||
			      (b->parsed &&
			       (j == b->l4_off || j == b->l4_off + 1)));
		if (!gso)
			check(b->tot <= mtu);
		if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			check(vh->csum_start == ETH_HLEN + b->ihl &&
			      vh->csum_start + vh->csum_offset + 2u <=
				  ETH_HLEN + b->tot);
		if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
			check(vh->gso_size > 0 &&
			      vh->hdr_len + vh->gso_size <= ETH_HLEN + mtu);
	}
	if (!b->parsed || !cp->csum_not_ready) {
		reasm_check(&r, b->data + b->ihl, b->tot - b->ihl,
			    UINT32_MAX - 1);
		return;
	}
	/* the checksum the sender left to offload must be finished */
	reasm_check(&r, b->data + b->ihl, b->tot - b->ihl, b->l4_off - b->ihl);
	if (r.n)
		check(fold_be(sum_be(r.data, r.end,
				     pseudo_be(b->data, (uint16_t)r.end))) ==
		      0xffff);
}

/* What VS/TUN (and the ICMP errors) sent on the raw socket. */
static void check_raw(const struct before *b, const struct core_pkt *cp,
		      uint32_t mtu)
{
	static uint8_t m[PKT_MAX + TXB_HDR_MAX];
	static struct reasm r;

	memset(&r, 0, offsetof(struct reasm, data));
	for (unsigned int i = 0; i < xmit.raw.n; i++) {
		uint32_t len = msg_bytes(&xmit.raw, i, m), ihl;
		const uint8_t *in;

		check_ipv4(m, len, true);
		ihl = (m[0] & 15) * 4u;
		if (m[9] == IPPROTO_ICMP) { /* fragmentation needed */
			/* never an error about an error (RFC 1122 3.2.2) */
			check(b->parsed && m[ihl] == 3 && m[ihl + 1] == 4);
			check(buf_csum_ok(m + ihl, len - ihl));
			check(memcmp(m + 16, b->data + 12, 4) == 0);
			continue;
		}
		check(m[9] == IPPROTO_IPIP && len <= mtu &&
		      (b->parsed || b->icmp));
		if (is_fragment(m)) {
			reasm_add(&r, m, len, mtu);
			continue;
		}
		in = m + ihl;
		/* segments get new headers, copies keep theirs */
		check_ipv4(in, len - ihl, cp->gso || b->ip_ok);
		if (cp->gso) { /* a segment: complete checksums */
			check(in[9] == IPPROTO_TCP && l4_csum_ok(in));
		} else {
			check(len - ihl == b->tot);
			if (cp->csum_not_ready && b->parsed)
				check(l4_csum_ok(in));
			else
				check(memcmp(in, b->data, b->tot) == 0);
		}
	}
	/* outer fragments: the IPIP payload is the packet as queued, its
	 * offloaded checksum finished */
	if (!b->parsed || !cp->csum_not_ready) {
		reasm_check(&r, b->data, b->tot, UINT32_MAX - 1);
		return;
	}
	reasm_check(&r, b->data, b->tot, b->l4_off);
	if (r.n)
		check(l4_csum_ok(r.data));
}

static void one_packet(uint8_t ctl, const uint8_t *data, uint32_t len,
		       uint64_t now)
{
	static struct before b;
	static uint8_t buf[PKT_MAX];
	struct core_pkt cp = {buf, len, ctl & 1 ? CORE_OUT : CORE_IN,
			      (ctl & 2) != 0, (ctl & 4) != 0};
	uint32_t mtu = mtus[ctl >> 5];
	enum verdict v;
	bool balanced;

	memcpy(buf, data, len);
	before_take(&b, buf, len);
	fake_status = (enum nh_status)((ctl >> 3) & 3);
	fake_hop.mtu = mtu;
	v = core_packet(&core, &cp, now, &balanced);
	switch (v) {
	case VERDICT_ACCEPT:
		check(memcmp(buf, b.data, len) == 0);
		break;
	case VERDICT_MANGLED:
		check_mangled(&b, &cp);
		break;
	case VERDICT_DROP:
		break;
	default:
		check(!"a verdict out of range");
	}
	check_dr(&b, &cp, mtu);
	check_raw(&b, &cp, mtu);
	xmit.dr.n = xmit.raw.n = 0;
	xmit.dr.used = xmit.raw.used = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct conn_table ct;
	struct service_set set;
	uint64_t now = 1000;

	if (!ready) {
		setup();
		ready = true;
	}
	if (conn_table_init(&ct, 64, 5, &cfg.timeouts) < 0 ||
	    service_set_build(&set, &cfg) < 0)
		abort();
	core.ct = &ct;
	core.svcs = &set;
	core.xmit = &xmit;
	for (int r = 0; r < MAX_RECORDS && size >= 3; r++) {
		uint8_t ctl = data[0];
		uint32_t len = get16(data + 1);

		data += 3;
		size -= 3;
		if (len > size)
			len = (uint32_t)size;
		one_packet(ctl, data, len, now);
		data += len;
		size -= len;
		now += 10;
	}
	service_set_free(&set, &ct);
	conn_table_destroy(&ct);
	return 0;
}
