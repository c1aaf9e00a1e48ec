/* vmlab doctor: check libvirtd, KVM, QEMU, dnsmasq and storage. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_doctor = {
	.name = "doctor",
	.usage = "doctor",
	.summary = "check libvirtd, KVM, QEMU, dnsmasq and storage",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
