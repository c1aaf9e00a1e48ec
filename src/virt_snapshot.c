/* libvirt adapter, snapshots: create, list, revert and delete a domain's
 * internal snapshots. */
#include "virt_priv.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/str.h"

static virDomainSnapshotPtr snap_get(virDomainPtr d, const char *domain, const char *name,
				     struct vl_err *err)
{
	virDomainSnapshotPtr s = virDomainSnapshotLookupByName(d, name, 0);

	if (!s) {
		if (virt_last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "domain %s: snapshot %s: not found", domain, name);
		else
			virt_err(err, "domain %s: snapshot %s", domain, name);
	}
	return s;
}

int vl_virt_snapshot_create(struct vl_virt *v, const char *domain, const char *xml,
			    unsigned flags, struct vl_err *err)
{
	VL_AUTOFREE char *name = virt_xml_name(xml, "/domainsnapshot/name");
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, domain, err);
	AUTO_LV(virDomainSnapshotPtr) s = NULL;
	unsigned vflags = 0;

	if (!d)
		return -1;
	if (flags & VL_SNAP_CREATE_ATOMIC)
		vflags |= VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
	s = virDomainSnapshotCreateXML(d, xml, vflags);
	if (!s)
		return virt_err(err, "domain %s: snapshot %s: create", domain, name);
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
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, domain, err);
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
		return virt_err(err, "domain %s: list snapshots", domain);
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
			if (!virt_last_is_missing())
				r = virt_err(err, "domain %s: snapshot %s", domain,
					 virDomainSnapshotGetName(snaps[i]));
			goto next;
		}
		if (virt_xdoc_parse(&x, xml) < 0)
			goto next;
		e = &list[cnt++];
		e->name = virt_xstr(&x, NULL, "/domainsnapshot/name");
		if (!e->name)
			e->name = vl_strdup(virDomainSnapshotGetName(snaps[i]));
		e->parent = virt_xstr(&x, NULL, "/domainsnapshot/parent/name");
		e->description = virt_xstr(&x, NULL, "/domainsnapshot/description");
		created = virt_xstr(&x, NULL, "/domainsnapshot/creationTime");
		if (created && vl_str_to_u64(created, &t))
			e->created = (long long)t;
		state = virt_xstr(&x, NULL, "/domainsnapshot/state");
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
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, domain, err);
	AUTO_LV(virDomainSnapshotPtr) s = NULL;

	*out = false;
	if (!d)
		return -1;
	s = virDomainSnapshotLookupByName(d, name, 0);
	*out = s != NULL;
	if (!s && !virt_last_is_missing())
		return virt_err(err, "domain %s: snapshot %s", domain, name);
	return 0;
}

int vl_virt_snapshot_revert(struct vl_virt *v, const char *domain, const char *name,
			    unsigned flags, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, domain, err);
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
		return virt_err(err, "domain %s: snapshot %s: revert", domain, name);
	return 0;
}

int vl_virt_snapshot_delete(struct vl_virt *v, const char *domain, const char *name,
			    struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, domain);
	AUTO_LV(virDomainSnapshotPtr) s = NULL;

	if (!d)
		return virt_last_is_missing() ? 0 : virt_err(err, "domain %s", domain);
	s = virDomainSnapshotLookupByName(d, name, 0);
	if (!s)
		return virt_last_is_missing() ? 0 :
		       virt_err(err, "domain %s: snapshot %s", domain, name);
	if (virDomainSnapshotDelete(s, 0) < 0 && !virt_last_is_missing())
		return virt_err(err, "domain %s: snapshot %s: delete", domain, name);
	return 0;
}
