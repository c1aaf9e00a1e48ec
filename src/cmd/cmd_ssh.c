/* vmlab ssh: open a shell on a VM, or run a command. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_ssh = {
	.name = "ssh",
	.usage = "ssh VM [-- CMD ARG...]",
	.summary = "open a shell on a VM, or run a command",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
