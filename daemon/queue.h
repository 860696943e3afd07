/* queue.h - the NFQUEUE netlink side: the only file that speaks to the queue */
#ifndef NFQLB_QUEUE_H
#define NFQLB_QUEUE_H

#include <ev.h>
#include <stdint.h>

#include "core.h"
#include "log.h"

struct mnl_socket;
struct vbatch;
struct mmsghdr;
struct iovec;

struct queue_stats {
	uint64_t received;	 /* packets read from the queue */
	uint64_t enobufs;	 /* times the kernel reported lost messages */
	uint64_t verdict_errors; /* verdicts the kernel refused */
	uint64_t send_errors;	 /* failed verdict batch sends */
};

struct queue {
	struct mnl_socket *nl;
	unsigned int portid;
	uint16_t queue_num;
	uint32_t mark; /* bit set on balanced packets (iptables.mark) */
	struct core *core;
	ev_io io;
	/* receive side: one buffer per message of a recvmmsg batch */
	char *rx;
	struct mmsghdr *msgs;
	struct iovec *iov;
	/* verdicts of one batch, sent with one sendmsg */
	struct vbatch *vb;
	uint64_t now_ms; /* clock of the batch being processed */
	struct queue_stats stats;
	struct log_ratelimit rl_verdict, rl_recv;
};

/* Binds queue_num (copy whole packets, GSO super-packets allowed).
 * Returns 0, or -1 with a logged reason. */
int queue_open(struct queue *q, uint16_t queue_num, struct core *core,
	       uint32_t mark);
/*
 * Takes over fd, a netlink socket that a previous image of this process
 * bound to queue_num and handed over across execve(): the binding and the
 * packets waiting in it are kept. Returns 0, or -1 with a logged reason.
 */
int queue_adopt(struct queue *q, int fd, uint16_t queue_num, struct core *core,
		uint32_t mark);
/* The socket's fd, to hand over to the next image (-1 if none). */
int queue_fd(const struct queue *q);
void queue_start(struct queue *q, struct ev_loop *loop);
void queue_stop(struct queue *q, struct ev_loop *loop);
void queue_close(struct queue *q);

uint64_t queue_clock_ms(void);

#endif
