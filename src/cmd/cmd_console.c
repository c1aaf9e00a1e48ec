/* vmlab console VM: the VM's serial console through libvirt, Ctrl-] leaves. */
#include "cmd/cmd.h"

#include <unistd.h>

#include "lab.h"

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	return vl_lab_console(ctx, a->pos[0], vl_args_has(a, "force"), STDIN_FILENO,
			      STDOUT_FILENO, err);
}

static const struct vl_opt opts[] = {
	{ "force", 0, VL_OPT_FLAG, NULL, "take the console over from another client (virsh console)" },
	VL_OPT_END,
};

const struct vl_cmd vl_cmd_console = {
	.name = "console",
	.usage = "console VM [--force]",
	.summary = "attach to a VM's serial console",
	.description =
		"The VM's serial console (ttyS0) through libvirt's console stream, so it works\n"
		"for a remote libvirt host too. Ctrl-] leaves; the terminal is restored on\n"
		"every exit. Output printed before attaching is in 'vmlab logs VM'.\n"
		"A console held by another client (virsh console, another vmlab) is refused\n"
		"unless --force, which takes it over.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS,
	.min_args = 1,
	.max_args = 1,
	.run = run,
};
