/* The TUI's model: what the screen shows, kept from the lab list and the
 * watch's changes, with the filter, marks and a selection that follows its
 * lab or VM. Pure: every time comes from the caller. */
#include "model.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/str.h"

int ui_natcmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;
			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			if (ea - a != eb - b)
				return ea - a < eb - b ? -1 : 1;
			int c = strncmp(a, b, (size_t)(ea - a));
			if (c)
				return c;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

void ui_model_init(struct ui_model *m, const char *here_project)
{
	memset(m, 0, sizeof(*m));
	m->here_project = here_project ? vl_strdup(here_project) : NULL;
	m->filter.state = -1;
	m->connected = true;
}

static void vm_release(struct ui_vm *v)
{
	free(v->name);
	free(v->domain);
	free(v->ip);
}

static void lab_release(struct ui_lab *l)
{
	for (size_t i = 0; i < l->n_vms; i++)
		vm_release(&l->vms[i]);
	free(l->vms);
	free(l->id);
	free(l->name);
	free(l->project);
	free(l->network);
	free(l->subnet);
	free(l->seat);
}

static void classes_free(struct ui_class *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].project);
	}
	free(c);
}

void ui_model_release(struct ui_model *m)
{
	for (size_t i = 0; i < m->n_labs; i++)
		lab_release(&m->labs[i]);
	free(m->labs);
	free(m->rows);
	free(m->here_project);
	free(m->filter_src);
	free(m->sel_lab);
	free(m->sel_vm);
	free(m->sel_class);
	classes_free(m->classes, m->n_classes);
	free(m->lost_reason);
	ui_model_set_plan(m, NULL, NULL, NULL, 0);
	ui_filter_release(&m->filter);
	memset(m, 0, sizeof(*m));
}

static char *dup_or_null(const char *s)
{
	return s ? vl_strdup(s) : NULL;
}

static void set_str(char **dst, const char *s)
{
	if (s && *dst && vl_streq(s, *dst))
		return;
	free(*dst);
	*dst = dup_or_null(s);
}

static int lab_cmp(const void *pa, const void *pb)
{
	const struct ui_lab *a = pa, *b = pb;
	int c;

	if (a->here != b->here)
		return a->here ? -1 : 1;
	c = ui_natcmp(a->name, b->name);
	if (!c)   /* a class's seats together, after the project's own lab */
		c = strcmp(a->project ? a->project : "", b->project ? b->project : "");
	if (!c && !a->seat != !b->seat)
		return a->seat ? 1 : -1;
	if (!c && a->seat)
		c = ui_natcmp(a->seat, b->seat);
	return c ? c : strcmp(a->id, b->id);
}

static int vm_cmp(const void *pa, const void *pb)
{
	const struct ui_vm *a = pa, *b = pb;
	return ui_natcmp(a->name, b->name);
}

struct ui_lab *ui_model_find_lab(const struct ui_model *m, const char *id)
{
	for (size_t i = 0; i < m->n_labs; i++)
		if (vl_streq(m->labs[i].id, id))
			return &m->labs[i];
	return NULL;
}

struct ui_vm *ui_lab_find_vm(const struct ui_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_vms; i++)
		if (vl_streq(lab->vms[i].name, name))
			return &lab->vms[i];
	return NULL;
}

static bool is_up(enum vl_vm_state s)
{
	return s == VL_VM_RUNNING || s == VL_VM_PAUSED;
}

void ui_model_set_plan(struct ui_model *m, const char *id, const char *name,
		       const struct ui_plan_vm *vms, size_t n)
{
	for (size_t i = 0; i < m->n_plan_vms; i++)
		free((char *)m->plan_vms[i].name);
	free(m->plan_vms);
	free(m->plan_id);
	free(m->plan_name);
	m->plan_id = m->plan_name = NULL;
	m->plan_vms = NULL;
	m->n_plan_vms = 0;
	if (!id)
		return;
	m->plan_id = vl_strdup(id);
	m->plan_name = vl_strdup(name ? name : id);
	m->plan_vms = vl_calloc(n ? n : 1, sizeof(*m->plan_vms));
	for (size_t i = 0; i < n; i++) {
		m->plan_vms[i] = vms[i];
		m->plan_vms[i].name = vl_strdup(vms[i].name);
	}
	m->n_plan_vms = n;
}

static bool planned_vm(const struct ui_model *m, const struct ui_lab *l, const char *vm)
{
	if (!m->plan_id || !vl_streq(l->id, m->plan_id))
		return false;
	for (size_t i = 0; i < m->n_plan_vms; i++)
		if (vl_streq(m->plan_vms[i].name, vm))
			return true;
	return false;
}

/* A VM as it is before up makes it (or after destroy). */
static void vm_not_created(struct ui_vm *v)
{
	v->mark = (struct vl_snapmark){ .known = false, .boot = -1 };
	v->now = (struct vl_snapmark_now){ .boot = -1 };
	v->dirty = VL_CHANGED_UNKNOWN;
	free(v->ip);
	v->ip = NULL;
	v->state = VL_VM_MISSING;
	v->up_since_ms = 0;
	v->cpu = -1;
	v->mem_used = 0;
}

static struct ui_vm *add_vm(struct ui_lab *l, const char *name, const char *domain);

/* The planned lab into a fresh list: its VMs libvirt lacks as not created,
 * the lab itself (not existing) when libvirt has nothing of it. */
static void merge_plan(struct ui_model *m, struct ui_lab *fresh, size_t *n)
{
	struct ui_lab *l = NULL;

	if (!m->plan_id)
		return;
	for (size_t i = 0; i < *n && !l; i++)
		if (vl_streq(fresh[i].id, m->plan_id))
			l = &fresh[i];
	if (!l) {
		const struct ui_lab *old = ui_model_find_lab(m, m->plan_id);
		l = &fresh[(*n)++];
		l->id = vl_strdup(m->plan_id);
		l->name = vl_strdup(m->plan_name);
		l->project = dup_or_null(m->here_project);
		l->here = l->mine = true;
		l->expanded = old ? old->expanded : true;
		l->n_snapshots = -1;
		l->vms = vl_calloc(1, sizeof(*l->vms));
	}
	for (size_t i = 0; i < m->n_plan_vms; i++) {
		const struct ui_plan_vm *pv = &m->plan_vms[i];
		if (ui_lab_find_vm(l, pv->name))
			continue;
		const struct ui_lab *old = ui_model_find_lab(m, m->plan_id);
		const struct ui_vm *ov = old ? ui_lab_find_vm(old, pv->name) : NULL;
		struct ui_vm *v = add_vm(l, pv->name, NULL);
		vm_not_created(v);
		v->cpus = pv->cpus;
		v->memory = pv->memory;
		v->marked = ov && ov->marked;
		v->changed_ms = ov ? ov->changed_ms : 0;
	}
}

static bool same_class(const struct ui_class *c, const struct ui_lab *l)
{
	return vl_streq(c->name, l->name) && vl_streq(c->project ? c->project : "",
						     l->project ? l->project : "");
}

/* The classes of the seats now listed (sorted labs: a class's seats follow
 * each other), keeping each one's expansion; a new one is expanded when it
 * is the current directory's. */
static void make_classes(struct ui_model *m)
{
	struct ui_class *old = m->classes;
	size_t n_old = m->n_classes;

	m->classes = NULL;
	m->n_classes = 0;
	for (size_t i = 0; i < m->n_labs; i++) {
		struct ui_lab *l = &m->labs[i];
		struct ui_class *c;
		if (!l->seat)
			continue;
		if (m->n_classes && same_class(&m->classes[m->n_classes - 1], l)) {
			l->cls = m->n_classes - 1;
			continue;
		}
		m->classes = vl_realloc(m->classes, (m->n_classes + 1) * sizeof(*m->classes));
		c = &m->classes[m->n_classes];
		c->name = vl_strdup(l->name);
		c->project = dup_or_null(l->project);
		c->expanded = l->here;
		for (size_t k = 0; k < n_old; k++)
			if (same_class(&old[k], l))
				c->expanded = old[k].expanded;
		l->cls = m->n_classes++;
	}
	classes_free(old, n_old);
}

static char *class_key(const struct ui_class *c)
{
	char *k = vl_malloc(strlen(c->name) + (c->project ? strlen(c->project) : 0) + 2);
	sprintf(k, "%s\n%s", c->project ? c->project : "", c->name);
	return k;
}

void ui_model_load(struct ui_model *m, const struct vl_lab_summary *labs, size_t n, int64_t now_ms)
{
	struct ui_lab *fresh = vl_calloc(n + 1, sizeof(*fresh));

	for (size_t i = 0; i < n; i++) {
		const struct vl_lab_summary *s = &labs[i];
		const struct ui_lab *old = ui_model_find_lab(m, s->id);
		struct ui_lab *l = &fresh[i];

		l->id = vl_strdup(s->id);
		l->name = vl_strdup(s->name ? s->name : s->id);
		l->project = dup_or_null(s->project);
		l->network = dup_or_null(s->network);
		l->subnet = dup_or_null(s->subnet);
		l->net_active = s->network_active;
		l->mine = s->mine;
		l->here = m->here_project && s->project && vl_streq(m->here_project, s->project);
		l->exists = true;
		if (s->instance && vl_str_startswith(s->instance, "seat-") && s->instance[5])
			l->seat = vl_strdup(s->instance + 5);
		/* the planned lab shows expanded before it exists: keep that */
		l->expanded = old ? old->expanded : l->here;
		l->n_snapshots = old ? old->n_snapshots : -1;
		l->changed_ms = old ? old->changed_ms : 0;
		l->vms = vl_calloc(s->n_vms ? s->n_vms : 1, sizeof(*l->vms));
		l->n_vms = s->n_vms;
		for (size_t j = 0; j < s->n_vms; j++) {
			const struct vl_vm_summary *sv = &s->vms[j];
			const struct ui_vm *ov = old ? ui_lab_find_vm(old, sv->name) : NULL;
			struct ui_vm *v = &l->vms[j];

			v->name = vl_strdup(sv->name);
			v->domain = dup_or_null(sv->domain);
			v->ip = dup_or_null(sv->ip);
			v->state = sv->state;
			v->cpus = sv->cpus;
			v->memory = sv->memory;
			v->cpu = ov ? ov->cpu : -1;
			v->mem_used = ov ? ov->mem_used : 0;
			v->marked = ov && ov->marked;
			v->up_since_ms = ov ? ov->up_since_ms : 0;
			v->changed_ms = ov ? ov->changed_ms : 0;
			v->mark = sv->mark;
			v->now = sv->now;
			v->dirty = sv->changed;
			if (ov && ov->state != v->state)
				v->changed_ms = now_ms;
			if (!is_up(v->state))
				v->up_since_ms = 0;
			else if (ov && !is_up(ov->state))
				v->up_since_ms = now_ms;
		}
		qsort(l->vms, l->n_vms, sizeof(*l->vms), vm_cmp);
	}
	merge_plan(m, fresh, &n);
	for (size_t i = 0; i < m->n_labs; i++)
		lab_release(&m->labs[i]);
	free(m->labs);
	m->labs = fresh;
	m->n_labs = n;
	qsort(m->labs, m->n_labs, sizeof(*m->labs), lab_cmp);
	make_classes(m);
	ui_model_rows(m);
}

/* A lab the watch names before any listing knows it: its id until then. */
static struct ui_lab *add_lab(struct ui_model *m, const char *id)
{
	struct ui_lab *l;

	m->labs = vl_realloc(m->labs, (m->n_labs + 1) * sizeof(*m->labs));
	l = &m->labs[m->n_labs++];
	memset(l, 0, sizeof(*l));
	l->id = vl_strdup(id);
	l->name = vl_strdup(id);
	l->exists = true;
	l->n_snapshots = -1;
	qsort(m->labs, m->n_labs, sizeof(*m->labs), lab_cmp);
	return ui_model_find_lab(m, id);
}

static struct ui_vm *add_vm(struct ui_lab *l, const char *name, const char *domain)
{
	struct ui_vm *v;

	l->vms = vl_realloc(l->vms, (l->n_vms + 1) * sizeof(*l->vms));
	v = &l->vms[l->n_vms++];
	memset(v, 0, sizeof(*v));
	v->name = vl_strdup(name);
	v->domain = dup_or_null(domain);
	v->cpu = -1;
	v->mark.boot = v->now.boot = -1;
	qsort(l->vms, l->n_vms, sizeof(*l->vms), vm_cmp);
	return ui_lab_find_vm(l, name);
}

static void remove_lab(struct ui_model *m, struct ui_lab *l)
{
	size_t i = (size_t)(l - m->labs);

	lab_release(l);
	memmove(&m->labs[i], &m->labs[i + 1], (m->n_labs - i - 1) * sizeof(*m->labs));
	m->n_labs--;
}

static void remove_vm(struct ui_lab *l, struct ui_vm *v)
{
	size_t i = (size_t)(v - l->vms);

	vm_release(v);
	memmove(&l->vms[i], &l->vms[i + 1], (l->n_vms - i - 1) * sizeof(*l->vms));
	l->n_vms--;
}

/* The planned lab, destroyed: it stays, as before up made it. */
static void lab_not_created(const struct ui_model *m, struct ui_lab *l, int64_t now_ms)
{
	for (size_t j = l->n_vms; j-- > 0;) {
		if (planned_vm(m, l, l->vms[j].name))
			vm_not_created(&l->vms[j]);
		else
			remove_vm(l, &l->vms[j]);
	}
	free(l->network);
	free(l->subnet);
	l->network = l->subnet = NULL;
	l->net_active = false;
	l->exists = false;
	l->n_snapshots = -1;
	l->changed_ms = now_ms;
}

static bool apply_state(const struct ui_model *m, struct ui_lab *l,
			const struct vl_watch_change *c, int64_t now_ms, bool *need_list)
{
	struct ui_vm *v = ui_lab_find_vm(l, c->vm);

	if (c->state == VL_VM_MISSING) {
		if (!v || v->state == VL_VM_MISSING)
			return false;
		if (planned_vm(m, l, c->vm)) {   /* destroyed: back to not created */
			vm_not_created(v);
			v->changed_ms = now_ms;
		} else {
			remove_vm(l, v);
		}
		l->changed_ms = now_ms;
		return true;
	}
	if (!v) {
		v = add_vm(l, c->vm, c->domain);
		*need_list = true;   /* its IP, vCPUs and memory */
	} else if (v->state == c->state) {
		return false;
	}
	if (is_up(c->state) && !is_up(v->state))
		v->up_since_ms = now_ms;
	if (!is_up(c->state)) {
		v->up_since_ms = 0;
		v->cpu = -1;
		v->mem_used = 0;
	}
	if (c->state == VL_VM_SHUTOFF || c->state == VL_VM_CRASHED) {
		/* its process is gone: the sample of a running one no longer holds */
		v->now = (struct vl_snapmark_now){ .boot = -1 };
		v->dirty = vl_snapmark_changed(&v->mark, &v->now);
	}
	if (c->state == VL_VM_RUNNING && v->state != VL_VM_PAUSED && v->state != VL_VM_RUNNING)
		*need_list = true;  /* a fresh start: the address may be new */
	if (c->state == VL_VM_RUNNING && v->state == VL_VM_PAUSED)
		*need_list = true;  /* resumed: a snapshot taken or restored meanwhile (the CLI's
				       too) recorded the VM anew (snapmark.h) */
	v->state = c->state;
	v->changed_ms = now_ms;
	return true;
}

static bool apply_stats(struct ui_lab *l, const struct vl_watch_change *c, bool *need_list)
{
	struct ui_vm *v = ui_lab_find_vm(l, c->vm);
	bool changed = false;

	if (!v) {
		*need_list = true;
		return false;
	}
	if (v->cpu != c->cpu_percent || v->mem_used != c->mem_used)
		changed = true;
	v->cpu = c->cpu_percent;
	v->mem_used = c->mem_used;
	if (c->vcpus && c->vcpus != v->cpus) {
		v->cpus = c->vcpus;
		changed = true;
	}
	if (c->mem_total && c->mem_total != v->memory) {
		v->memory = c->mem_total;
		changed = true;
	}
	if (c->state != v->state && c->state != VL_VM_MISSING) {
		v->state = c->state;
		changed = true;
	}
	v->now = c->now;
	enum vl_changed d = vl_snapmark_changed(&v->mark, &v->now);
	if (d != v->dirty) {
		v->dirty = d;
		changed = true;
	}
	if (is_up(v->state) && !v->ip)
		*need_list = true;   /* the lease came after the listing */
	return changed;
}

bool ui_model_apply(struct ui_model *m, const struct vl_watch_change *c, int64_t now_ms,
		    bool *need_list)
{
	struct ui_lab *l;
	bool changed = false;

	switch (c->kind) {
	case VL_WATCH_LOST:
		set_str(&m->lost_reason, c->reason ? c->reason : "connection lost");
		m->connected = false;
		return true;
	case VL_WATCH_RECONNECTED:
		free(m->lost_reason);
		m->lost_reason = NULL;
		m->connected = true;
		return true;
	case VL_WATCH_SYNCED:
		*need_list = true;   /* names, projects and addresses of what the sync saw */
		return false;
	default:
		break;
	}
	if (!c->lab)
		return false;
	l = ui_model_find_lab(m, c->lab);
	if (c->kind == VL_WATCH_LAB_VANISHED) {
		if (!l)
			return false;
		if (m->plan_id && vl_streq(l->id, m->plan_id))
			lab_not_created(m, l, now_ms);
		else
			remove_lab(m, l);
		ui_model_rows(m);
		return true;
	}
	if (!l) {
		l = add_lab(m, c->lab);
		l->changed_ms = now_ms;
		*need_list = true;
		changed = true;
	}
	if (!l->exists && !(c->kind == VL_WATCH_VM_STATE && c->state == VL_VM_MISSING)) {
		l->exists = true;
		changed = true;
	}
	switch (c->kind) {
	case VL_WATCH_VM_STATE:
		changed |= apply_state(m, l, c, now_ms, need_list);
		break;
	case VL_WATCH_STATS:
		changed |= apply_stats(l, c, need_list);
		break;
	case VL_WATCH_NET_STARTED:
	case VL_WATCH_NET_STOPPED:
		if (l->net_active != (c->kind == VL_WATCH_NET_STARTED)) {
			l->net_active = c->kind == VL_WATCH_NET_STARTED;
			l->changed_ms = now_ms;
			changed = true;
		}
		set_str(&l->network, c->network);
		break;
	default:
		break;
	}
	if (changed)
		ui_model_rows(m);
	return changed;
}

void ui_filter_release(struct ui_filter *f)
{
	free(f->text);
	free(f->lab);
	f->text = f->lab = NULL;
	f->state = -1;
	f->state_up = false;
}

static int parse_state(const char *s, int *state, bool *up)
{
	static const struct { const char *name; int state; } names[] = {
		{ "running", VL_VM_RUNNING }, { "paused", VL_VM_PAUSED },
		{ "shutoff", VL_VM_SHUTOFF }, { "off", VL_VM_SHUTOFF }, { "stopped", VL_VM_SHUTOFF },
		{ "crashed", VL_VM_CRASHED }, { "missing", VL_VM_MISSING },
	};

	*up = false;
	if (vl_streq(s, "up")) {
		*up = true;
		*state = -1;
		return 0;
	}
	for (size_t i = 0; i < VL_ARRAY_SIZE(names); i++) {
		if (vl_streq(s, names[i].name)) {
			*state = names[i].state;
			return 0;
		}
	}
	return -1;
}

int ui_filter_parse(struct ui_filter *f, const char *src, struct vl_err *err)
{
	VL_AUTOFREE char *copy = vl_strdup(src ? src : "");
	struct ui_filter out = { NULL, -1, false, NULL };
	char *rest = copy, *tok;

	while ((tok = strsep(&rest, " \t"))) {
		char *colon = strchr(tok, ':');
		if (!*tok)
			continue;
		if (!colon) {
			if (out.text) {  /* words join: "web db" is the text "web db" */
				char *t = vl_malloc(strlen(out.text) + strlen(tok) + 2);
				sprintf(t, "%s %s", out.text, tok);
				free(out.text);
				out.text = t;
			} else {
				out.text = vl_strdup(tok);
			}
			continue;
		}
		*colon = '\0';
		if (vl_streq(tok, "state")) {
			if (parse_state(colon + 1, &out.state, &out.state_up) < 0) {
				ui_filter_release(&out);
				return vl_err_set(err, VL_E_USAGE, "filter: unknown state '%s' (running, "
						  "paused, shutoff, crashed, up)", colon + 1);
			}
		} else if (vl_streq(tok, "lab")) {
			if (!colon[1]) {
				ui_filter_release(&out);
				return vl_err_set(err, VL_E_USAGE, "filter: lab: needs a name");
			}
			set_str(&out.lab, colon + 1);
		} else {
			ui_filter_release(&out);
			return vl_err_set(err, VL_E_USAGE, "filter: unknown key '%s:' (state:, lab:)", tok);
		}
	}
	*f = out;
	return 0;
}

bool ui_filter_match(const struct ui_filter *f, const struct ui_lab *lab, const struct ui_vm *vm)
{
	if (f->lab && !vl_streq(f->lab, lab->name) && !vl_streq(f->lab, lab->id))
		return false;
	if (f->state_up && !is_up(vm->state))
		return false;
	if (f->state >= 0 && (int)vm->state != f->state)
		return false;
	if (f->text && !strstr(vm->name, f->text) && !strstr(lab->name, f->text) &&
	    !(vm->ip && strstr(vm->ip, f->text)))
		return false;
	return true;
}

static bool filter_empty(const struct ui_filter *f)
{
	return !f->text && !f->lab && f->state < 0 && !f->state_up;
}

int ui_model_set_filter(struct ui_model *m, const char *src, struct vl_err *err)
{
	struct ui_filter f;

	if (ui_filter_parse(&f, src, err) < 0)
		return -1;
	ui_filter_release(&m->filter);
	m->filter = f;
	set_str(&m->filter_src, src && *src ? src : NULL);
	ui_model_rows(m);
	return 0;
}

/* A lab with no VM shows while nothing filters (a network left behind). */
static bool lab_visible(const struct ui_model *m, const struct ui_lab *l)
{
	if (filter_empty(&m->filter))
		return true;
	for (size_t j = 0; j < l->n_vms; j++)
		if (ui_filter_match(&m->filter, l, &l->vms[j]))
			return true;
	return false;
}

static void select_row(struct ui_model *m, size_t i);

/* The row showing the selected lab or VM: exact, else its lab's row (the VM
 * went away or is filtered out), else none (SIZE_MAX). */
static size_t find_selected(const struct ui_model *m)
{
	size_t lab_row = SIZE_MAX;

	if (m->sel_class) {
		for (size_t i = 0; i < m->n_rows; i++) {
			if (m->rows[i].kind != UI_ROW_CLASS)
				continue;
			VL_AUTOFREE char *k = class_key(&m->classes[m->labs[m->rows[i].lab].cls]);
			if (vl_streq(k, m->sel_class))
				return i;
		}
		return SIZE_MAX;
	}
	if (!m->sel_lab)
		return SIZE_MAX;
	for (size_t i = 0; i < m->n_rows; i++) {
		const struct ui_row *r = &m->rows[i];
		const struct ui_lab *l = &m->labs[r->lab];
		if (r->kind == UI_ROW_CLASS || !vl_streq(l->id, m->sel_lab))
			continue;
		if (r->kind == UI_ROW_LAB) {
			lab_row = i;
			if (!m->sel_vm)
				return i;
		} else if (m->sel_vm && vl_streq(l->vms[r->vm].name, m->sel_vm)) {
			return i;
		}
	}
	return lab_row;
}

void ui_model_rows(struct ui_model *m)
{
	size_t want = m->n_labs, n = 0, sel;

	for (size_t i = 0; i < m->n_labs; i++)
		want += m->labs[i].n_vms;
	want += m->n_classes;
	free(m->rows);
	m->rows = vl_calloc(want ? want : 1, sizeof(*m->rows));
	for (size_t i = 0, last_cls = SIZE_MAX; i < m->n_labs; i++) {
		const struct ui_lab *l = &m->labs[i];
		/* a filter shows matches inside collapsed labs too */
		bool open = l->expanded || !filter_empty(&m->filter);
		if (!lab_visible(m, l))
			continue;
		if (l->seat) {   /* the class's row before its first seat shown */
			if (last_cls != l->cls)
				m->rows[n++] = (struct ui_row){ UI_ROW_CLASS, i, 0 };
			last_cls = l->cls;
			if (!m->classes[l->cls].expanded && filter_empty(&m->filter))
				continue;
		}
		m->rows[n++] = (struct ui_row){ UI_ROW_LAB, i, 0 };
		for (size_t j = 0; open && j < l->n_vms; j++)
			if (ui_filter_match(&m->filter, l, &l->vms[j]))
				m->rows[n++] = (struct ui_row){ UI_ROW_VM, i, j };
	}
	m->n_rows = n;
	if (!n) {   /* a filter hides everything: keep the selection for later */
		m->sel = 0;
		return;
	}
	sel = find_selected(m);
	if (sel == SIZE_MAX)   /* gone (or never set): the row now at its place */
		sel = m->sel < n ? m->sel : n ? n - 1 : 0;
	select_row(m, sel);
}

const struct ui_row *ui_model_selected(const struct ui_model *m)
{
	return m->n_rows ? &m->rows[m->sel] : NULL;
}

static void select_row(struct ui_model *m, size_t i)
{
	m->sel = i;
	free(m->sel_lab);
	free(m->sel_vm);
	free(m->sel_class);
	m->sel_lab = m->sel_vm = m->sel_class = NULL;
	if (i < m->n_rows && m->rows[i].kind == UI_ROW_CLASS) {
		m->sel_class = class_key(&m->classes[m->labs[m->rows[i].lab].cls]);
	} else if (i < m->n_rows) {
		const struct ui_row *r = &m->rows[i];
		m->sel_lab = vl_strdup(m->labs[r->lab].id);
		if (r->kind == UI_ROW_VM)
			m->sel_vm = vl_strdup(m->labs[r->lab].vms[r->vm].name);
	}
}

void ui_model_move(struct ui_model *m, int delta)
{
	long i = (long)m->sel + delta;

	if (!m->n_rows)
		return;
	if (i < 0)
		i = 0;
	if (i >= (long)m->n_rows)
		i = (long)m->n_rows - 1;
	select_row(m, (size_t)i);
}

void ui_model_expand(struct ui_model *m, bool expand)
{
	const struct ui_row *r = ui_model_selected(m);

	if (!r)
		return;
	if (r->kind == UI_ROW_CLASS) {
		m->classes[m->labs[r->lab].cls].expanded = expand;
		ui_model_rows(m);
		return;
	}
	m->labs[r->lab].expanded = expand;
	if (!expand && r->kind == UI_ROW_VM) {  /* collapsing from a VM selects its lab */
		free(m->sel_vm);
		m->sel_vm = NULL;
	}
	ui_model_rows(m);
}

void ui_model_toggle_mark(struct ui_model *m)
{
	const struct ui_row *r = ui_model_selected(m);
	struct ui_lab *l;
	bool all = true;

	if (!r)
		return;
	l = &m->labs[r->lab];
	if (r->kind == UI_ROW_VM) {
		l->vms[r->vm].marked = !l->vms[r->vm].marked;
		return;
	}
	if (r->kind == UI_ROW_CLASS) {   /* every VM of every seat */
		for (size_t i = 0; i < m->n_labs; i++)
			for (size_t j = 0; m->labs[i].seat && m->labs[i].cls == l->cls &&
			     j < m->labs[i].n_vms; j++)
				all = all && m->labs[i].vms[j].marked;
		for (size_t i = 0; i < m->n_labs; i++)
			for (size_t j = 0; m->labs[i].seat && m->labs[i].cls == l->cls &&
			     j < m->labs[i].n_vms; j++)
				m->labs[i].vms[j].marked = !all;
		return;
	}
	for (size_t j = 0; j < l->n_vms; j++)
		all = all && l->vms[j].marked;
	for (size_t j = 0; j < l->n_vms; j++)
		l->vms[j].marked = !all;
}

size_t ui_model_n_marked(const struct ui_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_labs; i++)
		for (size_t j = 0; j < m->labs[i].n_vms; j++)
			n += m->labs[i].vms[j].marked;
	return n;
}

bool ui_vm_recent(const struct ui_vm *vm, int64_t now_ms)
{
	return vm->changed_ms && now_ms - vm->changed_ms < UI_HIGHLIGHT_MS;
}

size_t ui_lab_n_up(const struct ui_lab *lab)
{
	size_t n = 0;

	for (size_t j = 0; j < lab->n_vms; j++)
		n += is_up(lab->vms[j].state);
	return n;
}

size_t ui_model_n_running(const struct ui_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_labs; i++)
		for (size_t j = 0; j < m->labs[i].n_vms; j++)
			n += m->labs[i].vms[j].state == VL_VM_RUNNING;
	return n;
}

size_t ui_model_targets(const struct ui_model *m, struct ui_target **out)
{
	const struct ui_row *r = ui_model_selected(m);
	struct ui_target *t = vl_calloc(m->n_labs ? m->n_labs : 1, sizeof(*t));
	size_t n = 0;

	if (ui_model_n_marked(m)) {
		for (size_t i = 0; i < m->n_labs; i++) {
			const struct ui_lab *l = &m->labs[i];
			size_t k = 0;
			for (size_t j = 0; j < l->n_vms; j++)
				k += l->vms[j].marked;
			if (!k)
				continue;
			t[n].lab = i;
			t[n].vms = vl_calloc(k, sizeof(char *));
			for (size_t j = 0; j < l->n_vms; j++)
				if (l->vms[j].marked)
					t[n].vms[t[n].n_vms++] = vl_strdup(l->vms[j].name);
			n++;
		}
	} else if (r && r->kind == UI_ROW_CLASS) {   /* every seat, whole */
		for (size_t i = 0; i < m->n_labs; i++)
			if (m->labs[i].seat && m->labs[i].cls == m->labs[r->lab].cls)
				t[n++].lab = i;
	} else if (r) {
		t[0].lab = r->lab;
		if (r->kind == UI_ROW_VM) {
			t[0].vms = vl_calloc(1, sizeof(char *));
			t[0].vms[t[0].n_vms++] = vl_strdup(m->labs[r->lab].vms[r->vm].name);
		}
		n = 1;
	}
	*out = t;
	return n;
}

void ui_targets_free(struct ui_target *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		for (size_t j = 0; j < t[i].n_vms; j++)
			free(t[i].vms[j]);
		free(t[i].vms);
	}
	free(t);
}

static void reset_add(struct ui_reset *r, const char *seat)
{
	for (size_t i = 0; i < r->n_seats; i++)
		if (vl_streq(r->seats[i], seat))
			return;
	r->seats = vl_realloc(r->seats, (r->n_seats + 1) * sizeof(char *));
	r->seats[r->n_seats++] = vl_strdup(seat);
}

int ui_model_reset_target(const struct ui_model *m, struct ui_reset *out, struct vl_err *err)
{
	const struct ui_row *r = ui_model_selected(m);
	struct ui_reset t = { SIZE_MAX, NULL, 0 };

	*out = t;
	if (ui_model_n_marked(m)) {
		for (size_t i = 0; i < m->n_labs; i++) {
			const struct ui_lab *l = &m->labs[i];
			bool marked = false;
			for (size_t j = 0; j < l->n_vms; j++)
				marked = marked || l->vms[j].marked;
			if (!marked)
				continue;
			if (!l->seat || (t.cls != SIZE_MAX && t.cls != l->cls)) {
				ui_reset_release(&t);
				return vl_err_set(err, VL_E_USAGE, "reset: %s",
						  l->seat ? "the marked seats are of several classes"
							  : "a marked VM is not in a class seat");
			}
			t.cls = l->cls;
			reset_add(&t, l->seat);
		}
	} else if (r && r->kind == UI_ROW_CLASS) {
		t.cls = m->labs[r->lab].cls;   /* n_seats 0: all */
	} else if (r && m->labs[r->lab].seat) {
		t.cls = m->labs[r->lab].cls;
		reset_add(&t, m->labs[r->lab].seat);
	} else {
		return vl_err_set(err, VL_E_USAGE, "reset: select a class, a seat or marked seats");
	}
	*out = t;
	return 0;
}

void ui_reset_release(struct ui_reset *r)
{
	for (size_t i = 0; i < r->n_seats; i++)
		free(r->seats[i]);
	free(r->seats);
	r->seats = NULL;
	r->n_seats = 0;
}
