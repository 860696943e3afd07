#!/bin/bash
# Packaging, as CI proves it:
#  1. make distcheck (build, check, install, uninstall from the tarball);
#  2. dpkg-buildpackage -us -uc -b in the unpacked tarball builds the .deb;
#     lintian reports nothing (the two tags left are overridden, with the
#     reason, in debian/nfqlb.lintian-overrides);
#  3. the .deb holds the expected files;
#  4. installed with dpkg in a throw-away root (a container booted from an
#     overlay of this machine, with systemd as PID 1 and the topology's
#     director network, tests/lib/container.sh): the unit is enabled and
#     running, the user nfqlb exists, /etc/nfqlb/nfqlb.conf is a conffile,
#     and the shipped example configuration balances the test topology
#     (its VIP and real servers are the demo's) wrr 3:2:1;
#  5. an upgrade (the same package as 0.1.0-2) keeps the administrator's
#     changed configuration and re-executes the daemon in place (hitless
#     restart from the postinst: same PID, no restart counted), which then
#     balances as the changed file says;
#  6. dpkg -r stops the daemon (rules gone), removes the files, keeps the
#     configuration; dpkg -P removes it, the state and the enablement.
# shellcheck source-path=SCRIPTDIR source=../lib/topo.sh
source "$(dirname "$0")/../lib/topo.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/container.sh
source "$(dirname "$0")/../lib/container.sh"

cd "$TOP"
[[ -f Makefile ]] || fail "no Makefile: run scripts/build.sh first"
for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null || fail "$tool not found (scripts/deps.sh installs it)"
done
version=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
tarball=nfqlb-$version.tar.gz
t0=$SECONDS

# 1. make distcheck
make -j2 distcheck >"$TMP/distcheck.log" 2>&1 || {
	tail -n 40 "$TMP/distcheck.log" >&2
	fail "make distcheck failed"
}
[[ -f $tarball ]] || fail "make distcheck left no $tarball"
log "make distcheck: OK ($((SECONDS - t0)) s)"

# 2. the .deb, from the tarball
t1=$SECONDS
mkdir "$TMP/deb"
tar -C "$TMP/deb" -xzf "$tarball"
(cd "$TMP/deb/nfqlb-$version" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) \
	>"$TMP/dpkg-buildpackage.log" 2>&1 || {
	tail -n 40 "$TMP/dpkg-buildpackage.log" >&2
	fail "dpkg-buildpackage -us -uc -b failed"
}
debver=$(dpkg-parsechangelog -l debian/changelog -S Version)
deb=$(echo "$TMP/deb/nfqlb_${debver}_"*.deb)
[[ -f $deb ]] || fail "no nfqlb_${debver}_*.deb built: $(ls "$TMP/deb")"
log "dpkg-buildpackage: $(basename "$deb") ($((SECONDS - t1)) s)"
lint=$(lintian "$TMP/deb/nfqlb_${debver}_"*.changes 2>&1 | grep -v '^running with root privileges' || true)
[[ -z $lint ]] || fail "lintian: $lint"
log "lintian: clean (overrides: $(grep -c '^nfqlb:' debian/nfqlb.lintian-overrides), explained in debian/nfqlb.lintian-overrides)"

# 3. its contents
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$TMP/contents"
for f in /usr/sbin/nfqlb /usr/sbin/nfqlbctl /usr/sbin/nfqlb-realserver \
	/lib/systemd/system/nfqlb.service /etc/nfqlb/nfqlb.conf \
	/usr/lib/sysusers.d/nfqlb.conf /usr/share/doc/nfqlb/copyright \
	/usr/share/man/man8/nfqlb.8.gz /usr/share/man/man5/nfqlb.conf.5.gz \
	/usr/share/man/man8/nfqlbctl.8.gz /usr/share/man/man8/nfqlb-realserver.8.gz; do
	grep -qx "$f" "$TMP/contents" || fail "the package lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/nfqlb/nfqlb.conf ||
	fail "/etc/nfqlb/nfqlb.conf is not a conffile"
cmp -s <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/nfqlb.service) systemd/nfqlb.service ||
	fail "the packaged unit differs from systemd/nfqlb.service"

# 4. install it where systemd runs, in the director's network
topo_demo 3
snap_before=$(ipt_snapshot "$NS_DIRECTOR")
rules() { grep -E '^(-A|:[^ ]+ -)' <<<"$1" || true; }
ct_boot "$NS_DIRECTOR"
ct_dpkg() { ct env DEBIAN_FRONTEND=noninteractive dpkg "$@" </dev/null; }
# This machine's image forbids starting services from maintainer scripts
# (a Docker-style /usr/sbin/policy-rc.d exiting 101); a Debian host does
# not, so the throw-away root does not either (the host's file stays).
ct rm -f /usr/sbin/policy-rc.d
mkdir -p "$CT_ROOT/srv/pkg"
cp "$deb" "$CT_ROOT/srv/pkg/"
t2=$SECONDS
ct_dpkg -i "/srv/pkg/$(basename "$deb")" >"$TMP/dpkg-i.log" 2>&1 || {
	cat "$TMP/dpkg-i.log" >&2
	ct_fail "dpkg -i failed"
}
[[ $(ct systemctl is-enabled nfqlb.service) == enabled ]] || ct_fail "the unit is not enabled after installation"
[[ $(prop ActiveState) == active ]] || ct_fail "the unit is not running after installation: $(prop ActiveState)"
ct id nfqlb >/dev/null || ct_fail "no user nfqlb after installation"
# shellcheck disable=SC2016 # dpkg-query's own ${...}
ct dpkg-query -W -f='${Conffiles}\n' nfqlb | grep -q '/etc/nfqlb/nfqlb.conf' || ct_fail "dpkg does not list the conffile"
ct man -w nfqlb >/dev/null || ct_fail "man nfqlb does not find the page"
http_requests 12 >"$TMP/bodies.1"
assert_counts "$TMP/bodies.1" "s1=6 s2=4 s3=2"
log "dpkg -i: enabled, running the shipped example (wrr 3:2:1 over the test's servers), user nfqlb, conffile ($((SECONDS - t2)) s)"

# 5. upgrade to the same package as $debver+1: the changed config stays
sed -i 's/weight = [0-9]*;/weight = 1;/' "$CT_ROOT/etc/nfqlb/nfqlb.conf"
pid=$(prop MainPID)
ver2=${debver%-*}-$((${debver##*-} + 1))
dpkg-deb -R "$deb" "$TMP/repack"
sed -i "s/^Version: .*/Version: $ver2/" "$TMP/repack/DEBIAN/control"
dpkg-deb -b "$TMP/repack" "$CT_ROOT/srv/pkg/nfqlb_${ver2}.deb" >/dev/null
ct_dpkg -i "/srv/pkg/nfqlb_${ver2}.deb" >"$TMP/dpkg-upgrade.log" 2>&1 || {
	cat "$TMP/dpkg-upgrade.log" >&2
	ct_fail "the upgrade failed (a conffile prompt?)"
}
# shellcheck disable=SC2016 # dpkg-query's own ${...}
got=$(ct dpkg-query -W -f='${Version}' nfqlb)
[[ $got == "$ver2" ]] || ct_fail "version after the upgrade: $got"
grep -q 'weight = 3;' "$CT_ROOT/etc/nfqlb/nfqlb.conf" && ct_fail "the upgrade replaced the administrator's configuration"
# the postinst re-executed the daemon in place (hitless restart)
reexecuted() { ct journalctl -u nfqlb.service --no-pager | grep -q "queue 0: taken over from the previous image"; }
wait_until 20 reexecuted || ct_fail "the daemon was not re-executed by the upgrade: $(ct journalctl -u nfqlb.service --no-pager | tail -n 20)"
wait_until 10 test "$(prop StatusText)" = balancing || ct_fail "status after the upgrade: $(prop StatusText)"
[[ $(prop ActiveState) == active && $(prop MainPID) == "$pid" && $(prop NRestarts) == 0 ]] ||
	ct_fail "after the upgrade: $(prop ActiveState), MainPID $(prop MainPID) (was $pid), NRestarts $(prop NRestarts)"
http_requests 12 >"$TMP/bodies.2"
assert_counts "$TMP/bodies.2" "s1=4 s2=4 s3=4"
log "upgrade to $ver2: the changed configuration kept, daemon re-executed in place (PID $pid) with it (rr-like 1:1:1)"

# 6. remove, purge
ct_dpkg -r nfqlb >"$TMP/dpkg-r.log" 2>&1 || { cat "$TMP/dpkg-r.log" >&2; ct_fail "dpkg -r failed"; }
[[ $(prop ActiveState) != active ]] || ct_fail "the daemon still runs after dpkg -r"
[[ $(rules "$(ipt_snapshot "$NS_DIRECTOR")") == "$(rules "$snap_before")" ]] ||
	ct_fail "rules left after dpkg -r: $(ipt_snapshot "$NS_DIRECTOR")"
[[ ! -e $CT_ROOT/usr/sbin/nfqlb && ! -e $CT_ROOT/lib/systemd/system/nfqlb.service ]] || ct_fail "files left after dpkg -r"
[[ -f $CT_ROOT/etc/nfqlb/nfqlb.conf ]] || ct_fail "dpkg -r removed the configuration"
ct_dpkg -P nfqlb >"$TMP/dpkg-P.log" 2>&1 || { cat "$TMP/dpkg-P.log" >&2; ct_fail "dpkg -P failed"; }
left=$(ct sh -c 'ls -d /etc/nfqlb /var/lib/nfqlb /usr/lib/sysusers.d/nfqlb.conf 2>/dev/null;
	find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled -name "nfqlb*" 2>/dev/null' || true)
[[ -z $left ]] || ct_fail "left after dpkg -P: $left"
log "dpkg -r: stopped, rules removed, configuration kept; dpkg -P: nothing left"
log "total $((SECONDS - t0)) s"
