/* ckpt.h - the checkpoint format of the connection table: pure encode and
 * decode over memory buffers (file I/O lives in ckpt_io.c) */
#ifndef NFQLB_CKPT_H
#define NFQLB_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn_table;
struct service_set;

#define CKPT_MAGIC	 "NFQLBCKP"
#define CKPT_VERSION	 1u  /* format version this build writes and reads */
#define CKPT_HDR_LEN	 56u /* bytes of the version-1 header */
#define CKPT_REC_LEN	 40u /* bytes of a version-1 record */
#define CKPT_WRITER_LEN	 16  /* writer version string, NUL padded */
#define CKPT_MAX_RECORDS (1u << 26) /* 64M: more is not a real table */

/* Record types. */
enum ckpt_rec_type {
	CKPT_REC_CONN = 1,     /* a connection */
	CKPT_REC_TEMPLATE = 2, /* a persistence template (see persist.h) */
};

/* Record flags. */
#define CKPT_RF_INACTIVE 0x01 /* counted in the server's inactive_conns */
#define CKPT_RF_OFFLOAD	 0x02 /* of an offload service (CONN_F_OFFLOAD) */
#define CKPT_RF_KERNEL	 0x04 /* carried by conntrack (CONN_F_KERNEL) */

/* The header, decoded. */
struct ckpt_header {
	uint16_t version;		  /* format version */
	char writer[CKPT_WRITER_LEN + 1]; /* PACKAGE_VERSION of the writer */
	uint64_t created_ms;		  /* wall clock, ms since the epoch */
	uint32_t count;			  /* records that follow */
	uint32_t crc;			  /* CRC32 of the records */
};

/* One record, decoded. Addresses and ports in network order. */
struct ckpt_rec {
	uint8_t type;  /* enum ckpt_rec_type */
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t fwd;   /* enum fwd_method */
	uint8_t state; /* enum tcp_state; 0 for UDP */
	uint8_t flags; /* CKPT_RF_* */
	uint32_t caddr, vaddr, daddr;
	uint16_t cport, vport, dport;
	uint32_t fwmark;       /* service's firewall mark; 0: by vaddr:vport */
	uint32_t remaining_ms; /* lifetime left when written */
	uint32_t timeout_ms;   /* the timeout that lifetime was counted from */
};

/* Why a checkpoint was refused; ckpt_strerror names each. */
enum ckpt_err {
	CKPT_OK = 0,
	CKPT_E_SHORT,	  /* shorter than a header */
	CKPT_E_MAGIC,	  /* not a checkpoint file */
	CKPT_E_VERSION,	  /* written by a newer format version */
	CKPT_E_HDR_LEN,	  /* header length does not fit its version */
	CKPT_E_REC_LEN,	  /* record length does not fit its version */
	CKPT_E_HDR_CRC,	  /* header checksum mismatch */
	CKPT_E_COUNT,	  /* record count beyond any real table */
	CKPT_E_TRUNCATED, /* fewer bytes than the count says */
	CKPT_E_TRAILING,  /* more bytes than the count says */
	CKPT_E_CRC,	  /* record checksum mismatch */
	CKPT_E_RECORD,	  /* a record with an impossible field */
	CKPT_E_LAST,
};

/* A checked buffer: the header and where the records start. */
struct ckpt_view {
	struct ckpt_header hdr;
	const uint8_t *recs;
};

/* What a restore did with the records. */
struct ckpt_restore_stats {
	uint32_t restored, active, inactive;
	uint32_t expired;	    /* lifetime over by now */
	uint32_t no_service;	    /* service gone (or changed address) */
	uint32_t no_server;	    /* server gone from its service */
	uint32_t duplicate;	    /* tuple already in the table */
	uint32_t table_full;	    /* beyond max_connections */
	uint32_t templates;	    /* persistence templates restored */
	uint32_t templates_dropped; /* their service, server or persistence
				       is gone; duplicates; table full */
};

const char *ckpt_strerror(enum ckpt_err e);
uint32_t ckpt_crc32(uint32_t crc, const void *buf, size_t len);

/* Bytes of a checkpoint of count records. */
size_t ckpt_size(uint32_t count);
/* Records a checkpoint of t holds at most: connections and templates. */
uint32_t ckpt_entries(const struct conn_table *t);

/* Writes the header (with its checksum) to buf[CKPT_HDR_LEN]. */
void ckpt_put_header(uint8_t *buf, const struct ckpt_header *h);
/* Writes one record to buf[CKPT_REC_LEN]. */
void ckpt_put_rec(uint8_t *buf, const struct ckpt_rec *r);
/* Reads one record; CKPT_E_RECORD if a field holds an impossible value. */
enum ckpt_err ckpt_get_rec(const uint8_t *buf, struct ckpt_rec *r);

/*
 * Checks buf[len] as a whole checkpoint: header, lengths, count, both
 * checksums. On CKPT_OK v describes it; otherwise why[] says what was
 * wrong, with the numbers (why may be NULL).
 */
enum ckpt_err ckpt_check(const uint8_t *buf, size_t len, struct ckpt_view *v,
			 char *why, size_t why_len);

/*
 * Encodes the persistence templates of svcs' services and every
 * connection of t into buf[ckpt_size(ckpt_entries(t))], with now_ms on
 * the table's (monotonic) clock and wall_ms as the creation time.
 * Returns the bytes written.
 */
size_t ckpt_encode(const struct conn_table *t, const struct service_set *svcs,
		   uint64_t now_ms, uint64_t wall_ms, const char *writer,
		   uint8_t *buf);

/*
 * Puts the records of a checked view into t, bound to the servers of
 * svcs found by address and port, with the rule of a reload: a flow whose
 * service or server is gone is dropped. Lifetimes are aged by the wall
 * clock time since the file was written (wall_ms - created) and, as a
 * reload does, re-based on t's current timeouts. Fills st.
 */
void ckpt_restore(const struct ckpt_view *v, struct conn_table *t,
		  const struct service_set *svcs, uint64_t now_ms,
		  uint64_t wall_ms, struct ckpt_restore_stats *st);

#endif
