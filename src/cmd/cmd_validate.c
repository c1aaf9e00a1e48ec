/* placeholder until the profile/plan work lands */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_validate = {
	.name = "validate",
	.usage = "validate",
	.summary = "check the project's vmlab.ini",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
