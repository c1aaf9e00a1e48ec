/* Waiting until a VM is ready: SSH answers with the pinned host key and the
 * project key, then, where the image runs cloud-init, cloud-init has ended
 * (it keeps working after sshd first answers, and restarts sshd late). The
 * decision is ready.c's; this file talks to the guest. */
#include "lab_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "ready.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"
#include "util/tail.h"

/* Seconds one probe waits on the guest before reporting "running", so the
 * deadline is checked between probes without a new SSH login each second. */
#define PROBE_WAIT_S 15

/* A guest that took another address than the planned one (an old lease of
 * that address to another MAC wins over the reservation) is named as such. */
static void lease_hint(struct lab *lab, const struct vl_plan_vm *vm, struct vl_buf *out)
{
	struct vl_virt_lease *l = NULL;
	size_t n = 0;
	struct vl_err ignore = VL_ERR_INIT;

	if (vl_virt_network_leases(lab->ctx->host->virt, lab->plan.network, vm->mac, &l, &n, &ignore) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (!vl_streq(l[i].ip, vm->ip_str))
			vl_buf_printf(out, "; it took %s by DHCP instead of %s (the address is still "
				      "leased to another MAC; 'vmlab destroy' then 'vmlab up' renews the "
				      "network)", l[i].ip, vm->ip_str);
	vl_virt_lease_list_free(l, n);
}

/* The first login is kept in *keep (may be NULL): the cloud-init probe runs
 * on it, which spares a second handshake (about 1.4 s on a TCG guest). */
static int wait_ssh(struct lab *lab, const struct vl_plan_vm *vm, unsigned timeout, double *took,
		    struct vl_ssh **keep, struct vl_err *err)
{
	VL_AUTOFREE char *host_pub = NULL;
	struct vl_ssh_target t;
	struct vl_ssh *s = NULL;
	double t0 = vl_now_mono();

	lab_ssh_target(lab, vm, &t, &host_pub);
	vl_event_info(&lab->ctx->events, vm->name, "waiting for ssh on %s", vm->ip_str);
	if (vl_ssh_connect_retry(&t, timeout, &lab->ctx->events, &s, err) < 0) {
		if (err->code == VL_E_TIMEOUT) {
			struct vl_buf msg = VL_BUF_INIT;
			vl_buf_printf(&msg, "no SSH answer from %s within %u s", vm->ip_str, timeout);
			lease_hint(lab, vm, &msg);
			lab_console_tail(lab, vm, &msg);
			vl_err_set(err, VL_E_TIMEOUT, "%s", msg.s);
			vl_buf_release(&msg);
		}
		return -1;
	}
	*took = vl_now_mono() - t0;
	if (keep)
		*keep = s;
	else
		vl_ssh_free(s);
	return 0;
}

int lab_wait_ssh(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	double took = 0;
	(void)ud;

	if (wait_ssh(lab, vm, lab->ctx->config.boot_timeout, &took, NULL, err) < 0)
		return -1;
	vl_event_info(&lab->ctx->events, vm->name, "ready: ssh %s@%s (%.1f s)", lab->plan.user,
		      vm->ip_str, took);
	return 0;
}

/* Run the probe once; its stdout (small) comes back in *out. Returns -1 when
 * no login was possible (a wrong host key at once, anything else once
 * retry_s has passed), 1 when the session broke off mid-way (a guest whose
 * sshd restart also ends sessions: try again), 0 with *out. */
static int probe(struct lab *lab, const struct vl_plan_vm *vm, unsigned wait_s, unsigned retry_s,
		 struct vl_ssh **have, char **out, struct vl_err *err)
{
	VL_AUTOFREE char *host_pub = NULL, *script = vl_ci_probe_script(wait_s);
	const char *argv[] = { "sh", "-c", script };
	struct vl_ssh_target t;
	struct vl_ssh *s = NULL;
	struct vl_buf b = VL_BUF_INIT;
	char chunk[4096];
	ssize_t r;
	int status = 0, rc;
	int fd;

	lab_ssh_target(lab, vm, &t, &host_pub);
	t.retry_timeout = retry_s;
	if (*have)
		s = vl_steal(have);   /* the login that found SSH ready */
	else if (vl_ssh_connect(&t, &s, err) < 0)
		return -1;
	fd = memfd_create("vmlab-ci-probe", MFD_CLOEXEC);
	if (fd < 0) {
		vl_ssh_free(s);
		return vl_err_sys(err, VL_E_IO, errno, "memfd_create");
	}
	rc = vl_ssh_run(s, argv, VL_ARRAY_SIZE(argv), -1, fd, -1, &status, err);
	vl_ssh_free(s);
	if (rc < 0 || status >= 128) {   /* broken off, or the shell killed by a signal */
		close(fd);
		vl_event_debug(&lab->ctx->events, vm->name, "cloud-init probe cut off (%s): again",
			       rc < 0 ? err->msg : "killed by a signal");
		vl_err_clear(err);
		return 1;
	}
	if (rc == 0 && status != 0)
		rc = vl_err_set(err, VL_E_SSH, "%s: the cloud-init probe exited with %d", vm->name,
				status);
	lseek(fd, 0, SEEK_SET);
	while (rc == 0 && (r = read(fd, chunk, sizeof(chunk))) > 0 && b.len < (64u << 10))
		vl_buf_appendn(&b, chunk, (size_t)r);
	close(fd);
	if (rc < 0) {
		vl_buf_release(&b);
		return -1;
	}
	*out = vl_buf_steal(&b);
	return 0;
}

static void ssh_freep(struct vl_ssh **s)
{
	vl_ssh_free(*s);
}

static void describe_errors(const struct vl_ci_status *ci, struct vl_buf *b)
{
	for (size_t i = 0; i < ci->n_errors; i++)
		vl_buf_printf(b, "%s%s%s%s", i ? "; " : "",
			      ci->errors[i].module ? ci->errors[i].module : "",
			      ci->errors[i].module ? ": " : "", ci->errors[i].message);
	if (!ci->n_errors)
		vl_buf_append(b, "no detail given (see /var/log/cloud-init.log on the VM)");
}

int lab_wait_ready(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct lab_ready_opts *o = ud;
	struct lab_ready *r = &o->vms[vm - lab->plan.vms];
	const struct vl_events *evs = &lab->ctx->events;
	unsigned timeout = lab->ctx->config.boot_timeout;
	double t0 = vl_now_mono(), deadline, t1;
	enum vl_ready decision = VL_READY_WAIT;
	bool announced = false;

	__attribute__((cleanup(ssh_freep))) struct vl_ssh *first = NULL;
	if (wait_ssh(lab, vm, timeout, &r->ssh_s, &first, err) < 0)
		return -1;
	/* "waiting for cloud-init" shows only once a probe says it runs: -v
	 * marks where this phase begins */
	vl_event_debug(evs, vm->name, "ssh answered; checking cloud-init");
	/* one budget for the whole boot: SSH, then cloud-init */
	deadline = t0 + timeout;
	t1 = vl_now_mono();
	while (decision == VL_READY_WAIT) {
		VL_AUTOFREE char *text = NULL;
		double left = deadline - vl_now_mono();
		if (vl_cancelled(evs))
			return vl_err_set(err, VL_E_CANCELLED, "%s: cancelled while waiting for cloud-init",
					  vm->name);
		if (left <= 0) {
			struct vl_buf msg = VL_BUF_INIT;
			vl_buf_printf(&msg, "cloud-init on %s has not finished within %u s (state: %s)",
				      vm->name, timeout, vl_ci_state_name(r->ci.state));
			lab_console_tail(lab, vm, &msg);
			vl_err_set(err, VL_E_TIMEOUT, "%s", msg.s);
			vl_buf_release(&msg);
			return -1;
		}
		unsigned wait_s = left > PROBE_WAIT_S ? PROBE_WAIT_S : (unsigned)left;
		/* a refused or reset connection (cloud-init restarting sshd) is retried */
		int pr = probe(lab, vm, wait_s, (unsigned)left + 1, &first, &text, err);
		if (pr < 0)
			return -1;
		if (pr > 0) {
			struct timespec pause = { 1, 0 };
			nanosleep(&pause, NULL);
			continue;
		}
		vl_ci_status_release(&r->ci);
		vl_ci_parse(text, &r->ci);
		decision = vl_ready_decide(true, &r->ci, o->strict);
		if (decision == VL_READY_WAIT && !announced) {
			vl_event_info(evs, vm->name, "waiting for cloud-init");
			announced = true;
		}
		vl_event_debug(evs, vm->name, "cloud-init: %s", vl_ci_state_name(r->ci.state));
	}
	r->ci_s = vl_now_mono() - t1;
	if (decision == VL_READY_ERRORS || decision == VL_READY_FAILED) {
		struct vl_buf msg = VL_BUF_INIT;
		describe_errors(&r->ci, &msg);
		if (decision == VL_READY_FAILED) {
			vl_err_set(err, VL_E_FAIL, "cloud-init finished with errors on %s: %s (--strict)",
				   vm->name, msg.s);
			vl_buf_release(&msg);
			return -1;
		}
		vl_event_warn(evs, vm->name, "cloud-init finished with errors: %s", msg.s);
		vl_buf_release(&msg);
	}
	if (r->ci.state == VL_CI_NONE || r->ci.state == VL_CI_DISABLED)
		vl_event_info(evs, vm->name, "ready: ssh %s@%s (%.1f s; no cloud-init)",
			      lab->plan.user, vm->ip_str, r->ssh_s);
	else
		vl_event_info(evs, vm->name, "ready: ssh %s@%s (ssh %.1f s, cloud-init %.1f s)",
			      lab->plan.user, vm->ip_str, r->ssh_s, r->ci_s);
	return 0;
}
