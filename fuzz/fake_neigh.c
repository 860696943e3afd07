/*
 * fake_neigh.c - daemon/neigh.c's interface without the kernel, for the
 * packet fuzzer: VS/DR and VS/TUN then run their whole send path (MTU
 * checks, ICMP errors, IPIP headers, fragments, segmentation) into the
 * send batches, which the harness checks instead of sending.
 */
#include "fake_neigh.h"

#include <string.h>

struct nexthop fake_hop;
enum nh_status fake_status;

int neigh_open(struct neigh *nt, struct ev_loop *loop)
{
	memset(nt, 0, sizeof(*nt));
	nt->loop = loop;
	return 0;
}

void neigh_close(struct neigh *nt)
{
	(void)nt;
}

struct nexthop *neigh_track(struct neigh *nt, uint32_t addr, bool need_mac,
			    uint64_t now)
{
	(void)nt;
	(void)now;
	fake_hop.addr = addr;
	fake_hop.need_mac |= need_mac;
	return &fake_hop;
}

enum nh_status neigh_resolve(struct neigh *nt, uint32_t addr, bool need_mac,
			     uint64_t now, struct nexthop **out)
{
	*out = neigh_track(nt, addr, need_mac, now);
	return fake_status;
}
