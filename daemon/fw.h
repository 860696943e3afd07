/* fw.h - the daemon's own iptables chains: installed, updated, removed */
#ifndef NFQLB_FW_H
#define NFQLB_FW_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct service_set;

/* Where our chains hang: a table and one of its hooks each. */
enum fw_table {
	FW_RAW = 0,    /* raw PREROUTING: client packets to VIP:port */
	FW_MANGLE,     /* mangle POSTROUTING: NAT replies */
	FW_FILTER,     /* filter FORWARD: accept what we balanced */
	FW_MANGLE_PRE, /* mangle PREROUTING, last: fwmark and offload services
			*/
	FW_NAT, /* nat PREROUTING: offloaded flows' DNAT (only if used) */
	FW_TABLE_LAST,
};

struct fw_rule {
	enum fw_table table;
	bool first;	/* added with -I: before the chain's other rules */
	char spec[160]; /* match and target, without "-A CHAIN" */
};

struct fw_rules {
	struct fw_rule *v;
	unsigned int n;
};

struct fw {
	bool active;	 /* our chains are installed */
	bool nat_hooked; /* FW_NAT's chain exists (first offload service) */
	char chain[CONFIG_CHAIN_MAX];
	char chain_fwm[CONFIG_CHAIN_MAX]; /* FW_MANGLE_PRE's: "<chain>_FWM" */
	uint32_t mark;
	bool table_existed[FW_TABLE_LAST]; /* before we started */
	struct fw_rules rules;		   /* what is installed now */
	/* the running services, for the reply rules of retired servers
	 * (set once they exist; NULL: none) */
	const struct service_set *svcs;
};

/* "NFQUEUE --queue-num Q", or with several queues "NFQUEUE
 * --queue-balance Q:Q+N-1 --queue-cpu-fanout": every queueing rule's. */
#define FW_TARGET_MAX 64
void fw_queue_target(const struct config *cfg, char *buf, size_t size);

/* The rules cfg needs (pure: used by tests). Returns 0 or -1 (memory). */
int fw_rules_build(const struct config *cfg, struct fw_rules *out);
void fw_rules_free(struct fw_rules *r);

/* Installs the chains, one jump each, and cfg's rules. */
int fw_start(struct fw *fw, const struct config *cfg);
/* The installed rules, one "TABLE FIRST SPEC" line each, into fd (a memfd
 * handed to the next image across execve()). Returns 0 or -1. */
int fw_handover_write(const struct fw *fw, int fd);
/*
 * Takes over the chain that a previous image of this process installed
 * (SIGUSR2): the rule list is the one it handed over in rules_fd, exactly
 * as it installed it, so a following fw_update() changes only what the
 * configuration changed; nothing is removed or re-created. tables_existed
 * is what fw_tables_existed() said in the previous image. Returns the
 * number of rules, or -1 (logged) when the chain is no longer hooked in
 * or the list is unreadable: then the caller installs afresh.
 */
int fw_adopt(struct fw *fw, const char *chain, uint32_t mark,
	     unsigned int tables_existed, int rules_fd);
/* Bit t set when table t existed before the daemon first started. */
unsigned int fw_tables_existed(const struct fw *fw);
/* Adds and deletes only the rules that differ from what is installed. */
int fw_update(struct fw *fw, const struct config *cfg);
/* Removes exactly what fw_start and fw_update added. */
void fw_stop(struct fw *fw);

/* fw_nft.c: deletes an empty nftables table that iptables-nft created. */
int fw_nft_delete_table(const char *name);

#endif
