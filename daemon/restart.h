/*
 * restart.h - hitless restart and upgrade (SIGUSR2, nfqlbctl restart):
 * the daemon re-executes its binary with the same PID and hands the next
 * image what must not stop existing in between: the bound NFQUEUE socket
 * (packets wait in it), the connection table (a checkpoint in a memfd),
 * and the iptables chain (left in place, adopted by the next image, which
 * gets the exact rule list in a second memfd).
 *
 * For the control socket (issue 6): restart_request() asks for the same
 * as SIGUSR2; the re-execution happens from the event loop right after.
 */
#ifndef NFQLB_RESTART_H
#define NFQLB_RESTART_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Environment variable that carries a handover across execve(). */
#define RESTART_ENV "NFQLB_HANDOVER"

/* What one image hands to the next. */
struct handover {
	/* bound NFQUEUE netlink sockets, of queues queue_num, queue_num+1,
	 * ...; n_queues 0: none */
	int queue_fds[CONFIG_QUEUES_MAX];
	unsigned int n_queues;
	uint16_t queue_num; /* the first queue */
	int table_fd;	    /* memfd with a checkpoint of the table; -1 */
	bool fw_active;	    /* our chain is installed: adopt it */
	int fw_fd;	    /* memfd with its rules (fw_handover_write); -1 */
	char fw_chain[CONFIG_CHAIN_MAX];
	uint32_t fw_mark;
	unsigned int fw_tables_existed; /* fw_tables_existed() bits */
};

/* Remembers the binary and arguments to re-execute; call first in main. */
int restart_init(char **argv);

/*
 * Reads and removes RESTART_ENV. Returns 1 with h filled when this image
 * was started by a restart, 0 when not, -1 (logged) when the variable is
 * malformed (then nothing is adopted; h's fds are -1).
 */
int restart_handover_get(struct handover *h);

/* The value of RESTART_ENV that describes h; -1 if buf is too small. */
int restart_handover_env(const struct handover *h, char *buf, size_t size);

/*
 * Re-executes the binary with h in the environment: the fds of h are
 * made inheritable and the daemon's signals blocked (the next image
 * unblocks them once its handlers are in place, so a signal in the gap
 * waits instead of killing). Returns only on failure (-1, logged, fds
 * made close-on-exec again, signals unblocked).
 */
int restart_exec(const struct handover *h);

/* Unblocks what restart_exec() blocked; the next image calls it once its
 * signal watchers run. */
void restart_unblock_signals(void);

/* Asks the daemon to restart as on SIGUSR2 (from the control socket). */
void restart_request(void);

#endif
