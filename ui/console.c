/* The TUI's console key: the engine has no console call yet (`vmlab console`
 * is being built), so the TUI reports it unavailable rather than pretending.
 * When the engine gains it, this file calls it and nothing else changes. */
#include "console.h"

bool ui_console_available(void)
{
	return false;
}

int ui_console_run(struct vl_ctx *ctx, const char *vm, const char **banner, struct vl_err *err)
{
	(void)ctx;
	(void)vm;
	*banner = NULL;
	return vl_err_set(err, VL_E_UNAVAILABLE, "console: not available yet");
}
