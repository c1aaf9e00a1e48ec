#!/usr/bin/env bash
# The malformed-input corpus (tests/corpus/<kind>/, expectations in each
# kind's expect.tsv): every vmlab.ini, vmlab.conf, image catalog and class
# roster there must give a FILE:LINE error with the expected text, a non-zero
# exit (2 for a profile, from validate and from up against the test driver),
# no crash or sanitizer report, and create nothing: no .vmlab/, nothing in the
# image cache. Prints how many files were tried.
set -u
fails=0 tried=0
check() { # description, then a command that must succeed
	local what=$1; shift
	if ! "$@"; then echo "not ok: $what"; fails=$((fails + 1)); fi
}
corpus=$REPO/tests/corpus
export VMLAB_CACHE=$T/cache
mkdir -p "$T/cache"

# run DESC FILE-AS-SHOWN LINE SUBSTRING EXPECTED-STATUS -- vmlab args...
run() {
	local desc=$1 shown=$2 line=$3 sub=$4 want=$5; shift 6
	local out rc
	out=$("$VMLAB" "$@" 2>&1 </dev/null); rc=$?
	tried=$((tried + 1))
	if [ "$rc" -ge 128 ] || grep -qE 'Sanitizer|runtime error:|Segmentation' <<<"$out"; then
		echo "not ok: $desc: crashed (exit $rc)"; printf '%s\n' "$out" | head -5; fails=$((fails + 1))
		return
	fi
	check "$desc: exit $rc, wanted $want" [ "$rc" = "$want" ]
	if ! grep -F -- "$shown:$line: " <<<"$out" | grep -qF -- "$sub"; then
		echo "not ok: $desc: no '$shown:$line: ...$sub' in:"; printf '%s\n' "$out" | head -5 | sed 's/^/    /'
		fails=$((fails + 1))
	fi
	check "$desc: no .vmlab/ made" [ ! -e "$T/p/.vmlab" ]
	check "$desc: nothing cached" [ -z "$(ls -A "$T/cache")" ]
}

cases() { grep -v '^#' "$corpus/$1/expect.tsv"; }

# vmlab.ini: validate and up (test driver), the file as the project's profile
while IFS=$'\t' read -r f line sub; do
	rm -rf "$T/p" && mkdir "$T/p" && cp "$corpus/ini/$f" "$T/p/vmlab.ini"
	run "ini/$f validate" vmlab.ini "$line" "$sub" 2 -- -C "$T/p" validate
	run "ini/$f up" vmlab.ini "$line" "$sub" 2 -- --uri test:///default -C "$T/p" up
done < <(cases ini)

# vmlab.conf: a good profile, the file as --config
while IFS=$'\t' read -r f line sub; do
	rm -rf "$T/p" && mkdir "$T/p" && printf '[vm a]\n' >"$T/p/vmlab.ini"
	run "conf/$f" "$corpus/conf/$f" "$line" "$sub" 2 -- --config "$corpus/conf/$f" -C "$T/p" validate
done < <(cases conf)

# image catalogs: named by [images] catalog in vmlab.conf
while IFS=$'\t' read -r f line sub; do
	rm -rf "$T/p" && mkdir "$T/p" && printf '[vm a]\n' >"$T/p/vmlab.ini"
	printf '[images]\ncatalog = %s\n' "$corpus/catalog/$f" >"$T/cat.conf"
	run "catalog/$f" "$corpus/catalog/$f" "$line" "$sub" 2 -- --config "$T/cat.conf" -C "$T/p" validate
done < <(cases catalog)

# class rosters: roster = roster.csv in [class]
while IFS=$'\t' read -r f line sub; do
	rm -rf "$T/p" && mkdir "$T/p" && cp "$corpus/roster/$f" "$T/p/roster.csv"
	printf '[class]\nroster = roster.csv\n[vm a]\n' >"$T/p/vmlab.ini"
	run "roster/$f" roster.csv "$line" "$sub" 2 -- -C "$T/p" validate
done < <(cases roster)

files=$(cat "$corpus"/*/expect.tsv | grep -vc '^#')
check "the corpus has 150 or more files ($files)" [ "$files" -ge 150 ]
echo "corpus: $files files, $tried runs, $fails failures"
[ $fails -eq 0 ]
