/*
 * sched_mh.c - Maglev hashing, after net/netfilter/ipvs/ip_vs_mh.c and
 * "Maglev: A Fast and Reliable Software Network Load Balancer" (Eisenbud
 * et al., NSDI'16, section 3.4).
 *
 * Each server has a permutation of the M slots of a lookup table (M
 * prime, 65537 here as in the paper; IPVS's compile-time default is
 * 4093): offset = h1(server) mod M, skip = h2(server) mod (M - 1) + 1,
 * slot j of its list = (offset + j * skip) mod M. The table is filled in
 * rounds; in each round every server takes its next free preferred slots,
 * as many as its weight (divided by the gcd of the weights, shifted down
 * if that is still large), so shares follow the weights within a slot or
 * so per round. A client hashes to a slot.
 *
 * The hashes are SipHash-1-3 (the kernel's hsiphash on 64-bit) with
 * IPVS's fixed keys: identical configurations (same servers, same order,
 * same weights) give identical tables on every director, so several
 * directors agree on every client without talking.
 *
 * The table is built from each server's last non-zero weight (IPVS's
 * last_weight): quiescing a server (weight 0) leaves the table as it is,
 * so no flow of any other server moves; its clients are dropped, or with
 * flag mh-fallback re-hashed to the next usable server. Removing a server
 * rebuilds the table: its slots go to the others, and Maglev moves only
 * a small fraction of the others' slots (see tests/unit/test_sched.c).
 *
 * The key is the client address only; flag mh-port adds its source port.
 */
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define MH_TAB_SIZE 65537u
/* IP_VS_MH_TAB_BITS: turns above 2^(bits) per round are shifted down */
#define MH_TAB_BITS 8

struct mh_setup {
	uint32_t offset; /* first preferred slot */
	uint32_t skip;	 /* step through the slots, 1..M-1 */
	uint32_t perm;	 /* next slot to try */
	uint32_t turns;	 /* slots taken per round */
};

struct mh_state {
	struct server **lookup; /* MH_TAB_SIZE slots */
	uint64_t *used;		/* bitmap of filled slots while building */
	struct mh_setup *setup;
	unsigned int setup_cap;
};

/* IPVS's generate_hash_secret(): fixed, so directors agree. */
static const uint64_t mh_key1[2] = {2654435761ULL, 2654435761ULL};
static const uint64_t mh_key2[2] = {2654435801ULL, 2654435801ULL};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = ROTL(v1, 13);                                             \
		v1 ^= v0;                                                      \
		v0 = ROTL(v0, 32);                                             \
		v2 += v3;                                                      \
		v3 = ROTL(v3, 16);                                             \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = ROTL(v3, 21);                                             \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = ROTL(v1, 17);                                             \
		v1 ^= v2;                                                      \
		v2 = ROTL(v2, 32);                                             \
	} while (0)

/* The kernel's hsiphash() of one 32-bit word on 64-bit: SipHash-1-3. */
static uint32_t mh_hsiphash(uint32_t word, const uint64_t key[2])
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t b = ((uint64_t)4 << 56) | word;

	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (uint32_t)((v0 ^ v1) ^ (v2 ^ v3));
}

static uint32_t mh_slot(uint32_t key, uint32_t offset)
{
	return mh_hsiphash(key + offset, mh_key1) % MH_TAB_SIZE;
}

static unsigned int gcd(unsigned int a, unsigned int b)
{
	while (b) {
		unsigned int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* fls(): the number of the highest bit set, 1-based; 0 for 0. */
static int fls32(uint32_t x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

/* ip_vs_mh_permutate() with ip_vs_mh_gcd_weight/ip_vs_mh_shift_weight(). */
static unsigned int mh_permutate(struct mh_state *st, struct service *svc)
{
	unsigned int g = 0, mw = 0;
	int shift;

	for (unsigned int i = 0; i < svc->n_servers; i++) {
		unsigned int w = svc->servers[i]->last_weight;

		if (w)
			g = g ? gcd(g, w) : w;
		if (w > mw)
			mw = w;
	}
	if (g == 0)
		return 0;
	shift = fls32(mw / g) - MH_TAB_BITS;
	if (shift < 0)
		shift = 0;
	for (unsigned int i = 0; i < svc->n_servers; i++) {
		const struct server *s = svc->servers[i];
		struct mh_setup *ds = &st->setup[i];
		uint32_t key = sched_hash_key(s->addr, s->port, true);
		unsigned int lw = s->last_weight;

		ds->offset = mh_hsiphash(key, mh_key1) % MH_TAB_SIZE;
		ds->skip = mh_hsiphash(key, mh_key2) % (MH_TAB_SIZE - 1) + 1;
		ds->perm = ds->offset;
		ds->turns = (lw / g) >> shift;
		if (ds->turns == 0)
			ds->turns = lw != 0;
	}
	return g;
}

/* ip_vs_mh_populate(): rounds over the servers until every slot is taken. */
static void mh_populate(struct mh_state *st, struct service *svc)
{
	unsigned int n = 0;

	memset(st->used, 0, (MH_TAB_SIZE + 63) / 64 * sizeof(*st->used));
	while (n < MH_TAB_SIZE) {
		for (unsigned int i = 0; i < svc->n_servers; i++) {
			struct mh_setup *ds = &st->setup[i];

			for (unsigned int t = 0; t < ds->turns; t++) {
				uint32_t c = ds->perm;

				while (st->used[c / 64] & (1ULL << (c % 64))) {
					ds->perm += ds->skip;
					if (ds->perm >= MH_TAB_SIZE)
						ds->perm -= MH_TAB_SIZE;
					c = ds->perm;
				}
				st->used[c / 64] |= 1ULL << (c % 64);
				st->lookup[c] = svc->servers[i];
				if (++n == MH_TAB_SIZE)
					return;
			}
		}
	}
}

static int mh_update(struct service *svc)
{
	struct mh_state *st = svc->sched_data;

	if (svc->n_servers > st->setup_cap) {
		struct mh_setup *ns =
		    realloc(st->setup, svc->n_servers * sizeof(*ns));

		if (!ns) {
			/* never leave slots pointing at removed servers */
			memset(st->lookup, 0,
			       MH_TAB_SIZE * sizeof(*st->lookup));
			return -1;
		}
		st->setup = ns;
		st->setup_cap = svc->n_servers;
	}
	if (mh_permutate(st, svc) == 0) {
		/* no server has ever had a weight: nothing to hash to */
		memset(st->lookup, 0, MH_TAB_SIZE * sizeof(*st->lookup));
		return 0;
	}
	mh_populate(st, svc);
	return 0;
}

static void mh_done(struct service *svc)
{
	struct mh_state *st = svc->sched_data;

	if (st) {
		free(st->lookup);
		free(st->used);
		free(st->setup);
		free(st);
	}
	svc->sched_data = NULL;
}

static int mh_init(struct service *svc)
{
	struct mh_state *st = calloc(1, sizeof(*st));

	svc->sched_data = st;
	if (!st)
		return -1;
	st->lookup = calloc(MH_TAB_SIZE, sizeof(*st->lookup));
	st->used = calloc((MH_TAB_SIZE + 63) / 64, sizeof(*st->used));
	if (!st->lookup || !st->used || mh_update(svc) < 0) {
		mh_done(svc);
		return -1;
	}
	return 0;
}

static struct server *mh_schedule(struct service *svc, const struct pkt *p,
				  uint64_t now)
{
	const struct mh_state *st = svc->sched_data;
	uint32_t key = sched_hash_key(p->saddr, p->sport,
				      svc->sched_flags & SCHED_F_MH_PORT);
	uint32_t ihash = mh_slot(key, 0);
	struct server *s = st->lookup[ihash];

	if (!s || sched_server_usable(s))
		return s;
	if (!(svc->sched_flags & SCHED_F_MH_FALLBACK))
		return NULL;
	/* ip_vs_mh_get_fallback(): re-hash from the original slot on */
	for (uint32_t off = 0; off < MH_TAB_SIZE; off++) {
		s = st->lookup[mh_slot(key, (off + ihash) % MH_TAB_SIZE)];
		if (!s)
			break;
		if (sched_server_usable(s))
			return s;
	}
	return NULL;
}

struct server *const *sched_mh_table(const struct service *svc,
				     unsigned int *size)
{
	const struct mh_state *st = svc->sched_data;

	*size = MH_TAB_SIZE;
	return st->lookup;
}

const struct sched_ops sched_mh = {
    .name = "mh",
    .init_service = mh_init,
    .done_service = mh_done,
    .update_service = mh_update,
    .schedule = mh_schedule,
};
