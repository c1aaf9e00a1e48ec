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
#include "forward.h"
#include "snapmark.h"
#include "util/diag.h"
#include "util/err.h"

/* Once per process, before any other thread or libvirt connection (main
 * calls it first): libxml2 initialised (render.c and meta.c use it from
 * worker threads), and libvirt's event implementation registered and run on
 * a thread of its own. Registering must come before a connection opens for
 * that connection to deliver events (a watch, below) or answer the daemon's
 * keepalives. SIGPIPE is ignored: a daemon that goes away is an error of the
 * call, not the end of the process. Idempotent. */
int vl_init(struct vl_err *err);
/* At the end, once every connection is closed: the event loop finishes what
 * closing them left to it (a qemu+libssh session's teardown) and stops, so
 * no libvirt or libssh work runs while the process exits. */
void vl_fini(void);

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
	/* the lab's guests get a network filter keeping them out of every other
	 * subnet of the pool (render.h, vl_render_isolation); class seats */
	bool isolate;
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
	enum vl_changed changed; /* since the newest snapshot (snapmark.h) */
};

struct vl_fwd_info;

struct vl_lab_status {
	char *lab_name, *lab_id, *network, *subnet;
	bool network_active;
	struct vl_vm_status *vms;
	size_t n_vms;
	/* the held session's forwards, then the profile's not active */
	struct vl_fwd_info *forwards;
	size_t n_forwards;
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
	/* changed since the newest snapshot (snapmark.h): the record vmlab
	 * wrote when it took or restored one, what the VM is now, and the
	 * decision */
	struct vl_snapmark mark;
	struct vl_snapmark_now now;
	enum vl_changed changed;
};

struct vl_lab_summary {
	char *name, *id;
	char *project;                   /* the directory on the owner's machine */
	char *owner_machine, *owner_user;/* NULL: made before owners were recorded */
	char *instance;                  /* "seat-3" for a class seat; NULL: the project's own */
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
 * memory, one more for the running ones' disk writes, two metadata calls per
 * vmlab-* domain (the lab's, the snapshot mark), two network listings and one
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
/* The VM's serial console through libvirt on the caller's fds (raw mode
 * when in_fd is a terminal, restored on every exit) until Ctrl-], the end
 * of input, the console's end or a cancel. force takes it over from
 * another client (virsh console); without it a console in use fails. */
int vl_lab_console(struct vl_ctx *ctx, const char *vm, bool force, int in_fd, int out_fd,
		   struct vl_err *err);
/* A VM's logs on out_fd: its console log so far (where this machine can
 * read the host's files), cloud-init's output from the guest, the
 * provisioner logs of the lab's state directory; then, with follow, the
 * console as it grows until cancelled. */
int vl_lab_logs(struct vl_ctx *ctx, const char *vm, bool follow, int out_fd, struct vl_err *err);
/* vmlab provision: the chosen VMs' provisioners (docs/provision.md), in
 * order, each VM's in parallel. A provisioner recorded in the guest as done
 * (same content, same domain) is skipped unless force. The VMs must run. A
 * failing one fails with VL_E_REMOTE and its exit status, naming the VM, the
 * provisioner and its log (.vmlab/logs/VM-provision-N.log). */
struct vl_provision_opts {
	struct vl_lab_sel sel;
	bool force;
};

int vl_lab_provision(struct vl_ctx *ctx, const struct vl_provision_opts *o, struct vl_err *err);

/* vmlab sync: each chosen VM's sync = HOST_DIR:GUEST_DIR entries pushed
 * over its pinned session, only what changed since the last push, deletes
 * mirrored (docs/sync.md); each VM's in parallel. The VMs must run. With
 * watch: then again after each batch of changes on the host (inotify,
 * 200 ms quiet) until cancelled, which returns 0; a failed push is a
 * warning, tried again. */
struct vl_sync_opts {
	struct vl_lab_sel sel;
	bool watch;
};

int vl_lab_sync(struct vl_ctx *ctx, const struct vl_sync_opts *o, struct vl_err *err);

/* vmlab exec: argv on several VMs at once (config's parallel), its words
 * kept as vl_lab_ssh_exec keeps them. Output goes out as VL_EV_OUTPUT events
 * line by line with the VM as subject, or, with capture, into the results.
 * Returns 0 once every VM had its turn (failures are in the results); -1
 * only when the lab cannot be opened. */
struct vl_exec_result {
	char *vm;
	int status;              /* the remote exit status; 255: it did not run */
	char *error;             /* why it did not run (not running, SSH), or NULL */
	char *out, *err;         /* with capture: what it wrote (NUL-terminated) */
	size_t out_len, err_len;
	double seconds;
};

struct vl_exec_opts {
	struct vl_lab_sel sel;   /* NULL/0: every VM */
	const char *const *argv;
	size_t argc;
	bool capture;
};

int vl_lab_exec(struct vl_ctx *ctx, const struct vl_exec_opts *o, struct vl_exec_result **res,
		size_t *n, struct vl_err *err);
void vl_exec_results_free(struct vl_exec_result *r, size_t n);

/* Interactive shell on the caller's terminal. */
int vl_lab_ssh_shell(struct vl_ctx *ctx, const char *vm, int *status, struct vl_err *err);

/* vmlab cp: SRC... DST, one side VM:PATH, "-" for stdin/stdout (src/copy.h
 * has the rules). Progress events name the VM; the VM must run. */
struct vl_cp_opts {
	bool recursive;   /* -r: directories too */
	bool follow;      /* -L: copy what symlinks point to */
	bool sudo;        /* the VM side runs under sudo -n (root-owned paths) */
	bool progress;    /* emit progress events (the CLI: on a terminal) */
};

int vl_lab_cp(struct vl_ctx *ctx, char *const *args, size_t n, const struct vl_cp_opts *o,
	      struct vl_err *err);

/* vmlab ssh-config: OpenSSH Host blocks for the chosen VMs (NULL/0: all)
 * that have a pinned host key (VMs never created are left out with a
 * warning), after writing the known_hosts file they name, with every VM's
 * key under its HostKeyAlias (<state dir>/known_hosts). Caller frees *out. */
int vl_lab_ssh_config(struct vl_ctx *ctx, const struct vl_lab_sel *sel, char **out,
		      struct vl_err *err);

/* ---- the held session and forwards (docs/held-session.md) ----
 *
 * vl_lab_ssh_exec rides the lab's held session: one background process per
 * lab holding one pinned session per VM, started by the first use, gone
 * after [lab] persist idle seconds, stopped by halt and destroy. It is the
 * one way in for exec, cp and provisioners too (pass pipes as fds). With
 * persist = 0 it connects directly each time. Forwards live in that
 * process, which stays while any exists. */
struct vl_fwd_info {
	char *vm;
	struct vl_fwd_spec spec;
	unsigned conns;          /* channels open on the VM's session now */
	bool from_profile;       /* started by up from `forward =` */
	bool connected;          /* the VM's session is up */
	bool active;             /* listening (status also lists profile forwards not started) */
};

/* Start forwards to a running VM (spec: see forward.h). A local port in use
 * is an error naming it; the same forward again is not. */
int vl_lab_forward_add(struct vl_ctx *ctx, const char *vm, const struct vl_fwd_spec *specs,
		       size_t n, struct vl_err *err);
/* The lab's forwards (none when no held session runs). */
int vl_lab_forward_list(struct vl_ctx *ctx, struct vl_fwd_info **out, size_t *n,
			struct vl_err *err);
void vl_fwd_info_free(struct vl_fwd_info *f, size_t n);
/* The held session's process itself (the hidden `held-session` command):
 * serve until idle, stopped or killed. ready_fd (-1: none) gets "ok\n" once
 * it listens, or the reason it cannot start. */
int vl_lab_held_serve(struct vl_ctx *ctx, int ready_fd, struct vl_err *err);

/* vmlab image save VM NAME: the running VM's identity cleared over SSH
 * (cloud-init clean where it runs, host keys, machine id, the login user's
 * authorized keys), the VM halted, its disk copied flat through libvirt into
 * the image cache and registered as NAME (image = NAME; boots as the VM's
 * image did). The VM stays halted. out as vl_image_pull fills it. */
struct vl_image_info;
int vl_lab_image_save(struct vl_ctx *ctx, const char *vm, const char *name,
		      struct vl_image_info *out, struct vl_err *err);

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

/* What the TUI's header says about the host: its memory and the
 * accelerator VMs get there (vl_accel_effective: config.accel against what
 * libvirt offers). Two libvirt calls, plus the capabilities once per host. */
struct vl_host_facts {
	uint64_t mem_free, mem_total;    /* bytes */
	const char *accel;               /* static: "kvm", "tcg", "tcg (no kvm)", ... */
};

int vl_lab_host_facts(struct vl_ctx *ctx, struct vl_host_facts *out, struct vl_err *err);

/* ---- watching a libvirt host (the TUI's live view) ----
 *
 * A watch follows every vmlab lab on one libvirt host: libvirt's domain and
 * network lifecycle events, turned into typed changes that name the lab (id)
 * and host they are about, plus periodic CPU and memory samples. Only vmlab's
 * objects count (names starting "vmlab-" with vmlab metadata).
 *
 * The watch owns a connection of its own (the caller's actions never queue
 * behind it) and a thread: every change is delivered from that thread, one at
 * a time, in order. It starts with a full sync (LAB_APPEARED, VM_STATE and
 * NET_* for everything there, then SYNCED). When the connection is lost
 * (closed, or the daemon stops answering keepalives) it reports LOST, retries
 * with a backoff (0.5 s doubling to 10 s by default), and on success reports
 * RECONNECTED followed by a full resync: the current state of every lab's VMs
 * and networks, MISSING / NET_STOPPED / LAB_VANISHED for what went away
 * meanwhile, then SYNCED. Stats come from one bulk call that never waits on a
 * domain's job (a VM in a long snapshot still gets its sample, with what
 * could be read). */
enum vl_watch_kind {
	VL_WATCH_LAB_APPEARED,   /* lab: its first object seen */
	VL_WATCH_LAB_VANISHED,   /* lab: its last object gone */
	VL_WATCH_VM_STATE,       /* lab, vm, domain, state (MISSING: undefined) */
	VL_WATCH_NET_STARTED,    /* lab, network */
	VL_WATCH_NET_STOPPED,    /* lab, network (also when defined inactive, or undefined) */
	VL_WATCH_SYNCED,         /* a full (re)sync has been delivered */
	VL_WATCH_LOST,           /* reason, retry_ms; no lab */
	VL_WATCH_RECONNECTED,    /* a resync follows; no lab */
	VL_WATCH_STATS,          /* lab, vm, domain, state, cpu/memory of a running VM */
};

const char *vl_watch_kind_name(enum vl_watch_kind k);

/* Valid during the callback only. */
struct vl_watch_change {
	enum vl_watch_kind kind;
	const char *host;           /* the watch's URI ("" for libvirt's default) */
	const char *lab;            /* lab id; NULL for SYNCED, LOST, RECONNECTED */
	const char *vm, *domain;    /* VM_STATE, STATS */
	const char *network;        /* NET_STARTED, NET_STOPPED */
	enum vl_vm_state state;     /* VM_STATE, STATS */
	const char *reason;         /* LOST: why, one line */
	unsigned retry_ms;          /* LOST: the first reconnect attempt comes after this */
	double cpu_percent;         /* STATS: of the VM's vCPUs, 0-100; < 0 unknown (first
				       sample after a start, or not reported) */
	unsigned vcpus;             /* STATS: 0 unknown */
	uint64_t mem_used;          /* STATS, bytes: the guest's view if it reports one, else
				       what the host process holds; 0 unknown */
	uint64_t mem_total;         /* STATS, bytes: the VM's current memory; 0 unknown */
	struct vl_snapmark_now now; /* STATS: its process and disk writes (snapmark.h) */
};

/* Called on the watch's thread, never from vl_watch_stop's caller; it must
 * not stop its own watch. Keep it short: it holds up the next change. */
typedef void (*vl_watch_fn)(void *ud, const struct vl_watch_change *c);

struct vl_watch_opts {
	vl_watch_fn on_change;      /* required */
	void *ud;
	unsigned stats_ms;          /* sampling period; 0: 1500 ms */
	unsigned backoff_min_ms;    /* first reconnect delay; 0: 500 ms */
	unsigned backoff_max_ms;    /* longest delay; 0: 10 s */
};

struct vl_watch;
/* Connect to uri (NULL: libvirt's default) and start watching. Runs
 * libvirt's event loop thread if it is not running yet (vl_init() must have
 * run before any connection that should see events, this one included). Fails
 * (VL_E_CONNECT) if the first connection cannot be made; later losses are
 * reported and retried instead. */
struct vl_watch *vl_lab_watch_start(const char *uri, const struct vl_watch_opts *o,
				    struct vl_err *err);
/* Stop: no change is delivered once it returns (the thread is joined, the
 * connection closed). NULL is fine. */
void vl_watch_stop(struct vl_watch *w);

#endif
