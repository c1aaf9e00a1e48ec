#!/usr/bin/env bash
# Benchmark: the same two-VM lab (a, b) of the same cloud-init image (test-cloudinit, Debian 12
# with cloud-init, tests/e2e/images/build-cloudinit.sh), 768 MiB and 1 vCPU each under TCG,
# brought up by vmlab and then by Vagrant + vagrant-libvirt (Debian 12's packages), on the same
# libvirtd (bench/lib.sh: in a network namespace; every client of a guest runs inside it) and
# the same storage pool, one after the other in one run. Each tool goes through: up to ready;
# status; ssh -- exit 3 (its exit code); snapshot save, restore and delete; halt; up again from
# halted; destroy of the running lab; then what it left behind (libvirt domains, volumes and
# networks, files in the project and in the tool's home) against what existed before its up.
# Prints the table and the ratios (vagrant / vmlab). One run each: the figures are wall
# seconds of one run, not medians.
#
# Both labs start from a local copy of the image: vmlab pulls it into its cache from the
# harness's HTTP server on 127.0.0.1 and Vagrant adds a box made from the same file
# (bench/vagrant/make-box.sh: the seed creating user `vagrant` is baked in, since
# vagrant-libvirt attaches no seed disk); those two steps are timed apart, not in "up".
# "Ready" is what each tool waits for: vmlab up returns when SSH answers and cloud-init is done
# on every VM; vagrant up when SSH answers. The row after it shows how long cloud-init then
# still ran in the vagrant VMs (`cloud-init status --wait`), so both can be compared at the
# same point.
#
# Installs vagrant and vagrant-libvirt with apt-get when missing (root). No internet is needed
# once they are installed: the box is local, VAGRANT_CHECKPOINT_DISABLE=1, no plugin install.
#
# usage: bench/peers.sh [VMLAB]     (VL_BENCH_BOOT_TIMEOUT=S: each tool's wait for SSH, 600)
# Takes /run/vmlab-libvirtd.lock for its whole run (one libvirtd per host).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
BOOT=${VL_BENCH_BOOT_TIMEOUT:-600}

# Debian packages: Vagrant and its libvirt provider, and sfdisk for make-box.sh
need=()
command -v vagrant >/dev/null || need+=(vagrant)
dpkg -s vagrant-libvirt >/dev/null 2>&1 || need+=(vagrant-libvirt)
command -v sfdisk >/dev/null || need+=(fdisk)
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || bench_die "missing packages: ${need[*]}; run as root to install them"
	bench_say "installing ${need[*]} (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${need[@]}" >/dev/null || bench_die "apt-get install ${need[*]} failed"
fi

export BENCH_CLOUDINIT=1
bench_setup vlbench-peers
# Two cloud-init guests booting at once under TCG on a shared host: a longer wait than e2e's
sed -i "s/^boot_timeout = .*/boot_timeout = $BOOT/" "$E2E_CONF"

# objects: every domain, network and volume of the daemon, one "KIND NAME" a line, sorted
# (vl_virsh is virsh -q: no header lines)
objects() {
	local p
	{
		vl_virsh list --all --name | sed '/^$/d; s/^/domain /'
		vl_virsh net-list --all --name | sed '/^$/d; s/^/network /'
		for p in $(vl_virsh pool-list --all --name); do
			vl_virsh pool-refresh "$p" >/dev/null 2>&1 || true
			vl_virsh vol-list --pool "$p" | awk -v p="$p" 'NF { print "volume " p "/" $1 }'
		done
	} | sort
}
# files DIR...: every file and directory under the DIRs (relative to /), sorted
files() { find "$@" -mindepth 1 2>/dev/null | sort; }

# leftover KIND BEFORE AFTER: the "KIND NAME" lines of AFTER that BEFORE does not have
leftover() { comm -13 "$2" "$3" | grep "^$1 " | cut -d' ' -f2-; }
count() { grep -c . <<<"$1"; }

declare -A T RC
# step TOOL KEY CMD...: time CMD as TOOL's KEY (T[TOOL.KEY], its exit status in RC[TOOL.KEY])
step() {
	local tool=$1 key=$2 t rc
	shift 2
	t=$(bench_time "$@")
	rc=$?
	T[$tool.$key]=$t RC[$tool.$key]=$rc
	cp "$BENCH_OUT/last.log" "$BENCH_OUT/$tool.$key.log"
	bench_say "$tool $key: $t s, exit $rc"
	if [ "$rc" != 0 ] && [ "$key" != ssh3 ]; then
		tail -n 15 "$BENCH_OUT/last.log" | sed 's/^/    /' >&2
	fi
}

# ---- vmlab
P=$E2E_TMP/vmlab-pair
e2e_project "$P" <<'INI'
[lab]
name = pair
[defaults]
image  = test-cloudinit
cpus   = 1
memory = 768M
[vm a]
[vm b]
INI
t=$(bench_time in_dir "$P" vmlab image pull test-cloudinit) || bench_die "vmlab image pull failed: $(tail -n 5 "$BENCH_OUT/last.log")"
PULL_VMLAB=$t
objects >"$BENCH_OUT/vmlab.before"
files "$P" "$E2E_HOME" "$E2E_TMP/cache" >"$BENCH_OUT/vmlab.files.before"
step vmlab up in_dir "$P" vmlab up
[ "${RC[vmlab.up]}" = 0 ] || bench_die "vmlab up of the two-VM lab failed"
step vmlab status in_dir "$P" vmlab status
step vmlab ssh3 in_dir "$P" vmlab ssh a -- exit 3
step vmlab snap_save in_dir "$P" vmlab snapshot save s1
step vmlab snap_restore in_dir "$P" vmlab snapshot restore s1
step vmlab snap_delete in_dir "$P" vmlab snapshot delete s1
step vmlab halt in_dir "$P" vmlab halt
step vmlab reup in_dir "$P" vmlab up
step vmlab destroy in_dir "$P" vmlab destroy --force
objects >"$BENCH_OUT/vmlab.after"
files "$P" "$E2E_HOME" "$E2E_TMP/cache" >"$BENCH_OUT/vmlab.files.after"
T[vmlab.ci]=0.000

# ---- Vagrant
VD=$E2E_TMP/vagrant
mkdir -p "$VD/project" "$VD/home"
cp "$BENCH_DIR/vagrant/Vagrantfile" "$VD/project/"
export VAGRANT_HOME=$VD/home VAGRANT_CWD=$VD/project VAGRANT_CHECKPOINT_DISABLE=1 \
	VAGRANT_NO_COLOR=1 BENCH_VAGRANT_BOX=peers-cloudinit BENCH_VAGRANT_MEMORY=768 \
	BENCH_VAGRANT_POOL=vmlab BENCH_VAGRANT_BOOT_TIMEOUT=$BOOT
# Whatever happens, remove Vagrant's domains, volumes and network before the harness stops
# libvirtd (the harness removes only vmlab-* objects).
vagrant_cleanup() {
	local d v
	for d in $(vl_virsh list --all --name 2>/dev/null | grep '^vagrant-bench-'); do
		vl_virsh destroy "$d" >/dev/null 2>&1
		vl_virsh undefine --snapshots-metadata --remove-all-storage "$d" >/dev/null 2>&1 || true
	done
	for v in $(vl_virsh vol-list --pool vmlab 2>/dev/null | awk 'NF { print $1 }' | grep -v '^vmlab-'); do
		vl_virsh vol-delete --pool vmlab "$v" >/dev/null 2>&1 || true
	done
	vl_virsh net-destroy vagrant-libvirt >/dev/null 2>&1 || true
	vl_virsh net-undefine vagrant-libvirt >/dev/null 2>&1 || true
}
bench_on_exit vagrant_cleanup
"$BENCH_DIR/vagrant/make-box.sh" "$E2E_TMP/www/cloudinit-ifupdown.qcow2" "$VD/cloudinit.box" >&2 ||
	bench_die "making the vagrant box failed"
t=$(bench_time vl_ns_exec vagrant box add --name "$BENCH_VAGRANT_BOX" "$VD/cloudinit.box") ||
	bench_die "vagrant box add failed: $(tail -n 5 "$BENCH_OUT/last.log")"
PULL_VAGRANT=$t
objects >"$BENCH_OUT/vagrant.before"
files "$VD/project" "$VD/home" >"$BENCH_OUT/vagrant.files.before"
step vagrant up vl_ns_exec vagrant up --no-provision
[ "${RC[vagrant.up]}" = 0 ] || bench_die "vagrant up of the two-VM lab failed"
# both VMs at once, as vmlab waits for them
vagrant_ci() {
	local a rc
	vl_ns_exec vagrant ssh a -c 'cloud-init status --wait' &
	a=$!
	vl_ns_exec vagrant ssh b -c 'cloud-init status --wait'
	rc=$?
	wait "$a" && [ "$rc" = 0 ]
}
step vagrant ci vagrant_ci
step vagrant status vl_ns_exec vagrant status
step vagrant ssh3 vl_ns_exec vagrant ssh a -c 'exit 3'
step vagrant snap_save vl_ns_exec vagrant snapshot save s1
step vagrant snap_restore vl_ns_exec vagrant snapshot restore --no-provision s1
step vagrant snap_delete vl_ns_exec vagrant snapshot delete s1
step vagrant halt vl_ns_exec vagrant halt
step vagrant reup vl_ns_exec vagrant up --no-provision
step vagrant destroy vl_ns_exec vagrant destroy -f
objects >"$BENCH_OUT/vagrant.after"
files "$VD/project" "$VD/home" >"$BENCH_OUT/vagrant.files.after"

# ---- the table
cell() { # TOOL KEY: "12.3 s" or "12.3 s (exit N)" when it failed
	local t=${T[$1.$2]:-n/a} rc=${RC[$1.$2]:-0}
	[ "$t" = n/a ] && { echo n/a; return; }
	if [ "$rc" = 0 ]; then printf '%.2f s' "$t"; else printf '%.2f s (exit %s)' "$t" "$rc"; fi
}
row() { # LABEL KEY
	local r
	r=$(ratio "${T[vagrant.$2]:-n/a}" "${T[vmlab.$2]:-n/a}")
	printf '%-32s %-18s %-18s %s\n' "$1" "$(cell vmlab "$2")" "$(cell vagrant "$2")" \
		"$r$([ "$r" = n/a ] || echo x)"
}
left() { # TOOL KIND: "N (names)"
	local l
	l=$(leftover "$2" "$BENCH_OUT/$1.before" "$BENCH_OUT/$1.after")
	if [ -z "$l" ]; then echo 0; else echo "$(count "$l") ($(tr '\n' ' ' <<<"$l" | sed 's/ $//'))"; fi
}
leftfiles() { # TOOL: new files under the project and the tool's home, by top directory
	local l
	l=$(comm -13 "$BENCH_OUT/$1.files.before" "$BENCH_OUT/$1.files.after")
	if [ -z "$l" ]; then echo 0; else echo "$(count "$l") ($(sed "s|^$E2E_TMP/||" <<<"$l" | cut -d/ -f1-3 | sort -u | tr '\n' ' ' | sed 's/ $//'))"; fi
}
sumk() { sum "${T[$1.up]}" "${T[$1.ci]}"; }
T[vmlab.ready]=$(sumk vmlab) T[vagrant.ready]=$(sumk vagrant)
cat <<EOF

=== bench/peers.sh: two-VM lab (a, b) of test-cloudinit, 768 MiB + 1 vCPU each, TCG, one run each ===
$(printf '%-32s %-18s %-18s %s' step vmlab vagrant vagrant/vmlab)
image to local (not in up)       $(printf '%-18s %-18s' "$(printf '%.2f s' "$PULL_VMLAB")" "$(printf '%.2f s' "$PULL_VAGRANT")") (vmlab image pull / vagrant box add)
$(row "up to ready" up)
$(row "  + cloud-init still running" ci)
$(row "  = up to cloud-init done" ready)
$(row "status" status)
$(printf '%-32s %-18s %-18s' "ssh a -- exit 3: exit code" "${RC[vmlab.ssh3]}" "${RC[vagrant.ssh3]}")
$(row "ssh a -- exit 3: time" ssh3)
$(row "snapshot save (both VMs)" snap_save)
$(row "snapshot restore" snap_restore)
$(row "snapshot delete" snap_delete)
$(row "halt" halt)
$(row "up again (halted lab)" reup)
$(row "destroy (running lab)" destroy)
left behind after destroy (against before up; vmlab's cached image and vagrant's box were there before):
  vmlab    domains $(left vmlab domain); networks $(left vmlab network); volumes $(left vmlab volume); files $(leftfiles vmlab)
  vagrant  domains $(left vagrant domain); networks $(left vagrant network); volumes $(left vagrant volume); files $(leftfiles vagrant)
EOF
