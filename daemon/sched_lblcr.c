/*
 * sched_lblcr.c - locality-based least connection with replication,
 * after net/netfilter/ipvs/ip_vs_lblcr.c: each destination address has a
 * set of servers; a connection goes to the set's least loaded server
 * (wlc measure). When that one is overloaded (more active connections
 * than its weight while another server is under half of its own) the
 * wlc choice over all servers joins the set, so a hot address is
 * replicated on more servers; a set not changed for 24 hours sheds its
 * busiest member at the next connection.
 *
 * The destination is the address the client connected to: for a service
 * with one VIP that is always the VIP, so the set grows only under
 * overload, as with IPVS. lblcr is meant for firewall-mark services that
 * catch many destinations. Entry expiry as lblc (see sched_lbl.c).
 */
#include "sched.h"
#include "sched_lbl.h"

static struct server *lblcr_set_max(const struct lbl_entry *e)
{
	struct server *most = NULL;
	int64_t moh = 0;

	for (unsigned int i = 0; i < e->n; i++) {
		struct server *s = e->set[i];
		int64_t doh = sched_conn_overhead(s);

		if (s->weight == 0)
			continue;
		if (!most || moh * s->weight < doh * most->weight) {
			most = s;
			moh = doh;
		}
	}
	return most;
}

static struct server *lblcr_schedule(struct service *svc, const struct pkt *p,
				     uint64_t now)
{
	struct lbl_table *t = svc->sched_data;
	struct lbl_entry *e;
	struct server *s;

	lbl_check_expire(t, now);
	e = lbl_get(t, p->daddr);
	if (e && e->n) {
		e->lastuse = now;
		s = sched_least_weighted(e->set, e->n, sched_conn_overhead);
		if (e->n > 1 && now > e->lastmod + LBL_EXPIRATION_MS) {
			struct server *m = lblcr_set_max(e);

			if (m)
				lbl_set_erase(e, m, now);
		}
		if (s && !lbl_overloaded(s, svc))
			return s;
	}
	s = sched_least_weighted(svc->servers, svc->n_servers,
				 sched_conn_overhead);
	if (!s)
		return NULL;
	/* without memory for the entry, s still takes this connection */
	if (!e)
		e = lbl_get_or_new(t, p->daddr, now);
	if (e)
		lbl_set_insert(e, s, now);
	return s;
}

const struct sched_ops sched_lblcr = {
    .name = "lblcr",
    .init_service = lbl_init_service,
    .done_service = lbl_done_service,
    .update_service = lbl_update_service,
    .schedule = lblcr_schedule,
};
