#!/usr/bin/env bash
# Run the profile fuzzer: tests/fuzz/run.sh BINARY [SECONDS]. The seed corpus
# is profiles/*.ini copied into a temporary directory (the repo stays clean);
# exits non-zero when libFuzzer finds a crash, a sanitizer error or a leak.
set -u
[ $# -ge 1 ] || { echo "usage: $0 FUZZ_BINARY [SECONDS]" >&2; exit 2; }
bin=$1 secs=${2:-30}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vmlab-fuzz-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
cp "$repo"/profiles/*.ini "$work/corpus/"
"$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" 2>"$work/log"
rc=$?
grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$work/log" | tail -2
if [ $rc -ne 0 ]; then
	tail -40 "$work/log"
	mkdir -p "$repo/build/fuzz/crashes" && cp "$work"/artifacts/* "$repo/build/fuzz/crashes/" 2>/dev/null
	echo "fuzz: FAILED (exit $rc); reproducers copied to build/fuzz/crashes/"
	exit 1
fi
echo "fuzz: ok ($secs s, no crash)"
