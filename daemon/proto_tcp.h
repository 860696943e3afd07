/* proto_tcp.h - IPVS's TCP connection states, transitions and timeouts */
#ifndef NFQLB_PROTO_TCP_H
#define NFQLB_PROTO_TCP_H

#include <stdint.h>

/* States of net/netfilter/ipvs/ip_vs_proto_tcp.c, same order. */
enum tcp_state {
	TCP_S_NONE = 0,	   /* new, nothing seen yet */
	TCP_S_ESTABLISHED, /* handshake done: counted as active */
	TCP_S_SYN_SENT,	   /* SYN from the server side (unusual) */
	TCP_S_SYN_RECV,	   /* client SYN seen, handshake under way */
	TCP_S_FIN_WAIT,	   /* a FIN seen, closing */
	TCP_S_TIME_WAIT,   /* both FINs seen */
	TCP_S_CLOSE,	   /* RST seen or closed */
	TCP_S_CLOSE_WAIT,  /* client FIN first */
	TCP_S_LAST_ACK,	   /* waiting for the last ACK */
	TCP_S_LISTEN,	   /* (template state in IPVS) */
	TCP_S_SYNACK,	   /* SYN-ACK seen */
	TCP_S_LAST,
};

/* Which side a packet came from, as IPVS's IP_VS_DIR_*. */
enum conn_dir {
	DIR_INPUT = 0,	/* client -> service */
	DIR_OUTPUT,	/* server -> client (NAT replies) */
	DIR_INPUT_ONLY, /* client -> service where replies bypass us */
};

/* Next state for a packet with tcp_flags (the header's flag byte). */
enum tcp_state tcp_next_state(enum conn_dir dir, uint8_t tcp_flags,
			      enum tcp_state cur);
const char *tcp_state_name(enum tcp_state s);

#endif
