/* The serial console as the TUI reaches it: the same console `vmlab console`
 * runs, called as a function on the caller's terminal. */
#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H

#include <stdbool.h>

#include "ctx.h"
#include "util/err.h"

/* Whether this build has the console (the TUI says so instead of leaving
 * the screen). */
bool ui_console_available(void);
/* Attach the terminal to vm's serial console until its escape key; banner
 * names that key. */
int ui_console_run(struct vl_ctx *ctx, const char *vm, const char **banner, struct vl_err *err);

#endif
