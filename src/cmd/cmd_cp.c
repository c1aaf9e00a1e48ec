/* vmlab cp: copy files to or from a VM (VM:PATH). Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_cp = {
	.name = "cp",
	.usage = "cp SRC DST",
	.summary = "copy files to or from a VM (VM:PATH)",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
