/* vmlab tui: the interactive terminal UI. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_tui = {
	.name = "tui",
	.usage = "tui",
	.summary = "the interactive terminal UI",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
