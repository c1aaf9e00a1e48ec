/* Room in the host's storage pool: refused up front where the size is
 * known, and a full pool named, with its directory and the figures, where
 * only the failure tells (ENOSPC from the daemon or qemu-img; QEMU's
 * savevm says EIO, so there a pool with less room than needed). */
#include "host.h"
#include "lab_priv.h"

#include <errno.h>
#include <stdlib.h>

#include "util/mem.h"
#include "util/size.h"
#include "virt.h"

int lab_pool_room(struct vl_ctx *ctx, const char *what, uint64_t need, struct vl_err *err)
{
	const char *pool = ctx->config.pool_name;
	VL_AUTOFREE char *dir = NULL;
	struct vl_err ignore = VL_ERR_INIT;
	char n[32], f[32];
	uint64_t avail;

	/* figures we cannot get must not stop an up that would work */
	if (vl_virt_pool_room(ctx->host->virt, pool, &avail, &dir, &ignore) < 0 || avail >= need)
		return 0;
	vl_human_bytes(n, sizeof(n), (double)need, VL_SIZE_IEC);
	vl_human_bytes(f, sizeof(f), (double)avail, VL_SIZE_IEC);
	return vl_err_set(err, VL_E_IO, "not enough space in pool %s (%s): %s needs %s, %s free",
			  pool, dir ? dir : "?", what, n, f);
}

int lab_pool_full(struct vl_ctx *ctx, const char *what, uint64_t need, struct vl_err *err)
{
	const char *pool = ctx->config.pool_name;
	VL_AUTOFREE char *dir = NULL;
	struct vl_err ignore = VL_ERR_INIT;
	char n[32], f[32];
	uint64_t avail = 0;

	/* QEMU's savevm reports a full disk as EIO: a failure that needed
	 * more than the pool has left counts as a full pool too */
	if (err->sys_errno != ENOSPC &&
	    (need == 0 || vl_virt_pool_room(ctx->host->virt, pool, &avail, &dir, &ignore) < 0 ||
	     avail >= need))
		return -1;
	free(dir);
	dir = NULL;
	vl_virt_pool_room(ctx->host->virt, pool, &avail, &dir, &ignore);
	vl_human_bytes(f, sizeof(f), (double)avail, VL_SIZE_IEC);
	if (need == 0)
		return vl_err_set(err, VL_E_IO, "no space left in pool %s (%s) for %s (%s free)",
				  pool, dir ? dir : "?", what, f);
	vl_human_bytes(n, sizeof(n), (double)need, VL_SIZE_IEC);
	return vl_err_set(err, VL_E_IO, "no space left in pool %s (%s): %s needs up to %s, %s free",
			  pool, dir ? dir : "?", what, n, f);
}
