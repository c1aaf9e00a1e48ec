/* Run n independent jobs on at most `width` threads (VMs are brought up,
 * halted and destroyed in parallel). Each job fills its own vl_err. */
#ifndef VL_UTIL_PARALLEL_H
#define VL_UTIL_PARALLEL_H

#include <stddef.h>

#include "util/err.h"

typedef int (*vl_job_fn)(void *ud, size_t i, struct vl_err *err);

/* Returns 0 if every job succeeded. Otherwise -1, errs[i] holds each job's
 * error (errs has n entries, caller-allocated), and *first_failed the lowest
 * failing index. */
int vl_parallel_run(size_t n, unsigned width, vl_job_fn fn, void *ud, struct vl_err *errs,
		    size_t *first_failed);

#endif
