/* vmlab status: show the lab's VMs, state, IPs. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_status = {
	.name = "status",
	.usage = "status [--json]",
	.summary = "show the lab's VMs, state, IPs",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
