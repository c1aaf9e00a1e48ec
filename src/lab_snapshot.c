/* Lab snapshots: one libvirt internal snapshot NAME on every VM, taken
 * while all the lab's running VMs are paused so the set is consistent
 * (memory included for running VMs), and restored the same way. */
#include "host.h"
#include "lab_priv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "snapmark.h"
#include "util/mem.h"
#include "util/str.h"

int vl_lab_snapshot_name_check(const char *name, struct vl_err *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64 || name[0] == '-' || name[0] == '.')
		goto bad;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			goto bad;
	return 0;
bad:
	return vl_err_set(err, VL_E_USAGE,
			  "snapshot name '%s': use letters, digits, '.', '_' and '-' (at most 64, "
			  "not starting with '-' or '.')", name);
}

/* Record what the VM is now (snapmark.h): called with the lab paused right
 * after its snapshot is taken or restored. A VM whose record cannot be
 * written loses any older one (unknown beats a wrong "unchanged"). */
static void mark_vm(struct lab *lab, const struct vl_plan_vm *vm, bool clear)
{
	struct vl_virt *v = lab->ctx->host->virt;
	struct vl_err err = VL_ERR_INIT, ignore = VL_ERR_INIT;
	struct vl_snapmark m = { .known = true };
	VL_AUTOFREE char *xml = NULL;

	if (!clear) {
		bool has_wr = false;
		if (vl_virt_domain_writes(v, vm->domain, &m.boot, &has_wr, &m.wr, &err) == 0 &&
		    (m.boot < 0 || has_wr))
			xml = vl_snapmark_format(&m);
	}
	if (xml && vl_virt_domain_set_metadata(v, vm->domain, VL_SNAPMARK_NS, VL_SNAPMARK_KEY, xml,
					       &err) == 0)
		return;
	vl_virt_domain_set_metadata(v, vm->domain, VL_SNAPMARK_NS, NULL, NULL, &ignore);
	if (err.code != VL_OK)
		vl_event_warn(&lab->ctx->events, vm->name, "changes since the snapshot unknown: %s",
			      err.msg);
}

static int mark_vm_fn(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	(void)ud;
	(void)err;
	mark_vm(lab, vm, false);
	return 0;
}

struct snap_job {
	const char *name;
	bool *paused_by_us;     /* per plan VM */
	bool *created;          /* per plan VM */
	bool *was_active;       /* per plan VM */
};

static int require_created(struct lab *lab, const struct vl_plan_vm *vm, void *ud,
			   struct vl_err *err)
{
	enum vl_vm_state s = lab_vm_state(lab, vm, err);
	(void)ud;

	if (err->code != VL_OK)
		return -1;
	if (s == VL_VM_MISSING)
		return vl_err_set(err, VL_E_FAIL, "not created; run 'vmlab up' first");
	return vl_virt_domain_supports_internal_snapshot(lab->ctx->host->virt, vm->domain, err);
}

static int pause_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct snap_job *j = ud;
	size_t i = (size_t)(vm - lab->plan.vms);
	enum vl_vm_state s = lab_vm_state(lab, vm, err);

	if (err->code != VL_OK)
		return -1;
	j->was_active[i] = s == VL_VM_RUNNING || s == VL_VM_PAUSED;
	if (s != VL_VM_RUNNING)
		return 0;
	if (vl_virt_domain_suspend(lab->ctx->host->virt, vm->domain, err) < 0)
		return -1;
	j->paused_by_us[i] = true;
	return 0;
}

static int resume_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct snap_job *j = ud;
	size_t i = (size_t)(vm - lab->plan.vms);

	if (!j->paused_by_us[i])
		return 0;
	j->paused_by_us[i] = false;
	return vl_virt_domain_resume(lab->ctx->host->virt, vm->domain, err);
}

static int create_vm_snap(struct lab *lab, const struct vl_plan_vm *vm, void *ud,
			  struct vl_err *err)
{
	struct snap_job *j = ud;
	size_t i = (size_t)(vm - lab->plan.vms);
	bool exists;

	if (vl_virt_snapshot_exists(lab->ctx->host->virt, vm->domain, j->name, &exists, err) < 0)
		return -1;
	if (exists)
		return vl_err_set(err, VL_E_EXISTS, "already has a snapshot '%s'", j->name);
	VL_AUTOFREE char *xml = vl_render_snapshot(j->name, "vmlab lab snapshot", j->was_active[i], err);
	if (!xml)
		return -1;
	if (vl_virt_snapshot_create(lab->ctx->host->virt, vm->domain, xml, VL_SNAP_CREATE_ATOMIC, err) < 0) {
		/* a running VM's snapshot holds its memory: up to all of it */
		VL_AUTOFREE char *what = vl_strfmt("snapshot '%s' of %s", j->name, vm->name);
		return lab_pool_full(lab->ctx, what, j->was_active[i] ? vm->memory : 0, err);
	}
	j->created[i] = true;
	return 0;
}

static int undo_vm_snap(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct snap_job *j = ud;
	size_t i = (size_t)(vm - lab->plan.vms);

	if (!j->created[i])
		return 0;
	return vl_virt_snapshot_delete(lab->ctx->host->virt, vm->domain, j->name, err);
}

int vl_lab_snapshot_save(struct vl_ctx *ctx, const char *name, const struct vl_lab_sel *sel,
			 struct vl_err *err)
{
	struct lab lab;
	struct vl_err ignore = VL_ERR_INIT;
	int rc = -1;

	if (vl_lab_snapshot_name_check(name, err) < 0 || lab_open(&lab, ctx, LAB_LOCK, sel, err) < 0)
		return -1;
	size_t n = lab.plan.n_vms + 1;
	VL_AUTOFREE bool *paused = vl_calloc(n, sizeof(bool));
	VL_AUTOFREE bool *created = vl_calloc(n, sizeof(bool));
	VL_AUTOFREE bool *active = vl_calloc(n, sizeof(bool));
	struct snap_job j = { name, paused, created, active };
	unsigned all = (unsigned)lab.plan.n_vms;

	if (lab_for_each_vm(&lab, all, require_created, NULL, "snapshot", err) < 0)
		goto out;
	if (lab_for_each_vm(&lab, all, pause_vm, &j, "snapshot", err) < 0)
		goto resume;
	if (lab_for_each_vm(&lab, all, create_vm_snap, &j, "snapshot", err) < 0) {
		lab_for_each_vm(&lab, all, undo_vm_snap, &j, "snapshot", &ignore);
		goto resume;
	}
	lab_for_each_vm(&lab, all, mark_vm_fn, NULL, "snapshot", &ignore);
	rc = 0;
resume:
	if (lab_for_each_vm(&lab, all, resume_vm, &j, "resume", rc == 0 ? err : &ignore) < 0)
		rc = -1;
	if (rc == 0)
		vl_event_info(&ctx->events, NULL, "snapshot '%s' saved", name);
out:
	lab_close(&lab);
	return rc;
}

static int cmp_created(const void *a, const void *b)
{
	const struct vl_snap_info *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Merge every VM's snapshots by name into lab snapshots. */
static int collect(struct lab *lab, struct vl_snap_info **out, size_t *n_out, struct vl_err *err)
{
	struct vl_snap_info *all = NULL;
	size_t n = 0;

	for (size_t i = 0; i < lab->plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &lab->plan.vms[i];
		struct vl_virt_snap *snaps = NULL;
		size_t ns = 0;
		enum vl_vm_state s = lab_vm_state(lab, vm, err);

		if (err->code != VL_OK)
			goto fail;
		if (s == VL_VM_MISSING)
			continue;
		if (vl_virt_snapshot_list(lab->ctx->host->virt, vm->domain, &snaps, &ns, err) < 0)
			goto fail;
		for (size_t k = 0; k < ns; k++) {
			size_t m;
			for (m = 0; m < n && !vl_streq(all[m].name, snaps[k].name); m++)
				;
			if (m == n) {
				all = vl_realloc(all, (n + 1) * sizeof(*all));
				all[n++] = (struct vl_snap_info){ .name = vl_strdup(snaps[k].name),
								  .created = (time_t)snaps[k].created };
			}
			all[m].n_vms++;
			all[m].with_memory |= snaps[k].state == VL_DOM_RUNNING ||
					      snaps[k].state == VL_DOM_PAUSED;
			if ((time_t)snaps[k].created > all[m].created)
				all[m].created = (time_t)snaps[k].created;
		}
		vl_virt_snap_list_free(snaps, ns);
	}
	if (n)
		qsort(all, n, sizeof(*all), cmp_created);
	*out = all;
	*n_out = n;
	return 0;
fail:
	vl_snap_info_free(all, n);
	return -1;
}

int vl_lab_snapshot_list(struct vl_ctx *ctx, struct vl_snap_info **out, size_t *n,
			 struct vl_err *err)
{
	struct lab lab;
	int rc;

	if (lab_open(&lab, ctx, 0, NULL, err) < 0)
		return -1;
	rc = collect(&lab, out, n, err);
	lab_close(&lab);
	return rc;
}

void vl_snap_info_free(struct vl_snap_info *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].name);
	free(s);
}

struct revert_job {
	const char *name;
	bool *run_after;        /* per plan VM: was running when snapshotted */
	bool *has;              /* per plan VM: has the snapshot */
};

static int revert_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct revert_job *j = ud;
	size_t i = (size_t)(vm - lab->plan.vms);

	if (!j->has[i]) {
		mark_vm(lab, vm, true);   /* its record is of another snapshot */
		return 0;
	}
	/* paused, so every VM of the lab starts running again at the same moment */
	bool was_active = false;
	struct vl_virt_snap *snaps = NULL;
	size_t n = 0;

	if (vl_virt_snapshot_list(lab->ctx->host->virt, vm->domain, &snaps, &n, err) < 0)
		return -1;
	for (size_t k = 0; k < n; k++)
		if (vl_streq(snaps[k].name, j->name))
			was_active = snaps[k].state == VL_DOM_RUNNING || snaps[k].state == VL_DOM_PAUSED;
	vl_virt_snap_list_free(snaps, n);
	j->run_after[i] = was_active;
	if (vl_virt_snapshot_revert(lab->ctx->host->virt, vm->domain, j->name,
				    was_active ? VL_SNAP_REVERT_PAUSED : 0, err) < 0)
		return -1;
	mark_vm(lab, vm, false);
	return 0;
}

static int run_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct revert_job *j = ud;
	size_t i = (size_t)(vm - lab->plan.vms);

	if (!j->has[i] || !j->run_after[i])
		return 0;
	return vl_virt_domain_resume(lab->ctx->host->virt, vm->domain, err);
}

/* A reverted guest runs in a new QEMU on a new bridge port: it can take a
 * moment before the host reaches it again. Rollback promises SSH works. */
static int ready_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct revert_job *j = ud;
	size_t i = (size_t)(vm - lab->plan.vms);

	if (!j->has[i] || !j->run_after[i])
		return 0;
	return lab_wait_ssh(lab, vm, NULL, err);
}

int vl_lab_snapshot_restore(struct vl_ctx *ctx, const char *name, struct vl_err *err)
{
	struct vl_snap_info *snaps = NULL;
	VL_AUTOFREE bool *run_after = NULL, *has = NULL;
	struct lab lab;
	size_t n = 0;
	int rc = -1;

	if (lab_open(&lab, ctx, LAB_LOCK, NULL, err) < 0)
		return -1;
	if (collect(&lab, &snaps, &n, err) < 0)
		goto out;
	if (n == 0) {
		vl_err_set(err, VL_E_NOTFOUND, "lab %s has no snapshots; 'vmlab snapshot save NAME' makes one",
			   lab.plan.lab_name);
		goto out;
	}
	const struct vl_snap_info *pick = &snaps[n - 1];
	if (name) {
		pick = NULL;
		for (size_t i = 0; i < n; i++)
			if (vl_streq(snaps[i].name, name))
				pick = &snaps[i];
		if (!pick) {
			vl_err_set(err, VL_E_NOTFOUND, "no snapshot '%s' in lab %s (newest: '%s')", name,
				   lab.plan.lab_name, snaps[n - 1].name);
			goto out;
		}
	}
	run_after = vl_calloc(lab.plan.n_vms + 1, sizeof(bool));
	has = vl_calloc(lab.plan.n_vms + 1, sizeof(bool));
	struct revert_job j = { pick->name, run_after, has };
	for (size_t i = 0; i < lab.plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &lab.plan.vms[i];
		if (lab_vm_state(&lab, vm, err) != VL_VM_MISSING &&
		    vl_virt_snapshot_exists(ctx->host->virt, vm->domain, pick->name, &has[i], err) < 0)
			goto out;
		if (err->code != VL_OK)
			goto out;
	}
	vl_event_info(&ctx->events, NULL, "restoring snapshot '%s'", pick->name);
	unsigned all = (unsigned)lab.plan.n_vms;
	int reverted = lab_for_each_vm(&lab, all, revert_vm, &j, "restore", err);
	/* the held session's connections now point at a guest that forgot them */
	lab_held_reset(&lab);
	if (reverted < 0 ||
	    lab_for_each_vm(&lab, all, run_vm, &j, "restore", err) < 0 ||
	    vl_keys_open(&lab.keys, lab.state_dir, err) < 0 ||
	    lab_for_each_vm(&lab, all, ready_vm, &j, "restore", err) < 0)
		goto out;
	vl_event_info(&ctx->events, NULL, "lab %s is back at snapshot '%s'", lab.plan.lab_name,
		      pick->name);
	rc = 0;
out:
	vl_snap_info_free(snaps, n);
	lab_close(&lab);
	return rc;
}

struct delete_job {
	const char *name;
	bool newest;            /* the record is about it: gone with it */
};

static int delete_vm_snap(struct lab *lab, const struct vl_plan_vm *vm, void *ud,
			  struct vl_err *err)
{
	const struct delete_job *j = ud;

	if (lab_vm_state(lab, vm, err) == VL_VM_MISSING)
		return 0;
	if (err->code != VL_OK)
		return -1;
	if (vl_virt_snapshot_delete(lab->ctx->host->virt, vm->domain, j->name, err) < 0)
		return -1;
	if (j->newest)
		mark_vm(lab, vm, true);
	return 0;
}

int vl_lab_snapshot_delete(struct vl_ctx *ctx, const char *name, struct vl_err *err)
{
	struct vl_snap_info *snaps = NULL;
	struct lab lab;
	size_t n = 0;
	bool found = false;
	int rc = -1;

	if (lab_open(&lab, ctx, LAB_LOCK, NULL, err) < 0)
		return -1;
	if (collect(&lab, &snaps, &n, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		found |= vl_streq(snaps[i].name, name);
	if (!found) {
		vl_err_set(err, VL_E_NOTFOUND, "no snapshot '%s' in lab %s", name, lab.plan.lab_name);
		goto out;
	}
	/* the newest goes: the VMs' records may be of it, and "since the
	 * newest snapshot" would then compare with one that is gone */
	struct delete_job j = { name, vl_streq(snaps[n - 1].name, name) };
	rc = lab_for_each_vm(&lab, (unsigned)lab.plan.n_vms, delete_vm_snap, &j, "delete", err);
	if (rc == 0)
		vl_event_info(&ctx->events, NULL, "snapshot '%s' deleted", name);
out:
	vl_snap_info_free(snaps, n);
	lab_close(&lab);
	return rc;
}
