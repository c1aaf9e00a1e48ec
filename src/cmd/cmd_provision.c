/* vmlab provision [VM...] [--force]: run the provisioners not yet recorded
 * as done in the guest (all of them with --force). */
#include "cmd/cmd.h"

#include "lab.h"

static const struct vl_opt opts[] = {
	{ "force", 'f', VL_OPT_FLAG, NULL, "run every provisioner, also those recorded as done" },
	VL_OPT_END,
};

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_provision_opts o = {
		.sel = { a->pos, (size_t)a->npos },
		.force = vl_args_has(a, "force"),
	};

	return vl_lab_provision(ctx, &o, err);
}

const struct vl_cmd vl_cmd_provision = {
	.name = "provision",
	.usage = "provision [VM...] [--force]",
	.summary = "run the provisioners again",
	.description =
		"Runs each VM's provision entries in order, as up does after the first boot:\n"
		"an entry recorded in the guest as done (exit 0 with the same content on the\n"
		"same domain) is skipped, so a changed or failed one runs again; --force runs\n"
		"them all. Output lines are prefixed with the VM's name and kept in\n"
		".vmlab/logs/VM-provision-N.log. A failing provisioner stops that VM's list;\n"
		"vmlab exits with its status. The VMs must be running.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS,
	.max_args = -1,
	.run = run,
};
