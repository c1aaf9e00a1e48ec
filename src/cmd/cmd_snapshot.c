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
	{ "vm", 0, VL_OPT_VALUE, "VM[,VM...]", "save: only these VMs" },
	{ "json", 0, VL_OPT_FLAG, NULL, "list: machine-readable output" },
	VL_OPT_END,
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

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const char *verb = a->pos[0];
	const char *name = a->npos > 1 ? a->pos[1] : NULL;

	if (vl_streq(verb, "list") || vl_streq(verb, "ls")) {
		if (name)
			return vl_err_set(err, VL_E_USAGE, "usage: vmlab snapshot list [--json]");
		return list(ctx, ctx->json || vl_args_has(a, "json"), err);
	}
	if (!name)
		return vl_err_set(err, VL_E_USAGE, "usage: vmlab snapshot %s NAME", verb);
	if (vl_streq(verb, "save") || vl_streq(verb, "create")) {
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
	if (vl_streq(verb, "restore") || vl_streq(verb, "revert"))
		return vl_lab_snapshot_restore(ctx, name, err);
	if (vl_streq(verb, "delete") || vl_streq(verb, "rm"))
		return vl_lab_snapshot_delete(ctx, name, err);
	return vl_err_set(err, VL_E_USAGE, "snapshot: unknown action '%s'; use save, list, restore or delete",
			  verb);
}

const struct vl_cmd vl_cmd_snapshot = {
	.name = "snapshot",
	.alias = "snap",
	.usage = "snapshot save NAME [--vm VM,...] | list [--json] | restore NAME | delete NAME",
	.summary = "manage lab snapshots",
	.description =
		"A lab snapshot NAME is one libvirt snapshot NAME on every VM of the lab, taken\n"
		"with the lab's running VMs paused so the set is consistent; running VMs keep\n"
		"their memory, so restore brings back running state as well as disks.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT,
	.min_args = 1,
	.max_args = 2,
	.run = run,
};
