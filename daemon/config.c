/* config.c - the libconfig file: parsed, validated, errors with FILE:LINE */
#include "config.h"

#include <arpa/inet.h>
#include <grp.h>
#include <pwd.h>
#include <libconfig.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

/* Parsing state: where errors go and how many there were. */
struct parser {
	const char *path;
	FILE *errs;
	unsigned int nerr;
};

static void perr(struct parser *ps, const config_setting_t *s, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

static void perr(struct parser *ps, const config_setting_t *s, const char *fmt,
		 ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	int line = s ? (int)config_setting_source_line(s) : 0;
	va_list ap;

	fprintf(ps->errs, "%s:%d: ", file ? file : ps->path, line);
	va_start(ap, fmt);
	vfprintf(ps->errs, fmt, ap);
	va_end(ap);
	fputc('\n', ps->errs);
	ps->nerr++;
}

/* The same, for a line remembered from a setting already released. */
static void perr_at(struct parser *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr_at(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(ps->errs, "%s:%d: ", ps->path, line);
	va_start(ap, fmt);
	vfprintf(ps->errs, fmt, ap);
	va_end(ap);
	fputc('\n', ps->errs);
	ps->nerr++;
}

static const char *const fwd_names[FWD_LAST] = {
    [FWD_NAT] = "nat",
    [FWD_DR] = "dr",
    [FWD_TUN] = "tun",
};

const char *fwd_method_name(enum fwd_method m)
{
	return m < FWD_LAST ? fwd_names[m] : "?";
}

const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP   ? "tcp"
	       : proto == IPPROTO_UDP ? "udp"
				      : "?";
}

/* Refuses settings the group does not know: a typo must not pass silently. */
static void check_known(struct parser *ps, const config_setting_t *group,
			const char *const *known)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		bool ok = false;

		for (const char *const *k = known; *k && name; k++)
			if (strcmp(*k, name) == 0)
				ok = true;
		if (!ok)
			perr(ps, s, "unknown setting '%s'", name ? name : "?");
	}
}

/* Settings of a later feature: named in SPEC, refused until they work. */
static void check_unsupported(struct parser *ps, const config_setting_t *group,
			      const char *const *names)
{
	for (const char *const *n = names; *n; n++) {
		const config_setting_t *s =
		    config_setting_get_member(group, *n);

		if (s)
			perr(ps, s, "'%s' is not supported yet", *n);
	}
}

static const config_setting_t *
get_group(struct parser *ps, const config_setting_t *parent, const char *name)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	if (s && !config_setting_is_group(s)) {
		perr(ps, s, "'%s' must be a group { ... }", name);
		return NULL;
	}
	return s;
}

/* Integer setting in [min, max]; absent keeps *out. Returns the setting. */
static const config_setting_t *get_uint(struct parser *ps,
					const config_setting_t *group,
					const char *name, long long min,
					long long max, unsigned int *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	long long v;

	if (!s)
		return NULL;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		break;
	default:
		perr(ps, s, "'%s' must be an integer", name);
		return s;
	}
	if (v < min || v > max) {
		perr(ps, s, "'%s' = %lld is out of range (%lld..%lld)", name, v,
		     min, max);
		return s;
	}
	*out = (unsigned int)v;
	return s;
}

static const char *get_string(struct parser *ps, const config_setting_t *group,
			      const char *name, const config_setting_t **where)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (where)
		*where = s;
	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		perr(ps, s, "'%s' must be a string", name);
		return NULL;
	}
	return config_setting_get_string(s);
}

static void get_bool(struct parser *ps, const config_setting_t *group,
		     const char *name, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		perr(ps, s, "'%s' must be true or false", name);
		return;
	}
	*out = config_setting_get_bool(s);
}

static int parse_ipv4(const char *text, uint32_t *addr)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		return -1;
	*addr = a.s_addr;
	return 0;
}

/* "127.0.0.1:9469" */
static int parse_listen(const char *text, uint32_t *addr, uint16_t *port)
{
	char a[INET_ADDRSTRLEN];
	const char *colon = strrchr(text, ':');
	char *end;
	unsigned long p;

	if (!colon || (size_t)(colon - text) >= sizeof(a))
		return -1;
	memcpy(a, text, (size_t)(colon - text));
	a[colon - text] = '\0';
	p = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 1 || p > 65535 || parse_ipv4(a, addr) < 0)
		return -1;
	*port = htons((uint16_t)p);
	return 0;
}

static char *dup_or_die(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		perror("nfqlb: out of memory");
		exit(EXIT_FAILURE);
	}
	return d;
}

static void parse_daemon(struct parser *ps, const config_setting_t *root,
			 struct config *cfg)
{
	static const char *const known[] = {"queue",
					    "queues",
					    "control_socket",
					    "control_group",
					    "max_connections",
					    "log_level",
					    "checkpoint",
					    "metrics_listen",
					    "user",
					    NULL};
	static const char *const ckpt_known[] = {"file", "interval", NULL};
	const config_setting_t *d = get_group(ps, root, "daemon");
	const config_setting_t *s, *ck;
	const char *str;
	unsigned int v;

	if (!d)
		return;
	check_known(ps, d, known);
	v = cfg->queue;
	get_uint(ps, d, "queue", 0, 65535, &v);
	cfg->queue = (uint16_t)v;
	get_uint(ps, d, "queues", 1, CONFIG_QUEUES_MAX, &cfg->queues);
	if (cfg->queue + cfg->queues - 1 > 65535)
		perr(ps, d, "queue + queues exceeds queue number 65535");
	get_uint(ps, d, "max_connections", 1, 1 << 26, &cfg->max_connections);
	str = get_string(ps, d, "control_socket", &s);
	if (str) {
		if (str[0] != '/')
			perr(ps, s, "control_socket must be an absolute path");
		free(cfg->control_socket);
		cfg->control_socket = dup_or_die(str);
	}
	str = get_string(ps, d, "control_group", &s);
	if (str) {
		if (!getgrnam(str))
			perr(ps, s, "control_group '%s': no such group", str);
		free(cfg->control_group);
		cfg->control_group = dup_or_die(str);
	}
	str = get_string(ps, d, "user", &s);
	if (str) {
		const struct passwd *pw = getpwnam(str);

		if (!pw)
			perr(ps, s, "user '%s': no such user", str);
		else if (pw->pw_uid == 0)
			perr(ps, s,
			     "user '%s' is root: leave 'user' out to "
			     "run as root",
			     str);
		free(cfg->user);
		cfg->user = dup_or_die(str);
	}
	str = get_string(ps, d, "metrics_listen", &s);
	if (str &&
	    parse_listen(str, &cfg->metrics_addr, &cfg->metrics_port) < 0)
		perr(ps, s,
		     "metrics_listen '%s' must be IPv4-ADDRESS:PORT, e.g. "
		     "\"127.0.0.1:9469\"",
		     str);
	str = get_string(ps, d, "log_level", &s);
	if (str && log_level_parse(str, &cfg->log_level) < 0)
		perr(ps, s,
		     "unknown log_level '%s' (error, warning, info, debug)",
		     str);
	ck = get_group(ps, d, "checkpoint");
	if (ck) {
		check_known(ps, ck, ckpt_known);
		str = get_string(ps, ck, "file", &s);
		if (str) {
			if (str[0] != '/')
				perr(
				    ps, s,
				    "checkpoint file must be an absolute path");
			free(cfg->ckpt_file);
			cfg->ckpt_file = dup_or_die(str);
		}
		get_uint(ps, ck, "interval", 1, 86400, &cfg->ckpt_interval);
	}
}

static bool chain_name_ok(const char *c)
{
	size_t n = strlen(c);

	if (n == 0 || n >= CONFIG_CHAIN_MAX)
		return false;
	for (; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
			return false;
	return true;
}

static void parse_iptables(struct parser *ps, const config_setting_t *root,
			   struct config *cfg)
{
	static const char *const known[] = {"manage", "chain", "mark",
					    "offload_mask", NULL};
	const config_setting_t *ipt = get_group(ps, root, "iptables");
	const config_setting_t *s;
	const char *str;
	unsigned int mark = cfg->fw_mark, omask = cfg->fw_offload_mask;

	if (!ipt)
		return;
	check_known(ps, ipt, known);
	get_bool(ps, ipt, "manage", &cfg->fw_manage);
	str = get_string(ps, ipt, "chain", &s);
	if (str) {
		if (!chain_name_ok(str))
			perr(ps, s,
			     "chain '%s': 1 to 28 letters, digits, '_' or '-'",
			     str);
		else
			snprintf(cfg->fw_chain, sizeof(cfg->fw_chain), "%s",
				 str);
	}
	s = get_uint(ps, ipt, "mark", 1, 0xffffffffLL, &mark);
	if (s && (mark & (mark - 1)))
		perr(ps, s, "mark must be a single bit, e.g. 0x10000000");
	cfg->fw_mark = mark;
	s = get_uint(ps, ipt, "offload_mask", 1, 0xffffffffLL, &omask);
	if (s && offload_mask_bits(omask) == 0)
		perr(ps, s,
		     "offload_mask 0x%x must be one run of at least 2 "
		     "contiguous bits, e.g. 0x0fff0000",
		     omask);
	cfg->fw_offload_mask = omask;
	cfg->offload_mask_line = s ? (int)config_setting_source_line(s) : 0;
}

static void parse_timeouts(struct parser *ps, const config_setting_t *root,
			   struct config *cfg)
{
	static const char *const known[] = {"tcp", "tcp_fin", "tcp_syn", "udp",
					    NULL};
	const config_setting_t *t = get_group(ps, root, "timeouts");

	if (!t)
		return;
	check_known(ps, t, known);
	get_uint(ps, t, "tcp", 1, 31536000, &cfg->timeouts.tcp);
	get_uint(ps, t, "tcp_fin", 1, 31536000, &cfg->timeouts.tcp_fin);
	get_uint(ps, t, "tcp_syn", 1, 31536000, &cfg->timeouts.tcp_syn);
	get_uint(ps, t, "udp", 1, 31536000, &cfg->timeouts.udp);
}

static const struct {
	const char *name;
	enum health_type type;
} health_types[] = {{"none", HEALTH_NONE},
		    {"tcp", HEALTH_TCP},
		    {"http", HEALTH_HTTP},
		    {"exec", HEALTH_EXEC}};

const char *health_type_name(enum health_type t)
{
	for (size_t i = 0; i < sizeof(health_types) / sizeof(health_types[0]);
	     i++)
		if (health_types[i].type == t)
			return health_types[i].name;
	return "?";
}

/* A string setting copied into out[max]; absent keeps out. */
static const config_setting_t *get_text(struct parser *ps,
					const config_setting_t *group,
					const char *name, char *out, size_t max)
{
	const config_setting_t *s;
	const char *str = get_string(ps, group, name, &s);

	if (!str)
		return s;
	if (strlen(str) >= max)
		perr(ps, s, "'%s' is longer than %zu characters", name,
		     max - 1);
	else
		snprintf(out, max, "%s", str);
	return s;
}

/* Goes into an HTTP request line or header as is: no spaces, no controls. */
static bool http_token_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t <= ' ' || *t == 0x7f)
			return false;
	return true;
}

/*
 * A health block of a service, or of a server (which starts from its
 * service's check and overrides what it names). owner names it in errors.
 */
static void parse_health(struct parser *ps, const config_setting_t *parent,
			 const char *owner, struct health_conf *h)
{
	static const char *const known[] = {
	    "type", "interval",	     "timeout",	    "rise",    "fall", "path",
	    "host", "expect_status", "expect_body", "command", NULL};
	/* settings that belong to one type */
	static const struct {
		const char *name;
		enum health_type type;
	} own[] = {{"path", HEALTH_HTTP},
		   {"host", HEALTH_HTTP},
		   {"expect_status", HEALTH_HTTP},
		   {"expect_body", HEALTH_HTTP},
		   {"command", HEALTH_EXEC}};
	const config_setting_t *hs = get_group(ps, parent, "health");
	const config_setting_t *s;
	const char *type;
	bool found = false;

	if (!hs)
		return;
	check_known(ps, hs, known);
	get_uint(ps, hs, "interval", 1, 86400, &h->interval);
	get_uint(ps, hs, "timeout", 1, 86400, &h->timeout);
	get_uint(ps, hs, "rise", 1, 1000, &h->rise);
	get_uint(ps, hs, "fall", 1, 1000, &h->fall);
	type = get_string(ps, hs, "type", &s);
	for (size_t i = 0;
	     type && i < sizeof(health_types) / sizeof(health_types[0]); i++) {
		if (strcmp(type, health_types[i].name) == 0) {
			h->type = health_types[i].type;
			found = true;
		}
	}
	if (type && !found)
		perr(ps, s,
		     "%s: unknown health type '%s' (tcp, http, exec, none)",
		     owner, type);
	s = get_text(ps, hs, "path", h->path, sizeof(h->path));
	if (s && (h->path[0] != '/' || !http_token_ok(h->path)))
		perr(ps, s,
		     "%s: health path must start with '/' and hold no "
		     "spaces",
		     owner);
	s = get_text(ps, hs, "host", h->host, sizeof(h->host));
	if (s && !http_token_ok(h->host))
		perr(ps, s, "%s: health host must hold no spaces", owner);
	get_uint(ps, hs, "expect_status", 100, 599, &h->expect_status);
	get_text(ps, hs, "expect_body", h->expect_body, sizeof(h->expect_body));
	get_text(ps, hs, "command", h->command, sizeof(h->command));
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		s = config_setting_get_member(hs, own[i].name);
		if (s && h->type != own[i].type)
			perr(ps, s, "%s: '%s' is for health type %s only",
			     owner, own[i].name, health_type_name(own[i].type));
	}
	if (h->type == HEALTH_EXEC && !h->command[0])
		perr(ps, hs, "%s: health type exec needs a command", owner);
}

/* The address and port of a server or of the sorry server. */
static void parse_endpoint(struct parser *ps, const config_setting_t *s,
			   const struct service_conf *svc,
			   struct server_conf *srv, const char *what)
{
	const config_setting_t *w, *ps_port;
	const char *addr;
	unsigned int port = 0;

	addr = get_string(ps, s, "address", &w);
	if (!w)
		perr(ps, s, "%s: %s without an address", svc->name, what);
	else if (addr && parse_ipv4(addr, &srv->addr) < 0)
		perr(ps, w, "%s: %s address '%s' is not an IPv4 address",
		     svc->name, what, addr);
	ps_port = get_uint(ps, s, "port", 1, 65535, &port);
	srv->port = ps_port ? (uint16_t)port : svc->port;
	/* Direct return cannot map ports: the packet reaches the server as
	 * the client sent it. */
	if (ps_port && svc->fwd != FWD_NAT && port != svc->port)
		perr(ps, ps_port,
		     "%s: %s %s port %u: %s servers take the service's "
		     "port (%u) or none",
		     svc->name, what, addr ? addr : "?", port,
		     fwd_method_name(svc->fwd), svc->port);
}

/* ipvsadm -x / -y: connection limits; 0 = none. */
static void parse_thresholds(struct parser *ps, const config_setting_t *s,
			     const struct service_conf *svc,
			     struct server_conf *srv)
{
	const config_setting_t *lo;

	get_uint(ps, s, "upper_threshold", 0, 0x7fffffff, &srv->u_threshold);
	lo = get_uint(ps, s, "lower_threshold", 0, 0x7fffffff,
		      &srv->l_threshold);
	if (lo && srv->l_threshold && !srv->u_threshold)
		perr(ps, lo, "%s: lower_threshold without upper_threshold",
		     svc->name);
	else if (lo && srv->l_threshold > srv->u_threshold)
		perr(ps, lo,
		     "%s: lower_threshold %u is above upper_threshold %u",
		     svc->name, srv->l_threshold, srv->u_threshold);
}

static void parse_server(struct parser *ps, const config_setting_t *s,
			 struct service_conf *svc, struct server_conf *srv)
{
	static const char *const known[] = {
	    "address",	       "port",	 "weight", "upper_threshold",
	    "lower_threshold", "health", NULL};
	char owner[CONFIG_NAME_MAX + 40], a[INET_ADDRSTRLEN];
	unsigned int weight = 1;

	srv->line = (int)config_setting_source_line(s);
	if (!config_setting_is_group(s)) {
		perr(ps, s, "%s: a server must be a group { address = ...; }",
		     svc->name);
		return;
	}
	check_known(ps, s, known);
	parse_endpoint(ps, s, svc, srv, "server");
	get_uint(ps, s, "weight", 0, 65535, &weight);
	srv->weight = weight;
	parse_thresholds(ps, s, svc, srv);
	inet_ntop(AF_INET, &srv->addr, a, sizeof(a));
	snprintf(owner, sizeof(owner), "%s: server %s:%u", svc->name, a,
		 srv->port);
	srv->health = svc->health;
	parse_health(ps, s, owner, &srv->health);
	/* a fwmark service's server without a port keeps the client's */
	if (srv->port == 0 &&
	    (srv->health.type == HEALTH_TCP || srv->health.type == HEALTH_HTTP))
		perr(ps, s,
		     "%s: health type %s needs the server's port; give it "
		     "one, or use type exec",
		     owner, health_type_name(srv->health.type));
}

/* keepalived's sorry_server: where new flows go when no server can. */
static void parse_sorry(struct parser *ps, const config_setting_t *ss,
			struct service_conf *svc)
{
	static const char *const known[] = {"address", "port", NULL};
	const config_setting_t *s = get_group(ps, ss, "sorry_server");

	if (!s)
		return;
	check_known(ps, s, known);
	svc->sorry.line = (int)config_setting_source_line(s);
	parse_endpoint(ps, s, svc, &svc->sorry, "sorry_server");
	svc->sorry.weight = 1;
	svc->has_sorry = true;
}

static void parse_servers(struct parser *ps, const config_setting_t *ss,
			  struct service_conf *svc)
{
	const config_setting_t *list = config_setting_get_member(ss, "servers");
	unsigned int n;

	if (!list || !config_setting_is_aggregate(list) ||
	    config_setting_is_group(list)) {
		perr(ps, list ? list : ss,
		     "%s: 'servers' must be a list ( { ... }, ... )",
		     svc->name);
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (n == 0) {
		perr(ps, list, "%s: at least one server is required",
		     svc->name);
		return;
	}
	svc->servers = calloc(n, sizeof(*svc->servers));
	if (!svc->servers) {
		perr(ps, list, "out of memory");
		return;
	}
	svc->n_servers = n;
	for (unsigned int i = 0; i < n; i++) {
		parse_server(ps, config_setting_get_elem(list, i), svc,
			     &svc->servers[i]);
		for (unsigned int j = 0; j < i; j++) {
			if (svc->servers[j].addr == svc->servers[i].addr &&
			    svc->servers[j].port == svc->servers[i].port) {
				char a[INET_ADDRSTRLEN];

				inet_ntop(AF_INET, &svc->servers[i].addr, a,
					  sizeof(a));
				perr(ps, config_setting_get_elem(list, i),
				     "%s: server %s:%u is listed twice",
				     svc->name, a, svc->servers[i].port);
			}
		}
	}
}

/*
 * What the service catches: vip and port, or (ipvsadm -f) fwmark, the
 * packet mark the operator's rules set, instead of both.
 */
static void parse_service_key(struct parser *ps, const config_setting_t *ss,
			      struct service_conf *svc)
{
	const config_setting_t *s, *fw;
	const char *str;
	unsigned int port = 0;

	fw = get_uint(ps, ss, "fwmark", 1, 0xffffffffLL, &svc->fwmark);
	if (fw) {
		svc->key_line = (int)config_setting_source_line(fw);
		if (config_setting_get_member(ss, "vip"))
			perr(ps, config_setting_get_member(ss, "vip"),
			     "%s: a fwmark service takes no vip", svc->name);
		if (config_setting_get_member(ss, "port"))
			perr(ps, config_setting_get_member(ss, "port"),
			     "%s: a fwmark service takes no port (servers "
			     "without a port keep the client's)",
			     svc->name);
		return;
	}
	str = get_string(ps, ss, "vip", &s);
	if (!s)
		perr(ps, ss, "%s: 'vip' (or 'fwmark') is required", svc->name);
	else if (str && parse_ipv4(str, &svc->vip) < 0)
		perr(ps, s, "%s: vip '%s' is not an IPv4 address", svc->name,
		     str);
	s = get_uint(ps, ss, "port", 1, 65535, &port);
	if (!s)
		perr(ps, ss, "%s: 'port' is required", svc->name);
	svc->key_line = s ? (int)config_setting_source_line(s) : svc->line;
	svc->port = (uint16_t)port;
}

/* persistence_netmask: "255.255.255.0" (ipvsadm -M) or a prefix length
 * 0..32; default /32, one template per client address. */
static void parse_netmask(struct parser *ps, const config_setting_t *ss,
			  struct service_conf *svc)
{
	const config_setting_t *s =
	    config_setting_get_member(ss, "persistence_netmask");
	unsigned int len = 32;
	uint32_t mask;

	svc->persist_mask = 0xffffffff;
	if (!s)
		return;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (parse_ipv4(config_setting_get_string(s), &mask) < 0 ||
		    (~ntohl(mask) & (~ntohl(mask) + 1)) != 0) {
			perr(ps, s,
			     "%s: persistence_netmask '%s' is not a netmask "
			     "(e.g. \"255.255.255.0\" or 24)",
			     svc->name, config_setting_get_string(s));
			return;
		}
		svc->persist_mask = mask;
		return;
	}
	get_uint(ps, ss, "persistence_netmask", 0, 32, &len);
	svc->persist_mask = len ? htonl(0xffffffffu << (32 - len)) : 0;
}

/* flags = [ "sh-port", ... ]: each flag belongs to one scheduler. */
static void parse_sched_flags(struct parser *ps, const config_setting_t *ss,
			      struct service_conf *svc)
{
	static const struct {
		const char *name, *sched;
		unsigned int bit;
	} flags[] = {
	    {"sh-fallback", "sh", SCHED_F_SH_FALLBACK},
	    {"sh-port", "sh", SCHED_F_SH_PORT},
	    {"mh-fallback", "mh", SCHED_F_MH_FALLBACK},
	    {"mh-port", "mh", SCHED_F_MH_PORT},
	};
	const config_setting_t *list = config_setting_get_member(ss, "flags");
	int n;

	if (!list)
		return;
	if (!config_setting_is_array(list) && !config_setting_is_list(list)) {
		perr(ps, list, "%s: 'flags' must be a list of names [ ... ]",
		     svc->name);
		return;
	}
	n = config_setting_length(list);
	for (int i = 0; i < n; i++) {
		const config_setting_t *f = config_setting_get_elem(list, i);
		const char *name = config_setting_get_string(f);
		size_t k = 0;

		while (name && k < sizeof(flags) / sizeof(flags[0]) &&
		       strcmp(flags[k].name, name) != 0)
			k++;
		if (!name || k == sizeof(flags) / sizeof(flags[0]))
			perr(ps, f,
			     "%s: unknown flag '%s' (sh-fallback, sh-port, "
			     "mh-fallback, mh-port)",
			     svc->name, name ? name : "?");
		else if (strcmp(flags[k].sched, svc->scheduler) != 0)
			perr(ps, f,
			     "%s: flag '%s' applies to scheduler %s, not %s",
			     svc->name, name, flags[k].sched, svc->scheduler);
		else
			svc->sched_flags |= flags[k].bit;
	}
}

static void parse_service(struct parser *ps, const config_setting_t *ss,
			  struct service_conf *svc)
{
	static const char *const known[] = {"name",
					    "protocol",
					    "vip",
					    "port",
					    "fwmark",
					    "scheduler",
					    "forward",
					    "persistence",
					    "persistence_netmask",
					    "flags",
					    "tunnel_source",
					    "expire_nodest_conn",
					    "sorry_server",
					    "alpha",
					    "offload",
					    "timeouts",
					    "servers",
					    "health",
					    NULL};
	static const char *const later[] = {"timeouts", NULL};
	const config_setting_t *s;
	const char *str;

	svc->line = (int)config_setting_source_line(ss);
	if (!config_setting_is_group(ss)) {
		perr(ps, ss, "a service must be a group { name = ...; }");
		return;
	}
	check_known(ps, ss, known);
	check_unsupported(ps, ss, later);

	str = get_string(ps, ss, "name", &s);
	svc->name_line = s ? (int)config_setting_source_line(s) : svc->line;
	if (!s)
		perr(ps, ss, "service without a name");
	else if (str && (str[0] == '\0' || strlen(str) >= CONFIG_NAME_MAX))
		perr(ps, s, "service name must be 1 to %d characters",
		     CONFIG_NAME_MAX - 1);
	else if (str)
		snprintf(svc->name, sizeof(svc->name), "%s", str);
	if (!svc->name[0])
		snprintf(svc->name, sizeof(svc->name), "service at line %d",
			 svc->line);

	svc->proto = IPPROTO_TCP;
	str = get_string(ps, ss, "protocol", &s);
	if (str) {
		if (strcmp(str, "tcp") == 0)
			svc->proto = IPPROTO_TCP;
		else if (strcmp(str, "udp") == 0)
			svc->proto = IPPROTO_UDP;
		else
			perr(ps, s, "%s: unknown protocol '%s' (tcp, udp)",
			     svc->name, str);
	}

	parse_service_key(ps, ss, svc);

	/* IPVS's default when ipvsadm is given no -s */
	snprintf(svc->scheduler, sizeof(svc->scheduler), "wlc");
	str = get_string(ps, ss, "scheduler", &s);
	if (str) {
		if (strlen(str) >= sizeof(svc->scheduler) || !sched_find(str))
			perr(ps, s,
			     "%s: unknown scheduler '%s' (rr wrr lc wlc sed "
			     "nq sh dh mh lblc lblcr fo ovf twos)",
			     svc->name, str);
		else
			snprintf(svc->scheduler, sizeof(svc->scheduler), "%s",
				 str);
	}
	parse_sched_flags(ps, ss, svc);

	svc->fwd = FWD_NAT;
	str = get_string(ps, ss, "forward", &s);
	if (str) {
		if (strcmp(str, "nat") == 0)
			svc->fwd = FWD_NAT;
		else if (strcmp(str, "dr") == 0)
			svc->fwd = FWD_DR;
		else if (strcmp(str, "tun") == 0)
			svc->fwd = FWD_TUN;
		else
			perr(ps, s,
			     "%s: unknown forward method '%s' (nat, "
			     "dr, tun)",
			     svc->name, str);
	}
	str = get_string(ps, ss, "tunnel_source", &s);
	if (str && svc->fwd != FWD_TUN)
		perr(ps, s, "%s: tunnel_source is only for forward = \"tun\"",
		     svc->name);
	else if (str && parse_ipv4(str, &svc->tunnel_source) < 0)
		perr(ps, s, "%s: tunnel_source '%s' is not an IPv4 address",
		     svc->name, str);

	svc->expire_nodest_conn = true;
	get_bool(ps, ss, "expire_nodest_conn", &svc->expire_nodest_conn);
	get_uint(ps, ss, "persistence", 0, 31536000, &svc->persistence);
	parse_netmask(ps, ss, svc);

	/* keepalived-like defaults; SPEC's example uses these values */
	svc->health.interval = 2;
	svc->health.timeout = 1;
	svc->health.rise = 2;
	svc->health.fall = 3;
	snprintf(svc->health.path, sizeof(svc->health.path), "/");
	svc->health.expect_status = 200;
	parse_health(ps, ss, svc->name, &svc->health);
	get_bool(ps, ss, "alpha", &svc->alpha);
	get_bool(ps, ss, "offload", &svc->offload);
	s = config_setting_get_member(ss, "offload");
	svc->offload_line = s ? (int)config_setting_source_line(s) : svc->line;
	parse_sorry(ps, ss, svc);
	parse_servers(ps, ss, svc);
}

/*
 * offload = true: conntrack carries the flow (NAT only: see README, "Kernel
 * fast path"), so the daemon's rules must be installed, the server ids
 * must fit offload_mask, and no firewall mark may use its bits.
 */
static void check_offload(struct parser *ps, const struct config *cfg)
{
	unsigned int ids = 0, max = 0,
		     bits = offload_mask_bits(cfg->fw_offload_mask);
	const struct service_conf *last = NULL;

	for (unsigned int i = 0; i < cfg->n_services; i++) {
		const struct service_conf *svc = &cfg->services[i];

		if (!svc->offload || svc->fwd != FWD_NAT)
			continue;
		last = svc;
		ids += svc->n_servers + (svc->has_sorry ? 1 : 0);
		if (!cfg->fw_manage)
			perr_at(ps, svc->offload_line,
				"%s: offload = true needs iptables.manage = "
				"true (its rules carry the flows)",
				svc->name);
	}
	if (!last)
		return;
	if (cfg->fw_offload_mask & cfg->fw_mark)
		perr_at(
		    ps,
		    cfg->offload_mask_line ? cfg->offload_mask_line
					   : last->offload_line,
		    "iptables.offload_mask 0x%x overlaps iptables.mark 0x%x",
		    cfg->fw_offload_mask, cfg->fw_mark);
	max = bits >= 16 ? 65535 : (1u << bits) - 1;
	if (ids > max)
		perr_at(ps, last->offload_line,
			"%s: %u servers of offload services, but offload_mask "
			"0x%x names at most %u",
			last->name, ids, cfg->fw_offload_mask, max);
	for (unsigned int i = 0; i < cfg->n_services; i++) {
		const struct service_conf *svc = &cfg->services[i];

		if (svc->fwmark & cfg->fw_offload_mask)
			perr_at(
			    ps, svc->key_line,
			    "%s: fwmark 0x%x overlaps iptables.offload_mask "
			    "0x%x, the field nfqlb uses for offloaded flows",
			    svc->name, svc->fwmark, cfg->fw_offload_mask);
	}
}

static void parse_services(struct parser *ps, const config_setting_t *root,
			   struct config *cfg)
{
	const config_setting_t *list =
	    config_setting_get_member(root, "services");
	unsigned int n;

	if (!list)
		return; /* a director with no services yet is valid */
	if (!config_setting_is_list(list)) {
		perr(ps, list, "'services' must be a list ( { ... }, ... )");
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (n == 0)
		return;
	cfg->services = calloc(n, sizeof(*cfg->services));
	if (!cfg->services) {
		perr(ps, list, "out of memory");
		return;
	}
	cfg->n_services = n;
	for (unsigned int i = 0; i < n; i++) {
		const config_setting_t *ss = config_setting_get_elem(list, i);
		struct service_conf *svc = &cfg->services[i];

		parse_service(ps, ss, svc);
		if (svc->fwmark & cfg->fw_mark)
			perr_at(ps, svc->key_line,
				"%s: fwmark 0x%x overlaps iptables.mark 0x%x, "
				"the bit nfqlb sets on balanced packets",
				svc->name, svc->fwmark, cfg->fw_mark);
		for (unsigned int j = 0; j < i; j++) {
			const struct service_conf *o = &cfg->services[j];

			if (strcmp(o->name, svc->name) == 0)
				perr_at(ps, svc->name_line,
					"service name '%s' is already used at "
					"line %d",
					svc->name, o->line);
			else if (svc->fwmark && o->fwmark == svc->fwmark &&
				 o->proto == svc->proto)
				perr_at(ps, svc->key_line,
					"%s: %s fwmark %u is already service "
					"'%s' (line %d)",
					svc->name, proto_name(svc->proto),
					svc->fwmark, o->name, o->line);
			else if (o->proto == svc->proto && o->vip == svc->vip &&
				 o->port == svc->port && svc->port != 0)
				perr_at(ps, svc->key_line,
					"%s: %s %s:%u is already service '%s' "
					"(line %d)",
					svc->name, proto_name(svc->proto),
					inet_ntoa((struct in_addr){svc->vip}),
					svc->port, o->name, o->line);
		}
	}
}

static void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->queue = 0;
	cfg->queues = 1;
	cfg->control_socket = dup_or_die("/run/nfqlb/nfqlb.sock");
	cfg->max_connections = 1048576;
	cfg->log_level = LOG_LVL_INFO;
	cfg->ckpt_file = dup_or_die("/var/lib/nfqlb/connections.ckpt");
	cfg->ckpt_interval = 5;
	cfg->fw_manage = true;
	snprintf(cfg->fw_chain, sizeof(cfg->fw_chain), "NFQLB");
	cfg->fw_mark = 0x10000000;
	cfg->fw_offload_mask = 0x0fff0000;
	/* IPVS defaults: ESTABLISHED 15 min, FIN_WAIT 2 min, SYN_RECV 1
	 * min, UDP 5 min */
	cfg->timeouts.tcp = 900;
	cfg->timeouts.tcp_fin = 120;
	cfg->timeouts.tcp_syn = 60;
	cfg->timeouts.udp = 300;
}

int config_load(const char *path, struct config *cfg, FILE *errs)
{
	static const char *const known[] = {"daemon", "iptables", "timeouts",
					    "services", NULL};
	struct parser ps = {.path = path, .errs = errs};
	config_t lc;
	const config_setting_t *root;

	config_defaults(cfg);
	cfg->path = dup_or_die(path);
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		const char *f = config_error_file(&lc);

		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			fprintf(errs, "%s:0: cannot read the file\n", path);
		else
			fprintf(errs, "%s:%d: %s\n", f ? f : path,
				config_error_line(&lc), config_error_text(&lc));
		config_destroy(&lc);
		config_free(cfg);
		return -1;
	}
	root = config_root_setting(&lc);
	check_known(&ps, root, known);
	parse_daemon(&ps, root, cfg);
	parse_iptables(&ps, root, cfg);
	parse_timeouts(&ps, root, cfg);
	parse_services(&ps, root, cfg);
	check_offload(&ps, cfg);
	config_destroy(&lc);
	if (ps.nerr) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_services; i++)
		free(cfg->services[i].servers);
	free(cfg->services);
	free(cfg->control_socket);
	free(cfg->control_group);
	free(cfg->user);
	free(cfg->ckpt_file);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
