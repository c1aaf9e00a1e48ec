/* vmlab destroy [VM...] [--force]: remove VMs, their disks and snapshots,
 * and the lab network once no VM is left. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "cmd/output.h"
#include "lab.h"

static const struct vl_opt opts[] = {
	{ "force", 'f', VL_OPT_FLAG, NULL, "do not ask for confirmation" },
	{ "yes", 'y', VL_OPT_FLAG, NULL, "same as --force" },
	VL_OPT_END,
};

static bool forced(const struct vl_args *a)
{
	return vl_args_has(a, "force") || vl_args_has(a, "yes");
}

/* The rule of destructive commands: ask on a terminal, refuse without one
 * unless --force. Checked before libvirt is contacted. */
static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	if (!forced(a) && !vl_out_interactive(ctx))
		return vl_out_refuse_without_terminal("destroy", NULL, err);
	return 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_lab_sel sel = { a->pos, (size_t)a->npos };

	if (!forced(a)) {
		char q[256];
		snprintf(q, sizeof(q), "Destroy %s of lab '%s', with disks and snapshots?",
			 a->npos ? "the named VMs" : "every VM", ctx->profile.name);
		if (!vl_out_confirm(ctx, q))
			return vl_err_set(err, VL_E_CANCELLED, "destroy cancelled");
	}
	return vl_lab_destroy(ctx, &sel, err);
}

const struct vl_cmd vl_cmd_destroy = {
	.name = "destroy",
	.usage = "destroy [VM...] [--force]",
	.summary = "remove VMs, disks and the lab network",
	.description = "Removes the VMs' domains, disks, seeds and snapshots; without VM names also\n"
		       "whatever the lab left behind and the lab network. Running it again is a\n"
		       "no-op. On a terminal it asks first; without a terminal it refuses (exit 2)\n"
		       "unless --force or --yes is given.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS,
	.max_args = -1,
	.check_args = check_args,
	.run = run,
};
