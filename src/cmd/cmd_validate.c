/* vmlab validate: load and check the project's vmlab.ini, print "ok" or every
 * problem as FILE:LINE (exit 2). Loads the profile itself rather than through
 * VL_CMD_NEEDS_PROFILE so --json can report the problems on stdout too. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "cmd/output.h"
#include "util/buf.h"
#include "util/json.h"
#include "lab.h"
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

/* The profile, vmlab.conf (it decides subnet = auto's size and extra image
 * catalogs) and vl_lab_check, all problems of all three in one run. */
static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	VL_AUTOFREE char *path = NULL;
	struct vl_err cfg_err = VL_ERR_INIT;
	int rc = 0;

	if (vl_args_has(a, "json"))
		ctx->json = true;
	if (!ctx->have_config && vl_config_load(&ctx->config, ctx->config_path, &diags, &cfg_err) == 0)
		ctx->have_config = true;
	path = vl_profile_find(ctx->project_dir, err);
	if (!path) {
		if (ctx->json)
			print_json(NULL, NULL, &diags, err);
		vl_out_diags(ctx, &diags);
		return -1;
	}
	struct vl_profile_trust trust = vl_ctx_trust(ctx);
	if (vl_profile_load_trusted(&ctx->profile, path, &trust, &diags, err) < 0)
		rc = -1;
	else
		ctx->have_profile = true;
	/* the plan and the images need a good config and profile */
	if (!ctx->have_config) {
		if (rc == 0)
			*err = cfg_err;
		else {   /* both bad: the summary names both */
			struct vl_err prof = *err;
			vl_err_set(err, VL_E_PROFILE, "%s; %s", cfg_err.msg, prof.msg);
		}
		rc = -1;
	}
	if (rc == 0 && vl_lab_check(ctx, &diags, err) < 0)
		rc = -1;
	if (ctx->json)
		print_json(rc == 0 ? &ctx->profile : NULL, path, &diags, err);
	if (rc < 0) {
		vl_out_diags(ctx, &diags);
		return -1;
	}
	if (!ctx->json && !ctx->quiet) {
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
	.description = "Find vmlab.ini in the project directory or a parent, check every section\n"
		       "and key, vmlab.conf, the address layout the plan would use and every image\n"
		       "name against the catalogs (libvirt is not contacted), and print each\n"
		       "problem as FILE:LINE: message. Exit status 0 when all is valid, 2 when not.\n"
		       "With --json the result is an object {\"valid\", \"path\", \"lab\", \"vms\",\n"
		       "\"problems\"} on stdout (see vmlab(1)).",
	.opts = opts,
	.max_args = 0,
	.run = run,
};
