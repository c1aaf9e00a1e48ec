/* What can be checked about a lab without libvirt, shared by validate, plan
 * and up (before they connect): the plan under this vmlab.conf, every image a
 * VM names, and the VM names a command line selects. */
#include "lab.h"

#include <stdio.h>
#include <stdlib.h>

#include "image.h"
#include "plan.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

/* The planner's own problems (address layout, subnet = auto under this
 * config's lab_prefix), and unknown images, each reported once per line. */
int vl_lab_check(struct vl_ctx *ctx, struct vl_diags *diags, struct vl_err *err)
{
	const struct vl_profile *p = &ctx->profile;
	struct vl_plan plan;
	struct vl_err e = VL_ERR_INIT;
	size_t before = diags->n, problems;

	if (vl_plan_build(&plan, p, &ctx->config, NULL, 0, &e) < 0)
		vl_diags_add(diags, "", 0, "%s", e.msg);   /* the message has its location */
	else
		vl_plan_release(&plan);
	for (size_t i = 0; i < p->n_vms; i++) {
		const struct vl_vm_spec *vm = &p->vms[i];
		struct vl_image_info info = { 0 };
		bool seen = false;

		if (!vm->image)
			continue;
		/* an image set in [defaults] is shared: report it once */
		for (size_t j = 0; j < i && !seen; j++)
			seen = p->vms[j].image_line == vm->image_line &&
			       vl_streq(p->vms[j].image, vm->image);
		if (seen)
			continue;
		vl_err_clear(&e);
		/* unknown, or known but not bootable by vmlab (UEFI, no cloud-init) */
		if (vl_image_resolve(&ctx->config, vm->image, &info, &e) < 0 ||
		    vl_catalog_entry_usable(&info.entry, &e) < 0)
			vl_diags_add(diags, p->path, vm->image_line ? vm->image_line : vm->line,
				     "%s", e.msg);
		/* a download nothing verifies: as image pull, only when asked for */
		else if (!ctx->insecure && vl_image_ref_kind(vm->image) == VL_REF_URL &&
			 !info.entry.digest && !info.entry.checksum_url && !info.entry.insecure)
			vl_diags_add(diags, p->path, vm->image_line ? vm->image_line : vm->line,
				     "image %s has no checksum: register it with 'vmlab image pull "
				     "URL --sha256 HEX --name NAME' and name it, or pass --insecure "
				     "to download it unverified", vm->image);
		vl_image_info_release(&info);
	}
	problems = diags->n - before;
	if (problems)
		return vl_err_set(err, VL_E_PROFILE, "%zu problem%s in %s", problems,
				  problems == 1 ? "" : "s", p->path);
	return 0;
}

int vl_lab_check_names(struct vl_ctx *ctx, const struct vl_lab_sel *sel, struct vl_err *err)
{
	struct vl_plan plan;

	if (!sel || sel->n == 0)
		return 0;
	if (vl_plan_build(&plan, &ctx->profile, &ctx->config, NULL, 0, err) < 0)
		return -1;
	for (size_t s = 0; s < sel->n; s++) {
		bool found = false;
		for (size_t i = 0; i < plan.n_vms && !found; i++)
			/* "web" selects web-1..web-N as well as a VM named web */
			found = vl_streq(plan.vms[i].name, sel->names[s]) ||
				vl_streq(plan.vms[i].spec_name, sel->names[s]);
		if (!found) {
			struct vl_buf names = VL_BUF_INIT;
			for (size_t i = 0; i < plan.n_vms; i++)
				vl_buf_printf(&names, "%s%s", i ? ", " : "", plan.vms[i].name);
			vl_err_set(err, VL_E_USAGE, "no VM '%s' in lab %s (its VMs: %s)",
				   sel->names[s], plan.lab_name, vl_buf_str(&names));
			vl_buf_release(&names);
			vl_plan_release(&plan);
			return -1;
		}
	}
	vl_plan_release(&plan);
	return 0;
}
