/* config.h - the libconfig file: parsed, validated, errors with FILE:LINE */
#ifndef NFQLB_CONFIG_H
#define NFQLB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

/* $sysconfdir/nfqlb/nfqlb.conf, from configure (autoconfig.h). */
#ifdef NFQLB_CONFIG_FILE
#define CONFIG_DEFAULT_PATH NFQLB_CONFIG_FILE
#else
#define CONFIG_DEFAULT_PATH "/etc/nfqlb/nfqlb.conf"
#endif
#define CONFIG_NAME_MAX	 64
#define CONFIG_CHAIN_MAX 29 /* iptables chain names: 28 characters */
#define CONFIG_SCHED_MAX 16

/* Forwarding methods, as IPVS's -m (nat), -g (dr) and -i (tun). */
enum fwd_method {
	FWD_NAT = 0,
	FWD_DR,
	FWD_TUN,
	FWD_LAST,
};

enum health_type {
	HEALTH_NONE = 0,
	HEALTH_TCP,
	HEALTH_HTTP,
	HEALTH_EXEC,
};

/* Scheduler flags (ipvsadm -b), each meaningful for one scheduler. */
#define SCHED_F_SH_FALLBACK 0x01 /* sh: rehash past an unusable server */
#define SCHED_F_SH_PORT	    0x02 /* sh: hash the source port too */
#define SCHED_F_MH_FALLBACK 0x04 /* mh: rehash past an unusable server */
#define SCHED_F_MH_PORT	    0x08 /* mh: hash the source port too */

#define HEALTH_PATH_MAX	   256	/* http path, host, expect_body */
#define HEALTH_COMMAND_MAX 1024 /* exec command line */

/*
 * A health check, as keepalived's TCP_CHECK / HTTP_GET / MISC_CHECK. Plain
 * data (no pointers) so a server's copy compares with memcmp on reload.
 */
struct health_conf {
	enum health_type type;
	unsigned int interval, timeout; /* seconds */
	unsigned int rise, fall;    /* consecutive results to change state */
	char path[HEALTH_PATH_MAX]; /* http: request path, "/..." */
	char host[HEALTH_PATH_MAX]; /* http: Host header; "" = address */
	unsigned int expect_status; /* http: the status that means up */
	char expect_body[HEALTH_PATH_MAX]; /* http: substring, "" = any */
	char command[HEALTH_COMMAND_MAX];  /* exec: sh command line */
};

struct server_conf {
	uint32_t addr;	 /* network order */
	uint16_t port;	 /* host order; 0: the client's (fwmark services) */
	uint32_t weight; /* 0..65535; 0 = quiescent */
	/* connection limits (ipvsadm -x, -y); 0 = none */
	unsigned int u_threshold, l_threshold;
	struct health_conf health; /* the service's, or its own override */
	int line;
};

struct service_conf {
	char name[CONFIG_NAME_MAX];
	uint8_t proto;	 /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t vip;	 /* network order */
	uint16_t port;	 /* host order; 0 with fwmark */
	uint32_t fwmark; /* instead of vip and port; 0 = none */
	char scheduler[CONFIG_SCHED_MAX];
	unsigned int sched_flags; /* SCHED_F_* */
	enum fwd_method fwd;
	uint32_t tunnel_source;	  /* network order; 0: the route's source */
	bool expire_nodest_conn;  /* see struct service; default true */
	unsigned int persistence; /* seconds; 0 = off */
	uint32_t persist_mask;	  /* persistence_netmask, network order */
	struct health_conf health;
	bool alpha;	  /* servers start down until a check passes */
	bool offload;	  /* established flows to the kernel, see offload.h */
	int offload_line; /* of its offload = ... */
	bool has_sorry;	  /* sorry_server given */
	struct server_conf sorry; /* takes new flows when no server can */
	struct server_conf *servers;
	unsigned int n_servers;
	int line;      /* of the service's group */
	int name_line; /* of its name = ... */
	int key_line;  /* of its port = ... (the protocol/vip/port key) */
};

/* Connection timeouts in seconds, as ipvsadm --set (tcp tcpfin udp). */
struct timeouts_conf {
	unsigned int tcp, tcp_fin, tcp_syn, udp;
};

/* daemon.queues: queues bound, one worker thread each when more than one */
#define CONFIG_QUEUES_MAX 64

struct config {
	char *path;
	/* daemon: */
	uint16_t queue;
	unsigned int queues;
	char *control_socket;
	char *control_group;   /* NULL: root only */
	char *user;	       /* NULL: stay root; see privdrop.h */
	uint32_t metrics_addr; /* network order */
	uint16_t metrics_port; /* network order; 0 = no HTTP endpoint */
	unsigned int max_connections;
	enum log_level log_level;
	char *ckpt_file;
	unsigned int ckpt_interval;
	/* iptables: */
	bool fw_manage;
	char fw_chain[CONFIG_CHAIN_MAX];
	uint32_t fw_mark; /* bit(s) set on balanced packets, see fw.c */
	/* contiguous field of the packet and connection marks that names
	 * an offloaded flow's server (iptables.offload_mask, see fw.c) */
	uint32_t fw_offload_mask;
	int offload_mask_line; /* 0: the default */
	struct timeouts_conf timeouts;
	struct service_conf *services;
	unsigned int n_services;
};

/*
 * Reads and validates path into cfg. Every problem is written to errs as
 * "FILE:LINE: message" (one line each). Returns 0 if the file is valid,
 * -1 otherwise; on -1 cfg holds nothing that needs freeing.
 */
int config_load(const char *path, struct config *cfg, FILE *errs);
void config_free(struct config *cfg);

/* The width of an offload_mask: one run of 2 to 32 set bits, else 0. */
static inline unsigned int offload_mask_bits(uint32_t mask)
{
	uint32_t low = mask & -mask; /* its lowest set bit */
	uint64_t run = (uint64_t)mask + low;

	if (mask == 0 || (run & (run - 1)) != 0 || mask == low)
		return 0;
	return (unsigned int)__builtin_popcount(mask);
}

/* The lowest bit of an offload_mask: server ids are shifted by it. */
static inline unsigned int offload_mask_shift(uint32_t mask)
{
	return mask ? (unsigned int)__builtin_ctz(mask) : 0;
}

const char *fwd_method_name(enum fwd_method m);
const char *health_type_name(enum health_type t);
const char *proto_name(uint8_t proto);

#endif
