/*
 * core.c - the per-packet pipeline, as IPVS's ip_vs_in()/ip_vs_out():
 * parse, look up, schedule on a miss, count, state transition, then the
 * connection's bound forwarding method.
 */
#include "core.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "log.h"
#include "sched.h"

static const char *const counter_names[CNT_LAST] = {
    [PKT_OK] = "ok",
    [PKT_TRUNCATED] = "truncated",
    [PKT_BAD_HEADER] = "bad_header",
    [PKT_FRAGMENT] = "fragment",
    [PKT_UNKNOWN_PROTO] = "unknown_protocol",
    [CNT_NO_SERVER] = "no_server",
    [CNT_TABLE_FULL] = "table_full",
    [CNT_UNKNOWN_FLOW] = "unknown_flow",
    [CNT_NOT_SERVICE] = "not_service",
    [CNT_UNKNOWN_REPLY] = "unknown_reply",
    [CNT_METHOD_MISSING] = "method_missing",
    [CNT_NO_NEIGH] = "neighbour_unresolved",
    [CNT_NO_ROUTE] = "no_route",
    [CNT_FRAG_NEEDED] = "frag_needed",
    [CNT_TOO_BIG] = "too_big",
    [CNT_GSO_UNSUPPORTED] = "gso_unsupported",
    [CNT_ICMP_UNKNOWN] = "icmp_unknown_flow",
    [CNT_EMBRYONIC] = "embryonic_dropped",
    [PKT_ICMP_NOT_ERROR] = "icmp_not_error",
    [PKT_ICMP_BAD_QUOTE] = "icmp_bad_quote",
    [CNT_OFFLOAD_STRAY] = "offload_stray",
};

const char *core_counter_name(enum core_counter i)
{
	return i < CNT_LAST ? counter_names[i] : "?";
}

bool core_counter_is_drop(enum core_counter i)
{
	return i != (enum core_counter)PKT_OK && i != CNT_NOT_SERVICE &&
	       i != CNT_UNKNOWN_REPLY && i != CNT_OFFLOAD_STRAY && i < CNT_LAST;
}

void core_counters_zero(struct core *c)
{
	memset(c->counters, 0, sizeof(c->counters));
}

static void count_traffic(struct traffic_stats *s, bool in, uint32_t bytes)
{
	if (in) {
		s->in_packets++;
		s->in_bytes += bytes;
	} else {
		s->out_packets++;
		s->out_bytes += bytes;
	}
}

/* A new flow: only a TCP SYN (without ACK) or any UDP datagram opens one,
 * as IPVS's tcp_conn_schedule()/udp_conn_schedule(). */
static struct conn *schedule_new(struct core *c, struct service *svc,
				 const struct pkt *p, uint64_t now)
{
	struct persist_tmpl *tmpl = NULL;
	struct server *dest;
	struct conn *conn;

	if (p->proto == IPPROTO_TCP &&
	    (p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) !=
		PKT_TCP_SYN) {
		c->counters[CNT_UNKNOWN_FLOW]++;
		return NULL;
	}
	if (c->ct->count >= c->ct->high_water && conn_drop_embryonic(c->ct)) {
		c->counters[CNT_EMBRYONIC]++;
		log_limited(&c->rl_flood, LOG_LVL_WARNING,
			    "connection table at %u of %u entries: dropping "
			    "the oldest half-open connections (SYN flood "
			    "defence)",
			    c->ct->count + 1, c->ct->max);
	}
	if (c->ct->count >= c->ct->max) {
		c->counters[CNT_TABLE_FULL]++;
		log_limited(&c->rl_full, LOG_LVL_WARNING,
			    "%s: connection table full (%u entries), "
			    "new connection dropped",
			    svc->name, c->ct->max);
		return NULL;
	}
	if (svc->persist_ms) {
		uint64_t full = c->ct->pt.full_drops;

		tmpl = persist_schedule(&c->ct->pt, svc, p, now);
		if (!tmpl && c->ct->pt.full_drops != full) {
			c->counters[CNT_TABLE_FULL]++;
			return NULL;
		}
		dest = tmpl ? tmpl->dest : NULL;
	} else {
		dest = svc->sched->schedule(svc, p, now);
	}
	/* keepalived's sorry_server: when no real server can take it */
	if (!dest)
		dest = svc->sorry;
	if (!dest) {
		c->counters[CNT_NO_SERVER]++;
		log_limited(&c->rl_noserver, LOG_LVL_WARNING,
			    "%s: no destination available", svc->name);
		return NULL;
	}
	conn = conn_new(c->ct, p->proto, p->saddr, p->sport, p->daddr, p->dport,
			dest, (uint8_t)svc->fwd, now);
	if (!conn) {
		c->counters[CNT_TABLE_FULL]++;
		return NULL;
	}
	if (tmpl) {
		conn->ctl = tmpl;
		persist_bind(svc, tmpl, now);
	}
	/* without an id (mask full) the flow stays on the per-packet path */
	if (svc->offload && dest->offload_id)
		conn->flags |= CONN_F_OFFLOAD;
	dest->stats.conns++;
	svc->stats.conns++;
	return conn;
}

/*
 * A SYN that reuses the tuple of a flow that has ended (TIME_WAIT or
 * CLOSE) opens a new connection: it is scheduled afresh rather than sent
 * to the old flow's server, as IPVS's is_new_conn_expected() with the
 * default conn_reuse_mode. Clients reuse ports quickly; without this a
 * scheduler's sequence (rr, wrr) is skewed by old entries.
 */
static bool reopens_ended_flow(const struct pkt *p, const struct conn *conn)
{
	return p->proto == IPPROTO_TCP &&
	       (p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) ==
		   PKT_TCP_SYN &&
	       (conn->state == TCP_S_TIME_WAIT || conn->state == TCP_S_CLOSE);
}

/*
 * Whether a packet of an offloaded flow is one for conntrack to take: the
 * flow's first packet (created says it was scheduled just now), a TCP SYN
 * again (its conntrack entry was never confirmed, or was replaced), or a
 * UDP datagram before conntrack confirmed the flow (no CONN_F_KERNEL yet).
 * Any other packet reached the queue because conntrack did not carry it
 * (INVALID: out of its TCP window, say, and then without a conntrack
 * entry, so without the connection mark and without NAT).
 */
static bool offload_takes(const struct pkt *p, const struct conn *conn,
			  bool created)
{
	if (created)
		return true;
	if (p->proto == IPPROTO_TCP)
		return (p->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK |
					PKT_TCP_RST)) == PKT_TCP_SYN;
	return !(conn->flags & CONN_F_KERNEL);
}

/*
 * A packet of an offloaded flow that conntrack is to take: not rewritten;
 * its mark names the server, and the nat table's rule for that mark
 * DNATs it, so conntrack carries the flow from then on.
 */
static enum verdict offload_in(struct core *c, const struct pkt *p,
			       struct conn *conn, uint64_t now, bool *balanced)
{
	conn_update(c->ct, conn, DIR_INPUT, p->tcp_flags, now);
	count_traffic(&conn->dest->stats, true, p->len);
	count_traffic(&conn->dest->svc->stats, true, p->len);
	*balanced = true;
	c->verdict_mark = (uint32_t)conn->dest->offload_id << c->offload_shift;
	return VERDICT_ACCEPT;
}

static enum verdict core_in(struct core *c, struct pkt *p, uint64_t now,
			    bool *balanced)
{
	struct conn *conn = conn_in_get(c->ct, p->proto, p->saddr, p->sport,
					p->daddr, p->dport);
	const struct xmit_ops *x;
	bool created = false;

	if (conn && reopens_ended_flow(p, conn)) {
		conn_del(c->ct, conn);
		conn = NULL;
	}
	if (!conn) {
		/* as IPVS's ip_vs_service_find(): the mark first */
		struct service *svc =
		    p->mark ? service_find_fwmark(c->svcs, p->proto, p->mark)
			    : NULL;

		if (!svc)
			svc =
			    service_find(c->svcs, p->proto, p->daddr, p->dport);
		if (!svc) {
			c->counters[CNT_NOT_SERVICE]++;
			return VERDICT_ACCEPT;
		}
		conn = schedule_new(c, svc, p, now);
		if (!conn)
			return VERDICT_DROP;
		created = true;
	}
	if (conn->flags & CONN_F_OFFLOAD) {
		if (offload_takes(p, conn, created))
			return offload_in(c, p, conn, now, balanced);
		/* accepted as it is, it would reach the director's own VIP
		 * (its stack answers with a reset): NAT it per packet */
		c->counters[CNT_OFFLOAD_STRAY]++;
	}
	x = xmit_for((enum fwd_method)conn->fwd);
	if (!x || (conn->fwd != FWD_NAT && !c->xmit)) {
		c->counters[CNT_METHOD_MISSING]++;
		return VERDICT_DROP;
	}
	/* a no-op for an entry conntrack carries (CONN_F_KERNEL) */
	conn_update(c->ct, conn, DIR_INPUT, p->tcp_flags, now);
	count_traffic(&conn->dest->stats, true, p->len);
	count_traffic(&conn->dest->svc->stats, true, p->len);
	*balanced = true;
	if (c->xmit)
		c->xmit->now = now;
	return x->in(c->xmit, p, conn);
}

static enum verdict core_out(struct core *c, struct pkt *p, uint64_t now,
			     bool *balanced)
{
	struct conn *conn = conn_out_get(c->ct, p->proto, p->saddr, p->sport,
					 p->daddr, p->dport);
	const struct xmit_ops *x;

	if (!conn) {
		c->counters[CNT_UNKNOWN_REPLY]++;
		return VERDICT_ACCEPT;
	}
	/* A reply conntrack carries is never queued (the connection mark
	 * returns it first, fw.c): this one has no conntrack entry, and
	 * nothing after us would give it the VIP's address. */
	if (conn->flags & CONN_F_OFFLOAD)
		c->counters[CNT_OFFLOAD_STRAY]++;
	x = xmit_for((enum fwd_method)conn->fwd);
	if (!x || !x->out) {
		c->counters[CNT_METHOD_MISSING]++;
		return VERDICT_ACCEPT;
	}
	conn_update(c->ct, conn, DIR_OUTPUT, p->tcp_flags, now);
	count_traffic(&conn->dest->stats, false, p->len);
	count_traffic(&conn->dest->svc->stats, false, p->len);
	*balanced = true;
	return x->out(c->xmit, p, conn);
}

/*
 * ICMP errors, as ip_vs_in_icmp()/ip_vs_out_icmp(): an error from the
 * client's side quotes a reply it got (VIP:vport -> client:cport) and goes
 * to that flow's real server; an error towards a client quotes the
 * client's packet as the director forwarded it (client:cport ->
 * RIP:rport). Errors to a VIP about no flow are dropped; errors about
 * flows that are not ours pass (they may be the host's own).
 */
static enum verdict core_icmp(struct core *c, struct pkt *p, enum core_dir dir,
			      bool *balanced)
{
	struct conn *conn;
	const struct xmit_ops *x;

	if (dir == CORE_IN)
		conn = conn_in_get(c->ct, p->in_proto, p->in_daddr, p->in_dport,
				   p->in_saddr, p->in_sport);
	else
		conn = conn_out_get(c->ct, p->in_proto, p->in_daddr,
				    p->in_dport, p->in_saddr, p->in_sport);
	if (!conn) {
		c->counters[dir == CORE_IN ? CNT_ICMP_UNKNOWN
					   : CNT_UNKNOWN_REPLY]++;
		return dir == CORE_IN ? VERDICT_DROP : VERDICT_ACCEPT;
	}
	/* conntrack translates errors about an offloaded flow (RELATED) */
	if (conn->flags & CONN_F_OFFLOAD) {
		count_traffic(&conn->dest->stats, dir == CORE_IN, p->len);
		count_traffic(&conn->dest->svc->stats, dir == CORE_IN, p->len);
		return VERDICT_ACCEPT;
	}
	x = xmit_for((enum fwd_method)conn->fwd);
	if (!x || (conn->fwd != FWD_NAT && !c->xmit)) {
		c->counters[CNT_METHOD_MISSING]++;
		return VERDICT_DROP;
	}
	if (dir == CORE_OUT && !x->icmp_out)
		return VERDICT_ACCEPT;
	count_traffic(&conn->dest->stats, dir == CORE_IN, p->len);
	count_traffic(&conn->dest->svc->stats, dir == CORE_IN, p->len);
	*balanced = true;
	return dir == CORE_IN ? x->icmp_in(c->xmit, p, conn)
			      : x->icmp_out(c->xmit, p, conn);
}

void core_flush(struct core *c)
{
	if (c->xmit)
		xmit_flush(c->xmit);
}

/*
 * Verdicts for what cannot be parsed: a client packet queued for a VIP
 * is dropped (it cannot be balanced, and the director's own stack must
 * not answer for the VIP); a reply is dropped too, so a real server's
 * address never leaks to a client un-rewritten.
 */
enum verdict core_packet(struct core *c, const struct core_pkt *cp,
			 uint64_t now, bool *balanced)
{
	struct pkt p;
	enum pkt_class cls = pkt_parse(&p, cp->data, cp->len);

	*balanced = false;
	c->verdict_mark = 0;
	/* ICMP leaving towards a client that is no error about a TCP/UDP
	 * flow (the director's own "protocol unreachable", say) is not ours
	 * to judge: it passes, like any reply we know nothing about */
	if (cp->dir == CORE_OUT &&
	    (cls == PKT_ICMP_NOT_ERROR || cls == PKT_ICMP_BAD_QUOTE)) {
		c->counters[CNT_UNKNOWN_REPLY]++;
		return VERDICT_ACCEPT;
	}
	if (cls != PKT_OK) {
		c->counters[cls]++;
		return VERDICT_DROP;
	}
	p.csum_not_ready = cp->csum_not_ready;
	p.gso = cp->gso;
	p.mark = cp->mark;
	c->counters[PKT_OK]++;
	if (c->xmit)
		c->xmit->now = now;
	if (p.proto == IPPROTO_ICMP)
		return core_icmp(c, &p, cp->dir, balanced);
	return cp->dir == CORE_IN ? core_in(c, &p, now, balanced)
				  : core_out(c, &p, now, balanced);
}
