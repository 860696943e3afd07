/* queue.h - the NFQUEUE netlink side: the only file that speaks to the queue */
#ifndef NFQLB_QUEUE_H
#define NFQLB_QUEUE_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "log.h"

struct core_lock;
struct mnl_socket;
struct vbatch;
struct mmsghdr;
struct iovec;

/*
 * A queue's counters. With several queues a worker thread writes them and
 * the main thread reads them (nfqlbctl, metrics): relaxed atomics, added
 * once per batch, read with queue_stats_read().
 */
struct queue_stats {
	uint64_t received;	 /* packets read from the queue */
	uint64_t batches;	 /* receive batches processed */
	uint64_t enobufs;	 /* times the kernel reported lost messages */
	uint64_t verdict_errors; /* verdicts the kernel refused */
	uint64_t send_errors;	 /* failed verdict batch sends */
	uint64_t lock_wait_ns;	 /* waiting for the core lock */
	uint64_t lock_hold_ns;	 /* in the core (holding the lock, if any) */
	uint64_t since_ms;	 /* when counting began (queue_clock_ms) */
};

static inline void queue_stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline void queue_stats_read(const struct queue_stats *s,
				    struct queue_stats *out)
{
	out->received = __atomic_load_n(&s->received, __ATOMIC_RELAXED);
	out->batches = __atomic_load_n(&s->batches, __ATOMIC_RELAXED);
	out->enobufs = __atomic_load_n(&s->enobufs, __ATOMIC_RELAXED);
	out->verdict_errors =
	    __atomic_load_n(&s->verdict_errors, __ATOMIC_RELAXED);
	out->send_errors = __atomic_load_n(&s->send_errors, __ATOMIC_RELAXED);
	out->lock_wait_ns = __atomic_load_n(&s->lock_wait_ns, __ATOMIC_RELAXED);
	out->lock_hold_ns = __atomic_load_n(&s->lock_hold_ns, __ATOMIC_RELAXED);
	out->since_ms = s->since_ms; /* set before any worker runs */
}

/* A verdict decided under the core lock, sent after it is released. */
struct queue_verdict {
	const void *data; /* the packet as rewritten, in the receive buffer */
	uint32_t id, len, mark;
	uint8_t verdict; /* enum verdict */
	bool has_mark;
};

struct queue {
	struct mnl_socket *nl;
	unsigned int portid;
	uint16_t queue_num;
	uint32_t mark; /* bit set on balanced packets (iptables.mark) */
	struct core *core;
	/* the core lock, taken around the core's work on each batch; NULL
	 * when this queue is the only one (served by the main loop) */
	struct core_lock *lock;
	ev_io io;
	/* receive side: one buffer per message of a recvmmsg batch */
	char *rx;
	struct mmsghdr *msgs;
	struct iovec *iov;
	/* verdicts of the batch being processed */
	struct queue_verdict *pending;
	unsigned int n_pending, n_received;
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
 * packets waiting in it are kept. Returns 0, or -1 with a logged reason
 * (fd is closed then).
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
