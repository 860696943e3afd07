/*
 * sched_lblc.c - locality-based least connection, after
 * net/netfilter/ipvs/ip_vs_lblc.c: each destination address is served by
 * the server that took its last connection, so a cache cluster keeps one
 * copy of each origin's objects; a new address, or one whose server is
 * quiesced, overloaded or (IPVS's own test) has more active connections
 * than its weight while another server is under half of its own, goes
 * to the wlc choice, which becomes the address's server.
 *
 * The destination is the address the client connected to: for a service
 * with one VIP that is always the VIP, so all connections go to one
 * server until it overloads in the sense above, as with IPVS. lblc is
 * meant for firewall-mark services that catch many destinations.
 *
 * Entries idle for 24 hours are removed by a full check every 30
 * minutes; a table over 16384 entries loses entries idle for 6 minutes
 * (see sched_lbl.c). Unlike IPVS, a server overloaded by its
 * upper_threshold is not used from the table either (sched_server_usable).
 */
#include "sched.h"
#include "sched_lbl.h"

static struct server *lblc_schedule(struct service *svc, const struct pkt *p,
				    uint64_t now)
{
	struct lbl_table *t = svc->sched_data;
	struct lbl_entry *e;
	struct server *s;

	lbl_check_expire(t, now);
	e = lbl_get(t, p->daddr);
	if (e && e->n) {
		e->lastuse = now;
		s = e->set[0];
		if (sched_server_usable(s) && !lbl_overloaded(s, svc))
			return s;
	}
	s = sched_least_weighted(svc->servers, svc->n_servers,
				 sched_conn_overhead);
	if (!s)
		return NULL;
	/* ip_vs_lblc_new(): the address now belongs to s; without memory
	 * for the entry, s still takes this connection */
	e = lbl_get_or_new(t, p->daddr, now);
	if (e) {
		e->n = 0;
		e->lastuse = now;
		lbl_set_insert(e, s, now);
	}
	return s;
}

const struct sched_ops sched_lblc = {
    .name = "lblc",
    .init_service = lbl_init_service,
    .done_service = lbl_done_service,
    .update_service = lbl_update_service,
    .schedule = lblc_schedule,
};
