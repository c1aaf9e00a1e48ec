/* vmlab provision: run the provisioners again. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_provision = {
	.name = "provision",
	.usage = "provision [VM...]",
	.summary = "run the provisioners again",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
