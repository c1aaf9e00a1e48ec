/* vmlab ssh: reach one running VM of the lab with the project key, the host
 * key pinned to the one vmlab injected. */
#include "lab_priv.h"

#include <stdlib.h>

#include "host.h"
#include "util/mem.h"
#include "util/str.h"

int lab_running_vm(struct lab *lab, const char *name, const struct vl_plan_vm **out,
		   struct vl_err *err)
{
	const struct vl_plan_vm *vm = vl_plan_find_vm(&lab->plan, name);
	enum vl_vm_state s;

	if (!vm)
		return vl_err_set(err, VL_E_NOTFOUND, "no VM '%s' in lab %s", name, lab->plan.lab_name);
	s = lab_vm_state(lab, vm, err);
	if (err->code != VL_OK)
		return -1;
	if (s != VL_VM_RUNNING)
		return vl_err_set(err, VL_E_FAIL, "%s is %s; 'vmlab up %s' starts it", name,
				  vl_vm_state_name(s), name);
	*out = vm;
	return 0;
}

/* libvirt only when the command does not ride the held session (which asks
 * it itself): a warm `ssh VM -- CMD` opens no connection. */
static int connect_virt(struct vl_ctx *ctx, struct vl_err *err)
{
	const char *uri = ctx->uri ? ctx->uri : ctx->config.uri;

	if (ctx->host)
		return 0;
	ctx->events.host = uri;
	ctx->host = vl_host_open(uri, err);
	return ctx->host ? 0 : -1;
}

int lab_open_target(struct vl_ctx *ctx, const char *name, struct lab *lab,
		       struct vl_ssh_target *t, char **host_pub, struct vl_err *err)
{
	const struct vl_plan_vm *vm = NULL;

	if (connect_virt(ctx, err) < 0 || lab_open(lab, ctx, 0, NULL, err) < 0)
		return -1;
	if (lab_running_vm(lab, name, &vm, err) < 0 || vl_keys_open(&lab->keys, lab->state_dir, err) < 0) {
		lab_close(lab);
		return -1;
	}
	lab_ssh_target(lab, vm, t, host_pub);
	return 0;
}

int vl_lab_ssh_exec(struct vl_ctx *ctx, const char *name, const char *const *argv, size_t argc,
		    int in_fd, int out_fd, int err_fd, int *status, struct vl_err *err)
{
	VL_AUTOFREE char *host_pub = NULL;
	struct vl_ssh_target t;
	struct lab lab;
	int rc;

	/* the held session checks the VM and the pinned key itself: a warm
	 * call costs one local round trip and the channel. Class seats (an
	 * instance, maybe on another host or behind a jump host) still
	 * connect directly: the master knows only the project's own URI. */
	if (lab_rides_held(ctx))
		return lab_held_exec(ctx, name, argv, argc, in_fd, out_fd, err_fd, status, err);
	if (lab_open_target(ctx, name, &lab, &t, &host_pub, err) < 0)
		return -1;
	rc = vl_ssh_exec(&t, argv, argc, in_fd, out_fd, err_fd, status, err);
	lab_close(&lab);
	return rc;
}

int vl_lab_ssh_shell(struct vl_ctx *ctx, const char *name, int *status, struct vl_err *err)
{
	VL_AUTOFREE char *host_pub = NULL;
	struct vl_ssh_target t;
	struct lab lab;
	int rc;

	if (lab_open_target(ctx, name, &lab, &t, &host_pub, err) < 0)
		return -1;
	rc = vl_ssh_shell(&t, status, err);
	lab_close(&lab);
	return rc;
}
