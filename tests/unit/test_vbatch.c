/* test_vbatch.c - the verdict batch: the messages its iovecs make, read
 * back as the kernel reads them, and when it asks to be sent. */
#include "unit.h" /* netinet/in.h before the kernel's headers */

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <string.h>

#include "vbatch.h"

/* The bytes sendmsg would hand the kernel, in order. */
static size_t gather(const struct vbatch *b, uint8_t *out, size_t size)
{
	size_t n = 0;

	for (unsigned int i = 0; i < b->niov; i++) {
		assert_true(n + b->iov[i].iov_len <= size);
		memcpy(out + n, b->iov[i].iov_base, b->iov[i].iov_len);
		n += b->iov[i].iov_len;
	}
	return n;
}

struct seen {
	const struct nfqnl_msg_verdict_hdr *vh;
	const struct nlattr *mark, *payload;
};

static int on_attr(const struct nlattr *a, void *data)
{
	struct seen *s = data;

	switch (mnl_attr_get_type(a)) {
	case NFQA_VERDICT_HDR:
		s->vh = mnl_attr_get_payload(a);
		break;
	case NFQA_MARK:
		s->mark = a;
		break;
	case NFQA_PAYLOAD:
		s->payload = a;
		break;
	default:
		fail_msg("unexpected attribute %u", mnl_attr_get_type(a));
	}
	return MNL_CB_OK;
}

/* Checks the next message at *nlh and steps over it. */
static void expect(const struct nlmsghdr **nlh, int *left, uint32_t id,
		   uint32_t verdict, const uint32_t *mark, const void *data,
		   uint16_t len)
{
	const struct nfgenmsg *nfg;
	struct seen s = {0};

	assert_true(mnl_nlmsg_ok(*nlh, *left));
	assert_int_equal((*nlh)->nlmsg_type,
			 (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT);
	assert_int_equal((*nlh)->nlmsg_flags, NLM_F_REQUEST);
	assert_int_equal((*nlh)->nlmsg_len % MNL_ALIGNTO, 0);
	nfg = mnl_nlmsg_get_payload(*nlh);
	assert_int_equal(ntohs(nfg->res_id), 7);
	assert_int_equal(mnl_attr_parse(*nlh, sizeof(*nfg), on_attr, &s),
			 MNL_CB_OK);
	assert_non_null(s.vh);
	assert_int_equal(ntohl(s.vh->id), id);
	assert_int_equal(ntohl(s.vh->verdict), verdict);
	if (mark) {
		assert_non_null(s.mark);
		assert_int_equal(ntohl(mnl_attr_get_u32(s.mark)), *mark);
	} else {
		assert_null(s.mark);
	}
	if (data) {
		assert_non_null(s.payload);
		assert_int_equal(mnl_attr_get_payload_len(s.payload), len);
		assert_memory_equal(mnl_attr_get_payload(s.payload), data, len);
	} else {
		assert_null(s.payload);
	}
	*nlh = mnl_nlmsg_next(*nlh, left);
}

static void test_messages(void **state)
{
	static struct vbatch b;
	static uint8_t wire[4096];
	const uint8_t pkt5[5] = {1, 2, 3, 4, 5},
		      pkt8[8] = {9, 8, 7, 6, 5, 4, 3, 2};
	const uint32_t mark = 0x10000000;
	const struct nlmsghdr *nlh;
	int left;

	(void)state;
	vbatch_init(&b, 7, 4096);
	vbatch_add(&b, 1, NF_ACCEPT, NULL, 0, NULL);
	vbatch_add(&b, 2, NF_ACCEPT, pkt5, sizeof(pkt5), &mark);
	vbatch_add(&b, 3, NF_DROP, NULL, 0, NULL);
	vbatch_add(&b, 4, NF_ACCEPT, pkt8, sizeof(pkt8), NULL);
	assert_int_equal(b.n, 4);
	/* the payloads are referenced, not copied */
	assert_ptr_equal(b.iov[2].iov_base, pkt5);
	left = (int)gather(&b, wire, sizeof(wire));
	assert_int_equal(left, b.bytes);
	nlh = (const struct nlmsghdr *)wire;
	expect(&nlh, &left, 1, NF_ACCEPT, NULL, NULL, 0);
	expect(&nlh, &left, 2, NF_ACCEPT, &mark, pkt5, sizeof(pkt5));
	expect(&nlh, &left, 3, NF_DROP, NULL, NULL, 0);
	expect(&nlh, &left, 4, NF_ACCEPT, NULL, pkt8, sizeof(pkt8));
	assert_int_equal(left, 0);
	vbatch_reset(&b);
	assert_int_equal(b.n + b.niov + b.bytes, 0);
}

static void test_room(void **state)
{
	static struct vbatch b;
	static uint8_t big[60000];

	(void)state;
	vbatch_init(&b, 0, 100000);
	/* an empty batch always takes one, whatever the limit */
	assert_true(vbatch_room(&b, sizeof(big)));
	vbatch_add(&b, 1, NF_ACCEPT, big, sizeof(big), NULL);
	assert_false(vbatch_room(&b, sizeof(big)));
	assert_true(vbatch_room(&b, 1000));
	for (uint32_t i = 2; vbatch_room(&b, 0); i++)
		vbatch_add(&b, i, NF_ACCEPT, NULL, 0, NULL);
	assert_int_equal(b.n, VBATCH_MAX);
	assert_true(b.bytes <= 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
