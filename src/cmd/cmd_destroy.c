/* vmlab destroy: remove VMs, disks and the lab network. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_destroy = {
	.name = "destroy",
	.usage = "destroy [VM...] [--force]",
	.summary = "remove VMs, disks and the lab network",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
