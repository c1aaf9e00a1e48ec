/* vmlab doctor: checks of the host a lab needs, each with a fix. Results are
 * data; the command prints them. */
#ifndef VL_DOCTOR_H
#define VL_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"

enum vl_check_level { VL_CHECK_OK, VL_CHECK_WARN, VL_CHECK_FAIL };

struct vl_check {
	char *name;
	enum vl_check_level level;
	char *detail;     /* what was found */
	char *fix;        /* how to fix it, NULL when ok */
};

struct vl_checks {
	struct vl_check *items;
	size_t n;
};

/* Runs every check; never fails as a whole (a failed check is a result). */
void vl_doctor_run(struct vl_ctx *ctx, struct vl_checks *out);
void vl_checks_release(struct vl_checks *c);

#endif
