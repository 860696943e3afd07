/*
 * workers.h - several queues (daemon.queues = N > 1): one thread per
 * queue, each with its own libev loop, around one shared state.
 *
 * The connection table, services, schedulers, persistence templates, the
 * forwarding context and the counters are one state behind one mutex,
 * "the core lock". A worker holds it for the core's work on each receive
 * batch (up to 64 packets: parse, look up, schedule, rewrite, and the
 * DR/TUN sends) and releases it before it sends the batch's verdicts, so
 * the system calls and the kernel's copies, the expensive part, run in
 * parallel. The main thread holds it whenever it is not blocked in its
 * loop (ev_set_loop_release_cb): its timers, signals, control socket,
 * health checks and checkpoints run as with one queue.
 *
 * Finer locks were considered: every packet moves its entry to the tail
 * of its state's timeout list (conn.c), so every packet writes shared
 * list heads; per-bucket locks would need another expiry design first.
 * Each queue measures the time it waits for the lock and holds it (per
 * batch, queue.h's stats).
 */
#ifndef NFQLB_WORKERS_H
#define NFQLB_WORKERS_H

#include <ev.h>
#include <pthread.h>
#include <stdbool.h>

#include "queue.h"

/* The core lock (a struct, so queue.h needs no <pthread.h>). */
struct core_lock {
	pthread_mutex_t mu;
};

struct worker {
	struct queue *q;
	struct ev_loop *loop;
	ev_async stop; /* the only way another thread touches loop */
	pthread_t tid;
	bool running;
};

struct workers {
	struct core_lock lock;
	struct ev_loop *main_loop;
	struct worker *w;
	unsigned int n;
};

/*
 * Gives each of the n queues (bound, not started) a loop of its own and
 * the core lock, which the calling (main) thread holds from here on,
 * except while main_loop blocks. Returns 0, or -1 with a logged reason.
 */
int workers_init(struct workers *ws, struct ev_loop *main_loop,
		 struct queue *qs, unsigned int n);
/* Starts one thread per queue. Returns 0, or -1 (logged; those started
 * are stopped again). */
int workers_start(struct workers *ws);
/* Stops and joins the threads; their queues keep their packets waiting.
 * Called by the main thread, holding the core lock. */
void workers_stop(struct workers *ws);
/* Stops them if needed and frees the loops; the lock is released. */
void workers_free(struct workers *ws);

#endif
