/* Opening a lab: lock the project, plan it against the subnets libvirt and
 * the host already use (keeping the lab's own network if it exists), and
 * pick the VMs a command acts on. Plus the parallel runner over VMs. */
#include "host.h"
#include "lab_priv.h"

#include <openssl/evp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostroutes.h"
#include "owner.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/parallel.h"
#include "util/str.h"

/* The subnets a new lab must not take: those of the libvirt host's networks
 * (asked from libvirt, so it holds for a remote host too), the host's routes
 * when the host is this machine, and those the host refused already (taken:
 * libvirt checks its routes when a network starts, VL_E_EXISTS, and up then
 * chooses again). */
static int gather_used_subnets(struct vl_host *h, const char *own_network,
			       const struct vl_subnet *taken, size_t n_taken, struct vl_subnet **used,
			       size_t *n_used, struct vl_subnet *own, bool *have_own,
			       struct vl_err *err)
{
	struct vl_virt_net *nets = NULL;
	struct vl_subnet *routes = NULL;
	size_t n_nets = 0, n_routes = 0, n = 0;

	*have_own = false;
	if (vl_virt_network_list(h->virt, NULL, &nets, &n_nets, err) < 0)
		return -1;
	/* this machine's routes are the host's only when its daemon runs in our
	 * network namespace (host.c) */
	if (h->routes_local && vl_hostroutes_read(NULL, &routes, &n_routes, err) < 0) {
		vl_virt_net_list_free(nets, n_nets);
		return -1;
	}
	*used = vl_calloc(n_nets + n_routes + n_taken + 1, sizeof(**used));
	for (size_t i = 0; i < n_nets; i++) {
		if (!nets[i].has_subnet)
			continue;
		if (vl_streq(nets[i].name, own_network)) {
			*own = nets[i].subnet;
			*have_own = true;
			continue;
		}
		(*used)[n++] = nets[i].subnet;
	}
	for (size_t i = 0; i < n_routes; i++) {
		/* our own lab's bridge route is not a conflict with itself */
		if (*have_own && routes[i].addr == own->addr && routes[i].prefix == own->prefix)
			continue;
		(*used)[n++] = routes[i];
	}
	for (size_t i = 0; i < n_taken; i++)
		(*used)[n++] = taken[i];
	*n_used = n;
	vl_virt_net_list_free(nets, n_nets);
	free(routes);
	return 0;
}

static int select_vms(struct lab *lab, const struct vl_lab_sel *sel, struct vl_err *err)
{
	lab->chosen = vl_calloc(lab->plan.n_vms ? lab->plan.n_vms : 1, sizeof(bool));
	lab->consoles = vl_calloc(lab->plan.n_vms ? lab->plan.n_vms : 1, sizeof(*lab->consoles));
	if (!sel || sel->n == 0) {
		for (size_t i = 0; i < lab->plan.n_vms; i++)
			lab->chosen[i] = true;
		return 0;
	}
	for (size_t s = 0; s < sel->n; s++) {
		bool found = false;
		for (size_t i = 0; i < lab->plan.n_vms; i++) {
			const struct vl_plan_vm *vm = &lab->plan.vms[i];
			/* "web" selects web-1..web-N as well as a VM named web */
			if (vl_streq(vm->name, sel->names[s]) || vl_streq(vm->spec_name, sel->names[s])) {
				lab->chosen[i] = true;
				found = true;
			}
		}
		if (!found)
			return vl_err_set(err, VL_E_NOTFOUND, "no VM '%s' in lab %s", sel->names[s],
					  lab->plan.lab_name);
	}
	return 0;
}

int lab_open(struct lab *lab, struct vl_ctx *ctx, unsigned flags, const struct vl_lab_sel *sel,
	     struct vl_err *err)
{
	VL_AUTOFREE struct vl_subnet *used = NULL;
	VL_AUTOFREE char *lab_id = NULL, *net = NULL;
	struct vl_buf dir = VL_BUF_INIT;
	const struct vl_profile *p = &ctx->profile;
	struct vl_subnet own;
	bool have_own;
	size_t n_used = 0;
	int rc = -1;

	*lab = (struct lab){ .ctx = ctx, .lock = VL_LOCK_INIT };
	if (p->instance && !vl_plan_instance_ok(p->instance)) {
		vl_err_set(err, VL_E_USAGE, "instance name '%s': use a-z, 0-9 and '-', at most 20 "
			   "characters", p->instance);
		goto out;
	}
	/* the instance's own state dir: .vmlab, or .vmlab/instances/NAME */
	lab->state_dir = vl_plan_state_dir(p->dir, p->instance);
	vl_buf_printf(&dir, "%s/.vmlab", p->dir);
	if (vl_dir_private_ensure(dir.s, err) < 0)
		goto out;
	if (p->instance) {
		vl_buf_append(&dir, "/instances");
		if (vl_dir_private_ensure(dir.s, err) < 0 ||
		    vl_dir_private_ensure(lab->state_dir, err) < 0)
			goto out;
	}
	if (flags & LAB_LOCK) {
		vl_buf_truncate(&dir, 0);
		vl_buf_printf(&dir, "%s/lock", lab->state_dir);
		if (vl_lock_take(&lab->lock, dir.s, 0, err) < 0)
			goto out;
	}
	lab_id = vl_plan_instance_id(p->name, p->dir, p->instance);
	net = vl_name_network(lab_id);
	if (gather_used_subnets(ctx->host, net, NULL, 0, &used, &n_used, &own, &have_own, err) < 0)
		goto out;
	struct vl_plan_opts popts = { used, n_used, have_own ? &own : NULL };
	if (vl_plan_build_opts(&lab->plan, &ctx->profile, &ctx->config, &popts, err) < 0)
		goto out;
	vl_owner_self(&lab->plan.owner_machine, &lab->plan.owner_user);
	/* the operation's events are about this lab (until lab_close) */
	if (!ctx->events.lab) {
		ctx->events.lab = lab->plan.lab_id;
		lab->named_events = true;
	}
	if ((flags & LAB_KEYS) && vl_keys_open(&lab->keys, lab->state_dir, err) < 0)
		goto out;
	if (select_vms(lab, sel, err) < 0)
		goto out;
	rc = 0;
out:
	vl_buf_release(&dir);
	if (rc < 0)
		lab_close(lab);
	return rc;
}

int lab_replan(struct lab *lab, struct vl_err *err)
{
	VL_AUTOFREE struct vl_subnet *used = NULL;
	struct vl_subnet own;
	struct vl_plan fresh;
	bool have_own;
	size_t n_used = 0;

	if (gather_used_subnets(lab->ctx->host, lab->plan.network, lab->taken, lab->n_taken, &used,
				&n_used, &own, &have_own, err) < 0)
		return -1;
	struct vl_plan_opts popts = { used, n_used, have_own ? &own : NULL };
	if (vl_plan_build_opts(&fresh, &lab->ctx->profile, &lab->ctx->config, &popts, err) < 0)
		return -1;
	vl_owner_self(&fresh.owner_machine, &fresh.owner_user);
	/* the same profile: the same VMs in the same order, so lab->chosen holds */
	vl_plan_release(&lab->plan);
	lab->plan = fresh;
	if (lab->named_events)
		lab->ctx->events.lab = lab->plan.lab_id;
	return 0;
}

int lab_alloc_lock(struct lab *lab, struct vl_lock *l, struct vl_err *err)
{
	struct vl_virt_host h;
	unsigned char md[32];
	unsigned int mdlen = 0;
	struct vl_buf path = VL_BUF_INIT;
	int rc;

	if (vl_virt_host_info(lab->ctx->host->virt, &h, err) < 0)
		return -1;
	if (EVP_Digest(h.uri, strlen(h.uri), md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();
	/* /run/lock (1777 on Debian) is cleared at boot; /tmp where it is missing */
	vl_buf_append(&path, access("/run/lock", W_OK | X_OK) == 0 ? "/run/lock" : "/tmp");
	vl_buf_append(&path, "/vmlab-alloc-");
	for (int i = 0; i < 8; i++)
		vl_buf_printf(&path, "%02x", md[i]);
	vl_buf_append(&path, ".lock");
	rc = vl_lock_take_shared(l, path.s, 300, err);
	vl_buf_release(&path);
	return rc;
}

void lab_close(struct lab *lab)
{
	for (size_t i = 0; lab->consoles && i < lab->plan.n_vms; i++)
		vl_virt_console_close(lab->consoles[i]);
	free(lab->consoles);
	lab->consoles = NULL;
	if (lab->named_events && lab->ctx) {
		lab->ctx->events.lab = NULL;
		lab->named_events = false;
	}
	vl_plan_release(&lab->plan);
	vl_keys_release(&lab->keys);
	vl_lock_release(&lab->lock);
	free(lab->taken);
	lab->taken = NULL;
	free(lab->state_dir);
	lab->state_dir = NULL;
	lab->n_taken = 0;
	free(lab->chosen);
	lab->chosen = NULL;
}

struct each {
	struct lab *lab;
	lab_vm_fn fn;
	void *ud;
	size_t *idx;
};

static int each_job(void *ud, size_t i, struct vl_err *err)
{
	struct each *e = ud;

	if (vl_cancelled(&e->lab->ctx->events))
		return vl_err_set(err, VL_E_CANCELLED, "cancelled");
	return e->fn(e->lab, &e->lab->plan.vms[e->idx[i]], e->ud, err);
}

int lab_for_each_vm(struct lab *lab, unsigned width, lab_vm_fn fn, void *ud, const char *what,
		    struct vl_err *err)
{
	VL_AUTOFREE size_t *idx = vl_calloc(lab->plan.n_vms + 1, sizeof(size_t));
	VL_AUTOFREE struct vl_err *errs = NULL;
	struct each e = { .lab = lab, .fn = fn, .ud = ud, .idx = idx };
	size_t n = 0, first = 0, failed = 0;

	for (size_t i = 0; i < lab->plan.n_vms; i++)
		if (lab->chosen[i])
			idx[n++] = i;
	if (n == 0)
		return 0;
	errs = vl_calloc(n, sizeof(*errs));
	if (vl_parallel_run(n, width, each_job, &e, errs, &first) == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (errs[i].code == VL_OK)
			continue;
		failed++;
		if (i != first)
			vl_event_warn(&lab->ctx->events, lab->plan.vms[idx[i]].name, "%s", errs[i].msg);
	}
	*err = errs[first];
	if (failed > 1)
		vl_err_prefix(err, "%s failed on %zu VMs; %s", what, failed,
			      lab->plan.vms[idx[first]].name);
	else
		vl_err_prefix(err, "%s", lab->plan.vms[idx[first]].name);
	return -1;
}

char *lab_serial_log_for(const struct vl_ctx *ctx, const char *domain)
{
	struct vl_buf p = VL_BUF_INIT;

	/* virtlogd writes it (as root); by default where libvirt keeps its own
	 * per-domain logs. destroy removes ours. */
	vl_buf_printf(&p, "%s/%s-serial.log", ctx->config.log_dir, domain);
	return vl_buf_steal(&p);
}

char *lab_serial_log_path(const struct lab *lab, const struct vl_plan_vm *vm)
{
	return lab_serial_log_for(lab->ctx, vm->domain);
}

enum vl_vm_state lab_vm_state_of(enum vl_dom_state st)
{
	switch (st) {
	case VL_DOM_MISSING: return VL_VM_MISSING;
	case VL_DOM_RUNNING: return VL_VM_RUNNING;
	case VL_DOM_PAUSED: return VL_VM_PAUSED;
	case VL_DOM_SHUTOFF: return VL_VM_SHUTOFF;
	case VL_DOM_CRASHED: return VL_VM_CRASHED;
	default: return VL_VM_OTHER;
	}
}

enum vl_vm_state lab_vm_state(const struct lab *lab, const struct vl_plan_vm *vm,
			      struct vl_err *err)
{
	enum vl_dom_state st;

	if (vl_virt_domain_state(lab->ctx->host->virt, vm->domain, &st, err) < 0)
		return VL_VM_OTHER;
	return lab_vm_state_of(st);
}

const char *vl_vm_state_name(enum vl_vm_state s)
{
	static const char *const names[] = {
		[VL_VM_MISSING] = "not created", [VL_VM_RUNNING] = "running",
		[VL_VM_PAUSED] = "paused", [VL_VM_SHUTOFF] = "shut off",
		[VL_VM_CRASHED] = "crashed", [VL_VM_OTHER] = "other",
	};
	return names[s];
}

void lab_ssh_target(const struct lab *lab, const struct vl_plan_vm *vm, struct vl_ssh_target *t,
		    char **host_pub_owned)
{
	*host_pub_owned = vl_keys_host_pub_path(&lab->keys, vm->name);
	*t = (struct vl_ssh_target){
		.host = vm->ip_str,
		.port = 22,
		.user = lab->plan.user,
		.identity_path = lab->keys.user_key,
		.host_pubkey_path = *host_pub_owned,
		.label = vm->name,
		.connect_timeout = 10,
		/* a guest restarting sshd (cloud-init does, late) or just reverted
		 * refuses for a moment: ssh, exec and provisioning ride it out */
		.retry_timeout = LAB_SSH_RETRY_S,
		.evs = &lab->ctx->events,
		/* a host reached over SSH: its lab networks are not routed here */
		.jump = lab->ctx->host ? lab->ctx->host->jump : NULL,
	};
}

int vl_lab_plan(struct vl_ctx *ctx, struct vl_plan *out, struct vl_err *err)
{
	struct lab lab;

	if (lab_open(&lab, ctx, 0, NULL, err) < 0)
		return -1;
	*out = lab.plan;                    /* hand the plan over */
	lab.plan = (struct vl_plan){ 0 };
	lab_close(&lab);
	return 0;
}

int lab_used_subnets(struct vl_host *h, const char *own_network, struct vl_subnet **used,
		     size_t *n_used, struct vl_subnet *own, bool *have_own, struct vl_err *err)
{
	return gather_used_subnets(h, own_network, NULL, 0, used, n_used, own, have_own, err);
}

int lab_network_info(const struct lab *lab, bool *exists, bool *active, struct vl_err *err)
{
	struct vl_virt_net *nets = NULL;
	size_t n = 0;

	*exists = *active = false;
	if (vl_virt_network_list(lab->ctx->host->virt, lab->plan.network, &nets, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (vl_streq(nets[i].name, lab->plan.network)) {
			*exists = true;
			*active = nets[i].active;
		}
	}
	vl_virt_net_list_free(nets, n);
	return 0;
}
