/* Long operations (up, halt, snapshot, rollback, destroy, provision, class
 * reset) as
 * jobs on worker threads, each with a context of its own and a cancel flag.
 * Workers touch a job only under the set's lock and wake the main loop
 * through a pipe; the main loop never waits on libvirt. */
#ifndef UI_JOBS_H
#define UI_JOBS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "lab.h"
#include "util/buf.h"
#include "util/err.h"

#define UI_LOGS_MAX (512u << 10)   /* the log view keeps this much of a VM's logs, the end */

enum ui_job_kind {
	UI_JOB_UP, UI_JOB_HALT, UI_JOB_SNAPSHOT, UI_JOB_ROLLBACK, UI_JOB_DESTROY,
	UI_JOB_PROVISION,
	UI_JOB_RESET,       /* class seats to the baseline: lab_id the project's own lab, vms
			       the seat ids (none: every seat) */
	UI_JOB_SNAPLIST,    /* the lab's snapshots, for the rollback and destroy dialogs */
	UI_JOB_PLAN,        /* what up would change, after an edit */
	UI_JOB_LOGS,        /* a VM's logs (vl_lab_logs) for the log view */
};

const char *ui_job_kind_name(enum ui_job_kind k);
/* Whether a job is an operation on its lab (not a read for a dialog or view:
 * those hold nothing up and stay out of the jobs strip). */
bool ui_job_is_operation(enum ui_job_kind k);

/* Where a VM (or an image) is in its job, from the engine's events. */
enum ui_phase {
	UI_PH_WORKING, UI_PH_DOWNLOAD, UI_PH_UPLOAD, UI_PH_DEFINING, UI_PH_BOOTING, UI_PH_SSH,
	UI_PH_CLOUDINIT, UI_PH_PROVISION, UI_PH_SHUTDOWN, UI_PH_DONE,
};

const char *ui_phase_name(enum ui_phase p);
/* The phase an event says a subject entered; -1 when it says none. Pure. */
int ui_phase_of_event(enum vl_event_kind kind, const char *msg);

struct ui_job_item {
	char *subject;              /* VM or image */
	enum ui_phase phase;
	uint64_t done, total;       /* a download */
	int64_t since_ms;
};

struct ui_job {
	unsigned id;
	enum ui_job_kind kind;
	char *lab_id, *lab_name, *project;
	char **vms;                 /* the selection; n_vms 0: the whole lab */
	size_t n_vms;
	char *arg;                  /* snapshot name (save, rollback) */
	atomic_bool cancel;
	int64_t started_ms, ended_ms;
	bool running, failed, seen; /* seen: the main loop handled its end */
	bool archived;              /* out of the jobs strip; its log kept for the log view */
	struct vl_err err;
	struct ui_job_item *items;
	size_t n_items;
	struct vl_buf log;          /* "subject: message" lines */
	struct vl_buf output;       /* UI_JOB_LOGS: what vl_lab_logs wrote (its tail) */
	struct vl_snap_info *snaps; /* UI_JOB_SNAPLIST: newest first */
	size_t n_snaps;
	int purpose;                /* the caller's tag (which dialog a listing is for) */
	/* worker side */
	struct ui_jobs *set;
	const struct vl_ctx *base;
	struct vl_host *host;       /* a reference on the host the job started on */
	pthread_t thread;
};

struct ui_jobs {
	pthread_mutex_t lock;
	struct ui_job **jobs;
	size_t n_jobs;
	unsigned next_id;
	int wake[2];                /* workers write a byte; the main loop polls [0] */
	atomic_bool dirty;
};

int ui_jobs_init(struct ui_jobs *js, struct vl_err *err);
/* Joins every worker (after setting every cancel flag if cancel). */
void ui_jobs_release(struct ui_jobs *js, bool cancel);
void ui_jobs_wake(struct ui_jobs *js);
/* Empty the wake pipe; true if something changed since the last call. */
bool ui_jobs_drain(struct ui_jobs *js);

/* Start a job; it takes copies of everything and a reference on base->host
 * (read under the set's lock: the TUI replaces it under that lock when the
 * daemon comes back). NULL with err when the lab
 * already has a running job (one operation per lab, as the project lock
 * would refuse anyway) or the thread cannot start. */
struct ui_job *ui_jobs_start(struct ui_jobs *js, const struct vl_ctx *base, enum ui_job_kind kind,
			     const char *lab_id, const char *lab_name, const char *project,
			     char *const *vms, size_t n_vms, const char *arg, int purpose,
			     struct vl_err *err);
/* The running operation of a lab (NULL: none; listings, plans and logs do
 * not count). Call with the lock held. */
struct ui_job *ui_jobs_running(struct ui_jobs *js, const char *lab_id);
#define UI_JOBS_ARCHIVE 32   /* operations whose logs the log view keeps after the strip */

/* Finished jobs the main loop has seen that ended before cutoff_ms leave the
 * strip: operations into the archive (the oldest beyond UI_JOBS_ARCHIVE
 * dropped), the others dropped. */
void ui_jobs_prune(struct ui_jobs *js, int64_t cutoff_ms);

/* How a job gets its context: the config (shared, read-only), the lab's
 * profile loaded from its project directory with the instance its id names,
 * host (a reference taken, dropped by release), and the job's events. The
 * one place to change how a job reaches its host. */
int ui_job_ctx_init(struct vl_ctx *jc, const struct vl_ctx *base, struct vl_host *host,
		    const char *project, const char *lab_id, const struct vl_events *evs,
		    struct vl_err *err);
void ui_job_ctx_release(struct vl_ctx *jc);
/* The lab of project as its profile plans it, for the TUI to show before it
 * exists: pure (no libvirt; the subnet is not chosen against the host's). */
int ui_here_plan(const struct vl_ctx *base, const char *project, struct vl_plan *out,
		 struct vl_err *err);

#endif
