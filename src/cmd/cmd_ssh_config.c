/* vmlab ssh-config [VM...] [--include FILE]: OpenSSH Host blocks for the
 * lab's VMs with host-key checking on, printed or written for `Include`. */
#include "cmd/cmd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "util/file.h"
#include "util/mem.h"

static const struct vl_opt opts[] = {
	{ "include", 0, VL_OPT_VALUE, "FILE",
	  "write the blocks to FILE (atomically, 0600) for Include in ~/.ssh/config" },
	VL_OPT_END,
};

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_lab_sel sel = { a->pos, (size_t)a->npos };
	const char *file = vl_args_get(a, "include");
	VL_AUTOFREE char *text = NULL;
	char abs[PATH_MAX];

	if (vl_lab_ssh_config(ctx, &sel, &text, err) < 0)
		return -1;
	if (!file) {
		fputs(text, stdout);
		return 0;
	}
	if (vl_file_write_atomic(file, text, strlen(text), 0600, err) < 0)
		return -1;
	if (!ctx->quiet)
		fprintf(stderr, "vmlab: wrote %s; add 'Include %s' at the top of ~/.ssh/config\n",
			file, realpath(file, abs) ? abs : file);
	return 0;
}

const struct vl_cmd vl_cmd_ssh_config = {
	.name = "ssh-config",
	.usage = "ssh-config [VM...] [--include FILE]",
	.summary = "print an OpenSSH config for the lab's VMs (host keys checked)",
	.description =
		"One Host block per VM (all, or those named): aliases VM.LAB and VM, its IP,\n"
		"the lab user and project key, StrictHostKeyChecking yes, and a known_hosts\n"
		"file vmlab writes in .vmlab/ with the pinned host keys under a HostKeyAlias,\n"
		"so plain ssh, scp and rsync verify the VM, and a reused IP never matches\n"
		"another VM's key. VMs never created are left out with a warning.",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT | VL_CMD_VM_ARGS,
	.max_args = -1,
	.run = run,
};
