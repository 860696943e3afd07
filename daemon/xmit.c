/*
 * xmit.c - the table of forwarding methods, and the sockets and helpers
 * the direct-return methods (xmit_dr.c, xmit_tun.c) share.
 */
#include "xmit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"
#include "icmp.h"
#include "service.h"

#define TX_MSGS	    256
#define DR_ARENA    (256 * 1024) /* fragments; frames come from the queue */
#define RAW_ARENA   (2 * 1024 * 1024) /* TUN builds segments and fragments */
#define SOCK_SNDBUF (4 * 1024 * 1024)

static const struct xmit_ops *const methods[FWD_LAST] = {
    [FWD_NAT] = &xmit_nat,
    [FWD_DR] = &xmit_dr,
    [FWD_TUN] = &xmit_tun,
};

const struct xmit_ops *xmit_for(enum fwd_method m)
{
	return m < FWD_LAST ? methods[m] : NULL;
}

static int open_socket(int domain, int type, int proto, const char *what)
{
	int fd = socket(domain, type | SOCK_CLOEXEC, proto), size = SOCK_SNDBUF;

	if (fd < 0) {
		log_err("%s socket: %m", what);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) <
		0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
		log_warn("%s socket: send buffer of %d bytes: %m", what, size);
	return fd;
}

int xmit_open(struct xmit_ctx *x, struct ev_loop *loop, uint64_t *counters)
{
	int one = 1, dr_fd, raw_fd;

	memset(x, 0, sizeof(*x));
	x->dr.fd = x->raw.fd = -1;
	x->counters = counters;
	x->ip_id = (uint16_t)getpid();
	/* Protocol 0: a packet socket that sends and never receives. */
	dr_fd = open_socket(AF_PACKET, SOCK_RAW, 0, "dr: packet");
	if (dr_fd < 0)
		return -1;
	if (setsockopt(dr_fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) <
	    0) {
		log_err("dr: packet socket: PACKET_VNET_HDR: %m");
		close(dr_fd);
		return -1;
	}
	if (txbatch_init(&x->dr, "dr", dr_fd, TX_MSGS, DR_ARENA) < 0)
		goto oom;
	/* IPPROTO_RAW: we write the whole IPv4 header (IP_HDRINCL). */
	raw_fd = open_socket(AF_INET, SOCK_RAW, IPPROTO_RAW, "tun: raw");
	if (raw_fd < 0)
		goto fail;
	if (txbatch_init(&x->raw, "tun", raw_fd, TX_MSGS, RAW_ARENA) < 0)
		goto oom;
	if (neigh_open(&x->neigh, loop) < 0)
		goto fail;
	return 0;
oom:
	log_err("forwarding: out of memory for send batches");
fail:
	xmit_close(x);
	return -1;
}

void xmit_close(struct xmit_ctx *x)
{
	neigh_close(&x->neigh);
	txbatch_free(&x->dr);
	txbatch_free(&x->raw);
}

void xmit_flush(struct xmit_ctx *x)
{
	if (x->dr.n)
		txbatch_flush(&x->dr);
	if (x->raw.n)
		txbatch_flush(&x->raw);
}

void xmit_prepare(struct xmit_ctx *x, const struct service_set *set,
		  uint64_t now)
{
	for (unsigned int i = 0; i < set->n; i++) {
		const struct service *svc = set->svcs[i];

		if (svc->fwd == FWD_NAT)
			continue;
		for (unsigned int j = 0; j < svc->n_servers; j++)
			neigh_track(&x->neigh, svc->servers[j]->addr,
				    svc->fwd == FWD_DR, now);
		if (svc->sorry)
			neigh_track(&x->neigh, svc->sorry->addr,
				    svc->fwd == FWD_DR, now);
	}
}

void xmit_frag_needed(struct xmit_ctx *x, const struct pkt *p, uint32_t mtu)
{
	union txb_addr to = {.in = {.sin_family = AF_INET}};
	uint8_t *buf;
	size_t len;

	if (txbatch_reserve(&x->raw, 1, ICMP_ERR_MAX) < 0)
		return;
	buf = txbatch_alloc(&x->raw, ICMP_ERR_MAX);
	len = icmp_frag_needed(buf, ICMP_ERR_MAX, p->data, p->len, p->daddr,
			       (uint16_t)mtu);
	if (len == 0) { /* an ICMP error: no error about it, just drop */
		x->counters[CNT_TOO_BIG]++;
		return;
	}
	to.in.sin_addr.s_addr = p->saddr;
	txbatch_add(&x->raw, 0, buf, len, &to, sizeof(to.in));
	x->counters[CNT_FRAG_NEEDED]++;
}

void xmit_drop(struct xmit_ctx *x, const struct conn *c, int cnt,
	       const char *why)
{
	char label[128];

	x->counters[cnt]++;
	log_limited(&x->rl, LOG_LVL_WARNING, "%s: %s, packet dropped",
		    server_label(c->dest, label, sizeof(label)), why);
}
