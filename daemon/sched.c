/* sched.c - the scheduler registry, as IPVS's ip_vs_sched.c, and the
 * pieces several policies share */
#include "sched.h"

#include <arpa/inet.h>
#include <string.h>

/* In the order ipvsadm(8) lists them. */
static const struct sched_ops *const registry[] = {
    &sched_rr,	  &sched_wrr, &sched_lc, &sched_wlc,  &sched_lblc,
    &sched_lblcr, &sched_dh,  &sched_sh, &sched_sed,  &sched_nq,
    &sched_fo,	  &sched_ovf, &sched_mh, &sched_twos,
};

const struct sched_ops *sched_find(const char *name)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(name, registry[i]->name) == 0)
			return registry[i];
	return NULL;
}

struct server *sched_least_weighted(struct server *const *list, unsigned int n,
				    int64_t (*overhead)(const struct server *))
{
	struct server *least = NULL;
	int64_t loh = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct server *s = list[i];
		int64_t doh;

		if (!sched_server_usable(s))
			continue;
		doh = overhead(s);
		/* loh/lw > doh/dw  <=>  loh*dw > doh*lw, weights > 0 */
		if (!least || loh * s->weight > doh * least->weight) {
			least = s;
			loh = doh;
		}
	}
	return least;
}

uint32_t sched_hash_key(uint32_t addr, uint16_t port, bool port_too)
{
	return ntohl(addr) + (port_too ? ntohs(port) : 0);
}

int sched_stateless_init(struct service *svc)
{
	svc->sched_data = NULL;
	return 0;
}

void sched_stateless_done(struct service *svc)
{
	svc->sched_data = NULL;
}

int sched_stateless_update(struct service *svc)
{
	return 0;
}
