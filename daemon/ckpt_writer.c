/*
 * ckpt_writer.c - when the checkpoint is written.
 *
 * Why a child: bench/ckpt_bench measures, for 1M entries, about 35 ms to
 * encode and 40-100 ms to write and fsync 40 MB, against 2 ms for fork().
 * Done in the event loop, every checkpoint would hold up to ~130 ms of
 * packets in the queue; a fork()ed child works on a copy-on-write
 * snapshot of the table (consistent without any locking) while the loop
 * goes on, as Redis's BGSAVE does. One child at a time: a timer tick that
 * finds one running skips its turn.
 */
#include "ckpt_writer.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "queue.h"

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents);
static void on_child(struct ev_loop *loop, ev_child *c, int revents);

int ckpt_writer_configure(struct ckpt_writer *w, const char *path,
			  unsigned int interval)
{
	char *p = strdup(path);

	if (!p) {
		log_err("checkpoint %s: out of memory", path);
		return -1;
	}
	free(w->path);
	w->path = p;
	ev_timer_stop(w->loop, &w->timer);
	ev_timer_set(&w->timer, (double)interval, (double)interval);
	ev_timer_start(w->loop, &w->timer);
	return 0;
}

int ckpt_writer_init(struct ckpt_writer *w, struct ev_loop *loop,
		     const struct conn_table *ct,
		     const struct service_set *svcs, const char *path,
		     unsigned int interval)
{
	memset(w, 0, sizeof(*w));
	w->loop = loop;
	w->ct = ct;
	w->svcs = svcs;
	ev_timer_init(&w->timer, on_tick, (double)interval, (double)interval);
	w->timer.data = w;
	return ckpt_writer_configure(w, path, interval);
}

/* The child: default signal dispositions (libev's handlers would only
 * poke the parent's loop), a lower priority than the packet path, the
 * write, and _exit without the parent's atexit handlers or stdio. */
static void child_main(struct ckpt_writer *w, uint64_t now_ms)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR2, SIGCHLD};
	struct ckpt_result r;
	sigset_t none;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setpriority(PRIO_PROCESS, 0, 10) < 0)
		log_debug("checkpoint: lowering the writer's priority: %m");
	_exit(ckpt_file_write(w->path, w->ct, w->svcs, now_ms, &r) == 0 ? 0
									: 1);
}

static void notify_waiters(struct ckpt_waiter *list, unsigned int *n, int rc,
			   const char *path, const struct ckpt_result *r)
{
	unsigned int count = *n;

	/* emptied first: a callback may ask for the next write */
	*n = 0;
	for (unsigned int i = 0; i < count; i++)
		if (list[i].fn)
			list[i].fn(list[i].arg, rc, path, r);
}

static int start_child(struct ckpt_writer *w)
{
	uint64_t now_ms = queue_clock_ms();
	pid_t pid = fork();

	if (pid < 0) {
		log_err("checkpoint %s: fork: %m", w->path);
		return -1;
	}
	if (pid == 0)
		child_main(w, now_ms);
	w->pid = pid;
	w->started_us = ckpt_mono_us();
	memset(&w->job, 0, sizeof(w->job));
	w->job.entries = w->ct->count;
	w->job.templates = ckpt_entries(w->ct) - w->ct->count;
	w->job.bytes = ckpt_size(ckpt_entries(w->ct));
	ev_child_init(&w->child, on_child, pid, 0);
	w->child.data = w;
	ev_child_start(w->loop, &w->child);
	return 0;
}

/* The waiters of "next" become those of the write that starts now. */
static void start_next(struct ckpt_writer *w)
{
	w->again = false;
	memcpy(w->running, w->next, w->n_next * sizeof(w->next[0]));
	w->n_running = w->n_next;
	w->n_next = 0;
	if (start_child(w) < 0) {
		w->failures++;
		notify_waiters(w->running, &w->n_running, -1, w->path, NULL);
	}
}

static void on_child(struct ev_loop *loop, ev_child *c, int revents)
{
	struct ckpt_writer *w = c->data;
	int st = c->rstatus, rc = -1;

	ev_child_stop(loop, c);
	w->pid = 0;
	w->job.write_us = ckpt_mono_us() - w->started_us;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		rc = 0;
		w->writes++;
		w->last = w->job;
		if (w->failing)
			log_info("checkpoint %s: written again (%u entries)",
				 w->path, w->job.entries);
		w->failing = false;
		log_debug("checkpoint %s: %u entries, %zu bytes in %.1f ms",
			  w->path, w->job.entries, w->job.bytes,
			  (double)w->job.write_us / 1000.0);
	} else {
		w->failures++;
		/* the child logged why; a signal it did not say */
		if (WIFSIGNALED(st))
			log_err("checkpoint %s: writer killed by signal %d",
				w->path, WTERMSIG(st));
		if (!w->failing)
			log_err("checkpoint %s: not written; the previous "
				"file stays (next attempt in the next "
				"interval)",
				w->path);
		w->failing = true;
	}
	notify_waiters(w->running, &w->n_running, rc, w->path, &w->job);
	if (w->again)
		start_next(w);
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ckpt_writer *w = t->data;

	if (w->pid || w->again) {
		log_debug("checkpoint %s: previous write still running, "
			  "skipping this interval",
			  w->path);
		return;
	}
	if (start_child(w) < 0)
		w->failures++;
}

int ckpt_write_now(struct ckpt_writer *w, ckpt_done_fn *done, void *arg)
{
	if (w->n_next >= CKPT_WAITERS)
		return -1;
	w->next[w->n_next].fn = done;
	w->next[w->n_next].arg = arg;
	w->n_next++;
	if (w->pid) {
		w->again = true;
		return 0;
	}
	start_next(w);
	return 0;
}

void ckpt_writer_forget(struct ckpt_writer *w, const void *arg)
{
	for (unsigned int i = 0; i < w->n_running; i++)
		if (w->running[i].arg == arg)
			w->running[i].fn = NULL;
	for (unsigned int i = 0; i < w->n_next; i++)
		if (w->next[i].arg == arg)
			w->next[i].fn = NULL;
}

/* Ends a running child and reaps it here, outside the loop. */
static void kill_child(struct ckpt_writer *w)
{
	int st;

	if (!w->pid)
		return;
	ev_child_stop(w->loop, &w->child);
	kill(w->pid, SIGKILL);
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	w->pid = 0;
}

int ckpt_writer_stop(struct ckpt_writer *w, bool final)
{
	struct ckpt_result r = {0};
	int rc = 0;

	if (!w->path)
		return 0;
	ev_timer_stop(w->loop, &w->timer);
	kill_child(w);
	if (final) {
		rc = ckpt_file_write(w->path, w->ct, w->svcs, queue_clock_ms(),
				     &r);
		if (rc == 0)
			log_info("checkpoint %s: %u connections written "
				 "(%u persistence templates, %zu bytes, %.1f "
				 "ms)",
				 w->path, r.entries, r.templates, r.bytes,
				 (double)(r.encode_us + r.write_us) / 1000.0);
	}
	notify_waiters(w->running, &w->n_running, final ? rc : -1, w->path, &r);
	notify_waiters(w->next, &w->n_next, final ? rc : -1, w->path, &r);
	w->again = false;
	free(w->path);
	w->path = NULL;
	return rc;
}
