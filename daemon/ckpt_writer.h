/*
 * ckpt_writer.h - when the checkpoint is written: every `interval`
 * seconds and on request (nfqlbctl checkpoint) from a fork()ed child, so
 * the packet path never waits for encoding or fsync; synchronously on a
 * clean stop.
 *
 * For the control socket: ckpt_write_now() starts a write and calls back
 * when the file is on disk; a client that goes away first calls
 * ckpt_writer_forget() with the same arg.
 */
#ifndef NFQLB_CKPT_WRITER_H
#define NFQLB_CKPT_WRITER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ckpt_file.h"

struct conn_table;
struct service_set;

/* rc 0: r says what was written to path; rc -1: the write failed (the
 * reason is in the log). */
typedef void ckpt_done_fn(void *arg, int rc, const char *path,
			  const struct ckpt_result *r);

#define CKPT_WAITERS 16

struct ckpt_waiter {
	ckpt_done_fn *fn;
	void *arg;
};

struct ckpt_writer {
	struct ev_loop *loop;
	const struct conn_table *ct;
	const struct service_set *svcs; /* their persistence templates */
	char *path;
	ev_timer timer;
	ev_child child;
	pid_t pid;		/* the writing child; 0 when none runs */
	struct ckpt_result job; /* what the running child writes */
	uint64_t started_us;
	/* callers of the running write, and of the one after it (asked for
	 * while a child ran: it holds an older table than they want) */
	struct ckpt_waiter running[CKPT_WAITERS], next[CKPT_WAITERS];
	unsigned int n_running, n_next;
	bool again;   /* start another write when the child is done */
	bool failing; /* the last write failed: say when it works again */
	/* counters, for metrics */
	uint64_t writes, failures;
	struct ckpt_result last; /* of the last good write */
};

/* Starts the periodic writes of ct and svcs' templates to path. Returns 0, or
 * -1 (memory). */
int ckpt_writer_init(struct ckpt_writer *w, struct ev_loop *loop,
		     const struct conn_table *ct,
		     const struct service_set *svcs, const char *path,
		     unsigned int interval);
/* A reload: new path and interval, from the next write on. */
int ckpt_writer_configure(struct ckpt_writer *w, const char *path,
			  unsigned int interval);

/*
 * Writes the table now, in a child (or right after the child that runs,
 * which holds an older table). done(arg, ...) is called from the event
 * loop when it is over; done may be NULL. Returns 0, or -1 when
 * CKPT_WAITERS callers already wait.
 */
int ckpt_write_now(struct ckpt_writer *w, ckpt_done_fn *done, void *arg);
/* Drops every callback registered with arg (its client went away). */
void ckpt_writer_forget(struct ckpt_writer *w, const void *arg);

/*
 * Stops the timer and ends a running child (its temporary file is left
 * for the next write to replace). With final, writes the table
 * synchronously (the clean stop). Waiters are told the result. Returns
 * the result of the final write, or 0.
 */
int ckpt_writer_stop(struct ckpt_writer *w, bool final);

#endif
