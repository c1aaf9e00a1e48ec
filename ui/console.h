/* The serial console as the TUI reaches it: the same console `vmlab console`
 * runs (vl_lab_console), on the caller's terminal. */
#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H

#include "ctx.h"
#include "util/err.h"

/* The key that leaves the console, as the banner names it. */
#define UI_CONSOLE_ESCAPE "Ctrl-]"

/* Attach the terminal to vm's serial console until UI_CONSOLE_ESCAPE. */
int ui_console_run(struct vl_ctx *ctx, const char *vm, struct vl_err *err);

#endif
