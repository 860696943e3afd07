/* xmit.c - the table of forwarding methods */
#include "xmit.h"

#include <stddef.h>

static const struct xmit_ops *const methods[FWD_LAST] = {
    [FWD_NAT] = &xmit_nat,
    [FWD_DR] = NULL,
    [FWD_TUN] = NULL,
};

const struct xmit_ops *xmit_for(enum fwd_method m)
{
	return m < FWD_LAST ? methods[m] : NULL;
}
