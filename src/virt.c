/* libvirt adapter: the only file that includes libvirt. Translates
 * virGetLastError() into vl_err and keeps every call thin. */
#include "virt.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "util/mem.h"

struct vl_virt {
	virConnectPtr conn;
	const struct vl_events *evs;
};

/* Silence libvirt's default error printer: errors come back through vl_err. */
static void quiet_errors(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

static int virt_error(struct vl_err *err, enum vl_errcode code, const char *what)
{
	virErrorPtr e = virGetLastError();

	return vl_err_set(err, code, "%s: %s", what, e && e->message ? e->message : "unknown libvirt error");
}

struct vl_virt *vl_virt_open(const char *uri, const struct vl_events *evs, struct vl_err *err)
{
	struct vl_virt *v;
	virConnectPtr conn;

	virSetErrorFunc(NULL, quiet_errors);
	conn = virConnectOpen(uri);
	if (!conn) {
		virt_error(err, VL_E_CONNECT, uri ? uri : "libvirt");
		vl_err_prefix(err, "cannot connect to libvirt");
		return NULL;
	}
	v = vl_calloc(1, sizeof(*v));
	v->conn = conn;
	v->evs = evs;
	return v;
}

void vl_virt_close(struct vl_virt *v)
{
	if (!v)
		return;
	virConnectClose(v->conn);
	free(v);
}
