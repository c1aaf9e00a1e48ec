#!/usr/bin/env bash
# Run every cmocka unit-test binary given; fail if any fails. Prints one
# summary line, then every skipped test by name ("skipped: BINARY: TEST").
#
# Skipped tests cannot hide: cmocka's skip() lets a binary pass, so the runner
# collects each binary's "[  SKIPPED ] TEST" lines and lists them. Some
# binaries must run every test on a machine set up by `make deps` (as this
# one and CI are): MUST_RUN below. With VL_TEST_NO_SKIP=1 (what `make
# check-unit` sets; `make check-unit VL_TEST_NO_SKIP=0` on a machine without
# the test packages) a skip in one of them fails the run. Other skips stay
# listed only: test_config skips a defaults test when /etc/vmlab/vmlab.conf
# exists, which is the machine's business, not a fault.
#
#   test_ssh  the sshd tests start openssh-server's sshd (SKIP_WITHOUT_SSHD);
#             a skip means sshd is missing or could not start.
set -u
MUST_RUN=(test_ssh)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vl-unit-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 failed=() skipped=() must=()
for t in "$@"; do
	name=${t##*/}
	"$t" 2>&1 | tee "$tmp/out"
	if [ "${PIPESTATUS[0]}" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
	# each skip is printed when it happens and again in the closing list
	while IFS= read -r test; do
		skipped+=("$name: $test")
		for m in "${MUST_RUN[@]}"; do
			[ "$m" = "$name" ] && must+=("$name: $test")
		done
	done < <(sed -n 's/^\[  SKIPPED \] \([^ ]*\)$/\1/p' "$tmp/out" | sort -u)
done
echo "unit test binaries: $pass passed, $fail failed; ${#skipped[@]} tests skipped"
[ "${#skipped[@]}" -eq 0 ] || printf 'skipped: %s\n' "${skipped[@]}"
[ "$fail" -eq 0 ] || printf 'failed: %s\n' "${failed[@]}"
if [ "${VL_TEST_NO_SKIP:-0}" = 1 ] && [ "${#must[@]}" -gt 0 ]; then
	printf 'must run here, but skipped: %s\n' "${must[@]}"
	echo "(VL_TEST_NO_SKIP=1: these need only what 'make deps' installs, e.g. openssh-server's sshd)"
	exit 1
fi
[ "$fail" -eq 0 ]
