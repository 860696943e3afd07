/* ckpt_file.h - the checkpoint on disk (or in a memfd): atomic write and
 * load; no event loop, so the unit tests and bench use it directly */
#ifndef NFQLB_CKPT_FILE_H
#define NFQLB_CKPT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "ckpt.h"

struct conn_table;
struct service_set;

/* What one write did. */
struct ckpt_result {
	uint32_t entries;   /* connections */
	uint32_t templates; /* persistence templates */
	size_t bytes;
	uint64_t encode_us; /* encoding and checksums */
	uint64_t write_us;  /* write, fsync, rename, fsync of the directory */
};

/* Wall clock in ms since the epoch (the checkpoint's creation time). */
uint64_t ckpt_wall_ms(void);
uint64_t ckpt_mono_us(void);

/*
 * Writes t (and the persistence templates of svcs) to path atomically:
 * path.tmp, fsync, rename over path, fsync of the directory, so a crash leaves
 * the old file or the new one, never a mix. now_ms is t's (monotonic) clock.
 * Returns 0, or -1 with a logged reason naming the file; fills r either way as
 * far as it got.
 */
int ckpt_file_write(const char *path, const struct conn_table *t,
		    const struct service_set *svcs, uint64_t now_ms,
		    struct ckpt_result *r);

/* Writes t to an open file (a memfd for a re-exec) from offset 0. */
int ckpt_fd_write(int fd, const char *name, const struct conn_table *t,
		  const struct service_set *svcs, uint64_t now_ms,
		  struct ckpt_result *r);

/*
 * Restores the checkpoint in path into t (see ckpt_restore). A missing
 * file is normal (returns 0, logged at info); a damaged one is logged
 * with what was wrong and ignored (returns -1, t untouched). Never fatal.
 */
int ckpt_file_load(const char *path, struct conn_table *t,
		   const struct service_set *svcs, uint64_t now_ms);
/* The same from an open file, read from offset 0; name is for messages. */
int ckpt_fd_load(int fd, const char *name, struct conn_table *t,
		 const struct service_set *svcs, uint64_t now_ms);

#endif
