/* vmlab up: create and start the lab's VMs. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_up = {
	.name = "up",
	.usage = "up [VM...] [--dry-run]",
	.summary = "create and start the lab's VMs",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
