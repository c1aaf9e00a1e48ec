# shellcheck shell=bash
# guest-domain.sh - the test-image checks' guest (selftest.sh, stacktest.sh): a domain as vmlab
# makes one (overlay and seed volumes in pool vmlab, virtio, serial console logged), written
# with a heredoc because these scripts check the images, not vmlab's renderer.
#
#   guest_domain_xml DOM NET MAC MEMORY_MIB   the domain XML on stdout; the serial console is
#                                             logged to $VL_E2E_STATE/DOM.serial.log
guest_domain_xml() {
	local dom=$1 net=$2 mac=$3 mem=$4
	cat <<EOF
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/><tcg><tb-cache unit='MiB'>64</tb-cache></tcg></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='vmlab' volume='$dom.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='volume' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source pool='vmlab' volume='$dom-seed.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <source network='$net'/>
      <mac address='$mac'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <log file='$VL_E2E_STATE/$dom.serial.log' append='off'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}
