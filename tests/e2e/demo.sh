#!/usr/bin/env bash
# demo.sh VMLAB - the README's demo: a real lab through up, ssh, snapshot, rollback, destroy.
# This machine has no internet for cloud images, so the demo builds a small cloud-init-
# compatible image from Debian packages and serves it on 127.0.0.1; libvirtd and every VM
# run in a network namespace the demo creates, so the host's own networks are never touched.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 VMLAB" >&2; exit 2; }
. "$here/lib/harness.sh"
. "$here/lib/e2e.sh"
export VL_E2E_SKIP_CLOUDINIT=1 E2E_HTTP_PORT=18090
# one system libvirtd per host: wait for any other harness user (benchmarks, demo) to finish
# (harnesses are isolated from each other; the lock only keeps 2 cores from being shared)
if [ "${VL_E2E_NO_LOCK:-0}" != 1 ]; then
	exec 9>/run/vmlab-libvirtd.lock
	flock 9
fi
trap e2e_cleanup EXIT

step() { printf '\n\033[1m$ vmlab %s\033[0m\n' "$*"; }
run() { step "$*"; (cd "$E2E_TMP/demo" && vmlab "$@"); }

echo "== setting up: test image, libvirtd in netns vmlab-demo, image server on 127.0.0.1"
e2e_setup "$1" vmlab-demo >/dev/null || { echo "demo: setup failed"; exit 1; }
mkdir -p "$E2E_TMP/demo"
cat > "$E2E_TMP/demo/vmlab.ini" <<'INI'
; the demo lab: two small VMs on a network of their own
[lab]
name = demo
[defaults]
image  = test-minimal
cpus   = 1
memory = 256M
disk   = 2G
[vm web]
[vm db]
INI
echo "== vmlab.ini:"; cat "$E2E_TMP/demo/vmlab.ini"
set -e
run validate
run plan
run up
run status
run ssh web -- sh -c 'echo "hello from $(hostname)"; ping -c 1 db'
run snapshot save clean
run ssh web -- sh -c 'echo "a change" > change.txt; ls'
run rollback
step "ssh web -- ls   (the change is gone)"
out=$(cd "$E2E_TMP/demo" && vmlab ssh web -- ls -A)
printf '%s\n' "$out"
case "$out" in *change.txt*) echo "demo: rollback did not undo the change"; exit 1 ;; esac
run snapshot list
run destroy --force
run status
echo
echo "demo: done - up, ssh, snapshot, rollback and destroy on a real libvirtd + QEMU"
