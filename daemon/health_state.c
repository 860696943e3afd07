/* health_state.c - rise/fall counting of health check results */
#include "health_state.h"

enum health_change health_count(struct health_counts *c, bool *down,
				bool passed, unsigned int rise,
				unsigned int fall)
{
	if (*down) {
		c->failed = 0;
		c->passed = passed ? c->passed + 1 : 0;
		if (c->passed < rise)
			return HEALTH_SAME;
		c->passed = 0;
		*down = false;
		return HEALTH_WENT_UP;
	}
	c->passed = 0;
	c->failed = passed ? 0 : c->failed + 1;
	if (c->failed < fall)
		return HEALTH_SAME;
	c->failed = 0;
	*down = true;
	return HEALTH_WENT_DOWN;
}
