/* libvirt adapter: the only file that includes libvirt. Translates
 * virGetLastError() into vl_err and keeps every call thin. */
#include "virt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "util/buf.h"
#include "util/ipv4.h"
#include "util/mem.h"
#include "util/str.h"

struct vl_virt {
	virConnectPtr conn;
	const struct vl_events *evs;
};

/* Scope-bound release of libvirt handles. The free functions reset libvirt's
 * last error, which is safe here: `return verr(...)` reads it before the
 * cleanups run. */
#define DEFINE_UNREF(T, fn) \
	static inline void T##_unref(T *p) { if (*p) fn(*p); }
DEFINE_UNREF(virDomainPtr, virDomainFree)
DEFINE_UNREF(virNetworkPtr, virNetworkFree)
DEFINE_UNREF(virStoragePoolPtr, virStoragePoolFree)
DEFINE_UNREF(virStorageVolPtr, virStorageVolFree)
DEFINE_UNREF(virDomainSnapshotPtr, virDomainSnapshotFree)
#define AUTO_LV(T) __attribute__((cleanup(T##_unref))) T

/* ---- errors ---- */

/* Silence libvirt's default error printer: errors come back through vl_err. */
static void quiet_errors(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

static int last_code(void)
{
	virErrorPtr e = virGetLastError();

	return e ? e->code : VIR_ERR_OK;
}

static bool last_is_missing(void)
{
	switch (last_code()) {
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
	if (last_is_missing())
		return VL_E_NOTFOUND;
	if (e->code == VIR_ERR_NO_CONNECT || e->code == VIR_ERR_INVALID_CONN ||
	    e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE)
		return VL_E_CONNECT;
	return VL_E_FAIL;
}

/* "<what>: <libvirt's message>". Call right after the failing libvirt call:
 * the last error is per thread and the next libvirt call resets it. */
static int verr(struct vl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int verr(struct vl_err *err, const char *fmt, ...)
{
	virErrorPtr e = virGetLastError();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return vl_err_set(err, map_code(e), "%s: %s", what,
			  e && e->message ? e->message : "unknown libvirt error");
}

/* ---- libxml2 helpers for reading libvirt's XML ---- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

struct xdoc {
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static int xdoc_parse(struct xdoc *x, const char *xml)
{
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

static void xdoc_autoptr(struct xdoc *x)
{
	if (x->ctx)
		xmlXPathFreeContext(x->ctx);
	if (x->doc)
		xmlFreeDoc(x->doc);
}

/* string(expr) evaluated at node (NULL: the document); NULL when empty. */
static char *xstr(struct xdoc *x, xmlNodePtr node, const char *expr)
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

static bool xbool(struct xdoc *x, xmlNodePtr node, const char *expr)
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
static xmlXPathObjectPtr xnodes(struct xdoc *x, const char *expr)
{
	x->ctx->node = xmlDocGetRootElement(x->doc);
	return xmlXPathEvalExpression((const xmlChar *)expr, x->ctx);
}

static size_t xcount(xmlXPathObjectPtr o)
{
	return o && o->nodesetval ? (size_t)o->nodesetval->nodeNr : 0;
}

/* The name inside an XML string we are about to hand libvirt, for messages. */
static char *xml_name(const char *xml, const char *expr)
{
	VL_AUTO(xdoc) x = { 0 };
	char *s = NULL;

	if (xml && xdoc_parse(&x, xml) == 0)
		s = xstr(&x, NULL, expr);
	return s ? s : vl_strdup("?");
}

/* libvirt refuses to redefine an object whose new XML has no <uuid> ("already
 * exists with uuid ..."), and renderers need not know it: give the new
 * definition the existing uuid. NULL: use xml as it is. */
static char *xml_with_uuid(const char *xml, const char *uuid)
{
	VL_AUTO(xdoc) x = { 0 };
	xmlNodePtr root, name, node;
	xmlChar *mem = NULL;
	char *r;
	int len = 0;

	if (xdoc_parse(&x, xml) < 0 || xbool(&x, NULL, "uuid"))
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
static char *xml_escape(const char *s)
{
	xmlChar *e = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);
	char *r = vl_strdup(e ? (const char *)e : "");

	xmlFree(e);
	return r;
}

/* ---- connection and host ---- */

struct vl_virt *vl_virt_open(const char *uri, const struct vl_events *evs, struct vl_err *err)
{
	struct vl_virt *v;
	virConnectPtr conn;

	pthread_once(&xml_once, xml_init);
	virSetErrorFunc(NULL, quiet_errors);
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
		return verr(err, "libvirt connection: get URI");
	vl_strlcpy(out->uri, uri, sizeof(out->uri));
	free(uri);
	type = virConnectGetType(v->conn);
	if (!type)
		return verr(err, "libvirt connection: get driver type");
	vl_strlcpy(out->driver, type, sizeof(out->driver));
	if (virGetVersion(&lib, NULL, NULL) < 0)
		return verr(err, "libvirt: get library version");
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
		return verr(err, "libvirt capabilities");
	if (xdoc_parse(&x, caps) < 0)
		return vl_err_set(err, VL_E_FAIL, "libvirt capabilities: unparsable XML");
	*out = xbool(&x, NULL, "/capabilities/guest[os_type='hvm']/arch/domain[@type='kvm']");
	return 0;
}

/* ---- networks ---- */

static virNetworkPtr net_get(struct vl_virt *v, const char *name, struct vl_err *err)
{
	virNetworkPtr n = virNetworkLookupByName(v->conn, name);

	if (!n) {
		if (last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "network %s: not found", name);
		else
			verr(err, "network %s", name);
	}
	return n;
}

int vl_virt_network_get_xml(struct vl_virt *v, const char *name, char **out, struct vl_err *err)
{
	AUTO_LV(virNetworkPtr) n = net_get(v, name, err);

	*out = NULL;
	if (!n)
		return -1;
	*out = virNetworkGetXMLDesc(n, 0);
	if (!*out)
		return verr(err, "network %s: XML", name);
	return 0;
}

int vl_virt_network_exists(struct vl_virt *v, const char *name, bool *out, struct vl_err *err)
{
	AUTO_LV(virNetworkPtr) n = virNetworkLookupByName(v->conn, name);

	*out = n != NULL;
	if (!n && !last_is_missing())
		return verr(err, "network %s", name);
	return 0;
}

int vl_virt_network_define_start(struct vl_virt *v, const char *xml, struct vl_err *err)
{
	VL_AUTOFREE char *name = xml_name(xml, "/network/name");
	VL_AUTOFREE char *fixed = NULL;
	AUTO_LV(virNetworkPtr) n = virNetworkLookupByName(v->conn, name);
	bool existed = n != NULL;
	char uuid[VIR_UUID_STRING_BUFLEN];
	int active;

	if (!n && !last_is_missing())
		return verr(err, "network %s", name);
	if (n) {
		if (virNetworkGetUUIDString(n, uuid) < 0)
			return verr(err, "network %s: UUID", name);
		fixed = xml_with_uuid(xml, uuid);
		virNetworkFree(n);
	}
	n = virNetworkDefineXML(v->conn, fixed ? fixed : xml);
	if (!n)
		return verr(err, "network %s: define", name);
	active = virNetworkIsActive(n);
	if (active < 0)
		return verr(err, "network %s", name);
	if (active)
		return 0;
	if (virNetworkCreate(n) < 0) {
		verr(err, "network %s: start", name);
		if (!existed)
			virNetworkUndefine(n);
		return -1;
	}
	vl_event_debug(v->evs, NULL, "network %s started", name);
	return 0;
}

int vl_virt_network_destroy_undefine(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virNetworkPtr) n = virNetworkLookupByName(v->conn, name);
	int r;

	if (!n)
		return last_is_missing() ? 0 : verr(err, "network %s", name);
	r = virNetworkIsActive(n);
	if (r < 0)
		return last_is_missing() ? 0 : verr(err, "network %s", name);
	/* Another thread or user may have got there first: "not running" or
	 * "not found" from the call itself still means done. */
	if (r > 0 && virNetworkDestroy(n) < 0 && last_code() != VIR_ERR_OPERATION_INVALID) {
		if (last_is_missing())
			return 0;
		return verr(err, "network %s: stop", name);
	}
	r = virNetworkIsPersistent(n);
	if (r < 0)
		return last_is_missing() ? 0 : verr(err, "network %s", name);
	if (r > 0 && virNetworkUndefine(n) < 0 && !last_is_missing())
		return verr(err, "network %s: undefine", name);
	return 0;
}

/* The IPv4 subnet of one <ip> element; false if it is not a usable one. */
static bool ip_subnet(struct xdoc *x, xmlNodePtr ip, struct vl_subnet *out)
{
	VL_AUTOFREE char *addr = xstr(x, ip, "@address");
	VL_AUTOFREE char *mask = xstr(x, ip, "@netmask");
	VL_AUTOFREE char *pfx = xstr(x, ip, "@prefix");
	unsigned long long p = 33;
	uint32_t a, m;

	if (!addr || !vl_ipv4_parse(addr, &a))
		return false;
	if (pfx) {
		if (!vl_str_to_u64(pfx, &p) || p > 32)
			return false;
	} else if (mask) {
		if (!vl_ipv4_parse(mask, &m))
			return false;
		for (unsigned i = 0; i <= 32; i++)
			if (vl_ipv4_mask(i) == m)
				p = i;
		if (p > 32)
			return false;
	} else {
		/* libvirt falls back to the classful prefix. */
		p = (a >> 24) < 128 ? 8 : (a >> 24) < 192 ? 16 : (a >> 24) < 224 ? 24 : 33;
		if (p > 32)
			return false;
	}
	out->prefix = (unsigned)p;
	out->addr = a & vl_ipv4_mask(out->prefix);
	return true;
}

#define IPV4_XPATH "/network/ip[not(@family) or @family='ipv4']"

static int cmp_net(const void *a, const void *b)
{
	return strcmp(((const struct vl_virt_net *)a)->name, ((const struct vl_virt_net *)b)->name);
}

static void free_nets(virNetworkPtr *nets, int cnt)
{
	for (int i = 0; i < cnt; i++)
		virNetworkFree(nets[i]);
	free(nets);
}

int vl_virt_network_list(struct vl_virt *v, const char *prefix, struct vl_virt_net **out,
			 size_t *n, struct vl_err *err)
{
	virNetworkPtr *nets = NULL;
	struct vl_virt_net *list;
	size_t cnt = 0;
	int total;

	*out = NULL;
	*n = 0;
	total = virConnectListAllNetworks(v->conn, &nets, 0);
	if (total < 0)
		return verr(err, "list networks");
	list = vl_calloc((size_t)total + 1, sizeof(*list));
	for (int i = 0; i < total; i++) {
		const char *name = virNetworkGetName(nets[i]);
		VL_AUTOFREE char *xml = NULL;
		VL_AUTO(xdoc) x = { 0 };
		xmlXPathObjectPtr ips;
		struct vl_virt_net *e;

		if (!name || (prefix && !vl_str_startswith(name, prefix)))
			continue;
		xml = virNetworkGetXMLDesc(nets[i], 0);
		if (!xml) {
			if (last_is_missing())
				continue;  /* undefined while we listed */
			verr(err, "network %s", name);
			goto fail;
		}
		if (xdoc_parse(&x, xml) < 0)
			continue;
		e = &list[cnt++];
		e->name = vl_strdup(name);
		e->bridge = xstr(&x, NULL, "/network/bridge/@name");
		e->active = virNetworkIsActive(nets[i]) == 1;
		ips = xnodes(&x, IPV4_XPATH);
		for (size_t k = 0; k < xcount(ips) && !e->has_subnet; k++)
			e->has_subnet = ip_subnet(&x, ips->nodesetval->nodeTab[k], &e->subnet);
		xmlXPathFreeObject(ips);
	}
	free_nets(nets, total);
	qsort(list, cnt, sizeof(*list), cmp_net);
	*out = list;
	*n = cnt;
	return 0;
fail:
	free_nets(nets, total);
	vl_virt_net_list_free(list, cnt);
	return -1;
}

void vl_virt_net_list_free(struct vl_virt_net *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].bridge);
	}
	free(list);
}

int vl_virt_used_subnets(struct vl_virt *v, struct vl_subnet **out, size_t *n, struct vl_err *err)
{
	virNetworkPtr *nets = NULL;
	struct vl_subnet *list = NULL;
	size_t cnt = 0, cap = 0;
	int total;

	*out = NULL;
	*n = 0;
	total = virConnectListAllNetworks(v->conn, &nets, 0);
	if (total < 0)
		return verr(err, "list networks");
	for (int i = 0; i < total; i++) {
		VL_AUTOFREE char *xml = virNetworkGetXMLDesc(nets[i], 0);
		VL_AUTO(xdoc) x = { 0 };
		xmlXPathObjectPtr ips;

		if (!xml) {
			if (last_is_missing())
				continue;
			verr(err, "network %s", virNetworkGetName(nets[i]));
			free_nets(nets, total);
			free(list);
			return -1;
		}
		if (xdoc_parse(&x, xml) < 0)
			continue;
		ips = xnodes(&x, IPV4_XPATH);
		for (size_t k = 0; k < xcount(ips); k++) {
			struct vl_subnet s;

			if (!ip_subnet(&x, ips->nodesetval->nodeTab[k], &s))
				continue;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 8;
				list = vl_realloc(list, cap * sizeof(*list));
			}
			list[cnt++] = s;
		}
		xmlXPathFreeObject(ips);
	}
	free_nets(nets, total);
	*out = list;
	*n = cnt;
	return 0;
}

int vl_virt_network_leases(struct vl_virt *v, const char *network, const char *mac,
			   struct vl_virt_lease **out, size_t *n, struct vl_err *err)
{
	AUTO_LV(virNetworkPtr) net = net_get(v, network, err);
	virNetworkDHCPLeasePtr *leases = NULL;
	struct vl_virt_lease *list;
	size_t cnt = 0;
	int total;

	*out = NULL;
	*n = 0;
	if (!net)
		return -1;
	total = virNetworkGetDHCPLeases(net, mac, &leases, 0);
	if (total < 0)
		return verr(err, "network %s: DHCP leases", network);
	list = vl_calloc((size_t)total + 1, sizeof(*list));
	for (int i = 0; i < total; i++) {
		virNetworkDHCPLeasePtr l = leases[i];

		if (l->type == VIR_IP_ADDR_TYPE_IPV4 && l->mac && l->ipaddr) {
			struct vl_virt_lease *e = &list[cnt++];

			vl_strlcpy(e->mac, l->mac, sizeof(e->mac));
			vl_strlcpy(e->ip, l->ipaddr, sizeof(e->ip));
			e->hostname = l->hostname ? vl_strdup(l->hostname) : NULL;
			e->expiry = l->expirytime;
		}
		virNetworkDHCPLeaseFree(l);
	}
	free(leases);
	*out = list;
	*n = cnt;
	return 0;
}

void vl_virt_lease_list_free(struct vl_virt_lease *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i].hostname);
	free(list);
}

/* ---- storage ---- */

static virStoragePoolPtr pool_get(struct vl_virt *v, const char *name, struct vl_err *err)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(v->conn, name);

	if (!p) {
		if (last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "pool %s: not found", name);
		else
			verr(err, "pool %s", name);
	}
	return p;
}

/* A volume of pool; NULL with err set (VL_E_NOTFOUND for a missing one). */
static virStorageVolPtr vol_get(struct vl_virt *v, const char *pool, const char *name,
				struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	virStorageVolPtr vol;

	if (!p)
		return NULL;
	vol = virStorageVolLookupByName(p, name);
	if (!vol) {
		if (last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "volume %s in pool %s: not found", name, pool);
		else
			verr(err, "volume %s in pool %s", name, pool);
	}
	return vol;
}

int vl_virt_pool_ensure(struct vl_virt *v, const char *name, const char *dir, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, name);
	bool created = false;
	int active, autostart = 0;

	if (!p && !last_is_missing())
		return verr(err, "pool %s", name);
	if (!p) {
		VL_AUTOFREE char *ename = xml_escape(name);
		VL_AUTOFREE char *edir = xml_escape(dir);
		VL_AUTOFREE char *xml = NULL;

		if (asprintf(&xml, "<pool type=\"dir\"><name>%s</name><target><path>%s</path>"
			     "</target></pool>", ename, edir) < 0)
			abort();
		p = virStoragePoolDefineXML(v->conn, xml, 0);
		if (!p)
			return verr(err, "pool %s: define (%s)", name, dir);
		created = true;
		vl_event_debug(v->evs, NULL, "pool %s defined at %s", name, dir);
	} else {
		VL_AUTOFREE char *xml = virStoragePoolGetXMLDesc(p, 0);
		VL_AUTO(xdoc) x = { 0 };
		VL_AUTOFREE char *path = NULL;

		if (!xml)
			return verr(err, "pool %s", name);
		if (xdoc_parse(&x, xml) == 0)
			path = xstr(&x, NULL, "/pool/target/path");
		if (path && !vl_streq(path, dir))
			vl_event_warn(v->evs, NULL, "pool %s already exists at %s (not %s); using it",
				      name, path, dir);
	}
	active = virStoragePoolIsActive(p);
	if (active < 0)
		goto fail_verr_state;
	if (!active) {
		/* Build makes the directory (and is harmless when it exists). */
		if (virStoragePoolBuild(p, 0) < 0) {
			verr(err, "pool %s: build %s", name, dir);
			goto fail;
		}
		if (virStoragePoolCreate(p, 0) < 0) {
			verr(err, "pool %s: start", name);
			goto fail;
		}
	} else if (virStoragePoolRefresh(p, 0) < 0) {
		return verr(err, "pool %s: refresh", name);
	}
	if (virStoragePoolGetAutostart(p, &autostart) < 0)
		return verr(err, "pool %s", name);
	if (!autostart && virStoragePoolSetAutostart(p, 1) < 0)
		return verr(err, "pool %s: set autostart", name);
	return 0;
fail_verr_state:
	verr(err, "pool %s", name);
fail:
	/* Leave nothing half-made: a pool we just defined goes again. */
	if (created)
		virStoragePoolUndefine(p);
	return -1;
}

int vl_virt_pool_remove(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, name);
	int r;

	if (!p)
		return last_is_missing() ? 0 : verr(err, "pool %s", name);
	r = virStoragePoolIsActive(p);
	if (r < 0)
		return last_is_missing() ? 0 : verr(err, "pool %s", name);
	if (r > 0 && virStoragePoolDestroy(p) < 0 && last_code() != VIR_ERR_OPERATION_INVALID &&
	    !last_is_missing())
		return verr(err, "pool %s: stop", name);
	r = virStoragePoolIsPersistent(p);
	if (r < 0)
		return last_is_missing() ? 0 : verr(err, "pool %s", name);
	if (r > 0 && virStoragePoolUndefine(p) < 0 && !last_is_missing())
		return verr(err, "pool %s: undefine", name);
	return 0;
}

int vl_virt_pool_exists(struct vl_virt *v, const char *name, bool *out, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, name);

	*out = p != NULL;
	if (!p && !last_is_missing())
		return verr(err, "pool %s", name);
	return 0;
}

int vl_virt_pool_refresh(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, name, err);

	if (!p)
		return -1;
	if (virStoragePoolRefresh(p, 0) < 0)
		return verr(err, "pool %s: refresh", name);
	return 0;
}

int vl_virt_volume_exists(struct vl_virt *v, const char *pool, const char *name, bool *out,
			  struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	AUTO_LV(virStorageVolPtr) vol = NULL;

	*out = false;
	if (!p)
		return -1;
	vol = virStorageVolLookupByName(p, name);
	*out = vol != NULL;
	if (!vol && !last_is_missing())
		return verr(err, "volume %s in pool %s", name, pool);
	return 0;
}

int vl_virt_volume_create_xml(struct vl_virt *v, const char *pool, const char *xml,
			      char **path_out, struct vl_err *err)
{
	VL_AUTOFREE char *name = xml_name(xml, "/volume/name");
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	AUTO_LV(virStorageVolPtr) vol = NULL;

	if (path_out)
		*path_out = NULL;
	if (!p)
		return -1;
	vol = virStorageVolCreateXML(p, xml, 0);
	if (!vol)
		return verr(err, "volume %s in pool %s: create", name, pool);
	if (path_out) {
		*path_out = virStorageVolGetPath(vol);
		if (!*path_out)
			return verr(err, "volume %s in pool %s: path", name, pool);
	}
	return 0;
}

int vl_virt_volume_delete(struct vl_virt *v, const char *pool, const char *name, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = virStoragePoolLookupByName(v->conn, pool);
	AUTO_LV(virStorageVolPtr) vol = NULL;

	if (!p) /* no pool, no volume: already gone */
		return last_is_missing() ? 0 : verr(err, "pool %s", pool);
	vol = virStorageVolLookupByName(p, name);
	if (!vol)
		return last_is_missing() ? 0 : verr(err, "volume %s in pool %s", name, pool);
	if (virStorageVolDelete(vol, 0) < 0 && !last_is_missing())
		return verr(err, "volume %s in pool %s: delete", name, pool);
	return 0;
}

static bool safe_vol_name(const char *s)
{
	if (!s || !*s || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Stream fd (size bytes) into vol; the stream is finished or aborted. */
static int upload_stream(struct vl_virt *v, virStorageVolPtr vol, int fd, uint64_t size,
			 const char *what, struct vl_err *err)
{
	virStreamPtr st = virStreamNew(v->conn, 0);
	static const size_t chunk = 256 * 1024;
	VL_AUTOFREE char *buf = vl_malloc(chunk);
	uint64_t done = 0;

	if (!st)
		return verr(err, "%s: upload", what);
	if (virStorageVolUpload(vol, st, 0, size, 0) < 0) {
		verr(err, "%s: upload", what);
		virStreamFree(st);
		return -1;
	}
	while (done < size) {
		ssize_t r = read(fd, buf, chunk);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			vl_err_sys(err, VL_E_IO, r < 0 ? errno : EIO, "%s: upload: read", what);
			goto abort;
		}
		for (ssize_t off = 0; off < r;) {
			int s = virStreamSend(st, buf + off, (size_t)(r - off));

			if (s < 0) {
				verr(err, "%s: upload", what);
				goto abort;
			}
			off += s;
		}
		done += (uint64_t)r;
		/* a seed ISO takes a blink: progress only where someone waits */
		if (size >= (16u << 20))
			vl_event_progress(v->evs, what, "upload", done, size, 0);
	}
	if (virStreamFinish(st) < 0) {
		verr(err, "%s: upload", what);
		virStreamFree(st);
		return -1;
	}
	virStreamFree(st);
	return 0;
abort:
	virStreamAbort(st);
	virStreamFree(st);
	return -1;
}

int vl_virt_volume_upload(struct vl_virt *v, const char *pool, const char *name,
			  const char *local_path, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = NULL;
	AUTO_LV(virStorageVolPtr) vol = NULL;
	VL_AUTOFREE char *xml = NULL;
	char what[300];
	struct stat st;
	int fd, r;

	if (!safe_vol_name(name))
		return vl_err_set(err, VL_E_FAIL, "volume %s in pool %s: bad name", name, pool);
	snprintf(what, sizeof(what), "volume %s in pool %s", name, pool);
	p = pool_get(v, pool, err);
	if (!p)
		return -1;
	fd = open(local_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "%s: upload %s", what, local_path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		return vl_err_sys(err, VL_E_IO, r, "%s: upload %s", what, local_path);
	}
	if (vl_virt_volume_delete(v, pool, name, err) < 0)
		goto out_fd;
	if (asprintf(&xml, "<volume><name>%s</name><capacity unit=\"bytes\">%llu</capacity>"
		     "<allocation unit=\"bytes\">0</allocation>"
		     "<target><format type=\"raw\"/></target></volume>",
		     name, (unsigned long long)st.st_size) < 0)
		abort();
	vol = virStorageVolCreateXML(p, xml, 0);
	if (!vol) {
		verr(err, "%s: create", what);
		goto out_fd;
	}
	if (upload_stream(v, vol, fd, (uint64_t)st.st_size, what, err) < 0) {
		/* A half-written seed is worse than none. */
		virStorageVolDelete(vol, 0);
		goto out_fd;
	}
	close(fd);
	return 0;
out_fd:
	close(fd);
	return -1;
}

int vl_virt_volume_download(struct vl_virt *v, const char *pool, const char *name,
			    uint64_t offset, uint64_t length, vl_virt_sink_fn sink, void *ud,
			    struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);
	static const size_t chunk = 256 * 1024;
	VL_AUTOFREE char *buf = vl_malloc(chunk);
	virStreamPtr st;
	char what[300];

	if (!vol)
		return -1;
	snprintf(what, sizeof(what), "volume %s in pool %s", name, pool);
	st = virStreamNew(v->conn, 0);
	if (!st)
		return verr(err, "%s: download", what);
	if (virStorageVolDownload(vol, st, offset, length, 0) < 0) {
		verr(err, "%s: download", what);
		virStreamFree(st);
		return -1;
	}
	for (;;) {
		int r = virStreamRecv(st, buf, chunk);

		if (r == 0)
			break;
		if (r < 0) {
			verr(err, "%s: download", what);
			goto abort;
		}
		if (sink(ud, buf, (size_t)r, err) < 0)
			goto abort;
	}
	if (virStreamFinish(st) < 0) {
		verr(err, "%s: download", what);
		virStreamFree(st);
		return -1;
	}
	virStreamFree(st);
	return 0;
abort:
	virStreamAbort(st);
	virStreamFree(st);
	return -1;
}

int vl_virt_volume_physical(struct vl_virt *v, const char *pool, const char *name,
			    uint64_t *physical, struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);
	virStorageVolInfo info;

	if (!vol)
		return -1;
	if (virStorageVolGetInfoFlags(vol, &info, VIR_STORAGE_VOL_GET_PHYSICAL) < 0)
		return verr(err, "volume %s in pool %s: info", name, pool);
	*physical = info.allocation;   /* with GET_PHYSICAL: the file's size */
	return 0;
}

int vl_virt_volume_path(struct vl_virt *v, const char *pool, const char *name, char **out,
			struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);

	*out = NULL;
	if (!vol)
		return -1;
	*out = virStorageVolGetPath(vol);
	if (!*out)
		return verr(err, "volume %s in pool %s: path", name, pool);
	return 0;
}

int vl_virt_volume_backing(struct vl_virt *v, const char *pool, const char *name, char **out,
			   struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);
	VL_AUTOFREE char *xml = NULL;
	VL_AUTO(xdoc) x = { 0 };

	*out = NULL;
	if (!vol)
		return -1;
	xml = virStorageVolGetXMLDesc(vol, 0);
	if (!xml)
		return verr(err, "volume %s in pool %s: XML", name, pool);
	if (xdoc_parse(&x, xml) < 0)
		return vl_err_set(err, VL_E_FAIL, "volume %s in pool %s: unparsable XML", name, pool);
	*out = xstr(&x, NULL, "/volume/backingStore/path");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vl_virt_volume_list(struct vl_virt *v, const char *pool, const char *prefix, char ***out,
			size_t *n, struct vl_err *err)
{
	AUTO_LV(virStoragePoolPtr) p = pool_get(v, pool, err);
	virStorageVolPtr *vols = NULL;
	char **names;
	size_t cnt = 0;
	int total;

	*out = NULL;
	*n = 0;
	if (!p)
		return -1;
	total = virStoragePoolListAllVolumes(p, &vols, 0);
	if (total < 0)
		return verr(err, "pool %s: list volumes", pool);
	names = vl_calloc((size_t)total + 1, sizeof(*names));
	for (int i = 0; i < total; i++) {
		const char *name = virStorageVolGetName(vols[i]);

		if (name && (!prefix || vl_str_startswith(name, prefix)))
			names[cnt++] = vl_strdup(name);
		virStorageVolFree(vols[i]);
	}
	free(vols);
	qsort(names, cnt, sizeof(*names), cmp_str);
	*out = names;
	*n = cnt;
	return 0;
}

void vl_virt_name_list_free(char **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int vl_virt_volume_capacity(struct vl_virt *v, const char *pool, const char *name,
			    uint64_t *capacity, uint64_t *allocation, struct vl_err *err)
{
	AUTO_LV(virStorageVolPtr) vol = vol_get(v, pool, name, err);
	virStorageVolInfo info;

	if (!vol)
		return -1;
	if (virStorageVolGetInfo(vol, &info) < 0)
		return verr(err, "volume %s in pool %s: info", name, pool);
	if (capacity)
		*capacity = info.capacity;
	if (allocation)
		*allocation = info.allocation;
	return 0;
}

/* ---- domains ---- */

static const char *const state_names[] = {
	[VL_DOM_MISSING] = "missing", [VL_DOM_RUNNING] = "running", [VL_DOM_PAUSED] = "paused",
	[VL_DOM_SHUTOFF] = "shutoff", [VL_DOM_CRASHED] = "crashed", [VL_DOM_OTHER] = "other",
};

const char *vl_dom_state_name(enum vl_dom_state s)
{
	return (unsigned)s < VL_ARRAY_SIZE(state_names) ? state_names[s] : "other";
}

static enum vl_dom_state map_state(int s)
{
	switch (s) {
	case VIR_DOMAIN_RUNNING:
		return VL_DOM_RUNNING;
	case VIR_DOMAIN_PAUSED:
		return VL_DOM_PAUSED;
	case VIR_DOMAIN_SHUTOFF:
		return VL_DOM_SHUTOFF;
	case VIR_DOMAIN_CRASHED:
		return VL_DOM_CRASHED;
	default:
		return VL_DOM_OTHER;
	}
}

static virDomainPtr dom_get(struct vl_virt *v, const char *name, struct vl_err *err)
{
	virDomainPtr d = virDomainLookupByName(v->conn, name);

	if (!d) {
		if (last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "domain %s: not found", name);
		else
			verr(err, "domain %s", name);
	}
	return d;
}

static int dom_state(virDomainPtr d, enum vl_dom_state *out)
{
	int s, reason;

	if (virDomainGetState(d, &s, &reason, 0) < 0)
		return -1;
	*out = map_state(s);
	return 0;
}

int vl_virt_domain_define(struct vl_virt *v, const char *xml, char uuid[VL_UUID_STRLEN],
			  struct vl_err *err)
{
	VL_AUTOFREE char *name = xml_name(xml, "/domain/name");
	VL_AUTOFREE char *fixed = NULL;
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, name);
	char old[VIR_UUID_STRING_BUFLEN];

	if (!d && !last_is_missing())
		return verr(err, "domain %s", name);
	if (d) {
		if (virDomainGetUUIDString(d, old) < 0)
			return verr(err, "domain %s: UUID", name);
		fixed = xml_with_uuid(xml, old);
		virDomainFree(d);
	}
	d = virDomainDefineXML(v->conn, fixed ? fixed : xml);
	if (!d)
		return verr(err, "domain %s: define", name);
	if (uuid && virDomainGetUUIDString(d, uuid) < 0)
		return verr(err, "domain %s: UUID", name);
	return 0;
}

int vl_virt_domain_start(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, name, err);
	int active;

	if (!d)
		return -1;
	active = virDomainIsActive(d);
	if (active < 0)
		return verr(err, "domain %s", name);
	if (active)
		return 0;
	if (virDomainCreate(d) < 0)
		return verr(err, "domain %s: start", name);
	return 0;
}

int vl_virt_domain_state(struct vl_virt *v, const char *name, enum vl_dom_state *out,
			 struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, name);

	*out = VL_DOM_MISSING;
	if (!d)
		return last_is_missing() ? 0 : verr(err, "domain %s", name);
	if (dom_state(d, out) < 0) {
		*out = VL_DOM_MISSING;
		return last_is_missing() ? 0 : verr(err, "domain %s: state", name);
	}
	return 0;
}

int vl_virt_domain_shutdown(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, name, err);
	int active;

	if (!d)
		return -1;
	active = virDomainIsActive(d);
	if (active < 0)
		return verr(err, "domain %s", name);
	if (!active)
		return 0;
	if (virDomainShutdown(d) < 0 && last_code() != VIR_ERR_OPERATION_INVALID)
		return verr(err, "domain %s: shutdown", name);
	return 0;
}

int vl_virt_domain_destroy(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, name);
	int active;

	if (!d)
		return last_is_missing() ? 0 : verr(err, "domain %s", name);
	active = virDomainIsActive(d);
	if (active < 0)
		return last_is_missing() ? 0 : verr(err, "domain %s", name);
	if (!active)
		return 0;
	/* A racing destroy (ours or the user's) leaves "not running" or, for a
	 * transient domain, "not found": both mean done. */
	if (virDomainDestroy(d) < 0 && last_code() != VIR_ERR_OPERATION_INVALID &&
	    !last_is_missing())
		return verr(err, "domain %s: destroy", name);
	return 0;
}

static bool last_is_unsupported_flag(void)
{
	int c = last_code();

	return c == VIR_ERR_INVALID_ARG || c == VIR_ERR_NO_SUPPORT ||
	       c == VIR_ERR_ARGUMENT_UNSUPPORTED;
}

int vl_virt_domain_undefine(struct vl_virt *v, const char *name, struct vl_err *err)
{
	/* From most to least complete: older drivers reject flags they lack. */
	static const unsigned flag_sets[] = {
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA,
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			VIR_DOMAIN_UNDEFINE_NVRAM,
		VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
	};
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, name);
	int r = -1;

	if (!d)
		return last_is_missing() ? 0 : verr(err, "domain %s", name);
	for (size_t i = 0; i < VL_ARRAY_SIZE(flag_sets); i++) {
		r = virDomainUndefineFlags(d, flag_sets[i]);
		if (r == 0 || !last_is_unsupported_flag())
			break;
	}
	if (r < 0 && last_is_unsupported_flag())
		r = virDomainUndefine(d);
	if (r < 0 && !last_is_missing())
		return verr(err, "domain %s: undefine", name);
	return 0;
}

/* Pause or resume. The state may change under us (another client, a start
 * finishing: libvirt starts a domain paused, then resumes it), so what
 * counts is that the domain ends up in the wanted state. */
static int set_run_state(struct vl_virt *v, const char *name, enum vl_dom_state want,
			 struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, name, err);
	const char *what = want == VL_DOM_PAUSED ? "pause" : "resume";
	enum vl_dom_state s;

	if (!d)
		return -1;
	if (dom_state(d, &s) < 0)
		return verr(err, "domain %s: state", name);
	if (s == want)
		return 0;
	if ((want == VL_DOM_PAUSED ? virDomainSuspend(d) : virDomainResume(d)) < 0) {
		verr(err, "domain %s: %s", name, what);  /* before the state call resets it */
		if (dom_state(d, &s) < 0 || s != want)
			return -1;
		vl_err_clear(err);
	}
	return 0;
}

int vl_virt_domain_suspend(struct vl_virt *v, const char *name, struct vl_err *err)
{
	return set_run_state(v, name, VL_DOM_PAUSED, err);
}

int vl_virt_domain_resume(struct vl_virt *v, const char *name, struct vl_err *err)
{
	return set_run_state(v, name, VL_DOM_RUNNING, err);
}

static int cmp_dom(const void *a, const void *b)
{
	return strcmp(((const struct vl_virt_dom *)a)->name, ((const struct vl_virt_dom *)b)->name);
}

int vl_virt_domain_list(struct vl_virt *v, const char *prefix, struct vl_virt_dom **out,
			size_t *n, struct vl_err *err)
{
	virDomainPtr *doms = NULL;
	struct vl_virt_dom *list;
	size_t cnt = 0;
	int total;

	*out = NULL;
	*n = 0;
	total = virConnectListAllDomains(v->conn, &doms, 0);
	if (total < 0)
		return verr(err, "list domains");
	list = vl_calloc((size_t)total + 1, sizeof(*list));
	for (int i = 0; i < total; i++) {
		const char *name = virDomainGetName(doms[i]);
		struct vl_virt_dom e = { 0 };

		if (name && (!prefix || vl_str_startswith(name, prefix)) &&
		    virDomainGetUUIDString(doms[i], e.uuid) == 0 && dom_state(doms[i], &e.state) == 0) {
			e.name = vl_strdup(name);
			list[cnt++] = e;
		}
		/* A domain undefined while we listed is simply left out. */
		virDomainFree(doms[i]);
	}
	free(doms);
	qsort(list, cnt, sizeof(*list), cmp_dom);
	*out = list;
	*n = cnt;
	return 0;
}

void vl_virt_dom_list_free(struct vl_virt_dom *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

int vl_virt_domain_get_metadata(struct vl_virt *v, const char *name, const char *ns_uri,
				char **out, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, name, err);

	*out = NULL;
	if (!d)
		return -1;
	*out = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, ns_uri, 0);
	if (!*out && last_code() != VIR_ERR_NO_DOMAIN_METADATA)
		return verr(err, "domain %s: metadata %s", name, ns_uri);
	return 0;
}

int vl_virt_domain_get_xml(struct vl_virt *v, const char *name, bool inactive, char **out,
			   struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, name, err);

	*out = NULL;
	if (!d)
		return -1;
	*out = virDomainGetXMLDesc(d, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
	if (!*out)
		return verr(err, "domain %s: XML", name);
	return 0;
}

int vl_virt_domain_get_uuid(struct vl_virt *v, const char *name, char uuid[VL_UUID_STRLEN],
			    struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, name, err);

	if (!d)
		return -1;
	if (virDomainGetUUIDString(d, uuid) < 0)
		return verr(err, "domain %s: UUID", name);
	return 0;
}

int vl_virt_domain_info(struct vl_virt *v, const char *name, struct vl_virt_dominfo *out,
			struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, name, err);
	virDomainInfo info;

	memset(out, 0, sizeof(*out));
	if (!d)
		return -1;
	if (virDomainGetInfo(d, &info) < 0)
		return verr(err, "domain %s: info", name);
	out->state = map_state(info.state);
	out->vcpus = info.nrVirtCpu;
	out->memory_kib = info.memory;
	out->max_memory_kib = info.maxMem;
	out->cpu_time_ns = info.cpuTime;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int vl_virt_domain_wait_state(struct vl_virt *v, const char *name, enum vl_dom_state want,
			      unsigned timeout_ms, struct vl_err *err)
{
	uint64_t deadline = now_ms() + timeout_ms;
	enum vl_dom_state s;

	for (;;) {
		if (vl_virt_domain_state(v, name, &s, err) < 0)
			return -1;
		if (s == want)
			return 0;
		if (now_ms() >= deadline)
			return vl_err_set(err, VL_E_TIMEOUT, "domain %s: still %s after %.1f s (waiting for %s)",
					  name, vl_dom_state_name(s), timeout_ms / 1000.0,
					  vl_dom_state_name(want));
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
}

int vl_virt_domain_supports_internal_snapshot(struct vl_virt *v, const char *name,
					      struct vl_err *err)
{
	VL_AUTOFREE char *xml = NULL;
	VL_AUTO(xdoc) x = { 0 };
	xmlXPathObjectPtr disks;
	int r = 0;

	if (vl_virt_domain_get_xml(v, name, true, &xml, err) < 0)
		return -1;
	if (xdoc_parse(&x, xml) < 0)
		return vl_err_set(err, VL_E_FAIL, "domain %s: unparsable XML", name);
	/* libvirt refuses internal snapshots when firmware state lives in a
	 * pflash/NVRAM file: say so before the engine pauses anything. */
	if (xbool(&x, NULL, "/domain/os/loader[@type='pflash'] | /domain/os/nvram") ||
	    xbool(&x, NULL, "/domain/os[@firmware='efi']"))
		return vl_err_set(err, VL_E_FAIL, "domain %s: uses UEFI firmware with NVRAM; libvirt "
				  "cannot take internal snapshots of it (use BIOS firmware)", name);
	/* Every writable disk must be qcow2 to hold an internal snapshot; a
	 * read-only raw seed ISO is fine (docs/host-notes.md). */
	disks = xnodes(&x, "/domain/devices/disk[not(readonly)][not(@device) or @device='disk']");
	for (size_t i = 0; i < xcount(disks); i++) {
		xmlNodePtr dn = disks->nodesetval->nodeTab[i];
		VL_AUTOFREE char *fmt = xstr(&x, dn, "driver/@type");
		VL_AUTOFREE char *dev = xstr(&x, dn, "target/@dev");

		if (!vl_streq(fmt, "qcow2")) {
			r = vl_err_set(err, VL_E_FAIL, "domain %s: disk %s is %s, not qcow2; internal "
				       "snapshots need qcow2 disks", name, dev ? dev : "?",
				       fmt ? fmt : "of unknown format");
			break;
		}
	}
	xmlXPathFreeObject(disks);
	return r;
}

/* ---- snapshots ---- */

static virDomainSnapshotPtr snap_get(virDomainPtr d, const char *domain, const char *name,
				     struct vl_err *err)
{
	virDomainSnapshotPtr s = virDomainSnapshotLookupByName(d, name, 0);

	if (!s) {
		if (last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "domain %s: snapshot %s: not found", domain, name);
		else
			verr(err, "domain %s: snapshot %s", domain, name);
	}
	return s;
}

int vl_virt_snapshot_create(struct vl_virt *v, const char *domain, const char *xml,
			    unsigned flags, struct vl_err *err)
{
	VL_AUTOFREE char *name = xml_name(xml, "/domainsnapshot/name");
	AUTO_LV(virDomainPtr) d = dom_get(v, domain, err);
	AUTO_LV(virDomainSnapshotPtr) s = NULL;
	unsigned vflags = 0;

	if (!d)
		return -1;
	if (flags & VL_SNAP_CREATE_ATOMIC)
		vflags |= VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
	s = virDomainSnapshotCreateXML(d, xml, vflags);
	if (!s)
		return verr(err, "domain %s: snapshot %s: create", domain, name);
	return 0;
}

static enum vl_dom_state snap_state(const char *s)
{
	if (vl_streq(s, "running"))
		return VL_DOM_RUNNING;
	if (vl_streq(s, "paused"))
		return VL_DOM_PAUSED;
	if (vl_streq(s, "shutoff"))
		return VL_DOM_SHUTOFF;
	if (vl_streq(s, "crashed"))
		return VL_DOM_CRASHED;
	return VL_DOM_OTHER;
}

static int cmp_snap(const void *a, const void *b)
{
	const struct vl_virt_snap *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->name, y->name);
}

int vl_virt_snapshot_list(struct vl_virt *v, const char *domain, struct vl_virt_snap **out,
			  size_t *n, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, domain, err);
	virDomainSnapshotPtr *snaps = NULL;
	struct vl_virt_snap *list;
	size_t cnt = 0;
	int total, r = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -1;
	total = virDomainListAllSnapshots(d, &snaps, 0);
	if (total < 0)
		return verr(err, "domain %s: list snapshots", domain);
	list = vl_calloc((size_t)total + 1, sizeof(*list));
	for (int i = 0; i < total; i++) {
		VL_AUTOFREE char *xml = NULL;
		VL_AUTOFREE char *created = NULL;
		VL_AUTOFREE char *state = NULL;
		VL_AUTO(xdoc) x = { 0 };
		struct vl_virt_snap *e;
		unsigned long long t = 0;

		if (r < 0)
			goto next;
		xml = virDomainSnapshotGetXMLDesc(snaps[i], 0);
		if (!xml) {
			if (!last_is_missing())
				r = verr(err, "domain %s: snapshot %s", domain,
					 virDomainSnapshotGetName(snaps[i]));
			goto next;
		}
		if (xdoc_parse(&x, xml) < 0)
			goto next;
		e = &list[cnt++];
		e->name = xstr(&x, NULL, "/domainsnapshot/name");
		if (!e->name)
			e->name = vl_strdup(virDomainSnapshotGetName(snaps[i]));
		e->parent = xstr(&x, NULL, "/domainsnapshot/parent/name");
		e->description = xstr(&x, NULL, "/domainsnapshot/description");
		created = xstr(&x, NULL, "/domainsnapshot/creationTime");
		if (created && vl_str_to_u64(created, &t))
			e->created = (long long)t;
		state = xstr(&x, NULL, "/domainsnapshot/state");
		e->state = snap_state(state);
		e->current = virDomainSnapshotIsCurrent(snaps[i], 0) == 1;
next:
		virDomainSnapshotFree(snaps[i]);
	}
	free(snaps);
	if (r < 0) {
		vl_virt_snap_list_free(list, cnt);
		return -1;
	}
	qsort(list, cnt, sizeof(*list), cmp_snap);
	*out = list;
	*n = cnt;
	return 0;
}

void vl_virt_snap_list_free(struct vl_virt_snap *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].parent);
		free(list[i].description);
	}
	free(list);
}

int vl_virt_snapshot_exists(struct vl_virt *v, const char *domain, const char *name, bool *out,
			    struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, domain, err);
	AUTO_LV(virDomainSnapshotPtr) s = NULL;

	*out = false;
	if (!d)
		return -1;
	s = virDomainSnapshotLookupByName(d, name, 0);
	*out = s != NULL;
	if (!s && !last_is_missing())
		return verr(err, "domain %s: snapshot %s", domain, name);
	return 0;
}

int vl_virt_snapshot_revert(struct vl_virt *v, const char *domain, const char *name,
			    unsigned flags, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = dom_get(v, domain, err);
	AUTO_LV(virDomainSnapshotPtr) s = NULL;
	unsigned vflags = 0;

	if (!d)
		return -1;
	s = snap_get(d, domain, name, err);
	if (!s)
		return -1;
	if (flags & VL_SNAP_REVERT_RUNNING)
		vflags |= VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING;
	if (flags & VL_SNAP_REVERT_PAUSED)
		vflags |= VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED;
	if (virDomainRevertToSnapshot(s, vflags) < 0)
		return verr(err, "domain %s: snapshot %s: revert", domain, name);
	return 0;
}

int vl_virt_snapshot_delete(struct vl_virt *v, const char *domain, const char *name,
			    struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, domain);
	AUTO_LV(virDomainSnapshotPtr) s = NULL;

	if (!d)
		return last_is_missing() ? 0 : verr(err, "domain %s", domain);
	s = virDomainSnapshotLookupByName(d, name, 0);
	if (!s)
		return last_is_missing() ? 0 : verr(err, "domain %s: snapshot %s", domain, name);
	if (virDomainSnapshotDelete(s, 0) < 0 && !last_is_missing())
		return verr(err, "domain %s: snapshot %s: delete", domain, name);
	return 0;
}

/* ---- events ---- */

static pthread_once_t loop_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t loop_thread;
static bool loop_running;
static int loop_rc;
static atomic_bool loop_quit;

static void *loop_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&loop_quit))
		if (virEventRunDefaultImpl() < 0)
			break;
	return NULL;
}

static void loop_register(void)
{
	loop_rc = virEventRegisterDefaultImpl();
}

int vl_virt_events_init(struct vl_err *err)
{
	int r = 0;

	virSetErrorFunc(NULL, quiet_errors);
	/* libvirt allows one registration per process, ever. */
	pthread_once(&loop_once, loop_register);
	if (loop_rc < 0)
		return verr(err, "libvirt event loop");
	pthread_mutex_lock(&loop_lock);
	if (!loop_running) {
		atomic_store(&loop_quit, false);
		r = pthread_create(&loop_thread, NULL, loop_main, NULL);
		loop_running = r == 0;
	}
	pthread_mutex_unlock(&loop_lock);
	if (r)
		return vl_err_sys(err, VL_E_FAIL, r, "libvirt event loop: thread");
	return 0;
}

static void wake_cb(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

void vl_virt_events_shutdown(void)
{
	pthread_mutex_lock(&loop_lock);
	if (loop_running) {
		atomic_store(&loop_quit, true);
		/* The loop sleeps in poll(): an immediate timeout wakes it. */
		virEventAddTimeout(0, wake_cb, NULL, NULL);
		pthread_join(loop_thread, NULL);
		loop_running = false;
	}
	pthread_mutex_unlock(&loop_lock);
}

struct watch {
	char *prefix;
	vl_virt_dom_cb cb;
	void *ud;
};

static void watch_free(void *opaque)
{
	struct watch *w = opaque;

	free(w->prefix);
	free(w);
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct watch *w = opaque;
	const char *name = virDomainGetName(dom);
	enum vl_dom_state st;

	(void)conn;
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
	case VIR_DOMAIN_EVENT_RESUMED:
		st = VL_DOM_RUNNING;
		break;
	case VIR_DOMAIN_EVENT_SUSPENDED:
		st = VL_DOM_PAUSED;
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
		st = VL_DOM_SHUTOFF;
		break;
	case VIR_DOMAIN_EVENT_CRASHED:
		st = VL_DOM_CRASHED;
		break;
	case VIR_DOMAIN_EVENT_UNDEFINED:
		st = VL_DOM_MISSING;
		break;
	case VIR_DOMAIN_EVENT_PMSUSPENDED:
		st = VL_DOM_OTHER;
		break;
	case VIR_DOMAIN_EVENT_DEFINED:
		/* Only a new definition says something about state; updates of a
		 * running domain do not. No API calls here: we are in the loop. */
		if (detail != VIR_DOMAIN_EVENT_DEFINED_ADDED)
			return 0;
		st = VL_DOM_SHUTOFF;
		break;
	default:
		return 0;  /* SHUTDOWN is followed by STOPPED */
	}
	if (name && (!w->prefix || vl_str_startswith(name, w->prefix)))
		w->cb(w->ud, name, st);
	return 0;
}

int vl_virt_watch_domains(struct vl_virt *v, const char *prefix, vl_virt_dom_cb cb, void *ud,
			  int *id, struct vl_err *err)
{
	struct watch *w = vl_calloc(1, sizeof(*w));
	int r;

	w->prefix = prefix && *prefix ? vl_strdup(prefix) : NULL;
	w->cb = cb;
	w->ud = ud;
	r = virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					     VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), w, watch_free);
	if (r < 0) {
		verr(err, "watch domains");
		watch_free(w);
		return -1;
	}
	*id = r;
	return 0;
}

int vl_virt_unwatch(struct vl_virt *v, int id, struct vl_err *err)
{
	if (virConnectDomainEventDeregisterAny(v->conn, id) < 0)
		return verr(err, "unwatch domains");
	return 0;
}
