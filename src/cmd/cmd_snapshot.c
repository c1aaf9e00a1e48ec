/* vmlab snapshot save|list|restore|delete [NAME]: lab-wide snapshots. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lab.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/str.h"

static const struct vl_opt opts[] = {
	{ "vm", 0, VL_OPT_VMS, "VM[,VM...]", "save: only these VMs" },
	{ "json", 0, VL_OPT_FLAG, NULL, "list: machine-readable output (see vmlab(1))" },
	VL_OPT_END,
};

static const struct vl_subcmd subs[] = {
	{ "save", "create", "NAME [--vm VM,...]", 1, 1 },
	{ "list", "ls", "[--json]", 0, 0 },
	{ "restore", "revert", "NAME", 1, 1 },
	{ "delete", "rm", "NAME", 1, 1 },
	VL_SUB_END,
};

static int list(struct vl_ctx *ctx, bool json, struct vl_err *err)
{
	struct vl_snap_info *s = NULL;
	size_t n = 0;

	if (vl_lab_snapshot_list(ctx, &s, &n, err) < 0)
		return -1;
	if (json) {
		struct vl_buf b = VL_BUF_INIT;
		struct vl_json j;
		vl_json_init(&j, &b, true);
		vl_json_arr_begin(&j);
		for (size_t i = 0; i < n; i++) {
			vl_json_obj_begin(&j);
			vl_json_kstr(&j, "name", s[i].name);
			vl_json_kint(&j, "created", (int64_t)s[i].created);
			vl_json_kuint(&j, "vms", s[i].n_vms);
			vl_json_kbool(&j, "memory", s[i].with_memory);
			vl_json_obj_end(&j);
		}
		vl_json_arr_end(&j);
		fputs(vl_buf_str(&b), stdout);
		vl_buf_release(&b);
	} else {
		printf("%-24s %-20s %4s  %s\n", "NAME", "CREATED", "VMS", "STATE");
		for (size_t i = 0; i < n; i++) {
			char when[32];
			struct tm tm;
			localtime_r(&s[i].created, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			printf("%-24s %-20s %4zu  %s\n", s[i].name, when, s[i].n_vms,
			       s[i].with_memory ? "running (memory)" : "disk only");
		}
	}
	vl_snap_info_free(s, n);
	return 0;
}

/* --vm a,b,c into a selection; the strings live in *buf. */
static void split_vms(const char *arg, char **buf, char ***names, size_t *n)
{
	size_t cap = 1;

	*buf = vl_strdup(arg);
	for (const char *p = arg; *p; p++)
		cap += *p == ',';
	*names = vl_calloc(cap, sizeof(char *));
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(*buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		(*names)[(*n)++] = tok;
}

static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	(void)ctx;
	if (vl_args_has(a, "vm") && !vl_streq(a->sub->name, "save"))
		return vl_err_set(err, VL_E_USAGE, "snapshot %s: --vm goes with save", a->sub->name);
	if (vl_args_has(a, "json") && !vl_streq(a->sub->name, "list"))
		return vl_err_set(err, VL_E_USAGE, "snapshot %s: --json goes with list", a->sub->name);
	return a->npos > 1 ? vl_lab_snapshot_name_check(a->pos[1], err) : 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const char *verb = a->sub->name;
	const char *name = a->npos > 1 ? a->pos[1] : NULL;

	if (vl_streq(verb, "list"))
		return list(ctx, ctx->json || vl_args_has(a, "json"), err);
	if (vl_streq(verb, "save")) {
		VL_AUTOFREE char *buf = NULL;
		VL_AUTOFREE char **names = NULL;
		struct vl_lab_sel sel = { NULL, 0 };
		const char *vms = vl_args_get(a, "vm");
		if (vms) {
			split_vms(vms, &buf, &names, &sel.n);
			sel.names = names;
		}
		return vl_lab_snapshot_save(ctx, name, &sel, err);
	}
	if (vl_streq(verb, "restore"))
		return vl_lab_snapshot_restore(ctx, name, err);
	return vl_lab_snapshot_delete(ctx, name, err);
}

const struct vl_cmd vl_cmd_snapshot = {
	.name = "snapshot",
	.alias = "snap",
	.usage = "snapshot save NAME [--vm VM,...] | list [--json] | restore NAME | delete NAME",
	.summary = "manage lab snapshots",
	.description =
		"A lab snapshot NAME is one libvirt snapshot NAME on every VM of the lab, taken\n"
		"with the lab's running VMs paused so the set is consistent; running VMs keep\n"
		"their memory, so restore brings back running state as well as disks.\n"
		"delete removes snapshot NAME from every VM that has it. 'vmlab rollback'\n"
		"restores the newest.",
	.opts = opts,
	.subs = subs,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT,
	.check_args = check_args,
	.run = run,
};
