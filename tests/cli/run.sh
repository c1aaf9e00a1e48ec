#!/usr/bin/env bash
# CLI test runner: tests/cli/run.sh PATH_TO_VMLAB runs every tests/cli/t_*.sh.
# Each test gets $VMLAB (absolute), $T (a fresh temporary directory, removed
# afterwards), $VMLAB_CONFIG (an empty config file in $T, so the developer's
# own vmlab.conf cannot interfere) and $REPO; a test fails by exiting non-zero.
# The last line printed is "N passed, N failed".
set -u
[ $# -ge 1 ] || { echo "usage: $0 PATH_TO_VMLAB [t_NAME.sh...]" >&2; exit 2; }
VMLAB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export VMLAB REPO
shift
here=$(dirname "$0")
if [ $# -gt 0 ]; then tests=("$@"); else tests=("$here"/t_*.sh); fi
pass=0 fail=0
for t in "${tests[@]}"; do
	[ -f "$t" ] || continue
	T=$(mktemp -d "${TMPDIR:-/tmp}/vmlab-cli.XXXXXX")
	: >"$T/vmlab.conf"
	out=$(cd "$T" && env -u VMLAB_URI -u VMLAB_ACCEL -u VMLAB_CACHE -u VMLAB_PROFILES \
		T="$T" VMLAB_CONFIG="$T/vmlab.conf" HOME="$T" bash "$OLDPWD/$t" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "ok   $(basename "$t")"
	else
		fail=$((fail + 1)); echo "FAIL $(basename "$t") (exit $rc)"; printf '%s\n' "$out" | sed 's/^/     /'
	fi
	rm -rf "$T"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
