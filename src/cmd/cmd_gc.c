/* vmlab gc [--dry-run] [--force]: remove vmlab objects no project owns. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "cmd/output.h"
#include "lab.h"

static const struct vl_opt opts[] = {
	{ "dry-run", 'n', VL_OPT_FLAG, NULL, "only list what would be removed" },
	{ "force", 'f', VL_OPT_FLAG, NULL, "do not ask for confirmation" },
	VL_OPT_END,
};

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_gc_item *items = NULL;
	size_t n = 0;
	bool dry = vl_args_has(a, "dry-run");

	if (vl_lab_gc(ctx, true, &items, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		printf("%-8s %-50s %s\n", vl_gc_kind_name(items[i].kind), items[i].name, items[i].reason);
	vl_gc_items_free(items, n);
	if (n == 0) {
		if (!ctx->quiet)
			printf("nothing to collect\n");
		return 0;
	}
	if (dry)
		return 0;
	if (!vl_args_has(a, "force")) {
		if (!ctx->tty_err)
			return vl_err_set(err, VL_E_USAGE, "gc: not a terminal; use --force to remove, "
							   "--dry-run to list");
		if (!vl_out_confirm(ctx, "Remove these?"))
			return vl_err_set(err, VL_E_CANCELLED, "gc cancelled");
	}
	if (vl_lab_gc(ctx, false, &items, &n, err) < 0)
		return -1;
	vl_gc_items_free(items, n);
	return 0;
}

const struct vl_cmd vl_cmd_gc = {
	.name = "gc",
	.usage = "gc [--dry-run] [--force]",
	.summary = "remove vmlab objects left behind",
	.description =
		"Finds vmlab domains and networks whose project directory (or its vmlab.ini)\n"
		"is gone, volumes whose domain is gone and lab networks with no VM left, and\n"
		"removes them. Projects with a vmlab command running (lock held) are skipped.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_CONFIG | VL_CMD_NEEDS_LIBVIRT,
	.run = run,
};
