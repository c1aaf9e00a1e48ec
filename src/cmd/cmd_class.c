/* vmlab class: one lab copy per student seat. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_class = {
	.name = "class",
	.usage = "class up|status|reset|export|destroy [ARGS]",
	.summary = "one lab copy per student seat",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
