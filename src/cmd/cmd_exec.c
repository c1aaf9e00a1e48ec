/* vmlab exec: run a command on several VMs. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_exec = {
	.name = "exec",
	.usage = "exec [--all | VM...] -- CMD ARG...",
	.summary = "run a command on several VMs",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
