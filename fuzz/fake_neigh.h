/* fake_neigh.h - the neighbour table the packet fuzzer links instead of
 * daemon/neigh.c: no rtnetlink, every real server is reached through one
 * next hop whose answer the harness sets before each packet. */
#ifndef NFQLB_FAKE_NEIGH_H
#define NFQLB_FAKE_NEIGH_H

#include "neigh.h"

/* What neigh_resolve() answers for any address (the entry's addr is
 * overwritten with the one asked for). */
extern struct nexthop fake_hop;
extern enum nh_status fake_status;

#endif
