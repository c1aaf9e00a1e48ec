/* Running commands inside VMs: one command's output cut into lines for
 * events, a log file or buffers (lab_run), and vmlab exec, one command on
 * several VMs at once with each VM's status. */
#include "lab_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/parallel.h"
#include "util/str.h"

struct pump {
	const struct vl_events *evs;
	const char *subject;
	const struct lab_out *o;
	struct vl_buf *keep;
	int fd, stream;
	struct vl_lines lines;
};

static void on_line(void *ud, const char *line, size_t len)
{
	struct pump *p = ud;

	if (p->o->events) {
		struct vl_event ev = { .kind = VL_EV_OUTPUT, .subject = p->subject, .msg = line,
				       .len = len, .stream = p->stream };
		vl_event_emit(p->evs, &ev);
	}
	/* one write per line: the two streams interleave by whole lines */
	if (p->o->log_fd >= 0 && write(p->o->log_fd, line, len) < 0)
		(void)0;   /* a full disk must not stop the command; the log is best effort */
}

/* Reads one pipe until EOF: lines to events and the log, bytes to keep. */
static void *pump_main(void *arg)
{
	struct pump *p = arg;
	char chunk[4096];
	ssize_t r;

	vl_lines_init(&p->lines, on_line, p);
	while ((r = read(p->fd, chunk, sizeof(chunk))) > 0 || (r < 0 && errno == EINTR)) {
		if (r <= 0)
			continue;
		if (p->keep)
			vl_buf_appendn(p->keep, chunk, (size_t)r);
		vl_lines_feed(&p->lines, chunk, (size_t)r);
	}
	vl_lines_flush(&p->lines);
	return NULL;
}

/* Run with the two pipes pumped; connect first when s is NULL. */
static int run_pumped(struct lab *lab, struct vl_ssh *s, const struct vl_plan_vm *vm,
		      const char *const *argv, size_t argc, int in_fd, const struct lab_out *o,
		      int *status, struct vl_err *err)
{
	int out[2], errp[2], rc;
	pthread_t th[2];
	struct pump pumps[2];

	if (pipe2(out, O_CLOEXEC) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "pipe");
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return vl_err_sys(err, VL_E_IO, errno, "pipe");
	}
	pumps[0] = (struct pump){ &lab->ctx->events, vm->name, o, o->out, out[0], 1, { .len = 0 } };
	pumps[1] = (struct pump){ &lab->ctx->events, vm->name, o, o->err, errp[0], 2, { .len = 0 } };
	pthread_create(&th[0], NULL, pump_main, &pumps[0]);
	pthread_create(&th[1], NULL, pump_main, &pumps[1]);
	if (s) {
		rc = vl_ssh_run(s, argv, argc, in_fd, out[1], errp[1], status, err);
	} else if (lab->held) {
		rc = lab_held_exec(lab->ctx, vm->name, argv, argc, in_fd, out[1], errp[1], status,
				   err);
	} else {
		VL_AUTOFREE char *host_pub = NULL;
		struct vl_ssh_target t;
		lab_ssh_target(lab, vm, &t, &host_pub);
		rc = vl_ssh_exec(&t, argv, argc, in_fd, out[1], errp[1], status, err);
	}
	close(out[1]);
	close(errp[1]);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	close(out[0]);
	close(errp[0]);
	return rc;
}

int lab_run(struct lab *lab, struct vl_ssh *s, const struct vl_plan_vm *vm,
	    const char *const *argv, size_t argc, int in_fd, const struct lab_out *o, int *status,
	    struct vl_err *err)
{
	return run_pumped(lab, s, vm, argv, argc, in_fd, o, status, err);
}

int lab_exec(struct lab *lab, const struct vl_plan_vm *vm, const char *const *argv, size_t argc,
	     int in_fd, int *status, struct vl_err *err)
{
	const struct lab_out o = { .events = true, .log_fd = -1 };

	return run_pumped(lab, NULL, vm, argv, argc, in_fd, &o, status, err);
}

/* ---- vmlab exec ----------------------------------------------------- */

#define HELD_EXEC_MAX 32

struct exec_job {
	struct lab *lab;
	const struct vl_exec_opts *o;
	size_t *idx;                 /* plan index per job */
	enum vl_vm_state *state;     /* per job, read before: keys are made only when one runs */
	struct vl_exec_result *res;
};

static int exec_one(void *ud, size_t i, struct vl_err *unused)
{
	struct exec_job *j = ud;
	const struct vl_plan_vm *vm = &j->lab->plan.vms[j->idx[i]];
	struct vl_exec_result *r = &j->res[i];
	struct vl_buf out = VL_BUF_INIT, errb = VL_BUF_INIT;
	const struct lab_out o = {
		.events = !j->o->capture, .log_fd = -1,
		.out = j->o->capture ? &out : NULL, .err = j->o->capture ? &errb : NULL,
	};
	struct vl_err err = VL_ERR_INIT;
	double t0 = vl_now_mono();
	enum vl_vm_state st;
	(void)unused;

	r->status = VL_EXEC_UNREACHABLE;
	st = j->state[i];
	if (st != VL_VM_RUNNING) {
		vl_err_set(&err, VL_E_FAIL, "%s is %s", vm->name, vl_vm_state_name(st));
		goto failed;
	}
	if (vl_cancelled(&j->lab->ctx->events)) {
		vl_err_set(&err, VL_E_CANCELLED, "cancelled");
		goto failed;
	}
	if (run_pumped(j->lab, NULL, vm, j->o->argv, j->o->argc, -1, &o, &r->status, &err) < 0) {
		r->status = VL_EXEC_UNREACHABLE;
		goto failed;
	}
	goto done;
failed:
	r->error = vl_strdup(err.msg);
	vl_event_warn(&j->lab->ctx->events, vm->name, "%s", err.msg);
done:
	r->seconds = vl_now_mono() - t0;
	if (j->o->capture) {
		r->out_len = out.len;
		r->err_len = errb.len;
		r->out = out.s ? vl_buf_steal(&out) : vl_strdup("");
		r->err = errb.s ? vl_buf_steal(&errb) : vl_strdup("");
	}
	vl_buf_release(&out);
	vl_buf_release(&errb);
	return 0;
}

int vl_lab_exec(struct vl_ctx *ctx, const struct vl_exec_opts *o, struct vl_exec_result **res,
		size_t *n, struct vl_err *err)
{
	VL_AUTOFREE size_t *idx = NULL;
	VL_AUTOFREE struct vl_err *errs = NULL;
	VL_AUTOFREE enum vl_vm_state *state = NULL;
	struct exec_job j = { .o = o };
	struct lab lab;
	size_t first, count = 0;
	bool running = false;

	*res = NULL;
	*n = 0;
	if (o->argc == 0)
		return vl_err_set(err, VL_E_USAGE, "exec needs a command after '--'");
	if (lab_open(&lab, ctx, 0, &o->sel, err) < 0)
		return -1;
	idx = vl_calloc(lab.plan.n_vms + 1, sizeof(*idx));
	state = vl_calloc(lab.plan.n_vms + 1, sizeof(*state));
	for (size_t i = 0; i < lab.plan.n_vms; i++) {
		if (!lab.chosen[i])
			continue;
		state[count] = lab_vm_state(&lab, &lab.plan.vms[i], err);
		if (err->code != VL_OK)
			goto fail;
		running |= state[count] == VL_VM_RUNNING;
		idx[count++] = i;
	}
	if (running && vl_keys_open(&lab.keys, lab.state_dir, err) < 0)
		goto fail;
	if (running)
		lab_held_use(&lab);
	j.lab = &lab;
	j.state = state;
	j.idx = idx;
	j.res = vl_calloc(count + 1, sizeof(*j.res));
	for (size_t i = 0; i < count; i++)
		j.res[i].vm = vl_strdup(lab.plan.vms[idx[i]].name);
	errs = vl_calloc(count + 1, sizeof(*errs));
	/* a handshake each costs the guests' CPU: [up] parallel at a time; over
	 * the held session a command is one channel on a session that is up,
	 * so every VM's at once (a thread each here, at most HELD_EXEC_MAX) */
	unsigned par = ctx->config.parallel ? ctx->config.parallel : 4;
	if (lab.held)
		par = count < HELD_EXEC_MAX ? (unsigned)(count ? count : 1) : HELD_EXEC_MAX;
	/* every job returns 0: a VM's failure is its result, not the run's */
	vl_parallel_run(count, par, exec_one, &j, errs, &first);
	lab_close(&lab);
	*res = j.res;
	*n = count;
	return 0;
fail:
	lab_close(&lab);
	return -1;
}

void vl_exec_results_free(struct vl_exec_result *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].vm);
		free(r[i].error);
		free(r[i].out);
		free(r[i].err);
	}
	free(r);
}
