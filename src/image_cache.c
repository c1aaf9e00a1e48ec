/* The image cache on disk: where it is, what a cached image's files and
 * metadata say, partial downloads and their pruning, and the small files
 * written by rename. No network here. */
#include "image_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/size.h"
#include "util/str.h"

char *image_path_join(const char *a, const char *b)
{
	struct vl_buf buf = VL_BUF_INIT;

	vl_buf_printf(&buf, "%s/%s", a, b);
	return vl_buf_steal(&buf);
}

int image_mkdir_p(const char *path, struct vl_err *err)
{
	VL_AUTOFREE char *p = vl_strdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return vl_err_sys(err, VL_E_IO, errno, "cannot create %s", p);
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return vl_err_sys(err, VL_E_IO, errno, "cannot create %s", p);
	return 0;
}

/* A small cache file (metadata, a sidecar), or NULL if missing or unreadable. */
char *image_read_small(const char *path)
{
	char *text = NULL;
	size_t len;

	return vl_file_read(path, 1u << 20, &text, &len, NULL) == 0 ? text : NULL;
}

/* Small files of the cache (metadata, registrations): readers see the old
 * content or the new, never half. */
int image_write_atomic(const char *path, const char *text, struct vl_err *err)
{
	return vl_file_write_atomic(path, text, strlen(text), 0644, err);
}

void image_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

uint64_t image_free_bytes(const char *dir)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) < 0)
		return UINT64_MAX;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

int image_job_write_failed(struct image_job *j, struct vl_err *e, const char *path, int en)
{
	char need[32], have[32];

	if (en != ENOSPC && en != EDQUOT)
		return vl_err_set(e, VL_E_IO, "%s (%s): cannot write %s: %s", j->info->name,
				  j->info->url, path, strerror(en));
	vl_human_bytes(have, sizeof(have), (double)image_free_bytes(j->cache), VL_SIZE_IEC);
	if (j->expect_total > 0 && !j->xz) {
		vl_human_bytes(need, sizeof(need), (double)j->expect_total, VL_SIZE_IEC);
		return vl_err_set(e, VL_E_IO, "%s (%s): no space left in %s: the image needs %s "
				  "(%s free); nothing was cached", j->info->name, j->info->url,
				  j->cache, need, have);
	}
	vl_human_bytes(need, sizeof(need), (double)(j->xz ? j->out_written : j->written),
		       VL_SIZE_IEC);
	return vl_err_set(e, VL_E_IO, "%s (%s): no space left in %s after %s of the image "
			  "(%s free); nothing was cached", j->info->name, j->info->url, j->cache,
			  need, have);
}

int vl_image_file_check(const char *path, const char *name, struct vl_err *err)
{
	unsigned char hdr[VL_QCOW2_HEADER_MIN];
	char bf[256] = "";
	uint64_t off;
	uint32_t len;
	const char *why;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "cannot open %s", path);
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n < 0) {
		int en = errno;
		close(fd);
		return vl_err_sys(err, VL_E_IO, en, "cannot read %s", path);
	}
	why = vl_qcow2_unsafe(hdr, (size_t)n, &off, &len);
	/* name what the backing file points at: the reason it is refused */
	if (why && len > 0 && pread(fd, bf, len < sizeof(bf) ? len : sizeof(bf) - 1, (off_t)off) > 0) {
		for (char *c = bf; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
				*c = '?';
	}
	close(fd);
	if (!why)
		return 0;
	return vl_err_set(err, VL_E_FAIL, "%s%s%srefused: %s%s%s%s; a vmlab image must be "
			  "self-contained", name ? "image " : "", name ? name : "", name ? " " : "",
			  why, bf[0] ? " (" : "", bf, bf[0] ? ")" : "");
}

char *vl_image_cache_dir(const struct vl_config *cfg)
{
	const char *e;

	if (cfg && cfg->cache_dir && *cfg->cache_dir)
		return vl_strdup(cfg->cache_dir);
	if ((e = getenv("VMLAB_CACHE")) && *e)
		return vl_strdup(e);
	if ((e = getenv("XDG_CACHE_HOME")) && *e)
		return image_path_join(e, "vmlab/images");
	return vl_strfmt("%s/.cache/vmlab/images", getenv("HOME") ? getenv("HOME") : "/tmp");
}

/* Fill the cached part of info from <cache>/<name>.{qcow2,raw} + .meta. */
void image_cache_lookup(const char *cache, struct vl_image_info *info)
{
	static const enum vl_image_format fmts[] = { VL_IMG_QCOW2, VL_IMG_RAW };
	struct stat st;

	free(info->path);
	info->path = NULL;
	info->cached = false;
	for (size_t i = 0; i < VL_ARRAY_SIZE(fmts); i++) {
		char *p = vl_cache_image_path(cache, info->name, fmts[i]);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			info->path = p;
			info->format = fmts[i];
			info->size = (uint64_t)st.st_size;
			info->virtual_size = info->size;
			info->pulled = st.st_mtime;
			info->cached = true;
			break;
		}
		free(p);
	}
	if (!info->cached)
		return;
	VL_AUTOFREE char *mp = vl_cache_meta_path(cache, info->name);
	VL_AUTOFREE char *text = image_read_small(mp);
	struct vl_cache_meta m;
	if (text && vl_cache_meta_parse(&m, text, NULL) == 0) {
		if (m.virtual_size)
			info->virtual_size = m.virtual_size;
		if (m.pulled)
			info->pulled = m.pulled;
		if (!info->url && m.url)
			info->url = vl_strdup(m.url);
		free(info->content_sha256);
		info->content_sha256 = vl_steal(&m.content_sha256);
		vl_cache_meta_release(&m);
	}
}

void image_job_remove_partial(struct image_job *j)
{
	if (j->part)
		unlink(j->part);
	if (j->part_meta)
		unlink(j->part_meta);
	if (j->img_part)
		unlink(j->img_part);
}

/* Names of cached images: files <name>.qcow2 / <name>.raw in the cache. */
char **image_cached_names(const char *cache, size_t *n)
{
	DIR *d = opendir(cache);
	struct dirent *de;
	char **names = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		const char *s = de->d_name;
		size_t len = strlen(s), cut = 0;
		if (vl_str_endswith(s, ".qcow2"))
			cut = 6;
		else if (vl_str_endswith(s, ".raw"))
			cut = 4;
		if (!cut || len <= cut)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			names = vl_realloc(names, cap * sizeof(*names));
		}
		names[(*n)++] = vl_strndup(s, len - cut);
	}
	closedir(d);
	return names;
}

bool image_cache_remove(const char *cache, const char *name)
{
	static const enum vl_image_format fmts[] = { VL_IMG_QCOW2, VL_IMG_RAW };
	bool any = false;

	for (size_t i = 0; i < VL_ARRAY_SIZE(fmts); i++) {
		VL_AUTOFREE char *p = vl_cache_image_path(cache, name, fmts[i]);
		any |= unlink(p) == 0;
	}
	VL_AUTOFREE char *m = vl_cache_meta_path(cache, name);
	unlink(m);
	static const char *const parts[] = { "part", "part.meta", "img.part" };
	for (size_t i = 0; i < VL_ARRAY_SIZE(parts); i++) {
		VL_AUTOFREE char *p = vl_strfmt("%s/" IMAGE_PARTIAL_DIR "/%s.%s", cache, name, parts[i]);
		any |= unlink(p) == 0;
	}
	return any;
}

/* Partial downloads nobody is pulling right now (their lock is free). */
void image_prune_partials(const char *cache)
{
	VL_AUTOFREE char *dir = image_path_join(cache, IMAGE_PARTIAL_DIR);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!vl_str_endswith(de->d_name, ".part.meta"))
			continue;
		VL_AUTOFREE char *name = vl_strndup(de->d_name, strlen(de->d_name) - 10);
		VL_AUTOFREE char *lock = vl_strfmt("%s/%s.lock", dir, name);
		int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		static const char *const parts[] = { "part", "part.meta", "img.part" };
		for (size_t i = 0; i < VL_ARRAY_SIZE(parts); i++) {
			VL_AUTOFREE char *p = vl_strfmt("%s/%s.%s", dir, name, parts[i]);
			unlink(p);
		}
		close(fd);
	}
	closedir(d);
}
