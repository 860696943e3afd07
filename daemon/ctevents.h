/* ctevents.h - following offloaded flows in the kernel's conntrack table */
#ifndef NFQLB_CTEVENTS_H
#define NFQLB_CTEVENTS_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"

struct mnl_socket;
struct nlmsghdr;
struct mmsghdr;
struct iovec;
struct conn;
struct conn_table;
struct service_set;

struct ctevents_stats {
	uint64_t events;  /* conntrack events read (any flow) */
	uint64_t enobufs; /* times the kernel reported lost events */
	uint64_t resyncs; /* table dumps compared with ours */
	uint64_t adopted; /* offloaded flows we had no entry for */
	uint64_t lost;	  /* entries whose conntrack was gone at a resync */
	uint64_t ended;	  /* entries removed by a DESTROY event */
	uint64_t deleted; /* conntrack entries we deleted (server gone) */
	uint64_t errors;  /* failed dumps or deletes */
};

struct ctevents {
	struct mnl_socket *ev;	/* NEW, UPDATE and DESTROY events */
	struct mnl_socket *cmd; /* dumps and deletes, answered in turn */
	unsigned int cmd_portid;
	uint32_t seq;
	struct ev_loop *loop;
	ev_io io;
	ev_timer resync; /* a dump after ENOBUFS, and now and then anyway */
	struct conn_table *ct;
	const struct service_set *svcs;
	uint32_t mask; /* iptables.offload_mask: marks our flows */
	char *buf;     /* dumps and deletes */
	/* events: one slot per message of a recvmmsg batch */
	char *evbuf;
	struct mmsghdr *msgs;
	struct iovec *iov;
	bool want_resync;
	uint32_t resync_before; /* kernel_count when the resync began */
	struct ctevents_stats stats;
	struct log_ratelimit rl;
};

/*
 * Subscribes to conntrack events (the kernel then reports every flow of
 * the namespace; the offloaded ones carry a mark in mask), hooks into
 * ct so that entries purged with their server delete their conntrack
 * entry, and compares the kernel's table with ct once (entries restored
 * from a checkpoint find their conntrack entries). Returns 0, or -1 with
 * a logged reason.
 */
int ctevents_open(struct ctevents *ce, struct ev_loop *loop,
		  struct conn_table *ct, const struct service_set *svcs,
		  uint32_t mask);
bool ctevents_is_open(const struct ctevents *ce);
void ctevents_close(struct ctevents *ce);
/* Compares the kernel's conntrack table with ct: binds what it finds,
 * removes offloaded entries it no longer holds. Returns 0 or -1. */
int ctevents_resync(struct ctevents *ce);

/*
 * The pieces, for tests: one ctnetlink message (an event, or with dump a
 * part of a dump) applied to the table; a resync is begin, the dump's
 * messages, end (which removes the bound entries the dump did not hold
 * and returns how many).
 */
void ctevents_on_msg(struct ctevents *ce, const struct nlmsghdr *nlh,
		     bool dump);
void ctevents_resync_begin(struct ctevents *ce);
unsigned int ctevents_resync_end(struct ctevents *ce);

/* The kernel's TCP conntrack state as the daemon's (IPVS) state. */
int ctevents_tcp_state(uint8_t ct_state);

#endif
