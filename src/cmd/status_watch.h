/* vmlab status --watch (status_watch.c). */
#ifndef VL_CMD_STATUS_WATCH_H
#define VL_CMD_STATUS_WATCH_H

#include <stdbool.h>

#include "ctx.h"
#include "util/err.h"

/* Print changes of lab_id's lab (NULL: every lab) until cancelled. */
int vl_status_watch(struct vl_ctx *ctx, const char *lab_id, bool json, struct vl_err *err);

#endif
