/*
 * udpblast - send small UDP datagrams as fast as possible for a fixed time,
 * spread over many source ports (one connected socket per source port), using
 * sendmmsg(2).  Part of the nfqlb benchmark (bench/bench.sh).
 *
 * usage: udpblast DST_IP DST_PORT SECONDS [NSOCKETS [BASE_SPORT [PAYLOAD [BATCH]]]]
 *
 *   NSOCKETS    number of source ports (flows), default 64
 *   BASE_SPORT  first source port (ports BASE..BASE+N-1); 0 = ephemeral, default 0
 *   PAYLOAD     UDP payload bytes, default 18 (= 64-byte Ethernet frame incl. FCS)
 *   BATCH       datagrams per sendmmsg call, default 32
 *
 * Prints one line:  sent=N errors=E seconds=S pps=P
 * Exit status 0 if at least one datagram was sent.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 4096
#define MAX_BATCH 1024
#define MAX_PAYLOAD 65000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long arg_long(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "udpblast: bad %s '%s' (want %ld..%ld)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static int fds[MAX_SOCKETS];
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static char payload[MAX_PAYLOAD];
	struct sockaddr_in dst, src;
	unsigned long long sent = 0, errors = 0;
	long nsock = 64, base = 0, plen = 18, batch = 32, secs;
	double t0, t1, deadline;
	struct sigaction sa;
	long i, cur = 0;

	if (argc < 4 || argc > 8) {
		fprintf(stderr,
			"usage: %s DST_IP DST_PORT SECONDS [NSOCKETS [BASE_SPORT [PAYLOAD [BATCH]]]]\n",
			argv[0]);
		return 2;
	}
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "udpblast: bad address '%s'\n", argv[1]);
		return 2;
	}
	dst.sin_port = htons((unsigned short)arg_long(argv[2], 1, 65535, "port"));
	secs = arg_long(argv[3], 1, 86400, "seconds");
	if (argc > 4)
		nsock = arg_long(argv[4], 1, MAX_SOCKETS, "socket count");
	if (argc > 5)
		base = arg_long(argv[5], 0, 65535, "base source port");
	if (argc > 6)
		plen = arg_long(argv[6], 0, MAX_PAYLOAD, "payload size");
	if (argc > 7)
		batch = arg_long(argv[7], 1, MAX_BATCH, "batch size");
	if (base && base + nsock - 1 > 65535) {
		fprintf(stderr, "udpblast: source ports exceed 65535\n");
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (i = 0; i < nsock; i++) {
		int one = 1;

		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0) {
			perror("udpblast: socket");
			return 1;
		}
		setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_port = base ? htons((unsigned short)(base + i)) : 0;
		if (bind(fds[i], (struct sockaddr *)&src, sizeof(src)) < 0) {
			/* port taken: fall back to an ephemeral one */
			src.sin_port = 0;
			if (bind(fds[i], (struct sockaddr *)&src, sizeof(src)) < 0) {
				perror("udpblast: bind");
				return 1;
			}
		}
		if (connect(fds[i], (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			perror("udpblast: connect");
			return 1;
		}
	}

	memset(payload, 'x', (size_t)plen);
	for (i = 0; i < batch; i++) {
		iov[i].iov_base = payload;
		iov[i].iov_len = (size_t)plen;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = now_s();
	deadline = t0 + (double)secs;
	while (!stop) {
		int n = sendmmsg(fds[cur], msgs, (unsigned int)batch, MSG_DONTWAIT);

		if (n > 0) {
			sent += (unsigned long long)n;
		} else if (n < 0) {
			errors++;
			if (errno == EAGAIN || errno == ENOBUFS)
				usleep(50);
			else if (errno != EINTR && errno != ECONNREFUSED && errno != EPERM)
				usleep(1000);
		}
		if (++cur == nsock)
			cur = 0;
		if (now_s() >= deadline)
			break;
	}
	t1 = now_s();

	for (i = 0; i < nsock; i++)
		close(fds[i]);
	printf("sent=%llu errors=%llu seconds=%.3f pps=%.0f\n", sent, errors, t1 - t0,
	       (t1 - t0) > 0 ? (double)sent / (t1 - t0) : 0.0);
	return sent ? 0 : 1;
}
