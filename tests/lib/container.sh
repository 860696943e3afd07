# shellcheck shell=bash
# tests/lib/container.sh — sourced after topo.sh by tests that need a real
# systemd as PID 1 (the machine's own init is not systemd).
#
# ct_boot NETNS boots systemd in a systemd-nspawn container whose root is a
# throw-away overlay of the host's own / (lower: /, upper: a tmpfs), inside a
# private mount namespace: whatever the test installs or changes in the
# container (dpkg -i, /etc, units) lands in the tmpfs and is gone when the
# container stops.  The container shares the network namespace NETNS (e.g.
# the topology's director), so traffic from the topology's client meets the
# daemon that the container's systemd runs.  Nothing is mounted in the
# host's namespace and the host's files are never written.
#
# After ct_boot: CT_INIT is the container's PID 1 (host PID), CT_ROOT its root
# directory as the host sees it (/proc/$CT_INIT/root), ct CMD... runs CMD in
# the container (its mount, PID, IPC, UTS and network namespaces).
# ct_shutdown powers it off (done by the cleanup too).  The boot target is
# basic.target, so no service enabled on the host (databases...) starts.

CT_PID=""   # the systemd-nspawn process
CT_INIT=""  # the container's systemd, as seen from the host
CT_ROOT=""
CT_NAME=""
CT_LOG=""
CT_CGROUP=""

ct() { nsenter --target "$CT_INIT" --mount --pid --ipc --uts --net -- "$@"; }

# ct_fail MSG — fail, with the journal of nfqlb.service in the container.
ct_fail() {
	if [[ -n $CT_INIT ]]; then
		echo "----- journal of nfqlb.service in the container -----" >&2
		ct journalctl -u nfqlb.service --no-pager -n 40 >&2 || true
	fi
	fail "$@"
}

# prop PROPERTY — a property of nfqlb.service in the container.
prop() { ct systemctl show -P "$1" nfqlb.service; }

# The container's init: the descendant of systemd-nspawn named systemd.
_ct_find_init() {
	local p kids queue=("$CT_PID")
	while ((${#queue[@]})); do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		if [[ $p != "$CT_PID" && $(cat "/proc/$p/comm" 2>/dev/null) == systemd ]]; then
			CT_INIT=$p
			return 0
		fi
		read -ra kids < <(cat /proc/"$p"/task/*/children 2>/dev/null | tr '\n' ' ')
		queue+=("${kids[@]}")
	done
	return 1
}

_ct_booted() {
	local s
	[[ -n $CT_INIT ]] || _ct_find_init || return 1
	s=$(ct systemctl is-system-running 2>/dev/null) || true
	[[ $s == running || $s == degraded ]]
}

# ct_boot NETNS — boot; fail unless systemd is up within 60 s.
ct_boot() {
	local netns=$1 dir=$TMP/ct
	command -v systemd-nspawn >/dev/null || fail "systemd-nspawn not found (package systemd-container, scripts/deps.sh)"
	CT_NAME=nfqlb-$NS_PREFIX
	CT_LOG=$TMP/container.log
	mkdir -p "$dir"
	# The overlay and nspawn live in their own mount namespace: when nspawn
	# exits, the namespace and every mount in it go away with it.
	# Its own cgroup too (in every hierarchy systemd uses), so that two
	# containers never share the payload/supervisor cgroups nspawn makes.
	CT_CGROUP=nfqlb-test-$CT_NAME
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare --mount --propagation private sh -ec '
		for h in systemd unified; do
			mkdir "/sys/fs/cgroup/$h/$4"
			echo $$ >"/sys/fs/cgroup/$h/$4/cgroup.procs"
		done
		mount -t tmpfs -o size=1g,mode=0755 nfqlb-ct "$1"
		mkdir "$1/upper" "$1/work" "$1/root"
		mount -t overlay overlay -o "lowerdir=/,upperdir=$1/upper,workdir=$1/work" "$1/root"
		systemd-id128 new >"$1/root/etc/machine-id"
		exec systemd-nspawn --quiet --directory="$1/root" --machine="$3" \
			--register=no --keep-unit --link-journal=no \
			--network-namespace-path="$2" --capability=CAP_NET_ADMIN \
			--boot -- systemd.unit=basic.target
	' sh "$dir" "/run/netns/$netns" "$CT_NAME" "$CT_CGROUP" >"$CT_LOG" 2>&1 </dev/null &
	CT_PID=$!
	wait_until 60 _ct_booted || {
		tail -n 30 "$CT_LOG" >&2
		fail "the container's systemd did not come up within 60 s"
	}
	# shellcheck disable=SC2034 # for the tests
	CT_ROOT=/proc/$CT_INIT/root
	log "container $CT_NAME booted (init pid $CT_INIT): $(ct systemctl --version | head -n 1)"
}

ct_shutdown() {
	[[ -n $CT_PID ]] || return 0
	if proc_alive "$CT_PID"; then
		ct systemctl --no-block poweroff >/dev/null 2>&1 || true
		wait_until 30 proc_dead "$CT_PID" || kill -KILL "$CT_PID" 2>/dev/null || true
	fi
	wait "$CT_PID" 2>/dev/null || true
	CT_PID=""
	# What nspawn leaves on the host's /run (it refuses to remove it itself
	# when /run is not a tmpfs) and its empty cgroups.
	rm -rf "/run/systemd/nspawn/propagate/$CT_NAME"
	local h
	for h in systemd unified; do
		[[ -d /sys/fs/cgroup/$h/$CT_CGROUP ]] || continue
		find "/sys/fs/cgroup/$h/$CT_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# Our shutdown before topo.sh's cleanup, which reads the exit status from $?.
_ct_status() { return "$1"; }
_ct_exit() {
	local rc=$?
	set +e
	trap - ERR
	ct_shutdown
	_ct_status "$rc"
	cleanup
}
trap _ct_exit EXIT
