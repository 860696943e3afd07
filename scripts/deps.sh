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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
