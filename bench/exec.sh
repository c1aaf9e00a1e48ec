#!/usr/bin/env bash
# Benchmark: `vmlab exec --all -- true` on N VMs against one `vmlab ssh VM -- true`, on a real
# libvirtd + QEMU (TCG) in a test netns, minimal test image, 1 vCPU / 256 MiB per VM.
# Both are hyperfine medians (every command inside the netns, no shell), twice:
#   - warm: both ride the lab's held session (the warmup run starts it): exec costs a
#     local round trip and a channel per VM, every VM at once, plus the libvirt connection
#     that reads the VMs' states (ssh VM -- CMD skips it);
#   - direct ([lab] persist = 0): every call opens its own SSH sessions, [up] parallel at a
#     time (the test config: 4), so exec costs about ceil(N / parallel) handshakes, ssh one.
# Target (issue 10): exec on 8 VMs at most 1.5x one ssh. Prints three lines for bench/inside.sh:
#   exec: N VMs, warm (held session): exec --all -- true X s, ssh VM -- true Y s, ratio R
#   exec: N VMs, warm: N x ssh VM -- true at once X s (ratio R to one ssh), exec vm1 -- true Y s
#   exec: N VMs, direct (persist = 0): exec --all -- true X s, ssh VM -- true Y s, ratio R
#
# usage: bench/exec.sh [VMLAB]   (VL_BENCH_VMS=N: VMs, 8; VL_BENCH_RUNS=N: hyperfine runs, 10)
# Takes /run/vmlab-libvirtd.lock for its whole run (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
N=${VL_BENCH_VMS:-8}
RUNS=${VL_BENCH_RUNS:-10}
bench_setup vlbench-exec

P=$BENCH_OUT/execlab
bench_project "$P" "$N"
t=$(bench_time in_dir "$P" vmlab up) || {
	tail -n 30 "$BENCH_OUT/last.log" >&2
	bench_die "vmlab up of the $N-VM lab failed"
}
bench_say "vmlab up ($N VMs): $t s"
out=$(in_dir "$P" vmlab exec --all -- true 2>&1) || bench_die "exec --all -- true failed: $out"

# pair JSON: hyperfine's medians of exec --all and of ssh vm1, into M_EXEC and M_SSH
pair() {
	vl_ns_exec env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
		hyperfine -N --style basic --export-json "$1" --warmup 1 --runs "$RUNS" \
		-n "exec --all -- true" "$BENCH_VMLAB -C $P exec --all -- true" \
		-n "ssh vm1 -- true" "$BENCH_VMLAB -C $P ssh vm1 -- true" >&2 ||
		bench_die "hyperfine failed"
	M_EXEC=$(jq -r '.results[0].median' "$1")
	M_SSH=$(jq -r '.results[1].median' "$1")
}
pair "$BENCH_OUT/exec-warm.json"
W_EXEC=$M_EXEC W_SSH=$M_SSH
# What the guests themselves cost: N `vmlab ssh VM -- true` started at once (warm), and exec on
# one VM (exec's own fixed cost over ssh: the libvirt connection that reads the VMs' states).
# Under TCG N guests share the host's cores, so N commands at once cannot take one's time.
par=""
for i in $(seq 1 "$N"); do par="$par $BENCH_VMLAB -C $P ssh vm$i -- true &"; done
vl_ns_exec env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
	hyperfine --style basic --export-json "$BENCH_OUT/exec-floor.json" --warmup 1 --runs "$RUNS" \
	-n "$N x ssh at once" "$par wait" \
	-n "exec vm1 -- true" "$BENCH_VMLAB -C $P exec vm1 -- true" >&2 || bench_die "hyperfine failed"
F_PAR=$(jq -r '.results[0].median' "$BENCH_OUT/exec-floor.json")
F_ONE=$(jq -r '.results[1].median' "$BENCH_OUT/exec-floor.json")
sed -i 's/^\[lab\]$/[lab]\npersist = 0/' "$P/vmlab.ini"
pair "$BENCH_OUT/exec-direct.json"
in_dir "$P" vmlab destroy --force >/dev/null 2>&1 || bench_say "destroy failed"
printf 'exec: %s VMs, warm (held session): exec --all -- true %.3f s, ssh VM -- true %.3f s, ratio %s (target <= 1.5)\n' \
	"$N" "$W_EXEC" "$W_SSH" "$(ratio "$W_EXEC" "$W_SSH")"
printf 'exec: %s VMs, warm: %s x ssh VM -- true at once %.3f s (ratio %s to one ssh: the guests sharing %s cores), exec vm1 -- true %.3f s\n' \
	"$N" "$N" "$F_PAR" "$(ratio "$F_PAR" "$W_SSH")" "$(nproc)" "$F_ONE"
printf 'exec: %s VMs, direct (persist = 0): exec --all -- true %.3f s, ssh VM -- true %.3f s, ratio %s (target <= 1.5)\n' \
	"$N" "$M_EXEC" "$M_SSH" "$(ratio "$M_EXEC" "$M_SSH")"
