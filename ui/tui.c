/* The TUI's main loop: one poll() over the keyboard, the wake pipe of the
 * watch, listings and jobs, and a timer. Nothing here waits on libvirt:
 * the watch, listings and operations run on their own threads and report
 * into queues the loop drains (virsh's event loop, nemu's monitor). */
#include "tui.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "draw.h"
#include "host.h"
#include "jobs.h"
#include "keys.h"
#include "lab.h"
#include "model.h"
#include "plan.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"

#define CTRL(c) ((c) & 0x1f)
#define JOB_KEEP_MS 8000        /* a finished job stays in the strip this long */
#define FACTS_MS 5000           /* the header's host facts are read this often */

enum mode { M_MAIN, M_HELP, M_TEXT, M_LOG, M_FILTER, M_SNAPNAME, M_DESTROY, M_ROLLBACK,
	    M_RESET };
enum purpose { P_NONE, P_COUNT, P_DESTROY, P_ROLLBACK, P_LOG };

/* A watch change copied off the watch's thread. */
struct change {
	struct vl_watch_change c;
	char *lab, *vm, *domain, *network, *reason;
};

struct tui {
	struct vl_ctx *ctx;
	bool readonly;
	struct ui_model m;
	struct ui_draw d;
	struct ui_jobs js;
	struct vl_watch *watch;
	/* under js.lock: the watch's changes, and what the lister thread does
	 * (listings with the current directory's plan, host facts, a fresh
	 * shared host once the daemon is back) and found */
	struct change *inbox;
	size_t n_inbox;
	pthread_t lister;
	pthread_cond_t lister_cv;
	bool lister_started, lister_stop, want_list, want_reopen, list_ready;
	struct vl_lab_summary *labs;
	size_t n_labs;
	struct vl_err list_err;
	struct vl_plan plan;        /* lab_id NULL: no profile here, or a bad one */
	struct vl_host_facts facts; /* accel NULL: unknown */
	const char *here;           /* the current project directory, or NULL */
	const char *host_uri;       /* what the dispatcher opened ctx->host with */
	/* the screen */
	enum mode mode;
	char status[512];
	bool status_err;
	char input[128];
	char prompt[160];
	struct vl_buf text;
	char title[160];
	size_t scroll;
	char *log_lab, *log_vm;
	struct vl_buf log_out;      /* the VM's logs from the engine, once read */
	bool log_reading;
	/* dialogs */
	struct ui_target *targets;
	size_t n_targets;
	size_t pending;             /* listings the destroy dialog waits for */
	int focus;                  /* destroy, reset: 0 Cancel, 1 the action */
	struct ui_reset reset;      /* the reset dialog's seats */
	struct vl_snap_info *snaps;
	size_t n_snaps, snap_sel;
	char *snap_lab;
	bool quit;
	bool need_list;             /* a job ended: addresses and new VMs */
	char **count_labs;          /* labs whose snapshots to count again */
	size_t n_count;
	const char *uri;
	/* the engine's sink while curses owns the terminal */
	void (*saved_emit)(void *, const struct vl_event *);
	void *saved_ud;
};

static void set_status(struct tui *t, bool err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_status(struct tui *t, bool err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->status, sizeof(t->status), fmt, ap);
	va_end(ap);
	t->status_err = err;
}

/* ---- threads report here ---- */

static char *dup_or_null(const char *s)
{
	return s ? vl_strdup(s) : NULL;
}

static void on_change(void *ud, const struct vl_watch_change *c)
{
	struct tui *t = ud;
	struct change ch = { .c = *c };

	ch.lab = dup_or_null(c->lab);
	ch.vm = dup_or_null(c->vm);
	ch.domain = dup_or_null(c->domain);
	ch.network = dup_or_null(c->network);
	ch.reason = dup_or_null(c->reason);
	pthread_mutex_lock(&t->js.lock);
	t->inbox = vl_realloc(t->inbox, (t->n_inbox + 1) * sizeof(*t->inbox));
	t->inbox[t->n_inbox++] = ch;
	pthread_mutex_unlock(&t->js.lock);
	ui_jobs_wake(&t->js);
}

static void change_free(struct change *ch)
{
	free(ch->lab);
	free(ch->vm);
	free(ch->domain);
	free(ch->network);
	free(ch->reason);
}

/* The engine's events outside jobs (listings, the shared connection): kept
 * off the terminal; warnings reach the status line. */
static void base_emit(void *ud, const struct vl_event *ev)
{
	(void)ud;
	(void)ev;
}

/* The lister's work, off the UI thread. It alone replaces ctx->host (under
 * the lock, which main-thread readers take), so it reads it without. */
static void lister_work(struct tui *t, bool list, bool reopen, bool facts)
{
	struct vl_ctx lc = *t->ctx;
	struct vl_lab_summary *labs = NULL;
	struct vl_host_facts hf = { 0 };
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT, ignore = VL_ERR_INIT;
	size_t n = 0;
	int rc = 0;

	memset(&plan, 0, sizeof(plan));
	if (reopen) {   /* the watch reconnected: the shared connection died with the daemon */
		struct vl_host *h = vl_host_open(t->host_uri, &ignore);
		if (h) {
			struct vl_host *old;
			pthread_mutex_lock(&t->js.lock);
			old = t->ctx->host;
			t->ctx->host = h;
			pthread_mutex_unlock(&t->js.lock);
			vl_host_unref(old);   /* jobs still on it hold their own */
		}
	}
	lc.host = t->ctx->host;
	if (list) {
		rc = vl_lab_list_all(&lc, &labs, &n, &err);
		if (t->here && ui_here_plan(&lc, t->here, &plan, &ignore) < 0)
			memset(&plan, 0, sizeof(plan));
	}
	if (facts && vl_lab_host_facts(&lc, &hf, &ignore) < 0)
		hf = (struct vl_host_facts){ 0 };
	pthread_mutex_lock(&t->js.lock);
	if (list) {
		vl_lab_summaries_free(t->labs, t->n_labs);
		t->labs = rc < 0 ? NULL : labs;
		t->n_labs = rc < 0 ? 0 : n;
		t->list_err = err;
		vl_plan_release(&t->plan);
		t->plan = plan;
		t->list_ready = true;
	}
	if (facts)
		t->facts = hf;
	pthread_mutex_unlock(&t->js.lock);
	ui_jobs_wake(&t->js);
}

static void *lister_main(void *arg)
{
	struct tui *t = arg;
	int64_t next_facts = 0;

	pthread_mutex_lock(&t->js.lock);
	while (!t->lister_stop) {
		int64_t now = vl_now_mono_ms();
		bool list = t->want_list, reopen = t->want_reopen, facts = now >= next_facts || reopen;
		if (!list && !reopen && !facts) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (next_facts - now) / 1000;
			ts.tv_nsec += (next_facts - now) % 1000 * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&t->lister_cv, &t->js.lock, &ts);
			continue;
		}
		t->want_list = t->want_reopen = false;
		pthread_mutex_unlock(&t->js.lock);
		lister_work(t, list, reopen, facts);
		if (facts)
			next_facts = vl_now_mono_ms() + FACTS_MS;
		pthread_mutex_lock(&t->js.lock);
	}
	pthread_mutex_unlock(&t->js.lock);
	return NULL;
}

/* List the labs again on the lister thread (reopen: on a fresh connection). */
static void request_list(struct tui *t, bool reopen)
{
	pthread_mutex_lock(&t->js.lock);
	t->want_list = true;
	t->want_reopen |= reopen;
	pthread_cond_signal(&t->lister_cv);
	pthread_mutex_unlock(&t->js.lock);
}

static int lister_start(struct tui *t, struct vl_err *err)
{
	pthread_condattr_t ca;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->lister_cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&t->lister, NULL, lister_main, t);
	if (rc)
		return vl_err_sys(err, VL_E_FAIL, rc, "tui: cannot start the lister thread");
	t->lister_started = true;
	return 0;
}

static void lister_end(struct tui *t)
{
	if (!t->lister_started)
		return;
	pthread_mutex_lock(&t->js.lock);
	t->lister_stop = true;
	pthread_cond_signal(&t->lister_cv);
	pthread_mutex_unlock(&t->js.lock);
	pthread_join(t->lister, NULL);
	pthread_cond_destroy(&t->lister_cv);
	t->lister_started = false;
}

/* The planned lab into the model (before a listing loads). */
static void model_plan(struct tui *t, const struct vl_plan *plan)
{
	VL_AUTOFREE struct ui_plan_vm *vms = vl_calloc(plan->n_vms + 1, sizeof(*vms));

	for (size_t i = 0; i < plan->n_vms; i++)
		vms[i] = (struct ui_plan_vm){ plan->vms[i].name, plan->vms[i].cpus,
					      plan->vms[i].memory };
	ui_model_set_plan(&t->m, plan->lab_id, plan->lab_name, vms, plan->n_vms);
}

/* ---- jobs ---- */

static struct ui_job *start_job(struct tui *t, enum ui_job_kind kind, const struct ui_lab *lab,
				char *const *vms, size_t n_vms, const char *arg, int purpose)
{
	struct vl_err err = VL_ERR_INIT;
	struct ui_job *j = ui_jobs_start(&t->js, t->ctx, kind, lab->id, lab->name, lab->project, vms,
					 n_vms, arg, purpose, &err);

	if (!j)
		set_status(t, true, "%s", err.msg);
	else if (ui_job_is_operation(kind))
		set_status(t, false, "%s %s%s started", ui_job_kind_name(kind), lab->name,
			   n_vms ? " (selected VMs)" : "");
	return j;
}

static void count_snapshots(struct tui *t, const struct ui_lab *lab)
{
	if (lab->mine && lab->project && lab->exists)
		start_job(t, UI_JOB_SNAPLIST, lab, NULL, 0, NULL, P_COUNT);
}

static void open_destroy(struct tui *t);
static void open_rollback(struct tui *t, struct ui_job *j);
static void show_text(struct tui *t, enum mode mode, const char *title, const char *text);

/* A job the main loop has not seen end: its result, once. Lock held. */
static void job_ended(struct tui *t, struct ui_job *j)
{
	struct ui_lab *lab = ui_model_find_lab(&t->m, j->lab_id);

	j->seen = true;
	switch (j->kind) {
	case UI_JOB_SNAPLIST:
		if (lab && !j->failed)
			lab->n_snapshots = (int)j->n_snaps;
		if (j->purpose == P_DESTROY && t->mode == M_DESTROY && t->pending) {
			t->pending--;
			if (j->failed)
				set_status(t, true, "destroy: %s", j->err.msg);
			if (!t->pending)
				open_destroy(t);
		} else if (j->purpose == P_ROLLBACK && t->mode == M_ROLLBACK) {
			if (j->failed) {
				set_status(t, true, "rollback: %s", j->err.msg);
				t->mode = M_MAIN;
			} else {
				open_rollback(t, j);
			}
		}
		return;
	case UI_JOB_LOGS:
		if (t->mode != M_LOG || !t->log_vm || !vl_streq(j->lab_id, t->log_lab) ||
		    !vl_streq(j->vms[0], t->log_vm) || !t->log_reading)
			return;   /* the view went elsewhere meanwhile */
		vl_buf_release(&t->log_out);
		t->log_out = j->output;
		j->output = (struct vl_buf)VL_BUF_INIT;
		if (j->failed)
			vl_buf_printf(&t->log_out, "(vmlab logs %s: %s)\n", t->log_vm, j->err.msg);
		t->log_reading = false;
		return;
	case UI_JOB_PLAN:
		if (j->failed) {
			set_status(t, true, "plan %s: %s", j->lab_name, j->err.msg);
		} else {
			char title[160];
			snprintf(title, sizeof(title), " what up would make of %s (q returns)",
				 j->lab_name);
			show_text(t, M_TEXT, title, vl_buf_str(&j->log));
		}
		return;
	default:
		break;
	}
	if (j->failed)
		set_status(t, true, "%s %s failed: %s (l shows the log)", ui_job_kind_name(j->kind),
			   j->lab_name, j->err.msg);
	else
		set_status(t, false, "%s %s: done", ui_job_kind_name(j->kind), j->lab_name);
	/* after the lock is let go (starting a job takes it) */
	t->need_list = true;
	if (lab && j->kind != UI_JOB_HALT) {
		t->count_labs = vl_realloc(t->count_labs, (t->n_count + 1) * sizeof(char *));
		t->count_labs[t->n_count++] = vl_strdup(lab->id);
	}
}

/* ---- what the threads reported ---- */

static void drain(struct tui *t, int64_t now)
{
	struct change *in;
	size_t n;
	bool need_list = false, listed, reopen = false;

	ui_jobs_drain(&t->js);
	pthread_mutex_lock(&t->js.lock);
	in = t->inbox;
	n = t->n_inbox;
	t->inbox = NULL;
	t->n_inbox = 0;
	listed = t->list_ready;
	t->list_ready = false;
	if (listed) {
		if (t->list_err.code != VL_OK && t->m.connected) {
			set_status(t, true, "listing labs: %s", t->list_err.msg);
		} else if (t->list_err.code == VL_OK) {
			model_plan(t, &t->plan);
			ui_model_load(&t->m, t->labs, t->n_labs, now);
		}
	}
	for (size_t i = 0; i < t->js.n_jobs; i++) {
		struct ui_job *j = t->js.jobs[i];
		if (!j->running && !j->seen)
			job_ended(t, j);
	}
	pthread_mutex_unlock(&t->js.lock);
	for (size_t i = 0; i < n; i++) {
		struct change *ch = &in[i];
		if (ch->c.kind == VL_WATCH_RECONNECTED)
			reopen = true;
		ch->c.lab = ch->lab;
		ch->c.vm = ch->vm;
		ch->c.domain = ch->domain;
		ch->c.network = ch->network;
		ch->c.reason = ch->reason;
		ui_model_apply(&t->m, &ch->c, now, &need_list);
		if (ch->c.kind == VL_WATCH_LAB_APPEARED)
			need_list = true;
		change_free(ch);
	}
	free(in);
	for (size_t i = 0; i < t->n_count; i++) {
		const struct ui_lab *lab = ui_model_find_lab(&t->m, t->count_labs[i]);
		if (lab)
			count_snapshots(t, lab);
		free(t->count_labs[i]);
	}
	t->n_count = 0;
	if (need_list || t->need_list || reopen)
		request_list(t, reopen);
	t->need_list = false;
}

/* ---- screens other than the list ---- */

static void show_text(struct tui *t, enum mode mode, const char *title, const char *text)
{
	vl_buf_release(&t->text);
	vl_buf_append(&t->text, text);
	vl_strlcpy(t->title, title, sizeof(t->title));
	t->scroll = 0;
	t->mode = mode;
	ui_draw_invalidate(&t->d);
}

/* The log view: a VM's logs from the engine (console, cloud-init,
 * provisioners), then this session's jobs on it: every line of the lab's
 * jobs, or the VM's own and the lab's. */
static void build_log(struct tui *t, struct vl_buf *out)
{
	size_t vlen = t->log_vm ? strlen(t->log_vm) : 0;
	bool any = false;

	if (t->log_vm) {
		vl_buf_append(out, t->log_reading ? "(reading the logs...)\n" : vl_buf_str(&t->log_out));
		vl_buf_printf(out, "== this session's jobs on %s\n", t->log_vm);
	}
	pthread_mutex_lock(&t->js.lock);
	for (size_t i = 0; i < t->js.n_jobs; i++) {
		const struct ui_job *j = t->js.jobs[i];
		const char *p = vl_buf_str(&j->log);
		if (!vl_streq(j->lab_id, t->log_lab) || !ui_job_is_operation(j->kind))
			continue;
		any = true;
		vl_buf_printf(out, "== %s %s%s\n", ui_job_kind_name(j->kind), j->lab_name,
			      j->running ? " (running)" : j->failed ? " (failed)" : " (done)");
		while (p && *p) {
			const char *e = strchr(p, '\n');
			size_t len = e ? (size_t)(e - p + 1) : strlen(p);
			bool vm_line = vlen && !strncmp(p, t->log_vm, vlen) && p[vlen] == ':';
			bool lab_line = !strncmp(p, j->lab_name, strlen(j->lab_name)) &&
					p[strlen(j->lab_name)] == ':';
			if (!vlen || vm_line || lab_line || vl_str_startswith(p, "error:"))
				vl_buf_appendn(out, p, len);
			p += len;
		}
	}
	pthread_mutex_unlock(&t->js.lock);
	if (!any)
		vl_buf_append(out, "(no job has run on it in this session)\n");
}

static void open_log(struct tui *t)
{
	const struct ui_row *r = ui_model_selected(&t->m);
	const struct ui_lab *lab;

	if (!r)
		return;
	lab = &t->m.labs[r->lab];
	free(t->log_lab);
	free(t->log_vm);
	t->log_lab = vl_strdup(lab->id);
	t->log_vm = r->kind == UI_ROW_VM ? vl_strdup(lab->vms[r->vm].name) : NULL;
	vl_buf_release(&t->log_out);
	t->log_reading = false;
	if (t->log_vm && lab->vms[r->vm].state != VL_VM_MISSING) {
		/* on a worker: the console log may be large, cloud-init's needs SSH */
		t->log_reading = start_job(t, UI_JOB_LOGS, lab, &t->log_vm, 1, NULL, P_LOG) != NULL;
		if (!t->log_reading)
			vl_buf_printf(&t->log_out, "(%s)\n", t->status);
	} else if (t->log_vm) {
		vl_buf_printf(&t->log_out, "(%s is not created yet: no logs)\n", t->log_vm);
	}
	snprintf(t->title, sizeof(t->title), " log of %s%s%s (q returns)", lab->name,
		 t->log_vm ? " / " : "", t->log_vm ? t->log_vm : "");
	t->scroll = 0;
	t->mode = M_LOG;
	ui_draw_invalidate(&t->d);
}

/* R: the dialog names the class and every seat that goes back to its
 * baseline, Cancel focused. Only a class of this machine's user, whose
 * project directory holds its profile ([class] and baseline). */
static void ask_reset(struct tui *t)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_buf b = VL_BUF_INIT;
	const struct ui_class *c;
	const struct ui_lab *any = NULL;

	ui_reset_release(&t->reset);
	if (ui_model_reset_target(&t->m, &t->reset, &err) < 0) {
		set_status(t, true, "%s", err.msg);
		return;
	}
	c = &t->m.classes[t->reset.cls];
	for (size_t i = 0; i < t->m.n_labs && !any; i++)
		if (t->m.labs[i].seat && t->m.labs[i].cls == t->reset.cls)
			any = &t->m.labs[i];
	if (!any || !any->mine || !c->project) {
		set_status(t, true, "reset: class %s is not this user's (reset it from its project)",
			   c->name);
		ui_reset_release(&t->reset);
		return;
	}
	vl_buf_printf(&b, "class %s (%s):\n", c->name, c->project);
	if (!t->reset.n_seats)
		vl_buf_printf(&b, "  every seat\n");
	for (size_t i = 0; i < t->reset.n_seats; i++)
		vl_buf_printf(&b, "  seat %s\n", t->reset.seats[i]);
	vl_buf_printf(&b, "\ngoes back to the class baseline: what was done in its VMs since is "
		      "lost.\nAddresses, host keys and the student key stay.\n");
	vl_buf_release(&t->text);
	t->text = b;
	snprintf(t->title, sizeof(t->title), " reset: back to the baseline");
	t->focus = 0;
	t->mode = M_RESET;
	set_status(t, false, "reset: Cancel is focused (Tab switches, Enter chooses, Esc cancels)");
	ui_draw_invalidate(&t->d);
}

/* The reset confirmed: one job for the class, on its project's own lab id
 * (one operation at a time, as for a lab). */
static void start_reset(struct tui *t)
{
	const struct ui_class *c = &t->m.classes[t->reset.cls];
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *own = vl_plan_instance_id(c->name, c->project, NULL);
	struct ui_job *j = ui_jobs_start(&t->js, t->ctx, UI_JOB_RESET, own, c->name, c->project,
					 t->reset.seats, t->reset.n_seats, NULL, P_NONE, &err);

	if (!j)
		set_status(t, true, "%s", err.msg);
	else
		set_status(t, false, "reset of class %s (%s) started", c->name,
			   t->reset.n_seats ? "chosen seats" : "every seat");
}

static void clear_targets(struct tui *t)
{
	ui_targets_free(t->targets, t->n_targets);
	t->targets = NULL;
	t->n_targets = 0;
}

/* D: list each target lab's snapshots first, then the dialog. */
static void ask_destroy(struct tui *t)
{
	clear_targets(t);
	t->n_targets = ui_model_targets(&t->m, &t->targets);
	t->pending = 0;
	t->mode = M_DESTROY;
	for (size_t i = 0; i < t->n_targets; i++)
		t->pending += start_job(t, UI_JOB_SNAPLIST, &t->m.labs[t->targets[i].lab], NULL, 0,
					NULL, P_DESTROY) != NULL;
	if (!t->pending) {
		t->mode = M_MAIN;
		clear_targets(t);
		return;
	}
	set_status(t, false, "destroy: reading the snapshots...");
}

/* The dialog names every VM, disk and snapshot that goes. Lock held. */
static void open_destroy(struct tui *t)
{
	struct vl_buf b = VL_BUF_INIT;

	t->focus = 0;
	for (size_t i = 0; i < t->n_targets; i++) {
		const struct ui_target *tg = &t->targets[i];
		const struct ui_lab *lab = &t->m.labs[tg->lab];
		const struct ui_job *snapjob = NULL;
		for (size_t k = t->js.n_jobs; k-- > 0;)
			if (t->js.jobs[k]->kind == UI_JOB_SNAPLIST &&
			    t->js.jobs[k]->purpose == P_DESTROY && vl_streq(t->js.jobs[k]->lab_id, lab->id)) {
				snapjob = t->js.jobs[k];
				break;
			}
		vl_buf_printf(&b, "lab %s%s:\n", lab->name, tg->n_vms ? " (these VMs)" : " (all of it)");
		for (size_t j = 0; j < lab->n_vms; j++) {
			bool in = !tg->n_vms;
			for (size_t k = 0; k < tg->n_vms; k++)
				in = in || vl_streq(tg->vms[k], lab->vms[j].name);
			if (!in || lab->vms[j].state == VL_VM_MISSING)   /* nothing of it to go */
				continue;
			VL_AUTOFREE char *dom = vl_name_domain(lab->id, lab->vms[j].name);
			VL_AUTOFREE char *disk = vl_name_disk(dom);
			VL_AUTOFREE char *seed = vl_name_seed(dom);
			vl_buf_printf(&b, "  VM %s  (domain %s)\n    disk %s\n    seed %s\n",
				      lab->vms[j].name, dom, disk, seed);
		}
		if (!tg->n_vms && lab->network)
			vl_buf_printf(&b, "  network %s\n", lab->network);
		if (snapjob && snapjob->n_snaps) {
			vl_buf_printf(&b, "  snapshots:");
			for (size_t k = 0; k < snapjob->n_snaps; k++)
				vl_buf_printf(&b, " %s", snapjob->snaps[k].name);
			vl_buf_putc(&b, '\n');
		} else {
			vl_buf_printf(&b, "  snapshots: none\n");
		}
	}
	vl_buf_release(&t->text);
	t->text = b;
	snprintf(t->title, sizeof(t->title), " destroy: this goes for good");
	t->scroll = 0;
	set_status(t, false, "destroy: Cancel is focused (Tab switches, Enter chooses, Esc cancels)");
	ui_draw_invalidate(&t->d);
}

static void open_rollback(struct tui *t, struct ui_job *j)
{
	vl_snap_info_free(t->snaps, t->n_snaps);
	t->snaps = j->snaps;   /* newest first */
	t->n_snaps = j->n_snaps;
	j->snaps = NULL;
	j->n_snaps = 0;
	t->snap_sel = 0;
	free(t->snap_lab);
	t->snap_lab = vl_strdup(j->lab_id);
	if (!t->n_snaps) {
		set_status(t, true, "rollback: lab %s has no snapshot (s saves one)", j->lab_name);
		t->mode = M_MAIN;
		return;
	}
	snprintf(t->title, sizeof(t->title), " rollback %s to (newest first; Enter, Esc)",
		 j->lab_name);
	set_status(t, false, "rollback: choose a snapshot");
	ui_draw_invalidate(&t->d);
}

static void rollback_text(struct tui *t, struct vl_buf *b)
{
	for (size_t i = 0; i < t->n_snaps; i++) {
		char when[32];
		struct tm tm;
		localtime_r(&t->snaps[i].created, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		vl_buf_printf(b, "%s %-24s %s  %zu VM%s%s\n", i == t->snap_sel ? ">" : " ",
			      t->snaps[i].name, when, t->snaps[i].n_vms, t->snaps[i].n_vms == 1 ? "" : "s",
			      t->snaps[i].with_memory ? ", with memory" : "");
	}
}

/* ---- leaving curses: ssh, console, editor ---- */

static void leave_curses(const char *banner)
{
	def_prog_mode();
	endwin();
	if (banner) {
		printf("%s\n", banner);
		fflush(stdout);
	}
}

static void back_to_curses(struct tui *t)
{
	reset_prog_mode();
	clearok(stdscr, TRUE);
	ui_draw_invalidate(&t->d);
}

static const struct ui_lab *selected_vm(struct tui *t, const char **vm)
{
	const struct ui_row *r = ui_model_selected(&t->m);

	if (!r || r->kind != UI_ROW_VM)
		return NULL;
	*vm = t->m.labs[r->lab].vms[r->vm].name;
	return &t->m.labs[r->lab];
}

/* A context for work on the main thread (ssh, console, the editor's
 * check): the same one function jobs use. */
static int main_ctx(struct tui *t, const struct ui_lab *lab, struct vl_ctx *jc, struct vl_err *err)
{
	struct vl_host *h;
	int rc;

	pthread_mutex_lock(&t->js.lock);   /* the lister may replace it */
	h = vl_host_ref(t->ctx->host);
	pthread_mutex_unlock(&t->js.lock);
	rc = ui_job_ctx_init(jc, t->ctx, h, lab->project, lab->id, &t->ctx->events, err);
	vl_host_unref(h);
	return rc;
}

static void do_ssh(struct tui *t)
{
	const char *vm = NULL;
	const struct ui_lab *lab = selected_vm(t, &vm);
	struct vl_err err = VL_ERR_INIT;
	struct vl_ctx jc;
	char banner[256];
	int status = 0, rc;

	if (!lab)
		return;
	if (main_ctx(t, lab, &jc, &err) < 0) {
		set_status(t, true, "ssh: %s", err.msg);
		return;
	}
	snprintf(banner, sizeof(banner), "vmlab: shell on %s (lab %s); exit the shell to return to "
		 "the TUI", vm, lab->name);
	VL_AUTOFREE char *name = vl_strdup(vm);
	VL_AUTOFREE char *labname = vl_strdup(lab->name);
	leave_curses(banner);
	rc = vl_lab_ssh_shell(&jc, name, &status, &err);
	ui_job_ctx_release(&jc);
	back_to_curses(t);
	if (rc < 0)
		set_status(t, true, "ssh %s: %s", name, err.msg);
	else
		set_status(t, false, "back from %s/%s (shell exited %d)", labname, name, status);
}

static void do_console(struct tui *t)
{
	const char *vm = NULL;
	const struct ui_lab *lab = selected_vm(t, &vm);
	struct vl_err err = VL_ERR_INIT;
	struct vl_ctx jc;
	char banner[256];
	int rc;

	if (!lab)
		return;
	if (main_ctx(t, lab, &jc, &err) < 0) {
		set_status(t, true, "console: %s", err.msg);
		return;
	}
	snprintf(banner, sizeof(banner), "vmlab: console of %s (lab %s); %s returns to the TUI", vm,
		 lab->name, UI_CONSOLE_ESCAPE);
	VL_AUTOFREE char *name = vl_strdup(vm);
	leave_curses(banner);
	rc = ui_console_run(&jc, name, &err);
	ui_job_ctx_release(&jc);
	back_to_curses(t);
	if (rc < 0)
		set_status(t, true, "console %s: %s", name, err.msg);
	else
		set_status(t, false, "back from the console of %s", name);
}

/* e: $EDITOR on vmlab.ini, check it on return, then the plan as a job. */
static void do_edit(struct tui *t)
{
	const struct ui_row *r = ui_model_selected(&t->m);
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	struct vl_profile p;
	const struct ui_lab *lab;
	const char *editor = getenv("VISUAL");
	int status = 0;
	pid_t pid;

	if (!r)
		return;
	lab = &t->m.labs[r->lab];
	if (!lab->project) {
		set_status(t, true, "edit: lab %s has no project directory recorded", lab->name);
		return;
	}
	if (!editor || !*editor)
		editor = getenv("EDITOR");
	if (!editor || !*editor)
		editor = "vi";
	VL_AUTOFREE char *path = vl_malloc(strlen(lab->project) + sizeof("/" VL_PROFILE_FILE));
	sprintf(path, "%s/%s", lab->project, VL_PROFILE_FILE);
	if (access(path, R_OK | W_OK) < 0) {
		set_status(t, true, "edit: cannot open %s: %s", path, strerror(errno));
		return;
	}
	leave_curses(NULL);
	pid = fork();
	if (pid == 0) {
		execlp(editor, editor, path, (char *)NULL);
		fprintf(stderr, "vmlab: cannot run %s: %s\n", editor, strerror(errno));
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	back_to_curses(t);
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		set_status(t, true, "edit: %s did not exit cleanly; nothing checked", editor);
		return;
	}
	memset(&p, 0, sizeof(p));
	struct vl_profile_trust trust = vl_ctx_trust(t->ctx);
	if (vl_profile_load_trusted(&p, path, &trust, &diags, &err) < 0) {
		struct vl_buf b = VL_BUF_INIT;
		for (size_t i = 0; i < diags.n; i++) {
			VL_AUTOFREE char *line = vl_diag_format(&diags.items[i]);
			vl_buf_printf(&b, "%s\n", line);
		}
		if (!diags.n)
			vl_buf_printf(&b, "%s\n", err.msg);
		set_status(t, true, "edit: %s", err.msg);
		show_text(t, M_TEXT, " vmlab.ini has problems (q returns; e edits again)", vl_buf_str(&b));
		vl_buf_release(&b);
		return;
	}
	vl_profile_release(&p);
	start_job(t, UI_JOB_PLAN, lab, NULL, 0, NULL, P_NONE);
	set_status(t, false, "edit: %s is valid; planning...", path);
}

/* ---- keys ---- */

static void act_on_targets(struct tui *t, enum ui_job_kind kind, const char *arg)
{
	struct ui_target *tg = NULL;
	size_t n = ui_model_targets(&t->m, &tg);

	for (size_t i = 0; i < n; i++)
		start_job(t, kind, &t->m.labs[tg[i].lab], tg[i].vms, tg[i].n_vms, arg, P_NONE);
	ui_targets_free(tg, n);
}

/* The lab id a row's jobs run under: a class's is its project's own lab
 * (start_reset). Caller frees. */
static char *row_job_id(const struct tui *t, const struct ui_row *r)
{
	const struct ui_lab *lab = &t->m.labs[r->lab];
	const struct ui_class *c;

	if (r->kind != UI_ROW_CLASS)
		return vl_strdup(lab->id);
	c = &t->m.classes[lab->cls];
	return vl_plan_instance_id(c->name, c->project ? c->project : "", NULL);
}

static unsigned key_ctx(struct tui *t)
{
	const struct ui_row *r = ui_model_selected(&t->m);
	unsigned ctx;

	if (!r)
		return 0;
	ctx = ui_key_row_ctx(r->kind == UI_ROW_CLASS, r->kind == UI_ROW_LAB, t->m.labs[r->lab].seat);
	VL_AUTOFREE char *id = row_job_id(t, r);
	pthread_mutex_lock(&t->js.lock);
	if (ui_jobs_running(&t->js, id))
		ctx |= UI_CTX_JOB;
	pthread_mutex_unlock(&t->js.lock);
	return ctx;
}

/* Actions on what exists: on a lab or VM not created yet only u (and e, l)
 * make sense. */
static bool needs_made(enum ui_action a)
{
	switch (a) {
	case UI_A_SSH: case UI_A_CONSOLE: case UI_A_HALT: case UI_A_SNAPSHOT: case UI_A_ROLLBACK:
	case UI_A_PROVISION: case UI_A_DESTROY:
		return true;
	default:
		return false;
	}
}

/* A confirmation that would start a job while the connection is lost. */
static bool refuse_lost(struct tui *t)
{
	if (t->m.connected)
		return false;
	set_status(t, true, "libvirt connection lost: actions are off until it is back");
	return true;
}

static void main_key(struct tui *t, int key)
{
	unsigned ctx = key_ctx(t);
	bool ro = t->readonly || !t->m.connected;
	enum ui_action a = ui_key_action(ui_keys, ui_n_keys, key, ctx ? ctx : UI_CTX_ANY, ro);
	const struct ui_row *r = ui_model_selected(&t->m);
	int page = ui_draw_list_height(&t->d, &(struct ui_view){ .m = &t->m, .jobs = &t->js });

	if (a == UI_A_NONE && ui_key_action(ui_keys, ui_n_keys, key, ctx ? ctx : UI_CTX_ANY, false)) {
		set_status(t, true, t->readonly ? "read-only: actions are off" :
			   "libvirt connection lost: actions are off until it is back");
		return;
	}
	if (r && needs_made(a) && !ui_model_n_marked(&t->m)) {
		const struct ui_lab *lab = &t->m.labs[r->lab];
		if (!lab->exists || (r->kind == UI_ROW_VM && lab->vms[r->vm].state == VL_VM_MISSING)) {
			if (r->kind == UI_ROW_VM)
				set_status(t, true, "%s is not created yet (u creates it)",
					   lab->vms[r->vm].name);
			else
				set_status(t, true, "lab %s is not created yet (u creates it)", lab->name);
			return;
		}
	}
	t->status[0] = '\0';
	switch (a) {
	case UI_A_UP_ROW: ui_model_move(&t->m, -1); break;
	case UI_A_DOWN_ROW: ui_model_move(&t->m, 1); break;
	case UI_A_PAGE_UP: ui_model_move(&t->m, -page); break;
	case UI_A_PAGE_DOWN: ui_model_move(&t->m, page); break;
	case UI_A_COLLAPSE: ui_model_expand(&t->m, false); break;
	case UI_A_EXPAND:
		if (key == '\n' && r && r->kind == UI_ROW_LAB)
			ui_model_expand(&t->m, !t->m.labs[r->lab].expanded);
		else if (key == '\n' && r && r->kind == UI_ROW_CLASS)
			ui_model_expand(&t->m, !t->m.classes[t->m.labs[r->lab].cls].expanded);
		else
			ui_model_expand(&t->m, true);
		break;
	case UI_A_SSH: do_ssh(t); break;
	case UI_A_CONSOLE: do_console(t); break;
	case UI_A_UP: act_on_targets(t, UI_JOB_UP, NULL); break;
	case UI_A_PROVISION: act_on_targets(t, UI_JOB_PROVISION, NULL); break;
	case UI_A_HALT: act_on_targets(t, UI_JOB_HALT, NULL); break;
	case UI_A_SNAPSHOT:
		t->input[0] = '\0';
		t->mode = M_SNAPNAME;
		break;
	case UI_A_ROLLBACK:
		if (r && start_job(t, UI_JOB_SNAPLIST, &t->m.labs[r->lab], NULL, 0, NULL, P_ROLLBACK)) {
			t->mode = M_ROLLBACK;
			t->n_snaps = 0;
			set_status(t, false, "rollback: reading the snapshots...");
		}
		break;
	case UI_A_DESTROY: ask_destroy(t); break;
	case UI_A_RESET: ask_reset(t); break;
	case UI_A_EDIT: do_edit(t); break;
	case UI_A_LOG: open_log(t); break;
	case UI_A_MARK:
		ui_model_toggle_mark(&t->m);
		if (r && r->kind == UI_ROW_VM)
			ui_model_move(&t->m, 1);
		break;
	case UI_A_FILTER:
		vl_strlcpy(t->input, t->m.filter_src ? t->m.filter_src : "", sizeof(t->input));
		t->mode = M_FILTER;
		break;
	case UI_A_CLEAR:
		ui_model_set_filter(&t->m, NULL, NULL);
		for (size_t i = 0; i < t->m.n_labs; i++)
			for (size_t j = 0; j < t->m.labs[i].n_vms; j++)
				t->m.labs[i].vms[j].marked = false;
		break;
	case UI_A_HELP: {
		struct vl_buf b = VL_BUF_INIT;
		vl_buf_printf(&b, "Keys (the footer shows those valid for the selection):\n\n");
		ui_keys_help(ui_keys, ui_n_keys, t->readonly, &b);
		vl_buf_printf(&b, "\nState is a word and a symbol: %s running, %s paused, %s shut "
			      "off, %s crashed; + marks a VM.\n", t->d.utf8 ? "●" : "*",
			      t->d.utf8 ? "‖" : "=", t->d.utf8 ? "○" : "o", t->d.utf8 ? "✗" : "!");
		show_text(t, M_HELP, " vmlab tui: help (q or ? returns)", vl_buf_str(&b));
		vl_buf_release(&b);
		break;
	}
	case UI_A_REDRAW:
		clearok(stdscr, TRUE);
		ui_draw_invalidate(&t->d);
		break;
	case UI_A_QUIT: t->quit = true; break;
	case UI_A_CANCEL_JOB:
		pthread_mutex_lock(&t->js.lock);
		if (r) {
			VL_AUTOFREE char *id = row_job_id(t, r);
			struct ui_job *j = ui_jobs_running(&t->js, id);
			if (j) {
				atomic_store(&j->cancel, true);
				set_status(t, false, "cancelling %s of %s", ui_job_kind_name(j->kind),
					   j->lab_name);
			}
		}
		pthread_mutex_unlock(&t->js.lock);
		break;
	case UI_A_NONE:
		break;
	}
}

/* Line editing for the filter and the snapshot name. Returns 1 on Enter,
 * -1 on Esc, 0 otherwise. */
static int edit_key(char *buf, size_t size, int key)
{
	size_t len = strlen(buf);

	if (key == '\n' || key == KEY_ENTER)
		return 1;
	if (key == 27)
		return -1;
	if ((key == KEY_BACKSPACE || key == 127 || key == CTRL('h')) && len)
		buf[len - 1] = '\0';
	else if (key == CTRL('u'))
		buf[0] = '\0';
	else if (key >= 32 && key < 127 && len + 1 < size) {
		buf[len] = (char)key;
		buf[len + 1] = '\0';
	}
	return 0;
}

static void scroll_key(struct tui *t, int key)
{
	int page = t->d.rows > 3 ? t->d.rows - 3 : 1;

	if (key == 'j' || key == KEY_DOWN)
		t->scroll++;
	else if ((key == 'k' || key == KEY_UP) && t->scroll)
		t->scroll--;
	else if (key == KEY_NPAGE || key == ' ')
		t->scroll += (size_t)page;
	else if (key == KEY_PPAGE)
		t->scroll = t->scroll > (size_t)page ? t->scroll - (size_t)page : 0;
	else if (key == 'G')
		t->scroll = SIZE_MAX / 2;
	else if (key == 'g')
		t->scroll = 0;
}

static void back_to_main(struct tui *t)
{
	t->mode = M_MAIN;
	ui_draw_invalidate(&t->d);
}

static void handle_key(struct tui *t, int key)
{
	struct vl_err err = VL_ERR_INIT;
	int rc;

	if (key == KEY_RESIZE) {
		ui_draw_invalidate(&t->d);
		return;
	}
	switch (t->mode) {
	case M_MAIN:
		main_key(t, key);
		return;
	case M_HELP:
	case M_TEXT:
	case M_LOG:
		if (key == 'q' || key == 27 || (key == '?' && t->mode == M_HELP))
			back_to_main(t);
		else if (key == CTRL('l'))
			ui_draw_invalidate(&t->d);
		else
			scroll_key(t, key);
		return;
	case M_FILTER:
		rc = edit_key(t->input, sizeof(t->input), key);
		if (rc < 0) {
			ui_model_set_filter(&t->m, NULL, NULL);
			t->status[0] = '\0';
			t->mode = M_MAIN;
		} else if (ui_model_set_filter(&t->m, t->input, &err) < 0) {
			set_status(t, true, "%s", err.msg);
		} else {
			t->status[0] = '\0';
			if (rc > 0)
				t->mode = M_MAIN;
		}
		return;
	case M_SNAPNAME:
		rc = edit_key(t->input, sizeof(t->input), key);
		if (rc < 0) {
			t->mode = M_MAIN;
			t->status[0] = '\0';
		} else if (rc > 0) {
			if (refuse_lost(t))
				return;
			if (vl_lab_snapshot_name_check(t->input, &err) < 0) {
				set_status(t, true, "%s", err.msg);
				return;
			}
			t->mode = M_MAIN;
			act_on_targets(t, UI_JOB_SNAPSHOT, t->input);
		}
		return;
	case M_DESTROY:
		if (t->pending)
			return;   /* still listing: Esc below only once the dialog shows */
		if (key == '\t' || key == KEY_LEFT || key == KEY_RIGHT || key == 'h' || key == 'l')
			t->focus = !t->focus;
		else if (key == 27 || key == 'q' || ((key == '\n' || key == KEY_ENTER) && !t->focus)) {
			set_status(t, false, "destroy: cancelled");
			clear_targets(t);
			back_to_main(t);
		} else if (key == '\n' || key == KEY_ENTER) {
			if (refuse_lost(t))
				return;
			for (size_t i = 0; i < t->n_targets; i++)
				start_job(t, UI_JOB_DESTROY, &t->m.labs[t->targets[i].lab],
					  t->targets[i].vms, t->targets[i].n_vms, NULL, P_NONE);
			for (size_t i = 0; i < t->m.n_labs; i++)
				for (size_t j = 0; j < t->m.labs[i].n_vms; j++)
					t->m.labs[i].vms[j].marked = false;
			clear_targets(t);
			back_to_main(t);
		}
		return;
	case M_RESET:
		if (key == '\t' || key == KEY_LEFT || key == KEY_RIGHT || key == 'h' || key == 'l') {
			t->focus = !t->focus;
		} else if (key == 27 || key == 'q' || ((key == '\n' || key == KEY_ENTER) && !t->focus)) {
			set_status(t, false, "reset: cancelled");
			ui_reset_release(&t->reset);
			back_to_main(t);
		} else if (key == '\n' || key == KEY_ENTER) {
			if (refuse_lost(t))
				return;
			start_reset(t);
			for (size_t i = 0; i < t->m.n_labs; i++)
				for (size_t j = 0; j < t->m.labs[i].n_vms; j++)
					t->m.labs[i].vms[j].marked = false;
			ui_reset_release(&t->reset);
			back_to_main(t);
		}
		return;
	case M_ROLLBACK:
		if (!t->n_snaps) {
			if (key == 27 || key == 'q')
				back_to_main(t);
			return;
		}
		if ((key == 'j' || key == KEY_DOWN) && t->snap_sel + 1 < t->n_snaps)
			t->snap_sel++;
		else if ((key == 'k' || key == KEY_UP) && t->snap_sel)
			t->snap_sel--;
		else if (key == 27 || key == 'q') {
			set_status(t, false, "rollback: cancelled");
			back_to_main(t);
		} else if (key == '\n' || key == KEY_ENTER) {
			const struct ui_lab *lab = ui_model_find_lab(&t->m, t->snap_lab);
			if (refuse_lost(t))
				return;
			if (lab)
				start_job(t, UI_JOB_ROLLBACK, lab, NULL, 0, t->snaps[t->snap_sel].name,
					  P_NONE);
			back_to_main(t);
		}
		return;
	}
}

/* ---- the frame ---- */

/* Keep a text's scroll within it: G (the end) shows the last page. */
static size_t clamp_scroll(const struct tui *t, const char *text)
{
	size_t lines = 0, page = t->d.rows > 2 ? (size_t)t->d.rows - 2 : 1;

	for (const char *p = text; p && *p; p++)
		lines += *p == '\n' || !p[1];
	return t->scroll < (lines > page ? lines - page : 0) ? t->scroll :
	       lines > page ? lines - page : 0;
}

static int draw(struct tui *t, int64_t now)
{
	struct ui_view v = {
		.m = &t->m, .jobs = &t->js, .uri = t->uri, .readonly = t->readonly,
		.status = t->status[0] ? t->status : NULL, .status_err = t->status_err,
		.now_ms = now,
	};
	struct vl_buf b = VL_BUF_INIT;
	int n;

	pthread_mutex_lock(&t->js.lock);
	v.free_mem = t->facts.mem_free;
	v.mem_total = t->facts.mem_total;
	v.accel = t->facts.accel;   /* static strings */
	pthread_mutex_unlock(&t->js.lock);
	switch (t->mode) {
	case M_FILTER:
		snprintf(t->prompt, sizeof(t->prompt), "/%s", t->input);
		v.prompt = t->prompt;
		/* fallthrough */
	case M_MAIN:
		return ui_draw_frame(&t->d, stdscr, &v);
	case M_SNAPNAME:
		snprintf(t->prompt, sizeof(t->prompt), "snapshot name: %s", t->input);
		v.prompt = t->prompt;
		return ui_draw_frame(&t->d, stdscr, &v);
	case M_HELP:
	case M_TEXT:
		t->scroll = clamp_scroll(t, vl_buf_str(&t->text));
		return ui_draw_text(&t->d, stdscr, t->title, vl_buf_str(&t->text), t->scroll,
				    "q returns  j/k scroll");
	case M_LOG:
		build_log(t, &b);
		t->scroll = clamp_scroll(t, vl_buf_str(&b));
		n = ui_draw_text(&t->d, stdscr, t->title, vl_buf_str(&b), t->scroll,
				 "q returns  j/k scroll  G end");
		vl_buf_release(&b);
		return n;
	case M_DESTROY:
		if (t->pending)
			return ui_draw_frame(&t->d, stdscr, &v);
		vl_buf_append(&b, vl_buf_str(&t->text));
		vl_buf_printf(&b, "\n        %s         %s\n", t->focus ? "  Cancel  " : "[ Cancel ]",
			      t->focus ? "[ Destroy ]" : "  Destroy  ");
		n = ui_draw_text(&t->d, stdscr, t->title, vl_buf_str(&b), 0, t->status);
		vl_buf_release(&b);
		return n;
	case M_RESET:
		vl_buf_append(&b, vl_buf_str(&t->text));
		vl_buf_printf(&b, "\n        %s         %s\n", t->focus ? "  Cancel  " : "[ Cancel ]",
			      t->focus ? "[ Reset ]" : "  Reset  ");
		n = ui_draw_text(&t->d, stdscr, t->title, vl_buf_str(&b), 0, t->status);
		vl_buf_release(&b);
		return n;
	case M_ROLLBACK:
		if (!t->n_snaps)
			return ui_draw_frame(&t->d, stdscr, &v);
		rollback_text(t, &b);
		n = ui_draw_text(&t->d, stdscr, t->title, vl_buf_str(&b), 0,
				 "Enter rolls back  j/k choose  Esc cancels");
		vl_buf_release(&b);
		return n;
	}
	return 0;
}

/* How long poll may sleep: until the uptime column's next second, a
 * highlight's end, or a job's clock, at most a second. */
static int poll_timeout(const struct tui *t, int64_t now)
{
	int64_t next = now + 1000 - now % 1000;

	for (size_t i = 0; i < t->m.n_labs; i++)
		for (size_t j = 0; j < t->m.labs[i].n_vms; j++) {
			const struct ui_vm *vm = &t->m.labs[i].vms[j];
			if (ui_vm_recent(vm, now) && vm->changed_ms + UI_HIGHLIGHT_MS < next)
				next = vm->changed_ms + UI_HIGHLIGHT_MS;
		}
	return next > now ? (int)(next - now) : 0;
}

static bool utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs && (vl_streq(cs, "UTF-8") || vl_streq(cs, "utf8"));
}

static char *here_project(const struct vl_ctx *ctx)
{
	struct vl_err ignore = VL_ERR_INIT;
	char *path = vl_profile_find(ctx->project_dir, &ignore);
	char *slash = path ? strrchr(path, '/') : NULL;

	if (slash)
		*slash = '\0';
	return path;
}

static void loop(struct tui *t)
{
	struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { t->js.wake[0], POLLIN, 0 } };
	int64_t now = vl_now_mono_ms();

	draw(t, now);
	while (!t->quit) {
		int key;
		if (t->ctx->events.cancel && atomic_load(t->ctx->events.cancel))
			break;   /* SIGTERM */
		if (poll(fds, 2, poll_timeout(t, now)) < 0 && errno != EINTR)
			break;
		now = vl_now_mono_ms();
		drain(t, now);
		while ((key = getch()) != ERR && !t->quit)
			handle_key(t, key == '\r' ? '\n' : key);
		ui_jobs_prune(&t->js, now - JOB_KEEP_MS);
		draw(t, now);
	}
}

int ui_tui_run(struct vl_ctx *ctx, const struct ui_opts *o, struct vl_err *err)
{
	struct vl_watch_opts wo = { .on_change = on_change };
	struct vl_err ignore = VL_ERR_INIT;
	struct vl_lab_summary *labs = NULL;
	size_t n = 0;
	struct tui t;
	int rc = -1;

	if (!ctx->tty_in || !ctx->tty_out)
		return vl_err_set(err, VL_E_FAIL, "tui: needs a terminal on stdin and stdout");
	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	t.readonly = o->readonly;
	t.uri = ctx->uri ? ctx->uri : ctx->config.uri;
	VL_AUTOFREE char *here = here_project(ctx);
	ui_model_init(&t.m, here);
	if (ui_jobs_init(&t.js, err) < 0) {
		ui_model_release(&t.m);
		return -1;
	}
	t.here = here;
	t.host_uri = t.uri;
	/* the first listing before the screen: a connection problem is one line */
	if (vl_lab_list_all(ctx, &labs, &n, err) < 0)
		goto out;
	rc = 0;
	if (here && ui_here_plan(ctx, here, &t.plan, &ignore) == 0)
		model_plan(&t, &t.plan);
	else if (here)   /* said once: the listings after this stay quiet about it */
		set_status(&t, true, "this directory's lab: %s", ignore.msg);
	ui_model_load(&t.m, labs, n, vl_now_mono_ms());
	vl_lab_summaries_free(labs, n);
	wo.ud = &t;
	t.watch = vl_lab_watch_start(t.uri, &wo, err);
	if (!t.watch) {
		rc = -1;
		goto out;
	}
	t.saved_emit = ctx->events.emit;
	t.saved_ud = ctx->events.ud;
	ctx->events.emit = base_emit;
	ctx->events.ud = &t;
	if (lister_start(&t, err) < 0) {
		rc = -1;
		goto out;
	}

	setlocale(LC_ALL, "");
	ui_draw_init(&t.d, o->color, utf8_locale());
	set_escdelay(25);
	initscr();
	raw();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	ui_draw_colors(&t.d);
	for (size_t i = 0; i < t.m.n_labs && i < 20; i++)
		count_snapshots(&t, &t.m.labs[i]);
	loop(&t);
	endwin();
	ui_draw_release(&t.d);
out:
	if (t.saved_emit || t.saved_ud) {
		ctx->events.emit = t.saved_emit;
		ctx->events.ud = t.saved_ud;
	}
	vl_watch_stop(t.watch);
	/* the lister reports under the jobs' lock: it ends first */
	lister_end(&t);
	ui_jobs_release(&t.js, true);
	vl_plan_release(&t.plan);
	free(t.count_labs);
	vl_lab_summaries_free(t.labs, t.n_labs);
	for (size_t i = 0; i < t.n_inbox; i++)
		change_free(&t.inbox[i]);
	free(t.inbox);
	clear_targets(&t);
	ui_reset_release(&t.reset);
	vl_snap_info_free(t.snaps, t.n_snaps);
	free(t.snap_lab);
	free(t.log_lab);
	free(t.log_vm);
	vl_buf_release(&t.log_out);
	vl_buf_release(&t.text);
	ui_model_release(&t.m);
	return rc;
}
