/*
 * bench/conn_bench.c - what the connection table costs at size: for tables
 * of N entries (default 1000, 100000 and 1000000 established TCP flows),
 * the process's resident memory added by the table (VmRSS before and after
 * building it, so hash buckets, chunks and allocator overhead are all in),
 * per entry, and the mean time of a client-side and a server-side lookup
 * of random existing flows, and of a miss. Lookups that stay flat from 1k
 * to 1M entries are what "O(1)" means here; the caches make them slower at
 * size, which this shows rather than hides.
 *
 *   bench/conn_bench [N...]
 *
 * The table is sized as the daemon sizes it for max_connections = N.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "flows.h"
#include "log.h"

#define LOOKUPS 2000000u

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static int bench(const struct flows_service *fs, uint32_t n)
{
	const struct service *svc = fs->set.svcs[0];
	const uint32_t vip = svc->vip;
	const uint16_t vport = svc->port, dport = htons(8080);
	struct conn_table t;
	uint32_t seed = 12345, found = 0;
	uint64_t t0, in_ns, out_ns, miss_ns;
	long before = rss_kb(), after;

	if (conn_table_init(&t, n, 1, &flows_timeouts) < 0 ||
	    flows_fill(&t, fs, n) < 0) {
		fprintf(stderr, "conn_bench: no memory for %u entries\n", n);
		return -1;
	}
	after = rss_kb();

	t0 = mono_ns();
	for (uint32_t k = 0; k < LOOKUPS; k++) {
		uint32_t i = xorshift(&seed) % n;

		found += conn_in_get(&t, IPPROTO_TCP, flows_caddr(i),
				     flows_cport(i), vip, vport) != NULL;
	}
	in_ns = mono_ns() - t0;
	t0 = mono_ns();
	for (uint32_t k = 0; k < LOOKUPS; k++) {
		uint32_t i = xorshift(&seed) % n;

		found +=
		    conn_out_get(&t, IPPROTO_TCP,
				 svc->servers[i % svc->n_servers]->addr, dport,
				 flows_caddr(i), flows_cport(i)) != NULL;
	}
	out_ns = mono_ns() - t0;
	t0 = mono_ns();
	for (uint32_t k = 0; k < LOOKUPS; k++) {
		uint32_t i = xorshift(&seed) % n;

		/* a client port no flow uses */
		found += conn_in_get(&t, IPPROTO_TCP, flows_caddr(i),
				     htons(60001), vip, vport) != NULL;
	}
	miss_ns = mono_ns() - t0;
	if (found != 2 * LOOKUPS) {
		fprintf(stderr,
			"conn_bench: %u of %u lookups found their flow\n",
			found, 2 * LOOKUPS);
		return -1;
	}
	printf("%8u entries: table %.1f MB resident, %.0f bytes/entry "
	       "(struct conn %zu); lookup in %.0f ns, out %.0f ns, miss "
	       "%.0f ns\n",
	       n, (double)(after - before) / 1024.0,
	       (double)(after - before) * 1024.0 / n, sizeof(struct conn),
	       (double)in_ns / LOOKUPS, (double)out_ns / LOOKUPS,
	       (double)miss_ns / LOOKUPS);
	conn_table_destroy(&t);
	return 0;
}

int main(int argc, char **argv)
{
	static const uint32_t def[] = {1000, 100000, 1000000};
	struct flows_service fs;

	if (argc > 1 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: conn_bench [N...]\n");
		return 0;
	}
	log_init("conn_bench", true, LOG_LVL_WARNING);
	if (flows_services(&fs) < 0) {
		fprintf(stderr, "conn_bench: cannot build the service\n");
		return 1;
	}
	if (argc == 1) {
		for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++)
			if (bench(&fs, def[i]) < 0)
				return 1;
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long n = strtoul(argv[i], &end, 10);

		if (*end || n == 0 || n > 16u * 1024 * 1024) {
			fprintf(stderr, "conn_bench: bad entry count '%s'\n",
				argv[i]);
			return 2;
		}
		if (bench(&fs, (uint32_t)n) < 0)
			return 1;
	}
	return 0;
}
