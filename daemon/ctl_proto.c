/* ctl_proto.c - the control socket's wire format (see ctl_proto.h) */
#include "ctl_proto.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

int ctl_request_encode(uint8_t *buf, size_t size, uint8_t cmd, uint16_t flags,
		       unsigned int argc, const char *const *argv)
{
	size_t body = 0;

	if (argc > CTL_MAX_ARGS || size < CTL_HDR_LEN)
		return -1;
	for (unsigned int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (body + n > CTL_MAX_BODY || CTL_HDR_LEN + body + n > size)
			return -1;
		memcpy(buf + CTL_HDR_LEN + body, argv[i], n);
		body += n;
	}
	buf[0] = CTL_MAGIC0;
	buf[1] = CTL_MAGIC1;
	buf[2] = CTL_VERSION;
	buf[3] = cmd;
	put16(buf + 4, flags);
	put16(buf + 6, (uint16_t)argc);
	put32(buf + 8, (uint32_t)body);
	return (int)(CTL_HDR_LEN + body);
}

enum ctl_parse ctl_request_parse(struct ctl_request *req, const uint8_t *buf,
				 size_t len, size_t *used)
{
	uint32_t body;
	const uint8_t *p, *end;

	memset(req, 0, sizeof(*req));
	if (len >= 1 && buf[0] != CTL_MAGIC0)
		return CTL_PARSE_BAD;
	if (len >= 2 && buf[1] != CTL_MAGIC1)
		return CTL_PARSE_BAD;
	if (len < CTL_HDR_LEN)
		return CTL_PARSE_MORE;
	req->version = buf[2];
	if (req->version != CTL_VERSION)
		return CTL_PARSE_VERSION;
	req->cmd = buf[3];
	req->flags = get16(buf + 4);
	req->argc = get16(buf + 6);
	body = get32(buf + 8);
	if (body > CTL_MAX_BODY || req->argc > CTL_MAX_ARGS)
		return CTL_PARSE_BAD;
	if (len < CTL_HDR_LEN + body)
		return CTL_PARSE_MORE;
	/* exactly argc strings, each NUL-terminated inside the body */
	p = buf + CTL_HDR_LEN;
	end = p + body;
	for (unsigned int i = 0; i < req->argc; i++) {
		const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			return CTL_PARSE_BAD;
		req->argv[i] = (const char *)p;
		p = nul + 1;
	}
	if (p != end)
		return CTL_PARSE_BAD;
	*used = CTL_HDR_LEN + body;
	return CTL_PARSE_DONE;
}

void ctl_frame_encode(uint8_t hdr[CTL_HDR_LEN], uint8_t type, uint16_t status,
		      uint32_t len)
{
	hdr[0] = CTL_MAGIC0;
	hdr[1] = CTL_MAGIC1;
	hdr[2] = CTL_VERSION;
	hdr[3] = type;
	put16(hdr + 4, status);
	put16(hdr + 6, 0);
	put32(hdr + 8, len);
}

enum ctl_parse ctl_frame_parse(struct ctl_frame *f, const uint8_t *hdr,
			       size_t len)
{
	if (len < CTL_HDR_LEN)
		return CTL_PARSE_MORE;
	if (hdr[0] != CTL_MAGIC0 || hdr[1] != CTL_MAGIC1)
		return CTL_PARSE_BAD;
	f->version = hdr[2];
	f->type = hdr[3];
	f->status = get16(hdr + 4);
	f->len = get32(hdr + 8);
	if (f->len > CTL_MAX_FRAME)
		return CTL_PARSE_BAD;
	if (f->type != CTL_FRAME_DATA && f->type != CTL_FRAME_END)
		return CTL_PARSE_BAD;
	/* another version may only tell us so, in an END frame */
	if (f->version != CTL_VERSION)
		return f->type == CTL_FRAME_END ? CTL_PARSE_VERSION
						: CTL_PARSE_BAD;
	return CTL_PARSE_DONE;
}

const char *ctl_cmd_name(uint8_t cmd)
{
	static const char *const names[CTL_CMD_LAST] = {
	    [CTL_CMD_LIST] = "list",
	    [CTL_CMD_CONNS] = "conns",
	    [CTL_CMD_SERVER] = "server",
	    [CTL_CMD_RELOAD] = "reload",
	    [CTL_CMD_CHECKPOINT] = "checkpoint",
	    [CTL_CMD_METRICS] = "metrics",
	    [CTL_CMD_ZERO] = "zero",
	    [CTL_CMD_RESTART] = "restart",
	};

	return cmd > 0 && cmd < CTL_CMD_LAST ? names[cmd] : "?";
}
