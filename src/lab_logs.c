/* vmlab logs: what a VM printed and ran, in one stream: its serial console
 * log so far (virtlogd's file and its rotated copies where the host's files
 * can be read here, host.h), then cloud-init's output from the guest, then
 * the provisioner logs vmlab keeps in the lab's state directory. -f then
 * follows the console: the file where it is readable, else libvirt's
 * console stream. */
#include "lab_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/str.h"

/* virtlogd keeps 3 rotated copies by default: PATH.2 (oldest) .. PATH.0 */
#define MAX_ROTATED 10

__attribute__((format(printf, 2, 3)))
static void heading(int fd, const char *fmt, ...)
{
	struct vl_buf b = VL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vl_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	vl_fd_write_all(fd, b.s, b.len);
	vl_buf_release(&b);
}

/* Copy a file to fd; *end (if given) gets the offset reached. */
static int copy_file(const char *path, int out_fd, off_t *end, struct vl_err *err)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vl_err_sys(err, errno == ENOENT ? VL_E_NOTFOUND : VL_E_IO, errno, "open %s",
				  path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (vl_fd_write_all(out_fd, buf, (size_t)n) < 0) {
			close(fd);
			return vl_err_sys(err, VL_E_IO, errno, "write");
		}
	if (end)
		*end = lseek(fd, 0, SEEK_CUR);
	close(fd);
	return n < 0 ? vl_err_sys(err, VL_E_IO, errno, "read %s", path) : 0;
}

static int console_so_far(struct lab *lab, const struct vl_plan_vm *vm, int out_fd,
			  off_t *end, struct vl_err *err)
{
	VL_AUTOFREE char *path = lab_serial_log_path(lab, vm);
	struct vl_err e = VL_ERR_INIT;

	if (!lab->ctx->host->files_local) {
		heading(out_fd, "== console: its log is %s on the libvirt host, which this machine "
			"cannot read (-f follows it through libvirt)\n", path);
		return 0;
	}
	heading(out_fd, "== console (%s)\n", path);
	for (int i = MAX_ROTATED - 1; i >= 0; i--) {
		VL_AUTOFREE char *old = NULL;
		if (asprintf(&old, "%s.%d", path, i) < 0)
			abort();
		if (copy_file(old, out_fd, NULL, &e) < 0 && e.code != VL_E_NOTFOUND)
			return *err = e, -1;
		vl_err_clear(&e);
	}
	if (copy_file(path, out_fd, end, &e) < 0) {
		if (e.code != VL_E_NOTFOUND)
			return *err = e, -1;
		heading(out_fd, "(no console output yet: %s does not exist)\n", path);
	}
	return 0;
}

/* cloud-init's own log of the modules' output, read as the lab user (with
 * sudo where the file is root's). */
static int cloud_init_output(struct lab *lab, const struct vl_plan_vm *vm, int out_fd,
			     struct vl_err *err)
{
	static const char *const argv[] = {
		"sh", "-c",
		"f=/var/log/cloud-init-output.log; [ -e $f ] || exit 3; "
		"cat $f 2>/dev/null || sudo -n cat $f",
	};
	VL_AUTOFREE char *host_pub = NULL;
	struct vl_ssh_target t;
	enum vl_vm_state s = lab_vm_state(lab, vm, err);
	int status = 0;

	if (err->code != VL_OK)
		return -1;
	if (s != VL_VM_RUNNING) {
		heading(out_fd, "== cloud-init: %s is not running\n", vl_vm_state_name(s));
		return 0;
	}
	if (vl_keys_open(&lab->keys, lab->state_dir, err) < 0)
		return -1;
	lab_ssh_target(lab, vm, &t, &host_pub);
	t.evs = &lab->ctx->events;
	heading(out_fd, "== cloud-init (%s:/var/log/cloud-init-output.log)\n", vm->name);
	if (vl_ssh_exec(&t, argv, 3, -1, out_fd, -1, &status, err) < 0)
		return -1;
	if (status == 3)
		heading(out_fd, "(%s has no cloud-init output)\n", vm->name);
	else if (status != 0)
		heading(out_fd, "(could not read it: exit %s)\n", status == 1 ? "1, no sudo" : "non-zero");
	return 0;
}

/* Provisioner logs: STATE/logs/VM-provision-N.log (lab_provision.c), in order. */
static int provision_logs(struct lab *lab, const struct vl_plan_vm *vm, int out_fd,
			  struct vl_err *err)
{
	VL_AUTOFREE char *dir = NULL, *prefix = NULL;
	struct dirent **ents = NULL;
	int n;

	if (asprintf(&dir, "%s/logs", lab->state_dir) < 0 ||
	    asprintf(&prefix, "%s-provision-", vm->name) < 0)
		abort();
	n = scandir(dir, &ents, NULL, versionsort);  /* -2 before -10 */
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		if (vl_str_startswith(name, prefix) && vl_str_endswith(name, ".log")) {
			VL_AUTOFREE char *path = NULL;
			if (asprintf(&path, "%s/%s", dir, name) < 0)
				abort();
			heading(out_fd, "== provisioner log (%s)\n", path);
			if (err->code == VL_OK && copy_file(path, out_fd, NULL, err) < 0)
				vl_event_warn(&lab->ctx->events, vm->name, "%s", err->msg);
			vl_err_clear(err);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

/* Follow the console until cancelled (Ctrl-C) or it ends. */
static int follow(struct lab *lab, const struct vl_plan_vm *vm, int out_fd, off_t from,
		  struct vl_err *err)
{
	struct vl_ctx *ctx = lab->ctx;
	VL_AUTOFREE char *path = lab_serial_log_path(lab, vm);
	char buf[65536];

	heading(out_fd, "== following the console of %s (Ctrl-C stops)\n", vm->name);
	if (!ctx->host->files_local) {
		struct vl_virt_console *c = NULL;
		struct pollfd p = { .events = POLLIN };
		int rc = 0;

		if (vl_virt_console_open(ctx->host->virt, vm->domain, false, true, &c, err) < 0)
			return -1;
		p.fd = vl_virt_console_fd(c);
		while (!vl_cancelled(&ctx->events)) {
			if (poll(&p, 1, 200) <= 0)
				continue;
			ssize_t n = read(p.fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (vl_fd_write_all(out_fd, buf, (size_t)n) < 0) {
				rc = vl_err_sys(err, VL_E_IO, errno, "write");
				break;
			}
		}
		vl_virt_console_close(c);
		return rc;
	}
	/* the file grows; virtlogd's rotation starts a new one at the same path */
	struct stat st0 = { 0 }, st;
	int fd = -1;
	while (!vl_cancelled(&ctx->events)) {
		if (fd < 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			fstat(fd, &st0);
			if (lseek(fd, from, SEEK_SET) < 0 || from > st0.st_size)
				lseek(fd, 0, SEEK_SET);
			from = 0;
		}
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : 0;
		if (n > 0) {
			if (vl_fd_write_all(out_fd, buf, (size_t)n) < 0)
				break;
			continue;
		}
		if (fd >= 0 && stat(path, &st) == 0 && st.st_ino != st0.st_ino) {
			close(fd);  /* rotated: the rest of the old file was read */
			fd = -1;
			continue;
		}
		usleep(200 * 1000);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

int vl_lab_logs(struct vl_ctx *ctx, const char *name, bool follow_console, int out_fd,
		struct vl_err *err)
{
	const struct vl_plan_vm *vm;
	struct lab lab;
	off_t end = 0;
	int rc = -1;

	if (lab_open(&lab, ctx, 0, NULL, err) < 0)
		return -1;
	vm = vl_plan_find_vm(&lab.plan, name);
	if (!vm) {
		vl_err_set(err, VL_E_NOTFOUND, "no VM '%s' in lab %s", name, lab.plan.lab_name);
		goto out;
	}
	if (console_so_far(&lab, vm, out_fd, &end, err) < 0 ||
	    cloud_init_output(&lab, vm, out_fd, err) < 0 || provision_logs(&lab, vm, out_fd, err) < 0)
		goto out;
	rc = follow_console ? follow(&lab, vm, out_fd, end, err) : 0;
out:
	lab_close(&lab);
	return rc;
}
