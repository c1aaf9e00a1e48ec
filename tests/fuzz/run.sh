#!/usr/bin/env bash
# Run every libFuzzer target: tests/fuzz/run.sh DIR [SECONDS_EACH]. DIR holds
# the fuzz_NAME binaries (make fuzz); each is seeded from what it parses in the
# repository (tests/corpus, the shipped profiles, catalog and vmlab.conf, and
# tests/fuzz/seeds), copied into a temporary directory so the repo stays
# clean. Exits non-zero when libFuzzer finds a crash, a sanitizer error, a
# leak or a broken invariant; the reproducers go to build/fuzz/crashes/.
set -u
[ $# -ge 1 ] || { echo "usage: $0 FUZZ_DIR [SECONDS_EACH]" >&2; exit 2; }
dir=$1 secs=${2:-15}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vmlab-fuzz-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT
seeds() {
	case $1 in
	profile)  echo "$repo"/profiles/*.ini "$repo"/tests/corpus/ini/*.ini ;;
	config)   echo "$repo"/vmlab.conf.example "$repo"/tests/corpus/conf/*.conf ;;
	catalog)  echo "$repo"/images/*.ini "$repo"/tests/corpus/catalog/*.ini ;;
	roster)   echo "$repo"/tests/corpus/roster/*.csv ;;
	checksum) echo "$repo"/tests/fuzz/seeds/checksum/* ;;
	meta)     echo "$repo"/tests/fuzz/seeds/meta/* ;;
	esac
}
failed=0 n=0
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
	# shellcheck disable=SC2046
	cp $(seeds "$name") "$work/$name/corpus/" 2>/dev/null
	"$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work/$name/artifacts/" -print_final_stats=1 \
		"$work/$name/corpus" 2>"$work/$name/log"
	rc=$?
	n=$((n + 1))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name/log")
	seeded=$(ls "$repo"/tests/corpus >/dev/null 2>&1 && ls $(seeds "$name") 2>/dev/null | wc -l)
	if [ $rc -ne 0 ]; then
		tail -30 "$work/$name/log"
		mkdir -p "$repo/build/fuzz/crashes" && cp "$work/$name"/artifacts/* "$repo/build/fuzz/crashes/" 2>/dev/null
		echo "fuzz $name: FAILED (exit $rc); reproducers copied to build/fuzz/crashes/"
		failed=$((failed + 1))
	else
		echo "fuzz $name: ok ($secs s, ${runs:-?} inputs, $seeded seeds, no crash)"
	fi
done
[ $n -gt 0 ] || { echo "fuzz: no fuzz_* binaries in $dir (make fuzz)"; exit 1; }
[ $failed -eq 0 ]
