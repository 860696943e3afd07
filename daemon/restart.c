/*
 * restart.c - re-execution with a handover (see restart.h).
 *
 * The handover travels in one environment variable of comma-separated
 * key=value pairs, e.g.
 *   NFQLB_HANDOVER=queue_fd=5,queue=0,table_fd=7,fw=1,fw_fd=8,chain=NFQLB,
 *                  mark=0x10000000,tables=0x7
 * With several queues, queue_fd lists one fd per queue, colon-separated
 * (queue_fd=5:6 for queues 0 and 1); one queue writes exactly what images
 * before several queues wrote and read.
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

/* The keys of the variable, every one required, each once. */
enum handover_key {
	K_QUEUE_FD,
	K_QUEUE,
	K_TABLE_FD,
	K_FW,
	K_FW_FD,
	K_CHAIN,
	K_MARK,
	K_TABLES,
	K_LAST
};

static const char *const key_names[K_LAST] = {
    [K_QUEUE_FD] = "queue_fd", [K_QUEUE] = "queue",
    [K_TABLE_FD] = "table_fd", [K_FW] = "fw",
    [K_FW_FD] = "fw_fd",       [K_CHAIN] = "chain",
    [K_MARK] = "mark",	       [K_TABLES] = "tables",
};

/* Largest value of each numeric key; fds may also be -1 (none). */
static const long long key_max[K_LAST] = {
    [K_QUEUE_FD] = INT_MAX, [K_QUEUE] = UINT16_MAX,
    [K_TABLE_FD] = INT_MAX, [K_FW] = 1,
    [K_FW_FD] = INT_MAX,    [K_MARK] = UINT32_MAX,
    [K_TABLES] = 255,
};

/* "5", "5:6:7" (one fd per queue) or "-1" (none) into h. */
static int parse_queue_fds(struct handover *h, const char *val)
{
	const char *p = val;

	if (strcmp(val, "-1") == 0)
		return 0;
	for (;;) {
		char *end;
		long long v;

		if (h->n_queues == CONFIG_QUEUES_MAX || *p < '0' || *p > '9')
			return -1;
		errno = 0;
		v = strtoll(p, &end, 10);
		if (errno || v > INT_MAX)
			return -1;
		h->queue_fds[h->n_queues++] = (int)v;
		if (*end == '\0')
			return 0;
		if (*end != ':')
			return -1;
		p = end + 1;
	}
}

/* One "key=value" into h; returns the key, or -1. */
static int parse_pair(struct handover *h, const char *key, const char *val)
{
	char *end;
	long long v;
	int k = 0;

	while (k < K_LAST && strcmp(key, key_names[k]) != 0)
		k++;
	if (k == K_LAST)
		return -1;
	if (k == K_QUEUE_FD)
		return parse_queue_fds(h, val) < 0 ? -1 : k;
	if (k == K_CHAIN) {
		size_t n = strlen(val);

		if (n == 0 || n >= sizeof(h->fw_chain))
			return -1;
		memcpy(h->fw_chain, val, n + 1);
		return k;
	}
	errno = 0;
	v = strtoll(val, &end, 0);
	if (errno || *end || end == val || v > key_max[k] ||
	    v < (k == K_QUEUE_FD || k == K_TABLE_FD || k == K_FW_FD ? -1 : 0))
		return -1;
	switch (k) {
	case K_QUEUE:
		h->queue_num = (uint16_t)v;
		break;
	case K_TABLE_FD:
		h->table_fd = (int)v;
		break;
	case K_FW:
		h->fw_active = v;
		break;
	case K_FW_FD:
		h->fw_fd = (int)v;
		break;
	case K_MARK:
		h->fw_mark = (uint32_t)v;
		break;
	default:
		h->fw_tables_existed = (unsigned int)v;
		break;
	}
	return k;
}

int restart_handover_get(struct handover *h)
{
	const char *env = getenv(RESTART_ENV);
	char *copy, *save = NULL;
	unsigned int seen = 0;
	int rc = 1;

	memset(h, 0, sizeof(*h));
	h->table_fd = h->fw_fd = -1;
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
		int k;

		if (eq)
			*eq = '\0';
		k = eq ? parse_pair(h, kv, eq + 1) : -1;
		if (k < 0 || seen & (1u << k)) {
			rc = -1;
			break;
		}
		seen |= 1u << k;
	}
	free(copy);
	if (rc == 1 && seen != (1u << K_LAST) - 1)
		rc = -1;
	if (rc < 0) {
		/* not ours to use; the fds (if any) stay unused */
		log_err("%s is malformed; starting without a handover",
			RESTART_ENV);
		memset(h, 0, sizeof(*h));
		h->table_fd = h->fw_fd = -1;
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

/* "queue_fd=5:6" or "queue_fd=-1"; returns the length or -1. */
static int queue_fds_env(const struct handover *h, char *buf, size_t size)
{
	size_t len;
	int n = snprintf(buf, size, "queue_fd=%s", h->n_queues ? "" : "-1");

	for (unsigned int i = 0; n >= 0 && i < h->n_queues; i++) {
		len = (size_t)n;
		if (len >= size)
			return -1;
		n = snprintf(buf + len, size - len, "%s%d", i ? ":" : "",
			     h->queue_fds[i]);
		n = n < 0 ? -1 : n + (int)len;
	}
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int restart_handover_env(const struct handover *h, char *buf, size_t size)
{
	int q = queue_fds_env(h, buf, size), n;

	if (q < 0)
		return -1;
	n = snprintf(buf + q, size - (size_t)q,
		     ",queue=%u,table_fd=%d,fw=%d,fw_fd=%d,chain=%s,"
		     "mark=0x%" PRIx32 ",tables=0x%x",
		     h->queue_num, h->table_fd, h->fw_active ? 1 : 0, h->fw_fd,
		     h->fw_chain[0] ? h->fw_chain : "-", h->fw_mark,
		     h->fw_tables_existed);
	return n < 0 || (size_t)n >= size - (size_t)q ? -1 : 0;
}

/* Makes the handed-over fds inheritable (on false) or not again. */
static int handover_cloexec(const struct handover *h, bool on)
{
	int rc = 0;

	for (unsigned int i = 0; i < h->n_queues; i++)
		if (set_cloexec(h->queue_fds[i], on) < 0)
			rc = -1;
	if (h->table_fd >= 0 && set_cloexec(h->table_fd, on) < 0)
		rc = -1;
	if (h->fw_fd >= 0 && set_cloexec(h->fw_fd, on) < 0)
		rc = -1;
	return rc;
}

int restart_exec(const struct handover *h)
{
	char env[1024];
	sigset_t set, old;

	if (!exe_path[0] || !exe_argv) {
		log_err("restart: the daemon's own binary is unknown");
		return -1;
	}
	if (restart_handover_env(h, env, sizeof(env)) < 0 ||
	    setenv(RESTART_ENV, env, 1) < 0) {
		log_err("restart: cannot set %s", RESTART_ENV);
		return -1;
	}
	if (handover_cloexec(h, false) < 0) {
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
	handover_cloexec(h, true);
	return -1;
}
