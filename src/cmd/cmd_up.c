/* vmlab up [VM...] [--dry-run] [--no-provision]: converge the lab. */
#include "cmd/cmd.h"

#include "cmd/plan_print.h"
#include "lab.h"

static const struct vl_opt opts[] = {
	{ "dry-run", 'n', VL_OPT_FLAG, NULL, "print the plan and touch nothing" },
	{ "no-provision", 0, VL_OPT_FLAG, NULL, "do not run provisioners" },
	{ "json", 0, VL_OPT_FLAG, NULL, "with --dry-run: the plan as JSON (see vmlab(1))" },
	VL_OPT_END,
};

static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	(void)ctx;
	if (vl_args_has(a, "json") && !vl_args_has(a, "dry-run"))
		return vl_err_set(err, VL_E_USAGE, "up: --json goes with --dry-run (the plan as JSON)");
	return 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_up_opts o = {
		.sel = { a->pos, (size_t)a->npos },
		.no_provision = vl_args_has(a, "no-provision"),
	};

	if (vl_args_has(a, "dry-run")) {
		struct vl_plan plan;
		if (vl_lab_plan(ctx, &plan, err) < 0)
			return -1;
		vl_plan_select(&plan, a->pos, (size_t)a->npos);
		vl_cmd_print_plan(&plan, ctx->json || vl_args_has(a, "json"));
		vl_plan_release(&plan);
		return 0;
	}
	return vl_lab_up(ctx, &o, err);
}

const struct vl_cmd vl_cmd_up = {
	.name = "up",
	.usage = "up [VM...] [--dry-run [--json]] [--no-provision]",
	.summary = "create and start the lab's VMs",
	.description =
		"Downloads missing images, creates the lab network, disks, cloud-init seeds and\n"
		"domains, starts the VMs in parallel, waits until each answers SSH with the\n"
		"project key (host key pinned), then runs provisioners once. Every step checks\n"
		"what exists first, so running up again converges. VM names select VMs (also\n"
		"with --dry-run); a [vm NAME] with count > 1 selects all of NAME-1..NAME-N. An\n"
		"unknown name, an unknown image or an address problem is exit 2 before libvirt\n"
		"is contacted.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS | VL_CMD_CHECK_LAB,
	.max_args = -1,
	.check_args = check_args,
	.run = run,
};
