/* The TUI's console key: the engine's console on stdin and stdout, as
 * `vmlab console` runs it (without --force: a console in use says so). */
#include "console.h"

#include <stdbool.h>
#include <unistd.h>

#include "lab.h"

int ui_console_run(struct vl_ctx *ctx, const char *vm, struct vl_err *err)
{
	return vl_lab_console(ctx, vm, false, STDIN_FILENO, STDOUT_FILENO, err);
}
