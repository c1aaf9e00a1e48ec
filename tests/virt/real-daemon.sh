#!/usr/bin/env bash
# Run tests/unit/test_virt.c against a real libvirtd + QEMU, started here inside
# a network namespace of its own (lab networks never touch the host's), then
# stopped by PID. Refuses if any libvirtd already runs: /run/libvirt, /var/lib/
# libvirt and /etc/libvirt are shared, and two daemons at once disturb each
# other (seen here: a QEMU capability probe that never returned).
#   usage: tests/virt/real-daemon.sh BUILD/tests/test_virt
set -u
bin=${1:?usage: $0 path/to/test_virt}
ns=vl-virt-test
run=$(mktemp -d /run/vl-virt-test.XXXXXX) || exit 1
if pidof libvirtd >/dev/null || [ -e /run/libvirt/libvirt-sock ]; then
	echo "real-daemon: a libvirtd is already running (or left its socket): skipped"
	rmdir "$run"
	exit 77
fi
ip netns add "$ns" || exit 1
ip netns exec "$ns" ip link set lo up
stop() {
	# Finish the cleanup even if interrupted again; a daemon stuck in
	# shutdown (e.g. a QEMU probe) gets SIGKILL after 15 s, by PID.
	trap '' INT TERM HUP
	for f in "$run/libvirtd.pid" "$run/virtlogd.pid"; do
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null
		for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	done
	ip netns delete "$ns" || echo "real-daemon: could not delete netns $ns" >&2
	rm -rf "$run"
	# libvirt leaves per-object runtime files and QEMU logs behind (docs/host-notes.md).
	rm -f /var/log/libvirt/qemu/vltest-*.log /run/libvirt/network/vltest-*.pid
	echo "real-daemon: daemons stopped, netns $ns deleted" >&2
}
trap stop EXIT
trap 'exit 130' INT TERM HUP
ip netns exec "$ns" virtlogd -d -p "$run/virtlogd.pid" || exit 1
ip netns exec "$ns" libvirtd -d -p "$run/libvirtd.pid" || exit 1
echo "real-daemon: libvirtd $(cat "$run/libvirtd.pid"), virtlogd $(cat "$run/virtlogd.pid") in netns $ns"
# The first call waits for the QEMU capability probe (about 12 s here).
for _ in $(seq 60); do
	ip netns exec "$ns" virsh -c qemu:///system version >/dev/null 2>&1 && break
	sleep 1
done
# stdbuf preloads a library: tell ASan (SAN=1 builds) that is fine.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
VL_TEST_URI=qemu:///system ip netns exec "$ns" stdbuf -oL -eL "$bin"
exit $?
