/*
 * sched_dh.c - destination hashing, after net/netfilter/ipvs/ip_vs_dh.c:
 * a static table of 256 buckets, filled with the servers in list order,
 * round and round (weights do not matter, but 0 still quiesces); the
 * packet's destination address hashes to a bucket. When the bucket's
 * server is quiesced or overloaded the packet is dropped: dh has no
 * fallback in IPVS either.
 *
 * The destination is the address the client connected to. For a service
 * with one VIP that is always the VIP, so every connection goes to the
 * same server (as with IPVS): dh is meant for firewall-mark services
 * that catch traffic to many destinations (a transparent cache cluster,
 * where each origin should always hit the same cache).
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "sched.h"

#define DH_TAB_BITS 8
#define DH_TAB_SIZE (1u << DH_TAB_BITS)
#define DH_TAB_MASK (DH_TAB_SIZE - 1)

struct dh_state {
	struct server *buckets[DH_TAB_SIZE];
};

/* ip_vs_dh_hashkey(): Knuth's multiplicative hash, low bits. */
static unsigned int dh_hash(uint32_t addr)
{
	return (ntohl(addr) * 2654435761u) & DH_TAB_MASK;
}

/* ip_vs_dh_reassign(): bucket i gets server i mod n. */
static int dh_update(struct service *svc)
{
	struct dh_state *st = svc->sched_data;

	for (unsigned int i = 0; i < DH_TAB_SIZE; i++)
		st->buckets[i] =
		    svc->n_servers ? svc->servers[i % svc->n_servers] : NULL;
	return 0;
}

static int dh_init(struct service *svc)
{
	struct dh_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	svc->sched_data = st;
	return dh_update(svc);
}

static void dh_done(struct service *svc)
{
	free(svc->sched_data);
	svc->sched_data = NULL;
}

static struct server *dh_schedule(struct service *svc, const struct pkt *p,
				  uint64_t now)
{
	const struct dh_state *st = svc->sched_data;
	struct server *s = st->buckets[dh_hash(p->daddr)];

	return s && sched_server_usable(s) ? s : NULL;
}

const struct sched_ops sched_dh = {
    .name = "dh",
    .init_service = dh_init,
    .done_service = dh_done,
    .update_service = dh_update,
    .schedule = dh_schedule,
};
