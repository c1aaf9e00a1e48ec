/* vmlab tui-keys (hidden): the TUI's key table as its ? help lists it, so
 * tests/cli/t_docs.sh can check every key against vmlab-tui(1). */
#include "cmd/cmd.h"

#include <stdio.h>

#include "ui/keys.h"

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_buf b = VL_BUF_INIT;

	(void)ctx;
	(void)a;
	(void)err;
	ui_keys_help(ui_keys, ui_n_keys, false, &b);
	fputs(vl_buf_str(&b), stdout);
	vl_buf_release(&b);
	return 0;
}

const struct vl_cmd vl_cmd_tui_keys = {
	.name = "tui-keys",
	.usage = "tui-keys",
	.summary = "the TUI's key table, one binding a line (for the docs check)",
	.flags = VL_CMD_HIDDEN,
	.max_args = 0,
	.run = run,
};
