/* notify.c - systemd's readiness protocol, implemented directly: one
 * datagram per state change to the AF_UNIX socket in $NOTIFY_SOCKET
 * (a leading '@' names an abstract socket).
 *
 * The socket is connected once and kept: sending on a connected datagram
 * socket needs no permission on the socket file any more, so READY=1 and
 * the rest still get through after the daemon left root (daemon.user). */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static int notify_fd = -1;

/* Connects notify_fd to $NOTIFY_SOCKET: 1 when connected, 0 when there is
 * no $NOTIFY_SOCKET, -1 on error (logged). */
static int notify_connect(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;

	if (notify_fd >= 0)
		return 1;
	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		log_warn("NOTIFY_SOCKET '%s' is not a usable socket path",
			 path);
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0) {
		log_warn("notify: socket: %m");
		return -1;
	}
	if (connect(notify_fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) <
	    0) {
		log_warn("notify: connecting to %s: %m", path);
		close(notify_fd);
		notify_fd = -1;
		return -1;
	}
	return 1;
}

int notify_open(void)
{
	return notify_connect() < 0 ? -1 : 0;
}

int notify_send(const char *state)
{
	int rc = notify_connect();

	if (rc <= 0)
		return rc;
	if (send(notify_fd, state, strlen(state), MSG_NOSIGNAL) >= 0)
		return 0;
	/* The manager may have made a new socket (re-executed): once more. */
	if (errno == ECONNREFUSED || errno == ENOTCONN) {
		close(notify_fd);
		notify_fd = -1;
		if (notify_connect() > 0 &&
		    send(notify_fd, state, strlen(state), MSG_NOSIGNAL) >= 0)
			return 0;
	}
	log_warn("notify: sending '%s' to %s: %m", state,
		 getenv("NOTIFY_SOCKET"));
	return -1;
}

uint64_t notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");

	if (!usec)
		return 0;
	if (pid && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	return strtoull(usec, NULL, 10);
}
