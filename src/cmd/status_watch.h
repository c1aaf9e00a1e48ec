/* vmlab status --watch (status_watch.c). */
#ifndef VL_CMD_STATUS_WATCH_H
#define VL_CMD_STATUS_WATCH_H

#include <stdbool.h>

#include "ctx.h"
#include "util/err.h"

#include <stddef.h>

/* What to follow: the labs of every host in uris, all of them (n_labs 0)
 * or only lab_ids[], each printed as labels[] (a class seat) or its id. */
struct vl_watch_what {
	const char *const *uris;       /* NULL entries: libvirt's default */
	size_t n_uris;
	const char *const *lab_ids;
	const char *const *labels;     /* may be NULL */
	size_t n_labs;
};

/* Print the changes until cancelled (Ctrl-C). */
int vl_status_watch(struct vl_ctx *ctx, const struct vl_watch_what *what, bool json,
		    struct vl_err *err);

#endif
