#!/bin/bash
# build-minimal.sh OUT.qcow2 - build the minimal cloud-like test image for vmlab's e2e tests.
#
# Disk: MBR (syslinux mbr.bin) + one ext4 partition at 1 MiB holding /boot (extlinux, Debian's
# cloud kernel from `apt-get download linux-image-cloud-amd64`, an initramfs of busybox-static
# that loads the kernel's modular disk/cdrom/NIC/filesystem drivers) and a root of busybox
# (Debian's dynamic build, also from `apt-get download`), dropbear (+ dropbearconvert,
# dropbearkey), OpenSSH's sftp-server, a setuid sudo shim and the shared libraries they need.
# At boot, /usr/libexec/vmlab-seed reads a NoCloud seed (label "cidata"): see minimal/vmlab-seed
# for the supported meta-data/user-data subset. The guest does DHCP on its first NIC, prints
# "vmlab-test-image: ssh ready" on ttyS0 once dropbear runs, and powers off on the ACPI button.
#
# Cache: the image is kept in $VL_E2E_CACHE (default /var/cache/vmlab-e2e) as
# minimal-<key>.qcow2, key = sha256 of this script and every file in minimal/; a cached image
# is copied to OUT without rebuilding. The two most recently used keys are kept (a use touches
# the file), so two versions of the image (two branches, say) do not evict each other. The kernel .deb is cached in $VL_E2E_CACHE/debs.
# Needs root (mknod, a loop mount for `extlinux --install`), and the host packages listed in
# ../lib/packages.txt. Measured here: 8-14 s to build (more on a busy machine), 17 MB.
set -euo pipefail

usage() { echo "usage: $0 OUT.qcow2" >&2; exit 2; }
[ $# -eq 1 ] || usage
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$here/minimal
cache=${VL_E2E_CACHE:-/var/cache/vmlab-e2e}
disk_mib=512          # virtual disk size; vmlab may grow the overlay, the guest ignores the rest
label=vmlabroot

key=$(cd "$here" && cat build-minimal.sh minimal/* | sha256sum | cut -c1-16)
cached=$cache/minimal-$key.qcow2
mkdir -p "$cache/debs"

deliver() {
	if [ "$(realpath -m "$out")" != "$(realpath "$cached")" ]; then
		cp "$cached" "$out.tmp.$$" && mv "$out.tmp.$$" "$out"
	fi
	touch "$cached"
	echo "build-minimal: $out ($(du -h "$cached" | cut -f1), key $key)"
}
# One build at a time per cache (two test runs may start together): the second waits, then
# finds the image cached.
exec 9>"$cache/minimal.lock"
flock 9
if [ -f "$cached" ]; then
	echo "build-minimal: up to date in cache"
	deliver
	exit 0
fi

t0=$(date +%s.%N)
work=$(mktemp -d "${TMPDIR:-/tmp}/vmlab-minimal.XXXXXX")
mnt=$work/mnt
loopdev=
cleanup() {
	if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt"; fi
	if [ -n "$loopdev" ]; then losetup -d "$loopdev" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# --- kernel: the versioned package the metapackage depends on, downloaded, not installed ---
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$kpkg" ]; then
	echo "build-minimal: cannot resolve linux-image-cloud-amd64 (run apt-get update?)" >&2
	exit 1
fi
# fetch_deb PACKAGE: path of PACKAGE's .deb in the cache, downloaded once (never installed).
fetch_deb() {
	local deb
	deb=$(ls "$cache/debs/$1"_*.deb 2>/dev/null | tail -n 1 || true)
	if [ -z "$deb" ]; then
		# Sandbox user root: the cache directory need not be readable by _apt.
		(cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root "$1" >/dev/null)
		deb=$(ls "$cache/debs/$1"_*.deb | tail -n 1)
	fi
	echo "$deb"
}
kdeb=$(fetch_deb "$kpkg")
# The root's busybox (users' /bin/sh) is Debian's dynamic "busybox" package, not busybox-static:
# the static build has FEATURE_SH_STANDALONE, so its shell runs applets such as ping itself
# instead of the /bin/ping found in PATH, which has the file capability that lets users ping.
bbdeb=$(fetch_deb busybox)
mkdir -p "$work/kernel"
dpkg-deb -x "$kdeb" "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
busybox depmod -b "$work/kernel" "$kver"   # the .deb ships no modules.dep (postinst makes it)

# --- initramfs: busybox, the modules in minimal/initrd-modules and their dependencies ---
initrd=$work/initrd
mkdir -p "$initrd"/{bin,dev,proc,sys,newroot,etc,lib/modules/"$kver"}
cp /bin/busybox "$initrd/bin/busybox"
install -m 755 "$src/initramfs-init" "$initrd/init"
cp "$src/initrd-modules" "$initrd/etc/initrd-modules"
mknod -m 600 "$initrd/dev/console" c 5 1
kmods=$work/kernel/lib/modules/$kver
while read -r mod; do
	# modules.dep line: "kernel/path/mod.ko: dep1.ko dep2.ko"
	line=$(grep -E "(^|/)${mod}\.ko:" "$kmods/modules.dep" || true)
	if [ -z "$line" ]; then
		echo "build-minimal: module $mod not in $kpkg" >&2
		exit 1
	fi
	for f in ${line/:/}; do
		mkdir -p "$initrd/lib/modules/$kver/$(dirname "$f")"
		cp -n "$kmods/$f" "$initrd/lib/modules/$kver/$f"
	done
done <"$src/initrd-modules"
cp "$kmods"/modules.builtin "$kmods"/modules.order "$initrd/lib/modules/$kver/"
busybox depmod -b "$initrd" "$kver"

# --- root filesystem ---
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/lib/vmlab,usr/libexec,etc/init.d,etc/dropbear} \
	"$root"/{etc/ssh,etc/acpi/PWRF,boot/extlinux,dev,proc,sys,run,tmp,mnt,root,home} \
	"$root"/{var/log,var/lib,var/tmp}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"
mkdir -p "$work/busybox"
dpkg-deb -x "$bbdeb" "$work/busybox"
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
# The boot scripts (rcS, vmlab-seed, udhcpc.script, ...) run under busybox-static instead: its
# standalone shell runs applets without exec'ing a dynamic binary, which under TCG costs a
# dynamic link each time (boot to SSH took twice as long with the dynamic one).
cp /bin/busybox "$root/bin/busybox.static"
for applet in $("$root/bin/busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
# Unprivileged ping, as Debian's iputils-ping allows: busybox 1.35's ping needs a raw socket
# (its ICMP datagram fallback is not in Debian's build), so /bin/ping is a copy of busybox with
# the cap_net_raw file capability (mke2fs -d keeps the security.capability xattr).
rm "$root/bin/ping"
cp "$root/bin/busybox" "$root/bin/ping"
setcap cap_net_raw+ep "$root/bin/ping"

gcc -O2 -Wall -o "$work/sudo" "$src/sudo.c"
install -m 755 /usr/sbin/dropbear "$root/usr/sbin/dropbear"
install -m 755 /usr/bin/dropbearconvert /usr/bin/dropbearkey "$root/usr/bin/"
install -m 755 /usr/lib/openssh/sftp-server "$root/usr/lib/sftp-server"   # dropbear's SFTP path
install -m 4755 "$work/sudo" "$root/usr/bin/sudo"
# getent (glibc's, as every cloud image has it): name lookups through nsswitch and resolv.conf
install -m 755 /usr/bin/getent "$root/usr/bin/getent"
# Shared libraries of those dynamic binaries, at the paths the loader expects.
for bin in "$root/bin/busybox" "$root/usr/sbin/dropbear" "$root/usr/bin/dropbearconvert" \
	"$root/usr/bin/dropbearkey" "$root/usr/lib/sftp-server" "$root/usr/bin/sudo" \
	"$root/usr/bin/getent"; do
	for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
		mkdir -p "$root/$(dirname "$lib")"
		[ -e "$root/$lib" ] || cp -L "$lib" "$root/$lib"
	done
done

install -m 755 "$src/rcS" "$root/etc/init.d/rcS"
install -m 755 "$src/rc.shutdown" "$root/etc/init.d/rc.shutdown"
install -m 755 "$src/udhcpc.script" "$root/etc/udhcpc.script"
install -m 755 "$src/vmlab-seed" "$root/usr/libexec/vmlab-seed"
install -m 755 "$src/vmlab-net" "$root/usr/libexec/vmlab-net"
install -m 755 "$src/acpi-power" "$root/etc/acpi/PWRF/00000080"
install -m 644 "$src/yaml2dir.awk" "$root/usr/lib/vmlab/yaml2dir.awk"
install -m 644 "$src/inittab" "$root/etc/inittab"
cat >"$root/etc/passwd" <<'EOF'
root::0:0:root:/root:/bin/sh
nobody:*:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
adm:x:4:
sudo:x:27:
users:x:100:
nogroup:x:65534:
EOF
printf '/bin/sh\n/bin/ash\n' >"$root/etc/shells"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
echo vmlab-test >"$root/etc/hostname"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"
cat >"$root/etc/os-release" <<EOF
PRETTY_NAME="vmlab minimal test image (busybox, dropbear, Debian kernel $kver)"
NAME="vmlab-test-image"
ID=vmlab-test-image
VERSION_ID="$key"
EOF

# --- boot: kernel, initramfs, extlinux ---
cp "$work/kernel/boot/vmlinuz-$kver" "$root/boot/vmlinuz"
(cd "$initrd" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -9 >"$root/boot/initrd.img"
cat >"$root/boot/extlinux/extlinux.conf" <<EOF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 1
LABEL linux
  LINUX /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND root=LABEL=$label rw console=tty0 console=ttyS0,115200 no_timer_check
EOF

# --- disk: ext4 filled from the directory without mounting, then extlinux on a loop mount ---
raw=$work/disk.raw
part_off=$((1024 * 1024))
part_bytes=$((disk_mib * 1024 * 1024 - part_off))
truncate -s "${disk_mib}M" "$raw"
# -b 4096 -O ^64bit: with the small-filesystem default of 1 KiB blocks syslinux 6.04 hangs.
mke2fs -q -F -t ext4 -b 4096 -O ^64bit -L "$label" -m 0 -d "$root" \
	-E "offset=$part_off,root_owner=0:0" "$raw" "$((part_bytes / 4096))"
loopdev=$(losetup --find --show --offset "$part_off" --sizelimit "$part_bytes" "$raw")
mkdir -p "$mnt"
mount -t ext4 "$loopdev" "$mnt"
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
umount "$mnt"
losetup -d "$loopdev"
loopdev=
# MBR boot code, then one active Linux partition from sector 2048 to the end.
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
ls -t "$cache"/minimal-*.qcow2 | tail -n +3 | xargs -r rm -f   # older keys: superseded
t1=$(date +%s.%N)
echo "build-minimal: built in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (kernel $kver)"
deliver
