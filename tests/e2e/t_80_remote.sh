# shellcheck shell=bash
# A libvirt host that is not this machine's view of things: a second libvirtd in a network
# and mount namespace of its own, reached by a qemu+unix URI with a socket path. vmlab runs
# in the first harness's netns, where the lab subnets are routed to the second netns over a
# veth pair. Nothing the daemon writes (pool, console logs) exists at its path here, and the
# client's routing table holds a route to the very subnets the labs use: a vmlab that read
# this machine's files for facts about the host would find no free subnet, no console tail,
# and no way to back overlays with a local file.
rname=${VL_NS}-r
rstate=$VL_E2E_STATE_ROOT/$rname
ruri="qemu+unix:///system?socket=$rstate/sock/libvirt-sock"
rpool=/var/lib/libvirt/images/vmlab-remote    # inside the second daemon's mounts only
rlogs=/var/log/libvirt/qemu                   # likewise
E2E_EXTRA_HARNESSES="${E2E_EXTRA_HARNESSES:-} $rname"
# started in a subshell: the harness's variables keep naming the first daemon
if (VL_E2E_QUIET=1 VL_E2E_POOL_DIR=/var/lib/vmlab/pool-$rname vl_harness_start "$rname"); then
	ok "a second libvirtd in netns $rname"
else
	bad "a second libvirtd in netns $rname"
fi
# link the two namespaces; link-local addresses, the lab subnets routed through the second
ip link add vlr-a netns "$VL_NS" type veth peer name vlr-b netns "$rname"
ip -n "$VL_NS" addr add 169.254.77.1/30 dev vlr-a
ip -n "$rname" addr add 169.254.77.2/30 dev vlr-b
ip -n "$VL_NS" link set vlr-a up
ip -n "$rname" link set vlr-b up
ip -n "$VL_NS" route add 10.214.0.0/16 via 169.254.77.2
# libvirt's NAT rules reject connections into a lab network from outside it; a lab host that
# routes its labs to clients would allow them. libvirt inserts its rules at the top each time
# a network starts: keep ours first.
ip netns exec "$rname" bash -c '
	rule="-s 169.254.77.0/30 -j ACCEPT"
	while :; do
		first=$(iptables -S LIBVIRT_FWI 2>/dev/null | sed -n 2p)
		if [ -n "$first" ] && [ "$first" != "-A LIBVIRT_FWI $rule" ]; then
			iptables -D LIBVIRT_FWI $rule 2>/dev/null
			iptables -I LIBVIRT_FWI 1 $rule
		fi
		sleep 0.2
	done' >/dev/null 2>&1 &
rconf=$E2E_TMP/vmlab-remote.conf
sed -e "s|^uri = .*|uri = $ruri|" -e "s|^pool = .*|pool = vmlab-remote|" \
	-e "s|^pool_dir = .*|pool_dir = $rpool|" -e "s|^log_dir = .*|log_dir = $rlogs|" \
	-e "s|^subnet_pool = .*|subnet_pool = 10.214.0.0/16|" "$E2E_CONF" >"$rconf"
# (the harness's VMLAB_URI names the first daemon; it would win over the config)
rvmlab() { vl_ns_exec env VMLAB_URI="$ruri" VMLAB_CONFIG="$rconf" HOME="$E2E_HOME" "$E2E_VMLAB" "$@"; }
rvirsh() { virsh -q -c "$ruri" "$@"; }

pr=$E2E_TMP/remote
e2e_project "$pr" <<'INI'
[lab]
name = far
[defaults]
image  = test-minimal
memory = 256M
[vm a]
INI
# a boot budget too short for TCG: the error carries the console's tail, read through libvirt
sed -i 's/^boot_timeout = .*/boot_timeout = 4/' "$rconf"
out=$(cd "$pr" && rvmlab up 2>&1); rc=$?
check_rc "remote: a boot longer than boot_timeout fails" 1 "$rc"
check_contains "remote: the error has the console tail, through libvirt" "through libvirt" "$out"
sed -i 's/^boot_timeout = .*/boot_timeout = 90/' "$rconf"
t0=$(now)
out=$(cd "$pr" && rvmlab -v up 2>&1); rc=$?
check_rc "remote: up over qemu+unix ($(elapsed "$t0") s)" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out" | tail -15
subnet=$(cd "$pr" && rvmlab status --json | jq -r .network.subnet)
case "$subnet" in
10.214.*) ok "remote: the subnet ($subnet) is from the pool this machine routes elsewhere" ;;
*) bad "remote: subnet '$subnet' not in 10.214.0.0/16" ;;
esac
rhost=$(cd "$pr" && rvmlab ssh a -- hostname)
check_eq "remote: ssh through the routed lab network" a "$rhost"
base=$(rvirsh vol-list vmlab-remote | awk '$1 ~ /^vmlab-base-/ { print $2 }')
if [ -n "$base" ] && [ ! -e "$base" ]; then
	ok "remote: the base image is in the host's pool ($base), not at that path here"
else
	bad "remote: base volume '$base' (should exist on the host only)"
fi
# vmlab console: through libvirt's stream; a line the guest writes on ttyS0 comes out
cfifo=$E2E_TMP/console.in
mkfifo "$cfifo"
(cd "$pr" && rvmlab console a <"$cfifo" >"$E2E_TMP/console.out" 2>&1; echo "rc=$?" >>"$E2E_TMP/console.out") &
cpid=$!
exec 7>"$cfifo"
for _ in $(seq 1 20); do
	[ "$rhost" = a ] || break   # the guest is out of reach: say so once, below
	(cd "$pr" && rvmlab ssh a -- sudo sh -c 'echo vmlab-console-mark >/dev/ttyS0') >/dev/null 2>&1
	grep -q vmlab-console-mark "$E2E_TMP/console.out" 2>/dev/null && break
	sleep 0.2
done
check_contains "remote: vmlab console shows what the guest prints" vmlab-console-mark \
	"$(cat "$E2E_TMP/console.out")"
printf '\035' >&7   # Ctrl-]
exec 7>&-
wait "$cpid"
check_contains "remote: Ctrl-] leaves the console, exit 0" "rc=0" "$(cat "$E2E_TMP/console.out")"
out=$(cd "$pr" && rvmlab console nosuch 2>&1); rc=$?
check_rc "console of an unknown VM: usage error" 2 "$rc"
# status --watch while the host's daemon goes away and comes back: lost, reconnected with
# a full resync, and events flow again afterwards
wait_line() { # FILE PATTERN: up to 60 s
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
wout=$E2E_TMP/watch.out
# --foreground: timeout then signals vmlab alone, not its whole group (twice would end it at once)
timeout --foreground -s INT 300 ip netns exec "$VL_NS" env VMLAB_URI="$ruri" VMLAB_CONFIG="$rconf" HOME="$E2E_HOME" \
	"$E2E_VMLAB" status --all --watch >"$wout" 2>&1 &
wpid=$!
rid=$(cd "$pr" && rvmlab status --json | jq -r .id)
wait_line "$wout" "in sync with libvirt" && ok "watch: synced with the remote host" ||
	bad "watch: no sync: $(cat "$wout")"
check_contains "watch: the running VM is reported" "$rid: a running" "$(cat "$wout")"
rlpid=$(cat "$rstate/libvirtd.pid")
kill -TERM "$rlpid"
wait_line "$wout" "connection lost" && ok "watch: the lost connection is reported" ||
	bad "watch: no 'connection lost': $(cat "$wout")"
for _ in $(seq 1 100); do kill -0 "$rlpid" 2>/dev/null || break; sleep 0.1; done
nsenter -t "$(cat "$rstate/virtlogd.pid")" -m -n \
	libvirtd -d -f "$rstate/libvirtd.conf" -p "$rstate/libvirtd.pid"
wait_line "$wout" "reconnected" && ok "watch: reconnected after the daemon came back" ||
	bad "watch: not reconnected: $(cat "$wout")"
n_sync=0
for _ in $(seq 1 300); do
	n_sync=$(grep -c "in sync with libvirt" "$wout")
	[ "$n_sync" -ge 2 ] && break
	sleep 0.1
done
check_eq "watch: a full resync follows the reconnection" 2 "$n_sync"
(cd "$pr" && rvmlab halt a >/dev/null 2>&1)
wait_line "$wout" "$rid: a shut off" && ok "watch: events flow again after the reconnection" ||
	bad "watch: halt not seen: $(tail -5 "$wout")"
kill -INT "$wpid"
wait "$wpid"; rc=$?
check_rc "watch: Ctrl-C ends it cleanly" 0 "$rc"
out=$(cd "$pr" && rvmlab destroy --force 2>&1); rc=$?
check_rc "remote: destroy" 0 "$rc"
check_eq "remote: no domain or network left on the host" "" \
	"$(rvirsh list --all --name | grep '^vmlab-'; rvirsh net-list --all --name | grep '^vmlab-')"
check_eq "remote: only the base volume is left in the pool" "" \
	"$(rvirsh vol-list vmlab-remote | awk '$1 ~ /^vmlab-/ && $1 !~ /^vmlab-base-/')"
ip -n "$VL_NS" link del vlr-a 2>/dev/null
_vl_stop_name "$rname"
E2E_EXTRA_HARNESSES=${E2E_EXTRA_HARNESSES% "$rname"}
