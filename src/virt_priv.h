/* What the libvirt adapter's files (src/virt*.c) share: the connection, the
 * handle cleanups, libvirt error translation and the XML readers. Only
 * src/virt*.c include this; the rest of vmlab sees virt.h. Shared helpers
 * are external symbols of libvmlab.a, hence the virt_ prefix (lab_priv.h has
 * lab_): a bare verr() would also be glibc's verr(3). */
#ifndef VL_VIRT_PRIV_H
#define VL_VIRT_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "virt.h"

struct vl_virt {
	virConnectPtr conn;
	const struct vl_events *evs;
	void *on_close;          /* the close callback's registration (virt_events.c) */
};

/* Scope-bound release of libvirt handles. The free functions reset libvirt's
 * last error, which is safe here: `return virt_err(...)` reads it before the
 * cleanups run. */
#define DEFINE_UNREF(T, fn) \
	static inline void T##_unref(T *p) { if (*p) fn(*p); }
DEFINE_UNREF(virDomainPtr, virDomainFree)
DEFINE_UNREF(virNetworkPtr, virNetworkFree)
DEFINE_UNREF(virStoragePoolPtr, virStoragePoolFree)
DEFINE_UNREF(virStorageVolPtr, virStorageVolFree)
DEFINE_UNREF(virDomainSnapshotPtr, virDomainSnapshotFree)
#define AUTO_LV(T) __attribute__((cleanup(T##_unref))) T

/* ---- process-wide (virt.c) ---- */

/* libvirt initialised and its error printer silenced, once. */
int virt_setup(struct vl_err *err);

/* ---- errors (virt.c) ---- */

/* Silence libvirt's default error printer: errors come back through vl_err. */
void virt_quiet_errors(void *ud, virErrorPtr e);
int virt_last_code(void);
bool virt_last_is_missing(void);
/* "<what>: <libvirt's message>". Call right after the failing libvirt call:
 * the last error is per thread and the next libvirt call resets it. */
int virt_err(struct vl_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- libxml2 helpers for reading libvirt's XML (virt.c) ---- */

struct xdoc {
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

/* VL_AUTO(xdoc) x = { 0 }; */
static inline void xdoc_autoptr(struct xdoc *x)
{
	if (x->ctx)
		xmlXPathFreeContext(x->ctx);
	if (x->doc)
		xmlFreeDoc(x->doc);
}

int virt_xdoc_parse(struct xdoc *x, const char *xml);
/* string(expr) evaluated at node (NULL: the document); NULL when empty. */
char *virt_xstr(struct xdoc *x, xmlNodePtr node, const char *expr);
bool virt_xbool(struct xdoc *x, xmlNodePtr node, const char *expr);
/* Nodes matching expr (absolute); the caller frees with xmlXPathFreeObject. */
xmlXPathObjectPtr virt_xnodes(struct xdoc *x, const char *expr);
size_t virt_xcount(xmlXPathObjectPtr o);
/* The name inside an XML string we are about to hand libvirt, for messages. */
char *virt_xml_name(const char *xml, const char *expr);
/* xml with the given <uuid> added; NULL: use xml as it is (see virt.c). */
char *virt_xml_with_uuid(const char *xml, const char *uuid);
/* Text made safe for element content or a double-quoted attribute. */
char *virt_xml_escape(const char *s);

/* ---- events (virt_events.c) ---- */

/* Unregister the close callback, if any (vl_virt_close does, first). */
void virt_close_cb_remove(struct vl_virt *v);

/* ---- domains (virt_domain.c) ---- */

virDomainPtr virt_dom_get(struct vl_virt *v, const char *name, struct vl_err *err);

#endif
