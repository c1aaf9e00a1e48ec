/* Per-project lock (.vmlab/lock): two vmlab commands on one lab never
 * interleave. flock() so a killed process releases it automatically. */
#ifndef VL_UTIL_LOCK_H
#define VL_UTIL_LOCK_H

#include "util/err.h"

struct vl_lock {
	int fd;
};

#define VL_LOCK_INIT { -1 }

/* Take an exclusive lock on path, creating it. wait_s = 0: fail at once
 * with VL_E_LOCKED if held; otherwise wait up to wait_s seconds. */
int vl_lock_take(struct vl_lock *l, const char *path, unsigned wait_s, struct vl_err *err);
/* A lock several users share (a host-wide one): the file is created 0644 if
 * missing and opened read-only if it exists, so any user can take it. */
int vl_lock_take_shared(struct vl_lock *l, const char *path, unsigned wait_s,
			struct vl_err *err);
void vl_lock_release(struct vl_lock *l);

#endif
