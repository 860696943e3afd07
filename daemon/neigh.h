/* neigh.h - how to reach a real server: route, interface and MAC address,
 * read over rtnetlink and kept current from the kernel's events */
#ifndef NFQLB_NEIGH_H
#define NFQLB_NEIGH_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct mnl_socket;

/* Whether a packet can go to a real server now. */
enum nh_status {
	NH_OK = 0,
	NH_UNRESOLVED, /* on-link, MAC not known (yet): resolution asked */
	NH_NOT_ONLINK, /* routed via a gateway: VS/DR cannot reach it */
	NH_NO_ROUTE,   /* no unicast route, or lookups failed */
};

/* What VS/DR does with a neighbour entry in a kernel NUD state. */
enum nh_mac_use {
	NH_MAC_USE = 0,	    /* fresh: send to its MAC */
	NH_MAC_USE_CONFIRM, /* stale: send, and have the kernel re-probe */
	NH_MAC_WAIT,	    /* none or failed: have the kernel resolve it */
};

struct nexthop {
	uint32_t addr;	  /* the real server, network order; 0 = free slot */
	int ifindex;	  /* interface of the route; 0 = none */
	uint32_t gateway; /* set when the route is not on-link */
	uint32_t src;	  /* the route's preferred source address */
	uint32_t mtu;	  /* the route's MTU, else its interface's */
	uint8_t ifmac[6]; /* our side */
	uint8_t mac[6];	  /* the server's */
	uint16_t nud;	  /* kernel NUD_* state of its neighbour entry */
	bool has_mac;
	bool need_mac; /* a VS/DR server: keep its MAC resolved */
	bool dirty;    /* routes or links changed: look it up again */
	enum nh_status status;
	uint64_t routed_ms, kicked_ms;
};

struct neigh {
	struct mnl_socket *req; /* queries and resolution requests */
	struct mnl_socket *ev;	/* link, route and neighbour events */
	unsigned int req_port;
	uint32_t seq;
	struct nexthop *tab; /* open addressing by addr */
	uint32_t mask, n;
	struct ev_loop *loop;
	ev_io io;
	ev_timer timer;
	uint64_t kicks, events, lookups;
	struct log_ratelimit rl;
};

int neigh_open(struct neigh *nt, struct ev_loop *loop);
void neigh_close(struct neigh *nt);

/*
 * Starts following addr (again) and looks it up now; need_mac for VS/DR
 * servers. Returns the entry (valid until the next neigh_* call), or NULL
 * without memory.
 */
struct nexthop *neigh_track(struct neigh *nt, uint32_t addr, bool need_mac,
			    uint64_t now);

/* Per packet: the entry for addr, looked up or refreshed as needed. */
enum nh_status neigh_resolve(struct neigh *nt, uint32_t addr, bool need_mac,
			     uint64_t now, struct nexthop **out);

/* Pure: how a neighbour entry in NUD state nud may be used. */
enum nh_mac_use neigh_mac_use(uint16_t nud, bool has_mac);

const char *nh_status_name(enum nh_status s);

#endif
