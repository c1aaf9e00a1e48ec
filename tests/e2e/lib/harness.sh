# shellcheck shell=bash
# harness.sh - a real libvirtd + QEMU for vmlab's end-to-end tests, inside a network namespace.
#
# Source it from bash, then:
#   vl_harness_start NAME   create netns NAME (lo up), start virtlogd and libvirtd inside it,
#                           wait until `virsh -c qemu:///system version` answers, ensure the dir
#                           storage pool "vmlab" exists and is active. Sets VL_NS=NAME.
#   vl_harness_stop         destroy/undefine every domain and network named vmlab-*, delete the
#                           vmlab-* volumes of pool "vmlab", undefine the pool (its files stay),
#                           stop the daemons by PID, end whatever still runs in the netns, delete
#                           the netns. Safe to call twice; meant for `trap vl_harness_stop EXIT`.
#   vl_ns_exec CMD...       ip netns exec "$VL_NS" CMD... (every client of a guest IP goes here)
#   vl_virsh ARGS...        virsh -q -c qemu:///system ARGS... (the socket is a file: works from
#                           the host namespace too)
#   vl_http_start DIR PORT  serve DIR on 127.0.0.1:PORT inside the netns (lighttpd: Range
#                           requests, ETag, HEAD); several ports may run at once
#   vl_http_stop [PORT]     stop that server, or all of them
#
# Variables:
#   VL_NS                   set by vl_harness_start: the netns name (read-only for callers)
#   VL_E2E_STATE            set by vl_harness_start: state dir (PID files, daemon logs, configs)
#   VL_E2E_STATE_ROOT       in: where state dirs live (default /run/vmlab-e2e; state = ROOT/NAME)
#   VL_E2E_POOL_DIR         in: directory of pool "vmlab" (default /var/lib/vmlab/pool-NAME);
#                           it and its parents must be traversable by libvirt-qemu (not 0700)
#   VL_E2E_KEEP_STATE       in: 1 = vl_harness_stop keeps the state dir (logs); it is also kept
#                           when the shell is exiting with a non-zero status
#   VL_E2E_QUIET            in: 1 = no progress lines on stderr
#
# One system libvirtd at a time: it owns /run/libvirt. vl_harness_start refuses when a libvirtd
# (or virtqemud/virtnetworkd/virtlogd) that this harness did not start under NAME is running.
# If a crashed run left daemons/netns under the same NAME (recorded in its state dir), they are
# stopped and the netns deleted first; leftover vmlab-* objects are purged once libvirtd is up.
# Calling vl_harness_start NAME again in the same shell while its daemons run reuses them.
#
# Measured on the 2-core Debian 12 machine (libvirt 9.0.0): vl_harness_start takes about
# 12-13 s in all, nearly all of it libvirtd's first answer (the QEMU capabilities probe, done
# again at each libvirtd start because its cache lives in /var/cache/libvirt/qemu and is
# validated against the binary... and is usually reused: then it is about 1-2 s).
# vl_harness_stop with no guests: about 1 s.

VL_E2E_STATE_ROOT=${VL_E2E_STATE_ROOT:-/run/vmlab-e2e}
VL_E2E_URI=qemu:///system

_vl_say() { [ "${VL_E2E_QUIET:-0}" = 1 ] || echo "harness: $*" >&2; }

vl_ns_exec() { ip netns exec "$VL_NS" "$@"; }

vl_virsh() { virsh -q -c "$VL_E2E_URI" "$@"; }

# _vl_pid_alive PID COMM: PID runs and its command name is COMM.
_vl_pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

# _vl_kill PID COMM [SECONDS]: SIGTERM, wait, then SIGKILL; only if PID still is COMM.
_vl_kill() {
	local pid=$1 comm=$2 wait=${3:-10} i
	_vl_pid_alive "$pid" "$comm" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < wait * 10; i++)); do
		_vl_pid_alive "$pid" "$comm" || return 0
		sleep 0.1
	done
	_vl_say "$comm ($pid) ignored SIGTERM; SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		_vl_pid_alive "$pid" "$comm" || return 0
		sleep 0.1
	done
}

_vl_pidfile() { cat "$1" 2>/dev/null || true; }

# _vl_sock_pid: PID of the daemon listening on libvirt's system socket (SO_PEERCRED), or ''.
# Another libvirtd started later (by anyone) would take the socket path over; this is how we
# make sure every virsh call of ours reaches our own daemon.
_vl_sock_pid() {
	python3 - 2>/dev/null <<-'EOF' || true
		import socket, struct
		s = socket.socket(socket.AF_UNIX)
		s.connect("/run/libvirt/libvirt-sock")
		print(struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0])
	EOF
}

# _vl_ours STATE: the libvirt socket is served by the libvirtd recorded in STATE.
_vl_ours() {
	local pid
	pid=$(_vl_pidfile "$1/libvirtd.pid")
	[ -n "$pid" ] && [ "$(_vl_sock_pid)" = "$pid" ]
}

# _vl_foreign_daemons NAME: PIDs of libvirt daemons that are not the ones recorded for NAME.
_vl_foreign_daemons() {
	local state=$VL_E2E_STATE_ROOT/$1 ours pid comm
	ours=" $(_vl_pidfile "$state/libvirtd.pid") $(_vl_pidfile "$state/virtlogd.pid") "
	for comm in libvirtd virtlogd virtqemud virtnetworkd virtstoraged virtproxyd; do
		for pid in $(pidof "$comm" 2>/dev/null); do
			case "$ours" in *" $pid "*) ;; *) echo "$pid($comm)" ;; esac
		done
	done
}

# _vl_purge: remove every vmlab-* domain, network and volume from the running libvirtd.
_vl_purge() {
	local state=$1 dom net vol br pids=()
	for dom in $(vl_virsh list --all --name 2>/dev/null | grep '^vmlab-' || true); do
		# Destroying takes about 2 s each under TCG: do them in parallel.
		vl_virsh destroy "$dom" >/dev/null 2>&1 &
		pids+=($!)
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" 2>/dev/null || true
	for dom in $(vl_virsh list --all --name 2>/dev/null | grep '^vmlab-' || true); do
		vl_virsh undefine --snapshots-metadata --checkpoints-metadata --nvram "$dom" >/dev/null 2>&1 ||
			vl_virsh undefine "$dom" >/dev/null 2>&1 || _vl_say "cannot undefine $dom"
		_vl_say "removed domain $dom"
	done
	for net in $(vl_virsh net-list --all --name 2>/dev/null | grep '^vmlab-' || true); do
		br=$(vl_virsh net-info "$net" 2>/dev/null | awk '$1 == "Bridge:" { print $2 }')
		[ -n "$br" ] && echo "$br" >>"$state/bridges"
		vl_virsh net-destroy "$net" >/dev/null 2>&1 || true
		vl_virsh net-undefine "$net" >/dev/null 2>&1 || true
		_vl_say "removed network $net${br:+ (bridge $br)}"
	done
	if vl_virsh pool-info vmlab >/dev/null 2>&1; then
		vl_virsh pool-refresh vmlab >/dev/null 2>&1 || true
		for vol in $(vl_virsh vol-list vmlab 2>/dev/null | awk '$1 ~ /^vmlab-/ { print $1 }'); do
			vl_virsh vol-delete --pool vmlab "$vol" >/dev/null 2>&1 || true
		done
	fi
}

# _vl_files_cleanup STATE: libvirt leaves per-network files behind (HOST-NOTES); the dnsmasq
# lease file would make the next run's reservations be ignored for about an hour.
_vl_files_cleanup() {
	local state=$1 br
	rm -f /run/libvirt/network/vmlab-* /var/lib/libvirt/dnsmasq/vmlab-* 2>/dev/null || true
	if [ -f "$state/bridges" ]; then
		while read -r br; do
			[ -n "$br" ] && rm -f "/var/lib/libvirt/dnsmasq/$br.status" \
				"/var/lib/libvirt/dnsmasq/$br.macs"
		done <"$state/bridges"
		rm -f "$state/bridges"
	fi
}

# _vl_stop_name NAME [keep]: stop everything recorded for NAME; no libvirt calls if it is not up.
_vl_stop_name() {
	local name=$1 keep=${2:-0} state=$VL_E2E_STATE_ROOT/$1 lpid vpid pid i
	[ -d "$state" ] || { ip netns del "$name" 2>/dev/null || true; return 0; }
	lpid=$(_vl_pidfile "$state/libvirtd.pid")
	vpid=$(_vl_pidfile "$state/virtlogd.pid")
	if _vl_pid_alive "$lpid" libvirtd; then
		if _vl_ours "$state"; then
			_vl_purge "$state"
			vl_virsh pool-destroy vmlab >/dev/null 2>&1 || true
			vl_virsh pool-undefine vmlab >/dev/null 2>&1 || true
		else
			_vl_say "WARNING: /run/libvirt/libvirt-sock is served by PID $(_vl_sock_pid)," \
				"not by our libvirtd $lpid: leaving libvirt objects alone"
		fi
	fi
	_vl_http_stop_in "$state"
	_vl_kill "$lpid" libvirtd 15
	_vl_kill "$vpid" virtlogd 5
	rm -f "$state/libvirtd.pid" "$state/virtlogd.pid"
	# Whatever still runs in the namespace (QEMU left by a crashed run, dnsmasq) was started by
	# this harness: end it by PID, then delete the namespace.
	if ip netns list 2>/dev/null | grep -qw "^$name"; then
		for ((i = 0; i < 3; i++)); do
			pids=$(ip netns pids "$name" 2>/dev/null || true)
			[ -z "$pids" ] && break
			for pid in $pids; do
				_vl_say "ending leftover $(cat "/proc/$pid/comm" 2>/dev/null) ($pid) in netns $name"
				kill -"$([ $i -eq 0 ] && echo TERM || echo KILL)" "$pid" 2>/dev/null || true
			done
			sleep 2
		done
		ip netns del "$name" 2>/dev/null || _vl_say "cannot delete netns $name"
	fi
	# Only when no other libvirt daemon runs: those files could be its own.
	[ -n "$(_vl_foreign_daemons "$name")" ] || _vl_files_cleanup "$state"
	if [ "$keep" = 1 ]; then
		_vl_say "state and logs kept in $state"
	else
		rm -rf "$state"
	fi
}

vl_harness_start() {
	local name=${1:?usage: vl_harness_start NAME} state foreign pool t0 t1 i cur
	case "$name" in
	*[!a-z0-9-]* | "" | -*) echo "harness: bad name '$name' ([a-z0-9-] only)" >&2; return 2 ;;
	esac
	state=$VL_E2E_STATE_ROOT/$name
	pool=${VL_E2E_POOL_DIR:-/var/lib/vmlab/pool-$name}

	# Same shell, same name, daemons up: reuse.
	if [ "${VL_NS:-}" = "$name" ] &&
		_vl_pid_alive "$(_vl_pidfile "$state/libvirtd.pid")" libvirtd &&
		_vl_pid_alive "$(_vl_pidfile "$state/virtlogd.pid")" virtlogd &&
		_vl_ours "$state" && vl_virsh version >/dev/null 2>&1; then
		_vl_say "reusing libvirtd $(_vl_pidfile "$state/libvirtd.pid") in netns $name"
		return 0
	fi

	foreign=$(_vl_foreign_daemons "$name")
	if [ -n "$foreign" ]; then
		echo "harness: refusing to start: libvirt daemons not started by this harness as '$name'" \
			"are running: $(echo $foreign)." >&2
		for cur in "$VL_E2E_STATE_ROOT"/*/libvirtd.pid; do
			[ -f "$cur" ] && echo "harness: (harness state found: $(dirname "$cur"); stop it with" \
				"VL_NS=$(basename "$(dirname "$cur")") vl_harness_stop)" >&2
		done
		return 1
	fi
	if [ -d "$state" ] || ip netns list 2>/dev/null | grep -qw "^$name"; then
		_vl_say "cleaning up a previous run of '$name'"
		_vl_stop_name "$name"
	fi

	t0=$(date +%s.%N)
	mkdir -p "$state" "$pool"
	chmod 755 "$state"
	ip netns add "$name"
	ip -n "$name" link set lo up
	VL_NS=$name
	VL_E2E_STATE=$state
	export VL_NS VL_E2E_STATE

	# Own config files: logs into the state dir instead of syslog (there is none here).
	cat >"$state/virtlogd.conf" <<-EOF
		log_outputs = "3:file:$state/virtlogd.log"
	EOF
	cat >"$state/libvirtd.conf" <<-EOF
		log_outputs = "${VL_E2E_LOG_LEVEL:-3}:file:$state/libvirtd.log"
		log_filters = "${VL_E2E_LOG_FILTERS:-}"
	EOF
	# libvirtd's qemu driver finds virtlogd by its default socket, so only the PID file moves.
	if ! vl_ns_exec virtlogd -d -f "$state/virtlogd.conf" -p "$state/virtlogd.pid"; then
		echo "harness: virtlogd failed to start (see $state/virtlogd.log)" >&2
		return 1
	fi
	if ! vl_ns_exec libvirtd -d -f "$state/libvirtd.conf" -p "$state/libvirtd.pid"; then
		echo "harness: libvirtd failed to start (see $state/libvirtd.log)" >&2
		return 1
	fi
	_vl_say "netns $name: virtlogd $(_vl_pidfile "$state/virtlogd.pid"), libvirtd $(_vl_pidfile "$state/libvirtd.pid")"

	# The first call waits for the QEMU capabilities probe (12-16 s here, see the top).
	local ok=0 lpid sockpid
	lpid=$(_vl_pidfile "$state/libvirtd.pid")
	for ((i = 0; i < 600; i++)); do
		sockpid=$(_vl_sock_pid)
		if [ "$sockpid" = "$lpid" ] && vl_virsh version >/dev/null 2>&1; then
			ok=1
			break
		fi
		if [ -n "$sockpid" ] && [ "$sockpid" != "$lpid" ]; then
			echo "harness: /run/libvirt/libvirt-sock is served by PID $sockpid, not by our" \
				"libvirtd $lpid: another libvirtd started meanwhile" >&2
			return 1
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
	t1=$(date +%s.%N)
	_vl_say "libvirtd answered after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

	_vl_purge "$state"   # objects a crashed run left in libvirt's persistent config

	# Storage pool "vmlab" on $pool (redefined if it points elsewhere).
	if vl_virsh pool-info vmlab >/dev/null 2>&1; then
		cur=$(vl_virsh pool-dumpxml vmlab | sed -n 's:.*<path>\(.*\)</path>.*:\1:p' | head -n 1)
		if [ "$cur" != "$pool" ]; then
			vl_virsh pool-destroy vmlab >/dev/null 2>&1 || true
			vl_virsh pool-undefine vmlab >/dev/null
		fi
	fi
	if ! vl_virsh pool-info vmlab >/dev/null 2>&1; then
		vl_virsh pool-define-as vmlab dir --target "$pool" >/dev/null
	fi
	if [ "$(vl_virsh pool-info vmlab | awk '$1 == "State:" { print $2 }')" != running ]; then
		vl_virsh pool-build vmlab >/dev/null 2>&1 || true
		vl_virsh pool-start vmlab >/dev/null
	fi
	vl_virsh pool-refresh vmlab >/dev/null
	t1=$(date +%s.%N)
	_vl_say "ready in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (pool vmlab: $pool)"
}

vl_harness_stop() {
	local status=$? name=${VL_NS:-} keep=${VL_E2E_KEEP_STATE:-0}
	[ -n "$name" ] || return 0
	[ "$status" -ne 0 ] && keep=1
	_vl_stop_name "$name" "$keep"
	_vl_say "stopped '$name'"
	unset VL_NS VL_E2E_STATE
	return 0
}

# --- HTTP servers inside the namespace (image downloads by vmlab running under vl_ns_exec) ---

vl_http_start() {
	local dir=${1:?usage: vl_http_start DIR PORT} port=${2:?usage: vl_http_start DIR PORT}
	local state=${VL_E2E_STATE:?vl_harness_start first} conf i
	dir=$(realpath "$dir")
	conf=$state/http-$port.conf
	vl_http_stop "$port"
	# lighttpd: Range (server.range-requests is on by default), ETag, Last-Modified, HEAD.
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
