/* vmlab console: attach to a VM's serial console. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_console = {
	.name = "console",
	.usage = "console VM",
	.summary = "attach to a VM's serial console",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
