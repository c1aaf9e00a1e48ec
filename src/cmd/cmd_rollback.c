/* vmlab rollback [NAME]: restore the newest lab snapshot, or NAME. */
#include "cmd/cmd.h"

#include "lab.h"

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	return vl_lab_snapshot_restore(ctx, a->npos ? a->pos[0] : NULL, err);
}

const struct vl_cmd vl_cmd_rollback = {
	.name = "rollback",
	.usage = "rollback [NAME]",
	.summary = "restore the newest (or the named) snapshot",
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT,
	.max_args = 1,
	.run = run,
};
