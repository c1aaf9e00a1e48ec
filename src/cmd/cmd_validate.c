/* vmlab validate: load and check the project's vmlab.ini, print "ok" or every
 * problem as FILE:LINE (exit 2). Loads the profile itself rather than through
 * VL_CMD_NEEDS_PROFILE so --json can report the problems on stdout too. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "cmd/output.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/mem.h"

static size_t machine_count(const struct vl_profile *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_vms; i++)
		n += p->vms[i].count;
	return n;
}

static void print_json(const struct vl_profile *p, const char *path, const struct vl_diags *d,
		       const struct vl_err *err)
{
	VL_AUTO(vl_buf) b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, true);
	vl_json_obj_begin(&j);
	vl_json_kbool(&j, "valid", p != NULL);
	vl_json_kstr(&j, "path", path);
	if (p) {
		vl_json_kstr(&j, "lab", p->name);
		vl_json_kuint(&j, "vms", machine_count(p));
	} else {
		vl_json_kstr(&j, "error", err->msg);
	}
	vl_json_key(&j, "problems");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < d->n; i++) {
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "file", d->items[i].file);
		vl_json_kint(&j, "line", d->items[i].line);
		vl_json_kstr(&j, "message", d->items[i].msg);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_obj_end(&j);
	printf("%s\n", vl_buf_str(&b));
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	VL_AUTOFREE char *path = NULL;

	if (vl_args_has(a, "json"))
		ctx->json = true;
	if (!ctx->have_profile) {
		path = vl_profile_find(ctx->project_dir, err);
		if (!path) {
			if (ctx->json)
				print_json(NULL, NULL, &diags, err);
			return -1;
		}
		if (vl_profile_load(&ctx->profile, path, &diags, err) < 0) {
			if (ctx->json)
				print_json(NULL, path, &diags, err);
			vl_out_diags(ctx, &diags);
			return -1;
		}
		ctx->have_profile = true;
	}
	if (ctx->json) {
		print_json(&ctx->profile, ctx->profile.path, &diags, err);
	} else if (!ctx->quiet) {
		size_t n = machine_count(&ctx->profile);
		printf("%s: ok (lab '%s', %zu VM%s)\n", ctx->profile.path, ctx->profile.name, n,
		       n == 1 ? "" : "s");
	}
	return 0;
}

static const struct vl_opt opts[] = {
	{ "json", 0, VL_OPT_FLAG, NULL, "print the result as JSON on stdout" },
	VL_OPT_END,
};

const struct vl_cmd vl_cmd_validate = {
	.name = "validate",
	.usage = "validate [--json]",
	.summary = "check the project's vmlab.ini",
	.description = "Find vmlab.ini in the project directory or a parent, check every section "
		       "and key, and print each problem as FILE:LINE: message. Exit status 0 when "
		       "the profile is valid, 2 when it is not. With --json the "
		       "result is an object {\"valid\", \"path\", \"lab\", \"vms\", \"problems\"} "
		       "on stdout.",
	.opts = opts,
	.max_args = 0,
	.run = run,
};
