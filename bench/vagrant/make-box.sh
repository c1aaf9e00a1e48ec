#!/usr/bin/env bash
# make-box.sh IMAGE.qcow2 OUT.box - a vagrant-libvirt box from one of vmlab's test images: the
# minimal image (bench/status.sh) or the cloud-init image (bench/peers.sh). Both read a NoCloud
# seed from a filesystem labelled cidata, else from the directory /var/lib/cloud/seed/nocloud
# (the minimal image's /usr/libexec/vmlab-seed, and cloud-init's NoCloud datasource itself);
# vagrant-libvirt attaches no seed disk, so the seed is baked into the image there: meta-data,
# and user-data creating user
# `vagrant` (sudo) with Vagrant's insecure public key (shipped by the vagrant package), so that
# `vagrant up` can log in as it does with any public box. IMAGE is not modified.
# Box = tar of box.img (qcow2) + metadata.json. Needs root (loop mount), qemu-utils, vagrant.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 IMAGE.qcow2 OUT.box" >&2; exit 2; }
img=$1 out=$2
pub=${VAGRANT_INSECURE_PUB:-$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub \
	/opt/vagrant/embedded/gems/gems/vagrant-*/keys/vagrant.pub 2>/dev/null | head -n 1 || true)}
[ -r "$pub" ] || { echo "make-box: Vagrant's insecure public key not found" >&2; exit 1; }
work=$(mktemp -d /var/tmp/vmlab-box.XXXXXX)
mnt=$work/mnt
cleanup() {
	if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt"; fi
	rm -rf "$work"
}
trap cleanup EXIT
qemu-img convert -O raw "$img" "$work/disk.raw"
# The root filesystem is the first MBR partition (build-minimal.sh and build-cloudinit.sh
# both put it at 1 MiB).
start=$(sfdisk -d "$work/disk.raw" | awk -F'[=,]' '/start=/ { gsub(/ /, "", $2); print $2; exit }')
mkdir -p "$mnt"
mount -o loop,offset=$((start * 512)) "$work/disk.raw" "$mnt"
seed=$mnt/var/lib/cloud/seed/nocloud
mkdir -p "$seed"
printf 'instance-id: vagrant-bench-box\nlocal-hostname: vagrant\n' >"$seed/meta-data"
cat >"$seed/user-data" <<UD
#cloud-config
users:
  - name: vagrant
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/sh
    ssh_authorized_keys:
      - $(cat "$pub")
UD
umount "$mnt"
qemu-img convert -O qcow2 "$work/disk.raw" "$work/box.img"
vsize=$(qemu-img info --output=json "$work/box.img" | jq '.["virtual-size"]')
printf '{"provider":"libvirt","format":"qcow2","virtual_size":%d}\n' \
	$(((vsize + (1 << 30) - 1) >> 30)) >"$work/metadata.json"
tar -C "$work" -cf "$out" metadata.json box.img
echo "make-box: $out ($(du -h "$out" | cut -f1))"
