/*
 * workers.c - one thread and one libev loop per queue around the core
 * lock (see workers.h). libev's rule is kept: a loop is only touched by
 * its own thread, or through ev_async_send().
 */
#include "workers.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The main loop gives the core lock up only while it waits. */
static void main_release(struct ev_loop *loop)
{
	struct workers *ws = ev_userdata(loop);

	pthread_mutex_unlock(&ws->lock.mu);
}

static void main_acquire(struct ev_loop *loop)
{
	struct workers *ws = ev_userdata(loop);

	pthread_mutex_lock(&ws->lock.mu);
}

static void on_stop(struct ev_loop *loop, ev_async *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	ev_run(w->loop, 0);
	return NULL;
}

static void loops_free(struct workers *ws)
{
	for (unsigned int i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		if (!w->loop)
			continue;
		ev_async_stop(w->loop, &w->stop);
		ev_loop_destroy(w->loop);
		w->loop = NULL;
		w->q->lock = NULL;
	}
}

int workers_init(struct workers *ws, struct ev_loop *main_loop,
		 struct queue *qs, unsigned int n)
{
	int rc;

	memset(ws, 0, sizeof(*ws));
	rc = pthread_mutex_init(&ws->lock.mu, NULL);
	if (rc) {
		log_err("workers: core lock: %s", strerror(rc));
		return -1;
	}
	ws->w = calloc(n, sizeof(*ws->w));
	if (!ws->w) {
		log_err("workers: out of memory for %u workers", n);
		goto fail;
	}
	ws->n = n;
	ws->main_loop = main_loop;
	for (unsigned int i = 0; i < n; i++) {
		struct worker *w = &ws->w[i];

		w->q = &qs[i];
		/* signals are the main loop's: leave the mask alone */
		w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
		if (!w->loop) {
			log_err("queue %u: cannot create its event loop",
				qs[i].queue_num);
			goto fail;
		}
		ev_async_init(&w->stop, on_stop);
		ev_async_start(w->loop, &w->stop);
		qs[i].lock = &ws->lock;
	}
	pthread_mutex_lock(&ws->lock.mu);
	ev_set_userdata(main_loop, ws);
	ev_set_loop_release_cb(main_loop, main_release, main_acquire);
	return 0;
fail:
	loops_free(ws);
	free(ws->w);
	pthread_mutex_destroy(&ws->lock.mu);
	memset(ws, 0, sizeof(*ws));
	return -1;
}

/* Asynchronous signals go to the main thread only (libev's advice for
 * threads), so the workers start with them blocked. */
static void block_signals(sigset_t *old)
{
	static const int sync_signals[] = {SIGSEGV, SIGBUS,  SIGFPE,
					   SIGILL,  SIGTRAP, SIGABRT};
	sigset_t set;

	sigfillset(&set);
	for (size_t i = 0; i < sizeof(sync_signals) / sizeof(int); i++)
		sigdelset(&set, sync_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

int workers_start(struct workers *ws)
{
	sigset_t old;
	int rc = 0;

	block_signals(&old);
	for (unsigned int i = 0; i < ws->n && rc == 0; i++) {
		struct worker *w = &ws->w[i];

		if (w->running)
			continue;
		/* before the thread exists: no other thread has the loop */
		queue_start(w->q, w->loop);
		rc = pthread_create(&w->tid, NULL, worker_run, w);
		if (rc) {
			log_err("queue %u: cannot start its thread: %s",
				w->q->queue_num, strerror(rc));
			queue_stop(w->q, w->loop);
			break;
		}
		w->running = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		workers_stop(ws);
		return -1;
	}
	log_info("%u workers running, one per queue (%u..%u)", ws->n,
		 ws->w[0].q->queue_num, ws->w[ws->n - 1].q->queue_num);
	return 0;
}

void workers_stop(struct workers *ws)
{
	bool any = false;

	for (unsigned int i = 0; i < ws->n; i++)
		if (ws->w[i].running) {
			ev_async_send(ws->w[i].loop, &ws->w[i].stop);
			any = true;
		}
	if (!any)
		return;
	/* a worker may wait for the lock to end its batch */
	pthread_mutex_unlock(&ws->lock.mu);
	for (unsigned int i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];

		if (!w->running)
			continue;
		pthread_join(w->tid, NULL);
		w->running = false;
	}
	pthread_mutex_lock(&ws->lock.mu);
	/* the threads are gone: their loops are ours again */
	for (unsigned int i = 0; i < ws->n; i++)
		queue_stop(ws->w[i].q, ws->w[i].loop);
}

void workers_free(struct workers *ws)
{
	if (!ws->w)
		return;
	workers_stop(ws);
	loops_free(ws);
	ev_set_loop_release_cb(ws->main_loop, NULL, NULL);
	ev_set_userdata(ws->main_loop, NULL);
	pthread_mutex_unlock(&ws->lock.mu);
	pthread_mutex_destroy(&ws->lock.mu);
	free(ws->w);
	memset(ws, 0, sizeof(*ws));
}
