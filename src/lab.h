/* The engine: a lab's lifecycle (up, status, halt, destroy, snapshots, gc)
 * built from the plan and the adapters. Every call takes the context, reports
 * progress through ctx->events and never prints, so the CLI and the TUI (from
 * worker threads) drive the same code. */
#ifndef VL_LAB_H
#define VL_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ctx.h"
#include "util/diag.h"
#include "util/err.h"

/* VM selection: NULL/0 means every VM of the lab. Unknown names are an error. */
struct vl_lab_sel {
	char *const *names;
	size_t n;
};

/* What up did, for `up --json` and the TUI (filled when opts->report is set,
 * also when up fails half-way: VMs not reached keep ready = false). */
struct vl_up_ci_error {
	char *module, *message;
};

struct vl_up_vm_report {
	char *name, *ip;
	bool ready;                 /* SSH answered and cloud-init (if any) ended */
	double ssh_s;               /* waiting for the first SSH login */
	double cloud_init_s;        /* then waiting for cloud-init */
	const char *cloud_init;     /* "done", "error", "none", "disabled", "running", "unknown" */
	struct vl_up_ci_error *ci_errors;
	size_t n_ci_errors;
};

struct vl_up_report {
	char *lab;
	struct vl_up_vm_report *vms; /* the VMs up acted on */
	size_t n_vms;
	/* phase seconds: plan, images (cache), base images into the pool,
	 * and reading them back, network, volumes+seeds+domains+start, the longest SSH wait and the
	 * longest cloud-init wait (VMs wait in parallel), the whole wait,
	 * provisioning, total */
	double plan_s, images_s, upload_s, verify_s, network_s, create_s, ssh_s, cloud_init_s, wait_s,
	       provision_s, total_s;
};

void vl_up_report_release(struct vl_up_report *r);

struct vl_up_opts {
	struct vl_lab_sel sel;
	bool no_provision;
	bool strict;                /* cloud-init errors fail up instead of warning */
	struct vl_up_report *report;/* may be NULL */
};

/* Everything that can be checked without libvirt, reported into diags as
 * FILE:LINE like profile problems: the plan under ctx->config (address
 * layout, room for every VM with subnet = auto) and every image a VM names
 * (catalog names known). Fails with VL_E_PROFILE. validate, plan and up run it. */
int vl_lab_check(struct vl_ctx *ctx, struct vl_diags *diags, struct vl_err *err);
/* Every name in sel names a VM of the profile (NAME, or NAME-N with count):
 * VL_E_USAGE otherwise. No connection needed, so commands check first. */
int vl_lab_check_names(struct vl_ctx *ctx, const struct vl_lab_sel *sel, struct vl_err *err);
/* A snapshot name vmlab accepts (letters, digits, '.', '_', '-'): VL_E_USAGE
 * otherwise. */
int vl_lab_snapshot_name_check(const char *name, struct vl_err *err);

/* The plan `up` would carry out: against the subnets libvirt and the host
 * use, keeping the lab's own network. Touches nothing. */
struct vl_plan;
int vl_lab_plan(struct vl_ctx *ctx, struct vl_plan *out, struct vl_err *err);
int vl_lab_up(struct vl_ctx *ctx, const struct vl_up_opts *opts, struct vl_err *err);
int vl_lab_halt(struct vl_ctx *ctx, const struct vl_lab_sel *sel, struct vl_err *err);
int vl_lab_destroy(struct vl_ctx *ctx, const struct vl_lab_sel *sel, struct vl_err *err);

enum vl_vm_state {
	VL_VM_MISSING,   /* planned, not created */
	VL_VM_RUNNING,
	VL_VM_PAUSED,
	VL_VM_SHUTOFF,
	VL_VM_CRASHED,
	VL_VM_OTHER,
};

const char *vl_vm_state_name(enum vl_vm_state s);

struct vl_vm_status {
	char *name, *domain, *ip, *mac, *image;
	enum vl_vm_state state;
	unsigned cpus;
	uint64_t memory;         /* bytes */
	size_t n_snapshots;
};

struct vl_lab_status {
	char *lab_name, *lab_id, *network, *subnet;
	bool network_active;
	struct vl_vm_status *vms;
	size_t n_vms;
};

int vl_lab_status(struct vl_ctx *ctx, struct vl_lab_status *st, struct vl_err *err);
void vl_lab_status_release(struct vl_lab_status *st);

/* Every vmlab lab on the connection, read from libvirt alone: the metadata
 * vmlab writes into each domain and network names the lab, its project and
 * owner, so no project directory is needed (it may be on another machine).
 * For `status --all` and the TUI's list of labs. */
struct vl_vm_summary {
	char *name, *domain, *ip, *mac;
	enum vl_vm_state state;
	unsigned cpus;
	uint64_t memory;                 /* bytes */
};

struct vl_lab_summary {
	char *name, *id;
	char *project;                   /* the directory on the owner's machine */
	char *owner_machine, *owner_user;/* NULL: made before owners were recorded */
	bool mine;                       /* this machine and user own it (or nobody is recorded) */
	char *network;                   /* its name, also when it does not exist */
	char *subnet;                    /* "10.77.3.0/24"; NULL when the network is gone */
	bool network_exists, network_active;
	struct vl_vm_summary *vms;       /* the lab's domains, by name (web-2 before web-10) */
	size_t n_vms;
};

/* Labs by name (then project): every lab one of whose domains or whose network
 * carries vmlab metadata; other domains and networks are ignored. libvirt
 * round trips: one bulk stats call for every domain's state, vCPUs and
 * memory, one metadata call per vmlab-* domain, two network listings and one
 * XML call per vmlab-* network. *out is NULL-safe to free with n. */
int vl_lab_list_all(struct vl_ctx *ctx, struct vl_lab_summary **out, size_t *n,
		    struct vl_err *err);
void vl_lab_summaries_free(struct vl_lab_summary *labs, size_t n);

struct vl_snap_info {
	char *name;
	time_t created;
	size_t n_vms;            /* VMs that have it; a complete lab snapshot has all */
	bool with_memory;
};

int vl_lab_snapshot_save(struct vl_ctx *ctx, const char *name, const struct vl_lab_sel *sel,
			 struct vl_err *err);
int vl_lab_snapshot_list(struct vl_ctx *ctx, struct vl_snap_info **out, size_t *n,
			 struct vl_err *err);
void vl_snap_info_free(struct vl_snap_info *s, size_t n);
/* name NULL: the newest lab snapshot. */
int vl_lab_snapshot_restore(struct vl_ctx *ctx, const char *name, struct vl_err *err);
int vl_lab_snapshot_delete(struct vl_ctx *ctx, const char *name, struct vl_err *err);

/* Run argv on a running VM with the caller's fds (the CLI passes 0, 1, 2);
 * *status is the remote exit status. */
int vl_lab_ssh_exec(struct vl_ctx *ctx, const char *vm, const char *const *argv, size_t argc,
		    int in_fd, int out_fd, int err_fd, int *status, struct vl_err *err);
/* Interactive shell on the caller's terminal. */
int vl_lab_ssh_shell(struct vl_ctx *ctx, const char *vm, int *status, struct vl_err *err);

/* The base image files every vmlab disk in the pool is backed by, i.e. the
 * cached images some lab still uses (libvirt is asked, not a state file). */
int vl_lab_images_in_use(struct vl_ctx *ctx, char ***paths, size_t *n, struct vl_err *err);

/* Base images in the pool (vmlab-base-*, shared by every lab): each with
 * whether some volume (a VM's overlay) is backed by it. */
struct vl_base_vol {
	char *volume;
	char *path;
	uint64_t size;      /* bytes of its file */
	bool in_use;
};

int vl_lab_base_volumes(struct vl_ctx *ctx, struct vl_base_vol **out, size_t *n,
			struct vl_err *err);
void vl_base_vols_free(struct vl_base_vol *v, size_t n);
/* Remove a base volume, after checking again that no volume is backed by
 * it (VL_E_EXISTS if one is). */
int vl_lab_base_remove(struct vl_ctx *ctx, const char *volume, struct vl_err *err);

/* gc: vmlab objects whose project is gone or that a crash left behind. */
enum vl_gc_kind { VL_GC_DOMAIN, VL_GC_NETWORK, VL_GC_VOLUME };

struct vl_gc_item {
	enum vl_gc_kind kind;
	char *name;
	char *reason;
};

/* Find them (and remove them unless dry_run). Projects whose lock is held
 * (a vmlab command is running on them) are left alone. */
/* Labs of other owners (another machine or user on a shared libvirt host,
 * per the metadata) are left alone and counted in *skipped (may be NULL). */
int vl_lab_gc(struct vl_ctx *ctx, bool dry_run, struct vl_gc_item **items, size_t *n,
	      size_t *skipped, struct vl_err *err);
void vl_gc_items_free(struct vl_gc_item *items, size_t n);
const char *vl_gc_kind_name(enum vl_gc_kind k);

#endif
