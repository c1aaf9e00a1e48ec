#!/usr/bin/env bash
# Benchmark: `vmlab up` to SSH-ready, on a real libvirtd + QEMU (TCG) in a test netns, with the
# minimal test image (tests/e2e/images/build-minimal.sh; 1 vCPU, 256 MiB per VM).
#
#  1. Image pull: the very first `vmlab up` (empty image cache) of the one-VM lab; its
#     "images" figure is the pull from the netns's lighttpd, reported apart. Not in the medians.
#  2. A fresh one-VM and a fresh four-VM lab, RUNS times each (project dir and .vmlab/ made
#     anew, `vmlab destroy --force` between runs): wall time of `vmlab -v up`, and its own
#     "timing:" line split into vmlab's own time (total - wait) and the time waiting for the
#     guests (SSH, then cloud-init where the image has it). Target: vmlab's own time < 0.5 s
#     per lab. The one-time upload of the base image into the pool is part of the first up
#     only (section 1).
#  3. The floor, on the four-VM lab of each run: `vmlab halt`, then the same four domains
#     started by hand (`virsh start` x4 as parallel background jobs) while plain OpenSSH
#     (project key, pinned host key, StrictHostKeyChecking=yes) polls each guest from inside
#     the netns; time from the first start until all four answered. Then `vmlab halt` again
#     and `vmlab up` of the halted lab (the same work: start + wait). Target: vmlab up of the
#     four-VM lab within 1.1x of the by-hand floor.
#
#  4. The real cloud-init image (tests/e2e/images/build-cloudinit.sh, about 175 MB), one VM
#     with 768 MiB: the first up's one-time base upload into the pool (seconds, MB/s, and the
#     read-back verification apart) against `virsh vol-upload` of the same cached file into a
#     fresh volume; and the wait split into SSH and cloud-init. VL_BENCH_SKIP_CLOUDINIT=1
#     leaves it out.
#
# usage: bench/up.sh [VMLAB]        (VL_BENCH_RUNS=N changes the 3 runs)
# Takes /run/vmlab-libvirtd.lock for its whole run (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
RUNS=${VL_BENCH_RUNS:-3}
[ "${VL_BENCH_SKIP_CLOUDINIT:-0}" = 1 ] || export BENCH_CLOUDINIT=1
bench_setup vlbench-up

# up_timed DIR: `vmlab -v up` in DIR; sets U_WALL U_TOTAL U_WAIT U_OWN U_IMG U_NET U_CS.
up_timed() {
	local dir=$1 log
	U_WALL=$(bench_time in_dir "$dir" vmlab -v up) || {
		tail -n 30 "$BENCH_OUT/last.log" >&2
		bench_die "vmlab up failed in $dir"
	}
	log=$BENCH_OUT/up.$(basename "$dir").log
	cp "$BENCH_OUT/last.log" "$log"
	U_TOTAL=$(vmlab_timing total "$log")
	U_WAIT=$(vmlab_timing wait "$log")
	U_SSH=$(vmlab_timing 'wait for ssh' "$log")
	U_CI=$(vmlab_timing 'wait for cloud-init' "$log")
	U_UPL=$(vmlab_timing 'base upload' "$log")
	U_VER=$(vmlab_timing 'base verify' "$log")
	U_IMG=$(vmlab_timing images "$log")
	U_NET=$(vmlab_timing network "$log")
	U_CS=$(vmlab_timing create+start "$log")
	U_LVN=$(vmlab_timing 'libvirt network start' "$log")
	U_LVD=$(vmlab_timing 'libvirt domain start' "$log")
	bench_say "  $(grep -m1 -o 'timing:.*' "$log")"
	[ -n "$U_TOTAL" ] && [ -n "$U_WAIT" ] || {
		tail -n 30 "$log" >&2
		bench_die "no 'timing:' line in vmlab -v up's output"
	}
	U_OWN=$(awk -v t="$U_TOTAL" -v w="$U_WAIT" 'BEGIN { printf "%.3f", t - w }')
	# vmlab alone: its own time less libvirt bringing up the network and launching QEMU
	U_VMLAB=$(awk -v o="$U_OWN" -v n="${U_LVN:-0}" -v d="${U_LVD:-0}" 'BEGIN { printf "%.3f", o - n - d }')
}

destroy_lab() { # DIR
	(cd "$1" && vmlab destroy --force) >"$BENCH_OUT/destroy.log" 2>&1 || {
		cat "$BENCH_OUT/destroy.log" >&2
		bench_die "vmlab destroy --force failed in $1"
	}
}

halt_lab() { # DIR; prints the seconds
	local t
	t=$(bench_time in_dir "$1" vmlab halt) || {
		cat "$BENCH_OUT/last.log" >&2
		bench_die "vmlab halt failed in $1"
	}
	echo "$t"
}

# by_hand DIR: the lab's halted domains started by hand in parallel; prints the seconds from
# the first `virsh start` until every guest answered SSH, and the seconds until the four
# `virsh start` calls had all returned.
by_hand() {
	local dir=$1 id vm ip s e st pids=() spids=() bad=0 p
	id=$(lab_id "$dir")
	s=$(now)
	while read -r vm ip; do
		vl_virsh start "vmlab-$id-$vm" >/dev/null &
		spids+=($!)
		bench_wait_ssh "$dir" "$vm" "$ip" 300 &
		pids+=($!)
	done <"$BENCH_OUT/ips"
	for p in "${spids[@]}"; do wait "$p" || bad=1; done
	st=$(now)
	for p in "${pids[@]}"; do wait "$p" || bad=1; done
	e=$(now)
	[ "$bad" = 0 ] || bench_die "by hand: a virsh start failed or a guest did not answer SSH"
	awk -v a="$s" -v b="$e" -v c="$st" 'BEGIN { printf "%.3f %.3f\n", b - a, c - a }'
}

P1=$E2E_TMP/lab1
P4=$E2E_TMP/lab4

# 1. first up, cold image cache
bench_project "$P1" 1
up_timed "$P1"
PULL_IMG=$U_IMG PULL_WALL=$U_WALL
bench_say "first up (cold cache): wall $U_WALL s, images $U_IMG s"
destroy_lab "$P1"

W1=() T1=() O1=() A1=() V1=() V4=()
N1=() C1=() N4=() C4=() HSTART=() HCS=()
W4=() T4=() O4=() A4=() HAND=() HALTUP=() HALTUPO=() HALT=()
for ((r = 1; r <= RUNS; r++)); do
	bench_project "$P1" 1
	up_timed "$P1"
	W1+=("$U_WALL") T1+=("$U_TOTAL") O1+=("$U_OWN") A1+=("$U_WAIT") N1+=("$U_NET") C1+=("$U_CS") V1+=("$U_VMLAB")
	bench_say "run $r, 1 VM: up wall $U_WALL s (vmlab total $U_TOTAL, own $U_OWN, wait $U_WAIT)"
	destroy_lab "$P1"

	bench_project "$P4" 4
	up_timed "$P4"
	W4+=("$U_WALL") T4+=("$U_TOTAL") O4+=("$U_OWN") A4+=("$U_WAIT") N4+=("$U_NET") C4+=("$U_CS") V4+=("$U_VMLAB")
	bench_say "run $r, 4 VMs: up wall $U_WALL s (vmlab total $U_TOTAL, own $U_OWN, wait $U_WAIT)"
	bench_ips "$P4" >"$BENCH_OUT/ips"
	[ "$(grep -c . "$BENCH_OUT/ips")" = 4 ] || bench_die "status did not list 4 VMs with IPs"
	t=$(halt_lab "$P4") || exit 1
	HALT+=("$t")
	t=$(by_hand "$P4") || exit 1
	HAND+=("${t% *}") HSTART+=("${t#* }")
	bench_say "run $r, 4 VMs by hand (virsh start x4 in parallel + ssh): ${HAND[-1]} s (starts returned after ${HSTART[-1]} s)"
	t=$(halt_lab "$P4") || exit 1
	HALT+=("$t")
	up_timed "$P4"
	HALTUP+=("$U_WALL") HALTUPO+=("$U_OWN") HCS+=("$U_CS")
	bench_say "run $r, 4 VMs: up of the halted lab $U_WALL s (own $U_OWN)"
	destroy_lab "$P4"
done

# 4. the cloud-init image: base upload vs virsh vol-upload, and the cloud-init wait
CI_LINE="(left out: VL_BENCH_SKIP_CLOUDINIT=1)"
if [ "${BENCH_CLOUDINIT:-0}" = 1 ]; then
	PC=$E2E_TMP/labci
	rm -rf "$PC"
	printf '[lab]\nname = labci\n[vm box]\nimage = test-cloudinit\ncpus = 1\nmemory = 768M\ndisk = 4G\n' |
		e2e_project "$PC"
	up_timed "$PC"
	CI_WALL=$U_WALL CI_SSH=$U_SSH CI_CI=$U_CI CI_UPL=$U_UPL CI_VER=$U_VER
	img=$(in_dir "$PC" vmlab image list --json | jq -r '.[] | select(.name == "test-cloudinit") | .path')
	bytes=$(stat -c %s "$img")
	destroy_lab "$PC"
	# the same file by hand: a fresh raw volume of its size, then virsh vol-upload
	vl_virsh vol-create-as vmlab vmlab-bench-upload "$bytes" --format raw >/dev/null ||
		bench_die "virsh vol-create-as failed"
	VIRSH_UPL=$(bench_time vl_virsh vol-upload --pool vmlab vmlab-bench-upload "$img") ||
		bench_die "virsh vol-upload failed"
	vl_virsh vol-delete --pool vmlab vmlab-bench-upload >/dev/null
	mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
	rate() { awk -v b="$bytes" -v t="$1" 'BEGIN { if (t + 0 > 0) printf "%.0f", b / 1e6 / t; else print "n/a" }'; }
	CI_LINE="cloud-init image ($mb MB), 1 VM, first up: wall $CI_WALL s
  base upload into the pool: vmlab $CI_UPL s ($(rate "$CI_UPL") MB/s) | virsh vol-upload $VIRSH_UPL s ($(rate "$VIRSH_UPL") MB/s) | ratio $(ratio "$CI_UPL" "$VIRSH_UPL")x
  then vmlab reads it back to verify the SHA-256: $CI_VER s (once per image and host)
  waiting: SSH $CI_SSH s, then cloud-init $CI_CI s"
fi

m() { median "$@"; }
cat <<EOF

=== bench/up.sh: vmlab up to SSH-ready (minimal image, TCG, 1 vCPU / 256 MiB per VM, medians of $RUNS) ===
first up, cold image cache (1 VM):   wall $PULL_WALL s, of which image pull $PULL_IMG s
1-VM lab,  fresh up:   wall $(m "${W1[@]}") s | vmlab total $(m "${T1[@]}") s = own $(m "${O1[@]}") s + waiting $(m "${A1[@]}") s
4-VM lab,  fresh up:   wall $(m "${W4[@]}") s | vmlab total $(m "${T4[@]}") s = own $(m "${O4[@]}") s + waiting $(m "${A4[@]}") s
  of vmlab's own time: network $(m "${N1[@]}") s / $(m "${N4[@]}") s, create+start (libvirt define + QEMU launch) $(m "${C1[@]}") s / $(m "${C4[@]}") s (1 VM / 4 VMs)
4-VM lab,  by hand (virsh start x4 parallel, until all answer ssh):  $(m "${HAND[@]}") s   <- floor
           (the four parallel virsh start calls themselves returned after $(m "${HSTART[@]}") s)
4-VM lab,  vmlab up of the halted lab:  wall $(m "${HALTUP[@]}") s (own $(m "${HALTUPO[@]}") s, of which start $(m "${HCS[@]}") s)
4-VM lab,  vmlab halt:  $(m "${HALT[@]}") s
ratios:
  vmlab own time, 1 VM:  $(m "${O1[@]}") s   (target < 0.5 s)
  vmlab own time, 4 VMs: $(m "${O4[@]}") s   (target < 0.5 s)
  the same less libvirt's network start and longest QEMU launch: $(m "${V1[@]}") s / $(m "${V4[@]}") s (1 VM / 4 VMs)
  up of halted 4-VM lab / by-hand floor:  $(ratio "$(m "${HALTUP[@]}")" "$(m "${HAND[@]}")")x   (target <= 1.1x)
  fresh 4-VM up / by-hand floor:          $(ratio "$(m "${W4[@]}")" "$(m "${HAND[@]}")")x
  fresh 4-VM up / fresh 1-VM up:          $(ratio "$(m "${W4[@]}")" "$(m "${W1[@]}")")x
raw (s): 1-VM up ${W1[*]} | 4-VM up ${W4[*]} | by hand ${HAND[*]} | halted up ${HALTUP[*]}
$CI_LINE
EOF
