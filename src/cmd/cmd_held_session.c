/* vmlab held-session: the lab's held session process (docs/held-session.md),
 * started detached by vmlab itself, never by hand (hidden from help). */
#include "cmd/cmd.h"

#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "util/mem.h"
#include "util/str.h"

static const struct vl_opt opts[] = {
	{ "instance", 0, VL_OPT_VALUE, "NAME", "the lab instance (a class seat)" },
	VL_OPT_END,
};

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const char *fd_s = getenv("VMLAB_HELD_READY_FD");
	unsigned long long fd = 0;
	int ready = -1;

	if (fd_s && vl_str_to_u64(fd_s, &fd) && fd > 2 && fd < 1024)
		ready = (int)fd;
	unsetenv("VMLAB_HELD_READY_FD");
	if (vl_args_has(a, "instance"))
		ctx->profile.instance = vl_strdup(vl_args_get(a, "instance"));
	return vl_lab_held_serve(ctx, ready, err);
}

const struct vl_cmd vl_cmd_held_session = {
	.name = "held-session",
	.usage = "held-session [--instance NAME]",
	.summary = "the lab's held SSH session (started by vmlab itself)",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_HIDDEN,
	.run = run,
};
