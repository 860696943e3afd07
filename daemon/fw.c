/*
 * fw.c - the daemon's own iptables chains (iptables.manage = true).
 *
 * Where packets are queued and why:
 *   raw PREROUTING -> CHAIN: client packets to each VIP:port. Before
 *     connection tracking, so conntrack records the rewritten flow
 *     (client <-> real server) and the server's replies match it as
 *     ESTABLISHED on a stateful firewall.
 *     ICMP errors to each VIP (about a reply the client got).
 *   mangle POSTROUTING -> CHAIN: replies from NAT real servers, after
 *     conntrack and the filter table have seen them as the real server's;
 *     ICMP errors leaving towards clients (they may quote a NAT flow).
 *   filter FORWARD -> CHAIN: accepts packets the daemon marked as balanced,
 *     so a default-DROP FORWARD policy does not drop the first packet of a
 *     flow that no longer carries the VIP the operator's rules name.
 *   mangle PREROUTING -> CHAIN_FWM, appended last: client packets carrying
 *     the mark of a firewall-mark service. The operator sets that mark in
 *     mangle PREROUTING (as for IPVS), which runs after raw, so the raw
 *     chain cannot see it; our jump comes after the operator's rules.
 *     That is after conntrack too: conntrack records such a flow under
 *     its original destination, so the real server's NAT replies are
 *     unknown (INVALID) to it, and CHAIN in filter FORWARD accepts them
 *     by their source, before anything else.
 *   Offload services (offload = true, VS/NAT): their client packets are
 *     queued in CHAIN_FWM too, after conntrack, unless the connection's
 *     mark holds a server id in iptables.offload_mask: conntrack carries
 *     those. The daemon schedules a flow's first packet and accepts it
 *     with the server's id in its mark; nat PREROUTING -> CHAIN (created
 *     with the first offload service) saves the id in the connection's
 *     mark and DNATs it to the server. From then on conntrack translates
 *     the flow both ways: the reply chain in mangle POSTROUTING returns
 *     such packets first, and CHAIN in filter FORWARD accepts them.
 *
 * Changes go through one iptables-restore --noflush per change with only
 * the lines that differ: a reload never rebuilds rules (with iptables-nft,
 * removing the last rules of a namespace can switch conntrack off and
 * strand translated flows). On stop the jumps and chains go, and so does
 * a table that did not exist before we started, so iptables-save after
 * stop equals iptables-save before start.
 */
#include "fw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

/* clang-format off */
static const char *const table_names[FW_TABLE_LAST] = {
    [FW_RAW] = "raw",
    [FW_MANGLE] = "mangle",
    [FW_FILTER] = "filter",
    [FW_MANGLE_PRE] = "mangle",
    [FW_NAT] = "nat",
};

static const char *const hook_chains[FW_TABLE_LAST] = {
    [FW_RAW] = "PREROUTING",
    [FW_MANGLE] = "POSTROUTING",
    [FW_FILTER] = "FORWARD",
    [FW_MANGLE_PRE] = "PREROUTING",
    [FW_NAT] = "PREROUTING",
};
/* clang-format on */

/* Our chains' names: chain, and chain_fwm for FW_MANGLE_PRE. */
static void set_chains(struct fw *fw, const char *chain)
{
	snprintf(fw->chain, sizeof(fw->chain), "%s", chain);
	snprintf(fw->chain_fwm, sizeof(fw->chain_fwm), "%.24s_FWM", chain);
}

/* Our chain in slot t. */
static const char *slot_chain(const struct fw *fw, int t)
{
	return t == FW_MANGLE_PRE ? fw->chain_fwm : fw->chain;
}

/*
 * Runs argv with input on its stdin; its stdout goes to out (may be NULL),
 * its stderr to the log. Returns the exit status, or -1.
 */
static int run(char *const argv[], const char *input, char **out)
{
	int in_pipe[2], out_pipe[2], status;
	size_t cap = 0, len = 0;
	char *buf = NULL;
	pid_t pid;

	if (pipe(in_pipe) < 0 || pipe(out_pipe) < 0) {
		log_err("%s: pipe: %m", argv[0]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_err("%s: fork: %m", argv[0]);
		return -1;
	}
	if (pid == 0) {
		dup2(in_pipe[0], STDIN_FILENO);
		dup2(out_pipe[1], STDOUT_FILENO);
		close(in_pipe[0]);
		close(in_pipe[1]);
		close(out_pipe[0]);
		close(out_pipe[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "nfqlb: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	if (input) {
		size_t n = strlen(input), done = 0;

		while (done < n) {
			ssize_t w = write(in_pipe[1], input + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				log_err("%s: writing its input: %m", argv[0]);
				break;
			}
			done += (size_t)w;
		}
	}
	close(in_pipe[1]);
	for (;;) {
		ssize_t r;

		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb)
				break;
			buf = nb;
		}
		r = read(out_pipe[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(out_pipe[0]);
	if (buf)
		buf[len] = '\0';
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_err("%s: wait: %m", argv[0]);
			free(buf);
			return -1;
		}
	}
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int restore(const char *script)
{
	char *const argv[] = {"iptables-restore", "-w", "--noflush", NULL};
	int rc = run(argv, script, NULL);

	if (rc != 0) {
		log_err("iptables-restore failed (exit %d) on:\n%s", rc,
			script);
		return -1;
	}
	return 0;
}

static char *save(const char *table)
{
	char *const argv[] = {"iptables-save", "-t", (char *)table, NULL};
	char *const all[] = {"iptables-save", NULL};
	char *out = NULL;

	if (run(table ? argv : all, NULL, &out) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int rules_add(struct fw_rules *r, enum fw_table t, const char *spec)
{
	struct fw_rule *nv;

	for (unsigned int i = 0; i < r->n; i++)
		if (r->v[i].table == t && strcmp(r->v[i].spec, spec) == 0)
			return 0; /* servers shared by services: one rule */
	nv = realloc(r->v, (r->n + 1) * sizeof(*r->v));
	if (!nv)
		return -1;
	r->v = nv;
	r->v[r->n].table = t;
	r->v[r->n].first = false;
	snprintf(r->v[r->n].spec, sizeof(r->v[r->n].spec), "%s", spec);
	r->n++;
	return 0;
}

/* As rules_add, for a rule that goes before the chain's others (-I). */
static int rules_add_first(struct fw_rules *r, enum fw_table t,
			   const char *spec)
{
	if (rules_add(r, t, spec) < 0)
		return -1;
	for (unsigned int i = 0; i < r->n; i++)
		if (r->v[i].table == t && strcmp(r->v[i].spec, spec) == 0)
			r->v[i].first = true;
	return 0;
}

void fw_rules_free(struct fw_rules *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/*
 * ICMP errors about balanced flows must reach the daemon too (see
 * core.c): those sent to a VIP (raw PREROUTING, vip given), and for NAT
 * those leaving towards clients (mangle POSTROUTING, vip NULL): they quote
 * the real server's address, which the client never saw.
 */
static int icmp_rules_add(struct fw_rules *out, enum fw_table t,
			  const char *vip, const char *target)
{
	static const char *const types[] = {"destination-unreachable",
					    "time-exceeded"};
	char spec[160];

	for (unsigned int i = 0; i < 2; i++) {
		snprintf(spec, sizeof(spec),
			 "%s%.15s%s-p icmp -m icmp --icmp-type %s -j %s",
			 vip ? "-d " : "", vip ? vip : "", vip ? "/32 " : "",
			 types[i], target);
		if (rules_add(out, t, spec) < 0)
			return -1;
	}
	return 0;
}

/*
 * What the replies of a NAT real server need: queued in mangle
 * POSTROUTING; for a firewall-mark service also accepted, first, in filter
 * FORWARD (see the top: conntrack does not know them, a SYN-ACK it saw no
 * SYN for is even INVALID). port (host order) 0: a server that keeps the
 * client's port answers from any.
 */
static int nat_server_rules_add(struct fw_rules *out, uint8_t proto,
				uint32_t addr, uint16_t port, bool fwmark,
				const char *target)
{
	const char *p = proto_name(proto);
	char spec[160], sport[32], a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	sport[0] = '\0';
	if (port)
		snprintf(sport, sizeof(sport), " -m %s --sport %u", p, port);
	snprintf(spec, sizeof(spec), "-s %s/32 -p %s%s -j %s", a, p, sport,
		 target);
	if (rules_add(out, FW_MANGLE, spec) < 0)
		return -1;
	if (!fwmark)
		return 0;
	snprintf(spec, sizeof(spec), "-s %s/32 -p %s%s -j ACCEPT", a, p, sport);
	return rules_add_first(out, FW_FILTER, spec);
}

/* A firewall-mark service: its marked client packets, in mangle
 * PREROUTING after the operator's marking rules (see the top). */
static int fwmark_rules_add(struct fw_rules *out, const char *target,
			    const struct service_conf *s)
{
	char spec[160];

	snprintf(spec, sizeof(spec), "-p %s -m mark --mark 0x%x -j %s",
		 proto_name(s->proto), s->fwmark, target);
	return rules_add(out, FW_MANGLE_PRE, spec);
}

/* Whether cfg has a service whose flows conntrack carries. */
static bool cfg_offloads(const struct config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_services; i++)
		if (cfg->services[i].offload && cfg->services[i].fwd == FWD_NAT)
			return true;
	return false;
}

/* An offload service: its client packets, after conntrack (see the top). */
static int offload_queue_rule_add(struct fw_rules *out, const char *target,
				  const struct service_conf *s)
{
	char spec[192], a[INET_ADDRSTRLEN];
	const char *p = proto_name(s->proto);

	inet_ntop(AF_INET, &s->vip, a, sizeof(a));
	snprintf(spec, sizeof(spec), "-d %s/32 -p %s -m %s --dport %u -j %s", a,
		 p, p, s->port, target);
	return rules_add(out, FW_MANGLE_PRE, spec);
}

/* What every offloaded flow needs, whatever its service: conntrack's
 * connection mark holds its server's id (see the top). */
static int offload_common_rules_add(struct fw_rules *out,
				    const struct config *cfg)
{
	uint32_t m = cfg->fw_offload_mask;
	char spec[160];

	snprintf(spec, sizeof(spec), "-m connmark ! --mark 0x0/0x%x -j RETURN",
		 m);
	if (rules_add_first(out, FW_MANGLE_PRE, spec) < 0 ||
	    rules_add_first(out, FW_MANGLE, spec) < 0)
		return -1;
	/* first: the bulk of the traffic once flows are offloaded */
	snprintf(spec, sizeof(spec), "-m connmark ! --mark 0x0/0x%x -j ACCEPT",
		 m);
	if (rules_add_first(out, FW_FILTER, spec) < 0)
		return -1;
	snprintf(spec, sizeof(spec),
		 "-m mark ! --mark 0x0/0x%x -j CONNMARK --save-mark --nfmask "
		 "0x%x --ctmask 0x%x",
		 m, m, m);
	return rules_add_first(out, FW_NAT, spec);
}

/* The DNAT of one server of an offload service, selected by its id. */
static int offload_server_rule_add(struct fw_rules *out,
				   const struct config *cfg,
				   const struct server *srv)
{
	char spec[160], a[INET_ADDRSTRLEN], port[8] = "";

	if (!srv->offload_id)
		return 0; /* none free: its flows stay per packet */
	inet_ntop(AF_INET, &srv->addr, a, sizeof(a));
	if (srv->port)
		snprintf(port, sizeof(port), ":%u", ntohs(srv->port));
	snprintf(spec, sizeof(spec),
		 "-p %s -m mark --mark 0x%x/0x%x -j DNAT --to-destination %s%s",
		 proto_name(srv->svc->proto),
		 (uint32_t)srv->offload_id
		     << offload_mask_shift(cfg->fw_offload_mask),
		 cfg->fw_offload_mask, a, port);
	return rules_add(out, FW_NAT, spec);
}

/* The running servers' DNAT rules (they need the ids service.c gave). */
static int offload_rules_add(struct fw_rules *out, const struct config *cfg,
			     const struct service_set *svcs)
{
	for (unsigned int i = 0; svcs && i < svcs->n; i++) {
		const struct service *svc = svcs->svcs[i];

		if (!svc->offload)
			continue;
		for (unsigned int j = 0; j < svc->n_servers; j++)
			if (offload_server_rule_add(out, cfg, svc->servers[j]) <
			    0)
				return -1;
		if (svc->sorry &&
		    offload_server_rule_add(out, cfg, svc->sorry) < 0)
			return -1;
	}
	return 0;
}

/* Retired NAT servers (expire_nodest_conn = false) still have flows
 * whose replies must be rewritten until the last one ends. */
static int retired_rules_add(struct fw_rules *out, const struct config *cfg,
			     const struct service_set *svcs)
{
	char target[FW_TARGET_MAX];

	fw_queue_target(cfg, target, sizeof(target));
	for (unsigned int i = 0; svcs && i < svcs->n; i++) {
		const struct service *svc = svcs->svcs[i];

		if (svc->fwd != FWD_NAT)
			continue;
		for (const struct server *r = svc->retired; r;
		     r = r->retired_next)
			if (nat_server_rules_add(
				out, svc->proto, r->addr, ntohs(r->port),
				svc->fwmark || svc->offload, target) < 0)
				return -1;
	}
	return 0;
}

/*
 * The target of every queueing rule. With several queues the kernel picks
 * one by the CPU the packet is processed on (CPU fanout): the two
 * directions of a flow may meet different workers, which share the
 * connection table (workers.h).
 */
void fw_queue_target(const struct config *cfg, char *buf, size_t size)
{
	if (cfg->queues > 1)
		snprintf(buf, size,
			 "NFQUEUE --queue-balance %u:%u --queue-cpu-fanout",
			 cfg->queue, cfg->queue + cfg->queues - 1);
	else
		snprintf(buf, size, "NFQUEUE --queue-num %u", cfg->queue);
}

int fw_rules_build(const struct config *cfg, struct fw_rules *out)
{
	char spec[192], a[INET_ADDRSTRLEN], target[FW_TARGET_MAX];

	memset(out, 0, sizeof(*out));
	fw_queue_target(cfg, target, sizeof(target));
	snprintf(spec, sizeof(spec), "-m mark --mark 0x%x/0x%x -j ACCEPT",
		 cfg->fw_mark, cfg->fw_mark);
	if (rules_add(out, FW_FILTER, spec) < 0)
		goto oom;
	/*
	 * Fragments: the kernel reassembles IPv4 datagrams before the raw
	 * table (nf_defrag_ipv4, priority -400), so the queue sees whole
	 * datagrams with their ports - but only while connection tracking is
	 * in use in this network namespace. This rule is a no-op (RETURN at
	 * the end of our chain) whose conntrack match keeps it in use.
	 */
	if (rules_add(out, FW_FILTER,
		      "-m conntrack --ctstate INVALID -j RETURN") < 0)
		goto oom;
	if (cfg_offloads(cfg) && offload_common_rules_add(out, cfg) < 0)
		goto oom;
	for (unsigned int i = 0; i < cfg->n_services; i++) {
		const struct service_conf *s = &cfg->services[i];
		const char *p = proto_name(s->proto);
		/* queued after conntrack: replies unknown to it, see the top */
		bool late = s->fwmark || (s->offload && s->fwd == FWD_NAT);

		if (s->fwmark) {
			if (fwmark_rules_add(out, target, s) < 0)
				goto oom;
		} else if (s->offload && s->fwd == FWD_NAT) {
			inet_ntop(AF_INET, &s->vip, a, sizeof(a));
			if (offload_queue_rule_add(out, target, s) < 0 ||
			    icmp_rules_add(out, FW_RAW, a, target) < 0)
				goto oom;
		} else {
			inet_ntop(AF_INET, &s->vip, a, sizeof(a));
			snprintf(spec, sizeof(spec),
				 "-d %s/32 -p %s -m %s --dport %u -j %s", a, p,
				 p, s->port, target);
			if (rules_add(out, FW_RAW, spec) < 0)
				goto oom;
			if (icmp_rules_add(out, FW_RAW, a, target) < 0)
				goto oom;
		}
		if (s->fwd != FWD_NAT)
			continue;
		if (icmp_rules_add(out, FW_MANGLE, NULL, target) < 0)
			goto oom;
		for (unsigned int j = 0; j < s->n_servers; j++)
			if (nat_server_rules_add(
				out, s->proto, s->servers[j].addr,
				s->servers[j].port, late, target) < 0)
				goto oom;
		/* the sorry server's replies are rewritten back too */
		if (s->has_sorry &&
		    nat_server_rules_add(out, s->proto, s->sorry.addr,
					 s->sorry.port, late, target) < 0)
			goto oom;
	}
	return 0;
oom:
	fw_rules_free(out);
	return -1;
}

static bool rules_in(const struct fw_rules *r, enum fw_table t)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->v[i].table == t)
			return true;
	return false;
}

static void rules_drop_table(struct fw_rules *r, enum fw_table t)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->n; i++)
		if (r->v[i].table != t)
			r->v[n++] = r->v[i];
	r->n = n;
}

static bool rules_has(const struct fw_rules *r, const struct fw_rule *x)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->v[i].table == x->table &&
		    strcmp(r->v[i].spec, x->spec) == 0)
			return true;
	return false;
}

/* Appends "-X CHAIN spec" lines of rules in table t (and not in unless). */
static void script_rules(FILE *f, const char *cmd, const char *chain,
			 const struct fw_rules *r,
			 const struct fw_rules *unless, enum fw_table t,
			 unsigned int *count)
{
	for (unsigned int i = 0; i < r->n; i++) {
		if (r->v[i].table != t ||
		    (unless && rules_has(unless, &r->v[i])))
			continue;
		fprintf(f, "%s %s %s\n",
			strcmp(cmd, "-A") == 0 && r->v[i].first ? "-I" : cmd,
			chain, r->v[i].spec);
		(*count)++;
	}
}

/* The section of iptables-save output for "*table", or NULL. */
static const char *save_section(const char *all, const char *table)
{
	size_t n = strlen(table);

	for (const char *l = all; l && *l;
	     l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (l[0] == '*' && strncmp(l + 1, table, n) == 0 &&
		    l[n + 1] == '\n')
			return l;
	return NULL;
}

/* Which tables exist now, and whether a jump of ours was left behind. */
static int fw_snapshot(struct fw *fw, bool stale[FW_TABLE_LAST])
{
	char *all = save(NULL), jump[96];

	if (!all) {
		log_err("iptables-save failed: is iptables installed?");
		return -1;
	}
	for (int t = 0; t < FW_TABLE_LAST; t++) {
		const char *sect = save_section(all, table_names[t]);
		const char *end = sect ? strstr(sect, "\nCOMMIT") : NULL;
		const char *j;

		fw->table_existed[t] = sect != NULL;
		snprintf(jump, sizeof(jump), "\n-A %s -j %s\n", hook_chains[t],
			 slot_chain(fw, t));
		j = sect ? strstr(sect, jump) : NULL;
		stale[t] = j && (!end || j < end);
	}
	free(all);
	return 0;
}

static void remove_stale(const struct fw *fw, const bool stale[FW_TABLE_LAST])
{
	for (int t = 0; t < FW_TABLE_LAST; t++) {
		char script[256];

		if (!stale[t])
			continue;
		const char *c = slot_chain(fw, t);

		log_warn("iptables: removing chain %s left in table %s by an "
			 "earlier run",
			 c, table_names[t]);
		snprintf(script, sizeof(script),
			 "*%s\n-D %s -j %s\n-F %s\n-X %s\nCOMMIT\n",
			 table_names[t], hook_chains[t], c, c, c);
		restore(script);
	}
}

/*
 * Brings the installed rules to what cfg needs with one iptables-restore:
 * only the lines that differ, new ones before old ones go, so no packet
 * falls through a gap. With create, the chains and jumps come first.
 * Returns the number of rules changed, or -1.
 */
static int fw_apply(struct fw *fw, const struct config *cfg, bool create)
{
	struct fw_rules want;
	char *script = NULL;
	size_t size = 0;
	unsigned int n = 0;
	FILE *f;
	int rc = 0;

	if (fw_rules_build(cfg, &want) < 0 ||
	    retired_rules_add(&want, cfg, fw->svcs) < 0 ||
	    (cfg_offloads(cfg) &&
	     offload_rules_add(&want, cfg, fw->svcs) < 0)) {
		fw_rules_free(&want);
		log_err("iptables: out of memory");
		return -1;
	}
	f = open_memstream(&script, &size);
	if (!f) {
		fw_rules_free(&want);
		return -1;
	}
	for (int t = 0; t < FW_TABLE_LAST; t++) {
		const char *c = slot_chain(fw, t);
		/* the nat table only once an offload service needs it */
		bool make = t == FW_NAT
				? !fw->nat_hooked && rules_in(&want, FW_NAT)
				: create;

		if (t == FW_NAT && !make && !fw->nat_hooked)
			continue;
		fprintf(f, "*%s\n", table_names[t]);
		if (make)
			fprintf(f, ":%s - [0:0]\n", c);
		script_rules(f, "-A", c, &want, &fw->rules, (enum fw_table)t,
			     &n);
		script_rules(f, "-D", c, &fw->rules, &want, (enum fw_table)t,
			     &n);
		/* first in its hook, but the fwmark chain last: after the
		 * operator's rules that set the marks */
		if (make)
			fprintf(f, "-%c %s -j %s\n",
				t == FW_MANGLE_PRE ? 'A' : 'I', hook_chains[t],
				c);
		fprintf(f, "COMMIT\n");
	}
	fclose(f);
	if (create || n > 0)
		rc = restore(script);
	free(script);
	if (rc < 0) {
		fw_rules_free(&want);
		return -1;
	}
	if (rules_in(&want, FW_NAT))
		fw->nat_hooked = true;
	fw_rules_free(&fw->rules);
	fw->rules = want;
	return (int)n;
}

int fw_start(struct fw *fw, const struct config *cfg)
{
	const struct service_set *svcs = fw->svcs;
	bool stale[FW_TABLE_LAST];
	int n;

	memset(fw, 0, sizeof(*fw));
	fw->svcs = svcs; /* the offload rules need the servers' ids */
	set_chains(fw, cfg->fw_chain);
	fw->mark = cfg->fw_mark;
	if (fw_snapshot(fw, stale) < 0)
		return -1;
	remove_stale(fw, stale);
	/* active before the attempt: a failure removes whatever got in */
	fw->active = true;
	n = fw_apply(fw, cfg, true);
	if (n < 0) {
		fw_stop(fw);
		return -1;
	}
	log_info("iptables: chain %s installed with %d rules", fw->chain, n);
	return 0;
}

unsigned int fw_tables_existed(const struct fw *fw)
{
	unsigned int bits = 0;

	for (int t = 0; t < FW_TABLE_LAST; t++)
		if (fw->table_existed[t])
			bits |= 1u << t;
	return bits;
}

int fw_handover_write(const struct fw *fw, int fd)
{
	int copy = dup(fd);
	FILE *f = copy >= 0 ? fdopen(copy, "w") : NULL;
	int rc = 0;

	if (!f) {
		if (copy >= 0)
			close(copy);
		return -1;
	}
	for (unsigned int i = 0; i < fw->rules.n; i++)
		if (fprintf(f, "%d %d %s\n", (int)fw->rules.v[i].table,
			    fw->rules.v[i].first ? 1 : 0,
			    fw->rules.v[i].spec) < 0)
			rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* The rule list of fw_handover_write() into fw->rules. */
static int read_handover(struct fw *fw, int fd)
{
	int copy = dup(fd);
	FILE *f = copy >= 0 ? fdopen(copy, "r") : NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!f) {
		if (copy >= 0)
			close(copy);
		return -1;
	}
	rewind(f);
	/* "TABLE FIRST SPEC": digits, as fw_handover_write() puts them */
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		int t = line[0] - '0';

		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (n < 6 || t < 0 || t >= FW_TABLE_LAST || line[1] != ' ' ||
		    (line[2] != '0' && line[2] != '1') || line[3] != ' ' ||
		    strlen(line + 4) >= sizeof(fw->rules.v[0].spec))
			rc = -1;
		else if (line[2] == '1')
			rc = rules_add_first(&fw->rules, (enum fw_table)t,
					     line + 4);
		else
			rc = rules_add(&fw->rules, (enum fw_table)t, line + 4);
	}
	free(line);
	fclose(f);
	return rc;
}

int fw_adopt(struct fw *fw, const char *chain, uint32_t mark,
	     unsigned int tables_existed, int rules_fd)
{
	const struct service_set *svcs = fw->svcs;
	bool hooked[FW_TABLE_LAST];

	memset(fw, 0, sizeof(*fw));
	fw->svcs = svcs;
	set_chains(fw, chain);
	fw->mark = mark;
	/* still hooked in? an operator may have flushed the tables */
	if (fw_snapshot(fw, hooked) < 0)
		return -1;
	for (int t = 0; t < FW_TABLE_LAST; t++) {
		fw->table_existed[t] = tables_existed & (1u << t);
		if (t == FW_NAT) { /* only there once offload was used */
			fw->nat_hooked = hooked[t];
			continue;
		}
		if (!hooked[t]) {
			log_warn("iptables: chain %s is no longer hooked into "
				 "table %s: installing it afresh",
				 chain, table_names[t]);
			return -1;
		}
	}
	if (read_handover(fw, rules_fd) < 0) {
		log_err("iptables: the rule list handed over for chain %s is "
			"unreadable: installing it afresh",
			chain);
		fw_rules_free(&fw->rules);
		return -1;
	}
	/* a nat chain gone meanwhile: its rules are made afresh with it */
	if (!fw->nat_hooked)
		rules_drop_table(&fw->rules, FW_NAT);
	fw->active = true;
	log_info("iptables: chain %s taken over with %u rules", fw->chain,
		 fw->rules.n);
	return (int)fw->rules.n;
}

int fw_update(struct fw *fw, const struct config *cfg)
{
	int n = fw_apply(fw, cfg, false);

	if (n > 0)
		log_info("iptables: chain %s: %d rules changed", fw->chain, n);
	return n < 0 ? -1 : 0;
}

/* True when iptables-save shows table t with no rules or user chains and
 * only ACCEPT policies: as iptables-nft creates it. */
static bool table_is_pristine(enum fw_table t)
{
	char *out = save(table_names[t]);
	bool pristine = out != NULL;

	for (char *line = out; pristine && line && *line;) {
		char *nl = strchr(line, '\n');

		if (line[0] == '-' ||
		    (line[0] == ':' && !strstr(line, " ACCEPT ")))
			pristine = false;
		line = nl ? nl + 1 : NULL;
	}
	free(out);
	return pristine;
}

void fw_stop(struct fw *fw)
{
	char *script = NULL;
	size_t size = 0;
	FILE *f;

	if (!fw->active)
		return;
	f = open_memstream(&script, &size);
	if (f) {
		for (int t = 0; t < FW_TABLE_LAST; t++) {
			const char *c = slot_chain(fw, t);

			if (t == FW_NAT && !fw->nat_hooked)
				continue;
			fprintf(f, "*%s\n-D %s -j %s\n-F %s\n-X %s\nCOMMIT\n",
				table_names[t], hook_chains[t], c, c, c);
		}
		fclose(f);
		if (restore(script) == 0)
			log_info("iptables: chain %s removed", fw->chain);
		free(script);
	}
	for (int t = 0; t < FW_TABLE_LAST; t++) {
		/* FW_MANGLE_PRE shares FW_MANGLE's table */
		if (t == FW_MANGLE_PRE || fw->table_existed[t] ||
		    (t == FW_NAT && !fw->nat_hooked) ||
		    !table_is_pristine((enum fw_table)t))
			continue;
		if (fw_nft_delete_table(table_names[t]) < 0)
			log_warn("iptables: could not remove the empty table "
				 "%s it created: %m",
				 table_names[t]);
	}
	fw_rules_free(&fw->rules);
	fw->active = false;
	fw->nat_hooked = false;
}
