#!/bin/bash
# `make install` / `make uninstall` with DESTDIR, and the manual pages.
#
# Installs the configured build tree into a throw-away DESTDIR and checks
# that the daemon, the unit (with this build's sbindir in ExecStart), the
# example configuration and the man pages are where configure said, that a
# second install keeps a changed configuration, and that uninstall removes
# every file except that changed configuration.  Every man page must render
# without a groff warning.  No namespace, no traffic.
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"

cd "$TOP"
[[ -f Makefile ]] || fail "no Makefile: run scripts/build.sh first"
DEST=$TMP/root

# configure's directories, as make sees them.
mkvar() { make -s --no-print-directory -f Makefile -f - "print-$1" <<<"print-%: ; @echo \$(\$*)"; }
SBINDIR=$(mkvar sbindir)
CONFDIR=$(mkvar sysconfdir)/nfqlb
UNITDIR=$(mkvar systemdsystemunitdir)
MANDIR=$(mkvar mandir)
log "sbindir=$SBINDIR confdir=$CONFDIR unitdir=$UNITDIR mandir=$MANDIR"
[[ -n $SBINDIR && -n $UNITDIR && -n $MANDIR ]] || fail "could not read the install directories from the Makefile"

make -s install DESTDIR="$DEST" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log" >&2; fail "make install failed"; }

expect_file() { [[ -f $DEST$1 ]] || fail "make install did not install $1"; }
expect_file "$SBINDIR/nfqlb"
[[ -x $DEST$SBINDIR/nfqlb ]] || fail "$SBINDIR/nfqlb is not executable"
"$DEST$SBINDIR/nfqlb" -V | grep -q '^nfqlb ' || fail "the installed nfqlb -V does not print its version"
expect_file "$UNITDIR/nfqlb.service"
expect_file "$CONFDIR/nfqlb.conf"
cmp -s etc/nfqlb.conf "$DEST$CONFDIR/nfqlb.conf" || fail "$CONFDIR/nfqlb.conf is not the example"
for page in man/*.[58]; do
	expect_file "$MANDIR/man${page##*.}/${page##*/}"
done
# Every installed program has its manual page (lintian's no-manual-page).
for prog in "$DEST$SBINDIR"/*; do
	expect_file "$MANDIR/man8/${prog##*/}.8"
done
# Every program built for sbin is installed (nfqlbctl once it exists).
for prog in $(mkvar sbin_PROGRAMS); do
	expect_file "$SBINDIR/$prog"
done

# The installed unit starts the installed daemon.
grep -qx "ExecStart=$SBINDIR/nfqlb -f" "$DEST$UNITDIR/nfqlb.service" ||
	fail "installed unit: ExecStart is not '$SBINDIR/nfqlb -f': $(grep ExecStart "$DEST$UNITDIR/nfqlb.service")"
# Everything else is the source unit, line for line.
diff <(grep -v '^ExecStart=' systemd/nfqlb.service) \
	<(grep -v '^ExecStart=' "$DEST$UNITDIR/nfqlb.service") >&2 ||
	fail "the installed unit differs from systemd/nfqlb.service beyond ExecStart"

# The installed default configuration path is the one the daemon reads.
"$DEST$SBINDIR/nfqlb" -h | grep -qF "default $CONFDIR/nfqlb.conf" ||
	fail "nfqlb -h does not name $CONFDIR/nfqlb.conf as its default: $("$DEST$SBINDIR/nfqlb" -h | grep default)"

# The administrator's configuration survives a reinstall...
echo "# changed by the administrator" >>"$DEST$CONFDIR/nfqlb.conf"
make -s install DESTDIR="$DEST" >"$TMP/install2.log" 2>&1 || fail "second make install failed"
grep -q "changed by the administrator" "$DEST$CONFDIR/nfqlb.conf" || fail "make install overwrote a changed $CONFDIR/nfqlb.conf"
# ... and an uninstall, which removes everything else.
make -s uninstall DESTDIR="$DEST" >"$TMP/uninstall.log" 2>&1 || fail "make uninstall failed"
left=$(cd "$DEST" && find . -type f | sort)
[[ $left == "./${CONFDIR#/}/nfqlb.conf" ]] || fail "after make uninstall, expected only the changed configuration, found: $left"
# An unchanged example is removed by uninstall.
rm -f "$DEST$CONFDIR/nfqlb.conf"
make -s install DESTDIR="$DEST" >/dev/null 2>&1 || fail "third make install failed"
make -s uninstall DESTDIR="$DEST" >/dev/null 2>&1 || fail "second make uninstall failed"
left=$(cd "$DEST" && find . -type f)
[[ -z $left ]] || fail "make uninstall left files behind: $left"

# The manual pages render without warnings (macros, fonts, escapes).
for page in man/*.[58]; do
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z "$page" 2>&1) || fail "groff failed on $page: $out"
	[[ -z $out ]] || fail "groff warnings for $page: $out"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || true
	[[ -z $out ]] || fail "man warnings for $page: $out"
done
log "install, reinstall, uninstall and man pages OK"
