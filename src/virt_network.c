/* libvirt adapter, networks: define/start and tear down a lab's network,
 * list vmlab's networks, the subnets in use on the host, DHCP leases. */
#include "virt_priv.h"

#include <libxml/xpathInternals.h>
#include <stdlib.h>
#include <string.h>

#include "util/ipv4.h"
#include "util/mem.h"
#include "util/str.h"

static virNetworkPtr net_get(struct vl_virt *v, const char *name, struct vl_err *err)
{
	virNetworkPtr n = virNetworkLookupByName(v->conn, name);

	if (!n) {
		if (virt_last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "network %s: not found", name);
		else
			virt_err(err, "network %s", name);
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
		return virt_err(err, "network %s: XML", name);
	return 0;
}

int vl_virt_network_exists(struct vl_virt *v, const char *name, bool *out, struct vl_err *err)
{
	AUTO_LV(virNetworkPtr) n = virNetworkLookupByName(v->conn, name);

	*out = n != NULL;
	if (!n && !virt_last_is_missing())
		return virt_err(err, "network %s", name);
	return 0;
}

/* Define or redefine (keeping the UUID); *existed says which. */
static virNetworkPtr net_define(struct vl_virt *v, const char *xml, const char *name,
				bool *existed, struct vl_err *err)
{
	VL_AUTOFREE char *fixed = NULL;
	virNetworkPtr n = virNetworkLookupByName(v->conn, name);
	char uuid[VIR_UUID_STRING_BUFLEN];

	*existed = n != NULL;
	if (!n && !virt_last_is_missing()) {
		virt_err(err, "network %s", name);
		return NULL;
	}
	if (n) {
		if (virNetworkGetUUIDString(n, uuid) < 0) {
			virt_err(err, "network %s: UUID", name);
			virNetworkFree(n);
			return NULL;
		}
		fixed = virt_xml_with_uuid(xml, uuid);
		virNetworkFree(n);
	}
	n = virNetworkDefineXML(v->conn, fixed ? fixed : xml);
	if (!n)
		virt_err(err, "network %s: define", name);
	return n;
}

int vl_virt_network_define(struct vl_virt *v, const char *xml, struct vl_err *err)
{
	VL_AUTOFREE char *name = virt_xml_name(xml, "/network/name");
	bool existed;
	AUTO_LV(virNetworkPtr) n = net_define(v, xml, name, &existed, err);

	return n ? 0 : -1;
}

int vl_virt_network_define_start(struct vl_virt *v, const struct vl_events *evs,
			const char *xml, struct vl_err *err)
{
	VL_AUTOFREE char *name = virt_xml_name(xml, "/network/name");
	bool existed;
	AUTO_LV(virNetworkPtr) n = net_define(v, xml, name, &existed, err);
	int active;

	if (!n)
		return -1;
	active = virNetworkIsActive(n);
	if (active < 0)
		return virt_err(err, "network %s", name);
	if (active)
		return 0;
	if (virNetworkCreate(n) < 0) {
		virt_err(err, "network %s: start", name);
		/* the libvirt host found a route to this subnet already (its own
		 * interfaces): the caller may choose another subnet */
		if (err && strstr(err->msg, "already in use by interface"))
			err->code = VL_E_EXISTS;
		if (!existed)
			virNetworkUndefine(n);
		return -1;
	}
	vl_event_debug(evs, NULL, "network %s started", name);
	return 0;
}

int vl_virt_network_destroy_undefine(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virNetworkPtr) n = virNetworkLookupByName(v->conn, name);
	int r;

	if (!n)
		return virt_last_is_missing() ? 0 : virt_err(err, "network %s", name);
	r = virNetworkIsActive(n);
	if (r < 0)
		return virt_last_is_missing() ? 0 : virt_err(err, "network %s", name);
	/* Another thread or user may have got there first: "not running" or
	 * "not found" from the call itself still means done. */
	if (r > 0 && virNetworkDestroy(n) < 0 && virt_last_code() != VIR_ERR_OPERATION_INVALID) {
		if (virt_last_is_missing())
			return 0;
		return virt_err(err, "network %s: stop", name);
	}
	r = virNetworkIsPersistent(n);
	if (r < 0)
		return virt_last_is_missing() ? 0 : virt_err(err, "network %s", name);
	if (r > 0 && virNetworkUndefine(n) < 0 && !virt_last_is_missing())
		return virt_err(err, "network %s: undefine", name);
	return 0;
}

/* The IPv4 subnet of one <ip> element; false if it is not a usable one. */
static bool ip_subnet(struct xdoc *x, xmlNodePtr ip, struct vl_subnet *out)
{
	VL_AUTOFREE char *addr = virt_xstr(x, ip, "@address");
	VL_AUTOFREE char *mask = virt_xstr(x, ip, "@netmask");
	VL_AUTOFREE char *pfx = virt_xstr(x, ip, "@prefix");
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

/* The <metadata> child of a network document in namespace ns_uri, as XML. */
static char *net_metadata(struct xdoc *x, const char *ns_uri)
{
	xmlXPathObjectPtr o;
	xmlBufferPtr buf;
	char *out = NULL;

	if (xmlXPathRegisterNs(x->ctx, (const xmlChar *)"m", (const xmlChar *)ns_uri) < 0)
		return NULL;
	o = virt_xnodes(x, "/network/metadata/m:*");
	buf = virt_xcount(o) ? xmlBufferCreate() : NULL;
	if (buf && xmlNodeDump(buf, x->doc, o->nodesetval->nodeTab[0], 0, 0) > 0)
		out = vl_strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	xmlXPathFreeObject(o);
	return out;
}

/* Whether name is among the networks (a listing of the active ones). */
static bool net_in(virNetworkPtr *nets, int cnt, const char *name)
{
	for (int i = 0; i < cnt; i++) {
		const char *n = virNetworkGetName(nets[i]);
		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* Two listings (all, active) and one XML call per network that matches:
 * whether each is active comes from the second listing, not a call each. */
static int net_list(struct vl_virt *v, const char *prefix, const char *ns_uri,
		    struct vl_virt_net **out, size_t *n, struct vl_err *err)
{
	virNetworkPtr *nets = NULL, *active = NULL;
	struct vl_virt_net *list;
	size_t cnt = 0;
	int total, n_active;

	*out = NULL;
	*n = 0;
	total = virConnectListAllNetworks(v->conn, &nets, 0);
	if (total < 0)
		return virt_err(err, "list networks");
	n_active = virConnectListAllNetworks(v->conn, &active, VIR_CONNECT_LIST_NETWORKS_ACTIVE);
	if (n_active < 0) {
		virt_err(err, "list active networks");
		free_nets(nets, total);
		return -1;
	}
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
			if (virt_last_is_missing())
				continue;  /* undefined while we listed */
			virt_err(err, "network %s", name);
			goto fail;
		}
		if (virt_xdoc_parse(&x, xml) < 0)
			continue;
		e = &list[cnt++];
		e->name = vl_strdup(name);
		e->bridge = virt_xstr(&x, NULL, "/network/bridge/@name");
		e->active = net_in(active, n_active, name);
		ips = virt_xnodes(&x, IPV4_XPATH);
		for (size_t k = 0; k < virt_xcount(ips) && !e->has_subnet; k++)
			e->has_subnet = ip_subnet(&x, ips->nodesetval->nodeTab[k], &e->subnet);
		xmlXPathFreeObject(ips);
		if (ns_uri)
			e->metadata = net_metadata(&x, ns_uri);
	}
	free_nets(nets, total);
	free_nets(active, n_active);
	qsort(list, cnt, sizeof(*list), cmp_net);
	*out = list;
	*n = cnt;
	return 0;
fail:
	free_nets(nets, total);
	free_nets(active, n_active);
	vl_virt_net_list_free(list, cnt);
	return -1;
}

int vl_virt_network_list(struct vl_virt *v, const char *prefix, struct vl_virt_net **out,
			 size_t *n, struct vl_err *err)
{
	return net_list(v, prefix, NULL, out, n, err);
}

int vl_virt_network_list_meta(struct vl_virt *v, const char *prefix, const char *ns_uri,
			      struct vl_virt_net **out, size_t *n, struct vl_err *err)
{
	return net_list(v, prefix, ns_uri, out, n, err);
}

void vl_virt_net_list_free(struct vl_virt_net *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].bridge);
		free(list[i].metadata);
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
		return virt_err(err, "list networks");
	for (int i = 0; i < total; i++) {
		VL_AUTOFREE char *xml = virNetworkGetXMLDesc(nets[i], 0);
		VL_AUTO(xdoc) x = { 0 };
		xmlXPathObjectPtr ips;

		if (!xml) {
			if (virt_last_is_missing())
				continue;
			virt_err(err, "network %s", virNetworkGetName(nets[i]));
			free_nets(nets, total);
			free(list);
			return -1;
		}
		if (virt_xdoc_parse(&x, xml) < 0)
			continue;
		ips = virt_xnodes(&x, IPV4_XPATH);
		for (size_t k = 0; k < virt_xcount(ips); k++) {
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
		return virt_err(err, "network %s: DHCP leases", network);
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
