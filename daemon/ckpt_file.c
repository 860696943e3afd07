/*
 * ckpt_file.c - the checkpoint on disk: encode into one buffer, then the
 * usual atomic replacement (write a temporary file, fsync it, rename it
 * over the old one, fsync the directory so the rename itself is durable).
 */
#include "ckpt_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

uint64_t ckpt_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t ckpt_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Encodes t into a new buffer; NULL (logged) when out of memory. */
static uint8_t *encode(const char *name, const struct conn_table *t,
		       const struct service_set *svcs, uint64_t now_ms,
		       struct ckpt_result *r)
{
	uint64_t t0 = ckpt_mono_us();
	size_t size = ckpt_size(ckpt_entries(t));
	uint8_t *buf = malloc(size);

	memset(r, 0, sizeof(*r));
	if (!buf) {
		log_err(
		    "checkpoint %s: %zu bytes for %u entries: out of memory",
		    name, size, ckpt_entries(t));
		return NULL;
	}
	r->bytes =
	    ckpt_encode(t, svcs, now_ms, ckpt_wall_ms(), PACKAGE_VERSION, buf);
	r->entries = t->count;
	r->templates =
	    (uint32_t)((r->bytes - CKPT_HDR_LEN) / CKPT_REC_LEN) - t->count;
	r->encode_us = ckpt_mono_us() - t0;
	return buf;
}

int ckpt_fd_write(int fd, const char *name, const struct conn_table *t,
		  const struct service_set *svcs, uint64_t now_ms,
		  struct ckpt_result *r)
{
	uint8_t *buf = encode(name, t, svcs, now_ms, r);
	uint64_t t0 = ckpt_mono_us();
	int rc = 0;

	if (!buf)
		return -1;
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
	    write_all(fd, buf, r->bytes) < 0) {
		log_err("checkpoint %s: write: %m", name);
		rc = -1;
	}
	r->write_us = ckpt_mono_us() - t0;
	free(buf);
	return rc;
}

/* fsync of the directory holding path: makes a rename in it durable. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int ckpt_file_write(const char *path, const struct conn_table *t,
		    const struct service_set *svcs, uint64_t now_ms,
		    struct ckpt_result *r)
{
	char tmp[4096];
	uint8_t *buf;
	uint64_t t0;
	int fd, rc = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		log_err("checkpoint %s: path too long", path);
		return -1;
	}
	buf = encode(path, t, svcs, now_ms, r);
	if (!buf)
		return -1;
	t0 = ckpt_mono_us();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("checkpoint %s: cannot create %s: %m", path, tmp);
		goto out;
	}
	if (write_all(fd, buf, r->bytes) < 0) {
		log_err("checkpoint %s: writing %s: %m", path, tmp);
		close(fd);
		goto unlink;
	}
	if (fsync(fd) < 0) {
		log_err("checkpoint %s: fsync of %s: %m", path, tmp);
		close(fd);
		goto unlink;
	}
	if (close(fd) < 0) {
		log_err("checkpoint %s: closing %s: %m", path, tmp);
		goto unlink;
	}
	if (rename(tmp, path) < 0) {
		log_err("checkpoint %s: renaming %s over it: %m", path, tmp);
		goto unlink;
	}
	if (sync_dir(path) < 0)
		log_warn("checkpoint %s: fsync of its directory: %m (the new "
			 "file may not survive a power loss)",
			 path);
	rc = 0;
	goto out;
unlink:
	unlink(tmp);
out:
	r->write_us = ckpt_mono_us() - t0;
	free(buf);
	return rc;
}

/* Reads the whole of fd (size bytes) into a new buffer. */
static uint8_t *read_all(int fd, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t done = 0;

	if (!buf)
		return NULL;
	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			if (n == 0)
				errno = EIO; /* shrank while we read it */
			return NULL;
		}
		done += (size_t)n;
	}
	return buf;
}

static void log_restored(const char *name, const struct ckpt_header *h,
			 const struct ckpt_restore_stats *st, uint64_t age_ms)
{
	log_info("checkpoint %s (written by nfqlb %s %" PRIu64 ".%03" PRIu64
		 " s ago): %u connections restored (%u active, "
		 "%u inactive) and %u persistence templates, of %u records",
		 name, h->writer, age_ms / 1000, age_ms % 1000, st->restored,
		 st->active, st->inactive, st->templates, h->count);
	if (st->expired || st->no_service || st->no_server)
		log_info("checkpoint %s: dropped %u expired, %u whose service "
			 "and %u whose server no longer exists",
			 name, st->expired, st->no_service, st->no_server);
	if (st->table_full)
		log_warn("checkpoint %s: %u connections dropped: "
			 "max_connections reached",
			 name, st->table_full);
	if (st->duplicate)
		log_warn("checkpoint %s: %u duplicate entries ignored", name,
			 st->duplicate);
	if (st->templates_dropped)
		log_info(
		    "checkpoint %s: %u persistence templates dropped (their "
		    "service, server or persistence is gone, or the "
		    "table is full)",
		    name, st->templates_dropped);
}

int ckpt_fd_load(int fd, const char *name, struct conn_table *t,
		 const struct service_set *svcs, uint64_t now_ms)
{
	struct ckpt_restore_stats st;
	struct ckpt_view v;
	enum ckpt_err err;
	struct stat sb;
	uint8_t *buf;
	uint64_t wall = ckpt_wall_ms();
	char why[160] = "";

	if (fstat(fd, &sb) < 0) {
		log_warn("checkpoint %s: %m; ignored, starting with an empty "
			 "table",
			 name);
		return -1;
	}
	/* the size alone can tell an absurd file before we read it */
	if ((uint64_t)sb.st_size > ckpt_size(CKPT_MAX_RECORDS)) {
		log_warn("checkpoint %s: %" PRIu64 " bytes, more than any "
			 "table; ignored, starting with an empty table",
			 name, (uint64_t)sb.st_size);
		return -1;
	}
	buf = read_all(fd, (size_t)sb.st_size);
	if (!buf) {
		log_warn("checkpoint %s: reading it: %m; ignored, starting "
			 "with an empty table",
			 name);
		return -1;
	}
	err = ckpt_check(buf, (size_t)sb.st_size, &v, why, sizeof(why));
	if (err != CKPT_OK) {
		log_warn("checkpoint %s: %s: %s; ignored, starting with an "
			 "empty table",
			 name, ckpt_strerror(err), why);
		free(buf);
		return -1;
	}
	ckpt_restore(&v, t, svcs, now_ms, wall, &st);
	log_restored(name, &v.hdr, &st,
		     wall > v.hdr.created_ms ? wall - v.hdr.created_ms : 0);
	free(buf);
	return 0;
}

int ckpt_file_load(const char *path, struct conn_table *t,
		   const struct service_set *svcs, uint64_t now_ms)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0 && errno == ENOENT) {
		log_info("checkpoint %s: none yet, starting with an empty "
			 "table",
			 path);
		return 0;
	}
	if (fd < 0) {
		log_warn("checkpoint %s: %m; ignored, starting with an empty "
			 "table",
			 path);
		return -1;
	}
	rc = ckpt_fd_load(fd, path, t, svcs, now_ms);
	close(fd);
	return rc;
}
