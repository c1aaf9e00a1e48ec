/* placeholder until the profile/plan work lands */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_init = {
	.name = "init",
	.usage = "init [--profile NAME] [--force]",
	.summary = "create vmlab.ini from a shipped profile",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
