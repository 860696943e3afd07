/*
 * ipip_decap.c - a user-space IPIP endpoint for VS/TUN tests on kernels
 * without the ipip module: IPIP packets read from a raw IPPROTO_IPIP
 * socket (the kernel reassembles outer fragments first) are written,
 * without their outer header, to a TUN device, so the real server's stack
 * receives the client's packet as a kernel tunnel would deliver it.
 *
 * usage: ipip_decap TUNDEV   (runs until killed; counts on SIGTERM)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static unsigned char buf[65536];
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned long packets = 0, bad = 0;
	int tun, raw;

	if (argc != 2) {
		fprintf(stderr, "usage: ipip_decap TUNDEV\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	tun = tun_open(argv[1]);
	if (tun < 0) {
		fprintf(stderr, "ipip_decap: tun %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IPIP);
	if (raw < 0) {
		fprintf(stderr, "ipip_decap: raw socket: %s\n",
			strerror(errno));
		return 1;
	}
	printf("ipip_decap: %s ready\n", argv[1]);
	fflush(stdout);
	while (!stop) {
		ssize_t n = recv(raw, buf, sizeof(buf), 0);
		size_t ihl;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "ipip_decap: recv: %s\n",
				strerror(errno));
			return 1;
		}
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if ((size_t)n < ihl + 20 || buf[9] != IPPROTO_IPIP) {
			bad++;
			continue;
		}
		if (write(tun, buf + ihl, (size_t)n - ihl) < 0)
			bad++;
		else
			packets++;
	}
	printf("ipip_decap: %lu packets decapsulated, %lu refused\n", packets,
	       bad);
	return 0;
}
