/* libvirt adapter, common part: connecting, host facts and KVM, the
 * translation of virGetLastError() into vl_err, and the XML readers the other
 * src/virt_*.c files share (virt_priv.h). Only src/virt*.c include libvirt. */
#include "virt_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "util/mem.h"
#include "util/str.h"
#include "util/xml.h"

/* ---- errors ---- */

/* Silence libvirt's default error printer: errors come back through vl_err. */
void virt_quiet_errors(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

int virt_last_code(void)
{
	virErrorPtr e = virGetLastError();

	return e ? e->code : VIR_ERR_OK;
}

bool virt_last_is_missing(void)
{
	switch (virt_last_code()) {
	case VIR_ERR_NO_DOMAIN:
	case VIR_ERR_NO_NETWORK:
	case VIR_ERR_NO_STORAGE_POOL:
	case VIR_ERR_NO_STORAGE_VOL:
	case VIR_ERR_NO_DOMAIN_SNAPSHOT:
	case VIR_ERR_NO_DOMAIN_METADATA:
		return true;
	default:
		return false;
	}
}

static enum vl_errcode map_code(virErrorPtr e)
{
	if (!e)
		return VL_E_FAIL;
	if (virt_last_is_missing())
		return VL_E_NOTFOUND;
	if (e->code == VIR_ERR_NO_CONNECT || e->code == VIR_ERR_INVALID_CONN ||
	    e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE)
		return VL_E_CONNECT;
	return VL_E_FAIL;
}

/* "<what>: <libvirt's message>". Call right after the failing libvirt call:
 * the last error is per thread and the next libvirt call resets it. */
int virt_err(struct vl_err *err, const char *fmt, ...)
{
	virErrorPtr e = virGetLastError();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	enum vl_errcode code = map_code(e);
	/* a daemon that went away mid-call says "End of file while reading
	 * data": name the cause, the rest is libvirt's detail */
	vl_err_set(err, code, "%s: %s%s", what,
		   code == VL_E_CONNECT ? "lost the libvirt connection: " : "",
		   e && e->message ? e->message : "unknown libvirt error");
	/* a full pool reaches us only as text (from the daemon, qemu-img or
	 * QEMU); the engine names the pool and the space from sys_errno */
	if (err && e && e->message && strstr(e->message, "No space left on device"))
		err->sys_errno = ENOSPC;
	return -1;
}

/* ---- libxml2 helpers for reading libvirt's XML ---- */

int virt_xdoc_parse(struct xdoc *x, const char *xml)
{
	vl_xml_init();
	x->ctx = NULL;
	x->doc = xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
			       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!x->doc)
		return -1;
	x->ctx = xmlXPathNewContext(x->doc);
	if (!x->ctx) {
		xmlFreeDoc(x->doc);
		x->doc = NULL;
		return -1;
	}
	return 0;
}

/* string(expr) evaluated at node (NULL: the document); NULL when empty. */
char *virt_xstr(struct xdoc *x, xmlNodePtr node, const char *expr)
{
	VL_AUTOFREE char *full = NULL;
	xmlXPathObjectPtr o;
	xmlChar *s;
	char *r = NULL;

	x->ctx->node = node ? node : xmlDocGetRootElement(x->doc);
	if (asprintf(&full, "string(%s)", expr) < 0)
		abort();
	o = xmlXPathEvalExpression((const xmlChar *)full, x->ctx);
	if (!o)
		return NULL;
	s = xmlXPathCastToString(o);
	if (s && *s)
		r = vl_strdup((const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(o);
	return r;
}

bool virt_xbool(struct xdoc *x, xmlNodePtr node, const char *expr)
{
	VL_AUTOFREE char *full = NULL;
	xmlXPathObjectPtr o;
	bool r;

	x->ctx->node = node ? node : xmlDocGetRootElement(x->doc);
	if (asprintf(&full, "boolean(%s)", expr) < 0)
		abort();
	o = xmlXPathEvalExpression((const xmlChar *)full, x->ctx);
	if (!o)
		return false;
	r = xmlXPathCastToBoolean(o);
	xmlXPathFreeObject(o);
	return r;
}

/* Nodes matching expr (absolute); the caller frees with xmlXPathFreeObject. */
xmlXPathObjectPtr virt_xnodes(struct xdoc *x, const char *expr)
{
	x->ctx->node = xmlDocGetRootElement(x->doc);
	return xmlXPathEvalExpression((const xmlChar *)expr, x->ctx);
}

size_t virt_xcount(xmlXPathObjectPtr o)
{
	return o && o->nodesetval ? (size_t)o->nodesetval->nodeNr : 0;
}

/* The name inside an XML string we are about to hand libvirt, for messages. */
char *virt_xml_name(const char *xml, const char *expr)
{
	VL_AUTO(xdoc) x = { 0 };
	char *s = NULL;

	if (xml && virt_xdoc_parse(&x, xml) == 0)
		s = virt_xstr(&x, NULL, expr);
	return s ? s : vl_strdup("?");
}

/* libvirt refuses to redefine an object whose new XML has no <uuid> ("already
 * exists with uuid ..."), and renderers need not know it: give the new
 * definition the existing uuid. NULL: use xml as it is. */
char *virt_xml_with_uuid(const char *xml, const char *uuid)
{
	VL_AUTO(xdoc) x = { 0 };
	xmlNodePtr root, name, node;
	xmlChar *mem = NULL;
	char *r;
	int len = 0;

	if (virt_xdoc_parse(&x, xml) < 0 || virt_xbool(&x, NULL, "uuid"))
		return NULL;
	root = xmlDocGetRootElement(x.doc);
	for (name = root->children; name; name = name->next)
		if (name->type == XML_ELEMENT_NODE && xmlStrEqual(name->name, (const xmlChar *)"name"))
			break;
	node = xmlNewDocNode(x.doc, NULL, (const xmlChar *)"uuid", (const xmlChar *)uuid);
	if (name)
		xmlAddNextSibling(name, node);
	else
		xmlAddChild(root, node);
	xmlDocDumpMemory(x.doc, &mem, &len);
	r = mem ? vl_strdup((const char *)mem) : NULL;
	xmlFree(mem);
	return r;
}

/* Text made safe for element content or a double-quoted attribute. */
char *virt_xml_escape(const char *s)
{
	xmlChar *e = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);
	char *r = vl_strdup(e ? (const char *)e : "");

	xmlFree(e);
	return r;
}

/* ---- process-wide ---- */

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static int setup_rc;

static void setup_once_fn(void)
{
	virSetErrorFunc(NULL, virt_quiet_errors);
	setup_rc = virInitialize();
}

int virt_setup(struct vl_err *err)
{
	pthread_once(&setup_once, setup_once_fn);
	if (setup_rc < 0)
		return virt_err(err, "libvirt initialisation");
	return 0;
}

/* ---- connection and host ---- */

struct vl_virt *vl_virt_open(const char *uri, struct vl_err *err)
{
	struct vl_virt *v;
	virConnectPtr conn;

	if (virt_setup(err) < 0)
		return NULL;
	conn = virConnectOpen(uri);
	if (!conn) {
		virErrorPtr e = virGetLastError();

		return vl_err_set(err, VL_E_CONNECT, "cannot connect to libvirt at %s: %s",
				  uri ? uri : "the default URI",
				  e && e->message ? e->message : "unknown libvirt error"),
		       NULL;
	}
	v = vl_calloc(1, sizeof(*v));
	v->conn = conn;
	return v;
}

void vl_virt_close(struct vl_virt *v)
{
	if (!v)
		return;
	virt_close_cb_remove(v);
	virConnectClose(v->conn);
	free(v);
}

static void fmt_version(unsigned long long ver, char *out, size_t size)
{
	snprintf(out, size, "%llu.%llu.%llu", ver / 1000000, (ver / 1000) % 1000, ver % 1000);
}

int vl_virt_host_info(struct vl_virt *v, struct vl_virt_host *out, struct vl_err *err)
{
	unsigned long ver = 0, lib = 0;
	const char *type;
	char *uri;

	memset(out, 0, sizeof(*out));
	uri = virConnectGetURI(v->conn);
	if (!uri)
		return virt_err(err, "libvirt connection: get URI");
	vl_strlcpy(out->uri, uri, sizeof(out->uri));
	free(uri);
	type = virConnectGetType(v->conn);
	if (!type)
		return virt_err(err, "libvirt connection: get driver type");
	vl_strlcpy(out->driver, type, sizeof(out->driver));
	if (virGetVersion(&lib, NULL, NULL) < 0)
		return virt_err(err, "libvirt: get library version");
	fmt_version(lib, out->libvirt, sizeof(out->libvirt));
	/* These two may be unsupported by a driver: leave them empty. */
	if (virConnectGetLibVersion(v->conn, &ver) == 0)
		fmt_version(ver, out->daemon, sizeof(out->daemon));
	ver = 0;
	if (virConnectGetVersion(v->conn, &ver) == 0 && ver)
		fmt_version(ver, out->hypervisor, sizeof(out->hypervisor));
	return 0;
}

int vl_virt_kvm_usable(struct vl_virt *v, bool *out, struct vl_err *err)
{
	VL_AUTO(xdoc) x = { 0 };
	VL_AUTOFREE char *caps = virConnectGetCapabilities(v->conn);

	*out = false;
	if (!caps)
		return virt_err(err, "libvirt capabilities");
	if (virt_xdoc_parse(&x, caps) < 0)
		return vl_err_set(err, VL_E_FAIL, "libvirt capabilities: unparsable XML");
	*out = virt_xbool(&x, NULL, "/capabilities/guest[os_type='hvm']/arch/domain[@type='kvm']");
	return 0;
}

bool vl_virt_uri_is_local(const char *uri)
{
	const char *p = uri ? strstr(uri, "://") : NULL;

	/* "qemu:///system", "qemu+unix:///system?socket=..": no server part */
	if (!p)
		return true;
	return p[3] == '/' || strncmp(p + 3, "localhost/", 10) == 0;
}

