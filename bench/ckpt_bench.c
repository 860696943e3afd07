/*
 * bench/ckpt_bench.c - what a checkpoint costs: for tables of N entries
 * (default 100000 and 1000000), the time to encode them, to write the
 * file atomically (fsync included), to fork() a copy-on-write snapshot
 * of the process holding them, and to load the file into a new table;
 * and the file size per entry.
 *
 *   bench/ckpt_bench [DIR [N...]]     DIR: where to write (default /tmp)
 *   bench/ckpt_bench --write FILE N   only write a checkpoint of N entries
 *                                     (for bench/restart_gap.sh)
 *
 * The table: N established TCP flows to 203.0.113.10:80, spread over 16
 * real servers 198.51.100.11..26 port 8080.
 *
 * The daemon writes its periodic checkpoints from a fork()ed child
 * because of these figures (see README, "Checkpoint").
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt_file.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "flows.h"
#include "service.h"

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static int bench(const char *dir, uint32_t n)
{
	struct flows_service fs;
	struct conn_table t, t2;
	struct ckpt_result r;
	char path[4096];
	uint64_t t0, fork_us, load_us;
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s/ckpt_bench.%d.ckpt", dir,
		 (int)getpid());
	if (flows_services(&fs) < 0 ||
	    conn_table_init(&t, n, 1, &flows_timeouts) < 0 ||
	    conn_table_init(&t2, n, 2, &flows_timeouts) < 0 ||
	    flows_fill(&t, &fs, n) < 0) {
		fprintf(stderr, "ckpt_bench: out of memory for %u entries\n",
			n);
		return -1;
	}
	if (ckpt_file_write(path, &t, &fs.set, n / 1000, &r) < 0)
		return -1;

	/* what the event loop pays to hand the work to a child */
	t0 = ckpt_mono_us();
	pid = fork();
	if (pid == 0)
		_exit(0);
	fork_us = ckpt_mono_us() - t0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		perror("ckpt_bench: fork");
		return -1;
	}

	t0 = ckpt_mono_us();
	if (ckpt_file_load(path, &t2, &fs.set, 0) < 0 || t2.count != n) {
		fprintf(stderr, "ckpt_bench: %s: loaded %u of %u entries\n",
			path, t2.count, n);
		return -1;
	}
	load_us = ckpt_mono_us() - t0;
	unlink(path);

	printf("%8u entries: file %zu bytes (%.1f MB, %zu bytes/entry); "
	       "encode %.1f ms, write+fsync+rename %.1f ms, fork %.2f ms, "
	       "load %.1f ms\n",
	       n, r.bytes, (double)r.bytes / 1e6,
	       (r.bytes - CKPT_HDR_LEN) / (n ? n : 1), ms(r.encode_us),
	       ms(r.write_us), ms(fork_us), ms(load_us));
	service_set_free(&fs.set, NULL);
	conn_table_destroy(&t);
	conn_table_destroy(&t2);
	return 0;
}

/* --write FILE N: a checkpoint for the daemon to restore. */
static int write_only(const char *path, uint32_t n)
{
	struct flows_service fs;
	struct conn_table t;
	struct ckpt_result r;

	if (flows_services(&fs) < 0 ||
	    conn_table_init(&t, n, 1, &flows_timeouts) < 0 ||
	    flows_fill(&t, &fs, n) < 0) {
		fprintf(stderr, "ckpt_bench: out of memory for %u entries\n",
			n);
		return 1;
	}
	/* written "now" on a clock where the last flow saw its last packet */
	if (ckpt_file_write(path, &t, &fs.set, n / 1000, &r) < 0)
		return 1;
	printf("%s: %u entries, %zu bytes\n", path, r.entries, r.bytes);
	service_set_free(&fs.set, NULL);
	conn_table_destroy(&t);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	uint32_t sizes[] = {100000, 1000000};
	int rc = 0;

	log_init("ckpt_bench", true, LOG_LVL_WARNING);
	if (argc == 4 && strcmp(argv[1], "--write") == 0)
		return write_only(argv[2],
				  (uint32_t)strtoul(argv[3], NULL, 10));
	if (argc > 2) {
		for (int i = 2; i < argc; i++)
			if (bench(dir, (uint32_t)strtoul(argv[i], NULL, 10)) <
			    0)
				rc = 1;
		return rc;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (bench(dir, sizes[i]) < 0)
			rc = 1;
	return rc;
}
