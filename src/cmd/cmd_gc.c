/* vmlab gc: remove vmlab objects left behind. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_gc = {
	.name = "gc",
	.usage = "gc",
	.summary = "remove vmlab objects left behind",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
