/* vmlab plan [--json]: show what `up` would create (names, network, MACs,
 * IPs, sizes), touching nothing; the JSON schema is in src/plan.c. */
#include "cmd/cmd.h"
#include "cmd/plan_print.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/size.h"

static const struct vl_opt opts[] = {
	{ "json", 0, VL_OPT_FLAG, NULL, "machine-readable output (same as the global --json)" },
	VL_OPT_END,
};

static void print_text(const struct vl_plan *plan)
{
	int wn = 4, wd = 6, wi = 2;
	char dhcp[40] = "none (every VM has a reservation)";

	if (plan->dhcp_start) {
		char a[VL_IPV4_STRLEN], b[VL_IPV4_STRLEN];
		vl_ipv4_format(plan->dhcp_start, a);
		vl_ipv4_format(plan->dhcp_end, b);
		snprintf(dhcp, sizeof(dhcp), "%s - %s", a, b);
	}
	printf("lab       %s (id %s)\n", plan->lab_name, plan->lab_id);
	printf("project   %s\n", plan->project_dir);
	printf("user      %s\n", plan->user);
	printf("network   %s (%s, bridge %s)\n", plan->network,
	       plan->mode == VL_NET_NAT ? "nat" : "isolated", plan->bridge);
	printf("subnet    %s, gateway %s, dhcp %s\n", plan->subnet_str, plan->gateway_str, dhcp);
	printf("\n");
	for (size_t i = 0; i < plan->n_vms; i++) {
		const struct vl_plan_vm *vm = &plan->vms[i];
		int l;
		if ((l = (int)strlen(vm->name)) > wn)
			wn = l;
		if ((l = (int)strlen(vm->domain)) > wd)
			wd = l;
		if ((l = (int)strlen(vm->ip_str)) > wi)
			wi = l;
	}
	printf("%-*s  %-*s  %-17s  %-*s  %4s  %9s  %9s  %s\n", wn, "NAME", wd, "DOMAIN", "MAC",
	       wi, "IP", "CPUS", "MEMORY", "DISK", "IMAGE");
	for (size_t i = 0; i < plan->n_vms; i++) {
		const struct vl_plan_vm *vm = &plan->vms[i];
		char mem[32], disk[32];
		vl_human_bytes_exact(mem, sizeof(mem), vm->memory);
		vl_human_bytes_exact(disk, sizeof(disk), vm->disk);
		printf("%-*s  %-*s  %-17s  %-*s  %4u  %9s  %9s  %s\n", wn, vm->name, wd, vm->domain,
		       vm->mac, wi, vm->ip_str, vm->cpus, mem, disk, vm->image ? vm->image : "-");
	}
}

void vl_cmd_print_plan(const struct vl_plan *plan, bool json)
{
	if (json) {
		struct vl_buf b = VL_BUF_INIT;
		vl_plan_to_json(plan, &b, true);
		fputs(vl_buf_str(&b), stdout);
		vl_buf_release(&b);
	} else {
		print_text(plan);
	}
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_plan plan;

	/* No libvirt: with no used subnets the choice is the lab's preferred
	 * one; `up` and `up --dry-run` pass the host's networks and routes. */
	if (vl_plan_build(&plan, &ctx->profile, &ctx->config, NULL, 0, err) < 0)
		return -1;
	vl_cmd_print_plan(&plan, ctx->json || vl_args_has(a, "json"));
	vl_plan_release(&plan);
	return 0;
}

const struct vl_cmd vl_cmd_plan = {
	.name = "plan",
	.usage = "plan [--json]",
	.summary = "show what 'up' would create, touching nothing",
	.description = "Prints the lab id, network, bridge, subnet and, per VM, the libvirt domain\n"
		       "name, MAC and IP address that 'vmlab up' would use. Nothing is created and\n"
		       "libvirt is not contacted, so for 'subnet = auto' the subnet shown is the\n"
		       "lab's first choice; 'up' skips subnets already in use on the host.\n"
		       "Problems (addresses, unknown images) are reported as with 'validate'.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_CHECK_LAB,
	.max_args = 0,
	.run = run,
};
