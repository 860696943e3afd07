/*
 * privdrop.c - after start-up (queue bound, rules in place, sockets open)
 * the daemon may leave root for daemon.user, keeping the two capabilities
 * its work needs: CAP_NET_ADMIN (queue verdicts and config, nf_tables for
 * the rules it changes on reload and removes on stop) and CAP_NET_RAW
 * (packet and raw sockets for VS/DR and VS/TUN).  The children it runs
 * (iptables-restore, iptables-save) get them as ambient capabilities,
 * which survive execve of a binary that is not set-uid (capabilities(7)).
 * libcap is not needed: capset(2) and prctl(2) are called directly.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#define KEPT_CAPS ((1ull << CAP_NET_ADMIN) | (1ull << CAP_NET_RAW))

static int set_caps(uint64_t caps)
{
	struct __user_cap_header_struct hdr = {
	    .version = _LINUX_CAPABILITY_VERSION_3,
	    .pid = 0,
	};
	struct __user_cap_data_struct data[2] = {
	    {.effective = (uint32_t)caps,
	     .permitted = (uint32_t)caps,
	     .inheritable = (uint32_t)caps},
	    {.effective = (uint32_t)(caps >> 32),
	     .permitted = (uint32_t)(caps >> 32),
	     .inheritable = (uint32_t)(caps >> 32)},
	};

	return (int)syscall(SYS_capset, &hdr, data);
}

/* Every capability but the kept ones leaves the bounding set (as root,
 * before the switch: it takes CAP_SETPCAP, so one already out is skipped). */
static int drop_bounding_set(void)
{
	int in;

	for (int cap = 0; (in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0;
	     cap++) {
		if (!in || ((KEPT_CAPS >> cap) & 1))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	}
	return 0;
}

static int raise_ambient(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) <
		0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) < 0)
		return -1;
	return 0;
}

int privdrop_to_user(const char *user)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		log_err("daemon.user '%s': %s", user,
			errno ? strerror(errno) : "no such user");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0) {
		log_err("daemon.user '%s' is root: nothing to drop", user);
		return -1;
	}
	if (getuid() == uid && geteuid() == uid)
		return 0; /* started as the user (e.g. re-executed) */

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		log_err("daemon.user '%s': PR_SET_KEEPCAPS: %m", user);
		return -1;
	}
	if (drop_bounding_set() < 0) {
		log_err("daemon.user '%s': dropping the capability bounding "
			"set: %m",
			user);
		return -1;
	}
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		log_err("daemon.user '%s': switching to uid %u gid %u: %m "
			"(needs CAP_SETUID and CAP_SETGID: under systemd, use "
			"User= and AmbientCapabilities= in the unit instead)",
			user, (unsigned int)uid, (unsigned int)gid);
		return -1;
	}
	if (set_caps(KEPT_CAPS) < 0 || raise_ambient() < 0) {
		log_err("daemon.user '%s': keeping CAP_NET_ADMIN and "
			"CAP_NET_RAW: %m",
			user);
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("daemon.user '%s': prctl: %m", user);
		return -1;
	}
	/* Defence in depth: root must be out of reach now. */
	if (setuid(0) == 0) {
		log_err("daemon.user '%s': could still become root again",
			user);
		return -1;
	}
	log_info("running as user %s (uid %u, gid %u) with CAP_NET_ADMIN and "
		 "CAP_NET_RAW only",
		 user, (unsigned int)uid, (unsigned int)gid);
	return 0;
}
