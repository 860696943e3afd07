/*
 * check_exec.c - the exec check, as keepalived's MISC_CHECK and relayd's
 * check_script.c: "/bin/sh -c 'COMMAND "$@"' nfqlb-check ADDRESS PORT",
 * up when it exits 0. The command runs in its own process group, with
 * stdin, stdout and stderr on /dev/null and no other descriptor of the
 * daemon; the loop's ev_child reaps it, and a timeout kills the whole
 * group (a script's own children too). The group exists from the spawn
 * on (POSIX_SPAWN_SETPGROUP), so the kill cannot miss it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "health.h"
#include "log.h"

static void exec_release(struct health_check *hc)
{
	if (hc->pid <= 0)
		return;
	/* still running: cut short (timeout, server removed, stop) */
	if (kill(-hc->pid, SIGKILL) < 0 && errno != ESRCH)
		log_warn("health check command %d: kill: %m", (int)hc->pid);
	ev_child_stop(hc->loop, &hc->child);
	hc->pid = 0;
}

static void exec_on_exit(struct ev_loop *loop, ev_child *w, int revents)
{
	struct health_check *hc = w->data;
	int st = w->rstatus;

	ev_child_stop(loop, w);
	hc->pid = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		health_done(hc, HC_PASS, "passed");
	else if (WIFEXITED(st))
		health_done(hc, HC_EXEC_FAIL, "exec: exit status %d",
			    WEXITSTATUS(st));
	else
		health_done(hc, HC_EXEC_FAIL, "exec: killed by signal %d",
			    WTERMSIG(st));
}

/*
 * posix_spawn, not fork: glibc spawns with CLONE_VM | CLONE_VFORK, so a
 * daemon holding a large connection table neither copies its page tables
 * nor takes copy-on-write faults on the packet path for every check.
 * The child gets its own process group, default signal dispositions (the
 * daemon ignores SIGPIPE) and mask, /dev/null as stdin, stdout and
 * stderr, and no other descriptor of ours (not the queue's socket).
 */
static int spawn(pid_t *pid, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawnattr_init(&at)) != 0)
		return rc;
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		posix_spawnattr_destroy(&at);
		return rc;
	}
	if ((rc = posix_spawnattr_setflags(
		 &at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
			  POSIX_SPAWN_SETSIGDEF)) == 0 &&
	    (rc = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&at, &all)) == 0 &&
	    (rc = posix_spawn_file_actions_addopen(
		 &fa, STDIN_FILENO, "/dev/null", O_RDWR, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, STDIN_FILENO,
						   STDOUT_FILENO)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, STDIN_FILENO,
						   STDERR_FILENO)) == 0 &&
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0)
		rc = posix_spawn(pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

static void exec_start(struct health_check *hc)
{
	char script[HEALTH_COMMAND_MAX + 8], addr[INET_ADDRSTRLEN], port[8];
	char *argv[] = {"/bin/sh", "-c", script, "nfqlb-check",
			addr,	   port, NULL};
	pid_t pid;
	int rc;

	snprintf(script, sizeof(script), "%s \"$@\"", hc->conf.command);
	inet_ntop(AF_INET, &hc->srv->addr, addr, sizeof(addr));
	snprintf(port, sizeof(port), "%u", ntohs(hc->srv->port));
	rc = spawn(&pid, argv);
	if (rc != 0) {
		health_done(hc, HC_INTERNAL, "exec: cannot run /bin/sh: %s",
			    strerror(rc));
		return;
	}
	hc->pid = pid;
	ev_child_init(&hc->child, exec_on_exit, pid, 0);
	hc->child.data = hc;
	ev_child_start(hc->loop, &hc->child);
}

const struct check_ops check_exec = {
    .name = "exec",
    .start = exec_start,
    .release = exec_release,
};
