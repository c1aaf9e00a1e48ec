/* vmlab status [--all] [--json]: every VM of the lab, or every lab on the
 * connection with its VMs (no profile needed), read from libvirt. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "cmd/status_watch.h"
#include "lab.h"
#include "util/buf.h"
#include "util/json.h"

static const struct vl_opt opts[] = {
	{ "all", 0, VL_OPT_FLAG, NULL, "every lab on the libvirt connection (no vmlab.ini needed)" },
	{ "json", 0, VL_OPT_FLAG, NULL, "machine-readable output (see vmlab(1))" },
	{ "watch", 'w', VL_OPT_FLAG, NULL, "then print each change as libvirt reports it, until Ctrl-C" },
	VL_OPT_END,
};

/* --all lists what libvirt has: vmlab.conf for the URI, no profile */
static const struct vl_opt_flags opt_flags[] = {
	{ "all", VL_CMD_NEEDS_LIBVIRT },
	VL_OPT_FLAGS_END,
};

/* The fields a VM has in both documents (status and status --all); the
 * caller closes the object after adding its own. */
static void vm_json_open(struct vl_json *j, const char *name, const char *domain,
			 enum vl_vm_state state, const char *ip, const char *mac, unsigned cpus,
			 uint64_t memory)
{
	vl_json_obj_begin(j);
	vl_json_kstr(j, "name", name);
	vl_json_kstr(j, "domain", domain);
	vl_json_kstr(j, "state", vl_vm_state_name(state));
	vl_json_kstr(j, "ip", ip);
	vl_json_kstr(j, "mac", mac);
	vl_json_kuint(j, "cpus", cpus);
	vl_json_kuint(j, "memory_mib", memory >> 20);
}

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
		vm_json_open(&j, s->name, s->domain, s->state, s->ip, s->mac, s->cpus, s->memory);
		vl_json_kstr(&j, "image", s->image);
		vl_json_kuint(&j, "snapshots", s->n_snapshots);
		vl_json_kstr(&j, "changed", vl_changed_name(s->changed));
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_key(&j, "forwards");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < st->n_forwards; i++) {
		const struct vl_fwd_info *f = &st->forwards[i];
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "vm", f->vm);
		vl_json_kstr(&j, "bind", f->spec.bind);
		vl_json_kuint(&j, "local", f->spec.local);
		vl_json_kuint(&j, "remote", f->spec.remote);
		vl_json_kstr(&j, "origin", f->from_profile ? "profile" : "command");
		vl_json_kbool(&j, "active", f->active);
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
	printf("%-20s %-12s %-15s %4s %8s %5s %7s  %s\n", "VM", "STATE", "IP", "CPUS", "MEMORY",
	       "SNAPS", "CHANGED", "IMAGE");
	for (size_t i = 0; i < st->n_vms; i++) {
		const struct vl_vm_status *s = &st->vms[i];
		char mem[32];
		snprintf(mem, sizeof(mem), "%llu MiB", (unsigned long long)(s->memory >> 20));
		printf("%-20s %-12s %-15s %4u %8s %5zu %7s  %s\n", s->name, vl_vm_state_name(s->state),
		       s->ip ? s->ip : "-", s->cpus, mem, s->n_snapshots,
		       s->changed == VL_CHANGED_UNKNOWN ? "-" : vl_changed_name(s->changed), s->image);
	}
	for (size_t i = 0; i < st->n_forwards; i++) {
		const struct vl_fwd_info *f = &st->forwards[i];
		char what[64];
		vl_fwd_format(&f->spec, what, sizeof(what));
		printf("forward %s %s (%s%s)\n", f->vm, what, f->from_profile ? "profile" : "command",
		       f->active ? "" : ", not active");
	}
}

/* { "labs": [ { "lab", "id", "project", "owner": { "machine", "user" } | null,
 *     "mine", "network": { "name", "subnet", "exists", "active" },
 *     "vms": [ { "name", "domain", "state", "ip", "mac", "cpus", "memory_mib", "changed" } ] } ] } */
static void print_all_json(const struct vl_lab_summary *labs, size_t n)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, true);
	vl_json_obj_begin(&j);
	vl_json_key(&j, "labs");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		const struct vl_lab_summary *l = &labs[i];
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "lab", l->name);
		vl_json_kstr(&j, "id", l->id);
		vl_json_kstr(&j, "project", l->project);
		vl_json_key(&j, "owner");
		if (l->owner_machine || l->owner_user) {
			vl_json_obj_begin(&j);
			vl_json_kstr(&j, "machine", l->owner_machine);
			vl_json_kstr(&j, "user", l->owner_user);
			vl_json_obj_end(&j);
		} else {
			vl_json_null(&j);
		}
		vl_json_kbool(&j, "mine", l->mine);
		vl_json_key(&j, "network");
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "name", l->network);
		vl_json_kstr(&j, "subnet", l->subnet);
		vl_json_kbool(&j, "exists", l->network_exists);
		vl_json_kbool(&j, "active", l->network_active);
		vl_json_obj_end(&j);
		vl_json_key(&j, "vms");
		vl_json_arr_begin(&j);
		for (size_t k = 0; k < l->n_vms; k++) {
			const struct vl_vm_summary *s = &l->vms[k];
			vm_json_open(&j, s->name, s->domain, s->state, s->ip, s->mac, s->cpus, s->memory);
			vl_json_kstr(&j, "changed", vl_changed_name(s->changed));
			vl_json_obj_end(&j);
		}
		vl_json_arr_end(&j);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_obj_end(&j);
	fputs(vl_buf_str(&b), stdout);
	vl_buf_release(&b);
}

/* One block per lab, like `vagrant global-status`, then the totals. */
static void print_all_table(const struct vl_lab_summary *labs, size_t n)
{
	size_t vms = 0, running = 0;

	for (size_t i = 0; i < n; i++) {
		const struct vl_lab_summary *l = &labs[i];
		printf("%slab %s (%s), project %s\n", i ? "\n" : "", l->name, l->id,
		       l->project ? l->project : "-");
		printf("network %s %s%s\n", l->network, l->subnet ? l->subnet : "",
		       !l->network_exists ? "(not created)" : l->network_active ? "" : " (inactive)");
		if (!l->mine)
			printf("owner %s on machine %s (not this user or machine)\n",
			       l->owner_user ? l->owner_user : "?", l->owner_machine ? l->owner_machine : "?");
		if (l->n_vms == 0) {
			printf("no VMs\n");
			continue;
		}
		printf("%-20s %-12s %-15s %4s %8s\n", "VM", "STATE", "IP", "CPUS", "MEMORY");
		for (size_t k = 0; k < l->n_vms; k++) {
			const struct vl_vm_summary *s = &l->vms[k];
			char mem[32];
			snprintf(mem, sizeof(mem), "%llu MiB", (unsigned long long)(s->memory >> 20));
			printf("%-20s %-12s %-15s %4u %8s\n", s->name, vl_vm_state_name(s->state),
			       s->ip ? s->ip : "-", s->cpus, mem);
			vms++;
			running += s->state == VL_VM_RUNNING;
		}
	}
	if (n == 0)
		printf("no vmlab labs on this libvirt connection\n");
	else
		printf("\n%zu lab%s, %zu VM%s, %zu running\n", n, n == 1 ? "" : "s", vms,
		       vms == 1 ? "" : "s", running);
}

static int run_all(struct vl_ctx *ctx, bool json, struct vl_err *err)
{
	struct vl_lab_summary *labs = NULL;
	size_t n = 0;

	if (vl_lab_list_all(ctx, &labs, &n, err) < 0)
		return -1;
	if (json)
		print_all_json(labs, n);
	else
		print_all_table(labs, n);
	vl_lab_summaries_free(labs, n);
	return 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_lab_status st;

	bool json = ctx->json || vl_args_has(a, "json");
	int rc = 0;

	if (vl_args_has(a, "all")) {
		if (vl_args_has(a, "watch")) {
			const char *uri = ctx->uri ? ctx->uri : ctx->config.uri;
			struct vl_watch_what w = { .uris = &uri, .n_uris = 1 };
			return vl_status_watch(ctx, &w, json, err);
		}
		return run_all(ctx, json, err);
	}
	if (vl_lab_status(ctx, &st, err) < 0)
		return -1;
	if (vl_args_has(a, "watch")) {
		const char *uri = ctx->uri ? ctx->uri : ctx->config.uri, *id = st.lab_id;
		struct vl_watch_what w = { .uris = &uri, .n_uris = 1, .lab_ids = &id, .n_labs = 1 };
		rc = vl_status_watch(ctx, &w, json, err);
	}
	else if (json)
		print_json(&st);
	else
		print_table(&st);
	vl_lab_status_release(&st);
	return rc;
}

const struct vl_cmd vl_cmd_status = {
	.name = "status",
	.alias = "st",
	.usage = "status [--all] [--json] [--watch]",
	.summary = "show the lab's VMs, state, IPs (--all: every lab)",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT,
	.opt_flags = opt_flags,
	.run = run,
};
