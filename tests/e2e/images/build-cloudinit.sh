#!/bin/bash
# build-cloudinit.sh [--stack STACK] OUT.qcow2 - build a real Debian 12 cloud-init guest for
# vmlab's e2e tests, with one of three guest network stacks (STACK, default ifupdown):
#   ifupdown    ifupdown + isc-dhcp-client, no resolvconf: a stock Debian 12 genericcloud image.
#               cloud-init renders ENI; `dns-nameservers` of a static config are ignored
#               (nothing applies them without resolvconf). With DHCP, dhclient-script writes
#               /etc/resolv.conf itself: "domain LAB / search LAB / nameserver GATEWAY".
#   resolvconf  the same plus resolvconf (/etc/resolv.conf -> /run/resolvconf/resolv.conf), which
#               applies `dns-nameservers` / `dns-search` from cloud-init's ENI rendering; with
#               DHCP it holds "nameserver GATEWAY / search LAB".
#   netplan     netplan.io + systemd-networkd + systemd-resolved, no ifupdown, like Ubuntu's
#               cloud images: cloud-init renders netplan (forced by a cloud.cfg.d drop-in),
#               /etc/resolv.conf is resolved's stub (-> /run/systemd/resolve/stub-resolv.conf).
#               With plain `dhcp4: true` networkd ignores DHCP's domain (UseDomains defaults to
#               no; the stub file says "search .") and resolved never sends a single-label name
#               to unicast DNS, so NAME.LAB resolves and a bare NAME does not; `dhcp4-overrides:
#               {use-domains: true}` in the network-config makes it "search LAB" (ENI ignores
#               that key). Measured with stacktest.sh.
#
# mmdebstrap (minbase) of bookworm from the Debian mirror this machine's apt uses, with systemd,
# udev, dbus, cloud-init 22.4 with its default cloud.cfg (all stages and modules; datasources
# NoCloud and None only, so it never waits for a metadata server), openssh-server,
# cloud-guest-utils (growpart), sudo, Debian's cloud kernel and the stack's packages. Disk: MBR +
# one ext4 partition at 1 MiB filled with `mke2fs -d`, extlinux installed through a loop mount,
# console on ttyS0. No SSH host keys and an empty machine-id are shipped: every clone gets its
# own. mmdebstrap copies the build host's /etc/resolv.conf into the root; the ifupdown image
# gets one naming no nameserver instead, so that a test expecting names to resolve cannot pass
# on the build host's resolver.
#
# Cache: $VL_E2E_CACHE (default /var/cache/vmlab-e2e)/cloudinit-STACK-<key>.qcow2, key = sha256
# of this script and STACK; a cached image is copied to OUT without rebuilding. The three stacks
# are cached side by side. Per stack, the two most recently used keys are kept (a use touches
# the file), so two versions of this script (two branches, say) do not evict each other.
# Needs root and network access to the Debian mirror of this machine's apt sources (it fails if
# there is none). Measured here (2 cores): 63-81 s for one build alone, 80-83 s each for two
# built in parallel, 112 s for all three in parallel; 143 MB (netplan: 149 MB), about 405 MB unpacked (docs, man pages and locales are
# left out). Booted with DHCP under TCG (768 MiB, 1 vCPU): SSH after 51-64 s, `cloud-init status
# --wait` done after 74-88 s (tests/e2e/images/stacktest.sh).
set -euo pipefail

usage() { echo "usage: $0 [--stack ifupdown|resolvconf|netplan] OUT.qcow2" >&2; exit 2; }
stack=ifupdown
while [ $# -gt 1 ]; do
	case "$1" in
	--stack) stack=$2; shift 2 ;;
	--stack=*) stack=${1#--stack=}; shift ;;
	*) usage ;;
	esac
done
if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then usage; fi
case "$stack" in ifupdown | resolvconf | netplan) ;; *) usage ;; esac
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VL_E2E_CACHE:-/var/cache/vmlab-e2e}
disk_mib=2048   # virtual size; cloud-init's growpart takes whatever more vmlab gives the overlay
label=vmlabroot
suite=bookworm

key=$({ cat "$here/build-cloudinit.sh"; echo "stack=$stack"; } | sha256sum | cut -c1-16)
cached=$cache/cloudinit-$stack-$key.qcow2
mkdir -p "$cache"

deliver() {
	if [ "$(realpath -m "$out")" != "$(realpath "$cached")" ]; then
		cp "$cached" "$out.tmp.$$" && mv "$out.tmp.$$" "$out"
	fi
	touch "$cached"
	echo "build-cloudinit: $out ($stack, $(du -h "$cached" | cut -f1), key $key)"
}
# One build of a stack at a time per cache (two test runs may start together): the second
# waits, then finds the image cached. Different stacks build independently.
exec 9>"$cache/cloudinit-$stack.lock"
flock 9
if [ -f "$cached" ]; then
	echo "build-cloudinit: $stack up to date in cache"
	deliver
	exit 0
fi

t0=$(date +%s.%N)
work=$(mktemp -d "${TMPDIR:-/tmp}/vmlab-cloudinit.XXXXXX")
mnt=$work/mnt
loopdev=
cleanup() {
	if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt"; fi
	if [ -n "$loopdev" ]; then losetup -d "$loopdev" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# --- the Debian mirrors configured for apt here (one-line and deb822 formats) ---
# Prints "deb URI SUITE main" for every configured suite of $suite (bookworm, -updates,
# -security), skipping third-party repositories (only URIs whose path ends in /debian or
# /debian-security).
mirror_lines() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case "$f" in
		*.sources)
			awk -v suite="$suite" '
				function flush(  i, j, nu, ns, u, s) {
					if (types ~ /(^| )deb( |$)/) {
						nu = split(uris, u, " "); ns = split(suites, s, " ")
						for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++)
							if (s[j] ~ "^" suite "(-updates|-security)?$") print "deb " u[i] " " s[j] " main"
					}
					types = uris = suites = ""
				}
				/^[ \t]*$/ { flush(); next }
				/^Types:/  { sub(/^Types:[ \t]*/, "");  types = $0 }
				/^URIs:/   { sub(/^URIs:[ \t]*/, "");   uris = $0 }
				/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
				END { flush() }' "$f"
			;;
		*)
			# deb [options] URI SUITE COMPONENTS...
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
				awk -v suite="$suite" '$1 == "deb" && $3 ~ "^" suite "(-updates|-security)?$" { print "deb " $2 " " $3 " main" }'
			;;
		esac
	done | awk '$2 ~ /\/debian(-security)?\/?$/' | sort -u
}
mapfile -t mirrors < <(mirror_lines)
if [ ${#mirrors[@]} -eq 0 ]; then
	echo "build-cloudinit: no Debian $suite mirror in this machine's apt sources (/etc/apt/sources.list*)" >&2
	exit 1
fi
printf 'build-cloudinit: mirror: %s\n' "${mirrors[@]}"

# --- root filesystem ---
root=$work/root
packages=(
	systemd systemd-sysv udev dbus
	linux-image-cloud-amd64 initramfs-tools
	cloud-init cloud-guest-utils fdisk e2fsprogs
	openssh-server sudo
	iproute2 netbase iputils-ping procps less
)
# (cloud-init itself depends on isc-dhcp-client: the netplan image has it too, unused.)
case "$stack" in
ifupdown) packages+=(ifupdown isc-dhcp-client) ;;
resolvconf) packages+=(ifupdown isc-dhcp-client resolvconf) ;;
netplan) packages+=(netplan.io systemd-resolved) ;;
esac
mmdebstrap --quiet --variant=minbase --include="${packages[*]}" \
	--aptopt='Acquire::Languages "none"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	"$suite" "$root" "${mirrors[@]}"

kver=$(ls "$root/lib/modules")
# fsck pass 0: a throwaway test disk needs none, and boot under TCG is slow enough. (The
# initramfs, made by the kernel's postinst before this fstab existed, has no fsck and prints
# "Warning: fsck not present, so skipping root file system": harmless.)
cat >"$root/etc/fstab" <<EOF
LABEL=$label / ext4 rw,errors=remount-ro 0 0
EOF
cat >"$root/etc/cloud/cloud.cfg.d/90-vmlab-e2e.cfg" <<'EOF'
# vmlab e2e image: look only for a NoCloud seed (cidata), never for a metadata server.
datasource_list: [ NoCloud, None ]
manage_etc_hosts: true
# The image has no locales package; C.UTF-8 is built into libc (en_US.UTF-8 would fail).
locale: C.UTF-8
EOF
# --- the network stack ---
# What mmdebstrap left in /etc/resolv.conf is the build host's: never ship it.
noresolv='# vmlab e2e image: no nameserver configured (DHCP or resolvconf must provide one)'
case "$stack" in
ifupdown | resolvconf)
	# ifupdown reads cloud-init's rendering from interfaces.d.
	cat >"$root/etc/network/interfaces" <<-'EOF'
		auto lo
		iface lo inet loopback

		source /etc/network/interfaces.d/*
	EOF
	mkdir -p "$root/etc/network/interfaces.d"
	;;&
ifupdown)
	rm -f "$root/etc/resolv.conf"
	echo "$noresolv" >"$root/etc/resolv.conf"
	;;
resolvconf)
	# resolvconf's postinst keeps the old file as "original" (not used by default): not the
	# host's either. resolv.conf itself is resolvconf's symlink.
	if [ -f "$root/etc/resolvconf/resolv.conf.d/original" ]; then
		echo "$noresolv" >"$root/etc/resolvconf/resolv.conf.d/original"
	fi
	ln -sfn ../run/resolvconf/resolv.conf "$root/etc/resolv.conf"
	;;
netplan)
	# Debian's cloud.cfg names no renderers, so cloud-init 22.4 takes the first available of its
	# built-in order (eni, sysconfig, netplan, ...): the ifupdown images log "Selected renderer
	# 'eni' from priority list: None". eni needs ifup, absent here, so netplan would win anyway;
	# say so explicitly, as Ubuntu's cloud.cfg does.
	cat >"$root/etc/cloud/cloud.cfg.d/91-vmlab-e2e-netplan.cfg" <<-'EOF'
		# vmlab e2e image (netplan stack): cloud-init renders netplan for systemd-networkd.
		system_info:
		  network:
		    renderers: [netplan]
	EOF
	mkdir -p "$root/etc/netplan"
	ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
	chroot "$root" systemctl enable systemd-networkd.service systemd-resolved.service >/dev/null 2>&1
	;;
esac
echo localhost >"$root/etc/hostname"
# Per-clone identity: host keys are injected or generated by cloud-init, machine-id at boot.
rm -f "$root"/etc/ssh/ssh_host_*
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -rf "$root"/var/lib/cloud/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin

mkdir -p "$root/boot/extlinux"
cat >"$root/boot/extlinux/extlinux.conf" <<EOF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  LINUX /boot/vmlinuz-$kver
  INITRD /boot/initrd.img-$kver
  APPEND root=LABEL=$label ro console=tty0 console=ttyS0,115200 no_timer_check
EOF

# --- disk: as in build-minimal.sh ---
raw=$work/disk.raw
part_off=$((1024 * 1024))
part_bytes=$((disk_mib * 1024 * 1024 - part_off))
truncate -s "${disk_mib}M" "$raw"
# -b 4096 -O ^64bit: syslinux 6.04 cannot boot from 64bit or 1 KiB-block ext4.
mke2fs -q -F -t ext4 -b 4096 -O ^64bit -L "$label" -d "$root" \
	-E "offset=$part_off,root_owner=0:0" "$raw" "$((part_bytes / 4096))"
loopdev=$(losetup --find --show --offset "$part_off" --sizelimit "$part_bytes" "$raw")
mkdir -p "$mnt"
mount -t ext4 "$loopdev" "$mnt"
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
umount "$mnt"
losetup -d "$loopdev"
loopdev=
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
python3 - "$raw" "$((part_off / 512))" "$((part_bytes / 512))" <<'EOF'
import struct, sys
path, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
entry = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", start, count)
with open(path, "r+b") as f:
    f.seek(446); f.write(entry + bytes(48))
    f.seek(510); f.write(b"\x55\xaa")
EOF

qemu-img convert -c -O qcow2 "$raw" "$work/image.qcow2"
mv "$work/image.qcow2" "$cached"
# Keep this key and the one used last before it; older ones (and unnamed-stack images of
# before --stack) are superseded.
ls -t "$cache/cloudinit-$stack"-*.qcow2 | tail -n +3 | xargs -r rm -f
rm -f "$cache"/cloudinit-????????????????.qcow2
t1=$(date +%s.%N)
echo "build-cloudinit: $stack built in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (kernel $kver)"
deliver
