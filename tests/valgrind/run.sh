#!/usr/bin/env bash
# The unit, CLI and engine tests again under valgrind's memcheck (make check-valgrind), next
# to the ASan+UBSan build: memcheck also sees what the sanitizers do not instrument (reads of
# uninitialised memory, the libraries' own code), on the plain -O2 build that ships.
#   tests/valgrind/run.sh VMLAB UNIT_BIN...      (VL_VALGRIND_JOBS=N: parallel jobs, 2)
# Each unit binary runs under valgrind; each CLI test file (tests/cli, including the engine
# tests t_testdriver.sh and t_class.sh on libvirt's test driver) runs through tests/cli/run.sh
# with $VMLAB a wrapper that execs valgrind on the binary. A definite leak or any invalid
# access makes the process exit 99 (so a test asserting the exit status fails), and is found
# in the per-process logs, which are printed for every process with an error.
# --child-silent-after-fork: vmlab forks only to exec (ssh, the held session) or to _exit, and
# a child that _exits leaves its parent's heap behind as "lost" in its own report.
# Every vmlab process starts in about 1.3 s under valgrind (libvirt's and GnuTLS's
# initialisation), so the jobs run in parallel, longest first.
set -u
[ $# -ge 1 ] || { echo "usage: $0 VMLAB [UNIT_BIN...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "check-valgrind: valgrind is not installed (make deps)"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
vmlab=$(realpath "$1")
shift
jobs=${VL_VALGRIND_JOBS:-2}
logs=$(mktemp -d "${TMPDIR:-/tmp}/vl-valgrind.XXXXXX") || exit 1
trap 'rm -rf "$logs"' EXIT
mkdir -p "$logs/vg" "$logs/out" "$logs/bin"
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --child-silent-after-fork=yes --num-callers=30
	--suppressions="$here/vmlab.supp")
start=$SECONDS

# The CLI tests use $VMLAB by name; the wrapper keeps the name vmlab (usage lines say it).
{
	echo '#!/bin/sh'
	printf 'exec %s --log-file=%s/vg/vmlab.%%p.log %s "$@"\n' "${VG[*]}" "$logs" "$vmlab"
} >"$logs/bin/vmlab"
chmod 755 "$logs/bin/vmlab"

# one JOB: a unit binary or a CLI test file; its output in out/NAME, "ok" or "FAIL" first
one() {
	local job=$1 name=${1##*/} t0=$SECONDS rc
	if [ "${job%.sh}" != "$job" ]; then
		tests/cli/run.sh "$logs/bin/vmlab" "$job" >"$logs/out/$name.txt" 2>&1
	else
		"${VG[@]}" --log-file="$logs/vg/$name.%p.log" "$job" >"$logs/out/$name.txt" 2>&1
	fi
	rc=$?
	printf '%s %s (%d s)\n' "$([ $rc = 0 ] && echo ok || echo FAIL)" "$name" \
		$((SECONDS - t0)) >"$logs/out/$name.status"
}

# cd to the repo: the unit tests read images/ and profiles/ as run-unit.sh runs them (make).
# Longest first (measured): t_docs.sh runs vmlab 118 times, test_class defines 30 seats.
cd "$repo" || exit 1
order=(tests/cli/t_docs.sh)
for t in "$@"; do case "$t" in */test_class | */test_ssh) order+=("$t") ;; esac; done
# t_corpus.sh is left to the sanitizer build and the fuzz targets: 357 runs of the parsers on
# malformed files, 12 minutes under valgrind, where memcheck adds nothing to what ASan sees there.
for t in tests/cli/t_*.sh "$@"; do
	case $t in */t_corpus.sh) continue ;; esac
	case " ${order[*]} " in *" $t "*) ;; *) order+=("$t") ;; esac
done
running=0
for job in "${order[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	one "$job" &
	running=$((running + 1))
done
wait

fail=0
for job in "${order[@]}"; do
	name=${job##*/}
	cat "$logs/out/$name.status"
	if ! grep -q '^ok ' "$logs/out/$name.status"; then
		fail=1
		tail -n 25 "$logs/out/$name.txt" | sed 's/^/     /'
	fi
done
# Any process with an error: print its log (the tests may not have looked at its status).
bad=0
for l in "$logs"/vg/*.log; do
	[ -s "$l" ] || continue
	bad=$((bad + 1))
	echo "== valgrind: ${l##*/}"
	sed 's/^==[0-9]*== //' "$l" | head -n 60
done
n=$(find "$logs/vg" -name '*.log' | wc -l)
echo "valgrind: $n processes checked, $bad with errors, $((SECONDS - start)) s ($jobs jobs)"
[ "$fail" = 0 ] && [ "$bad" = 0 ]
