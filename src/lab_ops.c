/* status, halt and destroy: read state from libvirt (the source of truth),
 * shut VMs down (ACPI, then force), and remove everything a lab created. */
#include "host.h"
#include "lab_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

static char *lab_prefix(const struct lab *lab)
{
	return vl_name_domain(lab->plan.lab_id, "");
}

/* Changed since the newest snapshot: the record snapshot save and restore
 * wrote against what the domain is now (snapmark.h). */
static int vm_changed(struct vl_ctx *ctx, const char *domain, enum vl_changed *out,
		      struct vl_err *err)
{
	VL_AUTOFREE char *xml = NULL;
	struct vl_snapmark mark;
	struct vl_snapmark_now now = { -1, false, 0 };

	*out = VL_CHANGED_UNKNOWN;
	if (vl_virt_domain_get_metadata(ctx->host->virt, domain, VL_SNAPMARK_NS, &xml, err) < 0 ||
	    vl_virt_domain_writes(ctx->host->virt, domain, &now.boot, &now.has_wr, &now.wr, err) < 0)
		return -1;
	vl_snapmark_parse(xml, &mark);
	*out = vl_snapmark_changed(&mark, &now);
	return 0;
}

int vl_lab_status(struct vl_ctx *ctx, struct vl_lab_status *st, struct vl_err *err)
{
	struct lab lab;
	bool net_exists = false, net_active = false;

	*st = (struct vl_lab_status){ 0 };
	if (lab_open(&lab, ctx, 0, NULL, err) < 0)
		return -1;
	if (lab_network_info(&lab, &net_exists, &net_active, err) < 0)
		goto fail;
	st->lab_name = vl_strdup(lab.plan.lab_name);
	st->lab_id = vl_strdup(lab.plan.lab_id);
	st->network = vl_strdup(lab.plan.network);
	st->subnet = vl_strdup(lab.plan.subnet_str);
	st->network_active = net_active;
	st->vms = vl_calloc(lab.plan.n_vms + 1, sizeof(*st->vms));
	for (size_t i = 0; i < lab.plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &lab.plan.vms[i];
		struct vl_vm_status *s = &st->vms[st->n_vms++];
		struct vl_virt_dominfo info;
		struct vl_virt_snap *snaps = NULL;

		s->name = vl_strdup(vm->name);
		s->domain = vl_strdup(vm->domain);
		s->mac = vl_strdup(vm->mac);
		s->image = vl_strdup(vm->image);
		s->cpus = vm->cpus;
		s->memory = vm->memory;
		s->state = lab_vm_state(&lab, vm, err);
		if (err->code != VL_OK)
			goto fail;
		if (s->state == VL_VM_MISSING)
			continue;
		/* a VM that exists has the address its network reserves for it */
		s->ip = vl_strdup(vm->ip_str);
		if (vl_virt_domain_info(ctx->host->virt, vm->domain, &info, err) < 0)
			goto fail;
		s->cpus = info.vcpus;
		s->memory = info.max_memory_kib << 10;
		if (vl_virt_snapshot_list(ctx->host->virt, vm->domain, &snaps, &s->n_snapshots, err) < 0)
			goto fail;
		vl_virt_snap_list_free(snaps, s->n_snapshots);
		if (vm_changed(ctx, vm->domain, &s->changed, err) < 0)
			goto fail;
	}
	if (lab_held_status_forwards(&lab, &st->forwards, &st->n_forwards, err) < 0)
		goto fail;
	lab_close(&lab);
	return 0;
fail:
	lab_close(&lab);
	vl_lab_status_release(st);
	return -1;
}

void vl_lab_status_release(struct vl_lab_status *st)
{
	for (size_t i = 0; i < st->n_vms; i++) {
		struct vl_vm_status *s = &st->vms[i];
		free(s->name);
		free(s->domain);
		free(s->ip);
		free(s->mac);
		free(s->image);
	}
	free(st->vms);
	vl_fwd_info_free(st->forwards, st->n_forwards);
	free(st->lab_name);
	free(st->lab_id);
	free(st->network);
	free(st->subnet);
	*st = (struct vl_lab_status){ 0 };
}

static int wait_shutoff(struct lab *lab, const struct vl_plan_vm *vm, unsigned timeout_s,
			bool *off, struct vl_err *err)
{
	struct timespec nap = { 0, 250 * 1000 * 1000 };

	for (unsigned waited = 0; waited < timeout_s * 4; waited++) {
		if (vl_cancelled(&lab->ctx->events))
			return vl_err_set(err, VL_E_CANCELLED, "%s: cancelled while waiting for it to "
					  "shut down", vm->name);
		enum vl_vm_state s = lab_vm_state(lab, vm, err);
		if (err->code != VL_OK)
			return -1;
		if (s == VL_VM_SHUTOFF || s == VL_VM_MISSING) {
			*off = true;
			return 0;
		}
		nanosleep(&nap, NULL);
	}
	*off = false;
	return 0;
}

int lab_halt_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct vl_virt *v = lab->ctx->host->virt;
	unsigned timeout = lab->ctx->config.halt_timeout;
	enum vl_vm_state s = lab_vm_state(lab, vm, err);
	bool off = false;
	(void)ud;

	if (err->code != VL_OK)
		return -1;
	if (s == VL_VM_MISSING || s == VL_VM_SHUTOFF)
		return 0;
	if (s == VL_VM_PAUSED && vl_virt_domain_resume(v, vm->domain, err) < 0)
		return -1;
	vl_event_info(&lab->ctx->events, vm->name, "shutting down");
	if (vl_virt_domain_shutdown(v, vm->domain, err) < 0)
		return -1;
	if (wait_shutoff(lab, vm, timeout, &off, err) < 0)
		return -1;
	if (!off) {
		vl_event_warn(&lab->ctx->events, vm->name,
			      "did not shut down within %u s; forcing it off", timeout);
		if (vl_virt_domain_destroy(v, vm->domain, err) < 0)
			return -1;
	}
	vl_event_info(&lab->ctx->events, vm->name, "halted");
	return 0;
}

int vl_lab_halt(struct vl_ctx *ctx, const struct vl_lab_sel *sel, struct vl_err *err)
{
	struct lab lab;
	int rc;

	if (lab_open(&lab, ctx, LAB_LOCK, sel, err) < 0)
		return -1;
	/* sessions and forwards end before the guests do */
	lab_held_stop(&lab);
	rc = lab_for_each_vm(&lab, (unsigned)lab.plan.n_vms, lab_halt_vm, NULL, "halt", err);
	lab_close(&lab);
	return rc;
}

/* Remove one domain and its volumes; every step tolerates "already gone". */
int lab_destroy_domain(struct vl_ctx *ctx, const char *domain, struct vl_err *err)
{
	struct vl_virt *v = ctx->host->virt;
	const char *pool = ctx->config.pool_name;
	VL_AUTOFREE char *disk = vl_name_disk(domain), *seed = vl_name_seed(domain);
	VL_AUTOFREE char *log = NULL;

	if (vl_virt_domain_destroy(v, domain, err) < 0 || vl_virt_domain_undefine(v, domain, err) < 0 ||
	    vl_virt_volume_delete(v, pool, disk, err) < 0 ||
	    vl_virt_volume_delete(v, pool, seed, err) < 0)
		return -1;
	/* virtlogd writes it on the libvirt host: ours to remove only when the
	 * daemon sees our files */
	log = lab_serial_log_for(ctx, domain);
	if (ctx->host->files_local)
		unlink(log);
	return 0;
}

static int destroy_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct vl_buf tmp = VL_BUF_INIT;

	(void)ud;
	if (lab_destroy_domain(lab->ctx, vm->domain, err) < 0)
		return -1;
	/* an up killed while it uploaded the seed left its ISO, which holds
	 * the VM's host private key (lab_up.c: create_seed) */
	vl_buf_printf(&tmp, "%s/%s.tmp", lab->state_dir, vm->seed_volume);
	unlink(tmp.s);
	vl_buf_release(&tmp);
	vl_event_info(&lab->ctx->events, vm->name, "destroyed");
	return 0;
}

/* After a whole-lab destroy, also what the profile no longer names: domains
 * and volumes of VMs removed from vmlab.ini, then the network. */
static int destroy_leftovers(struct lab *lab, struct vl_err *err)
{
	struct vl_virt *v = lab->ctx->host->virt;
	VL_AUTOFREE char *prefix = lab_prefix(lab);
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	struct vl_virt_dom *doms = NULL;

	if (vl_virt_domain_list(v, prefix, &doms, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = lab_destroy_domain(lab->ctx, doms[i].name, err);
	vl_virt_dom_list_free(doms, n);
	if (rc < 0)
		return -1;
	if (vl_virt_volume_list(v, lab->ctx->config.pool_name, prefix, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = vl_virt_volume_delete(v, lab->ctx->config.pool_name, names[i], err);
	vl_virt_name_list_free(names, n);
	return rc;
}

int vl_lab_destroy(struct vl_ctx *ctx, const struct vl_lab_sel *sel, struct vl_err *err)
{
	VL_AUTOFREE char *prefix = NULL;
	struct lab lab;
	struct vl_virt_dom *left = NULL;
	size_t n_left = 0;
	bool exists;
	int rc = -1;

	if (lab_open(&lab, ctx, LAB_LOCK, sel, err) < 0)
		return -1;
	lab_held_stop(&lab);
	/* a pool that was never made holds nothing of ours */
	if (vl_virt_pool_exists(ctx->host->virt, ctx->config.pool_name, &exists, err) < 0)
		goto out;
	if (exists && vl_virt_pool_refresh(ctx->host->virt, &ctx->events, ctx->config.pool_name, err) < 0)
		goto out;
	if (lab_for_each_vm(&lab, (unsigned)lab.plan.n_vms, destroy_vm, NULL, "destroy", err) < 0)
		goto out;
	if ((!sel || sel->n == 0) && exists && destroy_leftovers(&lab, err) < 0)
		goto out;
	prefix = lab_prefix(&lab);
	if (vl_virt_domain_list(ctx->host->virt, prefix, &left, &n_left, err) < 0)
		goto out;
	vl_virt_dom_list_free(left, n_left);
	if (n_left == 0) {
		if (vl_virt_network_destroy_undefine(ctx->host->virt, lab.plan.network, err) < 0)
			goto out;
		vl_event_info(&ctx->events, NULL, "lab %s destroyed", lab.plan.lab_name);
	}
	rc = 0;
out:
	lab_close(&lab);
	return rc;
}
