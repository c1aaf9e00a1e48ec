/* libvirt network filters: the rules on a guest's port that keep a class
 * seat out of the other seats' subnets (render.c writes them). */
#include "virt_priv.h"

#include "util/mem.h"

int vl_virt_nwfilter_define(struct vl_virt *v, const char *xml, struct vl_err *err)
{
	VL_AUTOFREE char *name = virt_xml_name(xml, "/filter/@name");
	VL_AUTOFREE char *with_uuid = NULL;
	virNWFilterPtr f = virNWFilterLookupByName(v->conn, name);
	char uuid[VIR_UUID_STRING_BUFLEN];

	/* a redefinition keeps the filter's uuid (libvirt refuses another) */
	if (f) {
		if (virNWFilterGetUUIDString(f, uuid) == 0)
			with_uuid = virt_xml_with_uuid(xml, uuid);
		virNWFilterFree(f);
	}
	f = virNWFilterDefineXML(v->conn, with_uuid ? with_uuid : xml);

	if (!f)
		return virt_err(err, "network filter %s", name);
	virNWFilterFree(f);
	return 0;
}

int vl_virt_nwfilter_undefine(struct vl_virt *v, const char *name, struct vl_err *err)
{
	virNWFilterPtr f = virNWFilterLookupByName(v->conn, name);
	int rc = 0;

	/* a driver without filters (test:///) has none to remove */
	if (!f)
		return virt_last_is_missing() || virt_last_code() == VIR_ERR_NO_SUPPORT ?
		       0 : virt_err(err, "network filter %s", name);
	if (virNWFilterUndefine(f) < 0)
		rc = virt_err(err, "network filter %s: undefine", name);
	virNWFilterFree(f);
	return rc;
}
