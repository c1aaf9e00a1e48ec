/* The TUI's entry point, called by `vmlab tui` (src/cmd/cmd_tui.c). */
#ifndef UI_TUI_H
#define UI_TUI_H

#include <stdbool.h>

#include "ctx.h"
#include "util/err.h"

struct ui_opts {
	bool readonly;              /* no action key works: an observer's view */
	bool color;                 /* false with --no-color or NO_COLOR */
};

/* Run until q. ctx is connected (ctx->virt); the TUI takes its event sink
 * for the duration (nothing may print while curses owns the terminal). */
int ui_tui_run(struct vl_ctx *ctx, const struct ui_opts *o, struct vl_err *err);

#endif
