/* bench/flows.c - see flows.h */
#include "flows.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

const struct timeouts_conf flows_timeouts = {900, 120, 60, 300};

int flows_services(struct flows_service *fs)
{
	memset(fs, 0, sizeof(*fs));
	for (unsigned i = 0; i < FLOWS_N_SERVERS; i++)
		fs->srv[i] =
		    (struct server_conf){.addr = htonl(0xc6336400 + 11 + i),
					 .port = 8080,
					 .weight = 1};
	snprintf(fs->sc.name, sizeof(fs->sc.name), "web");
	fs->sc.proto = IPPROTO_TCP;
	fs->sc.vip = htonl(0xcb00710a); /* 203.0.113.10 */
	fs->sc.port = 80;
	snprintf(fs->sc.scheduler, sizeof(fs->sc.scheduler), "rr");
	fs->sc.servers = fs->srv;
	fs->sc.n_servers = FLOWS_N_SERVERS;
	fs->cfg.services = &fs->sc;
	fs->cfg.n_services = 1;
	fs->cfg.timeouts = flows_timeouts;
	return service_set_build(&fs->set, &fs->cfg);
}

uint32_t flows_caddr(uint32_t i)
{
	return htonl(0x0a000000 + i / 50000);
}

uint16_t flows_cport(uint32_t i)
{
	return htons((uint16_t)(10000 + i % 50000));
}

/* Spread over time (one ms per 1000 flows) so expiry order is real. */
int flows_fill(struct conn_table *t, const struct flows_service *fs, uint32_t n)
{
	const struct service *svc = fs->set.svcs[0];

	for (uint32_t i = 0; i < n; i++) {
		struct conn *c = conn_new(t, IPPROTO_TCP, flows_caddr(i),
					  flows_cport(i), svc->vip, svc->port,
					  svc->servers[i % svc->n_servers],
					  FWD_NAT, i / 1000);

		if (!c)
			return -1;
		conn_update(t, c, DIR_INPUT, 0x02, i / 1000);
		conn_update(t, c, DIR_OUTPUT, 0x12, i / 1000);
		conn_update(t, c, DIR_INPUT, 0x10, i / 1000);
	}
	return 0;
}
