/*
 * check_exec.c - the exec check, as keepalived's MISC_CHECK and relayd's
 * check_script.c: "/bin/sh -c 'COMMAND "$@"' nfqlb-check ADDRESS PORT",
 * up when it exits 0. The command runs in its own process group, with
 * stdin, stdout and stderr on /dev/null and no other descriptor of the
 * daemon; the loop's ev_child reaps it, and a timeout kills the whole
 * group (a script's own children too).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* In the child: only async-signal-safe calls until execv. */
static void __attribute__((noreturn)) exec_child(char *const argv[])
{
	sigset_t none;
	int nul;

	setpgid(0, 0);
	/* the daemon ignores SIGPIPE; exec keeps ignored signals */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, STDIN_FILENO);
		dup2(nul, STDOUT_FILENO);
		dup2(nul, STDERR_FILENO);
	}
	/* not the queue's netlink socket nor anything else of ours */
	close_range(3, ~0U, 0);
	execv(argv[0], argv);
	_exit(127);
}

static void exec_start(struct health_check *hc)
{
	char script[HEALTH_COMMAND_MAX + 8], addr[INET_ADDRSTRLEN], port[8];
	char *argv[] = {"/bin/sh", "-c", script, "nfqlb-check",
			addr,	   port, NULL};
	pid_t pid;

	snprintf(script, sizeof(script), "%s \"$@\"", hc->conf.command);
	inet_ntop(AF_INET, &hc->srv->addr, addr, sizeof(addr));
	snprintf(port, sizeof(port), "%u", ntohs(hc->srv->port));
	pid = fork();
	if (pid < 0) {
		health_done(hc, HC_INTERNAL, "exec: fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		exec_child(argv);
	/* also here, so a timeout can kill the group even before the
	 * child ran its own setpgid */
	if (setpgid(pid, pid) < 0 && errno != EACCES)
		log_debug("health check command %d: setpgid: %m", (int)pid);
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
