#!/usr/bin/env bash
# Benchmark: classes.
#  1. 30 seats x 3 VMs against libvirt's test:///default driver (define only; the test
#     driver runs no guests): the unit test build/rel/tests/test_class prints its times
#     (defining every seat, the baseline of all, reset of all, destroy of all).
#  2. A real class of one seat of 2 VMs (minimal image, TCG, 256 MiB each) in a test netns:
#     `vmlab class reset 1` RUNS times against the raw calls on the same VMs (virsh
#     snapshot-revert --paused both in parallel, resume both, then wait until both answer
#     SSH, as class reset does). Target: at most 1.2x.
#
# usage: bench/class.sh [VMLAB]   (VL_BENCH_RUNS=N: reset runs, 5)
# Takes /run/vmlab-libvirtd.lock for part 2 (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
RUNS=${VL_BENCH_RUNS:-5}

make -C "$BENCH_ROOT" -s build/rel/tests/test_class >/dev/null || bench_die "cannot build test_class"
td=$("$BENCH_ROOT/build/rel/tests/test_class" | grep '^class ') || bench_die "test_class failed"

bench_setup vlbench-class
P=$E2E_TMP/class1
mkdir -p "$P"
cat >"$P/vmlab.ini" <<'INI'
[lab]
name = bcls
[defaults]
image  = test-minimal
memory = 256M
[vm vm1]
[vm vm2]
[class]
seats = 1
INI
in_dir "$P" vmlab class up >"$BENCH_OUT/up.log" 2>&1 || { tail -n 30 "$BENCH_OUT/up.log" >&2; bench_die "class up failed"; }
plan=$(in_dir "$P" vmlab class plan --json)
DOMS=$(jq -r '.seats[0].vms[].domain' <<<"$plan")
jq -r '.seats[0].vms[] | "\(.name) \(.ip)"' <<<"$plan" >"$BENCH_OUT/ips"
KEYS=$P/.vmlab/instances/seat-1

# plain OpenSSH with the seat's key and pinned host keys, until `true` runs
wait_ssh() { # VM IP
	local kh=$BENCH_OUT/kh-$1 i
	printf '%s %s\n' "$2" "$(cut -d' ' -f1,2 "$KEYS/hostkeys/$1_ed25519.pub")" >"$kh"
	for ((i = 0; i < 600; i++)); do
		vl_ns_exec ssh -q -i "$KEYS/id_ed25519" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes \
			-o BatchMode=yes -o ConnectTimeout=2 "vmlab@$2" true 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
raw_reset() {
	local d pids=() p rc=0 vm ip
	for d in $DOMS; do vl_virsh snapshot-revert "$d" baseline --paused >/dev/null & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	pids=()
	for d in $DOMS; do vl_virsh resume "$d" >/dev/null & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	pids=()
	while read -r vm ip; do wait_ssh "$vm" "$ip" & pids+=($!); done <"$BENCH_OUT/ips"
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
VR=() RR=()
for ((r = 1; r <= RUNS; r++)); do
	t=$(bench_time in_dir "$P" vmlab class reset 1) || { cat "$BENCH_OUT/last.log" >&2; bench_die "class reset failed"; }
	VR+=("$t")
	t=$(bench_time raw_reset) || { cat "$BENCH_OUT/last.log" >&2; bench_die "raw revert failed"; }
	RR+=("$t")
	bench_say "run $r: vmlab class reset 1 ${VR[-1]} s; virsh revert + resume + ssh wait ${RR[-1]} s"
done
in_dir "$P" vmlab class destroy --force >/dev/null 2>&1 || bench_say "class destroy failed"

cat <<OUT

=== bench/class.sh ===
$td
reset of one seat, 2 VMs ($RUNS runs, medians): vmlab class reset $(median "${VR[@]}") s | virsh snapshot-revert + resume + ssh wait $(median "${RR[@]}") s
ratio: vmlab / raw $(ratio "$(median "${VR[@]}")" "$(median "${RR[@]}")")x   (target <= 1.2x)
raw (s): vmlab ${VR[*]} | virsh ${RR[*]}
OUT
