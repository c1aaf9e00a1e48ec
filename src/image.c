/* Images: the public entry points (resolve, pull, list, rm, prune, content
 * digest) and catalog resolution with --name registration. The cache lives in
 * image_cache.c, downloads in image_fetch.c, verification in image_verify.c;
 * decisions (parsing, names, checksum files) in catalog.c. */
#include "image.h"
#include "image_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/datadir.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/str.h"

#define REGISTERED "registered.ini"
#define DEFAULT_STALL 60
#define DEFAULT_MAX_IMAGE (64ull << 30)

/* ---- catalogs ---------------------------------------------------------- */

static char *user_catalog_path(void)
{
	const char *e;

	if ((e = getenv("XDG_CONFIG_HOME")) && *e)
		return image_path_join(e, "vmlab/images.ini");
	if ((e = getenv("HOME")) && *e)
		return image_path_join(e, ".config/vmlab/images.ini");
	return NULL;
}

/* The shipped catalog, found like profiles (vl_datadir_find: $VMLAB_IMAGES,
 * next to the binary, the installed data directory); NULL if none. */
static char *shipped_catalog_path(void)
{
	VL_AUTOFREE char *dir = vl_datadir_find("images", NULL);

	return dir ? image_path_join(dir, "catalog.ini") : NULL;
}

/* Order decides who wins: registered (--name), vmlab.conf catalogs, the
 * user's images.ini, shipped. */
static int catalogs_load(const struct vl_config *cfg, const char *cache, struct vl_catalog *c,
			 struct vl_err *err)
{
	VL_AUTOFREE char *reg = image_path_join(cache, REGISTERED);
	VL_AUTOFREE char *user = user_catalog_path();
	VL_AUTOFREE char *shipped = shipped_catalog_path();

	if (vl_catalog_load(c, reg, true, err) < 0)
		return -1;
	for (size_t i = 0; cfg && i < cfg->n_catalogs; i++)
		if (vl_catalog_load(c, cfg->catalogs[i], false, err) < 0)
			return -1;
	if (user && vl_catalog_load(c, user, true, err) < 0)
		return -1;
	return shipped ? vl_catalog_load(c, shipped, true, err) : 0;
}

/* ---- resolving a reference --------------------------------------------- */

void vl_image_info_release(struct vl_image_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->url);
	free(info->path);
	free(info->user);
	free(info->content_sha256);
	vl_catalog_entry_release(&info->entry);
	memset(info, 0, sizeof(*info));
}

void vl_image_infos_free(struct vl_image_info *infos, size_t n)
{
	for (size_t i = 0; infos && i < n; i++)
		vl_image_info_release(&infos[i]);
	free(infos);
}

static void info_from_entry(struct vl_image_info *info, const struct vl_catalog_entry *e)
{
	vl_catalog_entry_copy(&info->entry, e);
	info->name = vl_strdup(e->name);
	info->url = vl_strdup(e->url);
	info->user = vl_strdup(e->user ? e->user : "root");
	info->format = e->format;
	info->bios = e->bios;
	info->cloud_init = e->cloud_init;
}

static char *path_to_file_url(const char *path)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_append(&b, "file://");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p))
			vl_buf_putc(&b, (char)*p);
		else
			vl_buf_printf(&b, "%%%02X", *p);
	}
	return vl_buf_steal(&b);
}

static int resolve_with(const struct vl_catalog *cat, const char *cache, const char *ref,
			const char *as_name, bool explicit_sum, struct vl_image_info *out,
			struct vl_err *err)
{
	enum vl_ref_kind kind = vl_image_ref_kind(ref);
	struct vl_catalog_entry e = { 0 };
	VL_AUTOFREE char *url = NULL;

	memset(out, 0, sizeof(*out));
	if (kind == VL_REF_NAME) {
		const struct vl_catalog_entry *ce = vl_catalog_find(cat, ref);
		if (!ce) {
			const char **names = vl_calloc(cat->n + 1, sizeof(*names));
			for (size_t i = 0; i < cat->n; i++)
				names[i] = cat->items[i].name;
			const char *s = vl_str_suggest(ref, names, cat->n);
			vl_err_set(err, VL_E_NOTFOUND, "unknown image '%s'%s%s%s (see 'vmlab image list')",
				   ref, s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
			free(names);
			return -1;
		}
		info_from_entry(out, ce);
		out->in_catalog = true;
		image_cache_lookup(cache, out);
		return 0;
	}
	if (kind == VL_REF_PATH) {
		char *abs = realpath(ref, NULL);
		if (!abs)
			return vl_err_sys(err, VL_E_NOTFOUND, errno, "image %s", ref);
		url = path_to_file_url(abs);
		free(abs);
	} else {
		url = vl_strdup(ref);
	}
	/* a URL the catalog knows keeps the catalog's checksum and name (so a
	 * profile can name an upstream URL), unless the user says otherwise */
	for (size_t i = 0; i < cat->n && !as_name && !explicit_sum; i++) {
		if (vl_streq(cat->items[i].url, url)) {
			info_from_entry(out, &cat->items[i]);
			out->in_catalog = true;
			image_cache_lookup(cache, out);
			return 0;
		}
	}
	e.name = as_name ? vl_strdup(as_name) : vl_image_name_from_url(url);
	e.url = vl_steal(&url);
	e.hash = VL_HASH_SHA256;
	e.format = VL_IMG_UNKNOWN;
	e.comp = vl_str_endswith(e.url, ".xz") ? VL_COMP_XZ : VL_COMP_NONE;
	e.user = vl_strdup("root");
	e.bios = true;
	e.cloud_init = true;
	/* local files are the user's own: nothing crossed a network to verify */
	e.insecure = kind != VL_REF_URL;
	info_from_entry(out, &e);
	vl_catalog_entry_release(&e);
	image_cache_lookup(cache, out);
	return 0;
}

int vl_image_resolve(const struct vl_config *cfg, const char *ref, struct vl_image_info *out,
		     struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);
	VL_AUTO(vl_catalog) cat = VL_CATALOG_INIT;

	if (catalogs_load(cfg, cache, &cat, err) < 0)
		return -1;
	return resolve_with(&cat, cache, ref, NULL, false, out, err);
}

int vl_image_content_sha256(const struct vl_config *cfg, struct vl_image_info *info,
			    struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);
	VL_AUTOFREE char *mp = NULL, *text = NULL, *out = NULL;
	char hex[VL_SHA256_HEXLEN + 1];
	struct vl_cache_meta m;

	if (info->content_sha256)
		return 0;
	if (!info->cached || !info->path)
		return vl_err_set(err, VL_E_NOTFOUND, "image %s is not cached", info->name);
	if (vl_sha256_file(info->path, hex, err) < 0)
		return -1;
	info->content_sha256 = vl_strdup(hex);
	/* kept for next time; without metadata it is simply computed again */
	mp = vl_cache_meta_path(cache, info->name);
	text = image_read_small(mp);
	if (text && vl_cache_meta_parse(&m, text, NULL) == 0) {
		struct vl_err ignore = VL_ERR_INIT;
		m.content_sha256 = vl_strdup(hex);
		out = vl_cache_meta_format(&m);
		image_write_atomic(mp, out, &ignore);
		vl_cache_meta_release(&m);
	}
	return 0;
}

/* ---- registration (--name) -------------------------------------------- */

static int register_entry(const char *cache, const struct vl_catalog_entry *e, struct vl_err *err)
{
	VL_AUTOFREE char *path = image_path_join(cache, REGISTERED);
	VL_AUTO(vl_catalog) reg = VL_CATALOG_INIT;
	struct vl_buf out = VL_BUF_INIT;
	int rc;

	if (vl_catalog_load(&reg, path, true, err) < 0)
		return -1;
	vl_buf_append(&out, "; images registered with 'vmlab image pull URL --name NAME'\n\n");
	for (size_t i = 0; i < reg.n; i++) {
		if (vl_streq(reg.items[i].name, e->name))
			continue;
		VL_AUTOFREE char *s = vl_catalog_entry_format(&reg.items[i]);
		vl_buf_append(&out, s);
	}
	VL_AUTOFREE char *s = vl_catalog_entry_format(e);
	vl_buf_append(&out, s);
	rc = image_write_atomic(path, vl_buf_str(&out), err);
	vl_buf_release(&out);
	return rc;
}

static int unregister_entry(const char *cache, const char *name, bool *found, struct vl_err *err)
{
	VL_AUTOFREE char *path = image_path_join(cache, REGISTERED);
	VL_AUTO(vl_catalog) reg = VL_CATALOG_INIT;
	struct vl_buf out = VL_BUF_INIT;
	int rc;

	*found = false;
	if (vl_catalog_load(&reg, path, true, err) < 0)
		return -1;
	if (!vl_catalog_find(&reg, name))
		return 0;
	*found = true;
	vl_buf_append(&out, "; images registered with 'vmlab image pull URL --name NAME'\n\n");
	for (size_t i = 0; i < reg.n; i++) {
		if (vl_streq(reg.items[i].name, name))
			continue;
		VL_AUTOFREE char *s = vl_catalog_entry_format(&reg.items[i]);
		vl_buf_append(&out, s);
	}
	rc = image_write_atomic(path, vl_buf_str(&out), err);
	vl_buf_release(&out);
	return rc;
}

/* ---- pull ---------------------------------------------------------------- */

int vl_image_pull(const struct vl_config *cfg, const char *const *refs, size_t n,
		  const struct vl_image_pull_opts *opts, struct vl_image_info *out,
		  const struct vl_events *evs, struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);
	VL_AUTOFREE char *partial = NULL;
	VL_AUTO(vl_catalog) cat = VL_CATALOG_INIT;
	struct image_job *jobs;
	int rc = 0;

	image_fetch_init();
	memset(out, 0, n * sizeof(*out));
	if (opts && opts->name && (n != 1 || vl_image_ref_kind(refs[0]) == VL_REF_NAME))
		return vl_err_set(err, VL_E_USAGE, "--name registers one URL or path under a name");
	if (opts && opts->name && !vl_image_name_valid(opts->name))
		return vl_err_set(err, VL_E_USAGE, "image name '%s': use [a-z0-9._-], at most %d",
				  opts->name, VL_IMAGE_NAME_MAX);
	partial = image_path_join(cache, IMAGE_PARTIAL_DIR);
	if (image_mkdir_p(partial, err) < 0 || catalogs_load(cfg, cache, &cat, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (resolve_with(&cat, cache, refs[i], opts ? opts->name : NULL,
				 opts && (opts->sha256 || (opts->insecure && !opts->keep_catalog)),
				 &out[i], err) < 0) {
			vl_image_infos_free(NULL, 0);
			for (size_t k = 0; k <= i; k++)
				vl_image_info_release(&out[k]);
			return -1;
		}
	}
	jobs = vl_calloc(n, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		struct image_job *j = &jobs[i];
		j->info = &out[i];
		j->evs = evs;
		j->cache = cache;
		j->fd = j->out_fd = j->lock_fd = j->v.dfd = -1;
		j->stall = cfg && cfg->stall_timeout ? cfg->stall_timeout : DEFAULT_STALL;
		j->ca_file = cfg ? cfg->ca_file : NULL;
		j->max_size = cfg && cfg->max_image_size ? cfg->max_image_size : DEFAULT_MAX_IMAGE;
		j->state = IMAGE_JOB_LOCK;
		j->err = (struct vl_err)VL_ERR_INIT;
		/* the same image twice in one call is one download */
		for (size_t k = 0; k < i; k++)
			if (vl_streq(out[k].name, out[i].name))
				j->state = IMAGE_JOB_DONE;
		if (j->state == IMAGE_JOB_LOCK && out[i].cached && !(opts && opts->name))
			j->state = IMAGE_JOB_DONE;
		if (j->state == IMAGE_JOB_LOCK && image_job_lock_open(j) < 0)
			j->state = IMAGE_JOB_FAIL;
	}
	image_fetch_run(jobs, n, opts);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].state != IMAGE_JOB_DONE) {
			if (rc == 0)
				*err = jobs[i].err;
			else
				vl_event_warn(evs, NULL, "%s", jobs[i].err.msg);
			rc = -1;
		}
	}
	/* duplicates share the first one's result */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!out[i].cached)
			image_cache_lookup(cache, &out[i]);
	if (rc == 0 && opts && opts->name) {
		struct vl_catalog_entry e;
		vl_catalog_entry_copy(&e, &out[0].entry);
		e.format = out[0].format;
		if (opts->sha256 && !e.digest) {
			e.digest = vl_hex_normalize(opts->sha256, 64);
			e.hash = VL_HASH_SHA256;
		}
		if (!e.digest && !e.checksum_url)
			e.insecure = true;
		rc = register_entry(cache, &e, err);
		vl_catalog_entry_release(&e);
		if (rc == 0)
			vl_event_info(evs, out[0].name, "registered: profiles can say image = %s",
				      out[0].name);
	}
	for (size_t i = 0; i < n; i++)
		image_job_release(&jobs[i]);
	free(jobs);
	if (rc < 0)
		for (size_t i = 0; i < n; i++)
			vl_image_info_release(&out[i]);
	return rc;
}

int vl_image_import(const struct vl_config *cfg, const char *path, const char *name,
		    const struct vl_image_info *base, struct vl_image_info *out,
		    const struct vl_events *evs, struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);
	const struct vl_image_pull_opts o = { .name = name };
	struct vl_catalog_entry e;
	int rc;

	if (vl_image_pull(cfg, &path, 1, &o, out, evs, err) < 0)
		return -1;
	/* a path registers as a root-login BIOS cloud-init image: the template
	 * boots as the image it was made from */
	vl_catalog_entry_copy(&e, &out->entry);
	free(e.user);
	e.user = vl_strdup(base->user ? base->user : "root");
	e.bios = base->bios;
	e.cloud_init = base->cloud_init;
	e.format = out->format;
	rc = register_entry(cache, &e, err);
	vl_catalog_entry_release(&e);
	if (rc < 0) {
		vl_image_info_release(out);
		return -1;
	}
	free(out->user);
	out->user = vl_strdup(base->user ? base->user : "root");
	out->bios = base->bios;
	out->cloud_init = base->cloud_init;
	return 0;
}

int vl_image_ensure(const struct vl_config *cfg, const char *const *refs, size_t n,
		    bool insecure, struct vl_image_info *out, const struct vl_events *evs,
		    struct vl_err *err)
{
	const struct vl_image_pull_opts o = { .insecure = insecure, .keep_catalog = true };

	return vl_image_pull(cfg, refs, n, &o, out, evs, err);
}

/* ---- list, rm, prune ---------------------------------------------------- */

static int info_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vl_image_info *)a)->name, ((const struct vl_image_info *)b)->name);
}

int vl_image_list(const struct vl_config *cfg, struct vl_image_info **out, size_t *n,
		  struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);
	VL_AUTO(vl_catalog) cat = VL_CATALOG_INIT;
	struct vl_image_info *v;
	size_t nc = 0, k = 0;
	char **cached;

	*out = NULL;
	*n = 0;
	if (catalogs_load(cfg, cache, &cat, err) < 0)
		return -1;
	cached = image_cached_names(cache, &nc);
	v = vl_calloc(cat.n + nc + 1, sizeof(*v));
	for (size_t i = 0; i < cat.n; i++) {
		info_from_entry(&v[k], &cat.items[i]);
		v[k].in_catalog = true;
		image_cache_lookup(cache, &v[k]);
		k++;
	}
	for (size_t i = 0; i < nc; i++) {
		if (!vl_catalog_find(&cat, cached[i])) {
			v[k].name = vl_strdup(cached[i]);
			image_cache_lookup(cache, &v[k]);
			k++;
		}
		free(cached[i]);
	}
	free(cached);
	qsort(v, k, sizeof(*v), info_cmp);
	*out = v;
	*n = k;
	return 0;
}

static int rm_impl(const char *cache, const char *name, bool unregister, struct vl_err *err)
{
	VL_AUTOFREE char *lock = NULL;
	bool registered = false, removed;
	int fd;

	if (!vl_image_name_valid(name))
		return vl_err_set(err, VL_E_USAGE, "'%s' is not an image name", name);
	/* not while another vmlab downloads it */
	lock = vl_strfmt("%s/" IMAGE_PARTIAL_DIR "/%s.lock", cache, name);
	fd = open(lock, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return vl_err_set(err, VL_E_LOCKED, "image %s is being pulled by another vmlab", name);
	}
	removed = image_cache_remove(cache, name);
	/* the lock file stays: unlinking it would let two pullers lock two files */
	if (fd >= 0)
		close(fd);
	if (unregister && unregister_entry(cache, name, &registered, err) < 0)
		return -1;
	if (!removed && !registered)
		return vl_err_set(err, VL_E_NOTFOUND, "image %s is not cached", name);
	return 0;
}

int vl_image_rm(const struct vl_config *cfg, const char *name, struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);

	return rm_impl(cache, name, true, err);
}

int vl_image_prune(const struct vl_config *cfg, const char *const *keep, size_t n_keep,
		   bool dry_run, char ***removed, size_t *n_removed, struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);
	VL_AUTOFREE char *regpath = image_path_join(cache, REGISTERED);
	VL_AUTO(vl_catalog) reg = VL_CATALOG_INIT;
	struct vl_err rerr = VL_ERR_INIT;
	size_t nc = 0;
	char **cached = image_cached_names(cache, &nc);

	vl_catalog_load(&reg, regpath, true, &rerr);
	*removed = vl_calloc(nc + 1, sizeof(char *));
	*n_removed = 0;
	for (size_t i = 0; i < nc; i++) {
		const struct vl_catalog_entry *e = vl_catalog_find(&reg, cached[i]);
		VL_AUTOFREE char *src = e && e->url ? vl_file_url_path(e->url) : NULL;
		/* registered from a file that is gone (image save's templates): the
		 * cache holds the only copy, it could never be pulled again */
		bool kept = src && access(src, F_OK) != 0;
		for (size_t k = 0; k < n_keep; k++)
			kept |= vl_streq(keep[k], cached[i]);
		if (kept) {
			free(cached[i]);
			continue;
		}
		/* registrations stay: a pruned image can be pulled again by name */
		if (!dry_run && rm_impl(cache, cached[i], false, err) < 0 && err->code == VL_E_LOCKED) {
			free(cached[i]);
			continue;
		}
		(*removed)[(*n_removed)++] = cached[i];
	}
	free(cached);
	vl_err_clear(err);
	if (!dry_run)
		image_prune_partials(cache);
	return 0;
}
