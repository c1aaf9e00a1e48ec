#!/usr/bin/env bash
# Benchmark: what the held session saves exec and cp, on one VM of the minimal test image
# (real libvirtd + QEMU/TCG in a test netns, 1 vCPU / 256 MiB). hyperfine medians, each
# command inside the netns, warm (riding the lab's held session, started by the warmup run)
# and direct ([lab] persist = 0: a session of its own per call):
#   - vmlab cp of a small file up, and down;
#   - vmlab exec vm1 -- true.
# Prints one line per command for bench/inside.sh:
#   held: CMD: warm X s, direct Y s, ratio R
#
# usage: bench/held.sh [VMLAB]   (VL_BENCH_RUNS=N: hyperfine runs, 10)
# Takes /run/vmlab-libvirtd.lock for its whole run (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
RUNS=${VL_BENCH_RUNS:-10}
bench_setup vlbench-held

P=$BENCH_OUT/heldlab
bench_project "$P" 1
t=$(bench_time in_dir "$P" vmlab up) || {
	tail -n 30 "$BENCH_OUT/last.log" >&2
	bench_die "vmlab up failed"
}
bench_say "vmlab up (1 VM): $t s"
printf 'a small file\n' >"$P/small.txt"
mkdir -p "$P/dl"
in_dir "$P" vmlab cp small.txt vm1:small.txt >/dev/null 2>&1 || bench_die "cp up failed"

# run JSON: hyperfine's medians of the three commands, into M[0..2]
run() {
	local i
	vl_ns_exec env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
		hyperfine -N --style basic --export-json "$1" --warmup 1 --runs "$RUNS" \
		-n "cp up" "$BENCH_VMLAB -C $P cp $P/small.txt vm1:small.txt" \
		-n "cp down" "$BENCH_VMLAB -C $P cp vm1:small.txt $P/dl/" \
		-n "exec vm1 -- true" "$BENCH_VMLAB -C $P exec vm1 -- true" >&2 ||
		bench_die "hyperfine failed"
	for i in 0 1 2; do M[i]=$(jq -r ".results[$i].median" "$1"); done
}
declare -a M W
run "$BENCH_OUT/held-warm.json"
W=("${M[@]}")
sed -i 's/^\[lab\]$/[lab]\npersist = 0/' "$P/vmlab.ini"
run "$BENCH_OUT/held-direct.json"
in_dir "$P" vmlab destroy --force >/dev/null 2>&1 || bench_say "destroy failed"
names=("cp of a small file up" "cp of a small file down" "exec vm1 -- true")
for i in 0 1 2; do
	printf 'held: %s: warm %.3f s, direct %.3f s, ratio %s\n' "${names[i]}" "${W[i]}" "${M[i]}" \
		"$(ratio "${W[i]}" "${M[i]}")"
done
