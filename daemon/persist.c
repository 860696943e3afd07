/*
 * persist.c - persistence templates, after ip_vs_sched_persist() in
 * net/netfilter/ipvs/ip_vs_core.c and the template handling of
 * ip_vs_conn.c (ip_vs_check_template(), ip_vs_conn_expire()).
 *
 * As IPVS by default (sysctl expire_quiescent_template = 0), a template
 * keeps sending its client to its server even when the server is
 * quiesced (weight 0) or overloaded: persistence wins. A removed server's
 * templates go with it.
 */
#include "persist.h"

#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "hash.h"
#include "service.h"

static uint32_t tmpl_hash(const struct persist_table *pt,
			  const struct service *svc, uint32_t caddr)
{
	uintptr_t s = (uintptr_t)svc;

	return mix32(mix32(pt->seed ^ caddr) ^ (uint32_t)(s ^ (s >> 32))) &
	       pt->mask;
}

int persist_table_init(struct persist_table *pt, uint32_t max, uint32_t seed)
{
	uint32_t n = 1024;

	memset(pt, 0, sizeof(*pt));
	/* about four templates per bucket when full, at most 1M buckets */
	while (n < max / 4 && n < (1u << 20))
		n <<= 1;
	pt->hash = calloc(n, sizeof(*pt->hash));
	if (!pt->hash)
		return -1;
	pt->mask = n - 1;
	pt->seed = seed;
	pt->max = max;
	return 0;
}

void persist_table_destroy(struct persist_table *pt)
{
	for (uint32_t i = 0; pt->hash && i <= pt->mask; i++) {
		while (pt->hash[i]) {
			struct persist_tmpl *t = pt->hash[i];

			pt->hash[i] = t->hnext;
			free(t);
		}
	}
	free(pt->hash);
	memset(pt, 0, sizeof(*pt));
}

static struct persist_tmpl *tmpl_get(const struct persist_table *pt,
				     const struct service *svc, uint32_t caddr)
{
	for (struct persist_tmpl *t = pt->hash[tmpl_hash(pt, svc, caddr)]; t;
	     t = t->hnext)
		if (t->caddr == caddr && t->dest->svc == svc)
			return t;
	return NULL;
}

static void list_unlink(struct persist_list *l, struct persist_tmpl *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		l->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		l->tail = t->prev;
	t->prev = t->next = NULL;
}

static void list_append(struct persist_list *l, struct persist_tmpl *t)
{
	t->next = NULL;
	t->prev = l->tail;
	if (l->tail)
		l->tail->next = t;
	else
		l->head = t;
	l->tail = t;
}

/* Takes t out of the hash (lookups no longer find it); it may not be in
 * it any more. */
static void tmpl_unhash(struct persist_table *pt, struct persist_tmpl *t)
{
	struct persist_tmpl **pp =
	    &pt->hash[tmpl_hash(pt, t->dest->svc, t->caddr)];

	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
	t->hnext = NULL;
}

static void tmpl_del(struct persist_table *pt, struct persist_tmpl *t)
{
	struct service *svc = t->dest->svc;

	tmpl_unhash(pt, t);
	list_unlink(&svc->plist, t);
	pt->count--;
	free(t);
}

static struct persist_tmpl *tmpl_new(struct persist_table *pt,
				     struct service *svc, uint32_t caddr,
				     struct server *dest, uint64_t now)
{
	struct persist_tmpl *t;
	uint32_t h = tmpl_hash(pt, svc, caddr);

	if (pt->count >= pt->max) {
		pt->full_drops++;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		pt->full_drops++;
		return NULL;
	}
	t->caddr = caddr;
	t->dest = dest;
	t->expires = now + svc->persist_ms;
	t->hnext = pt->hash[h];
	pt->hash[h] = t;
	list_append(&svc->plist, t);
	pt->count++;
	return t;
}

struct persist_tmpl *persist_get(const struct persist_table *pt,
				 const struct service *svc, uint32_t caddr)
{
	return tmpl_get(pt, svc, caddr);
}

/* Puts t in l by its expiry, from the tail back: templates that arrive
 * in expiry order (a checkpoint's) cost O(1) each. */
static void list_insert(struct persist_list *l, struct persist_tmpl *t)
{
	struct persist_tmpl *after = l->tail;

	while (after && after->expires > t->expires)
		after = after->prev;
	t->prev = after;
	t->next = after ? after->next : l->head;
	if (t->next)
		t->next->prev = t;
	else
		l->tail = t;
	if (after)
		after->next = t;
	else
		l->head = t;
}

struct persist_tmpl *persist_restore(struct persist_table *pt,
				     struct service *svc, uint32_t caddr,
				     struct server *dest, uint64_t expires)
{
	struct persist_tmpl *t = tmpl_new(pt, svc, caddr, dest, 0);

	if (!t)
		return NULL;
	list_unlink(&svc->plist, t);
	t->expires = expires;
	list_insert(&svc->plist, t);
	return t;
}

struct persist_tmpl *persist_schedule(struct persist_table *pt,
				      struct service *svc, const struct pkt *p,
				      uint64_t now)
{
	uint32_t caddr = p->saddr & svc->persist_mask;
	struct persist_tmpl *t = tmpl_get(pt, svc, caddr);
	struct server *dest;

	/* its time is up and nothing holds it: the tick just has not
	 * come yet */
	if (t && t->expires <= now && t->n_control == 0) {
		tmpl_del(pt, t);
		t = NULL;
	}
	/* ip_vs_check_template(): its server is out of service; the
	 * template goes from the hash, and from the list once the
	 * connections it controls are gone; the client gets a new one */
	if (t && !sched_server_available(t->dest)) {
		if (t->n_control == 0)
			tmpl_del(pt, t);
		else
			tmpl_unhash(pt, t);
		t = NULL;
	}
	if (t)
		return t;
	dest = svc->sched->schedule(svc, p, now);
	if (!dest)
		return NULL;
	return tmpl_new(pt, svc, caddr, dest, now);
}

void persist_bind(struct service *svc, struct persist_tmpl *t, uint64_t now)
{
	t->n_control++;
	t->expires = now + svc->persist_ms;
	list_unlink(&svc->plist, t);
	list_append(&svc->plist, t);
}

unsigned int persist_expire(struct persist_table *pt, struct service *svc,
			    uint64_t now)
{
	struct persist_tmpl *stop = NULL;
	unsigned int n = 0;

	while (svc->plist.head && svc->plist.head != stop &&
	       svc->plist.head->expires <= now) {
		struct persist_tmpl *t = svc->plist.head;

		if (t->n_control == 0) {
			tmpl_del(pt, t);
			n++;
			continue;
		}
		/* still in use: one more full timeout, as IPVS re-arms */
		t->expires = now + svc->persist_ms;
		list_unlink(&svc->plist, t);
		list_append(&svc->plist, t);
		if (!stop)
			stop = t;
	}
	return n;
}

unsigned int persist_purge_dest(struct persist_table *pt,
				const struct server *dest)
{
	struct persist_tmpl *t = dest->svc->plist.head;
	unsigned int n = 0;

	while (t) {
		struct persist_tmpl *next = t->next;

		if (t->dest == dest) {
			tmpl_del(pt, t);
			n++;
		}
		t = next;
	}
	return n;
}

void persist_set_timeout(struct service *svc, uint64_t timeout_ms)
{
	for (struct persist_tmpl *t = svc->plist.head; t; t = t->next)
		t->expires = t->expires - svc->persist_ms + timeout_ms;
	svc->persist_ms = timeout_ms;
}

void persist_for_each(const struct service *svc,
		      void (*fn)(const struct persist_tmpl *t, void *arg),
		      void *arg)
{
	for (const struct persist_tmpl *t = svc->plist.head; t; t = t->next)
		fn(t, arg);
}
