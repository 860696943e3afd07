#!/bin/bash
# Installs every Debian package needed to build and test nfqlb.
# Idempotent and quiet when everything is there: apt is only touched (and
# its lists only updated) when a package is missing.
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake libtool pkg-config
	libnetfilter-queue-dev libmnl-dev libnfnetlink-dev libconfig-dev libev-dev
	libcmocka-dev
	# integration tests: namespaces, rules, traffic, helpers
	iptables conntrack iproute2 socat curl iperf ethtool tcpdump
	python3 python3-scapy procps psmisc coreutils
	# the unit under a real systemd (tests/integration/systemd_unit.sh):
	# systemd-analyze, and systemd-nspawn to boot one in a container
	systemd systemd-container
	# the Debian package (tests/integration/deb_package.sh)
	debhelper dpkg-dev lintian
	# memory checks: the daemon under valgrind (the sanitizer runtimes,
	# libasan/libubsan, come with gcc through build-essential)
	valgrind
	# fuzzers (fuzz/run.sh): clang with libFuzzer and its sanitizer runtimes
	clang libclang-rt-14-dev
	# the benchmark (bench/bench.sh): HAProxy to compare with, nginx on the
	# servers and wrk on the client for the connection rate (each runs in the
	# bench's namespaces with its own config, never as a system service)
	haproxy nginx-light wrk
)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
if ((EUID != 0)); then
	echo "deps.sh: missing packages and not root: apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packages with a service (haproxy, nginx) must not start it in the root
# namespace at install time: a policy-rc.d that denies every start (exit 101,
# honoured by invoke-rc.d and deb-systemd-invoke) for the duration of the
# install, unless the system already has one (containers often do).
POLICY=/usr/sbin/policy-rc.d
if [[ ! -e $POLICY ]]; then
	trap 'rm -f "$POLICY"' EXIT
	printf '#!/bin/sh\n# deps.sh: no service starts while it installs packages\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Nor at boot: the bench runs them in its namespaces only, and
# tests/integration/systemd_unit.sh boots an overlay of this very system in a
# container, where enabled services would start too.
for p in "${missing[@]}"; do
	case $p in
	haproxy) svc=haproxy ;;
	nginx*) svc=nginx ;;
	*) continue ;;
	esac
	systemctl disable --quiet "$svc" >/dev/null 2>&1 ||
		echo "deps.sh: warning: could not disable the $svc service (systemctl disable $svc)" >&2
done
