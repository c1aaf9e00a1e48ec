/* vmlab tui [--readonly] [--no-color]: the interactive terminal UI (ui/),
 * over every lab on the libvirt connection. */
#include "cmd/cmd.h"

#include <stdlib.h>

#include "ui/tui.h"

static const struct vl_opt opts[] = {
	{ "readonly", 0, VL_OPT_FLAG, NULL, "no action key works: an observer's view" },
	{ "no-color", 0, VL_OPT_FLAG, NULL, "no colours (as does a non-empty NO_COLOR)" },
	VL_OPT_END,
};

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const char *no_color = getenv("NO_COLOR");
	struct ui_opts o = {
		.readonly = vl_args_has(a, "readonly"),
		.color = !vl_args_has(a, "no-color") && !(no_color && *no_color),
	};

	return ui_tui_run(ctx, &o, err);
}

const struct vl_cmd vl_cmd_tui = {
	.name = "tui",
	.usage = "tui [--readonly] [--no-color]",
	.summary = "the interactive terminal UI",
	.description =
		"Every vmlab lab on the libvirt connection, live (libvirt events, no polling),\n"
		"the current directory's lab first. Keys act on the selection or the marked VMs;\n"
		"? lists them, and vmlab-tui(1) describes them. Needs a terminal.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_LIBVIRT,
	.max_args = 0,
	.run = run,
};
