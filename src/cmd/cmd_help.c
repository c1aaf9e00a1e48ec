/* vmlab help [COMMAND]: the command list, or one command's usage and options. */
#include "cmd/cmd.h"

#include <stdio.h>

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const struct vl_cmd *cmd;

	(void)ctx;
	if (a->npos == 0) {
		vl_cmd_print_help(NULL, stdout);
		return 0;
	}
	cmd = vl_cmd_find(a->pos[0], err);
	if (!cmd)
		return -1;
	vl_cmd_print_help(cmd, stdout);
	return 0;
}

const struct vl_cmd vl_cmd_help = {
	.name = "help",
	.usage = "help [COMMAND]",
	.summary = "show help for vmlab or one command",
	.max_args = 1,
	.run = run,
};
