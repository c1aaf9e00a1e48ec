/* vmlab rollback: restore the newest (or the named) snapshot. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_rollback = {
	.name = "rollback",
	.usage = "rollback [NAME]",
	.summary = "restore the newest (or the named) snapshot",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
