/* vmlab gc: find vmlab's libvirt objects that no project owns any more
 * (project directory or its vmlab.ini gone) and those a crash left behind
 * (volumes without their domain, networks without any VM), then remove them.
 * Ownership comes from libvirt alone: the metadata vmlab wrote into each. */
#include "host.h"
#include "lab_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "meta.h"
#include "owner.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

struct found {
	struct vl_gc_item *items;
	size_t n;
	size_t skipped;          /* objects of other owners */
	char *machine, *user;    /* this owner */
	char **others;           /* lab ids of other owners (their volumes are theirs too) */
	size_t n_others;
	char **busy;             /* lab ids of projects a vmlab command is working on */
	size_t n_busy;
};

static void remember(char ***ids, size_t *n, const char *id)
{
	*ids = vl_realloc(*ids, (*n + 1) * sizeof(char *));
	(*ids)[(*n)++] = vl_strdup(id);
}

/* Another owner's object: counted, its lab id remembered for its volumes. */
static bool other_owner(struct found *f, const struct vl_meta *m)
{
	if (!vl_owner_other(m->owner_machine, m->owner_user, f->machine, f->user))
		return false;
	f->skipped++;
	remember(&f->others, &f->n_others, m->id);
	return true;
}

/* Whether vol is vmlab-<id>-... for one of the lab ids. */
static bool volume_of(char *const *ids, size_t n, const char *vol)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(ids[i]);
		if (strncmp(vol, "vmlab-", 6) == 0 && strncmp(vol + 6, ids[i], len) == 0 &&
		    vol[6 + len] == '-')
			return true;
	}
	return false;
}

static void add(struct found *f, enum vl_gc_kind kind, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(struct found *f, enum vl_gc_kind kind, const char *name, const char *fmt, ...)
{
	struct vl_buf r = VL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vl_buf_vprintf(&r, fmt, ap);
	va_end(ap);
	f->items = vl_realloc(f->items, (f->n + 1) * sizeof(*f->items));
	f->items[f->n++] = (struct vl_gc_item){ kind, vl_strdup(name), vl_buf_steal(&r) };
}

/* NULL if the project still has its vmlab.ini, else why it counts as gone. */
static const char *project_gone(const char *dir, struct vl_buf *why)
{
	vl_buf_truncate(why, 0);
	if (!dir)
		return "no project recorded";
	vl_buf_printf(why, "%s/%s", dir, VL_PROFILE_FILE);
	if (access(why->s, F_OK) == 0)
		return NULL;
	vl_buf_truncate(why, 0);
	vl_buf_printf(why, "project %s has no %s any more", dir, VL_PROFILE_FILE);
	return why->s;
}

/* A project whose lock is held has a vmlab command running: not ours to judge. */
static bool project_busy(const char *dir, const char *instance)
{
	VL_AUTOFREE char *state = NULL;
	struct vl_buf p = VL_BUF_INIT;
	struct vl_lock l = VL_LOCK_INIT;
	struct vl_err e = VL_ERR_INIT;
	bool busy = false;

	if (!dir)
		return false;
	state = vl_plan_state_dir(dir, instance);
	vl_buf_printf(&p, "%s/lock", state);
	if (access(p.s, F_OK) == 0) {
		busy = vl_lock_take(&l, p.s, 0, &e) < 0 && e.code == VL_E_LOCKED;
		vl_lock_release(&l);
	}
	vl_buf_release(&p);
	return busy;
}

/* A busy project's lab: left alone, its lab id remembered for its volumes
 * (an up makes the network, then each VM's volumes, then its domain: until
 * then the volumes have no domain, and they are not a crash's leftovers). */
static bool busy_lab(struct found *f, const struct vl_meta *m)
{
	if (!project_busy(m->project, m->instance))
		return false;
	remember(&f->busy, &f->n_busy, m->id);
	return true;
}

static bool has_domain(const struct vl_virt_dom *doms, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(doms[i].name) == len && strncmp(doms[i].name, name, len) == 0)
			return true;
	return false;
}

static bool has_domain_prefix(const struct vl_virt_dom *doms, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (vl_str_startswith(doms[i].name, prefix))
			return true;
	return false;
}

static int scan(struct vl_ctx *ctx, struct found *f, struct vl_err *err)
{
	struct vl_virt *v = ctx->host->virt;
	struct vl_virt_dom *doms = NULL;
	struct vl_virt_net *nets = NULL;
	char **vols = NULL;
	size_t nd = 0, nn = 0, nv = 0;
	struct vl_buf why = VL_BUF_INIT, prefix = VL_BUF_INIT;
	bool pool = false;
	int rc = -1;

	if (vl_virt_domain_list(v, "vmlab-", &doms, &nd, err) < 0 ||
	    vl_virt_network_list(v, "vmlab-", &nets, &nn, err) < 0 ||
	    vl_virt_pool_exists(v, ctx->config.pool_name, &pool, err) < 0)
		goto out;
	if (pool && (vl_virt_pool_refresh(v, &ctx->events, ctx->config.pool_name, err) < 0 ||
		     vl_virt_volume_list(v, ctx->config.pool_name, "vmlab-", &vols, &nv, err) < 0))
		goto out;

	for (size_t i = 0; i < nd; i++) {
		VL_AUTOFREE char *xml = NULL;
		struct vl_meta m;
		const char *gone;

		if (vl_virt_domain_get_xml(v, doms[i].name, true, &xml, err) < 0)
			goto out;
		if (!vl_meta_parse(xml, &m))
			continue; /* named like ours, but not made by vmlab: leave it */
		if (other_owner(f, &m)) {
			vl_meta_release(&m);
			continue;
		}
		gone = project_gone(m.project, &why);
		if (gone && !project_busy(m.project, m.instance))
			add(f, VL_GC_DOMAIN, doms[i].name, "%s", gone);
		vl_meta_release(&m);
	}
	for (size_t i = 0; i < nn; i++) {
		VL_AUTOFREE char *xml = NULL;
		struct vl_meta m;
		const char *gone;

		if (vl_virt_network_get_xml(v, nets[i].name, &xml, err) < 0)
			goto out;
		if (!vl_meta_parse(xml, &m))
			continue;
		if (other_owner(f, &m) || busy_lab(f, &m)) {
			vl_meta_release(&m);
			continue;
		}
		gone = project_gone(m.project, &why);
		vl_buf_truncate(&prefix, 0);
		vl_buf_printf(&prefix, "%s-", nets[i].name);
		if (gone)
			add(f, VL_GC_NETWORK, nets[i].name, "%s", gone);
		else if (!has_domain_prefix(doms, nd, prefix.s))
			add(f, VL_GC_NETWORK, nets[i].name, "lab %s has no VM left", m.name);
		vl_meta_release(&m);
	}
	for (size_t i = 0; i < nv; i++) {
		/* a VM's disk and seed belong to its domain; without it they are what
		 * a crash left */
		VL_AUTOFREE char *dom = vl_name_volume_domain(vols[i]);
		if (vl_plan_is_base_volume(vols[i]))
			continue; /* shared by labs: `vmlab image prune` removes unused ones */
		if (volume_of(f->busy, f->n_busy, vols[i]))
			continue; /* maybe an up between volumes and domain */
		if (volume_of(f->others, f->n_others, vols[i])) {
			f->skipped++;
			continue;
		}
		if (!dom)
			continue;
		if (!has_domain(doms, nd, dom, strlen(dom)))
			add(f, VL_GC_VOLUME, vols[i], "no domain %s", dom);
	}
	rc = 0;
out:
	vl_virt_dom_list_free(doms, nd);
	vl_virt_net_list_free(nets, nn);
	vl_virt_name_list_free(vols, nv);
	vl_buf_release(&why);
	vl_buf_release(&prefix);
	return rc;
}

static void found_release(struct found *f)
{
	free(f->machine);
	free(f->user);
	for (size_t i = 0; i < f->n_others; i++)
		free(f->others[i]);
	free(f->others);
	for (size_t i = 0; i < f->n_busy; i++)
		free(f->busy[i]);
	free(f->busy);
}

int vl_lab_gc(struct vl_ctx *ctx, bool dry_run, struct vl_gc_item **items, size_t *n,
	      size_t *skipped, struct vl_err *err)
{
	struct found f = { 0 };

	*items = NULL;
	*n = 0;
	vl_owner_self(&f.machine, &f.user);
	if (scan(ctx, &f, err) < 0) {
		vl_gc_items_free(f.items, f.n);
		found_release(&f);
		return -1;
	}
	if (skipped)
		*skipped = f.skipped;
	found_release(&f);
	/* domains first (they take their volumes), then volumes, then networks */
	for (int pass = 0; pass < 3 && !dry_run; pass++) {
		enum vl_gc_kind want = pass == 0 ? VL_GC_DOMAIN : pass == 1 ? VL_GC_VOLUME : VL_GC_NETWORK;
		for (size_t i = 0; i < f.n; i++) {
			const struct vl_gc_item *it = &f.items[i];
			int rc = 0;

			if (it->kind != want)
				continue;
			if (want == VL_GC_DOMAIN)
				rc = lab_destroy_domain(ctx, it->name, err);
			else if (want == VL_GC_VOLUME)
				rc = vl_virt_volume_delete(ctx->host->virt, ctx->config.pool_name, it->name, err);
			else
				rc = vl_virt_network_destroy_undefine(ctx->host->virt, it->name, err);
			if (rc < 0) {
				vl_gc_items_free(f.items, f.n);
				return -1;
			}
			vl_event_info(&ctx->events, NULL, "removed %s %s (%s)", vl_gc_kind_name(want),
				      it->name, it->reason);
		}
	}
	*items = f.items;
	*n = f.n;
	return 0;
}

void vl_gc_items_free(struct vl_gc_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].name);
		free(items[i].reason);
	}
	free(items);
}

const char *vl_gc_kind_name(enum vl_gc_kind k)
{
	return k == VL_GC_DOMAIN ? "domain" : k == VL_GC_NETWORK ? "network" : "volume";
}

/* Cached images some lab still uses: the base volumes overlays are backed
 * by, mapped back to the cached file with the same content (its SHA-256
 * names the volume), and direct backing files (overlays made before base
 * images moved into the pool). */
int vl_lab_images_in_use(struct vl_ctx *ctx, char ***paths, size_t *n, struct vl_err *err)
{
	struct vl_base_vol *bases = NULL;
	struct vl_image_info *imgs = NULL;
	char **backings = NULL;
	size_t nb = 0, nback = 0, ni = 0;
	int rc = -1;

	*paths = NULL;
	*n = 0;
	/* one pass over the pool: the bases and every volume's backing file */
	if (lab_base_scan(ctx, &bases, &nb, &backings, &nback, err) < 0 ||
	    vl_image_list(&ctx->config, &imgs, &ni, err) < 0)
		goto out;
	*paths = vl_calloc(nback + ni + 1, sizeof(char *));
	for (size_t i = 0; i < ni; i++) {
		VL_AUTOFREE char *name = NULL;
		if (!imgs[i].cached || !imgs[i].content_sha256)
			continue; /* never uploaded by this vmlab: no base volume can be it */
		name = vl_plan_base_volume(imgs[i].content_sha256, vl_image_format_name(imgs[i].format));
		for (size_t k = 0; k < nb; k++)
			if (bases[k].in_use && vl_streq(bases[k].volume, name)) {
				(*paths)[(*n)++] = vl_strdup(imgs[i].path);
				break;
			}
	}
	/* overlays made before base images moved into the pool name the cached file */
	for (size_t i = 0; i < nback; i++)
		(*paths)[(*n)++] = vl_steal(&backings[i]);
	rc = 0;
out:
	vl_base_vols_free(bases, nb);
	vl_image_infos_free(imgs, ni);
	vl_virt_name_list_free(backings, nback);
	return rc;
}
