/* The engine's classes: one lab instance per seat of the profile's [class]
 * ("seat-<id>", plan.h), placed whole on libvirt hosts (class_plan.h), made,
 * reset to the baseline and destroyed in parallel. A seat that fails is
 * reported in its result while the others go on. Like lab.h: never prints,
 * events through ctx->events, each naming the seat ("seat 3" or
 * "seat 3/web"). */
#ifndef VL_CLASS_H
#define VL_CLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "class_plan.h"
#include "ctx.h"
#include "util/err.h"

struct vl_class_host_info {
	char *name, *uri;
	char *error;                   /* why it is down; NULL: up */
	struct vl_class_host cap;      /* cap.name points at name */
	struct vl_class_load load;     /* what the class puts there */
};

struct vl_class_seat_vm {
	char *name, *domain, *ip;
};

struct vl_class_seat_info {
	char *id, *student, *email;    /* student, email: NULL when not known */
	char *instance, *lab_id, *network, *subnet;
	int host;                      /* index in hosts; -1: no room */
	int was_on;                    /* host it exists on now; -1: none */
	enum vl_seat_move move;
	bool in_roster;                /* false: left the roster, still on a host */
	struct vl_class_seat_vm *vms;
	size_t n_vms;
};

struct vl_class_plan {
	struct vl_class_need need;
	struct vl_class_host_info *hosts;
	size_t n_hosts;
	struct vl_class_seat_info *seats;   /* roster seats, then seats that left it */
	size_t n_seats;
	char *refusal;                 /* NULL: the class fits */
};

/* The class as it would be made now: hosts read (a host that cannot be
 * reached is down, not an error), seats found where they exist, the rest
 * placed. Touches nothing. Fails only for no [class] or when no host can
 * be asked at all; a class that does not fit is plan->refusal. */
int vl_class_plan(struct vl_ctx *ctx, struct vl_class_plan *plan, struct vl_err *err);
void vl_class_plan_release(struct vl_class_plan *plan);

/* Per seat, what an operation did. */
struct vl_class_result {
	char *seat;
	bool ok;
	char *error;                   /* one line when !ok */
	double seconds;
};

struct vl_class_report {
	struct vl_class_result *seats;
	size_t n_seats;
	size_t failed;
	double total_s;
};

void vl_class_report_release(struct vl_class_report *r);

/* Make every seat (in parallel, at most [up] parallel seats per host),
 * destroy seats that left the roster, then take the baseline of every seat
 * that lacks it once all are ready. Idempotent. Fails when the class does
 * not fit (nothing is touched) or when any seat failed (the others are
 * made and reported). */
int vl_class_up(struct vl_ctx *ctx, struct vl_class_report *rep, struct vl_err *err);
/* The baseline of every seat that lacks it (the last step of up). Seats
 * not made are an error (VL_E_NOTFOUND) before anything is done. */
int vl_class_baseline(struct vl_ctx *ctx, struct vl_class_report *rep, struct vl_err *err);
/* Back to the baseline, in parallel: seats by id (n 0: all). Unknown ids
 * are VL_E_USAGE before anything is done. */
int vl_class_reset(struct vl_ctx *ctx, char *const *seats, size_t n, struct vl_class_report *rep,
		   struct vl_err *err);
/* Every seat of the class (the roster's and those that left it) on every
 * host that answers, then checked: nothing of any seat left. */
int vl_class_destroy(struct vl_ctx *ctx, struct vl_class_report *rep, struct vl_err *err);

/* A jump account export wrote a block for. */
struct vl_class_export_jump {
	char *host;                    /* jump.HOST's host; NULL: [class] jump */
	char *user, *addr;             /* USER@ADDR of the account */
	char *block;                   /* its authorized_keys block */
	char *file;                    /* where in DIR: authorized_keys[.HOST] */
	bool installed;                /* the account is on this machine: class up keeps the
					  block in its authorized_keys (marked), destroy removes it */
	char *key_from;                /* where the jump host's key was read */
};

/* What export wrote and what the jump accounts need. */
struct vl_class_export {
	size_t n_seats;                /* bundles written */
	struct vl_class_export_jump *jumps;  /* the accounts some seat made jumps through */
	size_t n_jumps;
};

/* DIR (must not exist) gets one directory per seat that is made: its
 * private key, known_hosts (its VMs' pinned host keys and its jump host's),
 * ssh_config and HOWTO.txt; class.csv for the teacher (seat, student,
 * e-mail, host, VMs and addresses, bundle); per jump account its block,
 * authorized_keys for [class] jump and authorized_keys.HOST for jump.HOST.
 * A seat jumps through the jump of its host (jump.HOST), else the class's.
 * Written under DIR.partial and renamed at the end, so a failure leaves
 * nothing. A jump host's key is its jump_key[.HOST], or the local sshd's
 * ed25519 key when the account is on this machine. */
int vl_class_export(struct vl_ctx *ctx, const char *dir, struct vl_class_export *out,
		    struct vl_err *err);
void vl_class_export_release(struct vl_class_export *e);

struct vl_class_seat_status {
	char *id, *student, *host;     /* host NULL: not made */
	unsigned vms_up, vms_total;
	unsigned ssh_ok;               /* running VMs that answered SSH with the pinned keys */
	uint64_t disk;                 /* bytes the seat's volumes take */
	time_t last_reset;             /* 0: never reset */
	bool has_baseline;
};

int vl_class_status(struct vl_ctx *ctx, struct vl_class_seat_status **out, size_t *n,
		    struct vl_err *err);
void vl_class_status_free(struct vl_class_seat_status *s, size_t n);

/* The context of one seat's lab (for ssh and exec): ctx with the seat's
 * instance and host. VL_E_USAGE for an unknown seat, VL_E_NOTFOUND when it
 * is on no host. Release with vl_class_seat_ctx_release. */
int vl_class_seat_ctx(struct vl_ctx *ctx, const char *seat, struct vl_ctx *out,
		      struct vl_err *err);
void vl_class_seat_ctx_release(struct vl_ctx *seat_ctx);

#endif
