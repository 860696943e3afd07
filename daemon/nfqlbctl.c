/*
 * nfqlbctl.c - the operator's control tool, the ipvsadm -L / relayctl of
 * nfqlb: parses the command line into one request, sends it over the
 * daemon's control socket (ctl_proto.h) and copies the reply's text to
 * stdout as it streams in. Every failure is one line on stderr.
 *
 * Exit status: 0 success, 1 the daemon refused or failed the command,
 * 2 usage error, 3 the daemon cannot be reached.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

#define DEFAULT_SOCKET "/run/nfqlb/nfqlb.sock"
#define EXIT_REFUSED   1
#define EXIT_USAGE     2
#define EXIT_NODAEMON  3
#define IO_TIMEOUT_S   30 /* per read or write, not for the whole reply */

/* The command grammar, as relayctl's parser.c: a declarative table. */
struct command {
	const char *name;
	uint8_t cmd;
	unsigned int min_args, max_args;
	uint16_t options; /* CTL_F_* flags the command accepts */
	const char *usage;
};

static const struct command commands[] = {
    {"list", CTL_CMD_LIST, 0, 0, CTL_F_STATS | CTL_F_RATE | CTL_F_ZERO,
     "list [--stats] [--rate] [--zero]"},
    {"conns", CTL_CMD_CONNS, 0, 0, 0, "conns"},
    {"server", CTL_CMD_SERVER, 3, 4, 0,
     "server SERVICE ADDRESS[:PORT] weight N | drain | enable | disable"},
    {"reload", CTL_CMD_RELOAD, 0, 0, 0, "reload"},
    {"checkpoint", CTL_CMD_CHECKPOINT, 0, 0, 0, "checkpoint"},
    {"restart", CTL_CMD_RESTART, 0, 0, 0, "restart"},
    {"metrics", CTL_CMD_METRICS, 0, 0, 0, "metrics"},
    {"zero", CTL_CMD_ZERO, 0, 1, 0, "zero [SERVICE]"},
};

static const struct {
	const char *name;
	uint16_t flag;
} list_options[] = {
    {"--stats", CTL_F_STATS},
    {"--rate", CTL_F_RATE},
    {"--zero", CTL_F_ZERO},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfqlbctl [-s PATH] [--json] COMMAND [ARGS]\n"
		"  -s, --socket PATH  the daemon's control socket (default "
		"%s)\n"
		"  --json             machine-readable output (before or "
		"after COMMAND)\n"
		"  -h, --help         this help\n"
		"  -V, --version      print the version\n"
		"commands:\n",
		DEFAULT_SOCKET);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "exit status: 0 ok, 1 refused or failed, 2 usage, "
		   "3 daemon not reachable\n");
}

static int die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The one line on stderr, then the exit status. */
static int die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("nfqlbctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* What the command line asks for. */
struct invocation {
	const char *socket;
	uint16_t flags;
	const struct command *cmd;
	const char *args[CTL_MAX_ARGS];
	unsigned int argc;
};

/* Options that take no value, anywhere on the line; false if unknown. */
static bool flag_option(const char *arg, struct invocation *inv)
{
	if (strcmp(arg, "--json") == 0) {
		inv->flags |= CTL_F_JSON;
		return true;
	}
	for (size_t i = 0; i < sizeof(list_options) / sizeof(list_options[0]);
	     i++) {
		if (strcmp(arg, list_options[i].name) == 0) {
			inv->flags |= list_options[i].flag;
			return true;
		}
	}
	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		usage(stdout);
		exit(EXIT_SUCCESS);
	}
	if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
		printf("nfqlbctl %s\n", PACKAGE_VERSION);
		exit(EXIT_SUCCESS);
	}
	return false;
}

static void parse_args(int argc, char **argv, struct invocation *inv)
{
	const char *words[CTL_MAX_ARGS + 1];
	unsigned int nw = 0;
	bool options = true;

	inv->socket = DEFAULT_SOCKET;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (options && (strcmp(a, "-s") == 0 ||
				       strcmp(a, "--socket") == 0)) {
			if (i + 1 >= argc)
				die(EXIT_USAGE,
				    "%s needs a PATH (see nfqlbctl "
				    "--help)",
				    a);
			inv->socket = argv[++i];
		} else if (options && strncmp(a, "--socket=", 9) == 0) {
			inv->socket = a + 9;
		} else if (options && a[0] == '-' && a[1] != '\0') {
			if (!flag_option(a, inv))
				die(EXIT_USAGE,
				    "unknown option '%s' (see nfqlbctl --help)",
				    a);
		} else {
			if (nw == CTL_MAX_ARGS + 1)
				die(EXIT_USAGE, "too many arguments (see "
						"nfqlbctl --help)");
			words[nw++] = a;
		}
	}
	if (nw == 0)
		die(EXIT_USAGE, "no command given (see nfqlbctl --help)");
	inv->cmd = find_command(words[0]);
	if (!inv->cmd)
		die(EXIT_USAGE, "unknown command '%s' (see nfqlbctl --help)",
		    words[0]);
	inv->argc = nw - 1;
	if (inv->argc < inv->cmd->min_args || inv->argc > inv->cmd->max_args)
		die(EXIT_USAGE, "usage: nfqlbctl %s", inv->cmd->usage);
	if (inv->flags & ~(CTL_F_JSON | inv->cmd->options))
		die(EXIT_USAGE,
		    "%s does not take that option; usage: "
		    "nfqlbctl %s",
		    inv->cmd->name, inv->cmd->usage);
	for (unsigned int i = 0; i < inv->argc; i++)
		inv->args[i] = words[i + 1];
}

static int connect_daemon(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die(EXIT_USAGE, "socket path %s is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(EXIT_NODAEMON, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		die(EXIT_NODAEMON, "cannot connect to %s: %s%s", path,
		    strerror(e),
		    e == ENOENT || e == ECONNREFUSED ? " (is nfqlb running?)"
		    : e == EACCES ? " (root or the control group only)"
				  : "");
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		die(EXIT_NODAEMON, "%s: setsockopt: %s", path, strerror(errno));
	return fd;
}

static void send_all(int fd, const uint8_t *buf, size_t len, const char *path)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		/* the daemon may have answered (refused) and closed: its
		 * reply is still there to read */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return;
		if (n < 0)
			die(EXIT_NODAEMON, "%s: sending the request: %s", path,
			    strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* Reads exactly len bytes; false on a clean end of stream at offset 0. */
static bool recv_all(int fd, uint8_t *buf, size_t len, const char *path)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_REFUSED, "%s: reading the reply: %s", path,
			    errno == EAGAIN ? "timed out" : strerror(errno));
		if (n == 0) {
			if (got == 0)
				return false;
			break;
		}
		got += (size_t)n;
	}
	if (got < len)
		die(EXIT_REFUSED,
		    "%s: the daemon closed the connection in "
		    "the middle of a reply",
		    path);
	return true;
}

/* Copies DATA frames to stdout until the END frame; returns its status. */
static int read_reply(int fd, const char *path)
{
	static uint8_t payload[CTL_MAX_FRAME + 1];
	uint8_t hdr[CTL_HDR_LEN];
	struct ctl_frame f;

	for (;;) {
		if (!recv_all(fd, hdr, sizeof(hdr), path))
			die(EXIT_REFUSED,
			    "%s: the daemon closed the "
			    "connection without a reply",
			    path);
		switch (ctl_frame_parse(&f, hdr, sizeof(hdr))) {
		case CTL_PARSE_VERSION:
			die(EXIT_REFUSED,
			    "the daemon speaks control protocol version %u, "
			    "nfqlbctl speaks %u",
			    f.version, CTL_VERSION);
		case CTL_PARSE_DONE:
			break;
		default:
			die(EXIT_REFUSED, "%s: malformed reply from the daemon",
			    path);
		}
		if (f.len && !recv_all(fd, payload, f.len, path))
			die(EXIT_REFUSED, "%s: reply cut short", path);
		if (f.type == CTL_FRAME_DATA) {
			if (fwrite(payload, 1, f.len, stdout) != f.len)
				die(EXIT_REFUSED, "writing the output: %s",
				    strerror(errno));
			continue;
		}
		if (f.status != CTL_OK) {
			payload[f.len] = '\0';
			/* one line, whatever the daemon sent */
			payload[strcspn((char *)payload, "\n")] = '\0';
			die(EXIT_REFUSED, "%s",
			    f.len ? (char *)payload : "command failed");
		}
		return EXIT_SUCCESS;
	}
}

int main(int argc, char **argv)
{
	static uint8_t req[CTL_HDR_LEN + CTL_MAX_BODY];
	struct invocation inv = {0};
	int fd, len;

	parse_args(argc, argv, &inv);
	len = ctl_request_encode(req, sizeof(req), inv.cmd->cmd, inv.flags,
				 inv.argc, inv.args);
	if (len < 0)
		die(EXIT_USAGE, "arguments too long");
	fd = connect_daemon(inv.socket);
	send_all(fd, req, (size_t)len, inv.socket);
	len = read_reply(fd, inv.socket);
	close(fd);
	if (fflush(stdout) != 0)
		die(EXIT_REFUSED, "writing the output: %s", strerror(errno));
	return len;
}
