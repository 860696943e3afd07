/* main.c - the nfqlb daemon: options, start-up order, signals, reload */
#include "config.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt_file.h"
#include "ckpt_writer.h"
#include "conn.h"
#include "core.h"
#include "ctevents.h"
#include "ctl.h"
#include "fw.h"
#include "health.h"
#include "log.h"
#include "metrics_http.h"
#include "queue.h"
#include "notify.h"
#include "privdrop.h"
#include "restart.h"
#include "service.h"
#include "workers.h"

struct daemon {
	struct ev_loop *loop;
	struct config cfg;
	struct conn_table ct;
	struct service_set svcs;
	struct core core;
	struct xmit_ctx xmit;
	struct queue *q; /* daemon.queues of them */
	unsigned int n_queues;
	struct workers ws; /* their threads, with several queues */
	struct fw fw;
	struct ctevents cte; /* offloaded flows, once a service offloads */
	struct ctl ctl;
	struct metrics_http http;
	struct ckpt_writer ckw; /* periodic checkpoints of ct */
	ev_signal sig_term, sig_int, sig_hup, sig_usr2;
	ev_timer tick;	   /* connection expiry, once a second */
	ev_timer est;	   /* rate estimator, every STATS_EST_INTERVAL */
	ev_timer watchdog; /* WATCHDOG=1 at half $WATCHDOG_USEC */
	int ready_fd;	   /* tells a daemonising parent we are up */
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: nfqlb [-f] [-t] [-c FILE]\n"
	    "  -c, --config FILE    configuration (default %s)\n"
	    "  -f, --foreground     stay in the foreground, log to stderr too\n"
	    "  -t, --test-config    check the configuration and exit\n"
	    "  -V, --version        print the version and exit\n",
	    CONFIG_DEFAULT_PATH);
}

/* Logs the lines of a config error report one by one. */
static void log_lines(enum log_level level, char *text)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		log_msg(level, "%s", line);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Settings that only a restart can change keep their running values. */
static void keep_restart_settings(const struct config *cur, struct config *nc)
{
	bool changed = cur->queue != nc->queue || cur->queues != nc->queues ||
		       cur->max_connections != nc->max_connections ||
		       cur->fw_manage != nc->fw_manage ||
		       cur->fw_mark != nc->fw_mark ||
		       cur->fw_offload_mask != nc->fw_offload_mask ||
		       strcmp(cur->fw_chain, nc->fw_chain) != 0 ||
		       strcmp(cur->control_socket, nc->control_socket) != 0 ||
		       !same_str(cur->control_group, nc->control_group) ||
		       !same_str(cur->user, nc->user) ||
		       cur->metrics_addr != nc->metrics_addr ||
		       cur->metrics_port != nc->metrics_port;
	char *group;

	if (!changed)
		return;
	log_warn("reload: queue, queues, max_connections, control_socket, "
		 "control_group, user, metrics_listen and iptables settings "
		 "change only with a restart; keeping the running ones");
	nc->queue = cur->queue;
	nc->queues = cur->queues;
	nc->max_connections = cur->max_connections;
	nc->fw_manage = cur->fw_manage;
	nc->fw_mark = cur->fw_mark;
	nc->fw_offload_mask = cur->fw_offload_mask;
	memcpy(nc->fw_chain, cur->fw_chain, sizeof(nc->fw_chain));
	nc->metrics_addr = cur->metrics_addr;
	nc->metrics_port = cur->metrics_port;
	/* swap the strings so each config frees its own */
	group = nc->control_group;
	nc->control_group =
	    cur->control_group ? strdup(cur->control_group) : NULL;
	free(group);
	free(nc->user);
	nc->user = cur->user ? strdup(cur->user) : NULL;
	if (strcmp(cur->control_socket, nc->control_socket) != 0) {
		char *sock = strdup(cur->control_socket);

		if (sock) {
			free(nc->control_socket);
			nc->control_socket = sock;
		}
	}
}

/* The first line of a config error report, for a one-line reply. */
static void first_line(char *err, size_t size, const char *report)
{
	size_t n = report ? strcspn(report, "\n") : 0;

	snprintf(err, size, "%.*s", (int)n, report ? report : "");
}

/*
 * Loads path into nc for what ("reload", "restart"). Every problem is
 * logged; on -1 err says the first one.
 */
static int load_logged(const char *path, struct config *nc, const char *what,
		       char *err, size_t size)
{
	char *report = NULL;
	size_t rsize = 0;
	FILE *f = open_memstream(&report, &rsize);
	int rc;

	if (!f) {
		log_err("%s: out of memory; the running configuration stays",
			what);
		snprintf(err, size, "out of memory");
		return -1;
	}
	rc = config_load(path, nc, f);
	fclose(f);
	if (rc < 0) {
		char first[200];

		first_line(first, sizeof(first), report);
		log_lines(LOG_LVL_ERROR, report);
		log_err("%s of %s refused: the running configuration stays",
			what, path);
		snprintf(err, size,
			 "%s refused, the running configuration stays: %s",
			 what, first);
	}
	free(report);
	return rc;
}

/* Whether the running services or the table have offloaded flows. */
static bool offload_in_use(const struct daemon *d)
{
	for (unsigned int i = 0; i < d->svcs.n; i++)
		if (d->svcs.svcs[i]->offload)
			return true;
	return d->ct.kernel_count > 0;
}

/* Follows conntrack once the first offload service (or a restored
 * offloaded flow) needs it; it then stays open until stop. */
static int offload_follow(struct daemon *d)
{
	if (ctevents_is_open(&d->cte) || !offload_in_use(d))
		return 0;
	return ctevents_open(&d->cte, d->loop, &d->ct, &d->svcs,
			     d->cfg.fw_offload_mask);
}

/*
 * Re-reads the config file and applies it in place (SIGHUP and nfqlbctl
 * reload). Returns 0, or -1 with the running config kept and a one-line
 * reason in err.
 */
static int reload(struct daemon *d, char *err, size_t size)
{
	struct config nc;
	int rc;

	notify_send("RELOADING=1");
	if (load_logged(d->cfg.path, &nc, "reload", err, size) < 0) {
		notify_send("READY=1");
		return -1;
	}
	keep_restart_settings(&d->cfg, &nc);
	rc = 0;
	if (service_set_apply(&d->svcs, &nc, &d->ct) < 0) {
		log_err("reload: some services could not be updated");
		snprintf(err, size,
			 "some services could not be updated (see "
			 "the log)");
		rc = -1;
	}
	health_sync(d->loop, &d->svcs);
	xmit_prepare(&d->xmit, &d->svcs, queue_clock_ms());
	conn_table_set_timeouts(&d->ct, &nc.timeouts);
	ckpt_writer_configure(&d->ckw, nc.ckpt_file, nc.ckpt_interval);
	if (offload_follow(d) < 0) {
		log_err("reload: offloaded flows cannot be followed");
		snprintf(err, size,
			 "conntrack events unavailable (see the log)");
		rc = -1;
	}
	if (nc.fw_manage && fw_update(&d->fw, &nc) < 0) {
		log_err("reload: iptables rules could not be updated");
		snprintf(err, size,
			 "iptables rules could not be updated (see "
			 "the log)");
		rc = -1;
	}
	log_set_level(nc.log_level);
	config_free(&d->cfg);
	d->cfg = nc;
	log_info("configuration %s reloaded: %u services, %u connections kept",
		 d->cfg.path, d->svcs.n, d->ct.count);
	notify_send("READY=1");
	return rc;
}

static int ctl_reload(void *arg, char *err, size_t size)
{
	return reload(arg, err, size);
}

/* What the control socket and the metrics endpoint read. */
static void fill_view(void *arg, struct ctl_view *v)
{
	struct daemon *d = arg;

	v->svcs = &d->svcs;
	v->ct = &d->ct;
	v->counters = d->core.counters;
	v->queues = d->q;
	v->n_queues = d->n_queues;
	v->cts = ctevents_is_open(&d->cte) ? &d->cte.stats : NULL;
	v->now_ms = queue_clock_ms();
	v->version = PACKAGE_VERSION;
}

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	char err[256];

	reload(w->data, err, sizeof(err)); /* logged either way */
}

static void on_est(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	service_set_est_sample(&d->svcs);
}

/* A memfd for the next image (close-on-exec until restart_exec()). */
static int handover_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		log_err("restart: memfd_create %s: %m", name);
	return fd;
}

/* Puts a checkpoint of the table in a memfd for the next image. */
static int table_memfd(struct daemon *d)
{
	struct ckpt_result r;
	int fd = handover_memfd("nfqlb-table");

	if (fd < 0)
		return -1;
	if (ckpt_fd_write(fd, "restart memfd", &d->ct, &d->svcs,
			  queue_clock_ms(), &r) < 0) {
		close(fd);
		return -1;
	}
	log_info("restart: handing over %u connections and %u persistence "
		 "templates (%zu bytes, encoded in %.1f ms)",
		 r.entries, r.templates, r.bytes, (double)r.encode_us / 1000.0);
	return fd;
}

/* The installed iptables rules, for the next image to adopt as they are. */
static int fw_memfd(struct daemon *d)
{
	int fd = handover_memfd("nfqlb-fw");

	if (fd >= 0 && fw_handover_write(&d->fw, fd) < 0) {
		log_err("restart: writing the rule list: %m");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Whether a re-execution may start: the new image starts with the
 * configuration file, so it must load. An image that dropped to
 * daemon.user would re-execute unprivileged, with its root-owned control
 * socket and state to take over: that is not built yet, so refused.
 */
static int restart_check(struct daemon *d, char *err, size_t size)
{
	struct config nc;

	if (d->cfg.user) {
		snprintf(err, size,
			 "hitless restart is not supported with daemon.user "
			 "yet: stop and start the daemon instead");
		log_err("restart refused: %s", err);
		return -1;
	}
	if (load_logged(d->cfg.path, &nc, "restart", err, size) < 0)
		return -1;
	config_free(&nc);
	return 0;
}

/* Packets are read (on the workers' loops, or on the main loop when there
 * is one queue) or left waiting in the queue sockets. */
static int queues_start(struct daemon *d)
{
	if (d->ws.n)
		return workers_start(&d->ws);
	queue_start(&d->q[0], d->loop);
	return 0;
}

static void queues_stop(struct daemon *d)
{
	if (d->ws.n)
		workers_stop(&d->ws);
	else if (d->n_queues)
		queue_stop(&d->q[0], d->loop);
}

/*
 * SIGUSR2: re-execute with the queue sockets, the table and the rules
 * handed over (restart.h). From queue_stop() on, packets wait in the
 * socket; the rules never leave, so none meets the host's own stack. A
 * configuration the next image could not start with refuses the restart.
 */
static void restart(struct daemon *d)
{
	struct handover h = {.table_fd = -1, .fw_fd = -1};
	char err[256];

	if (restart_check(d, err, sizeof(err)) < 0)
		return;
	notify_send("RELOADING=1\nSTATUS=re-executing");
	queues_stop(d);
	ckpt_writer_stop(&d->ckw, false);
	h.table_fd = table_memfd(d);
	h.fw_active = d->cfg.fw_manage && d->fw.active;
	if (h.fw_active)
		h.fw_fd = fw_memfd(d);
	if (h.table_fd >= 0 && (!h.fw_active || h.fw_fd >= 0)) {
		for (unsigned int i = 0; i < d->n_queues; i++)
			h.queue_fds[h.n_queues++] = queue_fd(&d->q[i]);
		h.queue_num = d->q[0].queue_num;
		snprintf(h.fw_chain, sizeof(h.fw_chain), "%s", d->fw.chain);
		h.fw_mark = d->fw.mark;
		h.fw_tables_existed = fw_tables_existed(&d->fw);
		restart_exec(&h); /* returns only on failure */
	}
	if (h.table_fd >= 0)
		close(h.table_fd);
	if (h.fw_fd >= 0)
		close(h.fw_fd);
	log_err("restart failed: this image goes on");
	if (queues_start(d) < 0)
		log_err("restart: the queues could not be started again: "
			"packets wait in them");
	ckpt_writer_configure(&d->ckw, d->cfg.ckpt_file, d->cfg.ckpt_interval);
	notify_send("READY=1\nSTATUS=balancing");
}

static void on_usr2(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_info("SIGUSR2: hitless restart");
	restart(w->data);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;
	uint64_t now = queue_clock_ms();
	unsigned int n = conn_expire(&d->ct, now);

	if (n)
		log_debug("%u connections expired, %u left", n, d->ct.count);
	/* after the connections: a template outlives those it controls */
	n = service_set_expire_templates(&d->svcs, &d->ct, now);
	if (n)
		log_debug("%u persistence templates expired, %u left", n,
			  d->ct.pt.count);
	/* removed servers whose last connection went: their rules go */
	if (service_set_reap(&d->svcs) && d->cfg.fw_manage &&
	    fw_update(&d->fw, &d->cfg) < 0)
		log_err("iptables: the rules of removed servers could not be "
			"removed");
}

static void on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
	notify_send("WATCHDOG=1");
}

/*
 * Without -f: the parent waits until the child is ready (or failed), so
 * "nfqlb && next-step" sees a working balancer, as with Type=notify.
 */
static int daemonise(struct daemon *d)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0) {
		log_err("pipe: %m");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_err("fork: %m");
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? EXIT_SUCCESS : EXIT_FAILURE);
	}
	close(p[0]);
	d->ready_fd = p[1];
	if (setsid() < 0 || chdir("/") < 0)
		log_warn("detaching: %m");
	int nul = open("/dev/null", O_RDWR);

	if (nul >= 0) {
		dup2(nul, STDIN_FILENO);
		dup2(nul, STDOUT_FILENO);
		dup2(nul, STDERR_FILENO);
		if (nul > STDERR_FILENO)
			close(nul);
	}
	return 0;
}

static void signal_ready(struct daemon *d)
{
	notify_send("READY=1\nSTATUS=balancing");
	if (d->ready_fd >= 0) {
		if (write(d->ready_fd, "r", 1) != 1)
			log_warn("telling the parent we are ready: %m");
		close(d->ready_fd);
		d->ready_fd = -1;
	}
}

static uint32_t random_seed(void)
{
	uint32_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint32_t)getpid() ^ (uint32_t)queue_clock_ms();
	return seed;
}

/* nfqlbctl checkpoint: answered when the file is on disk. */
static void ctl_checkpoint_done(void *token, int rc, const char *path,
				const struct ckpt_result *r)
{
	char text[4096 + 128];

	if (rc < 0)
		snprintf(text, sizeof(text),
			 "checkpoint %s: not written (see the log)", path);
	else if (ctl_reply_json(token))
		snprintf(text, sizeof(text),
			 "{\"file\":\"%s\",\"connections\":%u,\"templates\":%u,"
			 "\"bytes\":%zu,\"ms\":%.1f}\n",
			 path, r->entries, r->templates, r->bytes,
			 (double)r->write_us / 1000.0);
	else
		snprintf(text, sizeof(text),
			 "checkpoint %s: %u connections, %u persistence "
			 "templates, %zu bytes, %.1f ms\n",
			 path, r->entries, r->templates, r->bytes,
			 (double)r->write_us / 1000.0);
	ctl_reply(token, rc, text);
}

static int ctl_checkpoint(void *arg, void *token, char *err, size_t size)
{
	struct daemon *d = arg;

	if (ckpt_write_now(&d->ckw, ctl_checkpoint_done, token) < 0) {
		snprintf(err, size, "%d checkpoint requests already wait",
			 CKPT_WAITERS);
		return -1;
	}
	return 0;
}

static void ctl_cancel(void *arg, void *token)
{
	struct daemon *d = arg;

	ckpt_writer_forget(&d->ckw, token);
}

/* nfqlbctl restart: the configuration is checked here so a refusal
 * reaches the operator; the restart itself runs as on SIGUSR2, after
 * this reply. */
static int ctl_restart(void *arg, char *err, size_t size)
{
	if (restart_check(arg, err, size) < 0)
		return -1;
	restart_request();
	return 0;
}

/* The control socket, and the metrics endpoint when configured. */
static int start_control(struct daemon *d)
{
	static const struct ctl_hooks hooks_template = {
	    .view = fill_view,
	    .reload = ctl_reload,
	    .restart = ctl_restart,
	    .checkpoint = ctl_checkpoint,
	    .cancel = ctl_cancel,
	};
	struct ctl_hooks hooks = hooks_template;

	hooks.arg = d;
	if (ctl_open(&d->ctl, d->loop, d->cfg.control_socket,
		     d->cfg.control_group, &d->svcs, &d->core, &hooks) < 0)
		return -1;
	if (d->cfg.metrics_port &&
	    metrics_http_open(&d->http, d->loop, d->cfg.metrics_addr,
			      d->cfg.metrics_port, fill_view, d) < 0)
		return -1;
	return 0;
}

/* The table first: the first packet must find its flow. From the
 * previous image's memfd after a restart, else from the file. */
static void start_table(struct daemon *d, const struct handover *h)
{
	if (h->table_fd >= 0) {
		ckpt_fd_load(h->table_fd, "(handed over)", &d->ct, &d->svcs,
			     queue_clock_ms());
		close(h->table_fd);
		return;
	}
	ckpt_file_load(d->cfg.ckpt_file, &d->ct, &d->svcs, queue_clock_ms());
}

/* The previous image's sockets, bound to the queues we need. On failure
 * every one of them is closed (so its queue can be bound anew). */
static int adopt_queues(struct daemon *d, const struct handover *h)
{
	for (unsigned int i = 0; i < h->n_queues; i++) {
		if (queue_adopt(&d->q[i], h->queue_fds[i],
				(uint16_t)(h->queue_num + i), &d->core,
				d->cfg.fw_mark) == 0)
			continue;
		for (unsigned int j = 0; j < i; j++)
			queue_close(&d->q[j]);
		for (unsigned int j = i + 1; j < h->n_queues; j++)
			close(h->queue_fds[j]);
		return -1;
	}
	return 0;
}

/* The queue sockets of the previous image if they are bound to the
 * queues we need (packets are waiting in them), else new ones. */
static int start_queues(struct daemon *d, const struct handover *h)
{
	unsigned int n = d->cfg.queues;

	d->q = calloc(n, sizeof(*d->q));
	if (!d->q) {
		log_err("out of memory for %u queues", n);
		return -1;
	}
	d->n_queues = n;
	if (h->n_queues == n && h->queue_num == d->cfg.queue) {
		if (adopt_queues(d, h) == 0)
			goto bound;
	} else if (h->n_queues) {
		log_warn("restart: queues %u..%u are now %u..%u: binding anew",
			 h->queue_num, h->queue_num + h->n_queues - 1,
			 d->cfg.queue, d->cfg.queue + n - 1);
		for (unsigned int i = 0; i < h->n_queues; i++)
			close(h->queue_fds[i]);
	}
	for (unsigned int i = 0; i < n; i++)
		if (queue_open(&d->q[i], (uint16_t)(d->cfg.queue + i), &d->core,
			       d->cfg.fw_mark) < 0)
			return -1;
bound:
	/* several: each on a thread of its own, started once all is ready */
	if (n > 1)
		return workers_init(&d->ws, d->loop, d->q, n);
	queue_start(&d->q[0], d->loop);
	return 0;
}

/* Our chain as the previous image left it, brought to this config by
 * difference; or installed from scratch. */
static int start_fw(struct daemon *d, const struct handover *h)
{
	int adopted = h->fw_active ? fw_adopt(&d->fw, h->fw_chain, h->fw_mark,
					      h->fw_tables_existed, h->fw_fd)
				   : -1;

	if (h->fw_fd >= 0)
		close(h->fw_fd);
	if (adopted >= 0) {
		if (d->cfg.fw_manage &&
		    strcmp(h->fw_chain, d->cfg.fw_chain) == 0 &&
		    h->fw_mark == d->cfg.fw_mark)
			return fw_update(&d->fw, &d->cfg);
		log_warn("restart: iptables settings changed: replacing "
			 "chain %s",
			 h->fw_chain);
		fw_stop(&d->fw);
	}
	return d->cfg.fw_manage ? fw_start(&d->fw, &d->cfg) : 0;
}

static int start(struct daemon *d, const struct handover *h)
{
	uint64_t wd = notify_watchdog_usec();

	if (conn_table_init(&d->ct, d->cfg.max_connections, random_seed(),
			    &d->cfg.timeouts) < 0) {
		log_err("connection table of %u entries: out of memory",
			d->cfg.max_connections);
		return -1;
	}
	if (service_set_build(&d->svcs, &d->cfg) < 0)
		return -1;
	d->svcs.server_gone = health_server_gone;
	d->core.ct = &d->ct;
	d->core.svcs = &d->svcs;
	if (xmit_open(&d->xmit, d->loop, d->core.counters) < 0)
		return -1;
	d->core.xmit = &d->xmit;
	xmit_prepare(&d->xmit, &d->svcs, queue_clock_ms());
	start_table(d, h);
	/* before the queues: a restored offloaded flow finds its conntrack
	 * entry; after the table: new servers' flows are purged there */
	d->core.offload_shift = offload_mask_shift(d->cfg.fw_offload_mask);
	if (offload_follow(d) < 0)
		return -1;
	/* Bind the queues before the rules send packets to them. */
	if (start_queues(d, h) < 0)
		return -1;
	/* retired servers keep their reply rules; offload needs the ids */
	d->fw.svcs = &d->svcs;
	if (start_fw(d, h) < 0)
		return -1;
	if (start_control(d) < 0)
		return -1;
	/* Everything that needs root is open: leave it (daemon.user). */
	if (d->cfg.user &&
	    (notify_open() < 0 || privdrop_to_user(d->cfg.user) < 0))
		return -1;

	ev_signal_init(&d->sig_term, on_stop, SIGTERM);
	ev_signal_init(&d->sig_int, on_stop, SIGINT);
	ev_signal_init(&d->sig_hup, on_hup, SIGHUP);
	d->sig_hup.data = d;
	ev_signal_start(d->loop, &d->sig_term);
	ev_signal_start(d->loop, &d->sig_int);
	ev_signal_start(d->loop, &d->sig_hup);
	ev_signal_init(&d->sig_usr2, on_usr2, SIGUSR2);
	d->sig_usr2.data = d;
	ev_signal_start(d->loop, &d->sig_usr2);
	/* a signal that came during a re-execution is delivered now */
	restart_unblock_signals();
	if (ckpt_writer_init(&d->ckw, d->loop, &d->ct, &d->svcs,
			     d->cfg.ckpt_file, d->cfg.ckpt_interval) < 0)
		return -1;
	ev_timer_init(&d->tick, on_tick, 1.0, 1.0);
	d->tick.data = d;
	ev_timer_start(d->loop, &d->tick);
	ev_timer_init(&d->est, on_est, STATS_EST_INTERVAL, STATS_EST_INTERVAL);
	d->est.data = d;
	ev_timer_start(d->loop, &d->est);
	if (wd) {
		ev_timer_init(&d->watchdog, on_watchdog, 0.0, (double)wd / 2e6);
		ev_timer_again(d->loop, &d->watchdog);
	}
	if (d->n_queues > 1)
		log_info("nfqlb %s: %u services on queues %u..%u",
			 PACKAGE_VERSION, d->svcs.n, d->cfg.queue,
			 d->cfg.queue + d->n_queues - 1);
	else
		log_info("nfqlb %s: %u services on queue %u", PACKAGE_VERSION,
			 d->svcs.n, d->cfg.queue);
	health_sync(d->loop, &d->svcs);
	return d->ws.n ? workers_start(&d->ws) : 0;
}

static void stop(struct daemon *d)
{
	notify_send("STOPPING=1");
	metrics_http_close(&d->http);
	ctl_close(&d->ctl);
	if (d->cfg.fw_manage)
		fw_stop(&d->fw);
	/* the workers end (joined) before their sockets close */
	queues_stop(d);
	workers_free(&d->ws);
	for (unsigned int i = 0; i < d->n_queues; i++)
		queue_close(&d->q[i]);
	free(d->q);
	d->q = NULL;
	d->n_queues = 0;
	xmit_close(&d->xmit);
	/* the queue is closed: the table no longer changes */
	ckpt_writer_stop(&d->ckw, true);
	ctevents_close(&d->cte);
	/* stopping: flows end with the table, nothing to purge one by one */
	service_set_free(&d->svcs, NULL);
	conn_table_destroy(&d->ct);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"test-config", no_argument, NULL, 't'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = CONFIG_DEFAULT_PATH;
	bool foreground = false, test = false;
	struct daemon d = {.ready_fd = -1};
	struct handover h;
	int c, rc;

	restart_init(argv);
	while ((c = getopt_long(argc, argv, "c:ftVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			test = true;
			break;
		case 'V':
			printf("nfqlb %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (config_load(path, &d.cfg, stderr) < 0)
		return EXIT_FAILURE;
	if (test) {
		printf("%s: configuration is valid (%u services)\n", path,
		       d.cfg.n_services);
		config_free(&d.cfg);
		return EXIT_SUCCESS;
	}

	log_init("nfqlb", foreground, d.cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	/* a re-executed image is already detached: same PID, same parent */
	if (restart_handover_get(&h) == 0 && !foreground && daemonise(&d) < 0)
		return EXIT_FAILURE;
	d.loop = ev_default_loop(EVFLAG_AUTO);
	if (!d.loop) {
		log_err("cannot create the event loop");
		return EXIT_FAILURE;
	}
	rc = start(&d, &h);
	if (rc == 0) {
		signal_ready(&d);
		ev_run(d.loop, 0);
	}
	stop(&d);
	log_info("stopped");
	config_free(&d.cfg);
	log_close();
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
