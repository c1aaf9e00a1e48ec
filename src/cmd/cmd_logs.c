/* vmlab logs: show a VM's boot and provisioning log. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_logs = {
	.name = "logs",
	.usage = "logs VM",
	.summary = "show a VM's boot and provisioning log",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
