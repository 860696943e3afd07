/* fuzz_check.h - what the fuzz harnesses share: an invariant that aborts
 * (libFuzzer reports it as a crash, with the input) and IPv4 addresses. */
#ifndef NFQLB_FUZZ_CHECK_H
#define NFQLB_FUZZ_CHECK_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define check(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static inline uint32_t fuzz_addr(const char *s)
{
	struct in_addr a;

	check(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
