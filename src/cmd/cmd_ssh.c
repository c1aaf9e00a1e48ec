/* vmlab ssh VM [-- CMD ARG...]: a shell, or a command with its argv kept
 * and its exit status passed through. */
#include "cmd/cmd.h"

#include <unistd.h>

#include "lab.h"

int vl_cmd_ssh_vm(struct vl_ctx *ctx, const char *vm, const struct vl_args *a,
		  struct vl_err *err)
{
	int status = 0;
	int rc;

	if (a->has_rest)
		rc = vl_lab_ssh_exec(ctx, vm, (const char *const *)a->rest, (size_t)a->nrest,
				     STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, &status, err);
	else
		rc = vl_lab_ssh_shell(ctx, vm, &status, err);
	if (rc < 0)
		return -1;
	if (status != 0) {
		err->code = VL_E_REMOTE;
		err->status = status;
		err->msg[0] = '\0';
		return -1;
	}
	return 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	if (a->has_rest && a->nrest == 0)
		return vl_err_set(err, VL_E_USAGE, "usage: vmlab %s", vl_cmd_ssh.usage);
	return vl_cmd_ssh_vm(ctx, a->pos[0], a, err);
}

const struct vl_cmd vl_cmd_ssh = {
	.name = "ssh",
	.usage = "ssh VM [-- CMD ARG...]",
	.summary = "open a shell on a VM, or run a command",
	.description =
		"Without a command: an interactive shell with a terminal. With '-- CMD ARG...':\n"
		"runs CMD with its arguments kept exactly (each word is quoted for the remote\n"
		"shell, like multipass exec), stdout and stderr kept apart; vmlab exits with\n"
		"the remote command's status. The VM's host key must be the one vmlab injected.",
	/* libvirt is connected only off the held session (lab_ssh.c) */
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_VM_ARGS,
	.min_args = 1,
	.max_args = 1,
	.takes_rest = true,
	.run = run,
};
