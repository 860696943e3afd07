/*
 * restart.c - re-execution with a handover (see restart.h).
 *
 * The handover travels in one environment variable of comma-separated
 * key=value pairs, e.g.
 *   NFQLB_HANDOVER=queue_fd=5,queue=0,table_fd=7,fw=1,chain=NFQLB,
 *                  mark=0x10000000,tables=0x7
 * Every key is required; the next image refuses anything else (and then
 * starts as from scratch: it binds the queue anew, restores from the
 * checkpoint file). The binary is the path the daemon was started from,
 * read from /proc/self/exe at start: after a package upgrade replaced the
 * file, that path holds the new binary.
 */
#include "restart.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char exe_path[PATH_MAX];
static char **exe_argv;

static const int daemon_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR2};

int restart_init(char **argv)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);

	exe_argv = argv;
	if (n < 0) {
		exe_path[0] = '\0';
		return -1;
	}
	exe_path[n] = '\0';
	return 0;
}

static void daemon_sigset(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(daemon_signals) / sizeof(int); i++)
		sigaddset(set, daemon_signals[i]);
}

void restart_unblock_signals(void)
{
	sigset_t set;

	daemon_sigset(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void restart_request(void)
{
	kill(getpid(), SIGUSR2);
}

/* One "key=value" of the variable, the value up to the next comma. */
static int parse_pair(struct handover *h, const char *key, const char *val)
{
	char *end;
	unsigned long v;

	if (strcmp(key, "chain") == 0) {
		size_t n = strlen(val);

		if (n == 0 || n >= sizeof(h->fw_chain))
			return -1;
		memcpy(h->fw_chain, val, n + 1);
		return 0;
	}
	errno = 0;
	v = strtoul(val, &end, 0);
	if (errno || *end || end == val)
		return -1;
	if (strcmp(key, "queue_fd") == 0 && v <= INT_MAX)
		h->queue_fd = (int)v;
	else if (strcmp(key, "queue") == 0 && v <= UINT16_MAX)
		h->queue_num = (uint16_t)v;
	else if (strcmp(key, "table_fd") == 0 && v <= INT_MAX)
		h->table_fd = (int)v;
	else if (strcmp(key, "fw") == 0 && v <= 1)
		h->fw_active = v;
	else if (strcmp(key, "mark") == 0 && v <= UINT32_MAX)
		h->fw_mark = (uint32_t)v;
	else if (strcmp(key, "tables") == 0 && v < 256)
		h->fw_tables_existed = (unsigned int)v;
	else
		return -1;
	return 0;
}

int restart_handover_get(struct handover *h)
{
	const char *env = getenv(RESTART_ENV);
	char *copy, *save = NULL;
	unsigned int keys = 0;
	int rc = 1;

	memset(h, 0, sizeof(*h));
	h->queue_fd = h->table_fd = -1;
	if (!env)
		return 0;
	copy = strdup(env);
	unsetenv(RESTART_ENV);
	if (!copy) {
		log_err("%s: out of memory", RESTART_ENV);
		return -1;
	}
	for (char *kv = strtok_r(copy, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq || (*eq = '\0', parse_pair(h, kv, eq + 1) < 0)) {
			rc = -1;
			break;
		}
		keys++;
	}
	free(copy);
	if (rc == 1 && keys != 7)
		rc = -1;
	if (rc < 0) {
		/* not ours to use; the fds (if any) stay unused */
		log_err("%s is malformed; starting without a handover",
			RESTART_ENV);
		memset(h, 0, sizeof(*h));
		h->queue_fd = h->table_fd = -1;
	}
	return rc;
}

static int set_cloexec(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -1;
	flags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, flags);
}

int restart_exec(const struct handover *h)
{
	char env[256];
	sigset_t set, old;
	int n;

	if (!exe_path[0] || !exe_argv) {
		log_err("restart: the daemon's own binary is unknown");
		return -1;
	}
	n = snprintf(env, sizeof(env),
		     "queue_fd=%d,queue=%u,table_fd=%d,fw=%d,chain=%s,"
		     "mark=0x%" PRIx32 ",tables=0x%x",
		     h->queue_fd, h->queue_num, h->table_fd,
		     h->fw_active ? 1 : 0, h->fw_chain[0] ? h->fw_chain : "-",
		     h->fw_mark, h->fw_tables_existed);
	if (n < 0 || (size_t)n >= sizeof(env) ||
	    setenv(RESTART_ENV, env, 1) < 0) {
		log_err("restart: cannot set %s", RESTART_ENV);
		return -1;
	}
	if ((h->queue_fd >= 0 && set_cloexec(h->queue_fd, false) < 0) ||
	    (h->table_fd >= 0 && set_cloexec(h->table_fd, false) < 0)) {
		log_err("restart: making the handed-over fds inheritable: %m");
		goto undo;
	}
	daemon_sigset(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	log_info("restart: executing %s", exe_path);
	execv(exe_path, exe_argv);
	log_err("restart: cannot execute %s: %m; this image keeps running",
		exe_path);
	sigprocmask(SIG_SETMASK, &old, NULL);
undo:
	unsetenv(RESTART_ENV);
	if (h->queue_fd >= 0)
		set_cloexec(h->queue_fd, true);
	if (h->table_fd >= 0)
		set_cloexec(h->table_fd, true);
	return -1;
}
