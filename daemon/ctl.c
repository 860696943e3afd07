/*
 * ctl.c - the control socket, after relayd's control.c: a UNIX stream
 * socket on the event loop, peers checked with SO_PEERCRED, one request
 * per connection dispatched by one switch. Replies are framed (see
 * ctl_proto.h) and written as the socket drains; a conns listing is
 * produced a few buckets at a time between writes, so a table of a
 * million flows never holds the loop (and the packets) for long.
 */
#include "ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "log.h"

#define CTL_MAX_CLIENTS	 16
#define CTL_IDLE_TIMEOUT 10.0	     /* seconds without progress */
#define CTL_STEP_BYTES	 (32 * 1024) /* conns text per step */
#define CTL_STEP_BUCKETS 16384	     /* hash buckets per step */

struct ctl_client {
	struct ctl *ctl;
	struct ctl_client *next, *prev;
	int fd;
	ev_io io;
	ev_timer timer;
	uint8_t in[CTL_HDR_LEN + CTL_MAX_BODY];
	size_t in_len;
	struct obuf out;  /* framed bytes on their way to the peer */
	struct obuf text; /* reply text before framing */
	unsigned int flags;
	bool streaming; /* a conns listing is under way */
	struct fmt_conns cur;
	bool ended;   /* the END frame is queued: close when sent */
	bool waiting; /* a hook works on the reply (ctl_reply) */
};

static void client_free(struct ctl_client *cl)
{
	struct ctl *c = cl->ctl;

	if (cl->waiting && c->hooks.cancel)
		c->hooks.cancel(c->hooks.arg, cl);
	ev_io_stop(c->loop, &cl->io);
	ev_timer_stop(c->loop, &cl->timer);
	close(cl->fd);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->n_clients--;
	obuf_free(&cl->out);
	obuf_free(&cl->text);
	free(cl);
}

/* Frames text as DATA frames of at most CTL_MAX_FRAME bytes each. */
static void put_data(struct ctl_client *cl, const char *text, size_t len)
{
	uint8_t hdr[CTL_HDR_LEN];

	while (len) {
		size_t n = len < CTL_MAX_FRAME ? len : CTL_MAX_FRAME;

		ctl_frame_encode(hdr, CTL_FRAME_DATA, CTL_OK, (uint32_t)n);
		obuf_add(&cl->out, hdr, sizeof(hdr));
		obuf_add(&cl->out, text, n);
		text += n;
		len -= n;
	}
}

static void put_end(struct ctl_client *cl, enum ctl_status st, const char *msg)
{
	uint8_t hdr[CTL_HDR_LEN];
	size_t n = msg ? strlen(msg) : 0;

	ctl_frame_encode(hdr, CTL_FRAME_END, (uint16_t)st, (uint32_t)n);
	obuf_add(&cl->out, hdr, sizeof(hdr));
	obuf_add(&cl->out, msg, n);
	cl->ended = true;
	cl->streaming = false;
}

/* Sends the text produced so far; an allocation failure ends the reply
 * with an error rather than with a silently truncated listing. */
static void flush_text(struct ctl_client *cl)
{
	if (cl->text.oom || cl->out.oom) {
		obuf_reset(&cl->out);
		put_end(cl, CTL_E_FAILED, "out of memory in the daemon");
		return;
	}
	put_data(cl, cl->text.data, cl->text.len);
	obuf_reset(&cl->text);
}

/* Ends a successful reply after the text produced. */
static void finish(struct ctl_client *cl)
{
	flush_text(cl);
	if (!cl->ended)
		put_end(cl, CTL_OK, NULL);
}

static void errorf(struct ctl_client *cl, enum ctl_status st, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

static void errorf(struct ctl_client *cl, enum ctl_status st, const char *fmt,
		   ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	obuf_reset(&cl->text);
	put_end(cl, st, msg);
}

/* ------------------------------------------------------------ commands */

static void view(struct ctl *c, struct ctl_view *v)
{
	memset(v, 0, sizeof(*v));
	c->hooks.view(c->hooks.arg, v);
}

static void zero_all(struct ctl *c)
{
	service_set_zero(c->svcs);
	core_counters_zero(c->core);
}

/* The named service, or NULL with the error reply queued. */
static struct service *find_service(struct ctl_client *cl, const char *name)
{
	struct service *svc = service_by_name(cl->ctl->svcs, name);

	if (!svc)
		errorf(cl, CTL_E_NOTFOUND, "unknown service '%s'", name);
	return svc;
}

/* "198.51.100.11" or "198.51.100.11:8080" */
static int parse_server_addr(const char *text, uint32_t *addr, uint16_t *port,
			     bool *any_port)
{
	char a[INET_ADDRSTRLEN];
	const char *colon = strchr(text, ':');
	size_t n = colon ? (size_t)(colon - text) : strlen(text);
	struct in_addr ia;

	if (n >= sizeof(a))
		return -1;
	memcpy(a, text, n);
	a[n] = '\0';
	if (inet_pton(AF_INET, a, &ia) != 1)
		return -1;
	*addr = ia.s_addr;
	*any_port = !colon;
	*port = 0;
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);

		if (!colon[1] || *end || p < 1 || p > 65535)
			return -1;
		*port = htons((uint16_t)p);
	}
	return 0;
}

static int parse_action(const struct ctl_request *req, enum server_action *act,
			uint32_t *weight)
{
	const char *a = req->argv[2];
	if (strcmp(a, "weight") == 0 && req->argc == 4) {
		char *end;
		unsigned long w = strtoul(req->argv[3], &end, 10);
		if (!req->argv[3][0] || *end || w > 65535 ||
		    req->argv[3][0] == '-')
			return -1;
		*act = SERVER_SET_WEIGHT;
		*weight = (uint32_t)w;
		return 0;
	}
	if (req->argc != 3)
		return -1;
	if (strcmp(a, "drain") == 0)
		*act = SERVER_DRAIN_IT;
	else if (strcmp(a, "enable") == 0)
		*act = SERVER_ENABLE;
	else if (strcmp(a, "disable") == 0)
		*act = SERVER_DISABLE;
	else
		return -1;
	return 0;
}

static void cmd_server(struct ctl_client *cl, const struct ctl_request *req)
{
	struct service *svc;
	struct server *srv;
	enum server_action act;
	uint32_t addr, weight = 0;
	uint16_t port;
	bool any_port, ambiguous;

	if (req->argc < 3) {
		errorf(cl, CTL_E_COMMAND,
		       "server: SERVICE ADDRESS[:PORT] weight N | drain | "
		       "enable | disable");
		return;
	}
	svc = find_service(cl, req->argv[0]);
	if (!svc)
		return;
	if (parse_server_addr(req->argv[1], &addr, &port, &any_port) < 0) {
		errorf(cl, CTL_E_COMMAND,
		       "bad server address '%s' (ADDRESS[:PORT], IPv4)",
		       req->argv[1]);
		return;
	}
	if (parse_action(req, &act, &weight) < 0) {
		errorf(cl, CTL_E_COMMAND,
		       "bad server action (weight N with N in 0..65535, "
		       "drain, enable or disable)");
		return;
	}
	srv = service_server_find(svc, addr, port, any_port, &ambiguous);
	if (!srv) {
		errorf(cl, ambiguous ? CTL_E_COMMAND : CTL_E_NOTFOUND,
		       ambiguous ? "%s: several servers at %s; give "
				   "ADDRESS:PORT"
				 : "%s: no server %s",
		       svc->name, req->argv[1]);
		return;
	}
	if (server_act(srv, act, weight) < 0) {
		errorf(cl, CTL_E_FAILED,
		       "%s: scheduler out of memory; no new connections until "
		       "the next reload",
		       svc->name);
		return;
	}
	fmt_server(&cl->text, srv, cl->flags);
	finish(cl);
}

static void cmd_zero(struct ctl_client *cl, const struct ctl_request *req)
{
	struct service *svc;

	if (req->argc == 0) {
		zero_all(cl->ctl);
		log_info("control: counters zeroed");
		put_end(cl, CTL_OK, NULL);
		return;
	}
	svc = find_service(cl, req->argv[0]);
	if (!svc)
		return;
	service_zero(svc);
	log_info("control: counters of %s zeroed", svc->name);
	put_end(cl, CTL_OK, NULL);
}

/* Commands the daemon carries out through a hook. */
static void client_write(struct ctl_client *cl);

/* A command the daemon carries out through a hook: a synchronous hook
 * answers at once; an asynchronous one (given the client as its token)
 * answers later through ctl_reply(). */
static void cmd_hook(struct ctl_client *cl, int (*hook)(void *, char *, size_t),
		     int (*async)(void *, void *, char *, size_t),
		     const char *what)
{
	void *arg = cl->ctl->hooks.arg;
	char err[256] = "";
	int rc;

	if (!hook && !async) {
		errorf(cl, CTL_E_UNSUPPORTED, "%s is not supported yet", what);
		return;
	}
	log_info("control: %s requested", what);
	rc = hook ? hook(arg, err, sizeof(err))
		  : async(arg, cl, err, sizeof(err));
	if (rc < 0) {
		errorf(cl, CTL_E_FAILED, "%s", err[0] ? err : "failed");
		return;
	}
	if (hook)
		put_end(cl, CTL_OK, NULL);
	else
		cl->waiting = true;
}

void ctl_reply(void *token, int rc, const char *text)
{
	struct ctl_client *cl = token;

	cl->waiting = false;
	if (rc < 0) {
		errorf(cl, CTL_E_FAILED, "%s", text ? text : "failed");
	} else {
		if (text)
			put_data(cl, text, strlen(text));
		put_end(cl, CTL_OK, NULL);
	}
	client_write(cl);
}

bool ctl_reply_json(const void *token)
{
	const struct ctl_client *cl = token;

	return cl->flags & CTL_F_JSON;
}

/* One step of a conns listing; ends the reply after the last bucket. */
static void conns_step(struct ctl_client *cl)
{
	struct ctl_view v;

	view(cl->ctl, &v);
	fmt_conns_step(&cl->text, &v, cl->flags, &cl->cur, CTL_STEP_BYTES,
		       CTL_STEP_BUCKETS);
	flush_text(cl);
	if (!cl->ended && cl->cur.done)
		put_end(cl, CTL_OK, NULL);
}

static bool no_args(struct ctl_client *cl, const struct ctl_request *req)
{
	if (req->argc == 0)
		return true;
	errorf(cl, CTL_E_COMMAND, "%s takes no arguments",
	       ctl_cmd_name(req->cmd));
	return false;
}

static void dispatch(struct ctl_client *cl, const struct ctl_request *req)
{
	struct ctl *c = cl->ctl;
	struct ctl_view v;

	cl->flags = req->flags;
	switch (req->cmd) {
	case CTL_CMD_LIST:
		if (!no_args(cl, req))
			return;
		view(c, &v);
		fmt_list(&cl->text, &v, cl->flags);
		if (cl->flags & CTL_F_ZERO) {
			/* same loop turn: nothing counted between the two */
			zero_all(c);
			log_info("control: counters listed and zeroed");
		}
		finish(cl);
		return;
	case CTL_CMD_CONNS:
		if (!no_args(cl, req))
			return;
		memset(&cl->cur, 0, sizeof(cl->cur));
		cl->streaming = true;
		conns_step(cl);
		return;
	case CTL_CMD_SERVER:
		cmd_server(cl, req);
		return;
	case CTL_CMD_METRICS:
		if (!no_args(cl, req))
			return;
		view(c, &v);
		fmt_metrics(&cl->text, &v);
		finish(cl);
		return;
	case CTL_CMD_ZERO:
		if (req->argc > 1) {
			errorf(cl, CTL_E_COMMAND, "zero: [SERVICE]");
			return;
		}
		cmd_zero(cl, req);
		return;
	case CTL_CMD_RELOAD:
		if (no_args(cl, req))
			cmd_hook(cl, c->hooks.reload, NULL, "reload");
		return;
	case CTL_CMD_CHECKPOINT:
		if (no_args(cl, req))
			cmd_hook(cl, NULL, c->hooks.checkpoint, "checkpoint");
		return;
	case CTL_CMD_RESTART:
		if (no_args(cl, req))
			cmd_hook(cl, c->hooks.restart, NULL, "hitless restart");
		return;
	default:
		errorf(cl, CTL_E_COMMAND, "unknown command %u", req->cmd);
		return;
	}
}

/* ------------------------------------------------------------- clients */

static void client_want(struct ctl_client *cl, int events)
{
	if ((cl->io.events & (EV_READ | EV_WRITE)) == events)
		return;
	ev_io_stop(cl->ctl->loop, &cl->io);
	ev_io_set(&cl->io, cl->fd, events);
	ev_io_start(cl->ctl->loop, &cl->io);
}

/*
 * Writes what is queued; refills a listing; closes after the END. At most
 * one listing step per wakeup, even when a step found only empty buckets:
 * the socket stays armed for writing, so the loop comes back at once,
 * after the packets waiting meanwhile had their turn.
 */
static void client_write(struct ctl_client *cl)
{
	bool stepped = false;

	for (;;) {
		int rc = obuf_send(&cl->out, cl->fd);

		if (rc < 0) {
			log_debug("control: client went away: %m");
			client_free(cl);
			return;
		}
		if (rc == 0 || (cl->streaming && stepped)) {
			client_want(cl, EV_WRITE);
			return;
		}
		if (cl->ended) {
			client_free(cl);
			return;
		}
		if (!cl->streaming) {
			client_want(cl, EV_READ);
			return;
		}
		conns_step(cl);
		stepped = true;
	}
}

static void client_read(struct ctl_client *cl)
{
	struct ctl_request req;
	size_t used;
	ssize_t n = recv(cl->fd, cl->in + cl->in_len,
			 sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	cl->in_len += (size_t)n;
	switch (ctl_request_parse(&req, cl->in, cl->in_len, &used)) {
	case CTL_PARSE_MORE:
		return;
	case CTL_PARSE_BAD:
		errorf(cl, CTL_E_PROTO, "malformed request");
		break;
	case CTL_PARSE_VERSION:
		errorf(cl, CTL_E_VERSION,
		       "control protocol version %u is not supported (the "
		       "daemon speaks %u)",
		       req.version, CTL_VERSION);
		break;
	case CTL_PARSE_DONE:
		dispatch(cl, &req);
		break;
	}
	client_write(cl);
}

static void on_client(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *cl = w->data;

	ev_timer_again(loop, &cl->timer);
	if (revents & EV_WRITE)
		client_write(cl);
	else if (revents & EV_READ)
		client_read(cl);
}

static void on_client_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl_client *cl = w->data;

	log_warn("control: client idle for %.0f s, dropped", CTL_IDLE_TIMEOUT);
	client_free(cl);
}

/*
 * Whether the peer holds gid among its supplementary groups, as the
 * kernel recorded them at connect() (SO_PEERGROUPS, Linux 4.13): the
 * process's real groups, not what /etc/group says about its user.
 */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;
	int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);

	/* more groups than fit: len now says how many bytes they need */
	if (rc < 0 && errno == ERANGE && (groups = malloc(len)) != NULL)
		rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	if (!groups || rc < 0) {
		log_warn("control: SO_PEERGROUPS: %m");
	} else {
		for (size_t i = 0; i < len / sizeof(groups[0]); i++)
			found = found || groups[i] == gid;
	}
	if (groups != small)
		free(groups);
	return found;
}

/* root, our own user, or a member of the control group */
static bool peer_allowed(const struct ctl *c, int fd, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) < 0) {
		log_warn("control: SO_PEERCRED: %m");
		return false;
	}
	if (cr->uid == 0 || cr->uid == geteuid())
		return true;
	return c->has_group && (cr->gid == c->gid || peer_in_group(fd, c->gid));
}

static void client_new(struct ctl *c, int fd)
{
	struct ctl_client *cl = calloc(1, sizeof(*cl));
	struct ucred cr;

	if (!cl) {
		log_err("control: out of memory for a client");
		close(fd);
		return;
	}
	cl->ctl = c;
	cl->fd = fd;
	obuf_init(&cl->out);
	obuf_init(&cl->text);
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->n_clients++;
	ev_io_init(&cl->io, on_client, fd, EV_READ);
	cl->io.data = cl;
	ev_init(&cl->timer, on_client_timeout);
	cl->timer.repeat = CTL_IDLE_TIMEOUT;
	cl->timer.data = cl;
	ev_timer_again(c->loop, &cl->timer);
	if (!peer_allowed(c, fd, &cr)) {
		log_warn("control: pid %d uid %u gid %u refused (root or the "
			 "control group only)",
			 (int)cr.pid, (unsigned)cr.uid, (unsigned)cr.gid);
		put_end(cl, CTL_E_DENIED, "permission denied");
	} else if (c->n_clients > CTL_MAX_CLIENTS) {
		put_end(cl, CTL_E_BUSY,
			"too many control clients; try again later");
	}
	ev_io_start(c->loop, &cl->io);
	if (cl->ended)
		client_write(cl);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl *c = w->data;

	/* a few per wakeup, so a flood cannot starve the packets */
	for (int i = 0; i < 8; i++) {
		int fd =
		    accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("control: accept: %m");
			return;
		}
		client_new(c, fd);
	}
}

/* ------------------------------------------------------------- socket */

/* A socket file left by a daemon that died is removed; a live one is
 * another daemon's, and we must not steal it. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control socket %s: exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("control socket %s: socket: %m", path);
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		log_err("control socket %s: another nfqlb is running on it",
			path);
		return -1;
	}
	if (unlink(path) < 0) {
		log_err("control socket %s: removing the stale one: %m", path);
		return -1;
	}
	return 0;
}

/* The directory (e.g. /run/nfqlb) when systemd did not make it. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_err("control socket %s: mkdir %s: %m", path, dir);
		return -1;
	}
	return 0;
}

static int resolve_group(struct ctl *c, const char *group)
{
	struct group gr, *res = NULL;
	char buf[4096];

	c->has_group = false;
	if (!group)
		return 0;
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) != 0 || !res) {
		log_err("control socket: group '%s' not found", group);
		return -1;
	}
	c->has_group = true;
	c->gid = gr.gr_gid;
	return 0;
}

static int bind_socket(struct ctl *c, const struct sockaddr_un *sa)
{
	struct stat st;
	mode_t old;
	int rc;

	/* created 0600 from the start: no window with wider rights */
	old = umask(0177);
	rc = bind(c->fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (rc < 0) {
		log_err("control socket %s: bind: %m", c->path);
		return -1;
	}
	if (c->has_group && (chown(c->path, (uid_t)-1, c->gid) < 0 ||
			     chmod(c->path, 0660) < 0)) {
		log_err("control socket %s: giving it to the group: %m",
			c->path);
		return -1;
	}
	if (stat(c->path, &st) < 0) {
		log_err("control socket %s: stat: %m", c->path);
		return -1;
	}
	c->ino = st.st_ino;
	return 0;
}

int ctl_open(struct ctl *c, struct ev_loop *loop, const char *path,
	     const char *group, struct service_set *svcs, struct core *core,
	     const struct ctl_hooks *hooks)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->loop = loop;
	c->svcs = svcs;
	c->core = core;
	c->hooks = *hooks;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket %s: path longer than %zu bytes", path,
			sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->path = strdup(path);
	if (!c->path) {
		log_err("control socket %s: out of memory", path);
		return -1;
	}
	if (resolve_group(c, group) < 0 || make_parent(path) < 0 ||
	    clear_stale(path, &sa) < 0)
		goto fail;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		log_err("control socket %s: socket: %m", path);
		goto fail;
	}
	if (bind_socket(c, &sa) < 0)
		goto fail;
	if (listen(c->fd, CTL_MAX_CLIENTS) < 0) {
		log_err("control socket %s: listen: %m", path);
		goto fail;
	}
	ev_io_init(&c->io, on_accept, c->fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	log_info("control socket %s ready", path);
	return 0;
fail:
	ctl_close(c);
	return -1;
}

void ctl_close(struct ctl *c)
{
	struct stat st;

	if (!c->loop)
		return; /* never opened */
	while (c->clients)
		client_free(c->clients);
	if (c->fd >= 0) {
		ev_io_stop(c->loop, &c->io);
		close(c->fd);
		/* a successor may have replaced it already: not ours then */
		if (c->ino && stat(c->path, &st) == 0 && st.st_ino == c->ino)
			unlink(c->path);
	}
	free(c->path);
	c->path = NULL;
	c->fd = -1;
}
