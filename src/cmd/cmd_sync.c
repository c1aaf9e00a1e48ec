/* vmlab sync [VM...] [--watch]: push each VM's sync = HOST_DIR:GUEST_DIR
 * entries now; --watch keeps pushing changes until Ctrl-C. */
#include "cmd/cmd.h"

#include "lab.h"

static const struct vl_opt opts[] = {
	{ "watch", 'w', VL_OPT_FLAG, NULL, "then push each batch of changes until Ctrl-C" },
	VL_OPT_END,
};

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_sync_opts o = {
		.sel = { a->pos, (size_t)a->npos },
		.watch = vl_args_has(a, "watch"),
	};

	return vl_lab_sync(ctx, &o, err);
}

const struct vl_cmd vl_cmd_sync = {
	.name = "sync",
	.usage = "sync [VM...] [--watch]",
	.summary = "push the profile's sync directories into the VMs",
	.description =
		"Pushes each VM's sync = HOST_DIR:GUEST_DIR entries over its pinned SSH\n"
		"session, as up does before the provisioners: only files whose size, mode or\n"
		"mtime changed since the last push, and what was deleted on the host is\n"
		"deleted in the guest. The guest keeps a manifest of what was pushed in\n"
		"GUEST_DIR/.vmlab-sync.manifest; files the guest made itself are left alone.\n"
		"--watch then follows the host directories (inotify) and pushes each batch of\n"
		"changes 200 ms after the last one, until Ctrl-C. The VMs must be running.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS,
	.max_args = -1,
	.run = run,
};
