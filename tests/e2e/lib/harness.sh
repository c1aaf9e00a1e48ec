# shellcheck shell=bash
# harness.sh - a real libvirtd + QEMU for vmlab's end-to-end tests, isolated in a network
# namespace and a private set of libvirt directories.
#
# Source it from bash, then:
#   vl_harness_start NAME   create netns NAME (lo up); start virtlogd and libvirtd inside it
#                           with private libvirt dirs (below); wait until virsh answers; ensure
#                           the dir storage pool "vmlab" exists and is active.
#   vl_harness_stop         destroy/undefine every domain and network named vmlab-*, delete the
#                           vmlab-* volumes of pool "vmlab", stop the daemons by PID (SIGTERM,
#                           then SIGKILL), end by PID whatever still runs in the netns, delete
#                           the netns. Safe to call twice; meant for `trap vl_harness_stop EXIT`.
#   vl_ns_exec CMD...       ip netns exec "$VL_NS" CMD...: every client of a guest IP (ssh, ping,
#                           and vmlab itself, which also downloads images) runs through this
#   vl_virsh ARGS...        virsh -q -c "$VL_E2E_URI" ARGS... (works from any namespace)
#   vl_http_start DIR PORT  serve DIR on 127.0.0.1:PORT inside the netns with lighttpd (Range
#                           requests, ETag, HEAD); several ports may run at once
#   vl_http_stop [PORT]     stop that server, or all of them
#   vl_user_add NAME        create system user NAME in group libvirt (primary group NAME), home
#                           $VL_E2E_STATE/home/NAME with mode 0700 as Debian 12 gives new users,
#                           shell bash; recorded in $VL_E2E_STATE/users. Fails if NAME exists.
#   vl_user_exec NAME CMD...  CMD as NAME inside the netns (runuser -u; the environment, hence
#                           VL_E2E_URI / VMLAB_URI / LIBVIRT_DEFAULT_URI, is kept, HOME is NAME's)
#   vl_harness_stop also ends the recorded users' processes by PID and removes them with
#   `userdel -r` (recorded names only, and only while their home is the one made here).
#
# Non-root clients. libvirtd's socket is group libvirt, mode 0770, auth_unix_rw "none" (no
# polkit runs here), in a socket dir of group libvirt (mode 0750): a member of group libvirt
# (vl_user_add) drives the daemon like Debian's libvirt group allows, without root. The group
# is created (--system) if missing.
#
# Variables set and exported by vl_harness_start:
#   VL_NS          the netns name
#   VL_E2E_STATE   the state dir: PID files, daemon configs and logs, the private libvirt dirs
#   VL_E2E_URI     qemu:///system?socket=$VL_E2E_STATE/sock/libvirt-sock, our libvirtd
#   VMLAB_URI, LIBVIRT_DEFAULT_URI   both = VL_E2E_URI, so vmlab and virsh run by a test can
#                  only ever reach the harness's daemon, never a libvirtd of the host
# Variables read:
#   VL_E2E_STATE_ROOT  where state dirs live (default /run/vmlab-e2e; state = ROOT/NAME)
#   VL_E2E_POOL_DIR    directory of pool "vmlab" (default /var/lib/vmlab/pool-NAME); it and its
#                      parents must be traversable by QEMU's user libvirt-qemu (not 0700)
#   VL_E2E_KEEP_STATE  1 = vl_harness_stop keeps the state dir (logs, serial logs); it is also
#                      kept when vl_harness_stop runs as an EXIT trap of a failing shell
#   VL_E2E_QUIET       1 = no progress lines on stderr
#   VL_E2E_CACHE       shared cache dir (default /var/cache/vmlab-e2e): images, and libvirt's
#                      QEMU capabilities cache in libvirt-cache/
#   VL_E2E_KVM         1 = let libvirt see /dev/kvm (default: hidden, see below)
#   VL_E2E_LOG_LEVEL   libvirtd's log level into $VL_E2E_STATE/libvirtd.log (default 3:
#                      warnings and errors; 1 = debug, very verbose)
# The pool directory survives vl_harness_stop (only its vmlab-* volumes are deleted).
#
# Isolation. A system libvirtd normally owns /run/libvirt, /var/lib/libvirt, /etc/libvirt,
# /var/cache/libvirt and /var/log/libvirt, so two of them on one host (another developer's test
# run, say) would fight over sockets, domain status files and dnsmasq leases. `ip netns exec`
# gives its command a mount namespace of its own; the daemons are started in one such namespace
# where those five directories are bind mounts of fresh directories in the state dir (the
# configuration files of /etc/libvirt are copied, persistent objects are not). The client
# socket is moved to $VL_E2E_STATE/sock (unix_sock_dir), which every namespace sees. So several
# harnesses (different NAMEs) and a host libvirtd can run at once; each start is a clean slate:
# no objects, no leases (dnsmasq ignores a reservation whose IP is still leased to another MAC,
# and leases outlive a destroyed guest by about an hour).
# Under the same NAME, a previous crashed run (daemons, guests, netns recorded in the state dir)
# is ended first; calling vl_harness_start NAME again in the same shell reuses the running one.
#
# /dev/kvm. In the daemons' namespace /dev/kvm is covered by an empty file of mode 000, unless
# VL_E2E_KVM=1. On the test machine KVM hangs Linux guests (right after "Probing EDD"), so
# tests use TCG anyway, and libvirt 9.0 gets its capabilities wrong here: /dev/kvm is root-only
# (0600), libvirt's check "can libvirt-qemu open /dev/kvm" says no while its QEMU probe does
# get KVM, so every cached capability set is judged stale and each API call that looks
# capabilities up re-probes QEMU (about 4 s each: a `virsh define` took minutes). With
# /dev/kvm hidden both agree that there is no KVM, the cache holds, and domain capabilities
# report no kvm (so vmlab's "auto" picks TCG). The private qemu.conf then also says
# `namespaces = [ ]` (no per-guest /dev).
#
# Measured here (2 cores, libvirt 9.0.0, QEMU 7.2): vl_harness_start about 4 s the first time
# (libvirtd's first answer waits for the QEMU capabilities probe), 0.5 s once the
# capabilities cache in $VL_E2E_CACHE/libvirt-cache is filled. vl_harness_stop: about 4 s
# without guests (libvirtd takes that long to exit on SIGTERM), plus about 2 s of parallel
# destroys.

VL_E2E_STATE_ROOT=${VL_E2E_STATE_ROOT:-/run/vmlab-e2e}
VL_E2E_CACHE=${VL_E2E_CACHE:-/var/cache/vmlab-e2e}

_vl_say() { [ "${VL_E2E_QUIET:-0}" = 1 ] || echo "harness: $*" >&2; }

_vl_elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

vl_ns_exec() { ip netns exec "${VL_NS:?vl_harness_start first}" "$@"; }

vl_virsh() { virsh -q -c "${VL_E2E_URI:?vl_harness_start first}" "$@"; }

# _vl_pid_alive PID COMM: PID runs and its command name is COMM.
_vl_pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

# _vl_kill PID COMM [SECONDS]: SIGTERM, wait, then SIGKILL; only while PID still is COMM.
_vl_kill() {
	local pid=$1 comm=$2 wait=${3:-10} i
	_vl_pid_alive "$pid" "$comm" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < wait * 10; i++)); do
		_vl_pid_alive "$pid" "$comm" || return 0
		sleep 0.1
	done
	_vl_say "$comm ($pid) ignored SIGTERM for $wait s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		_vl_pid_alive "$pid" "$comm" || return 0
		sleep 0.1
	done
}

_vl_pidfile() { cat "$1" 2>/dev/null || true; }

_vl_netns_exists() { ip netns list 2>/dev/null | awk '{ print $1 }' | grep -qx "$1"; }

# _vl_purge STATE URI: remove every vmlab-* domain, network and volume from our libvirtd.
_vl_purge() {
	local state=$1 uri=$2 dom net vol pids=()
	for dom in $(virsh -q -c "$uri" list --all --name 2>/dev/null | grep '^vmlab-' || true); do
		# destroy takes about 2 s per guest under TCG: do them in parallel.
		virsh -q -c "$uri" destroy "$dom" >/dev/null 2>&1 &
		pids+=($!)
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" 2>/dev/null || true
	for dom in $(virsh -q -c "$uri" list --all --name 2>/dev/null | grep '^vmlab-' || true); do
		virsh -q -c "$uri" undefine --snapshots-metadata --checkpoints-metadata --nvram "$dom" \
			>/dev/null 2>&1 || virsh -q -c "$uri" undefine "$dom" >/dev/null 2>&1 ||
			_vl_say "cannot undefine domain $dom"
		_vl_say "removed domain $dom"
	done
	for net in $(virsh -q -c "$uri" net-list --all --name 2>/dev/null | grep '^vmlab-' || true); do
		virsh -q -c "$uri" net-destroy "$net" >/dev/null 2>&1 || true
		virsh -q -c "$uri" net-undefine "$net" >/dev/null 2>&1 || true
		_vl_say "removed network $net"
	done
	if virsh -q -c "$uri" pool-info vmlab >/dev/null 2>&1; then
		virsh -q -c "$uri" pool-refresh vmlab >/dev/null 2>&1 || true
		for vol in $(virsh -q -c "$uri" vol-list vmlab 2>/dev/null | awk '$1 ~ /^vmlab-/ { print $1 }'); do
			virsh -q -c "$uri" vol-delete --pool vmlab "$vol" >/dev/null 2>&1 || true
		done
	fi
}

# _vl_stop_name NAME [KEEP]: end everything recorded for NAME (also a crashed run's leftovers).
_vl_stop_name() {
	local name=$1 keep=${2:-0} state=$VL_E2E_STATE_ROOT/$1 uri lpid vpid pid pids i
	uri="qemu:///system?socket=$state/sock/libvirt-sock"
	lpid=$(_vl_pidfile "$state/libvirtd.pid")
	vpid=$(_vl_pidfile "$state/virtlogd.pid")
	if _vl_pid_alive "$lpid" libvirtd; then
		_vl_purge "$state" "$uri"
	fi
	[ -d "$state" ] && _vl_http_stop_in "$state"
	[ -f "$state/users" ] && _vl_users_del "$state"
	_vl_kill "$lpid" libvirtd 15
	_vl_kill "$vpid" virtlogd 5
	rm -f "$state/libvirtd.pid" "$state/virtlogd.pid"
	# Whatever still runs in the namespace (dnsmasq, QEMU left by a crashed run) was started by
	# this harness: end it by PID, then delete the namespace.
	if _vl_netns_exists "$name"; then
		for ((i = 0; i < 3; i++)); do
			pids=$(ip netns pids "$name" 2>/dev/null || true)
			[ -z "$pids" ] && break
			for pid in $pids; do
				_vl_say "ending $(cat "/proc/$pid/comm" 2>/dev/null) ($pid) left in netns $name"
				kill -"$([ $i -eq 0 ] && echo TERM || echo KILL)" "$pid" 2>/dev/null || true
			done
			sleep 2
		done
		ip netns del "$name" 2>/dev/null || _vl_say "cannot delete netns $name"
	fi
	if [ "$keep" = 1 ] && [ -d "$state" ]; then
		_vl_say "state and logs kept in $state"
	else
		rm -rf "$state"
	fi
}

# _vl_private_dirs STATE: fresh copies of libvirt's directories (tree, modes and owners only;
# for /etc/libvirt the configuration files, without persistent domains/networks/pools).
_vl_private_dirs() {
	local state=$1 d dst
	# The directories the Debian packages ship (libvirtd makes the rest), with the host's owners
	# and modes. /var/cache/libvirt, the QEMU capabilities cache, is shared across runs in
	# $VL_E2E_CACHE (libvirt validates it; its files are replaced atomically).
	for d in /run/libvirt /var/lib/libvirt /var/lib/libvirt/dnsmasq /var/lib/libvirt/images \
		/var/lib/libvirt/boot /var/lib/libvirt/qemu /var/lib/libvirt/qemu/channel \
		/var/lib/libvirt/qemu/channel/target /var/lib/libvirt/qemu/snapshot \
		/var/lib/libvirt/qemu/checkpoint /var/lib/libvirt/qemu/dump /var/lib/libvirt/qemu/nvram \
		/var/lib/libvirt/qemu/save /var/lib/libvirt/qemu/ram /var/log/libvirt \
		/var/log/libvirt/qemu /var/cache/libvirt /var/cache/libvirt/qemu \
		/var/cache/libvirt/qemu/capabilities; do
		case "$d" in
		/var/cache/libvirt*) dst=$VL_E2E_CACHE/libvirt-cache${d#/var/cache/libvirt} ;;
		*) dst=$state/root$d ;;
		esac
		mkdir -p "$dst"
		if [ -d "$d" ]; then
			chown --reference="$d" "$dst" 2>/dev/null || true
			chmod --reference="$d" "$dst" 2>/dev/null || true
		fi
	done
	# What the daemons' namespace will see as /dev/kvm unless VL_E2E_KVM=1: see the top.
	: >"$state/root/no-kvm"
	chmod 000 "$state/root/no-kvm"
	dst=$state/root/etc/libvirt
	mkdir -p "$dst"
	cp -a /etc/libvirt/. "$dst/"
	rm -rf "$dst"/qemu/*.xml "$dst"/qemu/autostart "$dst"/qemu/networks/*.xml \
		"$dst"/qemu/networks/autostart/* "$dst"/storage "$dst"/secrets
	# No per-domain /dev namespace: libvirt would try to carry the /dev/kvm cover (a file bind
	# mount) into each guest's private /dev and fail ("Unable to move ... mount to /dev/kvm").
	if [ "${VL_E2E_KVM:-0}" != 1 ]; then
		printf '\n# vmlab e2e harness: /dev/kvm is covered by a file mount\nnamespaces = [ ]\n' \
			>>"$dst/qemu.conf"
	fi
}

vl_harness_start() {
	local name=${1:?usage: vl_harness_start NAME} state pool t0 i cur lpid others ok=0 uri
	case "$name" in
	*[!a-z0-9-]* | "" | -*) echo "harness: bad name '$name' ([a-z0-9-] only)" >&2; return 2 ;;
	esac
	state=$VL_E2E_STATE_ROOT/$name
	pool=${VL_E2E_POOL_DIR:-/var/lib/vmlab/pool-$name}
	uri="qemu:///system?socket=$state/sock/libvirt-sock"

	# Same shell, same name, daemons up: reuse.
	if [ "${VL_NS:-}" = "$name" ] &&
		_vl_pid_alive "$(_vl_pidfile "$state/libvirtd.pid")" libvirtd &&
		_vl_pid_alive "$(_vl_pidfile "$state/virtlogd.pid")" virtlogd &&
		virsh -q -c "$uri" version >/dev/null 2>&1; then
		_vl_say "reusing libvirtd $(_vl_pidfile "$state/libvirtd.pid") in netns $name"
		return 0
	fi
	if [ -d "$state" ] || _vl_netns_exists "$name"; then
		_vl_say "ending what a previous run of '$name' left"
		_vl_stop_name "$name"
	fi
	others=$(pidof libvirtd virtqemud 2>/dev/null || true)
	[ -z "$others" ] || _vl_say "note: other libvirt daemons run ($others); ours is isolated from them"

	t0=$(date +%s.%N)
	getent group libvirt >/dev/null || groupadd --system libvirt
	mkdir -p "$state/sock" "$pool"
	chmod 755 "$state"
	# Clients in group libvirt must reach the socket: traverse for that group only.
	chgrp libvirt "$state/sock"
	chmod 750 "$state/sock"
	_vl_private_dirs "$state"
	ip netns add "$name"
	ip -n "$name" link set lo up
	VL_NS=$name
	VL_E2E_STATE=$state
	VL_E2E_URI=$uri
	VMLAB_URI=$uri
	LIBVIRT_DEFAULT_URI=$uri
	export VL_NS VL_E2E_STATE VL_E2E_URI VMLAB_URI LIBVIRT_DEFAULT_URI

	# Own config files: logs into the state dir (there is no syslog), socket in the state dir.
	cat >"$state/virtlogd.conf" <<-EOF
		log_outputs = "3:file:$state/virtlogd.log"
	EOF
	cat >"$state/libvirtd.conf" <<-EOF
		log_outputs = "${VL_E2E_LOG_LEVEL:-3}:file:$state/libvirtd.log"
		unix_sock_dir = "$state/sock"
		unix_sock_group = "libvirt"
		unix_sock_rw_perms = "0770"
		auth_unix_rw = "none"
	EOF
	# One mount namespace (made by ip netns exec) for both daemons: the private directories are
	# bind-mounted there only. libvirtd finds virtlogd by its default socket in /run/libvirt.
	if ! vl_ns_exec bash -c '
		set -e
		state=$1
		for dir in /run/libvirt /var/lib/libvirt /var/log/libvirt /etc/libvirt; do
			mkdir -p "$dir"
			mount --bind "$state/root$dir" "$dir"
		done
		mkdir -p /var/cache/libvirt
		mount --bind "$2/libvirt-cache" /var/cache/libvirt
		if [ "$3" != 1 ] && [ -e /dev/kvm ]; then
			mount --bind "$state/root/no-kvm" /dev/kvm
		fi
		virtlogd -d -f "$state/virtlogd.conf" -p "$state/virtlogd.pid"
		libvirtd -d -f "$state/libvirtd.conf" -p "$state/libvirtd.pid"
	' vl-harness "$state" "$VL_E2E_CACHE" "${VL_E2E_KVM:-0}"; then
		echo "harness: starting the daemons failed (see $state/*.log)" >&2
		return 1
	fi
	lpid=$(_vl_pidfile "$state/libvirtd.pid")
	_vl_say "netns $name: virtlogd $(_vl_pidfile "$state/virtlogd.pid"), libvirtd $lpid"

	# The first call waits for the QEMU capabilities probe (about 4 s on a cold cache).
	for ((i = 0; i < 600; i++)); do
		if vl_virsh version >/dev/null 2>&1; then
			ok=1
			break
		fi
		if ! _vl_pid_alive "$lpid" libvirtd; then
			echo "harness: libvirtd exited (see $state/libvirtd.log)" >&2
			return 1
		fi
		sleep 0.1
	done
	if [ "$ok" != 1 ]; then
		echo "harness: libvirtd did not answer within 60 s (see $state/libvirtd.log)" >&2
		return 1
	fi
	_vl_say "libvirtd answered after $(_vl_elapsed "$t0") s"

	# Storage pool "vmlab" on $pool.
	if ! vl_virsh pool-info vmlab >/dev/null 2>&1; then
		vl_virsh pool-define-as vmlab dir --target "$pool" >/dev/null
	fi
	cur=$(vl_virsh pool-info vmlab | awk '$1 == "State:" { print $2 }')
	if [ "$cur" != running ]; then
		vl_virsh pool-build vmlab >/dev/null 2>&1 || true
		vl_virsh pool-start vmlab >/dev/null
	fi
	vl_virsh pool-refresh vmlab >/dev/null
	_vl_say "ready in $(_vl_elapsed "$t0") s (pool vmlab: $pool, uri $uri)"
}

vl_harness_stop() {
	local status=$? name=${VL_NS:-} keep=${VL_E2E_KEEP_STATE:-0} t0
	[ -n "$name" ] || return 0
	[ "$status" -ne 0 ] && keep=1
	t0=$(date +%s.%N)
	_vl_stop_name "$name" "$keep"
	_vl_say "stopped '$name' in $(_vl_elapsed "$t0") s"
	unset VL_NS VL_E2E_STATE VL_E2E_URI VMLAB_URI LIBVIRT_DEFAULT_URI
	return 0
}

# --- HTTP servers inside the namespace (image downloads by vmlab running under vl_ns_exec) ---

vl_http_start() {
	local dir=${1:?usage: vl_http_start DIR PORT} port=${2:?usage: vl_http_start DIR PORT}
	local state=${VL_E2E_STATE:?vl_harness_start first} conf i
	dir=$(realpath "$dir")
	conf=$state/http-$port.conf
	vl_http_stop "$port"
	# lighttpd serves Range requests (server.range-requests defaults to enabled), ETag,
	# Last-Modified and HEAD. It runs as root here: it is a test server on the netns's loopback.
	cat >"$conf" <<-EOF
		server.document-root = "$dir"
		server.bind = "127.0.0.1"
		server.port = $port
		server.pid-file = "$state/http-$port.pid"
		server.errorlog = "$state/http-$port.log"
		server.tag = "vmlab-e2e"
		index-file.names = ( )
		mimetype.assign = ( "" => "application/octet-stream" )
	EOF
	if ! vl_ns_exec lighttpd -f "$conf"; then
		echo "harness: lighttpd failed on port $port (see $state/http-$port.log)" >&2
		return 1
	fi
	for ((i = 0; i < 50; i++)); do
		vl_ns_exec bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break
		sleep 0.1
	done
	_vl_say "http://127.0.0.1:$port/ serves $dir in netns $VL_NS (lighttpd $(_vl_pidfile "$state/http-$port.pid"))"
}

_vl_http_stop_in() {
	local state=$1 port=${2:-} f
	for f in "$state"/http-${port:-*}.pid; do
		[ -f "$f" ] || continue
		_vl_kill "$(_vl_pidfile "$f")" lighttpd 5
		rm -f "$f"
	done
}

vl_http_stop() {
	[ -n "${VL_E2E_STATE:-}" ] || return 0
	_vl_http_stop_in "$VL_E2E_STATE" "${1:-}"
}

# --- non-root users (tests of vmlab run by a member of group libvirt) ---

vl_user_add() {
	local name=${1:?usage: vl_user_add NAME} state=${VL_E2E_STATE:?vl_harness_start first} home
	case "$name" in
	[a-z_]*) ;;
	*) echo "harness: bad user name '$name'" >&2; return 2 ;;
	esac
	case "$name" in *[!a-z0-9_-]*) echo "harness: bad user name '$name'" >&2; return 2 ;; esac
	if getent passwd "$name" >/dev/null; then
		echo "harness: user $name exists already; not taking it over" >&2
		return 1
	fi
	getent group libvirt >/dev/null || groupadd --system libvirt
	home=$state/home/$name
	mkdir -p "$state/home"
	chmod 755 "$state/home"
	useradd --system --user-group --groups libvirt --create-home --home-dir "$home" \
		--shell /bin/bash "$name" || return 1
	echo "$name" >>"$state/users"
	chmod 700 "$home"
	_vl_say "user $name (uid $(id -u "$name"), groups $(id -Gn "$name" | tr ' ' ,)), home $home (0700)"
}

vl_user_exec() {
	local name=${1:?usage: vl_user_exec NAME CMD...}
	shift
	vl_ns_exec runuser -u "$name" -- "$@"
}

# _vl_users_del STATE: end the processes of the users recorded in STATE/users (by PID), then
# userdel -r each of them, if its home still is STATE/home/NAME (never someone else's user).
_vl_users_del() {
	local state=$1 name pids pid sig
	while read -r name; do
		[ -n "$name" ] || continue
		if [ "$(getent passwd "$name" | cut -d: -f6)" != "$state/home/$name" ]; then
			_vl_say "user $name: not the one made here (or gone); left alone"
			continue
		fi
		for sig in TERM KILL; do
			pids=$(ps -o pid= -u "$name" 2>/dev/null || true)
			[ -n "$pids" ] || break
			for pid in $pids; do
				_vl_say "ending $(cat "/proc/$pid/comm" 2>/dev/null) ($pid) of user $name"
				kill -"$sig" "$pid" 2>/dev/null || true
			done
			sleep 1
		done
		if userdel -r "$name" 2>/dev/null || ! getent passwd "$name" >/dev/null; then
			_vl_say "removed user $name"
		else
			_vl_say "cannot remove user $name"
		fi
	done <"$state/users"
	rm -f "$state/users"
}
