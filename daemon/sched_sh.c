/*
 * sched_sh.c - source hashing, after net/netfilter/ipvs/ip_vs_sh.c: a
 * static table of 256 buckets, filled in list order with each server
 * taking as many consecutive buckets as its weight (one if its weight is
 * 0); a client address hashes to a bucket, so a client keeps its server
 * while the server list stays the same, across every director with the
 * same configuration.
 *
 * The key is the client address only; flag sh-port adds the client's
 * source port (ports then spread one client over servers). When the
 * bucket's server is quiesced or overloaded, the packet is dropped,
 * unless flag sh-fallback is set: then the buckets are probed from the
 * original hash on (offset 0, 1, ... rehashed), deterministically, until
 * a usable server turns up.
 */
#include <stdlib.h>

#include "sched.h"

#define SH_TAB_BITS 8
#define SH_TAB_SIZE (1u << SH_TAB_BITS)
#define SH_TAB_MASK (SH_TAB_SIZE - 1)

struct sh_state {
	struct server *buckets[SH_TAB_SIZE];
};

/* The kernel's hash_32(): multiply by the golden ratio, keep the top bits. */
static unsigned int sh_hash(uint32_t key, unsigned int offset)
{
	return (offset + ((key * 0x61C88647u) >> (32 - SH_TAB_BITS))) &
	       SH_TAB_MASK;
}

/* ip_vs_sh_reassign(): weight w takes w buckets in a row, 0 takes one. */
static int sh_update(struct service *svc)
{
	struct sh_state *st = svc->sched_data;
	unsigned int d = 0, count = 0;

	for (unsigned int i = 0; i < SH_TAB_SIZE; i++) {
		struct server *s;

		if (svc->n_servers == 0) {
			st->buckets[i] = NULL;
			continue;
		}
		s = svc->servers[d];
		st->buckets[i] = s;
		if (++count >= s->weight) {
			d = (d + 1) % svc->n_servers;
			count = 0;
		}
	}
	return 0;
}

static int sh_init(struct service *svc)
{
	struct sh_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	svc->sched_data = st;
	return sh_update(svc);
}

static void sh_done(struct service *svc)
{
	free(svc->sched_data);
	svc->sched_data = NULL;
}

static struct server *sh_schedule(struct service *svc, const struct pkt *p,
				  uint64_t now)
{
	const struct sh_state *st = svc->sched_data;
	uint32_t key = sched_hash_key(p->saddr, p->sport,
				      svc->sched_flags & SCHED_F_SH_PORT);
	unsigned int ihash = sh_hash(key, 0);
	struct server *s = st->buckets[ihash];

	if (!s || sched_server_usable(s))
		return s;
	if (!(svc->sched_flags & SCHED_F_SH_FALLBACK))
		return NULL;
	/* ip_vs_sh_get_fallback(): probe from the original hash on */
	for (unsigned int off = 0; off < SH_TAB_SIZE; off++) {
		s = st->buckets[sh_hash(key, (off + ihash) % SH_TAB_SIZE)];
		if (sched_server_usable(s))
			return s;
	}
	return NULL;
}

const struct sched_ops sched_sh = {
    .name = "sh",
    .init_service = sh_init,
    .done_service = sh_done,
    .update_service = sh_update,
    .schedule = sh_schedule,
};
