/* Printing a plan (table or JSON), shared by `vmlab plan` and `vmlab up --dry-run`. */
#ifndef VL_CMD_PLAN_PRINT_H
#define VL_CMD_PLAN_PRINT_H

#include <stdbool.h>

#include "plan.h"

void vl_cmd_print_plan(const struct vl_plan *plan, bool json);

#endif
