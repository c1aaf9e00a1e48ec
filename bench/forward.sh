#!/usr/bin/env bash
# Benchmark: forwards and the held session against OpenSSH on the same guest (real libvirtd +
# QEMU/TCG in a test netns, minimal image, 1 vCPU / 256 MiB; busybox httpd in the guest on
# 127.0.0.1:8000). Prints figures, never pass/fail.
#
#  1. Forward throughput: a 32 MiB file over `vmlab forward vm1 L:8000` against `ssh -N -L`
#     (curl in the netns, best of RUNS). Target: vmlab at least 0.8x.
#  2. Connection setup: RUNS x 20 sequential GETs of a small page through each (median of
#     curl's time_total).
#  3. `vmlab ssh vm1 -- true`: cold (no held session: the master is ended before each run)
#     and warm, against OpenSSH cold and with ControlMaster (warm). Targets: cold at most
#     1.1x OpenSSH cold, warm at most 0.1 s.
#
# usage: bench/forward.sh [VMLAB]   (VL_BENCH_RUNS=N: runs per figure, 5)
# Takes /run/vmlab-libvirtd.lock for its whole run (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
RUNS=${VL_BENCH_RUNS:-5}
bench_setup vlbench-fwd

P=$BENCH_OUT/fwd
bench_project "$P" 1
in_dir "$P" vmlab up >"$BENCH_OUT/up.log" 2>&1 || { tail -20 "$BENCH_OUT/up.log"; bench_die "up failed"; }
in_dir "$P" vmlab ssh vm1 -- sh -c 'mkdir -p /tmp/www && echo page >/tmp/www/index.html &&
	dd if=/dev/zero of=/tmp/www/big bs=1M count=32 2>/dev/null &&
	busybox httpd -p 127.0.0.1:8000 -h /tmp/www' || bench_die "httpd did not start"
read -r _ IP < <(bench_ips "$P")
KH=$BENCH_OUT/known_hosts
printf '%s %s\n' "$IP" "$(cut -d' ' -f1,2 "$P/.vmlab/hostkeys/vm1_ed25519.pub")" >"$KH"
SSH=(ssh -i "$P/.vmlab/id_ed25519" -o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=yes
	-o GlobalKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
master_pid() { ps -eo pid,args | awk -v d="$P" 'index($0, "-C " d " held-session") { print $1 }' | head -1; }

in_dir "$P" vmlab forward vm1 18101:8000 || bench_die "vmlab forward failed"
# ip netns exec execs ssh: $! is ssh's own pid
vl_ns_exec "${SSH[@]}" -N -o ExitOnForwardFailure=yes -L 18102:127.0.0.1:8000 vmlab@"$IP" &
SSH_L=$!
bench_on_exit 'kill "$SSH_L" 2>/dev/null'
for ((i = 0; i < 100; i++)); do vl_ns_exec curl -s -o /dev/null http://127.0.0.1:18102/ && break; sleep 0.1; done

speed() { # PORT: bytes/s of the big file
	vl_ns_exec curl -s -o /dev/null -w '%{speed_download}\n' "http://127.0.0.1:$1/big"
}
setup() { # PORT: time_total of 20 small GETs, one per line
	vl_ns_exec bash -c 'for i in $(seq 20); do curl -s -o /dev/null -w "%{time_total}\n" "http://127.0.0.1:$1/"; done' _ "$1"
}
VT=() ST=() VS=() SS=()
for ((r = 1; r <= RUNS; r++)); do
	VT+=("$(speed 18101)")
	ST+=("$(speed 18102)")
	mapfile -t -O "${#VS[@]}" VS < <(setup 18101)
	mapfile -t -O "${#SS[@]}" SS < <(setup 18102)
done
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
best() { printf '%s\n' "$@" | sort -g | tail -1; }

# ssh -- true: warm on the running master, cold with the master ended first
VW=() VC=() OC=() OW=()
for ((r = 1; r <= RUNS; r++)); do
	VW+=("$(bench_time in_dir "$P" vmlab ssh vm1 -- true)")
done
for ((r = 1; r <= RUNS; r++)); do
	pid=$(master_pid)
	[ -n "$pid" ] && kill "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	VC+=("$(bench_time in_dir "$P" vmlab ssh vm1 -- true)")
	OC+=("$(bench_time vl_ns_exec "${SSH[@]}" -n vmlab@"$IP" true)")
done
CM=(-o ControlMaster=auto -o ControlPath="$BENCH_OUT/cm-%r@%h" -o ControlPersist=60)
vl_ns_exec "${SSH[@]}" "${CM[@]}" -n vmlab@"$IP" true || bench_die "ControlMaster failed"
for ((r = 1; r <= RUNS; r++)); do
	OW+=("$(bench_time vl_ns_exec "${SSH[@]}" "${CM[@]}" -n vmlab@"$IP" true)")
done
vl_ns_exec "${SSH[@]}" "${CM[@]}" -O exit vmlab@"$IP" 2>/dev/null
in_dir "$P" vmlab destroy --force >/dev/null 2>&1

vt=$(best "${VT[@]}") st=$(best "${ST[@]}")
cat <<EOF

forward, 32 MiB GET (best of $RUNS):   vmlab $(mib "$vt") MiB/s | ssh -L $(mib "$st") MiB/s   -> $(ratio "$vt" "$st")x   (target >= 0.8x)
forward, connection + small GET (median of $((RUNS * 20))):  vmlab $(median "${VS[@]}") s | ssh -L $(median "${SS[@]}") s
ssh VM -- true (median of $RUNS):  vmlab cold $(median "${VC[@]}") s | OpenSSH cold $(median "${OC[@]}") s -> $(ratio "$(median "${VC[@]}")" "$(median "${OC[@]}")")x (target <= 1.1x)
                                vmlab warm $(median "${VW[@]}") s | OpenSSH ControlMaster $(median "${OW[@]}") s   (target: warm <= 0.1 s)
EOF
