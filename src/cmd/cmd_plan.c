/* placeholder until the profile/plan work lands */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_plan = {
	.name = "plan",
	.usage = "plan [--json]",
	.summary = "show what 'up' would create, touching nothing",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
