/*
 * sched_lbl.c - the locality table of lblc and lblcr, after the tables
 * and expiry timers of net/netfilter/ipvs/ip_vs_lblc.c and ip_vs_lblcr.c:
 * 1024 buckets hashed on the destination address, a check every minute
 * that trims an oversized table of entries idle for 6 minutes, and every
 * 30th check a full one that removes entries idle for 24 hours.
 */
#include "sched_lbl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

static unsigned int lbl_hash(uint32_t addr)
{
	return (ntohl(addr) * 2654435761u) & (LBL_TAB_SIZE - 1);
}

static struct lbl_table *lbl_table_new(void)
{
	struct lbl_table *t = calloc(1, sizeof(*t));

	if (t)
		t->counter = 1;
	return t;
}

static void lbl_entry_free(struct lbl_entry *e)
{
	free(e->set);
	free(e);
}

static void lbl_table_free(struct lbl_table *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < LBL_TAB_SIZE; i++) {
		while (t->buckets[i]) {
			struct lbl_entry *e = t->buckets[i];

			t->buckets[i] = e->next;
			lbl_entry_free(e);
		}
	}
	free(t);
}

struct lbl_entry *lbl_get(struct lbl_table *t, uint32_t addr)
{
	for (struct lbl_entry *e = t->buckets[lbl_hash(addr)]; e; e = e->next)
		if (e->addr == addr)
			return e;
	return NULL;
}

struct lbl_entry *lbl_get_or_new(struct lbl_table *t, uint32_t addr,
				 uint64_t now)
{
	struct lbl_entry *e = lbl_get(t, addr);
	unsigned int h = lbl_hash(addr);

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->addr = addr;
	e->lastuse = now;
	e->lastmod = now;
	e->next = t->buckets[h];
	t->buckets[h] = e;
	t->entries++;
	return e;
}

int lbl_set_insert(struct lbl_entry *e, struct server *s, uint64_t now)
{
	for (unsigned int i = 0; i < e->n; i++)
		if (e->set[i] == s)
			return 0;
	if (e->n == e->cap) {
		unsigned int cap = e->cap ? e->cap * 2 : 1;
		struct server **ns = realloc(e->set, cap * sizeof(*ns));

		if (!ns)
			return -1;
		e->set = ns;
		e->cap = cap;
	}
	memmove(&e->set[1], &e->set[0], e->n * sizeof(*e->set));
	e->set[0] = s;
	e->n++;
	e->lastmod = now;
	return 0;
}

void lbl_set_erase(struct lbl_entry *e, const struct server *s, uint64_t now)
{
	for (unsigned int i = 0; i < e->n; i++) {
		if (e->set[i] != s)
			continue;
		memmove(&e->set[i], &e->set[i + 1],
			(e->n - i - 1) * sizeof(*e->set));
		e->n--;
		e->lastmod = now;
		return;
	}
}

/*
 * Removes, from the bucket after the rover on, entries idle for at least
 * idle_ms, until goal of them are gone (goal 0: no limit, every bucket).
 */
static void lbl_sweep(struct lbl_table *t, uint64_t now, uint64_t idle_ms,
		      int goal)
{
	bool limited = goal > 0;
	unsigned int j = t->rover;

	for (unsigned int i = 0; i < LBL_TAB_SIZE; i++) {
		struct lbl_entry **pp;

		j = (j + 1) & (LBL_TAB_SIZE - 1);
		pp = &t->buckets[j];
		while (*pp) {
			struct lbl_entry *e = *pp;

			if (now < e->lastuse + idle_ms) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			lbl_entry_free(e);
			t->entries--;
			goal--;
		}
		if (limited && goal <= 0)
			break;
	}
	t->rover = j;
}

/* ip_vs_lblc_check_expire(), run once per interval. */
void lbl_check_expire(struct lbl_table *t, uint64_t now)
{
	int goal;

	if (t->next_check == 0)
		t->next_check = now + LBL_CHECK_INTERVAL_MS;
	while (now >= t->next_check) {
		t->next_check += LBL_CHECK_INTERVAL_MS;
		if (t->counter % LBL_FULL_EVERY == 0) {
			lbl_sweep(t, now, LBL_EXPIRATION_MS, 0);
			t->counter = 1;
			continue;
		}
		if (t->entries <= LBL_MAX_SIZE) {
			t->counter++;
			continue;
		}
		goal = (int)(t->entries - LBL_MAX_SIZE) * 4 / 3;
		if (goal > (int)LBL_MAX_SIZE / 2)
			goal = LBL_MAX_SIZE / 2;
		lbl_sweep(t, now, LBL_ENTRY_TIMEOUT_MS, goal);
	}
}

static bool lbl_holds(const struct service *svc, const struct server *s)
{
	for (unsigned int i = 0; i < svc->n_servers; i++)
		if (svc->servers[i] == s)
			return true;
	return false;
}

/* Drops the servers svc no longer holds from every set, and the entries
 * left empty. */
static void lbl_forget_removed(struct lbl_table *t, const struct service *svc)
{
	for (unsigned int b = 0; b < LBL_TAB_SIZE; b++) {
		struct lbl_entry **pp = &t->buckets[b];

		while (*pp) {
			struct lbl_entry *e = *pp;

			for (unsigned int i = 0; i < e->n;) {
				if (lbl_holds(svc, e->set[i])) {
					i++;
					continue;
				}
				memmove(&e->set[i], &e->set[i + 1],
					(e->n - i - 1) * sizeof(*e->set));
				e->n--;
			}
			if (e->n) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			lbl_entry_free(e);
			t->entries--;
		}
	}
}

int lbl_init_service(struct service *svc)
{
	svc->sched_data = lbl_table_new();
	return svc->sched_data ? 0 : -1;
}

void lbl_done_service(struct service *svc)
{
	lbl_table_free(svc->sched_data);
	svc->sched_data = NULL;
}

int lbl_update_service(struct service *svc)
{
	lbl_forget_removed(svc->sched_data, svc);
	return 0;
}

bool lbl_overloaded(const struct server *s, const struct service *svc)
{
	if (s->active_conns <= s->weight)
		return false;
	for (unsigned int i = 0; i < svc->n_servers; i++) {
		const struct server *d = svc->servers[i];

		if ((uint64_t)d->active_conns * 2 < d->weight)
			return true;
	}
	return false;
}
