/* vmlab exec [--all | VM...] -- CMD ARG...: one command on several VMs at
 * once, output lines prefixed with the VM, a summary of each VM's status. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/output.h"
#include "lab.h"
#include "remote.h"
#include "util/buf.h"
#include "util/json.h"

static const struct vl_opt opts[] = {
	{ "all", 'a', VL_OPT_FLAG, NULL, "every VM of the lab" },
	{ "no-prefix", 0, VL_OPT_FLAG, NULL, "output lines without the VM's name" },
	{ "json", 0, VL_OPT_FLAG, NULL, "per VM: status, stdout, stderr as JSON (see vmlab(1))" },
	VL_OPT_END,
};

static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	(void)ctx;
	if (!a->has_rest || a->nrest == 0)
		return vl_err_set(err, VL_E_USAGE, "exec: give the command after '--': vmlab %s",
				  vl_cmd_exec.usage);
	if (vl_args_has(a, "all") && a->npos)
		return vl_err_set(err, VL_E_USAGE, "exec: --all or VM names, not both");
	if (!vl_args_has(a, "all") && !a->npos)
		return vl_err_set(err, VL_E_USAGE, "exec: name the VMs, or --all for every VM");
	return 0;
}

static void print_json(const struct vl_exec_result *r, size_t n, int status)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, true);
	vl_json_obj_begin(&j);
	vl_json_kint(&j, "status", status);
	vl_json_key(&j, "vms");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "name", r[i].vm);
		vl_json_kint(&j, "status", r[i].status);
		vl_json_kstr(&j, "error", r[i].error);
		vl_json_kstr(&j, "stdout", r[i].out);
		vl_json_kstr(&j, "stderr", r[i].err);
		vl_json_kseconds(&j, "seconds", r[i].seconds);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_obj_end(&j);
	printf("%s\n", vl_buf_str(&b));
	vl_buf_release(&b);
}

/* On stderr, so stdout stays the commands' output. */
static void print_summary(const struct vl_exec_result *r, size_t n)
{
	int w = 2;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(r[i].vm) > w)
			w = (int)strlen(r[i].vm);
	fprintf(stderr, "%-*s  %-6s  %s\n", w, "VM", "STATUS", "TIME");
	for (size_t i = 0; i < n; i++) {
		if (r[i].error)
			fprintf(stderr, "%-*s  %-6d  %.1fs  not run: %s\n", w, r[i].vm, r[i].status,
				r[i].seconds, r[i].error);
		else
			fprintf(stderr, "%-*s  %-6d  %.1fs\n", w, r[i].vm, r[i].status, r[i].seconds);
	}
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	bool json = ctx->json || vl_args_has(a, "json");
	struct vl_exec_opts o = {
		.sel = { a->pos, (size_t)a->npos },
		.argv = (const char *const *)a->rest,
		.argc = (size_t)a->nrest,
		.capture = json,
	};
	struct vl_exec_result *r = NULL;
	size_t n = 0;
	int status;

	vl_out_set_prefix(!vl_args_has(a, "no-prefix"));
	if (vl_lab_exec(ctx, &o, &r, &n, err) < 0)
		return -1;
	int *st = calloc(n + 1, sizeof(int));
	for (size_t i = 0; i < n; i++)
		st[i] = r[i].status;
	status = vl_exec_exit_status(st, n);
	free(st);
	if (json)
		print_json(r, n, status);
	else if (!ctx->quiet)
		print_summary(r, n);
	vl_exec_results_free(r, n);
	if (status != 0) {
		err->code = VL_E_REMOTE;
		err->status = status;
		err->msg[0] = '\0';
		return -1;
	}
	return 0;
}

const struct vl_cmd vl_cmd_exec = {
	.name = "exec",
	.usage = "exec [--all | VM...] [--no-prefix] [--json] -- CMD ARG...",
	.summary = "run a command on several VMs",
	.description =
		"Runs CMD with its arguments kept exactly (as 'vmlab ssh VM -- CMD' does) on\n"
		"the named VMs, or every VM with --all, in parallel ([up] parallel at a\n"
		"time). Output lines are prefixed with the VM's name ('web-1: ...', stdout\n"
		"and stderr kept apart; --no-prefix drops it); a table of each VM's status\n"
		"follows on stderr. Exit status: 0 when every VM's command exited 0, 255 when\n"
		"a VM could not be reached (not running, SSH failed), else the highest remote\n"
		"status. --json prints per VM its status, stdout and stderr instead.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS,
	.max_args = -1,
	.takes_rest = true,
	.check_args = check_args,
	.run = run,
};
