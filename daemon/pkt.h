/* pkt.h - IPv4/TCP/UDP header parsing of queued packets; never trusts them */
#ifndef NFQLB_PKT_H
#define NFQLB_PKT_H

#include <stdbool.h>
#include <stdint.h>

/* What the parser made of a packet. Each class has its own drop counter. */
enum pkt_class {
	PKT_OK = 0,
	PKT_TRUNCATED,	    /* shorter than its headers say */
	PKT_BAD_HEADER,	    /* not IPv4, header length or total length wrong */
	PKT_FRAGMENT,	    /* a fragment: no complete transport header */
	PKT_UNKNOWN_PROTO,  /* neither TCP nor UDP (nor an ICMP error) */
	PKT_ICMP_NOT_ERROR, /* ICMP, but not an error nfqlb relays */
	PKT_ICMP_BAD_QUOTE, /* ICMP error quoting no usable TCP/UDP header */
	PKT_CLASS_LAST,
};

/* TCP flag bits as they sit in the header's flags byte. */
#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_ACK 0x10

/* A parsed packet: pointers into the caller's buffer, ports in network
 * order (they are compared and copied, never computed with). */
struct pkt {
	uint8_t *data;	   /* start of the IPv4 header */
	uint32_t len;	   /* bytes in data (IP total length) */
	uint32_t ihl;	   /* IP header length in bytes */
	uint8_t proto;	   /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tcp_flags; /* TCP only */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint8_t *l4;	     /* transport header */
	uint32_t l4len;	     /* transport header + payload */
	uint32_t mark;	     /* netfilter mark, from the queue */
	bool csum_not_ready; /* checksum is the pseudo-header sum only */
	bool gso;	     /* a segmentation offload super-packet */
	/* ICMP errors (proto IPPROTO_ICMP): the packet they quote, which
	 * went the other way: its addresses and ports, network order */
	uint8_t icmp_type;
	uint8_t in_proto;
	uint8_t *inner;	    /* its IP header, inside our buffer */
	uint32_t inner_len; /* bytes of it quoted */
	uint32_t inner_ihl;
	uint32_t in_saddr, in_daddr;
	uint16_t in_sport, in_dport;
};

/* The ICMP errors relayed to real servers and back (as IPVS's
 * ip_vs_in_icmp()/ip_vs_out_icmp(); source quench is obsolete, RFC 6633). */
#define PKT_ICMP_DEST_UNREACH  3
#define PKT_ICMP_TIME_EXCEEDED 11

enum pkt_class pkt_parse(struct pkt *p, uint8_t *data, uint32_t caplen);
/* Computes p's TCP/UDP checksum from scratch into its header. */
void pkt_l4_csum_full(struct pkt *p);
const char *pkt_class_name(enum pkt_class c);

/* The IP header's "don't fragment" bit. */
static inline bool pkt_df(const struct pkt *p)
{
	return p->data[6] & 0x40;
}

/* Offsets of the checksum field inside the transport header. */
#define PKT_TCP_CSUM_OFF 16
#define PKT_UDP_CSUM_OFF 6

#endif
