/*
 * ctl_proto.h - the control socket's wire format, shared by the daemon
 * and nfqlbctl. One request per connection; the reply is a stream of
 * frames ending with an END frame. All fields are big-endian.
 *
 * Request (12-byte header, then the body):
 *
 *  0               1               2               3
 *  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
 * +---------------+---------------+---------------+---------------+
 * |   magic 'N'   |   magic 'Q'   |  version (1)  |    command    |
 * +---------------+---------------+---------------+---------------+
 * |         flags (CTL_F_*)       |     argc (number of args)     |
 * +---------------+---------------+---------------+---------------+
 * |              body length in bytes (<= CTL_MAX_BODY)           |
 * +---------------+---------------+---------------+---------------+
 * |  body: argc NUL-terminated strings, back to back, nothing     |
 * |  else (e.g. "web\0198.51.100.11:8080\0weight\03\0")            |
 * +---------------------------------------------------------------+
 *
 * Reply frame (12-byte header, then the payload):
 *
 * +---------------+---------------+---------------+---------------+
 * |   magic 'N'   |   magic 'Q'   |  version (1)  |  type (DATA,  |
 * |               |               |               |  END)         |
 * +---------------+---------------+---------------+---------------+
 * |     status (CTL_OK or an error, END only)     |   reserved 0  |
 * +---------------+---------------+---------------+---------------+
 * |            payload length in bytes (<= CTL_MAX_FRAME)         |
 * +---------------+---------------+---------------+---------------+
 * |  payload: DATA = output text for stdout, printed as it comes; |
 * |  END = empty, or the one-line error message when status != 0  |
 * +---------------------------------------------------------------+
 *
 * A daemon that does not speak the request's version answers with an
 * END frame of its own version and status CTL_E_VERSION.
 */
#ifndef NFQLB_CTL_PROTO_H
#define NFQLB_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define CTL_MAGIC0    'N'
#define CTL_MAGIC1    'Q'
#define CTL_VERSION   1
#define CTL_HDR_LEN   12
#define CTL_MAX_BODY  4096	  /* request body */
#define CTL_MAX_ARGS  8		  /* request arguments */
#define CTL_MAX_FRAME (64 * 1024) /* reply payload per frame */

enum ctl_cmd {
	CTL_CMD_LIST = 1,   /* flags JSON, STATS, RATE, ZERO; no args */
	CTL_CMD_CONNS,	    /* flags JSON; no args */
	CTL_CMD_SERVER,	    /* SERVICE ADDRESS[:PORT] ACTION [WEIGHT] */
	CTL_CMD_RELOAD,	    /* no args */
	CTL_CMD_CHECKPOINT, /* no args */
	CTL_CMD_METRICS,    /* no args */
	CTL_CMD_ZERO,	    /* [SERVICE] */
	CTL_CMD_RESTART,    /* no args */
	CTL_CMD_LAST,
};

#define CTL_F_JSON  0x0001 /* machine-readable output */
#define CTL_F_STATS 0x0002 /* list: packet and byte counters */
#define CTL_F_RATE  0x0004 /* list: rates */
#define CTL_F_ZERO  0x0008 /* list: zero the counters after listing */

enum ctl_frame_type {
	CTL_FRAME_DATA = 1,
	CTL_FRAME_END = 2,
};

enum ctl_status {
	CTL_OK = 0,
	CTL_E_PROTO,	   /* malformed request */
	CTL_E_VERSION,	   /* unsupported protocol version */
	CTL_E_COMMAND,	   /* unknown command or bad arguments */
	CTL_E_NOTFOUND,	   /* unknown service or server */
	CTL_E_FAILED,	   /* the command ran and failed */
	CTL_E_UNSUPPORTED, /* not built or not configured */
	CTL_E_DENIED,	   /* peer not allowed */
	CTL_E_BUSY,	   /* too many clients */
};

struct ctl_request {
	uint8_t version;
	uint8_t cmd;
	uint16_t flags;
	uint16_t argc;
	const char *argv[CTL_MAX_ARGS]; /* point into the body */
};

struct ctl_frame {
	uint8_t version;
	uint8_t type;
	uint16_t status;
	uint32_t len;
};

/*
 * Encodes a request into buf (at least CTL_HDR_LEN + CTL_MAX_BODY bytes).
 * Returns its length, or -1 when the arguments do not fit.
 */
int ctl_request_encode(uint8_t *buf, size_t size, uint8_t cmd, uint16_t flags,
		       unsigned int argc, const char *const *argv);

/* Outcome of parsing bytes received so far. */
enum ctl_parse {
	CTL_PARSE_DONE = 0, /* complete and valid */
	CTL_PARSE_MORE,	    /* need more bytes */
	CTL_PARSE_BAD,	    /* malformed: bad magic, sizes or strings */
	CTL_PARSE_VERSION,  /* well-formed header of another version */
};

/*
 * Parses a request from buf[0..len). The body's strings are pointed to
 * in place (buf must stay alive). *used is the request's total length.
 */
enum ctl_parse ctl_request_parse(struct ctl_request *req, const uint8_t *buf,
				 size_t len, size_t *used);

void ctl_frame_encode(uint8_t hdr[CTL_HDR_LEN], uint8_t type, uint16_t status,
		      uint32_t len);
/* Parses a frame header; CTL_PARSE_BAD for wrong magic, type or length. */
enum ctl_parse ctl_frame_parse(struct ctl_frame *f, const uint8_t *hdr,
			       size_t len);

const char *ctl_cmd_name(uint8_t cmd);

#endif
