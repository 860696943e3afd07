/*
 * conn.c - the connection table, after net/netfilter/ipvs/ip_vs_conn.c:
 * power-of-two buckets with a seeded hash, one hash for the client-side
 * tuple (proto, caddr, cport, vaddr, vport) and one for the server-side
 * tuple (proto, daddr, dport, caddr, cport) so NAT replies find their
 * flow. Entries come from chunks on a free list: no allocation per
 * packet, and at most one per 4096 new flows.
 */
#include "conn.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "service.h"

#define CHUNK_CONNS 4096

struct conn_chunk {
	struct conn_chunk *next;
	struct conn conns[CHUNK_CONNS];
};

/* IPVS's default timeouts for the states ipvsadm --set does not name. */
static const unsigned int tcp_default_timeouts[TCP_S_LAST] = {
    [TCP_S_NONE] = 2,	   [TCP_S_ESTABLISHED] = 900, [TCP_S_SYN_SENT] = 120,
    [TCP_S_SYN_RECV] = 60, [TCP_S_FIN_WAIT] = 120,    [TCP_S_TIME_WAIT] = 120,
    [TCP_S_CLOSE] = 10,	   [TCP_S_CLOSE_WAIT] = 60,   [TCP_S_LAST_ACK] = 30,
    [TCP_S_LISTEN] = 120,  [TCP_S_SYNACK] = 120,
};

static inline uint32_t tuple_hash(const struct conn_table *t, uint8_t proto,
				  uint32_t a1, uint16_t p1, uint32_t a2,
				  uint16_t p2)
{
	uint32_t h = mix32(t->seed ^ a1 ^ ((uint32_t)proto << 24));

	h = mix32(h ^ a2);
	h = mix32(h ^ ((uint32_t)p1 << 16 | p2));
	return h & t->mask;
}

static uint32_t buckets_for(uint32_t max)
{
	uint32_t n = 1024;

	/* about two entries per bucket when full, at most 4M buckets */
	while (n < max / 2 && n < (1u << 22))
		n <<= 1;
	return n;
}

static void timeouts_to_ms(struct conn_table *t, const struct timeouts_conf *to,
			   uint64_t ms[CONN_TL_LAST])
{
	for (int s = 0; s < TCP_S_LAST; s++)
		ms[s] = (uint64_t)tcp_default_timeouts[s] * 1000;
	ms[TCP_S_ESTABLISHED] = (uint64_t)to->tcp * 1000;
	ms[TCP_S_FIN_WAIT] = (uint64_t)to->tcp_fin * 1000;
	ms[TCP_S_SYN_RECV] = (uint64_t)to->tcp_syn * 1000;
	ms[CONN_TL_UDP] = (uint64_t)to->udp * 1000;
	ms[CONN_TL_KERNEL] = CONN_KERNEL_MS;
	(void)t;
}

int conn_table_init(struct conn_table *t, uint32_t max, uint32_t seed,
		    const struct timeouts_conf *to)
{
	uint32_t n = buckets_for(max);
	uint64_t ms[CONN_TL_LAST];

	memset(t, 0, sizeof(*t));
	t->in_hash = calloc(n, sizeof(*t->in_hash));
	t->out_hash = calloc(n, sizeof(*t->out_hash));
	if (!t->in_hash || !t->out_hash) {
		free(t->in_hash);
		free(t->out_hash);
		return -1;
	}
	if (persist_table_init(&t->pt, max, seed) < 0) {
		free(t->in_hash);
		free(t->out_hash);
		return -1;
	}
	t->mask = n - 1;
	t->seed = seed;
	t->max = max;
	t->high_water = max - max / 8;
	timeouts_to_ms(t, to, ms);
	for (int i = 0; i < CONN_TL_LAST; i++)
		t->tl[i].timeout_ms = ms[i];
	return 0;
}

void conn_table_destroy(struct conn_table *t)
{
	while (t->chunks) {
		struct conn_chunk *c = t->chunks;

		t->chunks = c->next;
		free(c);
	}
	free(t->in_hash);
	free(t->out_hash);
	persist_table_destroy(&t->pt);
	memset(t, 0, sizeof(*t));
}

/*
 * An entry's last packet was at expires - old timeout, so the new
 * expiry is that plus the new timeout. Every entry of a list shifts by
 * the same amount, so the list stays ordered.
 */
void conn_table_set_timeouts(struct conn_table *t,
			     const struct timeouts_conf *to)
{
	uint64_t ms[CONN_TL_LAST];

	timeouts_to_ms(t, to, ms);
	for (int i = 0; i < CONN_TL_LAST; i++) {
		struct conn_tlist *l = &t->tl[i];

		if (l->timeout_ms == ms[i])
			continue;
		for (struct conn *c = l->head; c; c = c->tl_next)
			c->expires = c->expires - l->timeout_ms + ms[i];
		l->timeout_ms = ms[i];
	}
}

static void tl_unlink(struct conn_table *t, struct conn *c)
{
	struct conn_tlist *l = &t->tl[c->tl];

	if (c->tl_prev)
		c->tl_prev->tl_next = c->tl_next;
	else
		l->head = c->tl_next;
	if (c->tl_next)
		c->tl_next->tl_prev = c->tl_prev;
	else
		l->tail = c->tl_prev;
	c->tl_prev = c->tl_next = NULL;
}

static void tl_append(struct conn_table *t, struct conn *c, uint8_t tl,
		      uint64_t now)
{
	struct conn_tlist *l = &t->tl[tl];

	c->tl = tl;
	c->expires = now + l->timeout_ms;
	c->tl_next = NULL;
	c->tl_prev = l->tail;
	if (l->tail)
		l->tail->tl_next = c;
	else
		l->head = c;
	l->tail = c;
}

struct conn *conn_in_get(const struct conn_table *t, uint8_t proto,
			 uint32_t caddr, uint16_t cport, uint32_t vaddr,
			 uint16_t vport)
{
	uint32_t h = tuple_hash(t, proto, caddr, cport, vaddr, vport);

	for (struct conn *c = t->in_hash[h]; c; c = c->in_next)
		if (c->caddr == caddr && c->cport == cport &&
		    c->vaddr == vaddr && c->vport == vport && c->proto == proto)
			return c;
	return NULL;
}

struct conn *conn_out_get(const struct conn_table *t, uint8_t proto,
			  uint32_t daddr, uint16_t dport, uint32_t caddr,
			  uint16_t cport)
{
	uint32_t h = tuple_hash(t, proto, daddr, dport, caddr, cport);

	for (struct conn *c = t->out_hash[h]; c; c = c->out_next)
		if (c->daddr == daddr && c->dport == dport &&
		    c->caddr == caddr && c->cport == cport && c->proto == proto)
			return c;
	return NULL;
}

static struct conn *conn_alloc(struct conn_table *t)
{
	struct conn *c;

	if (!t->free_list) {
		struct conn_chunk *ch = malloc(sizeof(*ch));

		if (!ch)
			return NULL;
		ch->next = t->chunks;
		t->chunks = ch;
		for (int i = CHUNK_CONNS - 1; i >= 0; i--) {
			ch->conns[i].in_next = t->free_list;
			t->free_list = &ch->conns[i];
		}
	}
	c = t->free_list;
	t->free_list = c->in_next;
	memset(c, 0, sizeof(*c));
	return c;
}

struct conn *conn_new(struct conn_table *t, uint8_t proto, uint32_t caddr,
		      uint16_t cport, uint32_t vaddr, uint16_t vport,
		      struct server *dest, uint8_t fwd, uint64_t now)
{
	struct conn *c;
	uint32_t h;

	if (t->count >= t->max) {
		t->full_drops++;
		return NULL;
	}
	c = conn_alloc(t);
	if (!c) {
		t->full_drops++;
		return NULL;
	}
	c->proto = proto;
	c->caddr = caddr;
	c->cport = cport;
	c->vaddr = vaddr;
	c->vport = vport;
	c->daddr = dest->addr;
	c->dport = dest->port ? dest->port : vport; /* 0: fwmark, keep */
	c->dest = dest;
	c->fwd = fwd;
	c->state = TCP_S_NONE;
	/* As IPVS: a new flow counts as inactive until TCP establishes. */
	c->flags = CONN_F_INACTIVE;
	dest->inactive_conns++;
	server_conn_bound(dest);

	h = tuple_hash(t, proto, caddr, cport, vaddr, vport);
	c->in_next = t->in_hash[h];
	t->in_hash[h] = c;
	h = tuple_hash(t, proto, c->daddr, c->dport, caddr, cport);
	c->out_next = t->out_hash[h];
	t->out_hash[h] = c;
	tl_append(t, c, proto == IPPROTO_TCP ? TCP_S_NONE : CONN_TL_UDP, now);
	t->count++;
	return c;
}

static void account_state(struct conn *c, enum tcp_state new_state);

/* Puts c in list tl with its own expiry: from the tail back, so entries
 * that arrive in expiry order (a checkpoint's) cost O(1) each. */
static void tl_insert(struct conn_table *t, struct conn *c, uint8_t tl,
		      uint64_t expires)
{
	struct conn_tlist *l = &t->tl[tl];
	struct conn *after = l->tail;

	while (after && after->expires > expires)
		after = after->tl_prev;
	c->tl = tl;
	c->expires = expires;
	c->tl_prev = after;
	c->tl_next = after ? after->tl_next : l->head;
	if (c->tl_next)
		c->tl_next->tl_prev = c;
	else
		l->tail = c;
	if (after)
		after->tl_next = c;
	else
		l->head = c;
}

struct conn *conn_restore(struct conn_table *t, const struct conn *from,
			  struct server *dest, uint64_t expires)
{
	struct conn *c =
	    conn_new(t, from->proto, from->caddr, from->cport, from->vaddr,
		     from->vport, dest, from->fwd, expires);

	if (!c)
		return NULL;
	if (from->proto == IPPROTO_TCP) {
		account_state(c, (enum tcp_state)from->state);
		c->state = from->state;
	}
	tl_unlink(t, c);
	tl_insert(t, c, from->proto == IPPROTO_TCP ? c->state : CONN_TL_UDP,
		  expires);
	return c;
}

static void account_state(struct conn *c, enum tcp_state new_state)
{
	struct server *d = c->dest;
	bool inactive = new_state != TCP_S_ESTABLISHED;

	if (inactive == !conn_is_active(c))
		return;
	if (inactive) {
		d->active_conns--;
		d->inactive_conns++;
		c->flags |= CONN_F_INACTIVE;
	} else {
		d->inactive_conns--;
		d->active_conns++;
		c->flags &= (uint8_t)~CONN_F_INACTIVE;
	}
}

void conn_kernel_state(struct conn *c, enum tcp_state state)
{
	if (c->proto != IPPROTO_TCP || state == c->state)
		return;
	account_state(c, state);
	c->state = (uint8_t)state;
}

void conn_kernel_bind(struct conn_table *t, struct conn *c, uint32_t ct_id,
		      int state)
{
	if (!(c->flags & CONN_F_KERNEL)) {
		c->flags |= CONN_F_KERNEL;
		c->dest->kernel_conns++;
		t->kernel_count++;
	}
	c->ct_id = ct_id;
	if (state >= 0)
		conn_kernel_state(c, (enum tcp_state)state);
	if (c->tl != CONN_TL_KERNEL) {
		tl_unlink(t, c);
		/* the caller's clock does not matter: never expires */
		tl_append(t, c, CONN_TL_KERNEL, 0);
	}
}

void conn_update(struct conn_table *t, struct conn *c, enum conn_dir dir,
		 uint8_t tcp_flags, uint64_t now)
{
	uint8_t tl = c->tl;

	if (c->flags & CONN_F_KERNEL)
		return; /* the kernel's events keep it, not its packets */
	if (c->proto == IPPROTO_TCP) {
		enum tcp_state ns;

		/* Direct return: the director sees the client side only. */
		if (dir == DIR_INPUT && c->fwd != FWD_NAT)
			dir = DIR_INPUT_ONLY;
		ns = tcp_next_state(dir, tcp_flags, (enum tcp_state)c->state);
		if (ns != c->state) {
			account_state(c, ns);
			c->state = (uint8_t)ns;
		}
		tl = c->state;
	}
	tl_unlink(t, c);
	tl_append(t, c, tl, now);
}

static void hash_unlink(struct conn **bucket, struct conn *c, bool in)
{
	struct conn **pp = bucket;

	while (*pp && *pp != c)
		pp = in ? &(*pp)->in_next : &(*pp)->out_next;
	if (*pp)
		*pp = in ? c->in_next : c->out_next;
}

void conn_del(struct conn_table *t, struct conn *c)
{
	uint32_t h;

	h = tuple_hash(t, c->proto, c->caddr, c->cport, c->vaddr, c->vport);
	hash_unlink(&t->in_hash[h], c, true);
	h = tuple_hash(t, c->proto, c->daddr, c->dport, c->caddr, c->cport);
	hash_unlink(&t->out_hash[h], c, false);
	tl_unlink(t, c);
	if (conn_is_active(c))
		c->dest->active_conns--;
	else
		c->dest->inactive_conns--;
	if (c->flags & CONN_F_KERNEL) {
		c->dest->kernel_conns--;
		t->kernel_count--;
	}
	server_conn_unbound(c->dest);
	if (c->ctl)
		persist_unbind(c->ctl);
	c->ctl = NULL;
	c->dest = NULL;
	c->in_next = t->free_list;
	t->free_list = c;
	t->count--;
}

/* Timeout lists are ordered by last packet, so each head is the oldest
 * entry in its state; SYN_RECV holds the flood's entries (a client SYN,
 * for NAT perhaps the server's SYN-ACK too, but never the client's ACK). */
bool conn_drop_embryonic(struct conn_table *t)
{
	static const uint8_t half_open[] = {TCP_S_SYN_RECV, TCP_S_SYNACK,
					    TCP_S_NONE};

	for (unsigned int i = 0; i < sizeof(half_open); i++) {
		struct conn *c = t->tl[half_open[i]].head;

		if (c) {
			conn_del(t, c);
			t->embryonic_drops++;
			return true;
		}
	}
	return false;
}

unsigned int conn_expire(struct conn_table *t, uint64_t now)
{
	unsigned int n = 0;

	for (int i = 0; i < CONN_TL_LAST; i++) {
		struct conn_tlist *l = &t->tl[i];

		while (l->head && l->head->expires <= now) {
			conn_del(t, l->head);
			n++;
		}
	}
	return n;
}

/* Before c goes with its server: its conntrack entry goes too. */
static void kernel_forget(struct conn_table *t, const struct conn *c)
{
	if ((c->flags & CONN_F_OFFLOAD) && t->kernel_del)
		t->kernel_del(t->kernel_del_arg, c);
}

unsigned int conn_purge_dest(struct conn_table *t, const struct server *dest)
{
	unsigned int n = 0;

	for (int i = 0; i < CONN_TL_LAST; i++) {
		struct conn *c = t->tl[i].head;

		while (c) {
			struct conn *next = c->tl_next;

			if (c->dest == dest) {
				kernel_forget(t, c);
				conn_del(t, c);
				n++;
			}
			c = next;
		}
	}
	persist_purge_dest(&t->pt, dest);
	return n;
}

unsigned int conn_retire_dest(struct conn_table *t, const struct server *dest)
{
	unsigned int n = 0;

	for (int i = 0; i < CONN_TL_LAST; i++) {
		struct conn *c = t->tl[i].head;

		while (c) {
			struct conn *next = c->tl_next;

			if (c->dest == dest && c->proto == IPPROTO_UDP) {
				kernel_forget(t, c);
				conn_del(t, c);
				n++;
			} else if (c->dest == dest && c->ctl) {
				persist_unbind(c->ctl);
				c->ctl = NULL;
			}
			c = next;
		}
	}
	persist_purge_dest(&t->pt, dest);
	return n;
}
