/* vmlab status [--json]: every VM of the lab, read from libvirt. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "lab.h"
#include "util/buf.h"
#include "util/json.h"

static const struct vl_opt opts[] = {
	{ "json", 0, VL_OPT_FLAG, NULL, "machine-readable output (see vmlab(1))" },
	VL_OPT_END,
};

static void print_json(const struct vl_lab_status *st)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, true);
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "lab", st->lab_name);
	vl_json_kstr(&j, "id", st->lab_id);
	vl_json_key(&j, "network");
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "name", st->network);
	vl_json_kstr(&j, "subnet", st->subnet);
	vl_json_kbool(&j, "active", st->network_active);
	vl_json_obj_end(&j);
	vl_json_key(&j, "vms");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vl_vm_status *s = &st->vms[i];
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "name", s->name);
		vl_json_kstr(&j, "domain", s->domain);
		vl_json_kstr(&j, "state", vl_vm_state_name(s->state));
		vl_json_kstr(&j, "ip", s->ip);
		vl_json_kstr(&j, "mac", s->mac);
		vl_json_kuint(&j, "cpus", s->cpus);
		vl_json_kuint(&j, "memory_mib", s->memory >> 20);
		vl_json_kstr(&j, "image", s->image);
		vl_json_kuint(&j, "snapshots", s->n_snapshots);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_obj_end(&j);
	fputs(vl_buf_str(&b), stdout);
	vl_buf_release(&b);
}

static void print_table(const struct vl_lab_status *st)
{
	printf("lab %s (%s), network %s %s%s\n", st->lab_name, st->lab_id, st->network, st->subnet,
	       st->network_active ? "" : " (not created)");
	printf("%-20s %-12s %-15s %4s %8s %5s  %s\n", "VM", "STATE", "IP", "CPUS", "MEMORY", "SNAPS",
	       "IMAGE");
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vl_vm_status *s = &st->vms[i];
		char mem[32];
		snprintf(mem, sizeof(mem), "%llu MiB", (unsigned long long)(s->memory >> 20));
		printf("%-20s %-12s %-15s %4u %8s %5zu  %s\n", s->name, vl_vm_state_name(s->state),
		       s->ip ? s->ip : "-", s->cpus, mem, s->n_snapshots, s->image);
	}
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_lab_status st;

	if (vl_lab_status(ctx, &st, err) < 0)
		return -1;
	if (ctx->json || vl_args_has(a, "json"))
		print_json(&st);
	else
		print_table(&st);
	vl_lab_status_release(&st);
	return 0;
}

const struct vl_cmd vl_cmd_status = {
	.name = "status",
	.alias = "st",
	.usage = "status [--json]",
	.summary = "show the lab's VMs, state, IPs",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT,
	.run = run,
};
