#!/usr/bin/env bash
# Benchmark: the engine with many labs on one daemon. 50 labs of 4 VMs are defined (never
# started) on a real libvirtd, plus the lab measured (4 VMs): 51 labs, 204 domains, so the
# measured lab has 200 other VMs beside it. The labs are real vmlab labs: bench/define_labs
# (make bench-tools) plans each project with the engine against what libvirt already has (a
# subnet each), renders network and domains with vmlab's renderer (names, <metadata> with lab,
# project, owner, VM, address) and defines them; nothing is started, no volume is made.
#
# Measured with hyperfine (medians; every command inside the netns, no shell: -N):
#   vmlab status          of the one lab (its project directory, its vmlab.ini)
#   vmlab status --all    every lab with its VM states, from libvirt alone (no vmlab.ini)
#   virsh list --all      the same daemon, all 204 domains
# and the peak RSS of each (/usr/bin/time -f %M, one run each). Target: vmlab status of one lab
# within 2x of virsh list --all. Figures only, never pass/fail.
#
# usage: bench/engine.sh [VMLAB]   (VL_BENCH_RUNS=N: hyperfine runs, default 30;
#                                   VL_BENCH_LABS=N: other labs, default 50; VL_BENCH_VMS=N: VMs
#                                   per lab, default 4)
# Takes /run/vmlab-libvirtd.lock for its whole run (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
RUNS=${VL_BENCH_RUNS:-30}
NLABS=${VL_BENCH_LABS:-50}
NVMS=${VL_BENCH_VMS:-4}
TOOL=$(dirname "$BENCH_VMLAB")/bench/define_labs
[ -x "$TOOL" ] || bench_die "no $TOOL (run make bench-tools)"
[ -x /usr/bin/time ] || bench_die "/usr/bin/time is not installed (apt-get install time)"

bench_setup vlbench-engine
cp "$TOOL" "$BENCH_OUT/define_labs" || bench_die "cannot copy $TOOL"
TOOL=$BENCH_OUT/define_labs

# The projects: the measured one, then the others (lab001..lab050).
L=$E2E_TMP/labs
P=$L/measured
bench_project "$P" "$NVMS"
dirs=("$P")
for ((i = 1; i <= NLABS; i++)); do
	d=$(printf '%s/lab%03d' "$L" "$i")
	bench_project "$d" "$NVMS"
	dirs+=("$d")
done
NDOMS=$(((NLABS + 1) * NVMS))
t=$(bench_time vl_ns_exec env HOME="$E2E_HOME" "$TOOL" "$E2E_CONF" "${dirs[@]}") || {
	cat "$BENCH_OUT/last.log" >&2
	bench_die "defining the labs failed"
}
bench_say "$(cat "$BENCH_OUT/last.log") (wall $t s)"
n=$(vl_virsh list --all --name | grep -c '^vmlab-')
[ "$n" = "$NDOMS" ] || bench_die "libvirt has $n vmlab domains, not $NDOMS"
n=$(vl_virsh list --name | grep -c . || true)
[ "$n" = 0 ] || bench_die "$n domains are running; the labs must be defined only"
n=$(vl_virsh net-list --all --name | grep -c '^vmlab-')
[ "$n" = $((NLABS + 1)) ] || bench_die "libvirt has $n vmlab networks, not $((NLABS + 1))"

# What the commands say, checked once before they are timed.
st=$(in_dir "$P" vmlab status --json) || bench_die "vmlab status failed"
[ "$(jq -r '[.vms[] | select(.state == "shut off")] | length' <<<"$st")" = "$NVMS" ] ||
	bench_die "vmlab status does not show $NVMS VMs shut off: $st"
all=$(in_dir "$E2E_TMP" vmlab --json status --all) || bench_die "vmlab status --all failed"
if [ "$(jq '.labs | length' <<<"$all")" != $((NLABS + 1)) ] ||
	[ "$(jq '[.labs[].vms[] | select(.state == "shut off" and .cpus == 1 and .memory_mib == 256)] | length' <<<"$all")" != "$NDOMS" ]; then
	bench_die "vmlab status --all does not list $((NLABS + 1)) labs and $NDOMS VMs shut off (1 CPU, 256 MiB): $(head -c 600 <<<"$all")"
fi
[ "$(jq -r --arg p "$P" '.labs[] | select(.project == $p) | .network.subnet' <<<"$all")" = \
	"$(jq -r .network.subnet <<<"$st")" ] || bench_die "status --all and status disagree on the subnet"

# hf OUT.json HYPERFINE-ARGS...: hyperfine inside the netns, with vmlab's test config.
hf() {
	local out=$1
	shift
	vl_ns_exec env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" \
		hyperfine -N --style basic --export-json "$out" "$@" >&2 ||
		bench_die "hyperfine failed: $*"
}
VSTAT="$BENCH_VMLAB -C $P status"
VALL="$BENCH_VMLAB -C $E2E_TMP status --all"
VALLJ="$BENCH_VMLAB -C $E2E_TMP --json status --all"
VIRSH="virsh -c $VL_E2E_URI list --all"
hf "$BENCH_OUT/engine.json" --warmup 3 --runs "$RUNS" -n "vmlab status" "$VSTAT" \
	-n "vmlab status --all" "$VALL" -n "vmlab --json status --all" "$VALLJ" \
	-n "virsh list --all" "$VIRSH"
med() { jq -r ".results[$1].median" "$BENCH_OUT/engine.json"; }
M_ST=$(med 0) M_ALL=$(med 1) M_ALLJ=$(med 2) M_VI=$(med 3)

# Peak RSS (KiB) of one run each, in the netns like the timed runs.
rss() {
	# shellcheck disable=SC2086 # the command line is split on purpose
	vl_ns_exec env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" /usr/bin/time -f %M -o "$BENCH_OUT/rss" \
		$1 >/dev/null 2>&1 || bench_die "failed: $1"
	tail -n 1 "$BENCH_OUT/rss"
}
R_ST=$(rss "$VSTAT") R_ALL=$(rss "$VALL") R_ALLJ=$(rss "$VALLJ") R_VI=$(rss "$VIRSH")

ms() { awk -v s="$1" 'BEGIN { if (s == "n/a") print s; else printf "%.1f ms", s * 1000 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
cat <<EOF

=== bench/engine.sh: $((NLABS + 1)) labs of $NVMS VMs defined (not started) on one libvirtd, $NDOMS domains ===
hyperfine medians ($RUNS runs, 3 warmup)          peak RSS
vmlab status (one lab, $((NDOMS - NVMS)) other VMs)   $(ms "$M_ST")          $(mib "$R_ST")
vmlab status --all                    $(ms "$M_ALL")          $(mib "$R_ALL")
vmlab --json status --all             $(ms "$M_ALLJ")          $(mib "$R_ALLJ")
virsh list --all                      $(ms "$M_VI")          $(mib "$R_VI")
ratios:
  vmlab status / virsh list --all:        $(ratio "$M_ST" "$M_VI")x   (target <= 2x)
  vmlab status --all / virsh list --all:  $(ratio "$M_ALL" "$M_VI")x
EOF
