/* health_state.h - rise/fall counting of health check results */
#ifndef NFQLB_HEALTH_STATE_H
#define NFQLB_HEALTH_STATE_H

#include <stdbool.h>

enum health_change {
	HEALTH_SAME = 0,  /* still up, or still down */
	HEALTH_WENT_UP,	  /* rise passes in a row while down */
	HEALTH_WENT_DOWN, /* fall failures in a row while up */
};

/* Runs of results; only the run that can change the state is kept. */
struct health_counts {
	unsigned int passed; /* consecutive passes while down */
	unsigned int failed; /* consecutive failures while up */
};

/*
 * Counts one result against *down, as keepalived's rise/fall (relayd's
 * "check ... retry"): an up server goes down after fall failures in a
 * row, a down one comes up after rise passes in a row; a result against
 * the run starts it over. Returns what changed.
 */
enum health_change health_count(struct health_counts *c, bool *down,
				bool passed, unsigned int rise,
				unsigned int fall);

#endif
