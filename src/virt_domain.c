/* libvirt adapter, domains: define, start, stop, undefine, pause, state and
 * its waits, listing, metadata and XML, bulk stats. */
#include "virt_priv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"

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

virDomainPtr virt_dom_get(struct vl_virt *v, const char *name, struct vl_err *err)
{
	virDomainPtr d = virDomainLookupByName(v->conn, name);

	if (!d) {
		if (virt_last_is_missing())
			vl_err_set(err, VL_E_NOTFOUND, "domain %s: not found", name);
		else
			virt_err(err, "domain %s", name);
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
	VL_AUTOFREE char *name = virt_xml_name(xml, "/domain/name");
	VL_AUTOFREE char *fixed = NULL;
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, name);
	char old[VIR_UUID_STRING_BUFLEN];

	if (!d && !virt_last_is_missing())
		return virt_err(err, "domain %s", name);
	if (d) {
		if (virDomainGetUUIDString(d, old) < 0)
			return virt_err(err, "domain %s: UUID", name);
		fixed = virt_xml_with_uuid(xml, old);
		virDomainFree(d);
	}
	d = virDomainDefineXML(v->conn, fixed ? fixed : xml);
	if (!d)
		return virt_err(err, "domain %s: define", name);
	if (uuid && virDomainGetUUIDString(d, uuid) < 0)
		return virt_err(err, "domain %s: UUID", name);
	return 0;
}

int vl_virt_domain_start(struct vl_virt *v, const char *name, bool paused, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);
	int active;

	if (!d)
		return -1;
	active = virDomainIsActive(d);
	if (active < 0)
		return virt_err(err, "domain %s", name);
	if (active)
		return 0;
	if (virDomainCreateWithFlags(d, paused ? VIR_DOMAIN_START_PAUSED : 0) < 0)
		return virt_err(err, "domain %s: start", name);
	return 0;
}

int vl_virt_domain_state(struct vl_virt *v, const char *name, enum vl_dom_state *out,
			 struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, name);

	*out = VL_DOM_MISSING;
	if (!d)
		return virt_last_is_missing() ? 0 : virt_err(err, "domain %s", name);
	if (dom_state(d, out) < 0) {
		*out = VL_DOM_MISSING;
		return virt_last_is_missing() ? 0 : virt_err(err, "domain %s: state", name);
	}
	return 0;
}

int vl_virt_domain_shutdown(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);
	int active;

	if (!d)
		return -1;
	active = virDomainIsActive(d);
	if (active < 0)
		return virt_err(err, "domain %s", name);
	if (!active)
		return 0;
	if (virDomainShutdown(d) < 0 && virt_last_code() != VIR_ERR_OPERATION_INVALID)
		return virt_err(err, "domain %s: shutdown", name);
	return 0;
}

int vl_virt_domain_destroy(struct vl_virt *v, const char *name, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virDomainLookupByName(v->conn, name);
	int active;

	if (!d)
		return virt_last_is_missing() ? 0 : virt_err(err, "domain %s", name);
	active = virDomainIsActive(d);
	if (active < 0)
		return virt_last_is_missing() ? 0 : virt_err(err, "domain %s", name);
	if (!active)
		return 0;
	/* A racing destroy (ours or the user's) leaves "not running" or, for a
	 * transient domain, "not found": both mean done. */
	if (virDomainDestroy(d) < 0 && virt_last_code() != VIR_ERR_OPERATION_INVALID &&
	    !virt_last_is_missing())
		return virt_err(err, "domain %s: destroy", name);
	return 0;
}

static bool last_is_unsupported_flag(void)
{
	int c = virt_last_code();

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
		return virt_last_is_missing() ? 0 : virt_err(err, "domain %s", name);
	for (size_t i = 0; i < VL_ARRAY_SIZE(flag_sets); i++) {
		r = virDomainUndefineFlags(d, flag_sets[i]);
		if (r == 0 || !last_is_unsupported_flag())
			break;
	}
	if (r < 0 && last_is_unsupported_flag())
		r = virDomainUndefine(d);
	if (r < 0 && !virt_last_is_missing())
		return virt_err(err, "domain %s: undefine", name);
	return 0;
}

/* Pause or resume. The state may change under us (another client, a start
 * finishing: libvirt starts a domain paused, then resumes it), so what
 * counts is that the domain ends up in the wanted state. */
static int set_run_state(struct vl_virt *v, const char *name, enum vl_dom_state want,
			 struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);
	const char *what = want == VL_DOM_PAUSED ? "pause" : "resume";
	enum vl_dom_state s;

	if (!d)
		return -1;
	if (dom_state(d, &s) < 0)
		return virt_err(err, "domain %s: state", name);
	if (s == want)
		return 0;
	if ((want == VL_DOM_PAUSED ? virDomainSuspend(d) : virDomainResume(d)) < 0) {
		virt_err(err, "domain %s: %s", name, what);  /* before the state call resets it */
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
		return virt_err(err, "list domains");
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

/* State, vCPUs and memory from one bulk stats record, where the driver gives
 * them; *have_state says whether it gave the state. */
static void stats_fill(virDomainStatsRecordPtr r, struct vl_virt_dom_meta *e, bool *have_state)
{
	int st = 0;
	unsigned int vcpus = 0;
	unsigned long long mem = 0;

	*have_state = virTypedParamsGetInt(r->params, r->nparams, "state.state", &st) == 1;
	if (*have_state)
		e->state = map_state(st);
	if (virTypedParamsGetUInt(r->params, r->nparams, "vcpu.current", &vcpus) == 1)
		e->vcpus = vcpus;
	if (virTypedParamsGetULLong(r->params, r->nparams, "balloon.maximum", &mem) == 1)
		e->max_memory_kib = mem;
}

static int cmp_dom_meta(const void *a, const void *b)
{
	return strcmp(((const struct vl_virt_dom_meta *)a)->name,
		      ((const struct vl_virt_dom_meta *)b)->name);
}

/* One domain of the listing: what the stats record lacks from
 * virDomainGetInfo, then the metadata. 1: filled, 0: the domain went away
 * meanwhile (left out), -1: err set. */
static int dom_meta_fill(virDomainPtr d, virDomainStatsRecordPtr rec, const char *ns_uri,
			 const char *ns2_uri, struct vl_virt_dom_meta *e, struct vl_err *err)
{
	const char *name = virDomainGetName(d);
	bool have_state = false;

	if (rec)
		stats_fill(rec, e, &have_state);
	if (!have_state || !e->vcpus || !e->max_memory_kib) {
		virDomainInfo info;

		if (virDomainGetInfo(d, &info) < 0)
			return virt_last_is_missing() ? 0 : virt_err(err, "domain %s: info", name);
		if (!have_state)
			e->state = map_state(info.state);
		if (!e->vcpus)
			e->vcpus = info.nrVirtCpu;
		if (!e->max_memory_kib)
			e->max_memory_kib = info.maxMem;
	}
	e->metadata = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, ns_uri, 0);
	if (!e->metadata && virt_last_code() != VIR_ERR_NO_DOMAIN_METADATA)
		return virt_last_is_missing() ? 0 : virt_err(err, "domain %s: metadata %s", name, ns_uri);
	if (e->metadata && ns2_uri) {
		e->metadata2 = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, ns2_uri, 0);
		if (!e->metadata2 && virt_last_code() != VIR_ERR_NO_DOMAIN_METADATA)
			return virt_last_is_missing() ? 0 :
			       virt_err(err, "domain %s: metadata %s", name, ns2_uri);
	}
	e->id = (int)virDomainGetID(d);   /* kept in the handle: no round trip */
	e->name = vl_strdup(name);
	return 1;
}

int vl_virt_domain_list_meta(struct vl_virt *v, const char *prefix, const char *ns_uri,
			     const char *ns2_uri, struct vl_virt_dom_meta **out, size_t *n,
			     struct vl_err *err)
{
	const unsigned stats = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_VCPU |
			       VIR_DOMAIN_STATS_BALLOON;
	virDomainStatsRecordPtr *recs = NULL;
	virDomainPtr *doms = NULL;
	struct vl_virt_dom_meta *list;
	size_t cnt = 0;
	int total, rc = 0;

	*out = NULL;
	*n = 0;
	/* All domains' states in one call, never waiting on a domain's job (a
	 * snapshot or migration in progress); older daemons lack NOWAIT, some
	 * drivers bulk stats altogether: then list and ask each domain. */
	total = virConnectGetAllDomainStats(v->conn, stats, &recs,
					    VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT);
	if (total < 0 && last_is_unsupported_flag())
		total = virConnectGetAllDomainStats(v->conn, stats, &recs, 0);
	if (total < 0) {
		if (virt_last_code() != VIR_ERR_NO_SUPPORT)
			return virt_err(err, "domain stats");
		recs = NULL;
		total = virConnectListAllDomains(v->conn, &doms, 0);
		if (total < 0)
			return virt_err(err, "list domains");
	}
	list = vl_calloc((size_t)total + 1, sizeof(*list));
	for (int i = 0; i < total && rc >= 0; i++) {
		virDomainPtr d = recs ? recs[i]->dom : doms[i];
		const char *name = virDomainGetName(d);
		struct vl_virt_dom_meta e = { 0 };

		if (!name || (prefix && !vl_str_startswith(name, prefix)))
			continue;
		rc = dom_meta_fill(d, recs ? recs[i] : NULL, ns_uri, ns2_uri, &e, err);
		if (rc > 0) {
			list[cnt++] = e;
		} else {
			free(e.metadata);
			free(e.metadata2);
		}
	}
	if (recs)
		virDomainStatsRecordListFree(recs);
	for (int i = 0; doms && i < total; i++)
		virDomainFree(doms[i]);
	free(doms);
	if (rc < 0) {
		vl_virt_dom_meta_list_free(list, cnt);
		return -1;
	}
	qsort(list, cnt, sizeof(*list), cmp_dom_meta);
	*out = list;
	*n = cnt;
	return 0;
}

void vl_virt_dom_meta_list_free(struct vl_virt_dom_meta *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].metadata);
		free(list[i].metadata2);
	}
	free(list);
}

int vl_virt_domain_get_metadata(struct vl_virt *v, const char *name, const char *ns_uri,
				char **out, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);

	*out = NULL;
	if (!d)
		return -1;
	*out = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, ns_uri, 0);
	if (!*out && virt_last_code() != VIR_ERR_NO_DOMAIN_METADATA)
		return virt_err(err, "domain %s: metadata %s", name, ns_uri);
	return 0;
}

int vl_virt_domain_set_metadata(struct vl_virt *v, const char *name, const char *ns_uri,
				const char *key, const char *xml, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);
	unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;
	int active;

	if (!d)
		return -1;
	active = virDomainIsActive(d);
	if (active < 0)
		return virt_err(err, "domain %s", name);
	if (active)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	if (virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, xml, xml ? key : NULL, ns_uri,
				 flags) < 0)
		return virt_err(err, "domain %s: set metadata %s", name, ns_uri);
	return 0;
}

static void stats_param(struct vl_virt_domstats *s, const virTypedParameter *p);

int vl_virt_domain_writes(struct vl_virt *v, const char *name, int *id, bool *has_wr,
			  uint64_t *wr_reqs, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);
	virDomainStatsRecordPtr *recs = NULL;
	virDomainPtr doms[2];
	struct vl_virt_domstats s = { 0 };
	int active;

	*id = -1;
	*has_wr = false;
	*wr_reqs = 0;
	if (!d)
		return -1;
	active = virDomainIsActive(d);
	if (active < 0)
		return virt_err(err, "domain %s", name);
	if (!active)
		return 0;
	*id = (int)virDomainGetID(d);
	doms[0] = d;
	doms[1] = NULL;
	if (virDomainListGetStats(doms, VIR_DOMAIN_STATS_BLOCK, &recs, 0) < 0)
		return virt_err(err, "domain %s: block stats", name);
	for (int i = 0; recs && recs[i]; i++)
		for (int j = 0; j < recs[i]->nparams; j++)
			stats_param(&s, &recs[i]->params[j]);
	virDomainStatsRecordListFree(recs);
	*has_wr = s.has_wr;
	*wr_reqs = s.wr_reqs;
	return 0;
}

int vl_virt_domain_get_xml(struct vl_virt *v, const char *name, bool inactive, char **out,
			   struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);

	*out = NULL;
	if (!d)
		return -1;
	*out = virDomainGetXMLDesc(d, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
	if (!*out)
		return virt_err(err, "domain %s: XML", name);
	return 0;
}

int vl_virt_domain_get_uuid(struct vl_virt *v, const char *name, char uuid[VL_UUID_STRLEN],
			    struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);

	if (!d)
		return -1;
	if (virDomainGetUUIDString(d, uuid) < 0)
		return virt_err(err, "domain %s: UUID", name);
	return 0;
}

int vl_virt_domain_info(struct vl_virt *v, const char *name, struct vl_virt_dominfo *out,
			struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, name, err);
	virDomainInfo info;

	memset(out, 0, sizeof(*out));
	if (!d)
		return -1;
	if (virDomainGetInfo(d, &info) < 0)
		return virt_err(err, "domain %s: info", name);
	out->state = map_state(info.state);
	out->vcpus = info.nrVirtCpu;
	out->memory_kib = info.memory;
	out->max_memory_kib = info.maxMem;
	out->cpu_time_ns = info.cpuTime;
	return 0;
}

int vl_virt_domain_wait_state(struct vl_virt *v, const struct vl_events *evs,
			const char *name, enum vl_dom_state want,
			      unsigned timeout_ms, struct vl_err *err)
{
	uint64_t deadline = (uint64_t)vl_now_mono_ms() + timeout_ms;
	enum vl_dom_state s;

	for (;;) {
		if (vl_virt_domain_state(v, name, &s, err) < 0)
			return -1;
		if (s == want)
			return 0;
		if (vl_cancelled(evs))
			return vl_err_set(err, VL_E_CANCELLED, "domain %s: cancelled while waiting for %s",
					  name, vl_dom_state_name(want));
		if ((uint64_t)vl_now_mono_ms() >= deadline)
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
	if (virt_xdoc_parse(&x, xml) < 0)
		return vl_err_set(err, VL_E_FAIL, "domain %s: unparsable XML", name);
	/* libvirt refuses internal snapshots when firmware state lives in a
	 * pflash/NVRAM file: say so before the engine pauses anything. */
	if (virt_xbool(&x, NULL, "/domain/os/loader[@type='pflash'] | /domain/os/nvram") ||
	    virt_xbool(&x, NULL, "/domain/os[@firmware='efi']"))
		return vl_err_set(err, VL_E_FAIL, "domain %s: uses UEFI firmware with NVRAM; libvirt "
				  "cannot take internal snapshots of it (use BIOS firmware)", name);
	/* Every writable disk must be qcow2 to hold an internal snapshot; a
	 * read-only raw seed ISO is fine (docs/host-notes.md). */
	disks = virt_xnodes(&x,
			    "/domain/devices/disk[not(readonly)][not(@device) or @device='disk']");
	for (size_t i = 0; i < virt_xcount(disks); i++) {
		xmlNodePtr dn = disks->nodesetval->nodeTab[i];
		VL_AUTOFREE char *fmt = virt_xstr(&x, dn, "driver/@type");
		VL_AUTOFREE char *dev = virt_xstr(&x, dn, "target/@dev");

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

/* ---- bulk stats ---- */

static void stats_param(struct vl_virt_domstats *s, const virTypedParameter *p)
{
	unsigned long long u;

	switch (p->type) {
	case VIR_TYPED_PARAM_INT:
		u = p->value.i < 0 ? 0 : (unsigned long long)p->value.i;
		break;
	case VIR_TYPED_PARAM_UINT:
		u = p->value.ui;
		break;
	case VIR_TYPED_PARAM_LLONG:
		u = p->value.l < 0 ? 0 : (unsigned long long)p->value.l;
		break;
	case VIR_TYPED_PARAM_ULLONG:
		u = p->value.ul;
		break;
	default:
		return;
	}
	if (vl_streq(p->field, "state.state")) {
		s->state = map_state((int)u);
	} else if (vl_streq(p->field, "cpu.time")) {
		s->has_cpu = true;
		s->cpu_time_ns = u;
	} else if (vl_streq(p->field, "vcpu.current")) {
		s->vcpus = (unsigned)u;
	} else if (vl_streq(p->field, "balloon.current")) {
		s->mem_current_kib = u;
	} else if (vl_streq(p->field, "balloon.maximum")) {
		s->mem_max_kib = u;
	} else if (vl_streq(p->field, "balloon.rss")) {
		s->mem_rss_kib = u;
	} else if (vl_streq(p->field, "balloon.available")) {
		s->mem_available_kib = u;
	} else if (vl_streq(p->field, "balloon.unused")) {
		s->mem_unused_kib = u;
	} else if (vl_str_startswith(p->field, "block.") && vl_str_endswith(p->field, ".wr.reqs")) {
		s->has_wr = true;
		s->wr_reqs += u;
	}
}

int vl_virt_domain_stats_all(struct vl_virt *v, const char *prefix,
			     struct vl_virt_domstats **out, size_t *n, struct vl_err *err)
{
	const unsigned groups = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
				VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |
				VIR_DOMAIN_STATS_BLOCK;
	/* NOWAIT: what can be read without the domain's job (a balloon query
	 * behind a long migration or snapshot would otherwise block us). */
	const unsigned flags = VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |
			       VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT;
	virDomainStatsRecordPtr *recs = NULL;
	struct vl_virt_domstats *list;
	size_t cnt = 0;
	int total;

	*out = NULL;
	*n = 0;
	total = virConnectGetAllDomainStats(v->conn, groups, &recs, flags);
	if (total < 0)
		return virt_err(err, "domain stats");
	list = vl_calloc((size_t)total + 1, sizeof(*list));
	for (int i = 0; i < total; i++) {
		const char *name = virDomainGetName(recs[i]->dom);
		struct vl_virt_domstats *s = &list[cnt];

		if (!name || (prefix && !vl_str_startswith(name, prefix)))
			continue;
		s->name = vl_strdup(name);
		s->state = VL_DOM_OTHER;
		s->id = (int)virDomainGetID(recs[i]->dom);
		for (int j = 0; j < recs[i]->nparams; j++)
			stats_param(s, &recs[i]->params[j]);
		cnt++;
	}
	virDomainStatsRecordListFree(recs);
	*out = list;
	*n = cnt;
	return 0;
}

void vl_virt_domstats_free(struct vl_virt_domstats *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}
