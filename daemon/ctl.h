/* ctl.h - the control socket: nfqlbctl's requests on the event loop */
#ifndef NFQLB_CTL_H
#define NFQLB_CTL_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core.h"
#include "ctl_fmt.h"
#include "service.h"

/* What the daemon does for the commands the socket cannot do alone.
 * A NULL hook answers "... is not supported yet". */
struct ctl_hooks {
	/* Fills v with the current state (pointers stay valid). */
	void (*view)(void *arg, struct ctl_view *v);
	/* Return 0, or -1 with a one-line reason in err. */
	int (*reload)(void *arg, char *err, size_t size);
	int (*restart)(void *arg, char *err, size_t size);
	/*
	 * Started now, answered later: returns 0 once the work is under way,
	 * then the daemon calls ctl_reply(token, ...) exactly once from the
	 * loop, unless cancel(arg, token) came first (the client went away);
	 * or -1 with a reason in err and nothing started.
	 */
	int (*checkpoint)(void *arg, void *token, char *err, size_t size);
	void (*cancel)(void *arg, void *token);
	void *arg;
};

struct ctl_client;

struct ctl {
	struct ev_loop *loop;
	int fd;
	ev_io io;
	char *path;
	ino_t ino; /* of our socket file: unlink only that one */
	bool has_group;
	gid_t gid;
	struct service_set *svcs; /* changed by server and zero */
	struct core *core;	  /* its counters zeroed by zero */
	struct ctl_hooks hooks;
	struct ctl_client *clients;
	unsigned int n_clients;
};

/*
 * Creates the socket at path (0600, or 0660 with group), replacing a
 * stale one but never a live daemon's, and serves it on loop. Returns 0,
 * or -1 with a logged reason.
 */
int ctl_open(struct ctl *c, struct ev_loop *loop, const char *path,
	     const char *group, struct service_set *svcs, struct core *core,
	     const struct ctl_hooks *hooks);
/*
 * Answers the request behind token (see ctl_hooks.checkpoint): rc 0 sends
 * text (may be NULL) as the reply, -1 sends it as the error line.
 * ctl_reply_json() says which form text should take.
 */
void ctl_reply(void *token, int rc, const char *text);
bool ctl_reply_json(const void *token);
/* Drops every client, closes and removes the socket. */
void ctl_close(struct ctl *c);

#endif
