/*
 * test_tunnel.c - the packets the direct-return methods build, checked
 * byte by byte with an independent checksum: IPIP outer headers and outer
 * fragments, TCP segmentation of a super-packet, the ICMP "fragmentation
 * needed" error, and how VS/DR uses a neighbour entry in each NUD state.
 */
#include "unit.h"

#include <linux/neighbour.h>
#include <stdlib.h>
#include <string.h>

#include "icmp.h"
#include "ipfrag.h"
#include "ipip.h"
#include "neigh.h"
#include "pkt.h"
#include "pktbuild.h"
#include "tcp_seg.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void test_outer_header(void **state)
{
	uint8_t inner[1500], hdr[IPIP_HLEN];
	struct ipip_outer o = {.src = ip4("198.51.100.1"),
			       .dst = ip4("198.51.100.12"),
			       .id = 0xbeef,
			       .tos = 0x28,
			       .ttl = 64,
			       .df = true};
	size_t len = build(inner, IPPROTO_TCP, "192.0.2.2", 40000,
			   "203.0.113.10", 80, 0x10, 100, 0);

	(void)state;
	ipip_outer_write(hdr, &o, (uint32_t)len);
	assert_int_equal(hdr[0], 0x45);
	assert_int_equal(hdr[1], 0x28);
	assert_int_equal(get16(hdr + 2), IPIP_HLEN + len);
	assert_int_equal(get16(hdr + 4), 0xbeef);
	assert_int_equal(get16(hdr + 6), IP_DF);
	assert_int_equal(hdr[8], 64);
	assert_int_equal(hdr[9], IPPROTO_IPIP);
	assert_memory_equal(hdr + 12, &o.src, 4);
	assert_memory_equal(hdr + 16, &o.dst, 4);
	assert_true(ip_csum_ok(hdr));

	o.df = false;
	ipip_outer_write(hdr, &o, (uint32_t)len);
	assert_int_equal(get16(hdr + 6), 0);
	assert_true(ip_csum_ok(hdr));
}

static void test_outer_fragments(void **state)
{
	uint8_t inner[1500], whole[IPIP_HLEN + 1500], out[4096];
	struct ipip_outer o = {.src = ip4("198.51.100.1"),
			       .dst = ip4("198.51.100.12"),
			       .id = 7,
			       .ttl = 64};
	size_t len = build(inner, IPPROTO_UDP, "192.0.2.2", 40000,
			   "203.0.113.10", 53, 0, 1472, 0);
	uint32_t total = (uint32_t)(IPIP_HLEN + len), lens[8], off = 0;
	uint8_t *f = out;
	int n;

	(void)state;
	inner[6] = 0; /* no DF */
	ipip_outer_write(whole, &o, (uint32_t)len);
	memcpy(whole + IPIP_HLEN, inner, len);
	n = ip_fragment(whole, total, 1500, out, sizeof(out), lens, 8);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++) {
		uint16_t fo = get16(f + 6);

		assert_true(lens[i] <= 1500);
		assert_true(ip_csum_ok(f));
		assert_int_equal(get16(f + 2), lens[i]);
		assert_int_equal(get16(f + 4), 7);
		assert_int_equal((fo & 0x1fff) * 8, off);
		assert_int_equal(!!(fo & 0x2000), i + 1 < n);
		assert_memory_equal(f + IPIP_HLEN, whole + IPIP_HLEN + off,
				    lens[i] - IPIP_HLEN);
		if (i + 1 < n)
			assert_int_equal((lens[i] - IPIP_HLEN) % 8, 0);
		off += lens[i] - IPIP_HLEN;
		f += lens[i];
	}
	assert_int_equal(off, len);
	/* a DF packet is never fragmented, nor is anything into a tiny MTU */
	whole[6] = 0x40;
	assert_int_equal(
	    ip_fragment(whole, total, 1500, out, sizeof(out), lens, 8), -1);
	whole[6] = 0;
	assert_int_equal(
	    ip_fragment(whole, total, 24, out, sizeof(out), lens, 8), -1);
}

/* The segment size that fits an MTU, with and without the IPIP header;
 * none when the headers alone (here 20 + 60 with TCP options) do not fit,
 * where the subtraction used to wrap (found by fuzz/fuzz_core). */
static void test_seg_mss(void **state)
{
	uint8_t sp[20 + 60 + 100];
	size_t len = build(sp, IPPROTO_TCP, "192.0.2.2", 40000, "203.0.113.10",
			   80, 0x10, 100, 1);
	struct pkt p;

	(void)state;
	assert_int_equal(pkt_parse(&p, sp, (uint32_t)len), PKT_OK);
	assert_int_equal(tcp_seg_mss(&p, 1500, 0), 1460);
	assert_int_equal(tcp_seg_mss(&p, 1500, IPIP_HLEN), 1440);
	assert_int_equal(tcp_seg_mss(&p, 41, 0), 1);
	assert_int_equal(tcp_seg_mss(&p, 40, 0), 0);
	assert_int_equal(tcp_seg_mss(&p, 60, IPIP_HLEN), 0);
	/* data offset 15: 60 bytes of TCP header (the payload's first 40
	 * bytes read as options), 80 bytes of headers in all */
	sp[20 + 12] = 15 << 4;
	assert_int_equal(pkt_parse(&p, sp, (uint32_t)len), PKT_OK);
	assert_int_equal(tcp_seg_mss(&p, 68, 0), 0);
	assert_int_equal(tcp_seg_mss(&p, 80, 0), 0);
	assert_int_equal(tcp_seg_mss(&p, 81, 0), 1);
}

/* A super-packet of 10000 payload bytes cut at mss 1400: 8 segments whose
 * payloads put back together are the original, sequence numbers follow,
 * FIN/PSH only on the last, CWR only on the first, checksums complete. */
static void test_tcp_segment(void **state)
{
	uint8_t *sp = malloc(20 + 20 + 10000), *out;
	size_t len = build(sp, IPPROTO_TCP, "192.0.2.2", 40000, "203.0.113.10",
			   80, 0x80 | 0x18 | 0x01, 10000, 1);
	uint32_t lens[16], off = 0, seq0;
	struct pkt p;
	size_t stride;
	int n;

	(void)state;
	assert_int_equal(pkt_parse(&p, sp, (uint32_t)len), PKT_OK);
	seq0 = get32(p.l4 + 4);
	assert_int_equal(tcp_seg_count(&p, 1400), 8);
	stride = tcp_seg_stride(&p, 1400, IPIP_HLEN);
	out = malloc(stride * 8);
	assert_int_equal(
	    tcp_segment(&p, 1400, IPIP_HLEN, out, stride * 7, lens, 16),
	    -1); /* too little room */
	n = tcp_segment(&p, 1400, IPIP_HLEN, out, stride * 8, lens, 16);
	assert_int_equal(n, 8);
	for (int i = 0; i < n; i++) {
		uint8_t *ip = out + (size_t)i * stride + IPIP_HLEN,
			*th = ip + 20;
		uint32_t data = lens[i] - 40;

		assert_int_equal(get16(ip + 2), lens[i]);
		assert_int_equal(get16(ip + 4), 0x1234 + i);
		assert_true(ip_csum_ok(ip));
		assert_true(l4_csum_ok(ip));
		assert_int_equal(get32(th + 4), seq0 + off);
		assert_int_equal(!!(th[13] & 0x01), i == n - 1); /* FIN */
		assert_int_equal(!!(th[13] & 0x08), i == n - 1); /* PSH */
		assert_int_equal(!!(th[13] & 0x80), i == 0);	 /* CWR */
		assert_true(th[13] & 0x10);			 /* ACK */
		assert_memory_equal(th + 20, p.l4 + 20 + off, data);
		assert_true(data <= 1400);
		off += data;
	}
	assert_int_equal(off, 10000);
	free(out);
	free(sp);
}

static void test_frag_needed(void **state)
{
	uint8_t orig[1500], out[ICMP_ERR_MAX];
	size_t len = build(orig, IPPROTO_TCP, "192.0.2.2", 40000,
			   "203.0.113.10", 80, 0x10, 1460, 0);
	uint32_t vip = ip4("203.0.113.10");
	size_t n;

	(void)state;
	n = icmp_frag_needed(out, sizeof(out), orig, len, vip, 1480);
	assert_int_equal(n, 20 + 8 + 20 + 8);
	assert_true(ip_csum_ok(out));
	assert_int_equal(get16(out + 2), n);
	assert_int_equal(out[9], IPPROTO_ICMP);
	assert_memory_equal(out + 12, &vip, 4);	     /* from the VIP */
	assert_memory_equal(out + 16, orig + 12, 4); /* to the client */
	assert_int_equal(out[20], 3);		     /* unreachable */
	assert_int_equal(out[21], 4);		     /* fragmentation needed */
	assert_int_equal(get16(out + 26), 1480);     /* next-hop MTU */
	assert_int_equal(fold_be(sum_be(out + 20, n - 20, 0)), 0xffff);
	assert_memory_equal(out + 28, orig, 28); /* header + 8 bytes */
	/* garbage and no room are refused */
	assert_int_equal(
	    icmp_frag_needed(out, sizeof(out), orig, 10, vip, 1480), 0);
	assert_int_equal(icmp_frag_needed(out, 40, orig, len, vip, 1480), 0);
	/* never an error about an ICMP error (an echo request may have
	 * one): the relayed error of a flow, too big for the route */
	orig[9] = IPPROTO_ICMP;
	orig[20] = 3; /* destination unreachable */
	assert_int_equal(
	    icmp_frag_needed(out, sizeof(out), orig, len, vip, 1480), 0);
	orig[20] = 11; /* time exceeded */
	assert_int_equal(
	    icmp_frag_needed(out, sizeof(out), orig, len, vip, 1480), 0);
	orig[20] = 8; /* echo request */
	assert_int_equal(
	    icmp_frag_needed(out, sizeof(out), orig, len, vip, 1480), n);
}

static void test_mac_use(void **state)
{
	(void)state;
	assert_int_equal(neigh_mac_use(NUD_REACHABLE, true), NH_MAC_USE);
	assert_int_equal(neigh_mac_use(NUD_PERMANENT, true), NH_MAC_USE);
	assert_int_equal(neigh_mac_use(NUD_NOARP, true), NH_MAC_USE);
	assert_int_equal(neigh_mac_use(NUD_DELAY, true), NH_MAC_USE);
	assert_int_equal(neigh_mac_use(NUD_PROBE, true), NH_MAC_USE);
	assert_int_equal(neigh_mac_use(NUD_STALE, true), NH_MAC_USE_CONFIRM);
	assert_int_equal(neigh_mac_use(NUD_INCOMPLETE, false), NH_MAC_WAIT);
	assert_int_equal(neigh_mac_use(NUD_FAILED, true), NH_MAC_WAIT);
	assert_int_equal(neigh_mac_use(NUD_NONE, false), NH_MAC_WAIT);
	assert_int_equal(neigh_mac_use(NUD_REACHABLE, false), NH_MAC_WAIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outer_header),
	    cmocka_unit_test(test_outer_fragments),
	    cmocka_unit_test(test_seg_mss),
	    cmocka_unit_test(test_tcp_segment),
	    cmocka_unit_test(test_frag_needed),
	    cmocka_unit_test(test_mac_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
