/* vmlab image: manage the image cache. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_image = {
	.name = "image",
	.usage = "image pull|list|rm|prune [ARGS]",
	.summary = "manage the image cache",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
