/* tcp_seg.h - TCP segmentation of a GSO super-packet in user space */
#ifndef NFQLB_TCP_SEG_H
#define NFQLB_TCP_SEG_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

/* Bytes of TCP payload p carries beyond its IP and TCP headers. */
uint32_t tcp_seg_payload(const struct pkt *p);

/*
 * Cuts the TCP packet p into segments carrying at most mss payload bytes,
 * as the kernel's tcp_gso_segment() does: headers copied, sequence
 * numbers advanced, IP ids counted up, FIN and PSH only on the last
 * segment, CWR only on the first, every checksum complete. Segment i is
 * written at out + i * stride + headroom (stride from tcp_seg_stride()),
 * its length to lens[i]. Returns the number of segments, or -1 when out
 * (cap bytes) or lens (max) is too small or mss is 0.
 */
int tcp_segment(const struct pkt *p, uint32_t mss, uint32_t headroom,
		uint8_t *out, size_t cap, uint32_t *lens, unsigned int max);

/* The distance between segments tcp_segment() writes. */
size_t tcp_seg_stride(const struct pkt *p, uint32_t mss, uint32_t headroom);
/* The largest payload per segment that keeps a segment of p, with encap
 * bytes of outer headers in front, within mtu; 0 if even p's own headers
 * do not fit (a super-packet with long options over a tiny MTU). */
uint32_t tcp_seg_mss(const struct pkt *p, uint32_t mtu, uint32_t encap);
/* How many segments p makes at mss. */
unsigned int tcp_seg_count(const struct pkt *p, uint32_t mss);

#endif
