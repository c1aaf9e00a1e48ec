/* vmlab forward: forward local ports to a VM. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_forward = {
	.name = "forward",
	.usage = "forward VM [LOCAL:]REMOTE...",
	.summary = "forward local ports to a VM",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
