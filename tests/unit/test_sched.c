/* test_sched.c - rr and wrr pick servers in IPVS's exact order */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define MAXS 8

struct fixture {
	struct service svc;
	struct server srv[MAXS];
	struct server *list[MAXS];
};

static void setup_svc(struct fixture *f, const char *sched,
		      const unsigned *weights, unsigned n)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->svc.name, sizeof(f->svc.name), "test");
	for (unsigned i = 0; i < n; i++) {
		f->srv[i].svc = &f->svc;
		f->srv[i].addr =
		    htonl(0xc6336400 + 11 + i); /* 198.51.100.11+ */
		f->srv[i].port = htons(8080);
		f->srv[i].weight = weights[i];
		f->list[i] = &f->srv[i];
	}
	f->svc.servers = f->list;
	f->svc.n_servers = n;
	f->svc.sched = sched_find(sched);
	assert_non_null(f->svc.sched);
	assert_int_equal(f->svc.sched->init_service(&f->svc), 0);
}

/* Runs n schedules and writes server indexes ('A' + i) into out. */
static void run(struct fixture *f, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++) {
		struct server *s = f->svc.sched->schedule(&f->svc, NULL);

		out[i] = s ? (char)('A' + (s - f->srv)) : '-';
	}
	out[n] = '\0';
}

static void test_registry(void **state)
{
	assert_non_null(sched_find("rr"));
	assert_non_null(sched_find("wrr"));
	assert_null(sched_find("wlc")); /* known, not built yet */
	assert_true(sched_is_known("wlc"));
	assert_true(sched_is_known("mh"));
	assert_false(sched_is_known("foo"));
}

static void test_rr_order_skips_weight0(void **state)
{
	struct fixture f;
	unsigned w[] = {1, 0, 5, 1};
	char out[16];

	setup_svc(&f, "rr", w, 4);
	run(&f, 9, out);
	/* weight is ignored by rr except that 0 takes nothing */
	assert_string_equal(out, "ACDACDACD");
	f.svc.sched->done_service(&f.svc);
}

static void test_rr_all_quiescent(void **state)
{
	struct fixture f;
	unsigned w[] = {0, 0};
	char out[4];

	setup_svc(&f, "rr", w, 2);
	run(&f, 3, out);
	assert_string_equal(out, "---");
	f.svc.sched->done_service(&f.svc);
}

static void test_wrr_432(void **state)
{
	struct fixture f;
	unsigned w[] = {4, 3, 2};
	char out[32];

	setup_svc(&f, "wrr", w, 3);
	run(&f, 18, out);
	/* IPVS: cw 4: A; cw 3: A B; cw 2: A B C; cw 1: A B C */
	assert_string_equal(out, "AABABCABCAABABCABC");
	f.svc.sched->done_service(&f.svc);
}

static void test_wrr_310(void **state)
{
	struct fixture f;
	unsigned w[] = {3, 1, 0};
	char out[48];
	int counts[3] = {0};

	setup_svc(&f, "wrr", w, 3);
	run(&f, 40, out);
	for (int i = 0; i < 40; i++)
		counts[out[i] - 'A']++;
	assert_int_equal(counts[0], 30);
	assert_int_equal(counts[1], 10);
	assert_int_equal(counts[2], 0);
	assert_memory_equal(out, "AAABAAAB", 8);
	f.svc.sched->done_service(&f.svc);
}

static void test_wrr_gcd_step(void **state)
{
	struct fixture f;
	unsigned w[] = {100, 50};
	char out[8];

	setup_svc(&f, "wrr", w, 2);
	/* gcd 50: passes at cw 51 and 1: A, then A B */
	run(&f, 6, out);
	assert_string_equal(out, "AABAAB");
	f.svc.sched->done_service(&f.svc);
}

static void test_wrr_reweight(void **state)
{
	struct fixture f;
	unsigned w[] = {1, 1};
	char out[8];

	setup_svc(&f, "wrr", w, 2);
	run(&f, 2, out);
	assert_string_equal(out, "AB");
	f.srv[0].weight = 0; /* quiesce A */
	f.svc.sched->update_service(&f.svc);
	run(&f, 4, out);
	assert_string_equal(out, "BBBB");
	f.srv[1].weight = 0;
	f.svc.sched->update_service(&f.svc);
	run(&f, 2, out);
	assert_string_equal(out, "--");
	f.svc.sched->done_service(&f.svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_rr_order_skips_weight0),
	    cmocka_unit_test(test_rr_all_quiescent),
	    cmocka_unit_test(test_wrr_432),
	    cmocka_unit_test(test_wrr_310),
	    cmocka_unit_test(test_wrr_gcd_step),
	    cmocka_unit_test(test_wrr_reweight),
	};

	return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
