/* sched.c - the scheduler registry, as IPVS's ip_vs_sched.c */
#include "sched.h"

#include <string.h>

static const struct sched_ops *const registry[] = {
    &sched_rr,
    &sched_wrr,
};

/* IPVS's scheduler names plus twos; those not in registry[] are
 * refused by the config as "not supported yet". */
static const char *const known_names[] = {"rr",	   "wrr", "lc",	 "wlc", "sed",
					  "nq",	   "sh",  "dh",	 "mh",	"lblc",
					  "lblcr", "fo",  "ovf", "twos"};

bool sched_is_known(const char *name)
{
	for (size_t i = 0; i < sizeof(known_names) / sizeof(known_names[0]);
	     i++)
		if (strcmp(name, known_names[i]) == 0)
			return true;
	return false;
}

const struct sched_ops *sched_find(const char *name)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(name, registry[i]->name) == 0)
			return registry[i];
	return NULL;
}
