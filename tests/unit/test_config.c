/*
 * test_config.c - config validation as tables: good files load, every bad
 * file is refused with "FILE:LINE: message" naming the offending line
 * (marked "# <-" in the text below).
 */
#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define SERVERS                                                                \
	"  servers = ( { address = \"198.51.100.11\"; port = 8080; } );\n"

static const char *const good[] = {
    /* the smallest useful file */
    "services = ( { name = \"web\"; vip = \"203.0.113.10\"; port = 80;\n"
    "  scheduler = \"rr\";\n" SERVERS "} );\n",
    /* every daemon setting, UDP, wrr with weight 0, health none */
    "daemon: { queue = 3; queues = 4; control_socket = \"/run/x.sock\";\n"
    "  max_connections = 1000; log_level = \"debug\";\n"
    "  checkpoint: { file = \"/var/lib/x.ckpt\"; interval = 5; }; };\n"
    "iptables: { manage = false; chain = \"LB_1\"; mark = 0x100; };\n"
    "timeouts: { tcp = 900; tcp_fin = 120; tcp_syn = 60; udp = 300; };\n"
    "services = (\n"
    " { name = \"dns\"; protocol = \"udp\"; vip = \"203.0.113.10\";\n"
    "   port = 53; scheduler = \"wrr\"; forward = \"nat\";\n"
    "   persistence = 0; health: { type = \"none\"; };\n"
    "   servers = ( { address = \"198.51.100.11\"; weight = 0; },\n"
    "               { address = \"198.51.100.12\"; weight = 65535; } ); },\n"
    " { name = \"dns-tcp\"; protocol = \"tcp\"; vip = \"203.0.113.10\";\n"
    "   port = 53; scheduler = \"rr\";\n" SERVERS " } );\n",
    /* every scheduler flag; no scheduler means wlc */
    "services = (\n"
    " { name = \"a\"; vip = \"203.0.113.10\"; port = 80; scheduler = \"sh\";\n"
    "   flags = [\"sh-port\", \"sh-fallback\"];\n" SERVERS " },\n"
    " { name = \"b\"; vip = \"203.0.113.10\"; port = 81; scheduler = \"mh\";\n"
    "   flags = [\"mh-port\", \"mh-fallback\"];\n" SERVERS " },\n"
    " { name = \"c\"; vip = \"203.0.113.10\"; port = 82;\n" SERVERS " } );\n",
    /* thresholds, lower defaulting to none (3/4 of upper at run time) */
    "services = ( { name = \"a\"; vip = \"203.0.113.10\"; port = 80;\n"
    "  servers = ( { address = \"198.51.100.11\"; upper_threshold = 10;\n"
    "                lower_threshold = 5; },\n"
    "              { address = \"198.51.100.12\"; upper_threshold = 4; } );\n"
    "} );\n",
    /* persistence with a netmask, as a string and as a prefix */
    "services = (\n"
    " { name = \"a\"; vip = \"203.0.113.10\"; port = 80; persistence = 300;\n"
    "   persistence_netmask = \"255.255.255.0\";\n" SERVERS " },\n"
    " { name = \"b\"; vip = \"203.0.113.10\"; port = 81; persistence = 60;\n"
    "   persistence_netmask = 16;\n" SERVERS " },\n"
    " { name = \"c\"; vip = \"203.0.113.10\"; port = 82;\n" SERVERS " } );\n",
    /* a firewall-mark service; servers without a port keep the client's */
    "services = ( { name = \"fw\"; fwmark = 5; persistence = 60;\n"
    "  servers = ( { address = \"198.51.100.11\"; } ); },\n"
    " { name = \"fwu\"; protocol = \"udp\"; fwmark = 5;\n"
    "   expire_nodest_conn = false;\n" SERVERS " } );\n",
    /* no services at all is a valid (idle) director */
    "daemon: { queue = 0; };\n",
    /* health checks of every type, a per-server override, sorry, alpha */
    "services = (\n"
    " { name = \"web\"; vip = \"203.0.113.10\"; port = 80;\n"
    "   scheduler = \"rr\"; alpha = true;\n"
    "   sorry_server = { address = \"198.51.100.20\"; port = 8081; };\n"
    "   health: { type = \"http\"; interval = 1; timeout = 2; rise = 1;\n"
    "     fall = 5; path = \"/health\"; host = \"www.example.com\";\n"
    "     expect_status = 204; expect_body = \"ok\"; };\n"
    "   servers = ( { address = \"198.51.100.11\"; port = 8080; },\n"
    "     { address = \"198.51.100.12\"; port = 8080;\n"
    "       health: { type = \"exec\"; command = \"/bin/check -v\"; }; },\n"
    "     { address = \"198.51.100.13\"; port = 8080;\n"
    "       health: { type = \"none\"; }; } ); },\n"
    " { name = \"ssh\"; vip = \"203.0.113.10\"; port = 22;\n"
    "   scheduler = \"rr\"; health: { type = \"tcp\"; };\n"
    "   sorry_server = { address = \"198.51.100.20\"; };\n" SERVERS " } );\n",
    /* offload: NAT with its own mask; DR falls back (valid, logged) */
    "iptables: { offload_mask = 0x00ff0000; };\n"
    "services = ( { name = \"off\"; vip = \"203.0.113.10\"; port = 80;\n"
    "  offload = true;\n" SERVERS " },\n"
    " { name = \"offdr\"; vip = \"203.0.113.10\"; port = 8080; forward = "
    "\"dr\";\n  offload = true;\n" SERVERS " } );\n",
};

struct bad {
	const char *text; /* the offending line ends with "# <-" */
	const char *msg;  /* a part of the message */
};

#define SVC_HEAD "services = ( { name = \"web\"; vip = \"203.0.113.10\";\n"

static const struct bad bad[] = {
    {"services = ( { name = \"web\"; vip = ; } ); # <-\n", "syntax"},
    {SVC_HEAD "  port = 80; scheduler = \"foo\"; # <-\n" SERVERS "} );\n",
     "unknown scheduler 'foo'"},
    {SVC_HEAD
     "  port = 80;\n"
     "  servers = ( { address = \"198.51.100.11\"; upper_threshold = 4;\n"
     "                lower_threshold = 5; } ); # <-\n} );\n",
     "lower_threshold 5 is above upper_threshold 4"},
    {SVC_HEAD "  port = 80;\n"
	      "  servers = ( { address = \"198.51.100.11\"; lower_threshold = "
	      "5; } ); # <-\n"
	      "} );\n",
     "lower_threshold without upper_threshold"},
    {SVC_HEAD "  port = 80; expire_nodest_conn = 1; # <-\n" SERVERS "} );\n",
     "'expire_nodest_conn' must be true or false"},
    {"services = ( { name = \"fw\"; fwmark = 5;\n"
     "  vip = \"203.0.113.10\"; # <-\n" SERVERS "} );\n",
     "a fwmark service takes no vip"},
    {"services = ( { name = \"fw\"; fwmark = 0x10000001; # <-\n" SERVERS
     "} );\n",
     "overlaps iptables.mark"},
    {"services = ( { name = \"a\"; fwmark = 5;\n" SERVERS "},\n"
     "{ name = \"b\"; fwmark = 5; # <-\n" SERVERS "} );\n",
     "fwmark 5 is already service 'a'"},
    {SVC_HEAD "  port = 80; persistence = 60;\n"
	      "  persistence_netmask = \"255.0.255.0\"; # <-\n" SERVERS
	      "} );\n",
     "is not a netmask"},
    {SVC_HEAD "  port = 80; persistence = 60;\n"
	      "  persistence_netmask = 33; # <-\n" SERVERS "} );\n",
     "out of range"},
    {SVC_HEAD "  port = 80; scheduler = \"sh\";\n"
	      "  flags = [\"sh-port\", \"sh-fallbak\"]; # <-\n" SERVERS
	      "} );\n",
     "unknown flag 'sh-fallbak'"},
    {SVC_HEAD "  port = 80; scheduler = \"mh\";\n"
	      "  flags = [\"sh-port\"]; # <-\n" SERVERS "} );\n",
     "flag 'sh-port' applies to scheduler sh, not mh"},
    {SVC_HEAD
     "  port = 80; scheduler = \"rr\"; forward = \"xyz\"; # <-\n" SERVERS
     "} );\n",
     "unknown forward method 'xyz'"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\"; forward = \"dr\";\n"
	      "  tunnel_source = \"198.51.100.1\"; # <-\n"
	      "  servers = ( { address = \"198.51.100.11\"; } );\n} );\n",
     "tunnel_source is only for forward = \"tun\""},
    {SVC_HEAD "  port = 80; scheduler = \"rr\"; forward = \"tun\";\n"
	      "  tunnel_source = \"nowhere\"; # <-\n"
	      "  servers = ( { address = \"198.51.100.11\"; } );\n} );\n",
     "tunnel_source 'nowhere' is not an IPv4 address"},
    {SVC_HEAD
     "  port = 80; scheduler = \"rr\"; forward = \"tun\";\n"
     "  servers = ( { address = \"198.51.100.11\"; port = 81; } ); # <-\n"
     "} );\n",
     "port"},
    {SVC_HEAD "  port = 80; protocol = \"sctp\"; # <-\n" SERVERS "} );\n",
     "unknown protocol 'sctp'"},
    {SVC_HEAD
     "  port = 80; scheduler = \"rr\";\n"
     "  servers = ( { address = \"198.51.100.11\"; weight = 70000; } ); # <-\n"
     "} );\n",
     "out of range"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  servers = ( { address = \"1.2.3\"; } ); # <-\n} );\n",
     "not an IPv4 address"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  servers = ( ); # <-\n} );\n",
     "at least one server"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n" SERVERS "},\n"
	      "{ name = \"web\"; vip = \"203.0.113.11\"; port = 80; # <-\n"
	      "  scheduler = \"rr\";\n" SERVERS "} );\n",
     "already used"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n" SERVERS "},\n"
	      "{ name = \"web2\"; vip = \"203.0.113.10\"; port = 80; # <-\n"
	      "  scheduler = \"rr\";\n" SERVERS "} );\n",
     "already service 'web'"},
    {"timeouts: { tcp = -5; }; # <-\n", "out of range"},
    {"timeouts: { udp = 0; }; # <-\n", "out of range"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  health: { type = \"tcp\"; interval = 0; }; # <-\n" SERVERS
	      "} );\n",
     "out of range"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  health: { type = \"icmp\"; }; # <-\n" SERVERS "} );\n",
     "unknown health type 'icmp'"},
    {SVC_HEAD
     "  port = 80; scheduler = \"rr\";\n"
     "  health: { type = \"http\"; path = \"health\"; }; # <-\n" SERVERS
     "} );\n",
     "must start with '/'"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  health: { type = \"http\"; path = \"/a b\"; }; # <-\n" SERVERS
	      "} );\n",
     "no spaces"},
    {SVC_HEAD
     "  port = 80; scheduler = \"rr\";\n"
     "  health: { type = \"http\"; expect_status = 700; }; # <-\n" SERVERS
     "} );\n",
     "out of range"},
    {SVC_HEAD
     "  port = 80; scheduler = \"rr\";\n"
     "  health: { type = \"tcp\"; command = \"/bin/true\"; }; # <-\n" SERVERS
     "} );\n",
     "'command' is for health type exec only"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  health: { type = \"exec\"; }; # <-\n" SERVERS "} );\n",
     "health type exec needs a command"},
    /* a server's override names its server */
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  servers = ( { address = \"198.51.100.11\";\n"
	      "    health: { type = \"tcp\"; path = \"/x\"; }; } ); # <-\n"
	      "} );\n",
     "web: server 198.51.100.11:80: 'path' is for health type http only"},
    {"services = ( { name = \"web\"; fwmark = 5;\n"
     "  servers = ( { address = \"198.51.100.11\"; health: { type = "
     "\"tcp\"; }; } ); # <-\n} );\n",
     "web: server 198.51.100.11:0: health type tcp needs the server's port"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\"; alpha = 1; # <-\n" SERVERS
	      "} );\n",
     "'alpha' must be true or false"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  sorry_server = { port = 8080; }; # <-\n" SERVERS "} );\n",
     "web: sorry_server without an address"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  sorry_server = { address = \"x\"; }; # <-\n" SERVERS "} );\n",
     "sorry_server address 'x' is not an IPv4 address"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  sorry_server = { address = \"198.51.100.9\"; weight = 2; }; # "
	      "<-\n" SERVERS "} );\n",
     "unknown setting 'weight'"},
    {SVC_HEAD "  port = 80; schedular = \"rr\"; # <-\n" SERVERS "} );\n",
     "unknown setting 'schedular'"},
    {"daemon: { log_level = \"loud\"; }; # <-\n", "unknown log_level"},
    {"daemon: { queues = 65; }; # <-\n", "out of range"},
    {"daemon: { queues = 0; }; # <-\n", "out of range"},
    {"daemon: { queue = 65535; queues = 2; }; # <-\n", "exceeds queue"},
    {"iptables: { chain = \"this-chain-name-is-far-too-long\"; }; # <-\n",
     "chain"},
    {"iptables: { mark = 3; }; # <-\n", "single bit"},
    {"iptables: { offload_mask = 0x10000; }; # <-\n", "contiguous bits"},
    {"iptables: { offload_mask = 0x0f0f0000; }; # <-\n", "contiguous bits"},
    {"iptables: { mark = 0x100000; };\n" SVC_HEAD
     "  port = 80; offload = true; # <-\n" SERVERS "} );\n",
     "offload_mask 0xfff0000 overlaps iptables.mark 0x100000"},
    {"iptables: { mark = 0x4; offload_mask = 0x6; }; # <-\n" SVC_HEAD
     "  port = 80; offload = true;\n" SERVERS "} );\n",
     "overlaps iptables.mark"},
    {"iptables: { offload_mask = 0x3; };\n" SVC_HEAD
     "  port = 80; offload = true; # <-\n"
     "  servers = ( { address = \"198.51.100.11\"; },\n"
     "    { address = \"198.51.100.12\"; }, { address = "
     "\"198.51.100.13\"; },\n"
     "    { address = \"198.51.100.14\"; } ); } );\n",
     "web: 4 servers of offload services, but offload_mask 0x3 names at "
     "most 3"},
    {"iptables: { manage = false; };\n" SVC_HEAD
     "  port = 80; offload = true; # <-\n" SERVERS "} );\n",
     "web: offload = true needs iptables.manage = true"},
    {"services = ( { name = \"m\"; fwmark = 0x10000; # <-\n" SERVERS
     " },\n { name = \"web\"; vip = \"203.0.113.10\"; port = 80; offload "
     "= true;\n" SERVERS "} );\n",
     "m: fwmark 0x10000 overlaps iptables.offload_mask 0xfff0000"},
    {SVC_HEAD "  port = 80; offload = 1; # <-\n" SERVERS "} );\n",
     "'offload' must be true or false"},
    {SVC_HEAD "  scheduler = \"rr\"; port = 99999; # <-\n" SERVERS "} );\n",
     "out of range"},
    {SVC_HEAD "  port = 80; scheduler = \"rr\";\n"
	      "  servers = ( { address = \"198.51.100.11\"; },\n"
	      "              { address = \"198.51.100.11\"; } ); # <-\n} );\n",
     "listed twice"},
};

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/nfqlb-test-XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	return path;
}

static int marked_line(const char *text)
{
	const char *m = strstr(text, "# <-");
	int line = 1;

	assert_non_null(m);
	for (const char *p = text; p < m; p++)
		if (*p == '\n')
			line++;
	return line;
}

/* Whether some line of out starts with prefix and contains msg. */
static bool has_line(const char *out, const char *prefix, const char *msg)
{
	for (const char *l = out; l && *l;
	     l = strchr(l, '\n'), l = l ? l + 1 : l) {
		const char *end = strchr(l, '\n');
		const char *m = strstr(l, msg);

		if (strncmp(l, prefix, strlen(prefix)) == 0 && m &&
		    (!end || m < end))
			return true;
	}
	return false;
}

static void test_good(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *path = write_tmp(good[i]), *out = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&out, &size);
		struct config cfg;
		int rc = config_load(path, &cfg, f);

		fclose(f);
		if (rc != 0)
			fail_msg("good config %zu refused: %s", i, out);
		config_free(&cfg);
		unlink(path);
		free(path);
		free(out);
	}
}

static void test_good_values(void **state)
{
	char *path = write_tmp(good[1]);
	struct config cfg;

	assert_int_equal(config_load(path, &cfg, stderr), 0);
	assert_int_equal(cfg.queue, 3);
	assert_int_equal(cfg.queues, 4);
	assert_int_equal(cfg.max_connections, 1000);
	assert_false(cfg.fw_manage);
	assert_string_equal(cfg.fw_chain, "LB_1");
	assert_int_equal(cfg.fw_mark, 0x100);
	assert_int_equal(cfg.n_services, 2);
	assert_int_equal(cfg.services[0].proto, IPPROTO_UDP);
	assert_int_equal(cfg.services[0].servers[0].port, 53); /* inherited */
	assert_int_equal(cfg.services[0].servers[0].weight, 0);
	assert_int_equal(cfg.services[1].servers[0].weight, 1); /* default */
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_sched_flags(void **state)
{
	char *path = write_tmp(good[2]);
	struct config cfg;

	assert_int_equal(config_load(path, &cfg, stderr), 0);
	assert_int_equal(cfg.services[0].sched_flags,
			 SCHED_F_SH_PORT | SCHED_F_SH_FALLBACK);
	assert_int_equal(cfg.services[1].sched_flags,
			 SCHED_F_MH_PORT | SCHED_F_MH_FALLBACK);
	assert_int_equal(cfg.services[2].sched_flags, 0);
	assert_string_equal(cfg.services[2].scheduler, "wlc");
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_thresholds(void **state)
{
	char *path = write_tmp(good[3]);
	struct config cfg;

	assert_int_equal(config_load(path, &cfg, stderr), 0);
	assert_int_equal(cfg.services[0].servers[0].u_threshold, 10);
	assert_int_equal(cfg.services[0].servers[0].l_threshold, 5);
	assert_int_equal(cfg.services[0].servers[1].u_threshold, 4);
	assert_int_equal(cfg.services[0].servers[1].l_threshold, 0);
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_persistence(void **state)
{
	char *path = write_tmp(good[4]);
	struct config cfg;

	assert_int_equal(config_load(path, &cfg, stderr), 0);
	assert_int_equal(cfg.services[0].persistence, 300);
	assert_int_equal(cfg.services[0].persist_mask, ip4("255.255.255.0"));
	assert_int_equal(cfg.services[1].persist_mask, ip4("255.255.0.0"));
	assert_int_equal(cfg.services[2].persistence, 0);
	assert_int_equal(cfg.services[2].persist_mask, 0xffffffff);
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_fwmark(void **state)
{
	char *path = write_tmp(good[5]);
	struct config cfg;

	assert_int_equal(config_load(path, &cfg, stderr), 0);
	assert_int_equal(cfg.services[0].fwmark, 5);
	assert_int_equal(cfg.services[0].vip, 0);
	assert_int_equal(cfg.services[0].port, 0);
	assert_int_equal(cfg.services[0].servers[0].port, 0);
	assert_int_equal(cfg.services[1].servers[0].port, 8080);
	assert_true(cfg.services[0].expire_nodest_conn); /* the default */
	assert_false(cfg.services[1].expire_nodest_conn);
	config_free(&cfg);
	unlink(path);
	free(path);
}

/* The good config that holds marker (indices move as cases are added). */
static const char *good_with(const char *marker)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (strstr(good[i], marker))
			return good[i];
	fail_msg("no good config with '%s'", marker);
	return NULL;
}

static void test_offload(void **state)
{
	char *path = write_tmp(good_with("offload_mask = 0x00ff0000"));
	struct config cfg;

	assert_int_equal(config_load(path, &cfg, stderr), 0);
	assert_int_equal(cfg.fw_offload_mask, 0x00ff0000);
	assert_true(cfg.services[0].offload);
	assert_true(cfg.services[1].offload); /* runs per packet: service.c */
	assert_int_equal(offload_mask_bits(0x00ff0000), 8);
	assert_int_equal(offload_mask_shift(0x00ff0000), 16);
	assert_int_equal(offload_mask_bits(0xffffffff), 32);
	assert_int_equal(offload_mask_bits(0x80000000), 0);
	assert_int_equal(offload_mask_bits(0x0), 0);
	assert_int_equal(offload_mask_bits(0x5), 0);
	config_free(&cfg);
	unlink(path);
	free(path);
	/* the default */
	path = write_tmp(good[1]);
	assert_int_equal(config_load(path, &cfg, stderr), 0);
	assert_int_equal(cfg.fw_offload_mask, 0x0fff0000);
	assert_false(cfg.services[0].offload);
	config_free(&cfg);
	unlink(path);
	free(path);
}

/* A server's health block starts from its service's and overrides. */
static void test_health_values(void **state)
{
	char *path = write_tmp(good_with("alpha = true"));
	const struct service_conf *web, *ssh;
	struct config cfg;

	assert_int_equal(config_load(path, &cfg, stderr), 0);
	web = &cfg.services[0];
	ssh = &cfg.services[1];
	assert_true(web->alpha);
	assert_true(web->has_sorry);
	assert_int_equal(web->sorry.addr, ip4("198.51.100.20"));
	assert_int_equal(web->sorry.port, 8081);
	assert_int_equal(ssh->sorry.port, 22); /* the service's port */
	assert_int_equal(web->health.type, HEALTH_HTTP);
	assert_string_equal(web->health.path, "/health");
	assert_string_equal(web->health.host, "www.example.com");
	assert_int_equal(web->health.expect_status, 204);
	assert_string_equal(web->health.expect_body, "ok");
	/* the first server has the service's check */
	assert_memory_equal(&web->servers[0].health, &web->health,
			    sizeof(web->health));
	/* the second runs a command, with the service's timing */
	assert_int_equal(web->servers[1].health.type, HEALTH_EXEC);
	assert_string_equal(web->servers[1].health.command, "/bin/check -v");
	assert_int_equal(web->servers[1].health.interval, 1);
	assert_int_equal(web->servers[1].health.timeout, 2);
	assert_int_equal(web->servers[1].health.rise, 1);
	assert_int_equal(web->servers[1].health.fall, 5);
	assert_int_equal(web->servers[2].health.type, HEALTH_NONE);
	/* defaults: every 2 s, timeout 1, rise 2, fall 3, GET / -> 200 */
	assert_false(ssh->alpha);
	assert_int_equal(ssh->health.type, HEALTH_TCP);
	assert_int_equal(ssh->health.interval, 2);
	assert_int_equal(ssh->health.timeout, 1);
	assert_int_equal(ssh->health.rise, 2);
	assert_int_equal(ssh->health.fall, 3);
	assert_string_equal(ssh->health.path, "/");
	assert_int_equal(ssh->health.expect_status, 200);
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = write_tmp(bad[i].text), *out = NULL, want[128];
		size_t size = 0;
		FILE *f = open_memstream(&out, &size);
		struct config cfg;
		int rc = config_load(path, &cfg, f);

		fclose(f);
		snprintf(want, sizeof(want), "%s:%d: ", path,
			 marked_line(bad[i].text));
		if (rc != -1 || !has_line(out, want, bad[i].msg))
			fail_msg("bad config %zu: rc %d, want '%s...%s', got "
				 "'%s'",
				 i, rc, want, bad[i].msg, out);
		unlink(path);
		free(path);
		free(out);
	}
}

static void test_missing_file(void **state)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	struct config cfg;

	assert_int_equal(config_load("/nonexistent/nfqlb.conf", &cfg, f), -1);
	fclose(f);
	assert_non_null(strstr(out, "/nonexistent/nfqlb.conf:0: "));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_good_values),
	    cmocka_unit_test(test_sched_flags),
	    cmocka_unit_test(test_thresholds),
	    cmocka_unit_test(test_persistence),
	    cmocka_unit_test(test_fwmark),
	    cmocka_unit_test(test_offload),
	    cmocka_unit_test(test_health_values),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
