/* test_restart.c - the handover a re-executed image reads: what one image
 * writes, the next reads back; anything else is refused whole */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "restart.h"

static const struct handover sample = {
    .queue_fd = 5,
    .queue_num = 7,
    .table_fd = 9,
    .fw_active = true,
    .fw_fd = 11,
    .fw_chain = "NFQLB",
    .fw_mark = 0x10000000,
    .fw_tables_existed = 0x5,
};

static void assert_nothing(const struct handover *h)
{
	assert_int_equal(h->queue_fd, -1);
	assert_int_equal(h->table_fd, -1);
	assert_int_equal(h->fw_fd, -1);
	assert_false(h->fw_active);
}

static void test_absent(void **state)
{
	struct handover h;

	unsetenv(RESTART_ENV);
	assert_int_equal(restart_handover_get(&h), 0);
	assert_nothing(&h);
}

static void test_round_trip(void **state)
{
	struct handover h;
	char env[256];

	assert_int_equal(restart_handover_env(&sample, env, sizeof(env)), 0);
	setenv(RESTART_ENV, env, 1);
	assert_int_equal(restart_handover_get(&h), 1);
	/* read once: a later exec of something else must not see it */
	assert_null(getenv(RESTART_ENV));
	assert_int_equal(h.queue_fd, 5);
	assert_int_equal(h.queue_num, 7);
	assert_int_equal(h.table_fd, 9);
	assert_true(h.fw_active);
	assert_int_equal(h.fw_fd, 11);
	assert_string_equal(h.fw_chain, "NFQLB");
	assert_int_equal(h.fw_mark, 0x10000000);
	assert_int_equal(h.fw_tables_existed, 0x5);
	/* no queue, no chain installed */
	h = sample;
	h.fw_active = false;
	h.fw_chain[0] = '\0';
	h.queue_fd = -1;
	h.fw_fd = -1;
	assert_int_equal(restart_handover_env(&h, env, sizeof(env)), 0);
	setenv(RESTART_ENV, env, 1);
	assert_int_equal(restart_handover_get(&h), 1);
	assert_false(h.fw_active);
	assert_int_equal(h.queue_fd, -1);
	assert_int_equal(h.fw_fd, -1);
	assert_int_equal(h.table_fd, 9);
	/* a buffer too small is refused, never cut */
	assert_int_equal(restart_handover_env(&sample, env, 20), -1);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "queue_fd=5",
	    "queue_fd=5,queue=0,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark=1",
	    "queue_fd=5,queue=0,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark=1,"
	    "tables=0,"
	    "extra=1",
	    "queue_fd=x,queue=0,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5,queue=70000,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark="
	    "1,"
	    "tables=0",
	    "queue_fd=5,queue=0,table_fd=6,fw=2,fw_fd=11,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5,queue=0,table_fd=6,fw=1,fw_fd=11,chain=,mark=1,tables="
	    "0",
	    "queue_fd=5,queue=0,table_fd=6,fw=1,fw_fd=11,"
	    "chain=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123,mark=1,tables=0",
	    "queue_fd=5,queue=0,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark=1,"
	    "tables=256",
	    "queue_fd=5 "
	    "queue=0,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark=1,tables=0",
	    "queue_fd=-2,queue=0,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5,queue=-1,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5,queue_fd=5,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5,queue=0,table_fd=6,fw=1,fw_fd=11,chain=NFQLB,mark="
	    "0x100000000,"
	    "tables=0",
	    "queue_fd=5,queue=0,table_fd,fw=1,fw_fd=11,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5,queue=0,table_fd=6,fw=1,fw_fd=-2,chain=NFQLB,mark=1,"
	    "tables=0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct handover h;

		setenv(RESTART_ENV, bad[i], 1);
		assert_int_equal(restart_handover_get(&h), -1);
		assert_nothing(&h);
		assert_null(getenv(RESTART_ENV));
	}
}

/* Without restart_init() the binary is unknown: refused, no exec. */
static void test_exec_unknown_binary(void **state)
{
	assert_int_equal(restart_exec(&sample), -1);
	assert_null(getenv(RESTART_ENV));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_absent),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_exec_unknown_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
