/* vmlab gc [--dry-run] [--force]: remove vmlab objects no project owns. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "cmd/output.h"
#include "lab.h"
#include "util/buf.h"
#include "util/json.h"

static const struct vl_opt opts[] = {
	{ "dry-run", 'n', VL_OPT_FLAG, NULL, "only list what would be removed" },
	{ "force", 'f', VL_OPT_FLAG, NULL, "do not ask for confirmation" },
	{ "json", 0, VL_OPT_FLAG, NULL, "machine-readable output (see vmlab(1))" },
	VL_OPT_END,
};

/* { "dry_run": bool, "removed": bool, "items": [ { "kind", "name", "reason" } ],
 *   "skipped_other_owners": int } */
static void print_json(const struct vl_gc_item *items, size_t n, bool dry, size_t skipped)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, true);
	vl_json_obj_begin(&j);
	vl_json_kbool(&j, "dry_run", dry);
	vl_json_kbool(&j, "removed", !dry && n > 0);
	vl_json_key(&j, "items");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "kind", vl_gc_kind_name(items[i].kind));
		vl_json_kstr(&j, "name", items[i].name);
		vl_json_kstr(&j, "reason", items[i].reason);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_kuint(&j, "skipped_other_owners", skipped);
	vl_json_obj_end(&j);
	printf("%s\n", vl_buf_str(&b));
	vl_buf_release(&b);
}

/* The rule of destructive commands: ask on a terminal, refuse without one
 * unless --force. Checked before libvirt is contacted. */
static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	if (!vl_args_has(a, "dry-run") && !vl_args_has(a, "force") && !vl_out_interactive(ctx))
		return vl_out_refuse_without_terminal("gc", ", or --dry-run to list", err);
	return 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_gc_item *items = NULL;
	size_t n = 0;
	bool dry = vl_args_has(a, "dry-run");
	bool json = ctx->json || vl_args_has(a, "json");
	int rc = 0;

	size_t skipped = 0;
	if (vl_lab_gc(ctx, true, &items, &n, &skipped, err) < 0)
		return -1;
	if (!json) {
		for (size_t i = 0; i < n; i++)
			printf("%-8s %-50s %s\n", vl_gc_kind_name(items[i].kind), items[i].name,
			       items[i].reason);
		if (n == 0 && !ctx->quiet)
			printf("nothing to collect\n");
		if (skipped && !ctx->quiet)
			printf("left %zu object%s of other owners alone (another machine or user)\n",
			       skipped, skipped == 1 ? "" : "s");
	}
	if (n > 0 && !dry) {
		struct vl_gc_item *gone = NULL;
		size_t ngone = 0;
		if (!vl_args_has(a, "force") && !vl_out_confirm(ctx, "Remove these?"))
			rc = vl_err_set(err, VL_E_CANCELLED, "gc cancelled");
		else
			rc = vl_lab_gc(ctx, false, &gone, &ngone, NULL, err);
		vl_gc_items_free(gone, ngone);
	}
	if (rc == 0 && json)
		print_json(items, n, dry, skipped);
	vl_gc_items_free(items, n);
	return rc;
}

const struct vl_cmd vl_cmd_gc = {
	.name = "gc",
	.usage = "gc [--dry-run] [--force] [--json]",
	.summary = "remove vmlab objects left behind",
	.description =
		"Finds vmlab domains and networks whose project directory (or its vmlab.ini)\n"
		"is gone, volumes whose domain is gone and lab networks with no VM left, and\n"
		"removes them. Projects with a vmlab command running (lock held) are skipped,\n"
		"and so are labs another machine or user made (owner in their metadata).\n"
		"On a terminal it asks first; without a terminal it refuses (exit 2) unless\n"
		"--force or --dry-run is given.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_CONFIG | VL_CMD_NEEDS_LIBVIRT,
	.check_args = check_args,
	.run = run,
};
