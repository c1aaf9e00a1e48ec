#!/usr/bin/env bash
# run.sh VMLAB - vmlab's end-to-end tests: a real libvirtd and QEMU in a network namespace
# this script creates, guests under TCG, images built from Debian packages and pulled over
# HTTP from 127.0.0.1. Runs every t_*.sh scenario (sourced, in order) and tears everything
# down by PID at the end, also when a scenario fails. VL_E2E_ONLY=t_30 runs matching ones.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 VMLAB" >&2; exit 2; }
# shellcheck source=lib/harness.sh
. "$here/lib/harness.sh"
# shellcheck source=lib/e2e.sh
. "$here/lib/e2e.sh"

# one system libvirtd per host: wait for any other harness user (benchmarks, demo) to finish
# (harnesses are isolated from each other; the lock only keeps 2 cores from being shared)
if [ "${VL_E2E_NO_LOCK:-0}" != 1 ]; then
	exec 9>/run/vmlab-libvirtd.lock
	flock 9
fi
trap e2e_cleanup EXIT
e2e_setup "$1" vmlab-e2e || { echo "e2e: setup failed"; exit 1; }
for t in "$here"/t_*.sh; do
	case "$(basename "$t")" in *"${VL_E2E_ONLY:-}"*) ;; *) continue ;; esac
	echo "== $(basename "$t")"
	scen_t0=$(now)
	# shellcheck source=/dev/null
	. "$t"
	echo "   ($(elapsed "$scen_t0") s)"
done
e2e_summary
