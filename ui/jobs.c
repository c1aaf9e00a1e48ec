/* TUI jobs: each engine operation on a worker thread with a context of its
 * own; its events become per-VM phases and log lines under the set's lock,
 * and a byte in the wake pipe tells the main loop to look. */
#include "jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "class.h"
#include "host.h"
#include "plan.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"

const char *ui_job_kind_name(enum ui_job_kind k)
{
	static const char *const names[] = {
		[UI_JOB_UP] = "up", [UI_JOB_HALT] = "halt", [UI_JOB_SNAPSHOT] = "snapshot",
		[UI_JOB_ROLLBACK] = "rollback", [UI_JOB_DESTROY] = "destroy",
		[UI_JOB_PROVISION] = "provision", [UI_JOB_RESET] = "reset",
		[UI_JOB_SNAPLIST] = "snapshots",
		[UI_JOB_PLAN] = "plan", [UI_JOB_LOGS] = "logs",
	};
	return names[k];
}

bool ui_job_is_operation(enum ui_job_kind k)
{
	return k != UI_JOB_SNAPLIST && k != UI_JOB_PLAN && k != UI_JOB_LOGS;
}

const char *ui_phase_name(enum ui_phase p)
{
	static const char *const names[] = {
		[UI_PH_WORKING] = "working", [UI_PH_DOWNLOAD] = "download",
		[UI_PH_UPLOAD] = "upload", [UI_PH_DEFINING] = "defining",
		[UI_PH_BOOTING] = "booting", [UI_PH_SSH] = "waiting for SSH",
		[UI_PH_CLOUDINIT] = "waiting for cloud-init", [UI_PH_PROVISION] = "provisioning",
		[UI_PH_SHUTDOWN] = "shutting down", [UI_PH_DONE] = "done",
	};
	return names[p];
}

int ui_phase_of_event(enum vl_event_kind kind, const char *msg)
{
	static const struct { const char *prefix; enum ui_phase phase; } map[] = {
		{ "pulling", UI_PH_DOWNLOAD }, { "resuming at", UI_PH_DOWNLOAD },
		{ "uploading", UI_PH_UPLOAD }, { "defining", UI_PH_DEFINING },
		{ "creating", UI_PH_DEFINING }, { "starting", UI_PH_BOOTING },
		{ "resuming", UI_PH_BOOTING }, { "waiting for ssh", UI_PH_SSH },
		{ "waiting for cloud-init", UI_PH_CLOUDINIT }, { "provisioning", UI_PH_PROVISION },
		{ "shutting down", UI_PH_SHUTDOWN }, { "ready", UI_PH_DONE },
		{ "halted", UI_PH_DONE }, { "destroyed", UI_PH_DONE }, { "uploaded", UI_PH_DONE },
	};

	if (kind == VL_EV_PROGRESS)
		return msg && vl_streq(msg, "download") ? UI_PH_DOWNLOAD : -1;
	if (kind != VL_EV_INFO || !msg)
		return -1;
	for (size_t i = 0; i < VL_ARRAY_SIZE(map); i++)
		if (vl_str_startswith(msg, map[i].prefix))
			return (int)map[i].phase;
	return -1;
}

int ui_jobs_init(struct ui_jobs *js, struct vl_err *err)
{
	memset(js, 0, sizeof(*js));
	if (pipe2(js->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "tui: wake pipe");
	pthread_mutex_init(&js->lock, NULL);
	js->next_id = 1;
	return 0;
}

static void job_free(struct ui_job *j)
{
	free(j->lab_id);
	free(j->lab_name);
	free(j->project);
	for (size_t i = 0; i < j->n_vms; i++)
		free(j->vms[i]);
	free(j->vms);
	free(j->arg);
	for (size_t i = 0; i < j->n_items; i++)
		free(j->items[i].subject);
	free(j->items);
	vl_buf_release(&j->log);
	vl_buf_release(&j->output);
	vl_snap_info_free(j->snaps, j->n_snaps);
	vl_host_unref(j->host);
	free(j);
}

void ui_jobs_release(struct ui_jobs *js, bool cancel)
{
	pthread_mutex_lock(&js->lock);
	for (size_t i = 0; i < js->n_jobs; i++)
		if (cancel)
			atomic_store(&js->jobs[i]->cancel, true);
	pthread_mutex_unlock(&js->lock);
	/* workers take the lock to report: join without it */
	for (size_t i = 0; i < js->n_jobs; i++) {
		if (!js->jobs[i]->archived)
			pthread_join(js->jobs[i]->thread, NULL);
		job_free(js->jobs[i]);
	}
	free(js->jobs);
	close(js->wake[0]);
	close(js->wake[1]);
	pthread_mutex_destroy(&js->lock);
	memset(js, 0, sizeof(*js));
}

void ui_jobs_wake(struct ui_jobs *js)
{
	char c = 1;

	atomic_store(&js->dirty, true);
	/* a full pipe already holds a wake-up */
	if (write(js->wake[1], &c, 1) < 0 && errno != EAGAIN)
		return;
}

bool ui_jobs_drain(struct ui_jobs *js)
{
	char buf[256];

	while (read(js->wake[0], buf, sizeof(buf)) > 0)
		;
	return atomic_exchange(&js->dirty, false);
}

static struct ui_job_item *item_for(struct ui_job *j, const char *subject)
{
	for (size_t i = 0; i < j->n_items; i++)
		if (vl_streq(j->items[i].subject, subject))
			return &j->items[i];
	j->items = vl_realloc(j->items, (j->n_items + 1) * sizeof(*j->items));
	memset(&j->items[j->n_items], 0, sizeof(*j->items));
	j->items[j->n_items].subject = vl_strdup(subject);
	return &j->items[j->n_items++];
}

static void log_line(struct ui_job *j, const char *subject, const char *msg, size_t len)
{
	vl_buf_printf(&j->log, "%s: ", subject ? subject : j->lab_name);
	vl_buf_appendn(&j->log, msg, len);
	if (!len || msg[len - 1] != '\n')
		vl_buf_putc(&j->log, '\n');
}

/* The job's event sink, on its worker thread. */
static void job_emit(void *ud, const struct vl_event *ev)
{
	struct ui_job *j = ud;
	int ph = ui_phase_of_event(ev->kind, ev->msg);

	if (ev->kind == VL_EV_DEBUG)
		return;
	pthread_mutex_lock(&j->set->lock);
	if (ev->subject && ph >= 0) {
		struct ui_job_item *it = item_for(j, ev->subject);
		if (it->phase != (enum ui_phase)ph || !it->since_ms)
			it->since_ms = vl_now_mono_ms();
		it->phase = (enum ui_phase)ph;
		if (ev->kind == VL_EV_PROGRESS) {
			it->done = ev->done;
			it->total = ev->total;
		}
	}
	if (ev->kind == VL_EV_OUTPUT)
		log_line(j, ev->subject, ev->msg, ev->len);
	else if (ev->kind == VL_EV_WARN && ev->msg)
		vl_buf_printf(&j->log, "%s: warning: %s\n", ev->subject ? ev->subject : j->lab_name,
			      ev->msg);
	else if (ev->kind == VL_EV_INFO && ev->msg)
		log_line(j, ev->subject, ev->msg, strlen(ev->msg));
	pthread_mutex_unlock(&j->set->lock);
	ui_jobs_wake(j->set);
}

static int snap_newest_first(const void *pa, const void *pb)
{
	const struct vl_snap_info *a = pa, *b = pb;
	return a->created < b->created ? 1 : a->created > b->created ? -1 : 0;
}

/* vmlab logs VM into a memory file, then its last UI_LOGS_MAX bytes into
 * the job, from a line's start. */
static int read_logs(struct ui_job *j, struct vl_ctx *ctx, struct vl_err *err)
{
	struct vl_buf raw = VL_BUF_INIT, b = VL_BUF_INIT;
	char buf[65536];
	const char *p;
	off_t size, from;
	ssize_t n;
	int fd = memfd_create("vmlab-tui-logs", MFD_CLOEXEC), rc;

	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "logs: memfd_create");
	rc = vl_lab_logs(ctx, j->vms[0], false, fd, err);
	size = lseek(fd, 0, SEEK_END);
	from = size > (off_t)UI_LOGS_MAX ? size - (off_t)UI_LOGS_MAX : 0;
	if (lseek(fd, from, SEEK_SET) == from)
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++)   /* a console may print NULs */
				buf[i] = buf[i] ? buf[i] : ' ';
			vl_buf_appendn(&raw, buf, (size_t)n);
		}
	close(fd);
	p = vl_buf_str(&raw);
	if (from) {
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
		vl_buf_printf(&b, "(the first %lld bytes are left out: vmlab logs %s has them)\n",
			      (long long)(from + (p - vl_buf_str(&raw))), j->vms[0]);
	}
	vl_buf_append(&b, p);
	vl_buf_release(&raw);
	pthread_mutex_lock(&j->set->lock);
	j->output = b;
	pthread_mutex_unlock(&j->set->lock);
	return rc;
}

/* vl_class_reset, each seat's outcome into the job's log. */
static int run_reset(struct ui_job *j, struct vl_ctx *ctx, struct vl_err *err)
{
	struct vl_class_report rep = { 0 };
	int rc = vl_class_reset(ctx, j->vms, j->n_vms, &rep, err);

	pthread_mutex_lock(&j->set->lock);
	for (size_t i = 0; i < rep.n_seats; i++) {
		const struct vl_class_result *r = &rep.seats[i];
		if (r->ok)
			vl_buf_printf(&j->log, "seat %s: reset (%.1f s)\n", r->seat, r->seconds);
		else
			vl_buf_printf(&j->log, "seat %s: %s\n", r->seat, r->error ? r->error : "failed");
	}
	pthread_mutex_unlock(&j->set->lock);
	vl_class_report_release(&rep);
	return rc;
}

static int run_job(struct ui_job *j, struct vl_ctx *ctx, struct vl_err *err)
{
	struct vl_lab_sel sel = { j->vms, j->n_vms };
	struct vl_up_opts up = { .sel = sel };
	struct vl_snap_info *snaps = NULL;
	size_t n = 0;

	switch (j->kind) {
	case UI_JOB_UP:
		return vl_lab_up(ctx, &up, err);
	case UI_JOB_PROVISION: {
		struct vl_provision_opts po = { .sel = sel };
		return vl_lab_provision(ctx, &po, err);
	}
	case UI_JOB_HALT:
		return vl_lab_halt(ctx, &sel, err);
	case UI_JOB_DESTROY:
		return vl_lab_destroy(ctx, &sel, err);
	case UI_JOB_SNAPSHOT:
		return vl_lab_snapshot_save(ctx, j->arg, &sel, err);
	case UI_JOB_ROLLBACK:
		return vl_lab_snapshot_restore(ctx, j->arg, err);
	case UI_JOB_RESET:
		return run_reset(j, ctx, err);
	case UI_JOB_SNAPLIST:
		if (vl_lab_snapshot_list(ctx, &snaps, &n, err) < 0)
			return -1;
		qsort(snaps, n, sizeof(*snaps), snap_newest_first);
		pthread_mutex_lock(&j->set->lock);
		j->snaps = snaps;
		j->n_snaps = n;
		pthread_mutex_unlock(&j->set->lock);
		return 0;
	case UI_JOB_LOGS:
		return read_logs(j, ctx, err);
	case UI_JOB_PLAN: {
		struct vl_plan plan;
		memset(&plan, 0, sizeof(plan));
		if (vl_lab_plan(ctx, &plan, err) < 0)
			return -1;
		pthread_mutex_lock(&j->set->lock);
		vl_buf_printf(&j->log, "plan: lab %s, network %s\n", plan.lab_name, plan.network);
		for (size_t i = 0; i < plan.n_vms; i++)
			vl_buf_printf(&j->log, "plan: vm %s  %s  %u cpu  %llu MiB  %s\n",
				      plan.vms[i].name, plan.vms[i].ip_str, plan.vms[i].cpus,
				      (unsigned long long)(plan.vms[i].memory >> 20),
				      plan.vms[i].image);
		pthread_mutex_unlock(&j->set->lock);
		vl_plan_release(&plan);
		return 0;
	}
	}
	return 0;
}

static void *worker(void *arg)
{
	struct ui_job *j = arg;
	struct vl_events evs = { job_emit, j, j->lab_id, NULL, &j->cancel };
	struct vl_ctx ctx;
	struct vl_err err = VL_ERR_INIT;
	int rc;

	evs.host = j->base->events.host;
	rc = ui_job_ctx_init(&ctx, j->base, j->host, j->project, j->lab_id, &evs, &err);
	if (rc == 0) {
		rc = run_job(j, &ctx, &err);
		ui_job_ctx_release(&ctx);
	}
	pthread_mutex_lock(&j->set->lock);
	j->running = false;
	j->failed = rc < 0;
	j->err = err;
	j->ended_ms = vl_now_mono_ms();
	if (rc < 0)
		vl_buf_printf(&j->log, "error: %s\n", err.msg);
	for (size_t i = 0; rc == 0 && i < j->n_items; i++)
		j->items[i].phase = UI_PH_DONE;
	pthread_mutex_unlock(&j->set->lock);
	ui_jobs_wake(j->set);
	return NULL;
}

struct ui_job *ui_jobs_running(struct ui_jobs *js, const char *lab_id)
{
	for (size_t i = 0; i < js->n_jobs; i++) {
		const struct ui_job *j = js->jobs[i];
		/* listings, plans and logs read only: they hold nothing up */
		if (j->running && ui_job_is_operation(j->kind) && vl_streq(j->lab_id, lab_id))
			return js->jobs[i];
	}
	return NULL;
}

struct ui_job *ui_jobs_start(struct ui_jobs *js, const struct vl_ctx *base, enum ui_job_kind kind,
			     const char *lab_id, const char *lab_name, const char *project,
			     char *const *vms, size_t n_vms, const char *arg, int purpose,
			     struct vl_err *err)
{
	struct ui_job *j, *busy;
	int rc;

	pthread_mutex_lock(&js->lock);
	busy = ui_jobs_running(js, lab_id);
	if (busy) {
		pthread_mutex_unlock(&js->lock);
		vl_err_set(err, VL_E_EXISTS, "lab %s is busy: %s is running (x cancels it)",
			   lab_name, ui_job_kind_name(busy->kind));
		return NULL;
	}
	j = vl_calloc(1, sizeof(*j));
	j->id = js->next_id++;
	j->kind = kind;
	j->lab_id = vl_strdup(lab_id);
	j->lab_name = vl_strdup(lab_name);
	j->project = project ? vl_strdup(project) : NULL;
	j->vms = vl_calloc(n_vms ? n_vms : 1, sizeof(char *));
	for (size_t i = 0; i < n_vms; i++)
		j->vms[i] = vl_strdup(vms[i]);
	j->n_vms = n_vms;
	j->arg = arg ? vl_strdup(arg) : NULL;
	j->purpose = purpose;
	j->set = js;
	j->base = base;
	j->host = vl_host_ref(base->host);
	j->running = true;
	j->started_ms = vl_now_mono_ms();
	atomic_init(&j->cancel, false);
	rc = pthread_create(&j->thread, NULL, worker, j);
	if (rc) {
		pthread_mutex_unlock(&js->lock);
		job_free(j);
		vl_err_sys(err, VL_E_FAIL, rc, "tui: cannot start a worker");
		return NULL;
	}
	js->jobs = vl_realloc(js->jobs, (js->n_jobs + 1) * sizeof(*js->jobs));
	js->jobs[js->n_jobs++] = j;
	pthread_mutex_unlock(&js->lock);
	return j;
}

void ui_jobs_prune(struct ui_jobs *js, int64_t cutoff_ms)
{
	size_t k = 0, archived = 0;

	pthread_mutex_lock(&js->lock);
	for (size_t i = js->n_jobs; i-- > 0;)
		archived += js->jobs[i]->archived;
	for (size_t i = 0; i < js->n_jobs; i++) {
		struct ui_job *j = js->jobs[i];
		if (j->archived && archived > UI_JOBS_ARCHIVE) {
			archived--;
			job_free(j);   /* joined when archived */
			continue;
		}
		if (!j->archived && !j->running && j->seen && j->ended_ms < cutoff_ms) {
			pthread_join(j->thread, NULL);  /* it has returned */
			if (!ui_job_is_operation(j->kind)) {
				job_free(j);
				continue;
			}
			j->archived = true;
			vl_buf_release(&j->output);
		}
		js->jobs[k++] = j;
	}
	js->n_jobs = k;
	pthread_mutex_unlock(&js->lock);
}
