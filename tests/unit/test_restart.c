/* test_restart.c - the handover a re-executed image reads: what one image
 * writes, the next reads back; anything else is refused whole */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "restart.h"

static const struct handover sample = {
    .queue_fds = {5},
    .n_queues = 1,
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
	assert_int_equal(h->n_queues, 0);
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
	assert_int_equal(h.n_queues, 1);
	assert_int_equal(h.queue_fds[0], 5);
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
	h.n_queues = 0;
	h.fw_fd = -1;
	assert_int_equal(restart_handover_env(&h, env, sizeof(env)), 0);
	setenv(RESTART_ENV, env, 1);
	assert_int_equal(restart_handover_get(&h), 1);
	assert_false(h.fw_active);
	assert_int_equal(h.n_queues, 0);
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
	    "queue_fd=5:,queue=0,table_fd=6,fw=1,fw_fd=1,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=:5,queue=0,table_fd=6,fw=1,fw_fd=1,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5::6,queue=0,table_fd=6,fw=1,fw_fd=1,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=-1:5,queue=0,table_fd=6,fw=1,fw_fd=1,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5:-1,queue=0,table_fd=6,fw=1,fw_fd=1,chain=NFQLB,mark=1,"
	    "tables=0",
	    "queue_fd=5:x,queue=0,table_fd=6,fw=1,fw_fd=1,chain=NFQLB,mark=1,"
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

/* One queue writes what images before several queues read; several
 * queues list one fd each, up to the most a config allows. */
static void test_queue_fds(void **state)
{
	struct handover h = sample, back;
	char env[1024];

	assert_int_equal(restart_handover_env(&h, env, sizeof(env)), 0);
	assert_string_equal(env, "queue_fd=5,queue=7,table_fd=9,fw=1,fw_fd=11,"
				 "chain=NFQLB,mark=0x10000000,tables=0x5");
	h.n_queues = 3;
	h.queue_fds[1] = 6;
	h.queue_fds[2] = 12;
	assert_int_equal(restart_handover_env(&h, env, sizeof(env)), 0);
	assert_true(strncmp(env, "queue_fd=5:6:12,queue=7,", 24) == 0);
	setenv(RESTART_ENV, env, 1);
	assert_int_equal(restart_handover_get(&back), 1);
	assert_int_equal(back.n_queues, 3);
	assert_int_equal(back.queue_fds[0], 5);
	assert_int_equal(back.queue_fds[1], 6);
	assert_int_equal(back.queue_fds[2], 12);
	assert_int_equal(back.queue_num, 7);
	h.n_queues = CONFIG_QUEUES_MAX;
	for (unsigned int i = 0; i < CONFIG_QUEUES_MAX; i++)
		h.queue_fds[i] = 1000 + (int)i;
	assert_int_equal(restart_handover_env(&h, env, sizeof(env)), 0);
	setenv(RESTART_ENV, env, 1);
	assert_int_equal(restart_handover_get(&back), 1);
	assert_int_equal(back.n_queues, CONFIG_QUEUES_MAX);
	assert_int_equal(back.queue_fds[CONFIG_QUEUES_MAX - 1],
			 1000 + CONFIG_QUEUES_MAX - 1);
	/* cut short rather than truncated */
	assert_int_equal(restart_handover_env(&h, env, 100), -1);
	assert_int_equal(restart_handover_env(&h, env, 12), -1);
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
	    cmocka_unit_test(test_queue_fds),
	    cmocka_unit_test(test_exec_unknown_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
