/* What a lab's VMs print on their serial console, read through libvirt
 * where the host's files are not ours to read (host.h): a VM up starts is
 * started paused, its console stream attached, then resumed, so the stream
 * holds its whole boot. */
#include "lab_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "host.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/tail.h"
#include "util/mem.h"
#include "util/str.h"

int lab_start_vm(struct lab *lab, const struct vl_plan_vm *vm, struct vl_err *err)
{
	struct vl_virt *v = lab->ctx->host->virt;
	size_t i = (size_t)(vm - lab->plan.vms);
	struct vl_err e = VL_ERR_INIT;

	if (lab->ctx->host->files_local)
		return vl_virt_domain_start(v, vm->domain, false, err);
	if (vl_virt_domain_start(v, vm->domain, true, err) < 0)
		return -1;
	vl_virt_console_close(lab->consoles[i]);
	lab->consoles[i] = NULL;
	/* without the stream the VM still boots; only its tail is lost */
	if (vl_virt_console_open(v, vm->domain, false, false, &lab->consoles[i], &e) < 0)
		vl_event_debug(&lab->ctx->events, vm->name, "console not kept: %s", e.msg);
	return vl_virt_domain_resume(v, vm->domain, err);
}

/* Lines of text for a message: the first (probably partial) one of a cut
 * tail dropped, each indented. */
static void append_lines(struct vl_buf *out, char *tail, bool cut)
{
	char *line, *save = NULL;
	size_t n = 0;

	for (line = strtok_r(tail, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n++ == 0 && cut)
			continue;
		vl_buf_printf(out, "\n    %s", vl_str_trim(line));
	}
}

void lab_console_tail(struct lab *lab, const struct vl_plan_vm *vm, struct vl_buf *out)
{
	VL_AUTOFREE char *path = lab_serial_log_path(lab, vm);
	VL_AUTOFREE char *tail = NULL;
	struct vl_virt_console *c = lab->consoles[vm - lab->plan.vms];
	struct vl_err ignore = VL_ERR_INIT;
	size_t len = 0;

	if (lab->ctx->host->files_local) {
		if (vl_file_tail(path, 2048, &tail, &len, &ignore) < 0 || !tail || !*tail) {
			vl_buf_printf(out, "; the console log %s is empty", path);
			return;
		}
		vl_buf_printf(out, "; last console lines (%s):", path);
		append_lines(out, tail, len >= 2000);
		return;
	}
	if (!c) {
		vl_buf_printf(out, "; its console log is %s on the libvirt host", path);
		return;
	}
	tail = vl_virt_console_tail(c, &len);
	if (len == 0) {
		vl_buf_printf(out, "; it printed nothing on its console (log %s on the libvirt host)",
			      path);
		return;
	}
	vl_buf_printf(out, "; last console lines (through libvirt; log %s on the libvirt host):",
		      path);
	if (len > 2048)
		append_lines(out, tail + len - 2048, true);
	else
		append_lines(out, tail, false);
}

/* The escape key that leaves `vmlab console`: Ctrl-] as in telnet and virsh. */
#define ESCAPE_KEY 0x1d

/* Copy between the caller's fds and the console until the escape key, the
 * console's end, or a cancel. */
static int console_pump(struct vl_ctx *ctx, struct vl_virt_console *c, int in_fd, int out_fd,
			const char *vm, struct vl_err *err)
{
	char buf[4096];
	struct pollfd p[2] = {
		{ .fd = in_fd, .events = POLLIN },
		{ .fd = vl_virt_console_fd(c), .events = POLLIN },
	};

	for (;;) {
		if (vl_cancelled(&ctx->events))
			return vl_err_set(err, VL_E_CANCELLED, "cancelled");
		if (poll(p, 2, 200) < 0) {
			if (errno == EINTR)
				continue;
			return vl_err_sys(err, VL_E_IO, errno, "poll");
		}
		if (p[1].revents) {
			ssize_t n = read(p[1].fd, buf, sizeof(buf));
			if (n == 0) {
				vl_event_info(&ctx->events, vm, "the console closed (the VM stopped, or "
					      "another client took it over)");
				return 0;
			}
			if (n > 0 && vl_fd_write_all(out_fd, buf, (size_t)n) < 0)
				return vl_err_sys(err, VL_E_IO, errno, "console output");
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(in_fd, buf, sizeof(buf));
			if (n <= 0)
				return 0;  /* end of input: leave like the escape key */
			char *esc = memchr(buf, ESCAPE_KEY, (size_t)n);
			if (esc)
				n = esc - buf;
			if (n > 0 && vl_virt_console_send(c, buf, (size_t)n, err) < 0)
				return -1;
			if (esc)
				return 0;
		}
	}
}

int vl_lab_console(struct vl_ctx *ctx, const char *name, bool force, int in_fd, int out_fd,
		   struct vl_err *err)
{
	const struct vl_plan_vm *vm = NULL;
	struct vl_virt_console *c = NULL;
	struct termios saved, raw;
	bool tty = isatty(in_fd);
	struct lab lab;
	int rc = -1;

	if (lab_open(&lab, ctx, 0, NULL, err) < 0)
		return -1;
	if (lab_running_vm(&lab, name, &vm, err) < 0)
		goto out;
	if (vl_virt_console_open(ctx->host->virt, vm->domain, force, true, &c, err) < 0) {
		if (!force)
			vl_err_prefix(err, "%s (--force takes it over from another client)", name);
		goto out;
	}
	vl_event_info(&ctx->events, name, "connected to the serial console; Ctrl-] leaves");
	if (tty && tcgetattr(in_fd, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(in_fd, TCSADRAIN, &raw);
	} else {
		tty = false;
	}
	rc = console_pump(ctx, c, in_fd, out_fd, name, err);
	if (tty) {
		tcsetattr(in_fd, TCSADRAIN, &saved);
		/* the guest leaves the cursor mid-line ("login: "): the shell's
		 * prompt starts on a line of its own, as after virsh console */
		if (vl_fd_write_all(out_fd, "\n", 1) < 0)
			(void)0;   /* a closed terminal has nothing left to tidy */
	}
out:
	vl_virt_console_close(c);
	lab_close(&lab);
	return rc;
}
