/* The libvirt adapter's interface: the only way the rest of vmlab reaches
 * libvirt. Thin: connect, networks, volumes, domains, snapshots. */
#ifndef VL_VIRT_H
#define VL_VIRT_H

#include "event.h"
#include "util/err.h"

struct vl_virt;

/* Connect to uri (NULL: libvirt's default). Failure is VL_E_CONNECT. */
struct vl_virt *vl_virt_open(const char *uri, const struct vl_events *evs, struct vl_err *err);
void vl_virt_close(struct vl_virt *v);

#endif
