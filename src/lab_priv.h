/* What the engine's files share: an opened lab (locked, planned against
 * what libvirt already has) and helpers over its VMs. Not for outside src/lab*. */
#ifndef VL_LAB_PRIV_H
#define VL_LAB_PRIV_H

#include <stdbool.h>

#include "keys.h"
#include "lab.h"
#include "plan.h"
#include "ready.h"
#include "ssh.h"
#include "util/lock.h"
#include "virt.h"

#define VL_METADATA_NS "https://vmlab.dev/xmlns/1"
/* How long ssh, exec and provisioners retry a refused or reset connection. */
#define LAB_SSH_RETRY_S 30

struct lab {
	struct vl_ctx *ctx;
	struct vl_plan plan;
	struct vl_keys keys;
	struct vl_lock lock;
	bool *chosen;        /* plan.n_vms flags: VMs the command acts on */
	char *state_dir;     /* keys, known hosts, lock: vl_plan_state_dir() */
	bool named_events;   /* lab_open set ctx->events.lab to this lab's id */
	struct vl_subnet *taken;  /* subnets the libvirt host refused (routed there) */
	size_t n_taken;
	/* plan.n_vms console streams (NULL: none): what the VMs this command
	 * started print, kept where the console log cannot be read here */
	struct vl_virt_console **consoles;
	/* commands ride the held session (lab_held_use decided it once) */
	bool held;
};

enum lab_open_flags {
	LAB_LOCK = 1u << 0,  /* take .vmlab/lock (commands that change the lab) */
	LAB_KEYS = 1u << 1,  /* create .vmlab keys if missing */
};

int lab_open(struct lab *lab, struct vl_ctx *ctx, unsigned flags, const struct vl_lab_sel *sel,
	     struct vl_err *err);
void lab_close(struct lab *lab);
/* Plan again against the subnets libvirt and the host use now (another up
 * may have taken the first choice since lab_open). */
int lab_replan(struct lab *lab, struct vl_err *err);
/* The lock per libvirt host (its URI) under which up chooses a subnet and
 * defines the network, so simultaneous ups of different projects on this
 * machine never take the same subnet. Waits up to 300 s. */
int lab_alloc_lock(struct lab *lab, struct vl_lock *l, struct vl_err *err);
/* Run fn over the chosen VMs in parallel (config's width); failures are
 * reported as warnings and summed up in err. */
typedef int (*lab_vm_fn)(struct lab *lab, const struct vl_plan_vm *vm, void *ud,
			 struct vl_err *err);
int lab_for_each_vm(struct lab *lab, unsigned width, lab_vm_fn fn, void *ud, const char *what,
		    struct vl_err *err);
/* Wait until the VM answers SSH with the project key and its pinned host key
 * ([up] boot_timeout); a timeout carries the tail of its console log. */
int lab_wait_ssh(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err);
/* What lab_wait_ready found per VM (index: plan VM). */
struct lab_ready {
	double ssh_s;            /* from start to the first login */
	double ci_s;             /* then until cloud-init had finished */
	struct vl_ci_status ci;
};
struct lab_ready_opts {
	bool strict;             /* cloud-init errors fail the VM */
	struct lab_ready *vms;   /* plan.n_vms entries */
};
/* lab_wait_ssh, then wait until cloud-init has finished where the image
 * runs it, all within boot_timeout; ud is a struct lab_ready_opts. */
int lab_wait_ready(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err);
/* Where a remote command's output goes (lab_run.c): VL_EV_OUTPUT events
 * line by line with the VM as subject, a log file, buffers; any of them. */
struct vl_buf;
struct lab_out {
	bool events;
	int log_fd;                  /* -1: none; gets both streams, line by line */
	struct vl_buf *out, *err;    /* NULL: not kept */
};
/* Run argv on an open session (NULL: the held session when lab->held, else
 * a new one); *status is the remote exit status. */
int lab_run(struct lab *lab, struct vl_ssh *s, const struct vl_plan_vm *vm,
	    const char *const *argv, size_t argc, int in_fd, const struct lab_out *o, int *status,
	    struct vl_err *err);
/* Connect to a VM and run argv; output becomes VL_EV_OUTPUT events. */
int lab_exec(struct lab *lab, const struct vl_plan_vm *vm, const char *const *argv, size_t argc,
	     int in_fd, int *status, struct vl_err *err);
/* A VM's provisioners (lab_provision.c), for lab_for_each_vm; ud is a
 * struct lab_prov_opts. The lab's keys are open. */
struct lab_prov_opts {
	bool force;              /* run every entry, recorded or not */
};
int lab_provision_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err);
/* The held session (lab_held.c): its files in a state dir (caller frees);
 * one message with fds (at most 3) and one received (0, 1 at EOF, -1). */
struct vl_held_msg;
char *lab_held_path(const char *state_dir, const char *name);
int lab_held_send(int fd, const char *const *f, size_t n, const int *fds, size_t nfds,
		  struct vl_err *err);
int lab_held_recv(int fd, int timeout_ms, struct vl_held_msg *m, int *fds, size_t *nfds,
		  struct vl_err *err);
/* Whether this lab's commands ride its held session (vl_held_rides). */
bool lab_rides_held(const struct vl_ctx *ctx);
/* The master answering (started, or a stale one replaced): once before
 * commands go out from several threads, so only one thread starts it. */
int lab_held_ensure(struct vl_ctx *ctx, struct vl_err *err);
/* Before commands go to the lab's VMs (exec, provision): whether they ride
 * the held session, the master started now when they do. One that cannot
 * start is a warning, and the commands connect directly (pinned as ever). */
void lab_held_use(struct lab *lab);
/* Ride the master (started if needed): a command, a forward, the list.
 * An fd of -1 is /dev/null. */
int lab_held_exec(struct vl_ctx *ctx, const char *vm, const char *const *argv, size_t argc,
		  int in_fd, int out_fd, int err_fd, int *status, struct vl_err *err);
int lab_held_forward(struct vl_ctx *ctx, const char *vm, const struct vl_fwd_spec *spec,
		     bool from_profile, struct vl_err *err);
int lab_held_list(struct vl_ctx *ctx, struct vl_fwd_info **out, size_t *n, struct vl_err *err);
/* To a running master only: halt/destroy end the chosen VMs' sessions and
 * forwards (all of them: the master exits); a revert makes it reconnect. */
void lab_held_stop(struct lab *lab);
/* status: the held session's forwards, then the profile's not active. */
int lab_held_status_forwards(struct lab *lab, struct vl_fwd_info **out, size_t *n,
			     struct vl_err *err);
/* up: the chosen VMs' `forward =` entries, in the held session. */
int lab_held_profile_forwards(struct lab *lab, struct vl_err *err);
void lab_held_reset(struct lab *lab);
/* A VM's sync entries pushed (lab_sync.c), for lab_for_each_vm; ud unused.
 * The lab's keys are open. */
int lab_sync_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err);
void lab_ssh_target(const struct lab *lab, const struct vl_plan_vm *vm, struct vl_ssh_target *t,
		    char **host_pub_owned);
/* Open the lab, check the VM runs, and fill its SSH target (keys exist once
 * it runs, so looking first creates none in vain). On success the caller
 * closes the lab (lab_ssh.c). */
int lab_open_target(struct vl_ctx *ctx, const char *name, struct lab *lab,
		    struct vl_ssh_target *t, char **host_pub, struct vl_err *err);
/* The image's copy in the pool (lab_base.c): uploaded and verified when
 * missing or incomplete; *path (caller frees) is what overlays are backed
 * by. The seconds spent uploading and reading back are added to *upload_s
 * and *verify_s. */
struct vl_image_info;
int lab_base_ensure(struct lab *lab, struct vl_image_info *img, char **path, double *upload_s,
		    double *verify_s, struct vl_err *err);
/* vl_lab_base_volumes that also hands out the backing path of every vmlab
 * volume in the pool (*backings, caller frees; may be NULL). */
int lab_base_scan(struct vl_ctx *ctx, struct vl_base_vol **out, size_t *n, char ***backings,
		  size_t *n_backings, struct vl_err *err);
/* Room in the pool (lab_space.c). lab_pool_room: -1 and one line naming
 * the pool, its directory, what needs the space and both figures when
 * fewer than need bytes are free (unknown figures pass). lab_pool_full,
 * after a failure: when libvirt reported ENOSPC, or the pool has fewer
 * than need bytes left (need 0: not known), the same kind of line; always -1. */
int lab_pool_room(struct vl_ctx *ctx, const char *what, uint64_t need, struct vl_err *err);
int lab_pool_full(struct vl_ctx *ctx, const char *what, uint64_t need, struct vl_err *err);
/* Remove a domain (forced off), its disk and seed volumes and console log;
 * every step tolerates "already gone". */
int lab_destroy_domain(struct vl_ctx *ctx, const char *domain, struct vl_err *err);
/* The plan VM named name, when it runs; VL_E_NOTFOUND or "NAME is shut
 * off; 'vmlab up NAME' starts it" otherwise. */
int lab_running_vm(struct lab *lab, const char *name, const struct vl_plan_vm **out,
		   struct vl_err *err);
/* Shut a VM down (ACPI, then forced after [halt] timeout), for
 * lab_for_each_vm (lab_ops.c); ud unused. */
int lab_halt_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err);
/* Start a stopped VM. Where virtlogd's log cannot be read here (host.h), it
 * starts paused, its console stream is attached, then it runs: the stream
 * keeps everything it prints for lab_console_tail. */
int lab_start_vm(struct lab *lab, const struct vl_plan_vm *vm, struct vl_err *err);
/* The last lines the VM printed on its console (virtlogd's log where it can
 * be read, else what lab_start_vm kept), appended to out as "; ..." text
 * for an error message. */
void lab_console_tail(struct lab *lab, const struct vl_plan_vm *vm, struct vl_buf *out);
/* Path of a VM's serial console log (virtlogd writes it). Caller frees. */
char *lab_serial_log_for(const struct vl_ctx *ctx, const char *domain);
char *lab_serial_log_path(const struct lab *lab, const struct vl_plan_vm *vm);
/* The subnets a new lab on host h must not take (libvirt's networks, the
 * host's routes where they are this machine's); own_network's is handed
 * back apart in *own (*have_own). For class placement. */
int lab_used_subnets(struct vl_host *h, const char *own_network, struct vl_subnet **used,
		     size_t *n_used, struct vl_subnet *own, bool *have_own, struct vl_err *err);
/* The lab network as libvirt has it; *exists false if it has none. */
int lab_network_info(const struct lab *lab, bool *exists, bool *active, struct vl_err *err);
/* The engine's VM state for a libvirt domain state. */
enum vl_vm_state lab_vm_state_of(enum vl_dom_state st);
enum vl_vm_state lab_vm_state(const struct lab *lab, const struct vl_plan_vm *vm,
			      struct vl_err *err);

#endif
