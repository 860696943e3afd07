/* notify.h - systemd's readiness protocol: a datagram to $NOTIFY_SOCKET */
#ifndef NFQLB_NOTIFY_H
#define NFQLB_NOTIFY_H

#include <stdint.h>

/* Connects to $NOTIFY_SOCKET now, while the process may still open it
 * (before privdrop); 0 when connected or when not under systemd. */
int notify_open(void);
/* Sends state ("READY=1", ...); 0 when sent or when not under systemd. */
int notify_send(const char *state);
/* The watchdog period asked for by $WATCHDOG_USEC, or 0. */
uint64_t notify_watchdog_usec(void);

#endif
