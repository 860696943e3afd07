/* privdrop.h - run as an unprivileged user with CAP_NET_ADMIN, CAP_NET_RAW */
#ifndef NFQLB_PRIVDROP_H
#define NFQLB_PRIVDROP_H

/*
 * Switches the process to USER (its uid, primary gid, no supplementary
 * groups), keeping only CAP_NET_ADMIN and CAP_NET_RAW: effective,
 * permitted, inheritable and ambient, so the iptables-restore/-save
 * children have them too.  Every other capability leaves the bounding set
 * and no_new_privs is set.  Returns 0, or -1 with the reason logged (the
 * caller must not go on as root then).  Already running as USER: 0.
 */
int privdrop_to_user(const char *user);

#endif
