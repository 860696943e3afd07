/*
 * fuzz_config.c - libFuzzer harness for the configuration loader: the
 * input is written to a file and read by config_load(), as the daemon,
 * `nfqlb -t` and a SIGHUP reload read nfqlb.conf.
 *
 * Invariants: no memory error, leak or undefined behaviour in the loader
 * (libconfig itself is not instrumented, only what we do with its
 * answers); a file the loader accepts builds a service set, since the
 * daemon starts from exactly that; a refused one has said why.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_check.h"
#include "service.h"

static char path[64];
static int fd = -1;
static FILE *errs;

/* The file lives in memory (memfd) and is read through /proc: no disk
 * I/O per input, and nothing left behind however the process ends. */
static void setup(void)
{
	fd = memfd_create("nfqlb-fuzz.conf", MFD_CLOEXEC);
	check(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	errs = fdopen(memfd_create("nfqlb-fuzz.errs", MFD_CLOEXEC), "w+");
	check(errs != NULL);
	log_set_level((enum log_level)LOG_CRIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct service_set set;
	struct config cfg;
	int rc;

	if (!ready) {
		setup();
		ready = true;
	}
	check(ftruncate(fd, 0) == 0);
	check(pwrite(fd, data, size, 0) == (ssize_t)size);
	rewind(errs);
	check(ftruncate(fileno(errs), 0) == 0);
	rc = config_load(path, &cfg, errs);
	if (rc == 0) {
		check(service_set_build(&set, &cfg) == 0);
		service_set_free(&set, NULL);
		config_free(&cfg);
	} else {
		check(rc == -1 && ftell(errs) > 0);
	}
	return 0;
}
