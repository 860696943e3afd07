/*
 * fw_nft.c - deletes an nftables table over nfnetlink. iptables-nft
 * creates a whole table (with every base chain) the first time a rule
 * goes into it and has no command to remove it again; a table we caused
 * to exist would otherwise outlive the daemon in iptables-save.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <time.h>

#include "fw.h"

static struct nlmsghdr *put_msg(struct mnl_nlmsg_batch *b, uint16_t type,
				uint16_t flags, uint32_t seq, uint8_t family,
				uint16_t res_id)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b));
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

int fw_nft_delete_table(const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct mnl_nlmsg_batch *b;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), del_seq;
	unsigned int portid;
	ssize_t n;
	int rc = -1, saved;

	/* libmnl (1.0.4) leaves attribute padding unwritten */
	memset(buf, 0, sizeof(buf));
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	b = mnl_nlmsg_batch_start(buf, sizeof(buf) / 2);
	put_msg(b, NFNL_MSG_BATCH_BEGIN, 0, seq++, AF_UNSPEC,
		NFNL_SUBSYS_NFTABLES);
	mnl_nlmsg_batch_next(b);
	del_seq = seq++;
	nlh = put_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE,
		      NLM_F_ACK, del_seq, NFPROTO_IPV4, 0);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	mnl_nlmsg_batch_next(b);
	put_msg(b, NFNL_MSG_BATCH_END, 0, seq++, AF_UNSPEC,
		NFNL_SUBSYS_NFTABLES);
	mnl_nlmsg_batch_next(b);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b),
			      mnl_nlmsg_batch_size(b)) < 0) {
		mnl_nlmsg_batch_stop(b);
		goto out;
	}
	mnl_nlmsg_batch_stop(b);
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n >= 0 &&
	    mnl_cb_run(buf, (size_t)n, del_seq, portid, NULL, NULL) >= 0)
		rc = 0;
out:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return rc;
}
