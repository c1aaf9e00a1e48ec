#!/usr/bin/env bash
# Benchmark: `vmlab status` of a running two-VM lab of the minimal test image against
# `virsh list --all` and against `vagrant status` of a two-VM vagrant-libvirt lab on the same
# libvirtd (Debian's vagrant + vagrant-libvirt, run inside the test netns, driver "qemu").
# hyperfine medians (every command run inside the netns, no shell: -N); ratios at the end.
# Targets: vmlab status within 2x of virsh list --all; at least 50x faster than vagrant status.
#
# The vagrant lab is real: `vagrant up` of bench/vagrant/Vagrantfile (machines a and b) creates
# and boots both domains and logs in over SSH, as with any box. The box is made by
# bench/vagrant/make-box.sh from the same minimal image: its seed reader also takes a NoCloud
# seed from /var/lib/cloud/seed/nocloud when no "cidata" disk exists, so a seed creating user
# `vagrant` with Vagrant's insecure key is baked in there (option (a) of the brief). If
# `vagrant up` fails anyway (e.g. it times out waiting for SSH), the domains it defined and
# started are still measured (option (b)): `vagrant status` only asks libvirt for the state,
# and the script checks that it reports `running` for both machines, not `not created`.
# The vagrant part is skipped (with a message) when vagrant or vagrant-libvirt is missing or
# VL_BENCH_NO_VAGRANT=1.
#
# usage: bench/status.sh [VMLAB]   (VL_BENCH_RUNS=N: hyperfine runs of the fast commands, 30;
#                                   VL_BENCH_VAGRANT_RUNS=N: runs of vagrant status, 10)
# Takes /run/vmlab-libvirtd.lock for its whole run (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
RUNS=${VL_BENCH_RUNS:-30}
VRUNS=${VL_BENCH_VAGRANT_RUNS:-10}

use_vagrant=1 why=
if [ "${VL_BENCH_NO_VAGRANT:-0}" = 1 ]; then
	use_vagrant=0 why="VL_BENCH_NO_VAGRANT=1"
elif ! command -v vagrant >/dev/null; then
	use_vagrant=0 why="vagrant is not installed (apt-get install vagrant vagrant-libvirt)"
elif ! VAGRANT_HOME=/var/tmp/vmlab-bench-vagrant-check vagrant plugin list 2>/dev/null |
	grep -q vagrant-libvirt; then
	use_vagrant=0 why="the vagrant-libvirt plugin is not installed (apt-get install vagrant-libvirt)"
fi

rm -rf /var/tmp/vmlab-bench-vagrant-check
bench_setup vlbench-status

P=$E2E_TMP/pair
bench_project "$P" 2
t=$(bench_time in_dir "$P" vmlab up) || {
	tail -n 30 "$BENCH_OUT/last.log" >&2
	bench_die "vmlab up of the two-VM lab failed"
}
bench_say "vmlab up (2 VMs): $t s"
st=$(in_dir "$P" vmlab status --json)
[ "$(jq -r '[.vms[] | select(.state == "running")] | length' <<<"$st")" = 2 ] ||
	bench_die "vmlab status does not show 2 running VMs: $st"

# hf OUT.json HYPERFINE-ARGS...: hyperfine inside the netns, with vmlab's test config.
hf() {
	local out=$1
	shift
	vl_ns_exec env VMLAB_CONFIG="$E2E_CONF" HOME="$E2E_HOME" ${HF_ENV:-} \
		hyperfine -N --style basic --export-json "$out" "$@" >&2 ||
		bench_die "hyperfine failed: $*"
}

VSTAT="$BENCH_VMLAB -C $P status"
VJSON="$BENCH_VMLAB -C $P --json status"
VIRSH="virsh -c $VL_E2E_URI list --all"
hf "$BENCH_OUT/fast.json" --warmup 3 --runs "$RUNS" -n "vmlab status" "$VSTAT" \
	-n "vmlab --json status" "$VJSON" -n "virsh list --all" "$VIRSH"
M_VM=$(jq -r '.results[0].median' "$BENCH_OUT/fast.json")
M_VJ=$(jq -r '.results[1].median' "$BENCH_OUT/fast.json")
M_VI=$(jq -r '.results[2].median' "$BENCH_OUT/fast.json")

M_VG=n/a VG_UP=n/a VG_HOW=
if [ "$use_vagrant" = 1 ]; then
	VD=$E2E_TMP/vagrant
	mkdir -p "$VD/project" "$VD/home"
	cp "$BENCH_DIR/vagrant/Vagrantfile" "$VD/project/"
	export VAGRANT_HOME=$VD/home VAGRANT_CWD=$VD/project VAGRANT_CHECKPOINT_DISABLE=1 \
		VAGRANT_NO_COLOR=1 BENCH_VAGRANT_BOX=vmlab-bench-minimal
	HF_ENV="VAGRANT_HOME=$VAGRANT_HOME VAGRANT_CWD=$VAGRANT_CWD VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_NO_COLOR=1 VL_E2E_URI=$VL_E2E_URI"
	# Whatever happens, remove the vagrant domains, their volumes and its network before the
	# harness stops libvirtd (the harness removes only vmlab-* objects).
	vagrant_cleanup() {
		local d pids=()
		for d in $(vl_virsh list --name 2>/dev/null | grep '^vagrant-bench-'); do
			vl_virsh destroy "$d" >/dev/null 2>&1 &
			pids+=($!)
		done
		[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
		for d in $(vl_virsh list --all --name 2>/dev/null | grep '^vagrant-bench-'); do
			vl_virsh undefine --remove-all-storage "$d" >/dev/null 2>&1 || true
		done
		vl_virsh net-destroy vagrant-libvirt >/dev/null 2>&1 || true
		vl_virsh net-undefine vagrant-libvirt >/dev/null 2>&1 || true
	}
	bench_on_exit vagrant_cleanup
	"$BENCH_DIR/vagrant/make-box.sh" "$E2E_TMP/www/minimal.qcow2" "$VD/minimal.box" >&2 ||
		bench_die "making the vagrant box failed"
	vl_ns_exec env VAGRANT_HOME="$VAGRANT_HOME" vagrant box add --name "$BENCH_VAGRANT_BOX" \
		"$VD/minimal.box" >"$BENCH_OUT/vagrant-box.log" 2>&1 || {
		cat "$BENCH_OUT/vagrant-box.log" >&2
		bench_die "vagrant box add failed"
	}
	VG_UP=$(bench_time vl_ns_exec vagrant up --no-provision --no-destroy-on-error)
	rc=$?
	cp "$BENCH_OUT/last.log" "$BENCH_OUT/vagrant-up.log"
	if [ "$rc" = 0 ]; then
		VG_HOW="(a): vagrant up succeeded (SSH login with the insecure key baked into the box)"
	else
		tail -n 15 "$BENCH_OUT/vagrant-up.log" >&2
		VG_HOW="(b): vagrant up failed after $VG_UP s (see above); measuring the domains it started"
	fi
	bench_say "vagrant up (2 VMs): $VG_UP s, exit $rc"
	states=$(vl_ns_exec vagrant status --machine-readable | awk -F, '$3 == "state" { print $2 "=" $4 }' | sort | tr '\n' ' ')
	bench_say "vagrant status: $states"
	[ "$states" = "a=running b=running " ] ||
		bench_die "vagrant status does not report both machines running: $states"
	hf "$BENCH_OUT/vagrant.json" --warmup 1 --runs "$VRUNS" -n "vagrant status" "vagrant status"
	M_VG=$(jq -r '.results[0].median' "$BENCH_OUT/vagrant.json")
	t=$(bench_time vl_ns_exec vagrant destroy -f) || bench_say "vagrant destroy -f failed"
	bench_say "vagrant destroy -f (2 running VMs): $t s"
fi

ms() { awk -v s="$1" 'BEGIN { if (s == "n/a") print s; else printf "%.1f ms", s * 1000 }'; }
cat <<EOF

=== bench/status.sh: status of a running two-VM lab (minimal image, TCG), hyperfine medians ===
vmlab status            $(ms "$M_VM")   ($RUNS runs, 3 warmup)
vmlab --json status     $(ms "$M_VJ")   ($RUNS runs, 3 warmup)
virsh list --all        $(ms "$M_VI")   ($RUNS runs, 3 warmup)
vagrant status          $(ms "$M_VG")   ($VRUNS runs, 1 warmup; two-VM vagrant-libvirt lab, same libvirtd)
ratios:
  vmlab status / virsh list --all:  $(ratio "$M_VM" "$M_VI")x   (target <= 2x)
  vagrant status / vmlab status:    $(ratio "$M_VG" "$M_VM")x   (target >= 50x)
EOF
if [ "$use_vagrant" = 1 ]; then
	echo "vagrant: $VG_HOW; vagrant up (2 VMs) took $VG_UP s"
else
	echo "vagrant: skipped: $why"
fi
