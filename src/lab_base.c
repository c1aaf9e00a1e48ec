/* Base images inside the pool. QEMU only ever opens volumes of a libvirt
 * pool: an image from the cache (which may sit in a 0700 home, or on
 * another machine than the libvirt host) is uploaded once into the host's
 * pool through the storage API, verified there, and named by its content's
 * SHA-256 so every lab of every project shares one copy. Overlays are
 * backed by that volume. `image prune` removes one no overlay uses. */
#include "host.h"
#include "lab_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/str.h"

/* A complete upload ends with the file's last bytes (uploads are
 * sequential): comparing the tail tells a finished copy from one that an
 * interrupted up left, without reading it all back. */
#define TAIL_BYTES (1u << 20)

struct compare {
	const char *want;
	size_t len, off;
	bool same;
};

static int compare_sink(void *ud, const char *buf, size_t n, struct vl_err *err)
{
	struct compare *c = ud;
	(void)err;

	if (c->off + n > c->len || memcmp(c->want + c->off, buf, n) != 0)
		c->same = false;
	c->off += n;
	return 0;
}

static int hash_sink(void *ud, const char *buf, size_t n, struct vl_err *err)
{
	(void)err;
	vl_sha256_update(ud, buf, n);
	return 0;
}

static int read_tail(const char *path, uint64_t size, char **out, size_t *len, struct vl_err *err)
{
	size_t n = size < TAIL_BYTES ? (size_t)size : TAIL_BYTES;
	char *buf = vl_malloc(n + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r = -1;

	if (fd >= 0) {
		r = pread(fd, buf, n, (off_t)(size - n));
		close(fd);
	}
	if (r != (ssize_t)n) {
		free(buf);
		return vl_err_sys(err, VL_E_IO, r < 0 ? errno : EIO, "cannot read %s", path);
	}
	*out = buf;
	*len = n;
	return 0;
}

static bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Read the whole volume back and compare its SHA-256 with the image's. */
static int verify_full(struct vl_virt *v, const struct vl_events *evs, const char *pool, const char *vol,
		       const char *want_sha, bool *ok, struct vl_err *err)
{
	char got[VL_SHA256_HEXLEN + 1];
	struct vl_sha256 h;

	vl_sha256_init(&h);
	if (vl_virt_volume_download(v, evs, pool, vol, 0, 0, hash_sink, &h, err) < 0) {
		vl_sha256_release(&h);
		return -1;
	}
	vl_sha256_final(&h, got);
	*ok = vl_streq(got, want_sha);
	return 0;
}

/* Is the existing volume a complete copy of img? Size, then the tail (or
 * the whole content when the image ends in zeros, which a tail cannot
 * tell from an unwritten one). */
static int is_complete(struct vl_virt *v, const struct vl_events *evs, const char *pool, const char *vol,
		       const struct vl_image_info *img, bool *ok, struct vl_err *err)
{
	VL_AUTOFREE char *tail = NULL;
	uint64_t physical = 0;
	size_t n = 0;

	*ok = false;
	if (vl_virt_volume_physical(v, pool, vol, &physical, err) < 0)
		return -1;
	if (physical != img->size)
		return 0;
	if (img->size == 0)
		return *ok = true, 0;
	if (read_tail(img->path, img->size, &tail, &n, err) < 0)
		return -1;
	if (all_zero(tail, n))
		return verify_full(v, evs, pool, vol, img->content_sha256, ok, err);
	struct compare c = { tail, n, 0, true };
	if (vl_virt_volume_download(v, evs, pool, vol, img->size - n, n, compare_sink, &c, err) < 0)
		return -1;
	*ok = c.same && c.off == n;
	return 0;
}

int lab_base_ensure(struct lab *lab, struct vl_image_info *img, char **path, double *upload_s,
		    double *verify_s, struct vl_err *err)
{
	struct vl_ctx *ctx = lab->ctx;
	const char *pool = ctx->config.pool_name;
	const struct vl_events *evs = &ctx->events;
	VL_AUTOFREE char *vol = NULL, *cache = NULL, *lock_path = NULL;
	struct vl_lock lock = VL_LOCK_INIT;
	bool exists = false, ok = false;
	int rc = -1;

	*path = NULL;
	/* the cache refuses such files, but one may have been put there by hand */
	if (vl_image_file_check(img->path, img->name, err) < 0)
		return -1;
	if (vl_image_content_sha256(&ctx->config, img, err) < 0)
		return -1;
	vol = vl_plan_base_volume(img->content_sha256, vl_image_format_name(img->format));
	/* two ups on this machine sharing the image upload it once: the second
	 * waits here, then finds it complete */
	cache = vl_image_cache_dir(&ctx->config);
	struct vl_buf lp = VL_BUF_INIT;
	vl_buf_printf(&lp, "%s/.%s.lock", cache, vol);
	lock_path = vl_buf_steal(&lp);
	if (vl_lock_take(&lock, lock_path, 3600, err) < 0)
		return -1;
	if (vl_virt_volume_exists(ctx->host->virt, pool, vol, &exists, err) < 0)
		goto out;
	if (exists && is_complete(ctx->host->virt, evs, pool, vol, img, &ok, err) < 0)
		goto out;
	if (exists && !ok)
		vl_event_warn(evs, img->name, "base volume %s in pool %s is incomplete (an "
			      "interrupted upload): uploading it again", vol, pool);
	if (!ok) {
		double t0 = vl_now_mono();
		VL_AUTOFREE char *what = vl_strfmt("base volume %s of image %s", vol, img->name);
		struct vl_err quiet = VL_ERR_INIT;
		/* an incomplete copy gives its space back first */
		if (exists && vl_virt_volume_delete(ctx->host->virt, pool, vol, err) < 0)
			goto out;
		if (lab_pool_room(ctx, what, img->size, err) < 0)
			goto out;
		vl_event_info(evs, img->name, "uploading into pool %s as %s (%.1f MiB)", pool, vol,
			      (double)img->size / (1 << 20));
		if (vl_virt_volume_upload(ctx->host->virt, &lab->ctx->events, pool, vol, img->path, err) < 0) {
			vl_virt_volume_delete(ctx->host->virt, pool, vol, &quiet);
			lab_pool_full(ctx, what, img->size, err);
			goto out;
		}
		double took = vl_now_mono() - t0, t1 = vl_now_mono();
		if (verify_full(ctx->host->virt, evs, pool, vol, img->content_sha256, &ok, err) < 0 || !ok) {
			struct vl_err ignore = VL_ERR_INIT;
			vl_virt_volume_delete(ctx->host->virt, pool, vol, &ignore);
			if (!ok && err->code == VL_OK)
				vl_err_set(err, VL_E_CHECKSUM, "base volume %s in pool %s does not read back "
					   "as %s (sha256 %s): removed", vol, pool, img->name,
					   img->content_sha256);
			goto out;
		}
		*upload_s += took;
		*verify_s += vl_now_mono() - t1;
		vl_event_info(evs, img->name, "uploaded in %.1f s (%.0f MiB/s), read back and verified "
			      "in %.1f s", took, took > 0 ? (double)img->size / (1 << 20) / took : 0,
			      vl_now_mono() - t1);
	}
	rc = vl_virt_volume_path(ctx->host->virt, pool, vol, path, err);
out:
	vl_lock_release(&lock);
	return rc;
}

void vl_base_vols_free(struct vl_base_vol *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].volume);
		free(v[i].path);
	}
	free(v);
}

int lab_base_scan(struct vl_ctx *ctx, struct vl_base_vol **out, size_t *n, char ***backings,
		  size_t *n_backings, struct vl_err *err)
{
	const char *pool = ctx->config.pool_name;
	char **vols = NULL, **backing = NULL;
	size_t nv = 0, nb = 0;
	bool exists;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (backings) {
		*backings = NULL;
		*n_backings = 0;
	}
	if (vl_virt_pool_exists(ctx->host->virt, pool, &exists, err) < 0)
		return -1;
	if (!exists)
		return 0;
	if (vl_virt_pool_refresh(ctx->host->virt, &ctx->events, pool, err) < 0 ||
	    vl_virt_volume_list(ctx->host->virt, pool, "vmlab-", &vols, &nv, err) < 0)
		return -1;
	backing = vl_calloc(nv + 1, sizeof(char *));
	*out = vl_calloc(nv + 1, sizeof(**out));
	for (size_t i = 0; i < nv; i++) {
		char *b = NULL;
		if (vl_virt_volume_backing(ctx->host->virt, pool, vols[i], &b, err) < 0)
			goto out;
		if (b)
			backing[nb++] = b;
	}
	for (size_t i = 0; i < nv; i++) {
		struct vl_base_vol *bv;
		if (!vl_plan_is_base_volume(vols[i]))
			continue;
		bv = &(*out)[(*n)++];
		bv->volume = vl_strdup(vols[i]);
		if (vl_virt_volume_path(ctx->host->virt, pool, vols[i], &bv->path, err) < 0 ||
		    vl_virt_volume_physical(ctx->host->virt, pool, vols[i], &bv->size, err) < 0)
			goto out;
		for (size_t k = 0; k < nb && !bv->in_use; k++)
			bv->in_use = vl_streq(backing[k], bv->path);
	}
	rc = 0;
	if (backings) {
		*backings = vl_steal(&backing);
		*n_backings = nb;
	}
out:
	if (rc < 0) {
		vl_base_vols_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	vl_virt_name_list_free(vols, nv);
	vl_virt_name_list_free(backing, nb);
	return rc;
}

int vl_lab_base_volumes(struct vl_ctx *ctx, struct vl_base_vol **out, size_t *n,
			struct vl_err *err)
{
	return lab_base_scan(ctx, out, n, NULL, NULL, err);
}

int vl_lab_base_remove(struct vl_ctx *ctx, const char *volume, struct vl_err *err)
{
	struct vl_base_vol *all = NULL;
	size_t n = 0;
	int rc = 0;

	if (!vl_plan_is_base_volume(volume))
		return vl_err_set(err, VL_E_USAGE, "%s is not a vmlab base volume", volume);
	if (vl_lab_base_volumes(ctx, &all, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (vl_streq(all[i].volume, volume) && all[i].in_use)
			rc = vl_err_set(err, VL_E_EXISTS, "base volume %s is in use by a lab", volume);
	vl_base_vols_free(all, n);
	if (rc == 0)
		rc = vl_virt_volume_delete(ctx->host->virt, ctx->config.pool_name, volume, err);
	return rc;
}
