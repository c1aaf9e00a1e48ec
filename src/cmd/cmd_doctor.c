/* vmlab doctor: is this host ready for labs? Exit 1 if a check failed. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "doctor.h"
#include "util/buf.h"
#include "util/json.h"

static const struct vl_opt opts[] = {
	{ "json", 0, VL_OPT_FLAG, NULL, "machine-readable output (see vmlab(1))" },
	VL_OPT_END,
};

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	static const char *const level[] = { "ok", "warn", "FAIL" };
	struct vl_checks c;
	size_t failed = 0;

	if (vl_args_has(a, "json"))
		ctx->json = true;
	vl_doctor_run(ctx, &c);
	if (ctx->json) {
		struct vl_buf b = VL_BUF_INIT;
		struct vl_json j;
		vl_json_init(&j, &b, true);
		vl_json_arr_begin(&j);
		for (size_t i = 0; i < c.n; i++) {
			vl_json_obj_begin(&j);
			vl_json_kstr(&j, "check", c.items[i].name);
			vl_json_kbool(&j, "ok", c.items[i].level != VL_CHECK_FAIL);
			vl_json_kstr(&j, "level", c.items[i].level == VL_CHECK_FAIL ? "fail" : level[c.items[i].level]);
			vl_json_kstr(&j, "detail", c.items[i].detail);
			vl_json_kstr(&j, "fix", c.items[i].fix);
			vl_json_obj_end(&j);
		}
		vl_json_arr_end(&j);
		fputs(vl_buf_str(&b), stdout);
		vl_buf_release(&b);
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct vl_check *k = &c.items[i];
		failed += k->level == VL_CHECK_FAIL;
		if (ctx->json)
			continue;
		printf("%-4s  %-12s %s\n", level[k->level], k->name, k->detail);
		if (k->fix)
			printf("      %-12s fix: %s\n", "", k->fix);
	}
	vl_checks_release(&c);
	if (failed)
		return vl_err_set(err, VL_E_FAIL, "doctor: %zu check%s failed", failed, failed > 1 ? "s" : "");
	return 0;
}

const struct vl_cmd vl_cmd_doctor = {
	.name = "doctor",
	.usage = "doctor [--json]",
	.summary = "check libvirtd, KVM, QEMU, dnsmasq and storage",
	.description = "Each check says ok, warn or FAIL, what it found and how to fix it. Exit\n"
		       "status 1 if a check failed. With --json: an array of { \"check\", \"ok\",\n"
		       "\"level\", \"detail\", \"fix\" } on stdout (see vmlab(1)).",
	.opts = opts,
	.flags = VL_CMD_NEEDS_CONFIG,
	.run = run,
};
