/* sched.h - the scheduler registry: one const ops struct per policy */
#ifndef NFQLB_SCHED_H
#define NFQLB_SCHED_H

#include <stdbool.h>

#include "pkt.h"
#include "service.h"

/*
 * A scheduling policy, as IPVS's struct ip_vs_scheduler. The core only
 * calls schedule(); the other hooks keep the policy's private state in
 * svc->sched_data in step with the server list.
 */
struct sched_ops {
	const char *name;
	int (*init_service)(struct service *svc);
	void (*done_service)(struct service *svc);
	/* servers were added, removed or re-weighted */
	void (*update_service)(struct service *svc);
	/* returns NULL when no server can take a new connection */
	struct server *(*schedule)(struct service *svc, const struct pkt *p);
};

/* Every IPVS scheduler name, implemented or not (for config messages). */
bool sched_is_known(const char *name);
/* The implemented policy of that name, or NULL. */
const struct sched_ops *sched_find(const char *name);

/* Whether a server may take a new connection (weight above zero). */
static inline bool sched_server_usable(const struct server *s)
{
	return s->weight > 0;
}

extern const struct sched_ops sched_rr;
extern const struct sched_ops sched_wrr;

#endif
