#!/bin/bash
# stacktest.sh [STACK...] - boot each cloud-init image variant (build-cloudinit.sh --stack) with
# DHCP and report what its network stack makes of the lab's DNS.
#
# One throwaway harness (netns $VL_E2E_NS, default vl-imgtest). One isolated network as vmlab
# renders it: `<domain name='lab1' localOnly='yes'/>`, a DHCP reservation (mac, name, ip) per
# guest, a reservation for "bravo" (no guest: a name known to dnsmasq from <dhcp><host> only)
# and a <dns><host> entry for "charlie" (known from <dns> only). Per stack, one guest (768 MiB,
# 1 vCPU, TCG, one at a time so the timings compare) gets a NoCloud seed as vmlab writes it
# with DHCP: network-config v2, `dhcp4: true` matched by MAC. From inside the netns it checks
# that SSH answers, that `cloud-init status --wait` ends "done", and that `getent hosts` finds
# bravo, charlie, bravo.lab1 and charlie.lab1; it prints /etc/resolv.conf, the renderer
# cloud-init chose and what it rendered. A failed lookup is reported, not fatal (finding out is
# the point); SSH or cloud-init not finishing is. The same names, and the guest's own (leased)
# name, are also asked of dnsmasq directly from the netns: what the lab's DNS knows, apart from
# what the guest's resolver makes of it.
#
# Usage: stacktest.sh [ifupdown] [resolvconf] [netplan]      (default: all three)
# Env: VL_E2E_NS, VL_E2E_CACHE, VL_E2E_BOOT_TIMEOUT (default 420 s per guest),
#      VL_STACKTEST_USE_DOMAINS=1: the network-config also says `dhcp4-overrides:
#      {use-domains: true}` (netplan: take DHCP's domain as search domain).
# Output: a summary table on stdout; each guest's full report in $VL_E2E_STATE (kept).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/harness.sh
source "$here/../lib/harness.sh"
# shellcheck source=guest-domain.sh
source "$here/guest-domain.sh"

stacks=("$@")
[ ${#stacks[@]} -gt 0 ] || stacks=(ifupdown resolvconf netplan)
for s in "${stacks[@]}"; do
	case "$s" in ifupdown | resolvconf | netplan) ;; *) echo "usage: $0 [ifupdown|resolvconf|netplan]..." >&2; exit 2 ;; esac
done
ns=${VL_E2E_NS:-vl-imgtest}
boot_timeout=${VL_E2E_BOOT_TIMEOUT:-420}
net=vmlab-stacktest
lab=lab1
prefix=10.251.0
declare -A octet=([ifupdown]=10 [resolvconf]=11 [netplan]=12)
names=(bravo charlie "bravo.$lab" "charlie.$lab")

work=$(mktemp -d "${TMPDIR:-/tmp}/vmlab-stacktest.XXXXXX")   # keys only: QEMU never reads it
reports=
finish() {
	local status=$?
	export VL_E2E_KEEP_STATE=1   # the per-guest reports live there
	vl_harness_stop
	rm -rf "$work"
	echo "stacktest: $([ "$status" -eq 0 ] && echo finished || echo "FAIL (status $status)")${reports:+; reports in $reports}"
	return "$status"
}
trap finish EXIT
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() { echo "stacktest: FAIL: $*" >&2; exit 1; }

declare -A build_s size_mb
for s in "${stacks[@]}"; do
	t=$(now)
	"$here/build-cloudinit.sh" --stack "$s" "$work/$s.qcow2"
	build_s[$s]=$(elapsed "$t")
	size_mb[$s]=$(du -m "$work/$s.qcow2" | cut -f1)
done

vl_harness_start "$ns"
reports=$VL_E2E_STATE
pool=$(vl_virsh pool-dumpxml vmlab | sed -n 's:.*<path>\(.*\)</path>.*:\1:p' | head -n 1)
for s in "${stacks[@]}"; do
	mv "$work/$s.qcow2" "$pool/vmlab-stacktest-base-$s.qcow2"
	chmod 644 "$pool/vmlab-stacktest-base-$s.qcow2"
done
vl_virsh pool-refresh vmlab >/dev/null
ssh-keygen -q -t ed25519 -N '' -C tester@stacktest -f "$work/id_tester"

# dnsq SERVER NAME: one A query; prints NAME, the rcode and the addresses (no dig here).
dnsq='
import random, socket, struct, sys
server, name = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", random.randint(0, 65535), 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, (server, 53))
r = s.recv(4096)
ancount, i = struct.unpack(">H", r[6:8])[0], 12
while r[i]: i += r[i] + 1
i += 5
ips = []
for _ in range(ancount):
    if r[i] & 0xC0 == 0xC0: i += 2
    else:
        while r[i]: i += r[i] + 1
        i += 1
    typ, _, _, rdlen = struct.unpack(">HHIH", r[i:i + 10])
    i += 10
    if typ == 1: ips.append(socket.inet_ntoa(r[i:i + 4]))
    i += rdlen
print("%s: rcode %d (%s) %s" % (name, r[3] & 15, {0: "NOERROR", 3: "NXDOMAIN", 5: "REFUSED"}.get(r[3] & 15, "?"), " ".join(ips)))
'
mac() { printf '52:54:00:fb:00:%02x' "$1"; }
vl_virsh net-define /dev/stdin >/dev/null <<EOF
<network>
  <name>$net</name>
  <bridge name='vlstacktest' stp='off'/>
  <domain name='$lab' localOnly='yes'/>
  <dns>
    <host ip='$prefix.14'><hostname>charlie</hostname><hostname>charlie.$lab</hostname></host>
  </dns>
  <ip address='$prefix.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='$prefix.100' end='$prefix.200'/>
      <host mac='$(mac 10)' name='ci-ifupdown' ip='$prefix.10'/>
      <host mac='$(mac 11)' name='ci-resolvconf' ip='$prefix.11'/>
      <host mac='$(mac 12)' name='ci-netplan' ip='$prefix.12'/>
      <host mac='$(mac 13)' name='bravo' ip='$prefix.13'/>
    </dhcp>
  </ip>
</network>
EOF
vl_virsh net-start "$net" >/dev/null

guest_ssh() {
	local o=$1
	shift
	vl_ns_exec ssh -q -i "$work/id_tester" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=3 "tester@$prefix.$o" "$@"
}

declare -A ssh_s done_s ci_status resolved
for s in "${stacks[@]}"; do
	o=${octet[$s]}
	name=ci-$s
	dom=vmlab-stacktest-$s
	seed=$work/seed-$s
	mkdir -p "$seed"
	printf 'instance-id: "%s-%x"\nlocal-hostname: "%s"\n' "$dom" "$(date +%s)" "$name" >"$seed/meta-data"
	cat >"$seed/user-data" <<-EOF
		#cloud-config
		hostname: "$name"
		fqdn: "$name.$lab"
		manage_etc_hosts: true
		disable_root: true
		ssh_pwauth: false
		users:
		  - name: "tester"
		    sudo: "ALL=(ALL) NOPASSWD:ALL"
		    shell: "/bin/bash"
		    lock_passwd: true
		    ssh_authorized_keys:
		      - "$(cat "$work/id_tester.pub")"
	EOF
	cat >"$seed/network-config" <<-EOF
		version: 2
		ethernets:
		  lab0:
		    match:
		      macaddress: "$(mac "$o")"
		    dhcp4: true
	EOF
	if [ "${VL_STACKTEST_USE_DOMAINS:-0}" = 1 ]; then
		printf '    dhcp4-overrides:\n      use-domains: true\n' >>"$seed/network-config"
	fi
	xorriso -as mkisofs -quiet -V cidata -J -r -o "$pool/$dom-seed.iso" "$seed" 2>/dev/null
	vl_virsh pool-refresh vmlab >/dev/null
	vl_virsh vol-create-as vmlab "$dom.qcow2" 4G --format qcow2 \
		--backing-vol "vmlab-stacktest-base-$s.qcow2" --backing-vol-format qcow2 >/dev/null
	guest_domain_xml "$dom" "$net" "$(mac "$o")" 768 | vl_virsh define /dev/stdin >/dev/null

	echo "stacktest: --- $s: starting $dom ($prefix.$o) ---"
	t=$(now)
	vl_virsh start "$dom" >/dev/null
	deadline=$(($(date +%s) + boot_timeout))
	until guest_ssh "$o" true 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			tail -n 30 "$VL_E2E_STATE/$dom.serial.log" >&2 || true
			fail "$s: no SSH within $boot_timeout s"
		fi
		sleep 1
	done
	ssh_s[$s]=$(elapsed "$t")
	echo "stacktest: $s: SSH after ${ssh_s[$s]} s"
	# set_passwords restarts sshd late in boot: a session may be refused once; retry.
	for _ in 1 2 3 4 5; do
		ci=$(guest_ssh "$o" 'cloud-init status --wait 2>/dev/null | tail -n 1' 2>/dev/null) && [ -n "$ci" ] && break
		sleep 2
	done
	done_s[$s]=$(elapsed "$t")
	ci_status[$s]=${ci#status: }
	echo "stacktest: $s: cloud-init '${ci_status[$s]}' after ${done_s[$s]} s"
	[ "${ci_status[$s]}" = "done" ] || echo "stacktest: $s: cloud-init did not end 'done'"

	report=$VL_E2E_STATE/report-$s.txt
	# shellcheck disable=SC2016 # expanded by the guest's shell
	guest_ssh "$o" "names='${names[*]}'"'
		echo "== ls -l /etc/resolv.conf"; ls -l /etc/resolv.conf
		echo "== /etc/resolv.conf"; cat /etc/resolv.conf
		for n in $names; do echo "== getent hosts $n"; getent hosts "$n" || echo "(not found, rc $?)"; done
		echo "== ip -4 -o addr"; ip -4 -o addr
		echo "== renderer"; sudo grep -hE "Selected renderer|Applying network configuration" /var/log/cloud-init.log
		echo "== cloud.cfg renderers"; grep -rh -A2 "renderers" /etc/cloud/cloud.cfg /etc/cloud/cloud.cfg.d/ 2>/dev/null
		echo "== rendered"; sudo sh -c "for f in /etc/network/interfaces.d/* /etc/netplan/*; do [ -f \$f ] && { echo \"# \$f\"; cat \$f; }; done"
		if command -v resolvectl >/dev/null; then echo "== resolvectl status"; resolvectl status; fi
		if [ -d /run/systemd/network ]; then echo "== /run/systemd/network"; sudo sh -c "head -n 50 /run/systemd/network/*"; fi
		echo "== cloud-init status --long"; cloud-init status --long
		echo "== systemctl --failed"; systemctl --failed --no-legend
	' >"$report" 2>&1 || true
	{
		echo "== asked of dnsmasq ($prefix.1) from the netns"
		for n in "${names[@]}" "$name" "$name.$lab"; do
			vl_ns_exec python3 -c "$dnsq" "$prefix.1" "$n" || echo "$n: no answer"
		done
	} >>"$report" 2>&1
	sed 's/^/  | /' "$report"
	res=
	for n in "${names[@]}"; do
		if awk -v n="$n" '$0 == "== getent hosts " n { getline; exit ($0 ~ /^\(not found/) }' "$report"; then
			res+=" $n:ok"
		else
			res+=" $n:NO"
		fi
	done
	resolved[$s]=${res# }
	vl_virsh destroy "$dom" >/dev/null 2>&1 || true
done

echo
printf '%-11s %8s %6s %10s %14s  %s\n' stack build_s MB ssh_s cloudinit_s "getent hosts"
for s in "${stacks[@]}"; do
	printf '%-11s %8s %6s %10s %14s  %s\n' "$s" "${build_s[$s]}" "${size_mb[$s]}" "${ssh_s[$s]}" \
		"${done_s[$s]} (${ci_status[$s]})" "${resolved[$s]}"
done
