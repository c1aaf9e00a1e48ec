/* vmlab forward VM [[BIND:]LOCAL:]REMOTE... | --list: forward local ports to
 * a VM through the lab's held session, or list the forwards. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "forward.h"
#include "lab.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/mem.h"

static const struct vl_opt opts[] = {
	{ "list", 0, VL_OPT_FLAG, NULL, "list the lab's forwards" },
	VL_OPT_END,
};

static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_fwd_spec f;

	(void)ctx;
	if (vl_args_has(a, "list")) {
		if (a->npos)
			return vl_err_set(err, VL_E_USAGE, "forward --list takes no arguments");
		return 0;
	}
	if (a->npos < 2)
		return vl_err_set(err, VL_E_USAGE, "usage: vmlab %s", vl_cmd_forward.usage);
	for (int i = 1; i < a->npos; i++)
		if (vl_fwd_parse(a->pos[i], &f, err) < 0)
			return -1;
	return 0;
}

static void print_list(const struct vl_ctx *ctx, const struct vl_fwd_info *f, size_t n)
{
	if (ctx->json) {
		struct vl_buf b = VL_BUF_INIT;
		struct vl_json j;
		vl_json_init(&j, &b, true);
		vl_json_arr_begin(&j);
		for (size_t i = 0; i < n; i++) {
			vl_json_obj_begin(&j);
			vl_json_kstr(&j, "vm", f[i].vm);
			vl_json_kstr(&j, "bind", f[i].spec.bind);
			vl_json_kuint(&j, "local", f[i].spec.local);
			vl_json_kuint(&j, "remote", f[i].spec.remote);
			vl_json_kuint(&j, "connections", f[i].conns);
			vl_json_kstr(&j, "origin", f[i].from_profile ? "profile" : "command");
			vl_json_kbool(&j, "connected", f[i].connected);
			vl_json_obj_end(&j);
		}
		vl_json_arr_end(&j);
		fputs(vl_buf_str(&b), stdout);
		vl_buf_release(&b);
		return;
	}
	if (n == 0) {
		printf("no forwards\n");
		return;
	}
	printf("%-20s %-22s %6s %5s  %-8s %s\n", "VM", "LOCAL", "REMOTE", "CONNS", "FROM",
	       "SESSION");
	for (size_t i = 0; i < n; i++) {
		char local[32];
		snprintf(local, sizeof(local), "%s:%u", f[i].spec.bind, f[i].spec.local);
		printf("%-20s %-22s %6u %5u  %-8s %s\n", f[i].vm, local, f[i].spec.remote, f[i].conns,
		       f[i].from_profile ? "profile" : "command", f[i].connected ? "up" : "down");
	}
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_fwd_spec specs[32];
	size_t n = 0;

	if (vl_args_has(a, "list")) {
		struct vl_fwd_info *f = NULL;
		if (vl_lab_forward_list(ctx, &f, &n, err) < 0)
			return -1;
		print_list(ctx, f, n);
		vl_fwd_info_free(f, n);
		return 0;
	}
	struct vl_lab_sel sel = { &a->pos[0], 1 };
	if (vl_lab_check_names(ctx, &sel, err) < 0)
		return -1;
	if (a->npos - 1 > (int)VL_ARRAY_SIZE(specs))
		return vl_err_set(err, VL_E_USAGE, "at most %zu forwards at once",
				  (size_t)VL_ARRAY_SIZE(specs));
	for (int i = 1; i < a->npos; i++)
		if (vl_fwd_parse(a->pos[i], &specs[n++], err) < 0)
			return -1;
	return vl_lab_forward_add(ctx, a->pos[0], specs, n, err);
}

const struct vl_cmd vl_cmd_forward = {
	.name = "forward",
	.usage = "forward VM [[BIND:]LOCAL:]REMOTE... | --list",
	.summary = "forward local ports to a VM",
	.description =
		"Listens on BIND (default 127.0.0.1) port LOCAL (default REMOTE) and carries\n"
		"each connection to port REMOTE on the VM's own loopback, over the VM's pinned\n"
		"SSH session in the lab's held session (no ssh -L process). Forwards survive a\n"
		"reboot or a rollback of the VM and end with halt or destroy. A port in use is\n"
		"an error. --list shows them (with --json: an array).",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE,
	.max_args = -1,
	.check_args = check_args,
	.run = run,
};
