#!/usr/bin/env bash
# Benchmark: lab snapshots and destroy on a real libvirtd + QEMU (TCG) in a test netns, minimal
# test image, 1 vCPU / 256 MiB per VM.
#
#  1. A running two-VM lab, RUNS times: `vmlab snapshot save vN`, then the raw virsh calls doing
#     the same (suspend both, snapshot-create-as both (memory included), resume both), then
#     `vmlab rollback vN` against the raw calls (snapshot-revert --paused both, resume both).
#     The raw calls are timed twice: one virsh call after the other (a plain script), and each
#     step's two calls as parallel background jobs (as vmlab does them). `vmlab rollback` also
#     waits until every guest answers SSH again, so the raw revert is timed a third time with
#     that wait added (parallel calls, then OpenSSH polls both guests from inside the netns). Snapshots are deleted
#     after each run (untimed) so the qcow2 files do not grow from run to run.
#     Target: vmlab within 1.2x of the raw calls.
#  2. Destroy of a running four-VM lab, DRUNS times: `vmlab destroy --force`, against a second
#     identical lab (another project dir) removed by hand, one guest after the other:
#     `virsh destroy` (each timed), `virsh undefine --remove-all-storage`, then the network.
#     Shows that vmlab's destroy runs the guests' destroys in parallel (docs/host-notes.md: ~2 s each).
#
# usage: bench/snapshot.sh [VMLAB]   (VL_BENCH_RUNS=N: snapshot runs, 5;
#                                     VL_BENCH_DESTROY_RUNS=N: destroy runs, 3)
# Takes /run/vmlab-libvirtd.lock for its whole run (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
RUNS=${VL_BENCH_RUNS:-5}
DRUNS=${VL_BENCH_DESTROY_RUNS:-3}
bench_setup vlbench-snap

up_lab() { # DIR
	in_dir "$1" vmlab up >"$BENCH_OUT/up.log" 2>&1 || {
		tail -n 30 "$BENCH_OUT/up.log" >&2
		bench_die "vmlab up failed in $1"
	}
}

# virsh_each MODE CMD ARGS...: `virsh CMD DOM ARGS...` for each of $DOMS, one after the other
# (MODE seq) or all at once (MODE par).
virsh_each() {
	local mode=$1 cmd=$2 d pids=() p rc=0
	shift 2
	for d in $DOMS; do
		if [ "$mode" = seq ]; then
			vl_virsh "$cmd" "$d" "$@" >/dev/null || return 1
		else
			vl_virsh "$cmd" "$d" "$@" >/dev/null &
			pids+=($!)
		fi
	done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
raw_save() { # MODE NAME
	virsh_each "$1" suspend && virsh_each "$1" snapshot-create-as "$2" && virsh_each "$1" resume
}
raw_revert() { # MODE NAME
	virsh_each "$1" snapshot-revert "$2" --paused && virsh_each "$1" resume
}
# raw_revert_ssh NAME: raw_revert par, then wait until both guests answer SSH, as
# `vmlab rollback` does ("rollback promises SSH works", src/lab_snapshot.c).
raw_revert_ssh() {
	local vm ip pids=() p rc=0
	raw_revert par "$1" || return 1
	while read -r vm ip; do
		bench_wait_ssh "$P" "$vm" "$ip" 120 &
		pids+=($!)
	done <"$BENCH_OUT/ips"
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
# rec ARRAY WHAT CMD...: append CMD's seconds to ARRAY; die (with the output) on failure.
rec() {
	local var=$1 what=$2 t
	shift 2
	t=$(bench_time "$@") || {
		cat "$BENCH_OUT/last.log" >&2
		bench_die "$what failed"
	}
	eval "$var+=(\"\$t\")"
}
timed() { # WHAT CMD...: print the seconds; die (with the output) on failure
	local what=$1 t
	shift
	t=$(bench_time "$@") || {
		cat "$BENCH_OUT/last.log" >&2
		bench_die "$what failed"
	}
	echo "$t"
}

# --- 1. snapshots of a running two-VM lab ---
P=$E2E_TMP/snap2
bench_project "$P" 2
up_lab "$P"
ID=$(lab_id "$P")
DOMS="vmlab-$ID-vm1 vmlab-$ID-vm2"
bench_ips "$P" >"$BENCH_OUT/ips"
VS=() VR=() SS=() SR=() PS=() PR=() QR=()
for ((r = 1; r <= RUNS; r++)); do
	rec VS "vmlab snapshot save" in_dir "$P" vmlab snapshot save "v$r"
	rec SS "virsh snapshot (seq)" raw_save seq "s$r"
	rec PS "virsh snapshot (par)" raw_save par "p$r"
	rec VR "vmlab rollback" in_dir "$P" vmlab rollback "v$r"
	rec SR "virsh revert (seq)" raw_revert seq "s$r"
	rec PR "virsh revert (par)" raw_revert par "p$r"
	rec QR "virsh revert (par) + ssh wait" raw_revert_ssh "p$r"
	bench_say "run $r: save vmlab ${VS[-1]} / virsh seq ${SS[-1]} / par ${PS[-1]} s;" \
		"rollback vmlab ${VR[-1]} / virsh seq ${SR[-1]} / par ${PR[-1]} / par+ssh ${QR[-1]} s"
	in_dir "$P" vmlab snapshot delete "v$r" >/dev/null 2>&1 || bench_say "vmlab snapshot delete v$r failed"
	for d in $DOMS; do
		vl_virsh snapshot-delete "$d" "s$r" >/dev/null && vl_virsh snapshot-delete "$d" "p$r" >/dev/null ||
			bench_say "virsh snapshot-delete on $d failed"
	done
done
# The rollbacks must have left a working lab.
in_dir "$P" vmlab ssh vm1 -- true || bench_die "vm1 does not answer vmlab ssh after the rollbacks"
in_dir "$P" vmlab destroy --force >/dev/null 2>&1 || bench_die "vmlab destroy --force of $P failed"

# --- 2. destroy of a running four-VM lab: vmlab vs one guest after the other by hand ---
PA=$E2E_TMP/dest4a
PB=$E2E_TMP/dest4b
VD=() HD=() HT=()
for ((r = 1; r <= DRUNS; r++)); do
	bench_project "$PA" 4
	up_lab "$PA"
	rec VD "vmlab destroy --force" in_dir "$PA" vmlab destroy --force
	left=$(leftovers "$(lab_id "$PA")")
	[ -z "$left" ] || bench_say "vmlab destroy left: $left"

	bench_project "$PB" 4
	up_lab "$PB"
	id=$(lab_id "$PB")
	s=$(now)
	dsum=0
	for ((i = 1; i <= 4; i++)); do
		d=$(timed "virsh destroy" vl_virsh destroy "vmlab-$id-vm$i") || exit 1
		dsum=$(awk -v a="$dsum" -v b="$d" 'BEGIN { printf "%.3f", a + b }')
		vl_virsh undefine --remove-all-storage --snapshots-metadata "vmlab-$id-vm$i" >/dev/null ||
			bench_die "virsh undefine vmlab-$id-vm$i failed"
	done
	vl_virsh net-destroy "vmlab-$id" >/dev/null && vl_virsh net-undefine "vmlab-$id" >/dev/null ||
		bench_die "removing network vmlab-$id failed"
	HT+=("$(awk -v a="$s" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
	HD+=("$dsum")
	# whatever the hand removal does not cover (volumes outside the domains) goes the usual way
	in_dir "$PB" vmlab destroy --force >/dev/null 2>&1 || true
	bench_say "run $r: vmlab destroy --force ${VD[-1]} s; by hand ${HT[-1]} s (virsh destroy x4: $dsum s)"
done

m() { median "$@"; }
cat <<EOF

=== bench/snapshot.sh: snapshots of a running two-VM lab, destroy of a running four-VM lab ===
(minimal image, TCG, 1 vCPU / 256 MiB per VM; medians; virsh "seq" = one call after the other,
 "par" = each step's calls as parallel jobs)
snapshot save, 2 VMs ($RUNS runs):  vmlab $(m "${VS[@]}") s | virsh seq $(m "${SS[@]}") s | virsh par $(m "${PS[@]}") s
rollback,      2 VMs ($RUNS runs):  vmlab $(m "${VR[@]}") s | virsh seq $(m "${SR[@]}") s | virsh par $(m "${PR[@]}") s | virsh par + wait for ssh $(m "${QR[@]}") s
destroy,       4 VMs ($DRUNS runs):  vmlab destroy --force $(m "${VD[@]}") s | by hand, sequential: $(m "${HT[@]}") s total, of which virsh destroy x4 $(m "${HD[@]}") s
ratios:
  save:     vmlab / virsh seq $(ratio "$(m "${VS[@]}")" "$(m "${SS[@]}")")x, vmlab / virsh par $(ratio "$(m "${VS[@]}")" "$(m "${PS[@]}")")x   (target <= 1.2x)
  rollback: vmlab / virsh seq $(ratio "$(m "${VR[@]}")" "$(m "${SR[@]}")")x, vmlab / virsh par $(ratio "$(m "${VR[@]}")" "$(m "${PR[@]}")")x, vmlab / (virsh par + ssh wait) $(ratio "$(m "${VR[@]}")" "$(m "${QR[@]}")")x   (target <= 1.2x)
  destroy:  sequential by hand / vmlab $(ratio "$(m "${HT[@]}")" "$(m "${VD[@]}")")x; sum of 4 virsh destroys / vmlab $(ratio "$(m "${HD[@]}")" "$(m "${VD[@]}")")x
raw (s): save vmlab ${VS[*]} | rollback vmlab ${VR[*]} | revert par+ssh ${QR[*]} | destroy vmlab ${VD[*]} | by hand ${HT[*]}
EOF
