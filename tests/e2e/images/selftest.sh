#!/bin/bash
# selftest.sh - prove that both e2e test images boot under the harness and answer SSH with the
# host key injected through a NoCloud seed (StrictHostKeyChecking=yes, no trust on first use).
#
#   1. minimal image: two guests (alpha, bravo) on an isolated libvirt network with DHCP
#      reservations and DNS host entries; SSH as "tester"; they ping each other by name;
#      sudo, scp (SFTP) and ACPI shutdown are checked on alpha.
#   2. cloud-init image: one guest (charlie), same checks for SSH, hostname and sudo.
# Prints boot-to-SSH timings. Everything (netns, daemons, guests, network, volumes) is torn down
# at exit, also on failure; then the harness keeps its state dir (serial logs, libvirtd.log).
#
# Usage: selftest.sh [minimal|cloudinit|all]          (default all)
# Env: VL_E2E_NS (netns/harness name, default vmlab-selftest), VL_E2E_CACHE (image cache),
#      VL_E2E_BOOT_TIMEOUT (seconds per guest to answer SSH; default 120 for the minimal image,
#      420 for the cloud-init one),
#      VL_E2E_SELFTEST_HOLD=SECONDS: once the guests of a phase answer SSH, wait that long (or
#      until the file $VL_E2E_STATE/continue exists) before checking them: time to look around
#      with `source lib/harness.sh; VL_NS=... VL_E2E_URI=... vl_virsh console ...`.
# Test-only tooling: xorriso writes the seed ISOs and ssh-keygen the keys (vmlab builds its own).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/harness.sh
source "$here/../lib/harness.sh"
# shellcheck source=guest-domain.sh
source "$here/guest-domain.sh"

what=${1:-all}
case "$what" in minimal | cloudinit | all) ;; *) echo "usage: $0 [minimal|cloudinit|all]" >&2; exit 2 ;; esac
ns=${VL_E2E_NS:-vmlab-selftest}
# Boot to SSH takes about 10-20 s (minimal) and 60-90 s (cloud-init) here, several times that
# when the machine is busy (TCG shares its 2 cores): generous limits.
boot_timeout_minimal=${VL_E2E_BOOT_TIMEOUT:-120}
boot_timeout_cloudinit=${VL_E2E_BOOT_TIMEOUT:-420}
net=vmlab-selftest
prefix=10.250.0
results=()

work=$(mktemp -d "${TMPDIR:-/tmp}/vmlab-selftest.XXXXXX")   # keys only: QEMU never reads it
finish() {
	local status=$?
	[ "$status" -eq 0 ] || export VL_E2E_KEEP_STATE=1   # keep serial logs and libvirtd.log
	vl_harness_stop
	rm -rf "$work"
	if [ "$status" -eq 0 ]; then echo "selftest: PASS"; else echo "selftest: FAIL (status $status)"; fi
	return "$status"
}
trap finish EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(date +%s.%N)
say() { echo "selftest: [$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%6.1f", b - a }')] $*"; }
fail() { echo "selftest: FAIL: $*" >&2; exit 1; }

# --- images (built or taken from the cache before any daemon starts) ---
if [ "$what" != cloudinit ]; then
	t=$(now); "$here/build-minimal.sh" "$work/minimal.qcow2"; results+=("minimal image ready: $(elapsed "$t") s")
fi
if [ "$what" != minimal ]; then
	t=$(now); "$here/build-cloudinit.sh" "$work/cloudinit.qcow2"; results+=("cloud-init image ready: $(elapsed "$t") s")
fi

t=$(now)
vl_harness_start "$ns"
results+=("harness start: $(elapsed "$t") s")
pool=$(vl_virsh pool-dumpxml vmlab | sed -n 's:.*<path>\(.*\)</path>.*:\1:p' | head -n 1)

# Base images go into the pool as volumes, like vmlab's image cache does.
for img in minimal cloudinit; do
	[ -f "$work/$img.qcow2" ] || continue
	mv "$work/$img.qcow2" "$pool/vmlab-selftest-base-$img.qcow2"
	chmod 644 "$pool/vmlab-selftest-base-$img.qcow2"
done
vl_virsh pool-refresh vmlab >/dev/null

# --- keys: one login key, one host key per guest ---
ssh-keygen -q -t ed25519 -N '' -C tester@selftest -f "$work/id_tester"
known_hosts=$work/known_hosts
: >"$known_hosts"

# --- network: isolated, DHCP reservations, DNS host entries, a local domain ---
vl_virsh net-define /dev/stdin >/dev/null <<EOF
<network>
  <name>$net</name>
  <bridge name='vlselftest' stp='off'/>
  <domain name='selftest.test' localOnly='yes'/>
  <dns>
    <host ip='$prefix.10'><hostname>alpha</hostname></host>
    <host ip='$prefix.11'><hostname>bravo</hostname></host>
    <host ip='$prefix.12'><hostname>charlie</hostname></host>
  </dns>
  <ip address='$prefix.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='$prefix.100' end='$prefix.200'/>
      <host mac='52:54:00:fa:00:0a' ip='$prefix.10'/>
      <host mac='52:54:00:fa:00:0b' ip='$prefix.11'/>
      <host mac='52:54:00:fa:00:0c' ip='$prefix.12'/>
    </dhcp>
  </ip>
</network>
EOF
t=$(now)
vl_virsh net-start "$net" >/dev/null
say "network $net up in $(elapsed "$t") s"

# make_guest NAME IMAGE MEM_MIB LAST_OCTET NET UD: host key, seed ISO, overlay volume, domain.
# The MAC ends in the octet (hex), matching the network's DHCP reservations. The seed is what
# vmlab's src/cloudinit.c writes (quoted scalars, block-scalar host key):
#   NET = static: network-config v2 with the address (vmlab always does this); dhcp: none.
#   UD = multipart: user-data is MIME multipart, vmlab's part plus a profile's extra
#        cloud-config part (write_files, runcmd); plain: one #cloud-config with both.
make_guest() {
	local name=$1 image=$2 mem=$3 octet=$4 netmode=$5 udmode=$6 dom=vmlab-selftest-$1
	local mac seed boundary="==vmlab-part-boundary-0=="
	mac=$(printf '52:54:00:fa:00:%02x' "$octet")
	ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$work/host_$name"
	echo "$prefix.$octet $(cut -d' ' -f1,2 "$work/host_$name.pub")" >>"$known_hosts"

	seed=$work/seed-$name
	mkdir -p "$seed"
	printf 'instance-id: "%s-%x"\nlocal-hostname: "%s"\n' "$dom" "$(date +%s)" "$name" >"$seed/meta-data"
	{
		echo "#cloud-config"
		echo "hostname: \"$name\""
		echo "fqdn: \"$name.selftest.test\""
		echo "manage_etc_hosts: true"
		echo "disable_root: true"
		echo "ssh_pwauth: false"
		echo "users:"
		echo "  - name: \"tester\""
		echo "    sudo: \"ALL=(ALL) NOPASSWD:ALL\""
		echo "    shell: \"/bin/bash\""
		echo "    lock_passwd: true"
		echo "    ssh_authorized_keys:"
		echo "      - \"$(cat "$work/id_tester.pub")\""
		echo "ssh_deletekeys: true"
		# Generate no other host key type (ed25519 exists, so none is made). vmlab writes "[]",
		# which works too, but cloud-init 22.4's schema check then logs "[] is too short".
		echo "ssh_genkeytypes: [ed25519]"
		echo "ssh_keys:"
		echo "  ed25519_private: |"
		sed 's/^/    /' "$work/host_$name"
		echo "  ed25519_public: \"$(cat "$work/host_$name.pub")\""
	} >"$work/ours-$name.cfg"
	{
		echo "#cloud-config"
		echo "write_files:"
		echo "  - path: /etc/vmlab-selftest"
		echo "    permissions: '0644'"
		echo "    content: |"
		echo "      seeded $name"
		echo "runcmd:"
		echo "  - [ sh, -c, \"echo runcmd ran for \$(hostname) > /var/tmp/vmlab-selftest-runcmd\" ]"
	} >"$work/extra-$name.cfg"
	if [ "$udmode" = multipart ]; then
		{
			echo "Content-Type: multipart/mixed; boundary=\"$boundary\""
			echo "MIME-Version: 1.0"
			echo
			echo "--$boundary"
			echo "Content-Type: text/cloud-config; charset=\"utf-8\""
			echo "MIME-Version: 1.0"
			echo "Content-Disposition: attachment; filename=\"vmlab.cfg\""
			echo
			cat "$work/ours-$name.cfg"
			echo "--$boundary"
			echo "Content-Type: text/cloud-config; charset=\"utf-8\""
			echo "MIME-Version: 1.0"
			echo "Content-Disposition: attachment; filename=\"user-data.cfg\""
			echo "Merge-Type: list(append)+dict(no_replace,recurse_list)+str()"
			echo
			cat "$work/extra-$name.cfg"
			echo "--$boundary--"
		} >"$seed/user-data"
	else
		{ cat "$work/ours-$name.cfg"; tail -n +2 "$work/extra-$name.cfg"; } >"$seed/user-data"
	fi
	if [ "$netmode" = static ]; then
		cat >"$seed/network-config" <<-EOF
			version: 2
			ethernets:
			  lab0:
			    match:
			      macaddress: "$mac"
			    dhcp4: false
			    addresses:
			      - "$prefix.$octet/24"
			    nameservers:
			      addresses:
			        - "$prefix.1"
			      search:
			        - "selftest.test"
		EOF
	fi
	xorriso -as mkisofs -quiet -V cidata -J -r -o "$pool/$dom-seed.iso" "$seed" 2>/dev/null
	vl_virsh pool-refresh vmlab >/dev/null
	# The overlay, as vmlab makes it: backed by the base volume, grown to 2 GiB.
	vl_virsh vol-create-as vmlab "$dom.qcow2" 2G --format qcow2 \
		--backing-vol "vmlab-selftest-base-$image.qcow2" --backing-vol-format qcow2 >/dev/null

	guest_domain_xml "$dom" "$net" "$mac" "$mem" | vl_virsh define /dev/stdin >/dev/null
}

# guest_ssh NAME OCTET CMD...: one SSH command as tester, host key pinned, inside the netns.
guest_ssh() {
	local octet=$2
	shift 2
	vl_ns_exec ssh -q -i "$work/id_tester" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known_hosts" \
		-o ConnectTimeout=3 "tester@$prefix.$octet" "$@"
}

# wait_ssh NAME OCTET START TIMEOUT: until `id -un; hostname` answers "tester" and NAME.
wait_ssh() {
	local name=$1 octet=$2 start=$3 boot_timeout=$4 deadline out
	deadline=$(($(date +%s) + boot_timeout))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if out=$(guest_ssh "$name" "$octet" 'id -un; hostname' 2>/dev/null); then
			if [ "$out" = "$(printf 'tester\n%s' "$name")" ]; then
				results+=("$name: boot to SSH $(elapsed "$start") s")
				say "$name answered SSH after $(elapsed "$start") s: ${out//$'\n'/ }"
				return 0
			fi
			fail "$name answered SSH with '$out', expected tester / $name"
		fi
		sleep 1
	done
	echo "--- serial log of $name ---" >&2
	tail -n 40 "$VL_E2E_STATE/vmlab-selftest-$name.serial.log" >&2 || true
	fail "$name did not answer SSH within $boot_timeout s"
}

hold() {
	local i
	[ -n "${VL_E2E_SELFTEST_HOLD:-}" ] || return 0
	say "holding ${VL_E2E_SELFTEST_HOLD} s: VL_NS=$VL_NS VL_E2E_STATE=$VL_E2E_STATE VL_E2E_URI='$VL_E2E_URI'" \
		"(touch $VL_E2E_STATE/continue to go on)"
	for ((i = 0; i < VL_E2E_SELFTEST_HOLD; i++)); do
		[ -e "$VL_E2E_STATE/continue" ] && break
		sleep 1
	done
	rm -f "$VL_E2E_STATE/continue"
}

# serial_wait NAME PATTERN SECONDS: the guest's serial log shows PATTERN.
serial_wait() {
	local i
	for ((i = 0; i < $3 * 2; i++)); do
		grep -q "$2" "$VL_E2E_STATE/vmlab-selftest-$1.serial.log" 2>/dev/null && return 0
		sleep 0.5
	done
	return 1
}

if [ "$what" != cloudinit ]; then
	say "--- minimal image: alpha and bravo ---"
	make_guest alpha minimal 256 10 static multipart
	make_guest bravo minimal 256 11 dhcp plain
	t=$(now)
	vl_virsh start vmlab-selftest-alpha >/dev/null
	vl_virsh start vmlab-selftest-bravo >/dev/null
	wait_ssh alpha 10 "$t" "$boot_timeout_minimal"
	wait_ssh bravo 11 "$t" "$boot_timeout_minimal"
	serial_wait alpha 'vmlab-test-image: ssh ready' 5 || fail "alpha: no 'ssh ready' line on the serial console"
	hold

	guest_ssh alpha 10 'ping -c 1 -W 3 bravo >/dev/null && nslookup bravo.selftest.test' >/dev/null ||
		fail "alpha cannot ping/resolve bravo"
	guest_ssh bravo 11 'ping -c 1 -W 3 alpha.selftest.test >/dev/null' || fail "bravo cannot ping alpha"
	say "alpha and bravo ping each other by name"
	[ "$(guest_ssh alpha 10 'sudo id -u')" = 0 ] || fail "alpha: sudo id -u is not 0"
	for g in alpha:10 bravo:11; do
		[ "$(guest_ssh "${g%:*}" "${g#*:}" 'cat /etc/vmlab-selftest')" = "seeded ${g%:*}" ] ||
			fail "${g%:*}: write_files"
		# runcmd runs just after dropbear starts: give it a moment.
		for ((i = 0; i < 20; i++)); do
			out=$(guest_ssh "${g%:*}" "${g#*:}" 'cat /var/tmp/vmlab-selftest-runcmd 2>/dev/null' || true)
			[ -n "$out" ] && break
			sleep 0.5
		done
		[ "$out" = "runcmd ran for ${g%:*}" ] || fail "${g%:*}: runcmd output '$out'"
	done
	echo "hello over sftp" >"$work/upload.txt"
	vl_ns_exec scp -q -i "$work/id_tester" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known_hosts" \
		"$work/upload.txt" "tester@$prefix.10:/tmp/upload.txt" || fail "alpha: scp (SFTP) failed"
	[ "$(guest_ssh alpha 10 'cat /tmp/upload.txt')" = "hello over sftp" ] || fail "alpha: scp content"
	say "alpha, bravo: sudo, write_files, runcmd and scp work (alpha: static network-config, multipart user-data)"

	# ACPI power button -> busybox acpid -> poweroff.
	t=$(now)
	vl_virsh shutdown vmlab-selftest-alpha >/dev/null
	for ((i = 0; i < 60; i++)); do
		[ "$(vl_virsh domstate vmlab-selftest-alpha)" = "shut off" ] && break
		sleep 0.5
	done
	[ "$(vl_virsh domstate vmlab-selftest-alpha)" = "shut off" ] || fail "alpha ignored ACPI shutdown"
	results+=("alpha: ACPI shutdown to shut off $(elapsed "$t") s")
	vl_virsh destroy vmlab-selftest-bravo >/dev/null
fi

if [ "$what" != minimal ]; then
	say "--- cloud-init image: charlie ---"
	make_guest charlie cloudinit 512 12 static multipart
	t=$(now)
	vl_virsh start vmlab-selftest-charlie >/dev/null
	wait_ssh charlie 12 "$t" "$boot_timeout_cloudinit"
	hold
	[ "$(guest_ssh charlie 12 'sudo -n id -u')" = 0 ] || fail "charlie: sudo -n id -u is not 0"
	[ "$(guest_ssh charlie 12 'cat /etc/vmlab-selftest')" = "seeded charlie" ] || fail "charlie: write_files"
	# SSH answers before cloud-init's config and final stages (runcmd) have run. Wait for boot to
	# finish (cloud-final.service is part of it): `cloud-init status --wait` alone was seen to
	# return "done" between two stages here.
	ci=$(guest_ssh charlie 12 'systemctl is-system-running --wait >/dev/null 2>&1; cloud-init status' || true)
	[ "$(guest_ssh charlie 12 'cat /var/tmp/vmlab-selftest-runcmd')" = "runcmd ran for charlie" ] ||
		fail "charlie: runcmd"
	say "charlie: sudo, write_files and runcmd work; cloud-init: ${ci//$'\n'/ }"
	results+=("charlie: cloud-init ${ci//$'\n'/ } at $(elapsed "$t") s")
	t=$(now)
	vl_virsh shutdown vmlab-selftest-charlie >/dev/null
	for ((i = 0; i < 120; i++)); do
		[ "$(vl_virsh domstate vmlab-selftest-charlie)" = "shut off" ] && break
		sleep 0.5
	done
	[ "$(vl_virsh domstate vmlab-selftest-charlie)" = "shut off" ] || fail "charlie ignored ACPI shutdown"
	results+=("charlie: ACPI shutdown to shut off $(elapsed "$t") s")
fi

say "--- timings ---"
for r in "${results[@]}"; do say "  $r"; done
