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
	int (*checkpoint)(void *arg, char *err, size_t size);
	int (*restart)(void *arg, char *err, size_t size);
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
/* Drops every client, closes and removes the socket. */
void ctl_close(struct ctl *c);

#endif
