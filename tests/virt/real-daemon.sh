#!/usr/bin/env bash
# Run tests/unit/test_virt.c against a real libvirtd + QEMU, started here inside
# a network namespace of its own (lab networks never touch the host's), then
# stopped by PID. Refuses if any libvirtd already runs: /run/libvirt is shared.
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
	for f in "$run/libvirtd.pid" "$run/virtlogd.pid"; do
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	ip netns delete "$ns" || echo "real-daemon: could not delete netns $ns" >&2
	rm -rf "$run"
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
VL_TEST_URI=qemu:///system ip netns exec "$ns" stdbuf -oL -eL "$bin"
rc=$?
# libvirt keeps each guest's QEMU log; these guests were ours.
rm -f /var/log/libvirt/qemu/vltest-*.log
exit "$rc"
