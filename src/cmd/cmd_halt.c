/* vmlab halt: shut VMs down (ACPI, then force). Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_halt = {
	.name = "halt",
	.usage = "halt [VM...]",
	.summary = "shut VMs down (ACPI, then force)",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
