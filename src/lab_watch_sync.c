/* The lab watch's picture of a host: the vmlab objects it knows (with their
 * lab and state), kept up to date from libvirt's events, a full listing
 * (resync) and stats samples, each turned into typed changes (lab.h). Runs
 * on the watch's thread only, so nothing here locks. */
#include "lab_watch_priv.h"

#include <stdlib.h>
#include <string.h>

#include "lab_priv.h"
#include "meta.h"
#include "plan.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"
#include "watch_sched.h"

static const char *const kind_names[] = {
	[VL_WATCH_LAB_APPEARED] = "lab-appeared", [VL_WATCH_LAB_VANISHED] = "lab-vanished",
	[VL_WATCH_VM_STATE] = "vm-state",         [VL_WATCH_NET_STARTED] = "net-started",
	[VL_WATCH_NET_STOPPED] = "net-stopped",   [VL_WATCH_SYNCED] = "synced",
	[VL_WATCH_LOST] = "lost",                 [VL_WATCH_RECONNECTED] = "reconnected",
	[VL_WATCH_STATS] = "stats",
};

const char *vl_watch_kind_name(enum vl_watch_kind k)
{
	return (unsigned)k < VL_ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

void wstate_emit(struct wstate *st, struct vl_watch_change *c)
{
	c->host = st->host;
	st->o->on_change(st->o->ud, c);
}

static void obj_release(struct wobj *o)
{
	free(o->name);
	free(o->lab);
	free(o->vm);
}

void wstate_release(struct wstate *st)
{
	for (size_t i = 0; i < st->n; i++)
		obj_release(&st->objs[i]);
	free(st->objs);
	st->objs = NULL;
	st->n = st->cap = 0;
}

static struct wobj *find(struct wstate *st, const char *name, bool net)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->objs[i].net == net && vl_streq(st->objs[i].name, name))
			return &st->objs[i];
	return NULL;
}

static size_t lab_objects(const struct wstate *st, const char *lab)
{
	size_t k = 0;

	for (size_t i = 0; i < st->n; i++)
		k += vl_streq(st->objs[i].lab, lab);
	return k;
}

static void emit_lab(struct wstate *st, enum vl_watch_kind kind, const char *lab)
{
	struct vl_watch_change c = { .kind = kind, .lab = lab };

	wstate_emit(st, &c);
}

/* Take o (its strings) in; LAB_APPEARED if it is its lab's first object. */
static struct wobj *add(struct wstate *st, struct wobj *o)
{
	if (!lab_objects(st, o->lab))
		emit_lab(st, VL_WATCH_LAB_APPEARED, o->lab);
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->objs = vl_realloc(st->objs, st->cap * sizeof(*st->objs));
	}
	st->objs[st->n] = *o;
	return &st->objs[st->n++];
}

/* Forget o; LAB_VANISHED if it was its lab's last object. */
static void drop(struct wstate *st, struct wobj *o)
{
	VL_AUTOFREE char *lab = vl_steal(&o->lab);
	size_t i = (size_t)(o - st->objs);

	obj_release(o);
	memmove(&st->objs[i], &st->objs[i + 1], (st->n - i - 1) * sizeof(*o));
	st->n--;
	if (!lab_objects(st, lab))
		emit_lab(st, VL_WATCH_LAB_VANISHED, lab);
}

static void emit_vm(struct wstate *st, const struct wobj *o)
{
	struct vl_watch_change c = { .kind = VL_WATCH_VM_STATE, .lab = o->lab, .vm = o->vm,
				     .domain = o->name, .state = (enum vl_vm_state)o->state };

	wstate_emit(st, &c);
}

static void emit_net(struct wstate *st, const struct wobj *o)
{
	struct vl_watch_change c = { .kind = o->state == 1 ? VL_WATCH_NET_STARTED
							   : VL_WATCH_NET_STOPPED,
				     .lab = o->lab, .network = o->name };

	wstate_emit(st, &c);
}

/* What vmlab's metadata says of a domain or network: false (0) when it is
 * not vmlab's or is gone; -1 for any other failure. */
static int read_meta(struct vl_virt *v, const char *name, bool net, struct wobj *o,
		     struct vl_err *err)
{
	VL_AUTOFREE char *xml = NULL;
	struct vl_meta m;
	int r;

	*o = (struct wobj){ .net = net, .state = -1 };
	r = net ? vl_virt_network_get_xml(v, name, &xml, err)
		: vl_virt_domain_get_xml(v, name, false, &xml, err);
	if (r < 0)
		return err->code == VL_E_NOTFOUND ? 0 : -1;
	if (!vl_meta_parse(xml, &m))
		return 0;
	if (!net && !m.vm) {
		vl_meta_release(&m);
		return 0;
	}
	o->name = vl_strdup(name);
	o->lab = vl_steal(&m.id);
	o->vm = vl_steal(&m.vm);
	vl_meta_release(&m);
	return 1;
}

/* The object behind an event, read on first sight; NULL if not vmlab's. */
static int lookup(struct wstate *st, struct vl_virt *v, const char *name, bool net,
		  struct wobj **out, struct vl_err *err)
{
	struct wobj fresh;
	int r;

	*out = find(st, name, net);
	if (*out)
		return 0;
	r = read_meta(v, name, net, &fresh, err);
	if (r <= 0)
		return r;
	*out = add(st, &fresh);
	return 0;
}

int wstate_domain_event(struct wstate *st, struct vl_virt *v, const char *name,
			enum vl_dom_state ds, struct vl_err *err)
{
	enum vl_vm_state vs = lab_vm_state_of(ds);
	struct wobj *o = NULL;

	if (ds == VL_DOM_MISSING) {
		o = find(st, name, false);
		if (o) {
			o->state = VL_VM_MISSING;
			emit_vm(st, o);
			drop(st, o);
		}
		return 0;
	}
	if (lookup(st, v, name, false, &o, err) < 0)
		return -1;
	if (o && o->state != (int)vs) {
		o->state = (int)vs;
		if (vs != VL_VM_RUNNING)
			o->have_cpu = false;
		emit_vm(st, o);
	}
	return 0;
}

int wstate_network_event(struct wstate *st, struct vl_virt *v, const char *name,
			 enum vl_virt_net_event ev, struct vl_err *err)
{
	struct wobj *o = NULL;
	bool known = find(st, name, true) != NULL;

	if (ev == VL_NET_EV_UNDEFINED) {
		o = find(st, name, true);
		if (o) {
			if (o->state == 1) {
				o->state = 0;
				emit_net(st, o);
			}
			drop(st, o);
		}
		return 0;
	}
	if (lookup(st, v, name, true, &o, err) < 0)
		return -1;
	if (!o || (ev == VL_NET_EV_DEFINED && known))
		return 0;   /* a redefinition changes nothing that runs */
	if (o->state != (ev == VL_NET_EV_STARTED)) {
		o->state = ev == VL_NET_EV_STARTED;
		emit_net(st, o);
	}
	return 0;
}

/* ---- resync ---- */

/* A copy of the known object of that name (it keeps its CPU sample), marked
 * as still there, or one read from libvirt: 1 taken, 0 not vmlab's (or
 * gone), -1 failed. */
static int resync_take(struct wstate *old, struct vl_virt *v, const char *name, bool net,
		       struct wobj *out, struct vl_err *err)
{
	struct wobj *o = find(old, name, net);

	if (!o)
		return read_meta(v, name, net, out, err);
	o->mark = true;
	*out = *o;
	out->name = vl_strdup(o->name);
	out->lab = vl_strdup(o->lab);
	out->vm = o->vm ? vl_strdup(o->vm) : NULL;
	out->mark = false;
	return 1;
}

/* now: every vmlab object libvirt has, networks first. */
static int resync_read(struct wstate *old, struct wstate *now, struct vl_virt *v,
		       struct vl_err *err)
{
	struct vl_virt_dom *doms = NULL;
	struct vl_virt_net *nets = NULL;
	size_t nd = 0, nn = 0;
	struct wobj o;
	int r = -1, t;

	if (vl_virt_network_list(v, VL_NAME_PREFIX, &nets, &nn, err) < 0 ||
	    vl_virt_domain_list(v, VL_NAME_PREFIX, &doms, &nd, err) < 0)
		goto out;
	now->cap = nn + nd + 1;
	now->objs = vl_calloc(now->cap, sizeof(*now->objs));
	for (size_t i = 0; i < nn; i++) {
		if ((t = resync_take(old, v, nets[i].name, true, &o, err)) < 0)
			goto out;
		if (t) {
			o.state = nets[i].active;
			now->objs[now->n++] = o;
		}
	}
	for (size_t i = 0; i < nd; i++) {
		if ((t = resync_take(old, v, doms[i].name, false, &o, err)) < 0)
			goto out;
		if (t) {
			o.state = (int)lab_vm_state_of(doms[i].state);
			o.have_cpu &= o.state == VL_VM_RUNNING;
			now->objs[now->n++] = o;
		}
	}
	r = 0;
out:
	vl_virt_net_list_free(nets, nn);
	vl_virt_dom_list_free(doms, nd);
	return r;
}

/* Whether objs[i] is the first of its lab in objs. */
static bool first_of_lab(const struct wobj *objs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (vl_streq(objs[j].lab, objs[i].lab))
			return false;
	return true;
}

int wstate_resync(struct wstate *st, struct vl_virt *v, struct vl_err *err)
{
	struct wstate now = { .host = st->host, .o = st->o };
	struct vl_watch_change sync = { .kind = VL_WATCH_SYNCED };
	size_t i;

	for (i = 0; i < st->n; i++)
		st->objs[i].mark = false;
	if (resync_read(st, &now, v, err) < 0) {
		wstate_release(&now);
		return -1;
	}
	for (i = 0; i < now.n; i++)
		if (first_of_lab(now.objs, i) && !lab_objects(st, now.objs[i].lab))
			emit_lab(st, VL_WATCH_LAB_APPEARED, now.objs[i].lab);
	for (i = 0; i < now.n; i++) {
		if (now.objs[i].net)
			emit_net(st, &now.objs[i]);
		else
			emit_vm(st, &now.objs[i]);
	}
	for (i = 0; i < st->n; i++) {
		struct wobj *o = &st->objs[i];

		if (o->mark)
			continue;
		if (!o->net) {
			o->state = VL_VM_MISSING;
			emit_vm(st, o);
		} else if (o->state == 1) {
			o->state = 0;
			emit_net(st, o);
		}
	}
	for (i = 0; i < st->n; i++)
		if (first_of_lab(st->objs, i) && !lab_objects(&now, st->objs[i].lab))
			emit_lab(st, VL_WATCH_LAB_VANISHED, st->objs[i].lab);
	wstate_release(st);
	st->objs = now.objs;
	st->n = now.n;
	st->cap = now.cap;
	wstate_emit(st, &sync);
	return 0;
}

/* ---- stats ---- */

int wstate_sample(struct wstate *st, struct vl_virt *v, struct vl_err *err)
{
	struct vl_virt_domstats *recs = NULL;
	size_t n = 0;
	int64_t at;

	if (vl_virt_domain_stats_all(v, VL_NAME_PREFIX, &recs, &n, err) < 0)
		return -1;
	at = (int64_t)(vl_now_mono() * 1e9);
	for (size_t i = 0; i < st->n; i++)
		st->objs[i].mark = false;
	for (size_t i = 0; i < n; i++) {
		const struct vl_virt_domstats *r = &recs[i];
		struct wobj *o = find(st, r->name, false);
		struct vl_watch_change c = { .kind = VL_WATCH_STATS, .cpu_percent = -1 };

		if (!o)
			continue;   /* not vmlab's, or its event is still on its way */
		o->mark = true;
		if (r->has_cpu && o->have_cpu && at > o->cpu_at_ns)
			c.cpu_percent = vl_watch_cpu_percent(o->cpu_ns, r->cpu_time_ns,
							     (uint64_t)(at - o->cpu_at_ns), r->vcpus);
		o->have_cpu = r->has_cpu;
		o->cpu_ns = r->cpu_time_ns;
		o->cpu_at_ns = at;
		c.lab = o->lab;
		c.vm = o->vm;
		c.domain = o->name;
		c.state = lab_vm_state_of(r->state);
		c.vcpus = r->vcpus;
		c.mem_used = 1024 * vl_watch_mem_used_kib(r->mem_current_kib, r->mem_rss_kib,
							  r->mem_available_kib, r->mem_unused_kib);
		c.mem_total = 1024 * (r->mem_current_kib ? r->mem_current_kib : r->mem_max_kib);
		c.now = (struct vl_snapmark_now){ r->id, r->has_wr, r->wr_reqs };
		wstate_emit(st, &c);
	}
	/* not running now: the next sample after a start has no CPU% yet */
	for (size_t i = 0; i < st->n; i++)
		if (!st->objs[i].mark)
			st->objs[i].have_cpu = false;
	vl_virt_domstats_free(recs, n);
	return 0;
}
