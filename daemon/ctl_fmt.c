/*
 * ctl_fmt.c - nfqlbctl's output. The human tables follow ipvsadm's
 * print_service_entry()/print_conn() layouts (ipvsadm.c), with the
 * service name and the server state added; JSON follows SPEC.md.
 */
#include "ctl_fmt.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "ctevents.h"
#include "ctl_proto.h"
#include "queue.h"
#include "sched.h"

/* ipvsadm's names for the forwarding methods. */
static const char *fwd_ipvsadm_name(enum fwd_method m)
{
	switch (m) {
	case FWD_NAT:
		return "Masq";
	case FWD_DR:
		return "Route";
	case FWD_TUN:
		return "Tunnel";
	default:
		return "?";
	}
}

static const char *ip_str(uint32_t addr, char *buf)
{
	inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
	return buf;
}

/* "203.0.113.10:80" */
static const char *addr_port(uint32_t addr, uint16_t port_n, char *buf,
			     unsigned int size)
{
	char a[INET_ADDRSTRLEN];

	snprintf(buf, size, "%s:%u", ip_str(addr, a), ntohs(port_n));
	return buf;
}

static const char *proto_upper(uint8_t proto)
{
	return proto == IPPROTO_TCP   ? "TCP"
	       : proto == IPPROTO_UDP ? "UDP"
				      : "?";
}

static void service_conns(const struct service *svc, uint64_t *active,
			  uint64_t *inactive)
{
	*active = *inactive = 0;
	for (unsigned int i = 0; i < svc->n_servers; i++) {
		*active += svc->servers[i]->active_conns;
		*inactive += svc->servers[i]->inactive_conns;
	}
	if (svc->sorry) {
		*active += svc->sorry->active_conns;
		*inactive += svc->sorry->inactive_conns;
	}
}

/* Its flows that conntrack carries (offload), retired servers' too. */
static uint32_t service_kernel_conns(const struct service *svc)
{
	uint32_t n = svc->sorry ? svc->sorry->kernel_conns : 0;

	for (unsigned int i = 0; i < svc->n_servers; i++)
		n += svc->servers[i]->kernel_conns;
	for (const struct server *r = svc->retired; r; r = r->retired_next)
		n += r->kernel_conns;
	return n;
}

/* Whether new connections go to the service's sorry server now: it has
 * one and none of its servers can take them (core.c's rule). */
static bool sorry_in_use(const struct service *svc)
{
	if (!svc->sorry)
		return false;
	for (unsigned int i = 0; i < svc->n_servers; i++)
		if (sched_server_usable(svc->servers[i]))
			return false;
	return true;
}

/* The State column: a server's state, or the sorry server's role. */
static const char *table_state(const struct server *srv)
{
	if (srv == srv->svc->sorry)
		return sorry_in_use(srv->svc) ? "sorry (in use)" : "sorry";
	return server_state_name(server_state(srv));
}

/* ------------------------------------------------------------ tables */

static void table_header(struct obuf *b, const struct ctl_view *v,
			 unsigned int flags)
{
	obuf_printf(b, "nfqlb version %s (size=%u)\n", v->version, v->ct->max);
	if (!(flags & (CTL_F_STATS | CTL_F_RATE))) {
		obuf_puts(b, "Prot LocalAddress:Port Scheduler Service\n"
			     "  -> RemoteAddress:Port           Forward Weight "
			     "ActiveConn InActConn State\n");
		return;
	}
	obuf_puts(b, "Prot LocalAddress:Port           ");
	if (flags & CTL_F_STATS)
		obuf_puts(b, "     Conns   InPkts  OutPkts  InBytes OutBytes");
	if (flags & CTL_F_RATE)
		obuf_puts(b, "       CPS    InPPS   OutPPS    InBPS   OutBPS");
	obuf_puts(b, "\n  -> RemoteAddress:Port\n");
}

static void table_numbers(struct obuf *b, const struct traffic_stats *s,
			  const struct stats_est *e, unsigned int flags)
{
	struct stats_rates r;

	if (flags & CTL_F_STATS)
		obuf_printf(b,
			    " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			    " %8" PRIu64,
			    s->conns, s->in_packets, s->out_packets,
			    s->in_bytes, s->out_bytes);
	if (flags & CTL_F_RATE) {
		stats_est_read(e, &r);
		obuf_printf(b,
			    " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			    " %8" PRIu64,
			    r.cps, r.in_pps, r.out_pps, r.in_bps, r.out_bps);
	}
	obuf_puts(b, "\n");
}

/* "TCP  203.0.113.10:80", or "FWM  5" for a firewall-mark service, as
 * ipvsadm's print_service_entry() names them. */
static const char *service_key(const struct service *svc, char *buf,
			       unsigned int size)
{
	char ap[32];

	if (svc->fwmark)
		snprintf(buf, size, "FWM  %u", svc->fwmark);
	else
		snprintf(buf, size, "%s  %s", proto_upper(svc->proto),
			 addr_port(svc->vip, svc->port, ap, sizeof(ap)));
	return buf;
}

static void table_service(struct obuf *b, const struct service *svc,
			  unsigned int flags)
{
	char key[64];

	service_key(svc, key, sizeof(key));
	if (!(flags & (CTL_F_STATS | CTL_F_RATE))) {
		obuf_printf(b, "%s %s %s", key,
			    svc->sched ? svc->sched->name : "?", svc->name);
		if (svc->offload)
			obuf_printf(b, " (offload: %u flows in the kernel)",
				    service_kernel_conns(svc));
		obuf_puts(b, "\n");
		return;
	}
	obuf_printf(b, "%-33s", key);
	table_numbers(b, &svc->stats, &svc->est, flags);
}

static void table_server(struct obuf *b, const struct server *srv,
			 unsigned int flags)
{
	char ap[32];

	addr_port(srv->addr, srv->port, ap, sizeof(ap));
	if (!(flags & (CTL_F_STATS | CTL_F_RATE))) {
		obuf_printf(b, "  -> %-28s %-7s %-6u %-10u %-9u %s\n", ap,
			    fwd_ipvsadm_name(srv->svc->fwd), srv->weight,
			    srv->active_conns, srv->inactive_conns,
			    table_state(srv));
		return;
	}
	obuf_printf(b, "  -> %-28s", ap);
	table_numbers(b, &srv->stats, &srv->est, flags);
}

/* With --stats, the packets the director did not balance, by cause. */
static void table_drops(struct obuf *b, const struct ctl_view *v)
{
	const char *sep = "";

	obuf_puts(b, "Dropped packets:");
	for (int i = 0; i < CNT_LAST; i++) {
		if (!core_counter_is_drop((enum core_counter)i))
			continue;
		obuf_printf(b, "%s %s %" PRIu64, sep,
			    core_counter_name((enum core_counter)i),
			    v->counters[i]);
		sep = ",";
	}
	obuf_puts(b, "\n");
}

/* Percent of the time since s's counting began, for the lock figures. */
static double queue_pct(const struct queue_stats *s, uint64_t ns,
			uint64_t now_ms)
{
	uint64_t span_ms = now_ms > s->since_ms ? now_ms - s->since_ms : 1;

	return 100.0 * (double)ns / ((double)span_ms * 1e6);
}

/* With --stats, each queue's packets and its share of the core lock. */
static void table_queues(struct obuf *b, const struct ctl_view *v)
{
	for (unsigned int i = 0; i < v->n_queues; i++) {
		struct queue_stats s;

		queue_stats_read(&v->queues[i].stats, &s);
		obuf_printf(b,
			    "Queue %u: %" PRIu64 " packets in %" PRIu64
			    " batches, core lock held %.1f%% waited %.1f%% "
			    "of %" PRIu64 " s, enobufs %" PRIu64
			    ", verdict errors %" PRIu64 ", send errors %" PRIu64
			    "\n",
			    v->queues[i].queue_num, s.received, s.batches,
			    queue_pct(&s, s.lock_hold_ns, v->now_ms),
			    queue_pct(&s, s.lock_wait_ns, v->now_ms),
			    (v->now_ms - s.since_ms) / 1000, s.enobufs,
			    s.verdict_errors, s.send_errors);
	}
}

static void list_table(struct obuf *b, const struct ctl_view *v,
		       unsigned int flags)
{
	table_header(b, v, flags);
	for (unsigned int i = 0; i < v->svcs->n; i++) {
		const struct service *svc = v->svcs->svcs[i];

		table_service(b, svc, flags);
		for (unsigned int j = 0; j < svc->n_servers; j++)
			table_server(b, svc->servers[j], flags);
		if (svc->sorry)
			table_server(b, svc->sorry, flags);
	}
	if (flags & CTL_F_STATS) {
		table_drops(b, v);
		table_queues(b, v);
	}
}

/* -------------------------------------------------------------- JSON */

static void json_counters(struct obuf *b, uint64_t active, uint64_t inactive,
			  const struct traffic_stats *s,
			  const struct stats_est *e, unsigned int flags)
{
	struct stats_rates r;

	obuf_printf(b,
		    "\"conns\":%" PRIu64 ",\"active_conns\":%" PRIu64
		    ",\"inactive_conns\":%" PRIu64 ",\"in_packets\":%" PRIu64
		    ",\"out_packets\":%" PRIu64 ",\"in_bytes\":%" PRIu64
		    ",\"out_bytes\":%" PRIu64,
		    s->conns, active, inactive, s->in_packets, s->out_packets,
		    s->in_bytes, s->out_bytes);
	if (!(flags & CTL_F_RATE))
		return;
	stats_est_read(e, &r);
	obuf_printf(b,
		    ",\"cps\":%" PRIu64 ",\"in_pps\":%" PRIu64
		    ",\"out_pps\":%" PRIu64 ",\"in_bps\":%" PRIu64
		    ",\"out_bps\":%" PRIu64,
		    r.cps, r.in_pps, r.out_pps, r.in_bps, r.out_bps);
}

void fmt_server_json(struct obuf *b, const struct server *srv,
		     unsigned int flags)
{
	char a[INET_ADDRSTRLEN];

	obuf_printf(b, "{\"address\":\"%s\",\"port\":%u,\"weight\":%u,",
		    ip_str(srv->addr, a), ntohs(srv->port), srv->weight);
	obuf_printf(b, "\"state\":\"%s\",",
		    server_state_name(server_state(srv)));
	json_counters(b, srv->active_conns, srv->inactive_conns, &srv->stats,
		      &srv->est, flags);
	obuf_printf(b, ",\"offloaded_conns\":%u", srv->kernel_conns);
	/* with a health check: its type and, while down, why */
	if (srv->health.type != HEALTH_NONE) {
		obuf_printf(b, ",\"check\":\"%s\",\"reason\":",
			    health_type_name(srv->health.type));
		obuf_json_str(b, srv->health_down ? srv->health_reason : "");
	}
	obuf_puts(b, "}");
}

/* The sorry server, outside "servers" (it is no scheduled server), or
 * null; in_use tells whether new connections go to it now. */
static void json_sorry(struct obuf *b, const struct service *svc,
		       unsigned int flags)
{
	const struct server *s = svc->sorry;
	char a[INET_ADDRSTRLEN];

	if (!s) {
		obuf_puts(b, "null");
		return;
	}
	obuf_printf(b, "{\"address\":\"%s\",\"port\":%u,\"in_use\":%s,",
		    ip_str(s->addr, a), ntohs(s->port),
		    sorry_in_use(svc) ? "true" : "false");
	json_counters(b, s->active_conns, s->inactive_conns, &s->stats, &s->est,
		      flags);
	obuf_puts(b, "}");
}

static void json_service(struct obuf *b, const struct service *svc,
			 unsigned int flags)
{
	char a[INET_ADDRSTRLEN];
	uint64_t active, inactive;

	obuf_puts(b, "{\"name\":");
	obuf_json_str(b, svc->name);
	obuf_printf(b,
		    ",\"protocol\":\"%s\",\"vip\":\"%s\",\"port\":%u,"
		    "\"fwmark\":%u,\"scheduler\":\"%s\",\"forward\":\"%s\",",
		    proto_name(svc->proto), ip_str(svc->vip, a),
		    ntohs(svc->port), svc->fwmark,
		    svc->sched ? svc->sched->name : "?",
		    fwd_method_name(svc->fwd));
	service_conns(svc, &active, &inactive);
	json_counters(b, active, inactive, &svc->stats, &svc->est, flags);
	obuf_printf(b, ",\"offload\":%s,\"offloaded_conns\":%u",
		    svc->offload ? "true" : "false", service_kernel_conns(svc));
	obuf_puts(b, ",\"servers\":[");
	for (unsigned int j = 0; j < svc->n_servers; j++) {
		if (j)
			obuf_puts(b, ",");
		fmt_server_json(b, svc->servers[j], flags);
	}
	obuf_puts(b, "],\"sorry_server\":");
	json_sorry(b, svc, flags);
	obuf_puts(b, "}");
}

static void list_json(struct obuf *b, const struct ctl_view *v,
		      unsigned int flags)
{
	obuf_puts(b, "{\"services\":[");
	for (unsigned int i = 0; i < v->svcs->n; i++) {
		if (i)
			obuf_puts(b, ",");
		json_service(b, v->svcs->svcs[i], flags);
	}
	obuf_puts(b, "],\"drops\":{");
	for (int i = 0, n = 0; i < CNT_LAST; i++) {
		if (!core_counter_is_drop((enum core_counter)i))
			continue;
		obuf_printf(b, "%s\"%s\":%" PRIu64, n++ ? "," : "",
			    core_counter_name((enum core_counter)i),
			    v->counters[i]);
	}
	obuf_puts(b, "},\"queues\":[");
	for (unsigned int i = 0; i < v->n_queues; i++) {
		struct queue_stats s;

		queue_stats_read(&v->queues[i].stats, &s);
		obuf_printf(
		    b,
		    "%s{\"queue\":%u,\"packets\":%" PRIu64
		    ",\"batches\":%" PRIu64 ",\"enobufs\":%" PRIu64
		    ",\"verdict_errors\":%" PRIu64 ",\"send_errors\":%" PRIu64
		    ",\"lock_wait_us\":%" PRIu64 ",\"lock_hold_us\":%" PRIu64
		    ",\"counting_ms\":%" PRIu64 "}",
		    i ? "," : "", v->queues[i].queue_num, s.received, s.batches,
		    s.enobufs, s.verdict_errors, s.send_errors,
		    s.lock_wait_ns / 1000, s.lock_hold_ns / 1000,
		    v->now_ms - s.since_ms);
	}
	obuf_puts(b, "]}\n");
}

void fmt_server(struct obuf *b, const struct server *srv, unsigned int flags)
{
	char label[128];

	if (flags & CTL_F_JSON) {
		fmt_server_json(b, srv, flags);
		obuf_puts(b, "\n");
		return;
	}
	obuf_printf(b,
		    "%s: weight %u, state %s, %u active and %u inactive "
		    "connections\n",
		    server_label(srv, label, sizeof(label)), srv->weight,
		    server_state_name(server_state(srv)), srv->active_conns,
		    srv->inactive_conns);
}

void fmt_list(struct obuf *b, const struct ctl_view *v, unsigned int flags)
{
	if (flags & CTL_F_JSON)
		list_json(b, v, flags);
	else
		list_table(b, v, flags);
}

/* ------------------------------------------------------- connections */

void fmt_expire(char *buf, unsigned int size, uint64_t seconds)
{
	snprintf(buf, size, "%02" PRIu64 ":%02" PRIu64, seconds / 60,
		 seconds % 60);
}

static const char *conn_offload_name(const struct conn *c)
{
	if (c->flags & CONN_F_KERNEL)
		return "offload";
	return c->flags & CONN_F_OFFLOAD ? "offload-pending" : "";
}

static const char *conn_state_name(const struct conn *c)
{
	return c->proto == IPPROTO_TCP ? tcp_state_name(c->state) : "UDP";
}

/* 0 for a flow conntrack carries: its entry's end is the kernel's. */
static uint64_t conn_expires_s(const struct conn *c, uint64_t now_ms)
{
	if (c->flags & CONN_F_KERNEL)
		return 0;
	return c->expires > now_ms ? (c->expires - now_ms + 999) / 1000 : 0;
}

/* Offloaded flows end with "offload" ("offload-pending" until conntrack
 * confirmed them); their expire column shows "--:--". */
static void conn_line(struct obuf *b, const struct conn *c, uint64_t now_ms)
{
	char src[32], vip[32], dst[32], exp[48];

	if (c->flags & CONN_F_KERNEL)
		snprintf(exp, sizeof(exp), "--:--");
	else
		fmt_expire(exp, sizeof(exp), conn_expires_s(c, now_ms));
	obuf_printf(b, "%-3s %-6s %-11s %-21s %-21s %s%s%s\n",
		    proto_upper(c->proto), exp, conn_state_name(c),
		    addr_port(c->caddr, c->cport, src, sizeof(src)),
		    addr_port(c->vaddr, c->vport, vip, sizeof(vip)),
		    addr_port(c->daddr, c->dport, dst, sizeof(dst)),
		    conn_offload_name(c)[0] ? " " : "", conn_offload_name(c));
}

static void conn_json(struct obuf *b, const struct conn *c, uint64_t now_ms,
		      bool first)
{
	char ca[INET_ADDRSTRLEN], va[INET_ADDRSTRLEN], da[INET_ADDRSTRLEN];

	obuf_printf(b,
		    "%s{\"protocol\":\"%s\",\"client\":\"%s\",\"client_port\":"
		    "%u,\"vip\":\"%s\",\"vport\":%u,\"server\":\"%s\","
		    "\"server_port\":%u,\"forward\":\"%s\",\"state\":\"%s\","
		    "\"expires\":%" PRIu64 ",\"offload\":\"%s\"}",
		    first ? "" : ",", proto_name(c->proto),
		    ip_str(c->caddr, ca), ntohs(c->cport), ip_str(c->vaddr, va),
		    ntohs(c->vport), ip_str(c->daddr, da), ntohs(c->dport),
		    fwd_method_name((enum fwd_method)c->fwd),
		    conn_state_name(c), conn_expires_s(c, now_ms),
		    conn_offload_name(c));
}

void fmt_conns_step(struct obuf *b, const struct ctl_view *v,
		    unsigned int flags, struct fmt_conns *cur, size_t max_bytes,
		    uint32_t max_buckets)
{
	bool json = flags & CTL_F_JSON;
	size_t start = b->len;
	uint32_t nb = v->ct->mask + 1, visited = 0;

	if (cur->done)
		return;
	if (!cur->started) {
		obuf_puts(b,
			  json ? "{\"connections\":["
			       : "nfqlb connection entries\n"
				 "pro expire state       source        "
				 "        virtual               destination\n");
		cur->started = true;
	}
	while (cur->bucket < nb && visited < max_buckets &&
	       b->len - start < max_bytes) {
		for (const struct conn *c = v->ct->in_hash[cur->bucket]; c;
		     c = c->in_next) {
			if (json)
				conn_json(b, c, v->now_ms, cur->listed == 0);
			else
				conn_line(b, c, v->now_ms);
			cur->listed++;
		}
		cur->bucket++;
		visited++;
	}
	if (cur->bucket >= nb) {
		if (json)
			obuf_puts(b, "]}\n");
		cur->done = true;
	}
}

/* ----------------------------------------------------------- metrics */

static void prom_family(struct obuf *b, const char *name, const char *type,
			const char *help)
{
	obuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_svc_labels(struct obuf *b, const struct service *svc)
{
	obuf_puts(b, "{service=\"");
	obuf_prom_label(b, svc->name);
	obuf_puts(b, "\"");
}

static void prom_srv_labels(struct obuf *b, const struct server *srv)
{
	char ap[32];

	prom_svc_labels(b, srv->svc);
	obuf_printf(b, ",server=\"%s\"",
		    addr_port(srv->addr, srv->port, ap, sizeof(ap)));
}

/* A per-service or per-server value, as one sample of a family. */
enum prom_value {
	PV_CONNS,
	PV_IN_PACKETS,
	PV_OUT_PACKETS,
	PV_IN_BYTES,
	PV_OUT_BYTES,
	PV_ACTIVE,
	PV_INACTIVE,
	PV_LAST,
};

static const struct {
	const char *suffix, *type, *help;
	const char *direction; /* label value, or NULL */
} prom_values[PV_LAST] = {
    [PV_CONNS] = {"connections_total", "counter", "Connections scheduled.",
		  NULL},
    [PV_IN_PACKETS] = {"packets_total", "counter",
		       "Packets balanced, by direction (in: from clients).",
		       "in"},
    [PV_OUT_PACKETS] = {"packets_total", NULL, NULL, "out"},
    [PV_IN_BYTES] = {"bytes_total", "counter",
		     "Bytes of IP packets balanced, by direction.", "in"},
    [PV_OUT_BYTES] = {"bytes_total", NULL, NULL, "out"},
    [PV_ACTIVE] = {"active_connections", "gauge",
		   "Connections in TCP ESTABLISHED (IPVS ActiveConn).", NULL},
    [PV_INACTIVE] = {"inactive_connections", "gauge",
		     "Other connections, UDP included (IPVS InActConn).", NULL},
};

static uint64_t stats_value(const struct traffic_stats *s, enum prom_value pv)
{
	switch (pv) {
	case PV_CONNS:
		return s->conns;
	case PV_IN_PACKETS:
		return s->in_packets;
	case PV_OUT_PACKETS:
		return s->out_packets;
	case PV_IN_BYTES:
		return s->in_bytes;
	case PV_OUT_BYTES:
		return s->out_bytes;
	default:
		return 0;
	}
}

static uint64_t service_value(const struct service *svc, enum prom_value pv)
{
	uint64_t active, inactive;

	service_conns(svc, &active, &inactive);
	if (pv == PV_ACTIVE)
		return active;
	if (pv == PV_INACTIVE)
		return inactive;
	return stats_value(&svc->stats, pv);
}

static uint64_t server_value(const struct server *srv, enum prom_value pv)
{
	if (pv == PV_ACTIVE)
		return srv->active_conns;
	if (pv == PV_INACTIVE)
		return srv->inactive_conns;
	return stats_value(&srv->stats, pv);
}

static void prom_sample_end(struct obuf *b, enum prom_value pv, uint64_t val)
{
	if (prom_values[pv].direction)
		obuf_printf(b, ",direction=\"%s\"", prom_values[pv].direction);
	obuf_printf(b, "} %" PRIu64 "\n", val);
}

/* Every family of one level ("service" or "server"); the samples of a
 * family stay together, as the format requires. */
static void prom_level(struct obuf *b, const struct ctl_view *v, bool servers)
{
	char name[96];

	for (int pv = 0; pv < PV_LAST; pv++) {
		snprintf(name, sizeof(name), "nfqlb_%s_%s",
			 servers ? "server" : "service",
			 prom_values[pv].suffix);
		if (prom_values[pv].type)
			prom_family(b, name, prom_values[pv].type,
				    prom_values[pv].help);
		for (unsigned int i = 0; i < v->svcs->n; i++) {
			const struct service *svc = v->svcs->svcs[i];

			if (!servers) {
				obuf_puts(b, name);
				prom_svc_labels(b, svc);
				prom_sample_end(b, (enum prom_value)pv,
						service_value(svc, pv));
				continue;
			}
			for (unsigned int j = 0; j < svc->n_servers; j++) {
				obuf_puts(b, name);
				prom_srv_labels(b, svc->servers[j]);
				prom_sample_end(
				    b, (enum prom_value)pv,
				    server_value(svc->servers[j], pv));
			}
		}
	}
}

static void prom_service_info(struct obuf *b, const struct ctl_view *v)
{
	char a[INET_ADDRSTRLEN];

	prom_family(b, "nfqlb_service_info", "gauge",
		    "Virtual services (always 1), their address and policy.");
	for (unsigned int i = 0; i < v->svcs->n; i++) {
		const struct service *svc = v->svcs->svcs[i];

		obuf_puts(b, "nfqlb_service_info");
		prom_svc_labels(b, svc);
		obuf_printf(b,
			    ",protocol=\"%s\",vip=\"%s\",port=\"%u\","
			    "fwmark=\"%u\",scheduler=\"%s\",forward=\"%s\"} "
			    "1\n",
			    proto_name(svc->proto), ip_str(svc->vip, a),
			    ntohs(svc->port), svc->fwmark,
			    svc->sched ? svc->sched->name : "?",
			    fwd_method_name(svc->fwd));
	}
}

static void prom_sorry(struct obuf *b, const struct ctl_view *v)
{
	prom_family(b, "nfqlb_service_sorry_in_use", "gauge",
		    "1 while new connections go to the service's sorry server "
		    "(no server can take them); services with one only.");
	for (unsigned int i = 0; i < v->svcs->n; i++) {
		const struct service *svc = v->svcs->svcs[i];

		if (!svc->sorry)
			continue;
		obuf_puts(b, "nfqlb_service_sorry_in_use");
		prom_svc_labels(b, svc);
		obuf_printf(b, "} %d\n", sorry_in_use(svc));
	}
}

static void prom_server_state(struct obuf *b, const struct ctl_view *v)
{
	prom_family(b, "nfqlb_server_weight", "gauge",
		    "Effective scheduling weight (0: no new connections).");
	for (unsigned int i = 0; i < v->svcs->n; i++)
		for (unsigned int j = 0; j < v->svcs->svcs[i]->n_servers; j++) {
			const struct server *srv = v->svcs->svcs[i]->servers[j];

			obuf_puts(b, "nfqlb_server_weight");
			prom_srv_labels(b, srv);
			obuf_printf(b, "} %u\n", srv->weight);
		}
	prom_family(b, "nfqlb_server_state", "gauge",
		    "1 for the state the server is in (up, down, drain, "
		    "disabled), 0 for the others.");
	for (unsigned int i = 0; i < v->svcs->n; i++)
		for (unsigned int j = 0; j < v->svcs->svcs[i]->n_servers; j++) {
			const struct server *srv = v->svcs->svcs[i]->servers[j];
			enum server_state st = server_state(srv);

			for (int s = 0; s < SERVER_STATE_LAST; s++) {
				obuf_puts(b, "nfqlb_server_state");
				prom_srv_labels(b, srv);
				obuf_printf(
				    b, ",state=\"%s\"} %d\n",
				    server_state_name((enum server_state)s),
				    s == (int)st);
			}
		}
}

/* The core's counters of one kind: dropped, or passed untouched. */
static void prom_causes(struct obuf *b, const struct ctl_view *v,
			const char *name, const char *help, bool drops)
{
	prom_family(b, name, "counter", help);
	for (int i = 0; i < CNT_LAST; i++) {
		enum core_counter c = (enum core_counter)i;

		if (c == (enum core_counter)PKT_OK ||
		    core_counter_is_drop(c) != drops)
			continue;
		obuf_printf(b, "%s{cause=\"%s\"} %" PRIu64 "\n", name,
			    core_counter_name(c), v->counters[i]);
	}
}

/* A family of one sample without labels. */
static void prom_single(struct obuf *b, const char *name, const char *type,
			const char *help, uint64_t value)
{
	prom_family(b, name, type, help);
	obuf_printf(b, "%s %" PRIu64 "\n", name, value);
}

/* Each queue's counters, one family each, labelled by queue number. */
static void prom_queues(struct obuf *b, const struct ctl_view *v)
{
	static const struct {
		const char *name, *help;
		size_t off;
		bool ns; /* nanoseconds, exposed in seconds */
	} fams[] = {
	    {"nfqlb_queue_packets_total", "Packets read from the NFQUEUE.",
	     offsetof(struct queue_stats, received), false},
	    {"nfqlb_queue_batches_total",
	     "Receive batches (one recvmmsg each) processed.",
	     offsetof(struct queue_stats, batches), false},
	    {"nfqlb_queue_enobufs_total",
	     "Times the kernel reported queue messages lost (ENOBUFS).",
	     offsetof(struct queue_stats, enobufs), false},
	    {"nfqlb_queue_verdict_errors_total", "Verdicts the kernel refused.",
	     offsetof(struct queue_stats, verdict_errors), false},
	    {"nfqlb_queue_send_errors_total",
	     "Verdict batches that could not be sent.",
	     offsetof(struct queue_stats, send_errors), false},
	    {"nfqlb_queue_lock_wait_seconds_total",
	     "Time the queue's worker waited for the core lock.",
	     offsetof(struct queue_stats, lock_wait_ns), true},
	    {"nfqlb_queue_lock_hold_seconds_total",
	     "Time the queue's worker spent in the core (holding the core "
	     "lock when there are several queues).",
	     offsetof(struct queue_stats, lock_hold_ns), true},
	};

	if (!v->n_queues)
		return;
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		prom_family(b, fams[f].name, "counter", fams[f].help);
		for (unsigned int i = 0; i < v->n_queues; i++) {
			struct queue_stats s;
			uint64_t x;

			queue_stats_read(&v->queues[i].stats, &s);
			memcpy(&x, (const char *)&s + fams[f].off, sizeof(x));
			if (fams[f].ns)
				obuf_printf(
				    b, "%s{queue=\"%u\"} %.6f\n", fams[f].name,
				    v->queues[i].queue_num, (double)x / 1e9);
			else
				obuf_printf(b, "%s{queue=\"%u\"} %" PRIu64 "\n",
					    fams[f].name,
					    v->queues[i].queue_num, x);
		}
	}
}

static void prom_packets(struct obuf *b, const struct ctl_view *v)
{
	prom_causes(b, v, "nfqlb_packets_dropped_total",
		    "Queued packets dropped, by cause.", true);
	prom_causes(b, v, "nfqlb_packets_passed_total",
		    "Queued packets passed on untouched, by cause.", false);
	prom_queues(b, v);
}

/* The conntrack event side of offload (ctevents.c), once it runs. */
static void prom_conntrack(struct obuf *b, const struct ctl_view *v)
{
	const struct ctevents_stats *s = v->cts;

	if (!s)
		return;
	prom_single(b, "nfqlb_conntrack_events_total", "counter",
		    "Conntrack events read.", s->events);
	prom_single(b, "nfqlb_conntrack_enobufs_total", "counter",
		    "Times conntrack events were lost (ENOBUFS).", s->enobufs);
	prom_single(b, "nfqlb_conntrack_resyncs_total", "counter",
		    "Conntrack table dumps compared with the daemon's.",
		    s->resyncs);
	prom_single(b, "nfqlb_conntrack_ended_total", "counter",
		    "Offloaded flows whose DESTROY event removed them.",
		    s->ended);
	prom_single(b, "nfqlb_conntrack_lost_total", "counter",
		    "Offloaded flows found ended by a resync.", s->lost);
	prom_single(b, "nfqlb_conntrack_adopted_total", "counter",
		    "Offloaded flows found in the kernel without an entry.",
		    s->adopted);
	prom_single(b, "nfqlb_conntrack_deleted_total", "counter",
		    "Conntrack entries deleted with their server.", s->deleted);
	prom_single(b, "nfqlb_conntrack_errors_total", "counter",
		    "Failed conntrack dumps or deletes.", s->errors);
}

void fmt_metrics(struct obuf *b, const struct ctl_view *v)
{
	prom_family(b, "nfqlb_info", "gauge",
		    "Always 1; the version of the running daemon.");
	obuf_puts(b, "nfqlb_info{version=\"");
	obuf_prom_label(b, v->version);
	obuf_puts(b, "\"} 1\n");
	prom_single(b, "nfqlb_connections", "gauge",
		    "Entries in the connection table.", v->ct->count);
	prom_single(b, "nfqlb_connections_max", "gauge",
		    "Size of the connection table (max_connections).",
		    v->ct->max);
	prom_single(b, "nfqlb_connections_offloaded", "gauge",
		    "Entries whose flow conntrack carries (offload).",
		    v->ct->kernel_count);
	prom_service_info(b, v);
	prom_sorry(b, v);
	prom_level(b, v, false);
	prom_level(b, v, true);
	prom_server_state(b, v);
	prom_packets(b, v);
	prom_conntrack(b, v);
}
