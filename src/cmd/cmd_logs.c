/* vmlab logs VM [-f]: the VM's console log, cloud-init output and
 * provisioner logs; -f follows the console. */
#include "cmd/cmd.h"

#include <unistd.h>

#include "lab.h"

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	return vl_lab_logs(ctx, a->pos[0], vl_args_has(a, "follow"), STDOUT_FILENO, err);
}

static const struct vl_opt opts[] = {
	{ "follow", 'f', VL_OPT_FLAG, NULL, "then follow the console as it grows (Ctrl-C stops)" },
	VL_OPT_END,
};

const struct vl_cmd vl_cmd_logs = {
	.name = "logs",
	.usage = "logs VM [-f]",
	.summary = "show a VM's console, cloud-init and provisioning logs",
	.description =
		"In order: the serial console log so far (virtlogd's file and its rotated\n"
		"copies, when this machine can read the libvirt host's files), cloud-init's\n"
		"output read from the running guest, and the provisioner logs vmlab keeps in\n"
		".vmlab/logs/. -f then follows the console: the file where it is readable,\n"
		"else libvirt's console stream (a remote host).",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS,
	.min_args = 1,
	.max_args = 1,
	.run = run,
};
