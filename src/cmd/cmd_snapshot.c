/* vmlab snapshot: manage lab snapshots. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_snapshot = {
	.name = "snapshot",
	.usage = "snapshot save|list|restore|delete [NAME]",
	.summary = "manage lab snapshots",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
