/* vmlab halt [VM...]: ACPI shutdown, forced off after [halt] timeout. */
#include "cmd/cmd.h"

#include "lab.h"

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_lab_sel sel = { a->pos, (size_t)a->npos };

	return vl_lab_halt(ctx, &sel, err);
}

const struct vl_cmd vl_cmd_halt = {
	.name = "halt",
	.usage = "halt [VM...]",
	.summary = "shut VMs down (ACPI, then force)",
	.description = "Asks each VM to shut down (ACPI power button) and forces it off if it has\n"
		       "not stopped after [halt] timeout seconds. Disks, IPs and snapshots stay.",
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS,
	.max_args = -1,
	.run = run,
};
