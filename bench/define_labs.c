/* define_labs CONF DIR...: define (never start) the lab of each project DIR on
 * the libvirt of vmlab.conf CONF, exactly as `vmlab up` would name and
 * describe it: the engine plans it against what libvirt already has (so each
 * lab gets a subnet of its own), the renderer writes the network and domain
 * XML with vmlab's <metadata> (lab, project, owner, VM, address), and the
 * adapter defines them. No volumes, no images, nothing started: bench/engine.sh
 * uses it to put many labs on one daemon in seconds. Built by `make bench-tools`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "lab.h"
#include "plan.h"
#include "render.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/mem.h"
#include "host.h"
#include "virt.h"

static int define_lab(struct vl_host *h, const char *conf, const char *dir, size_t *n_doms,
		      struct vl_err *err)
{
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_virt *v = h->virt;
	struct vl_ctx ctx = { .host = h };
	struct vl_plan plan;
	struct vl_buf path = VL_BUF_INIT;
	char *xml = NULL;
	int rc = -1;

	ctx.project_dir = realpath(dir, NULL);
	if (!ctx.project_dir) {
		vl_err_set(err, VL_E_IO, "%s: no such directory", dir);
		return -1;
	}
	vl_buf_printf(&path, "%s/vmlab.ini", ctx.project_dir);
	if (vl_config_load(&ctx.config, conf, &d, err) < 0 ||
	    vl_profile_load(&ctx.profile, path.s, &d, err) < 0)
		goto out_free;
	ctx.have_config = ctx.have_profile = true;
	if (vl_lab_plan(&ctx, &plan, err) < 0)
		goto out_free;
	xml = vl_render_network(&plan, NULL, err);
	if (!xml || vl_virt_network_define(v, xml, err) < 0)
		goto out;
	for (size_t i = 0; i < plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &plan.vms[i];
		bool tcg = ctx.config.accel == VL_ACCEL_TCG;
		struct vl_buf log = VL_BUF_INIT;
		struct vl_domain_opts o = {
			.type = tcg ? VL_DOMAIN_QEMU : VL_DOMAIN_KVM,
			.pool = ctx.config.pool_name,
			.tb_cache_mib = tcg ? 64 : 0,
		};

		vl_buf_printf(&log, "%s/%s-serial.log", ctx.config.log_dir, vm->domain);
		o.serial_log = log.s;
		free(xml);
		xml = vl_render_domain(&plan, vm, &o, err);
		vl_buf_release(&log);
		if (!xml || vl_virt_domain_define(v, xml, NULL, err) < 0)
			goto out;
		(*n_doms)++;
	}
	rc = 0;
out:
	vl_plan_release(&plan);
out_free:
	if (rc < 0 && d.n)
		vl_err_prefix(err, "%s (%s)", dir, d.items[0].msg);
	free(xml);
	vl_buf_release(&path);
	vl_diags_release(&d);
	vl_profile_release(&ctx.profile);
	vl_config_release(&ctx.config);
	free(ctx.project_dir);
	return rc;
}

int main(int argc, char **argv)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_config cfg = { 0 };
	struct vl_host *h;
	size_t n_doms = 0;
	double t0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s CONF PROJECT-DIR...\n", argv[0]);
		return 2;
	}
	if (vl_config_load(&cfg, argv[1], &d, &err) < 0) {
		fprintf(stderr, "define_labs: %s\n", err.msg);
		return 1;
	}
	h = vl_host_open(cfg.uri, &err);
	vl_config_release(&cfg);
	vl_diags_release(&d);
	if (!h) {
		fprintf(stderr, "define_labs: %s\n", err.msg);
		return 3;
	}
	t0 = vl_now_mono();
	for (int i = 2; i < argc; i++) {
		if (define_lab(h, argv[1], argv[i], &n_doms, &err) < 0) {
			fprintf(stderr, "define_labs: %s: %s\n", argv[i], err.msg);
			vl_host_unref(h);
			return 1;
		}
	}
	printf("defined %d labs, %zu domains in %.2f s\n", argc - 2, n_doms, vl_now_mono() - t0);
	vl_host_unref(h);
	return 0;
}
