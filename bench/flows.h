/* bench/flows.h - the synthetic table the table benchmarks share: one TCP
 * service 203.0.113.10:80 over 16 real servers 198.51.100.11..26:8080 and
 * N established flows from 10.0.0.0/8 clients, flow i with a fixed tuple. */
#ifndef NFQLB_BENCH_FLOWS_H
#define NFQLB_BENCH_FLOWS_H

#include <stdint.h>

#include "config.h"
#include "conn.h"
#include "service.h"

#define FLOWS_N_SERVERS 16

extern const struct timeouts_conf flows_timeouts;

/* The service, built from confs the caller keeps (set points into them). */
struct flows_service {
	struct service_set set;
	struct config cfg;
	struct service_conf sc;
	struct server_conf srv[FLOWS_N_SERVERS];
};

int flows_services(struct flows_service *fs);
/* Client address and port of flow i (network order). */
uint32_t flows_caddr(uint32_t i);
uint16_t flows_cport(uint32_t i);
/* n established flows, flow i bound to server i % FLOWS_N_SERVERS. */
int flows_fill(struct conn_table *t, const struct flows_service *fs,
	       uint32_t n);

#endif
