/* Subnets the host already routes (from /proc/net/route), so a lab never
 * picks a subnet that would shadow a real one. Not libvirt: plain files. */
#ifndef VL_HOSTROUTES_H
#define VL_HOSTROUTES_H

#include <stddef.h>

#include "subnet.h"
#include "util/err.h"

/* Parse the text of /proc/net/route: one subnet per route that is up and has
 * a contiguous netmask. The default route (prefix 0) is left out, since it
 * would overlap every candidate. Malformed lines are skipped; *out is NULL
 * when there are none. Never fails on content; returns 0. */
int vl_hostroutes_parse(const char *text, struct vl_subnet **out, size_t *n);

/* Read and parse path (NULL: /proc/net/route). A missing file is not an
 * error (no routes, e.g. in some containers); other read errors are VL_E_IO. */
int vl_hostroutes_read(const char *path, struct vl_subnet **out, size_t *n, struct vl_err *err);

#endif
