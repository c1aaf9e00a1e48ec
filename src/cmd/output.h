/* CLI output: the event sink that turns engine events into lines (or a
 * progress bar on a terminal) on stderr, and helpers commands use to print. */
#ifndef VL_CMD_OUTPUT_H
#define VL_CMD_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "ctx.h"
#include "util/diag.h"

/* Install the CLI sink into ctx->events (thread-safe). */
void vl_out_init(struct vl_ctx *ctx);
/* Remote output lines (VL_EV_OUTPUT) start with "VM: " unless turned off. */
void vl_out_set_prefix(bool on);
void vl_out_diags(const struct vl_ctx *ctx, const struct vl_diags *diags);
/* Destructive commands (destroy, gc) ask when this is true (stdin and stderr
 * are terminals); otherwise they refuse unless --force. */
bool vl_out_interactive(const struct vl_ctx *ctx);
/* A usage error (exit 2) saying a terminal or --force is needed. */
int vl_out_refuse_without_terminal(const char *cmd, const char *alternatives, struct vl_err *err);
/* Ask yes/no on the terminal; false when stdin is not a terminal. */
int vl_out_confirm(const struct vl_ctx *ctx, const char *question);

#endif
