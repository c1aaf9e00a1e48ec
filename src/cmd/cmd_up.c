/* vmlab up [VM...] [--dry-run] [--no-provision]: converge the lab. */
#include "cmd/cmd.h"

#include "cmd/plan_print.h"
#include "lab.h"

#include <stdio.h>

#include "util/buf.h"
#include "util/json.h"

static const struct vl_opt opts[] = {
	{ "dry-run", 'n', VL_OPT_FLAG, NULL, "print the plan and touch nothing" },
	{ "no-provision", 0, VL_OPT_FLAG, NULL, "do not run provisioners" },
	{ "strict", 0, VL_OPT_FLAG, NULL, "cloud-init errors fail up (default: a warning)" },
	{ "json", 0, VL_OPT_FLAG, NULL, "what up did (with --dry-run: the plan) as JSON (see vmlab(1))" },
	VL_OPT_END,
};

static void print_report(const struct vl_up_report *r, const struct vl_err *err)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, true);
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "lab", r->lab);
	vl_json_kbool(&j, "ok", err->code == VL_OK);
	vl_json_kstr(&j, "error", err->code == VL_OK ? NULL : err->msg);
	vl_json_key(&j, "vms");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < r->n_vms; i++) {
		const struct vl_up_vm_report *v = &r->vms[i];
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "name", v->name);
		vl_json_kstr(&j, "ip", v->ip);
		vl_json_kbool(&j, "ready", v->ready);
		vl_json_kseconds(&j, "ssh_seconds", v->ssh_s);
		vl_json_key(&j, "cloud_init");
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "status", v->cloud_init);
		vl_json_kseconds(&j, "seconds", v->cloud_init_s);
		vl_json_key(&j, "errors");
		vl_json_arr_begin(&j);
		for (size_t k = 0; k < v->n_ci_errors; k++) {
			vl_json_obj_begin(&j);
			vl_json_kstr(&j, "module", v->ci_errors[k].module);
			vl_json_kstr(&j, "message", v->ci_errors[k].message);
			vl_json_obj_end(&j);
		}
		vl_json_arr_end(&j);
		vl_json_obj_end(&j);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_key(&j, "timing");
	vl_json_obj_begin(&j);
	vl_json_kseconds(&j, "plan", r->plan_s);
	vl_json_kseconds(&j, "images", r->images_s);
	vl_json_kseconds(&j, "base_upload", r->upload_s);
	vl_json_kseconds(&j, "base_verify", r->verify_s);
	vl_json_kseconds(&j, "network", r->network_s);
	vl_json_kseconds(&j, "create_start", r->create_s);
	vl_json_kseconds(&j, "wait_ssh", r->ssh_s);
	vl_json_kseconds(&j, "wait_cloud_init", r->cloud_init_s);
	vl_json_kseconds(&j, "wait", r->wait_s);
	vl_json_kseconds(&j, "provision", r->provision_s);
	vl_json_kseconds(&j, "total", r->total_s);
	vl_json_obj_end(&j);
	vl_json_obj_end(&j);
	printf("%s\n", vl_buf_str(&b));
	vl_buf_release(&b);
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_up_report report = { 0 };
	bool json = ctx->json || vl_args_has(a, "json");
	struct vl_up_opts o = {
		.sel = { a->pos, (size_t)a->npos },
		.no_provision = vl_args_has(a, "no-provision"),
		.strict = vl_args_has(a, "strict"),
		.report = json ? &report : NULL,
	};
	int rc;

	if (vl_args_has(a, "dry-run")) {
		struct vl_plan plan;
		if (vl_lab_plan(ctx, &plan, err) < 0)
			return -1;
		vl_plan_select(&plan, a->pos, (size_t)a->npos);
		vl_cmd_print_plan(&plan, ctx->json || vl_args_has(a, "json"));
		vl_plan_release(&plan);
		return 0;
	}
	rc = vl_lab_up(ctx, &o, err);
	/* a report exists once the lab was opened: CI gets the JSON on failure too */
	if (json && report.lab)
		print_report(&report, err);
	vl_up_report_release(&report);
	return rc;
}

const struct vl_cmd vl_cmd_up = {
	.name = "up",
	.usage = "up [VM...] [--dry-run] [--json] [--no-provision] [--strict]",
	.summary = "create and start the lab's VMs",
	.description =
		"Downloads missing images, creates the lab network, disks, cloud-init seeds and\n"
		"domains, starts the VMs in parallel, waits until each answers SSH with the\n"
		"project key (host key pinned) and, where the image runs cloud-init, until\n"
		"cloud-init has finished (errors are warnings; --strict makes them fail up),\n"
		"then runs provisioners once. Every step checks what exists first, so running\n"
		"up again converges. VM names select VMs (also with --dry-run); a [vm NAME]\n"
		"with count > 1 selects all of NAME-1..NAME-N. An unknown name, an unknown\n"
		"image or an address problem is exit 2 before libvirt is contacted. --json\n"
		"prints what up did (per VM: SSH and cloud-init times, cloud-init errors).",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS | VL_CMD_CHECK_LAB,
	.max_args = -1,
	.run = run,
};
