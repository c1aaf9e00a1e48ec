/* What a lab's VMs print on their serial console, read through libvirt
 * where the host's files are not ours to read (host.h): a VM up starts is
 * started paused, its console stream attached, then resumed, so the stream
 * holds its whole boot. */
#include "lab_priv.h"

#include <stdlib.h>
#include <string.h>

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
