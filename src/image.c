/* The image cache and downloads: the only file that includes libcurl.
 * Pulls run in parallel on one curl multi handle; bytes are hashed (and xz
 * decompressed) as they arrive, and a file enters the cache only by rename
 * after its checksum matched. Decisions live in catalog.c. */
#include "image.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lzma.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/datadir.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/str.h"

#define PARTIAL_DIR "partial"
#define REGISTERED "registered.ini"
#define IO_BUF (1u << 20)
#define WRITEBACK_CHUNK (8u << 20)
#define RING_N 16             /* IO_BUF slots between the receiver and the hasher */
#define CHECKSUM_FILE_MAX (8u << 20)
#define DEFAULT_STALL 60

/* ---- small file helpers ------------------------------------------------ */

static char *path_join(const char *a, const char *b)
{
	struct vl_buf buf = VL_BUF_INIT;

	vl_buf_printf(&buf, "%s/%s", a, b);
	return vl_buf_steal(&buf);
}

static char *path_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *path_fmt(const char *fmt, ...)
{
	struct vl_buf buf = VL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vl_buf_vprintf(&buf, fmt, ap);
	va_end(ap);
	return vl_buf_steal(&buf);
}

static int mkdir_p(const char *path, struct vl_err *err)
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
static char *read_small(const char *path)
{
	char *text = NULL;
	size_t len;

	return vl_file_read(path, 1u << 20, &text, &len, NULL) == 0 ? text : NULL;
}

/* Small files of the cache (metadata, registrations): readers see the old
 * content or the new, never half. */
static int write_atomic(const char *path, const char *text, struct vl_err *err)
{
	return vl_file_write_atomic(path, text, strlen(text), 0644, err);
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- catalogs ---------------------------------------------------------- */

char *vl_image_cache_dir(const struct vl_config *cfg)
{
	const char *e;

	if (cfg && cfg->cache_dir && *cfg->cache_dir)
		return vl_strdup(cfg->cache_dir);
	if ((e = getenv("VMLAB_CACHE")) && *e)
		return vl_strdup(e);
	if ((e = getenv("XDG_CACHE_HOME")) && *e)
		return path_join(e, "vmlab/images");
	return path_fmt("%s/.cache/vmlab/images", getenv("HOME") ? getenv("HOME") : "/tmp");
}

static char *user_catalog_path(void)
{
	const char *e;

	if ((e = getenv("XDG_CONFIG_HOME")) && *e)
		return path_join(e, "vmlab/images.ini");
	if ((e = getenv("HOME")) && *e)
		return path_join(e, ".config/vmlab/images.ini");
	return NULL;
}

/* The shipped catalog, found like profiles (vl_datadir_find: $VMLAB_IMAGES,
 * next to the binary, the installed data directory); NULL if none. */
static char *shipped_catalog_path(void)
{
	VL_AUTOFREE char *dir = vl_datadir_find("images", NULL);

	return dir ? path_join(dir, "catalog.ini") : NULL;
}

/* Order decides who wins: registered (--name), vmlab.conf catalogs, the
 * user's images.ini, shipped. */
static int catalogs_load(const struct vl_config *cfg, const char *cache, struct vl_catalog *c,
			 struct vl_err *err)
{
	VL_AUTOFREE char *reg = path_join(cache, REGISTERED);
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

/* ---- cache state -------------------------------------------------------- */

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

/* Fill the cached part of info from <cache>/<name>.{qcow2,raw} + .meta. */
static void cache_lookup(const char *cache, struct vl_image_info *info)
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
	VL_AUTOFREE char *text = read_small(mp);
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
		cache_lookup(cache, out);
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
			cache_lookup(cache, out);
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
	cache_lookup(cache, out);
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

/* ---- one download ------------------------------------------------------- */

enum job_state { J_LOCK, J_RUN, J_DONE, J_FAIL };

struct job {
	struct vl_image_info *info;
	const struct vl_events *evs;
	const char *cache;
	const char *register_as;       /* --name */
	enum job_state state;
	int lock_fd;
	bool told_wait;
	unsigned stall;

	enum vl_hash hash;
	char *expect;                  /* expected hex digest, NULL: unverified */
	char *part, *part_meta, *img_part;
	int fd, out_fd;                /* .part (published bytes), decompressed output (xz) */
	uint64_t offset;               /* bytes of .part at the start of this transfer */
	uint64_t written;              /* bytes of .part now */
	uint64_t out_written;          /* decompressed bytes (xz) */
	EVP_MD_CTX *md;
	lzma_stream lz;
	bool xz, lz_end;
	unsigned char *lzbuf;
	unsigned char head[64];
	size_t headlen;

	/* The verifier. The thread running curl only copies arriving bytes
	 * into a ring of IO_BUF slots; a hasher thread hashes (and decompresses)
	 * each slot while a writer thread stores it in .part, with O_DIRECT
	 * where the filesystem allows (no second copy through the page cache,
	 * and the data is on disk by the time it is verified). So verifying
	 * costs no time on the receiving path. Until drained (v_drain) only the
	 * hasher touches md, lz, out_fd and head, and only the writer v.woff. */
	struct {
		pthread_t hasher, writer;
		bool running;
		pthread_mutex_t mu;
		pthread_cond_t cv_data, cv_space;
		unsigned char *buf[RING_N];
		size_t len[RING_N];
		bool store[RING_N];      /* write this slot (not for a resumed prefix) */
		uint64_t produced, hashed, stored;
		size_t fill;             /* bytes in the slot being filled */
		bool stop;
		int dfd;                 /* O_DIRECT descriptor of .part, -1: buffered */
		uint64_t woff;           /* .part offset of the next slot */
		uint64_t unsynced;       /* buffered bytes whose writeback is not started */
		struct vl_err err;       /* the first failure of hasher or writer */
	} v;

	CURL *h;
	bool body_started;
	long range_start;              /* from Content-Range, -1 if none */
	bool keep_part;                /* failure worth resuming */
	double t0, last_ev;
	char curl_err[CURL_ERROR_SIZE];
	struct vl_err err;
};

static int fail_into(struct job *j, struct vl_err *e, enum vl_errcode code, const char *fmt,
		     va_list ap) __attribute__((format(printf, 4, 0)));
static int fail_into(struct job *j, struct vl_err *e, enum vl_errcode code, const char *fmt,
		     va_list ap)
{
	char msg[768];

	if (e->code != VL_OK)
		return -1;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return vl_err_set(e, code, "%s (%s): %s", j->info->name, j->info->url, msg);
}

/* The first failure of a job wins: later ones are consequences. */
static int job_fail(struct job *j, enum vl_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int job_fail(struct job *j, enum vl_errcode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_into(j, &j->err, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* The same, from the hasher or writer thread. */
static int hasher_fail(struct job *j, enum vl_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int hasher_fail(struct job *j, enum vl_errcode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&j->v.mu);
	fail_into(j, &j->v.err, code, fmt, ap);
	pthread_mutex_unlock(&j->v.mu);
	va_end(ap);
	return -1;
}

static void v_stop(struct job *j);

static void job_close_files(struct job *j)
{
	v_stop(j);
	if (j->fd >= 0)
		close(j->fd);
	if (j->out_fd >= 0)
		close(j->out_fd);
	j->fd = j->out_fd = -1;
	if (j->xz)
		lzma_end(&j->lz);
	j->xz = false;
	EVP_MD_CTX_free(j->md);
	j->md = NULL;
}

static void job_remove_partial(struct job *j)
{
	if (j->part)
		unlink(j->part);
	if (j->part_meta)
		unlink(j->part_meta);
	if (j->img_part)
		unlink(j->img_part);
}

static void job_release(struct job *j)
{
	job_close_files(j);
	if (j->h)
		curl_easy_cleanup(j->h);
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	free(j->expect);
	free(j->part);
	free(j->part_meta);
	free(j->img_part);
	free(j->lzbuf);
	for (int i = 0; i < RING_N; i++)
		free(j->v.buf[i]);
}

/* Decompressed (or plain) image bytes: remember the head for the format. */
static void note_head(struct job *j, const unsigned char *p, size_t n)
{
	size_t take = sizeof(j->head) - j->headlen;

	if (take > n)
		take = n;
	memcpy(j->head + j->headlen, p, take);
	j->headlen += take;
}

static int xz_feed(struct job *j, const unsigned char *p, size_t n, bool finish)
{
	j->lz.next_in = p;
	j->lz.avail_in = n;
	while (j->lz.avail_in > 0 || finish) {
		j->lz.next_out = j->lzbuf;
		j->lz.avail_out = IO_BUF;
		lzma_ret r = lzma_code(&j->lz, finish ? LZMA_FINISH : LZMA_RUN);
		size_t got = IO_BUF - j->lz.avail_out;
		if (got) {
			note_head(j, j->lzbuf, got);
			if (vl_fd_write_all(j->out_fd, j->lzbuf, got) < 0)
				return hasher_fail(j, VL_E_IO, "cannot write %s: %s", j->img_part,
						   strerror(errno));
			j->out_written += got;
		}
		if (r == LZMA_STREAM_END) {
			j->lz_end = true;
			break;
		}
		if (r != LZMA_OK)
			return hasher_fail(j, VL_E_FAIL, "xz data is corrupt (lzma error %d)", (int)r);
		if (finish && got == 0)
			break;
	}
	return 0;
}

/* The hasher's work on every published byte: hash, decompress. */
static int digest(struct job *j, const unsigned char *p, size_t n)
{
	if (j->md && EVP_DigestUpdate(j->md, p, n) != 1)
		return hasher_fail(j, VL_E_FAIL, "hashing failed");
	if (j->xz)
		return xz_feed(j, p, n, false);
	note_head(j, p, n);
	return 0;
}

static void *hasher_main(void *arg)
{
	struct job *j = arg;

	pthread_mutex_lock(&j->v.mu);
	for (;;) {
		while (j->v.hashed == j->v.produced && !j->v.stop)
			pthread_cond_wait(&j->v.cv_data, &j->v.mu);
		if (j->v.hashed == j->v.produced)
			break;
		int slot = (int)(j->v.hashed % RING_N);
		bool failed = j->v.err.code != VL_OK;
		pthread_mutex_unlock(&j->v.mu);
		if (!failed)
			digest(j, j->v.buf[slot], j->v.len[slot]);
		pthread_mutex_lock(&j->v.mu);
		j->v.hashed++;
		pthread_cond_broadcast(&j->v.cv_space);
	}
	pthread_mutex_unlock(&j->v.mu);
	return NULL;
}

static int pwrite_full(int fd, const unsigned char *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int store(struct job *j, const unsigned char *p, size_t n)
{
	/* full slots go direct; the tail (not a block multiple) through the cache */
	if (j->v.dfd >= 0 && n == IO_BUF) {
		if (pwrite_full(j->v.dfd, p, n, j->v.woff) == 0)
			return 0;
		if (errno != EINVAL)
			return -1;
		close(j->v.dfd);   /* the filesystem refuses O_DIRECT after all */
		j->v.dfd = -1;
	}
	if (pwrite_full(j->fd, p, n, j->v.woff) < 0)
		return -1;
	/* start writeback as we go, so the fdatasync before the rename into the
	 * cache finds little left to flush */
	j->v.unsynced += n;
	if (j->v.unsynced >= WRITEBACK_CHUNK) {
		sync_file_range(j->fd, (off_t)(j->v.woff + n - j->v.unsynced), (off_t)j->v.unsynced,
				SYNC_FILE_RANGE_WRITE);
		j->v.unsynced = 0;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct job *j = arg;

	pthread_mutex_lock(&j->v.mu);
	for (;;) {
		while (j->v.stored == j->v.produced && !j->v.stop)
			pthread_cond_wait(&j->v.cv_data, &j->v.mu);
		if (j->v.stored == j->v.produced)
			break;
		int slot = (int)(j->v.stored % RING_N);
		bool failed = j->v.err.code != VL_OK, want = j->v.store[slot];
		pthread_mutex_unlock(&j->v.mu);
		if (want && !failed) {
			if (store(j, j->v.buf[slot], j->v.len[slot]) < 0)
				hasher_fail(j, VL_E_IO, "cannot write %s: %s", j->part, strerror(errno));
			j->v.woff += j->v.len[slot];
		}
		pthread_mutex_lock(&j->v.mu);
		j->v.stored++;
		pthread_cond_broadcast(&j->v.cv_space);
	}
	pthread_mutex_unlock(&j->v.mu);
	return NULL;
}

static int v_start(struct job *j)
{
	if (j->v.running)
		return 0;
	for (int i = 0; i < RING_N; i++)
		if (!j->v.buf[i] && posix_memalign((void **)&j->v.buf[i], 4096, IO_BUF) != 0)
			return job_fail(j, VL_E_FAIL, "out of memory");
	pthread_mutex_init(&j->v.mu, NULL);
	pthread_cond_init(&j->v.cv_data, NULL);
	pthread_cond_init(&j->v.cv_space, NULL);
	j->v.produced = j->v.hashed = j->v.stored = 0;
	j->v.fill = 0;
	j->v.stop = false;
	j->v.running = true;
	if (pthread_create(&j->v.hasher, NULL, hasher_main, j) != 0) {
		j->v.running = false;
		return job_fail(j, VL_E_FAIL, "cannot start the hashing thread");
	}
	if (pthread_create(&j->v.writer, NULL, writer_main, j) != 0) {
		pthread_mutex_lock(&j->v.mu);
		j->v.stop = true;
		pthread_cond_broadcast(&j->v.cv_data);
		pthread_mutex_unlock(&j->v.mu);
		pthread_join(j->v.hasher, NULL);
		j->v.running = false;
		return job_fail(j, VL_E_FAIL, "cannot start the writing thread");
	}
	return 0;
}

static void v_stop(struct job *j)
{
	if (!j->v.running)
		return;
	pthread_mutex_lock(&j->v.mu);
	j->v.stop = true;
	pthread_cond_broadcast(&j->v.cv_data);
	pthread_mutex_unlock(&j->v.mu);
	pthread_join(j->v.hasher, NULL);
	pthread_join(j->v.writer, NULL);
	pthread_mutex_destroy(&j->v.mu);
	pthread_cond_destroy(&j->v.cv_data);
	pthread_cond_destroy(&j->v.cv_space);
	if (j->v.dfd >= 0)
		close(j->v.dfd);
	j->v.dfd = -1;
	j->v.running = false;
}

/* Hand the slot being filled to the hasher and (if store_it) the writer,
 * then wait for a slot both are done with. */
static int v_submit(struct job *j, bool store_it)
{
	int slot = (int)(j->v.produced % RING_N);

	if (j->v.fill == 0)
		return 0;
	pthread_mutex_lock(&j->v.mu);
	j->v.len[slot] = j->v.fill;
	j->v.store[slot] = store_it;
	j->v.produced++;
	pthread_cond_broadcast(&j->v.cv_data);
	while (j->v.produced - (j->v.hashed < j->v.stored ? j->v.hashed : j->v.stored) >= RING_N)
		pthread_cond_wait(&j->v.cv_space, &j->v.mu);
	bool failed = j->v.err.code != VL_OK;
	pthread_mutex_unlock(&j->v.mu);
	j->v.fill = 0;
	return failed ? -1 : 0;
}

/* Wait until hasher and writer caught up; their failure becomes the job's. */
static int v_drain(struct job *j)
{
	pthread_mutex_lock(&j->v.mu);
	while (j->v.hashed < j->v.produced || j->v.stored < j->v.produced)
		pthread_cond_wait(&j->v.cv_space, &j->v.mu);
	pthread_mutex_unlock(&j->v.mu);
	if (j->v.err.code != VL_OK) {
		if (j->err.code == VL_OK)
			j->err = j->v.err;
		return -1;
	}
	return 0;
}

/* Received bytes: into the ring, a full slot at a time to writer and hasher. */
static int v_put(struct job *j, const unsigned char *p, size_t n)
{
	while (n > 0) {
		unsigned char *dst = j->v.buf[j->v.produced % RING_N];
		size_t take = IO_BUF - j->v.fill;
		if (take > n)
			take = n;
		memcpy(dst + j->v.fill, p, take);
		j->v.fill += take;
		p += take;
		n -= take;
		if (j->v.fill == IO_BUF && v_submit(j, true) < 0) {
			v_drain(j);
			return -1;
		}
	}
	return 0;
}

static const EVP_MD *evp_md(enum vl_hash h)
{
	return h == VL_HASH_SHA512 ? EVP_sha512() : EVP_sha256();
}

/* Start (or restart) the consumers at offset 0. */
static int job_reset_stream(struct job *j)
{
	EVP_MD_CTX_free(j->md);
	j->md = EVP_MD_CTX_new();
	if (!j->md || EVP_DigestInit_ex(j->md, evp_md(j->hash), NULL) != 1)
		return job_fail(j, VL_E_FAIL, "cannot initialise the hash");
	j->headlen = 0;
	j->written = 0;
	j->out_written = 0;
	j->lz_end = false;
	if (j->info->entry.comp == VL_COMP_XZ) {
		if (j->xz)
			lzma_end(&j->lz);
		j->lz = (lzma_stream)LZMA_STREAM_INIT;
		if (lzma_stream_decoder(&j->lz, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
			return job_fail(j, VL_E_FAIL, "cannot start the xz decoder");
		j->xz = true;
		if (!j->lzbuf)
			j->lzbuf = vl_malloc(IO_BUF);
		if (j->out_fd >= 0)
			close(j->out_fd);
		j->out_fd = open(j->img_part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (j->out_fd < 0)
			return job_fail(j, VL_E_IO, "cannot create %s: %s", j->img_part, strerror(errno));
	}
	return 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct job *j = ud;
	size_t n = size * nitems;
	unsigned long long a;

	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0)
		j->range_start = -1;   /* a new response (after a redirect) */
	else if (n > 20 && strncasecmp(buf, "content-range: bytes ", 21) == 0 &&
		 sscanf(buf + 21, "%llu-", &a) == 1)
		j->range_start = (long)a;
	return n;
}

/* First body bytes: decide between append (206), start over (200 to a Range
 * request) and failure (HTTP errors carry no image). */
static int body_start(struct job *j)
{
	long code = 0;
	char *scheme = NULL;

	j->body_started = true;
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(j->h, CURLINFO_SCHEME, &scheme);
	if (scheme && strcasecmp(scheme, "file") == 0)
		return 0;
	if (code >= 300)
		return -1;   /* reported at the end, from the status */
	if (j->offset > 0 && (code != 206 || j->range_start != (long)j->offset)) {
		vl_event_info(j->evs, j->info->name, "server ignored the range request; starting over");
		j->v.fill = 0;
		if (v_drain(j) < 0)
			return -1;
		if (ftruncate(j->fd, 0) < 0 || lseek(j->fd, 0, SEEK_SET) < 0)
			return job_fail(j, VL_E_IO, "cannot truncate %s: %s", j->part, strerror(errno));
		j->offset = 0;
		j->v.woff = 0;
		return job_reset_stream(j);
	}
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct job *j = ud;
	size_t n = size * nmemb;

	if (!j->body_started && body_start(j) < 0)
		return 0;
	if (v_put(j, (const unsigned char *)p, n) < 0)
		return 0;
	j->written += n;
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct job *j = ud;
	double t = vl_now_mono();

	(void)ultotal;
	(void)ulnow;
	if (t - j->last_ev < 0.25)
		return 0;
	j->last_ev = t;
	double rate = t > j->t0 ? (double)dlnow / (t - j->t0) : 0;
	vl_event_progress(j->evs, j->info->name, "download", j->offset + (uint64_t)dlnow,
			  dltotal > 0 ? j->offset + (uint64_t)dltotal : 0, rate);
	return 0;
}

static CURL *easy_new(struct job *j, const char *url)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* no total timeout for multi-GiB files; a stall fails instead */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)j->stall);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "vmlab/" VL_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* TLS verification is libcurl's default and is never switched off;
	 * proxies come from the environment (http_proxy, https_proxy, no_proxy) */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	return h;
}

/* One clear line for a transfer that did not complete. */
static void describe_curl_failure(struct job *j, CURLcode rc, const char *what)
{
	const char *detail = j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		job_fail(j, VL_E_NET, "cannot resolve host: %s", detail);
		break;
	case CURLE_COULDNT_CONNECT:
		job_fail(j, VL_E_NET, "cannot connect: %s", detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		job_fail(j, VL_E_NET, "TLS failure: %s", detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		job_fail(j, VL_E_TIMEOUT, "%s stalled: no data for %u seconds (after %llu bytes)",
			 what, j->stall, (unsigned long long)j->written);
		break;
	case CURLE_PARTIAL_FILE:
		job_fail(j, VL_E_NET, "connection closed early: short read after %llu bytes",
			 (unsigned long long)j->written);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		job_fail(j, VL_E_NET, "too many redirects");
		break;
	case CURLE_FILE_COULDNT_READ_FILE:
		job_fail(j, VL_E_NOTFOUND, "cannot read file: %s", detail);
		break;
	default:
		job_fail(j, VL_E_NET, "%s failed: %s", what, detail);
		break;
	}
}

/* The distribution's checksum file, small, fetched before the image. */
struct membuf {
	struct vl_buf b;
	bool too_big;
};

static size_t on_mem(char *p, size_t size, size_t nmemb, void *ud)
{
	struct membuf *m = ud;
	size_t n = size * nmemb;

	if (m->b.len + n > CHECKSUM_FILE_MAX) {
		m->too_big = true;
		return 0;
	}
	vl_buf_appendn(&m->b, p, n);
	return n;
}

static int fetch_expected(struct job *j)
{
	const struct vl_catalog_entry *e = &j->info->entry;
	struct membuf m = { VL_BUF_INIT, false };
	VL_AUTOFREE char *entry = NULL;
	long code = 0;
	CURLcode rc;
	CURL *h = easy_new(j, e->checksum_url);

	if (!h)
		return job_fail(j, VL_E_FAIL, "cannot create a curl handle");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_mem);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK || code >= 400) {
		if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
			job_fail(j, VL_E_NET, "checksum file %s: %s", e->checksum_url,
				 m.too_big ? "too large" : "HTTP error");
		if (code >= 400) {
			j->err = (struct vl_err)VL_ERR_INIT;
			job_fail(j, VL_E_NET, "checksum file %s: HTTP %ld", e->checksum_url, code);
		} else {
			describe_curl_failure(j, rc, "checksum file download");
		}
		vl_buf_release(&m.b);
		return -1;
	}
	entry = e->checksum_entry ? vl_strdup(e->checksum_entry) : vl_url_basename(e->url);
	j->expect = vl_checksum_find(vl_buf_str(&m.b), entry, e->hash);
	vl_buf_release(&m.b);
	if (!j->expect)
		return job_fail(j, VL_E_CHECKSUM, "no %s for '%s' in %s", vl_hash_name(e->hash), entry,
				e->checksum_url);
	return 0;
}

/* Expected digest: --sha256, the catalog's pinned one, or its checksum file. */
static int job_expected(struct job *j, const struct vl_image_pull_opts *opts)
{
	const struct vl_catalog_entry *e = &j->info->entry;

	j->hash = e->hash ? e->hash : VL_HASH_SHA256;
	if (opts && opts->sha256) {
		j->hash = VL_HASH_SHA256;
		j->expect = vl_hex_normalize(opts->sha256, 64);
		if (!j->expect)
			return job_fail(j, VL_E_USAGE, "--sha256 needs 64 hex digits");
		return 0;
	}
	if (e->digest) {
		j->expect = vl_strdup(e->digest);
		return 0;
	}
	if (e->checksum_url)
		return fetch_expected(j);
	if (e->insecure || (opts && opts->insecure))
		return 0;
	return job_fail(j, VL_E_CHECKSUM, "no checksum source; give --sha256 HEX, or --insecure "
			"to accept it unverified");
}

/* The sidecar says which download a .part belongs to; a resume after a kill
 * continues only the same URL with the same expected digest. */
static char *part_meta_text(struct job *j)
{
	return path_fmt("url=%s\nhash=%s\ndigest=%s\n", j->info->url, vl_hash_name(j->hash),
			j->expect ? j->expect : "");
}

static int job_open_partial(struct job *j)
{
	VL_AUTOFREE char *want = part_meta_text(j);
	VL_AUTOFREE char *have = read_small(j->part_meta);
	struct stat st;

	j->offset = 0;
	if (have && vl_streq(have, want) && stat(j->part, &st) == 0 && st.st_size > 0)
		j->offset = (uint64_t)st.st_size;
	else
		job_remove_partial(j);
	if (!have || !vl_streq(have, want)) {
		struct vl_err e = VL_ERR_INIT;
		if (write_atomic(j->part_meta, want, &e) < 0)
			return job_fail(j, e.code, "%s", e.msg);
	}
	j->fd = open(j->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->fd < 0)
		return job_fail(j, VL_E_IO, "cannot open %s: %s", j->part, strerror(errno));
	/* resume from a slot boundary, so O_DIRECT writes stay aligned */
	j->offset -= j->offset % IO_BUF;
	/* (truncating an empty file would make ext4 flush it on close) */
	if (fstat(j->fd, &st) == 0 && (uint64_t)st.st_size != j->offset &&
	    ftruncate(j->fd, (off_t)j->offset) < 0)
		return job_fail(j, VL_E_IO, "cannot truncate %s: %s", j->part, strerror(errno));
	j->v.dfd = open(j->part, O_WRONLY | O_DIRECT | O_CLOEXEC);
	j->v.woff = j->offset;
	if (job_reset_stream(j) < 0 || v_start(j) < 0)
		return -1;
	if (j->offset == 0)
		return 0;

	/* resume: the hash (and the xz decoder) must cover the bytes already
	 * on disk, so read the prefix once */
	vl_event_info(j->evs, j->info->name, "resuming at %llu bytes",
		      (unsigned long long)j->offset);
	uint64_t left = j->offset;
	while (left > 0) {
		unsigned char *slot = j->v.buf[j->v.produced % RING_N];
		ssize_t r = read(j->fd, slot, left < IO_BUF ? left : IO_BUF);
		if (r <= 0)
			return job_fail(j, VL_E_IO, "cannot read %s", j->part);
		j->v.fill = (size_t)r;
		if (v_submit(j, false) < 0)
			return -1;
		left -= (uint64_t)r;
	}
	j->written = j->offset;
	return v_drain(j);
}

static char *digest_hex(EVP_MD_CTX *md)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char *hex;

	if (EVP_DigestFinal_ex(md, d, &n) != 1)
		return NULL;
	hex = vl_malloc(n * 2 + 1);
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return hex;
}

/* After the last byte: verify, then rename into the cache. */
static int job_finish(struct job *j)
{
	VL_AUTOFREE char *got = digest_hex(j->md);
	VL_AUTOFREE char *final = NULL;
	VL_AUTOFREE char *meta_path = NULL;
	VL_AUTOFREE char *meta_text = NULL;
	const char *src = j->part;
	int fd = j->fd;
	enum vl_image_format fmt;
	uint64_t vsize;
	struct vl_err e = VL_ERR_INIT;

	if (!got)
		return job_fail(j, VL_E_FAIL, "hashing failed");
	if (j->expect && !vl_streq(got, j->expect)) {
		job_remove_partial(j);
		return job_fail(j, VL_E_CHECKSUM, "checksum mismatch: expected %s %s, got %s",
				vl_hash_name(j->hash), j->expect, got);
	}
	if (j->xz) {
		if (xz_feed(j, NULL, 0, true) < 0 || !j->lz_end) {
			job_remove_partial(j);
			if (j->v.err.code != VL_OK)
				j->err = j->v.err;
			return job_fail(j, VL_E_FAIL, "xz stream is truncated");
		}
		src = j->img_part;
		fd = j->out_fd;
	}
	fmt = vl_image_detect(j->head, j->headlen);
	if (fmt == VL_IMG_UNKNOWN) {
		job_remove_partial(j);
		return job_fail(j, VL_E_FAIL, "the image is empty");
	}
	if (j->info->entry.format != VL_IMG_UNKNOWN && j->info->entry.format != fmt)
		vl_event_warn(j->evs, j->info->name, "catalog says %s but the file is %s",
			      vl_image_format_name(j->info->entry.format), vl_image_format_name(fmt));
	/* the data must be on disk before the name says it is complete */
	if (fdatasync(fd) < 0) {
		int en = errno;
		job_remove_partial(j);
		return job_fail(j, VL_E_IO, "cannot sync %s: %s", src, strerror(en));
	}
	final = vl_cache_image_path(j->cache, j->info->name, fmt);
	if (rename(src, final) < 0) {
		int en = errno;
		job_remove_partial(j);
		return job_fail(j, VL_E_IO, "cannot rename into the cache: %s", strerror(en));
	}
	/* a leftover of the other format would shadow or confuse lookups */
	{
		VL_AUTOFREE char *other = vl_cache_image_path(
			j->cache, j->info->name, fmt == VL_IMG_QCOW2 ? VL_IMG_RAW : VL_IMG_QCOW2);
		unlink(other);
	}
	job_remove_partial(j);
	fsync_dir(j->cache);

	vsize = j->xz ? j->out_written : j->written;
	vl_qcow2_virtual_size(j->head, j->headlen, &vsize);
	struct vl_cache_meta m = {
		.name = j->info->name, .url = j->info->url, .format = fmt, .hash = j->hash,
		.digest = j->expect ? got : NULL, .size = j->xz ? j->out_written : j->written,
		.virtual_size = vsize, .pulled = time(NULL),
	};
	meta_text = vl_cache_meta_format(&m);
	meta_path = vl_cache_meta_path(j->cache, j->info->name);
	if (write_atomic(meta_path, meta_text, &e) < 0)
		vl_event_warn(j->evs, j->info->name, "%s", e.msg);
	cache_lookup(j->cache, j->info);
	vl_event_info(j->evs, j->info->name, "%s into the cache (%s%s)",
		      j->expect ? "verified and moved" : "moved (unverified)",
		      j->expect ? vl_hash_name(j->hash) : "no checksum", j->expect ? " ok" : "");
	return 0;
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
	text = read_small(mp);
	if (text && vl_cache_meta_parse(&m, text, NULL) == 0) {
		struct vl_err ignore = VL_ERR_INIT;
		m.content_sha256 = vl_strdup(hex);
		out = vl_cache_meta_format(&m);
		write_atomic(mp, out, &ignore);
		vl_cache_meta_release(&m);
	}
	return 0;
}

/* ---- registration (--name) -------------------------------------------- */

static int register_entry(const char *cache, const struct vl_catalog_entry *e, struct vl_err *err)
{
	VL_AUTOFREE char *path = path_join(cache, REGISTERED);
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
	rc = write_atomic(path, vl_buf_str(&out), err);
	vl_buf_release(&out);
	return rc;
}

static int unregister_entry(const char *cache, const char *name, bool *found, struct vl_err *err)
{
	VL_AUTOFREE char *path = path_join(cache, REGISTERED);
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
	rc = write_atomic(path, vl_buf_str(&out), err);
	vl_buf_release(&out);
	return rc;
}

/* ---- the parallel pull -------------------------------------------------- */

static int job_lock_path_open(struct job *j)
{
	VL_AUTOFREE char *p = path_fmt("%s/" PARTIAL_DIR "/%s.lock", j->cache, j->info->name);

	j->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->lock_fd < 0)
		return job_fail(j, VL_E_IO, "cannot open lock %s: %s", p, strerror(errno));
	return 0;
}

/* Try the lock; when held by another process the job keeps waiting. The
 * holder either finished (we find the image) or failed (we download). */
static void job_try_start(struct job *j, CURLM *multi, const struct vl_image_pull_opts *opts)
{
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			job_fail(j, VL_E_IO, "cannot lock: %s", strerror(errno));
			j->state = J_FAIL;
		} else if (!j->told_wait) {
			vl_event_info(j->evs, j->info->name, "another vmlab is pulling it; waiting");
			j->told_wait = true;
		}
		return;
	}
	cache_lookup(j->cache, j->info);
	if (j->info->cached) {
		if (j->told_wait)
			vl_event_info(j->evs, j->info->name, "pulled by the other vmlab");
		j->state = J_DONE;
		return;
	}
	j->state = J_FAIL;
	if (job_expected(j, opts) < 0)
		return;
	j->part = path_fmt("%s/" PARTIAL_DIR "/%s.part", j->cache, j->info->name);
	j->part_meta = path_fmt("%s/" PARTIAL_DIR "/%s.part.meta", j->cache, j->info->name);
	j->img_part = path_fmt("%s/" PARTIAL_DIR "/%s.img.part", j->cache, j->info->name);
	if (job_open_partial(j) < 0)
		return;
	j->h = easy_new(j, j->info->url);
	if (!j->h) {
		job_fail(j, VL_E_FAIL, "cannot create a curl handle");
		return;
	}
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(j->h, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(j->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(j->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(j->h, CURLOPT_XFERINFODATA, j);
	curl_easy_setopt(j->h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	/* a plain Range header rather than CURLOPT_RESUME_FROM: libcurl fails a
	 * 200 answer to that itself, and we want to start over cleanly instead */
	if (j->offset) {
		char range[48];
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)j->offset);
		curl_easy_setopt(j->h, CURLOPT_RANGE, range);
	}
	j->range_start = -1;
	j->t0 = vl_now_mono();
	vl_event_info(j->evs, j->info->name, "pulling %s", j->info->url);
	if (curl_multi_add_handle(multi, j->h) != CURLM_OK) {
		job_fail(j, VL_E_FAIL, "cannot start the transfer");
		return;
	}
	j->state = J_RUN;
}

static void job_done(struct job *j, CURLcode rc)
{
	long code = 0;
	char *scheme = NULL;

	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(j->h, CURLINFO_SCHEME, &scheme);
	bool is_file = scheme && strcasecmp(scheme, "file") == 0;
	j->state = J_FAIL;
	/* what arrived goes to disk (for the hash, or for a resume) */
	if (j->v.running && (v_submit(j, true) < 0 || v_drain(j) < 0))
		rc = rc == CURLE_OK ? CURLE_WRITE_ERROR : rc;
	if (!is_file && code >= 400) {
		job_fail(j, VL_E_NET, "HTTP %ld", code);
	} else if (!is_file && code >= 300 && rc == CURLE_OK) {
		job_fail(j, VL_E_NET, "HTTP %ld redirect without a usable Location", code);
	} else if (rc != CURLE_OK) {
		/* data that arrived stays for a resume; a write failure of ours does not */
		if (j->err.code == VL_OK) {
			describe_curl_failure(j, rc, "download");
			j->keep_part = j->written > 0 &&
				       (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
					rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
					rc == CURLE_SEND_ERROR || rc == CURLE_HTTP2_STREAM);
		}
	} else {
		double t = vl_now_mono();
		vl_event_progress(j->evs, j->info->name, "download", j->written, j->written,
				  t > j->t0 ? (double)(j->written - j->offset) / (t - j->t0) : 0);
		if (job_finish(j) == 0)
			j->state = J_DONE;
	}
	if (j->state == J_FAIL && !j->keep_part)
		job_remove_partial(j);
	else if (j->state == J_FAIL && j->keep_part)
		vl_event_info(j->evs, j->info->name, "kept %llu bytes in %s; pull again to resume",
			      (unsigned long long)j->written, j->part);
	job_close_files(j);
}

static int run_jobs(struct job *jobs, size_t n, const struct vl_image_pull_opts *opts)
{
	CURLM *multi = curl_multi_init();
	size_t pending = n;

	if (!multi)
		return -1;
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
	while (pending > 0) {
		int running = 0, msgs;
		CURLMsg *msg;
		bool waiting = false;

		pending = 0;
		for (size_t i = 0; i < n; i++) {
			if (jobs[i].state == J_LOCK)
				job_try_start(&jobs[i], multi, opts);
			if (jobs[i].state == J_LOCK)
				waiting = true;
			if (jobs[i].state == J_LOCK || jobs[i].state == J_RUN)
				pending++;
		}
		if (pending == 0)
			break;
		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &msgs))) {
			struct job *j = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			CURLcode rc = msg->data.result;
			curl_multi_remove_handle(multi, msg->easy_handle);
			job_done(j, rc);
		}
		/* poll only while something runs or waits: a finished pull must
		 * not sit out the timeout */
		bool busy = false;
		for (size_t i = 0; i < n; i++)
			busy |= jobs[i].state == J_LOCK || jobs[i].state == J_RUN;
		if (busy)
			curl_multi_poll(multi, NULL, 0, waiting ? 200 : 1000, NULL);
	}
	curl_multi_cleanup(multi);
	return 0;
}

int vl_image_pull(const struct vl_config *cfg, const char *const *refs, size_t n,
		  const struct vl_image_pull_opts *opts, struct vl_image_info *out,
		  const struct vl_events *evs, struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);
	VL_AUTOFREE char *partial = NULL;
	VL_AUTO(vl_catalog) cat = VL_CATALOG_INIT;
	struct job *jobs;
	int rc = 0;

	pthread_once(&curl_once, curl_init_once);
	memset(out, 0, n * sizeof(*out));
	if (opts && opts->name && (n != 1 || vl_image_ref_kind(refs[0]) == VL_REF_NAME))
		return vl_err_set(err, VL_E_USAGE, "--name registers one URL or path under a name");
	if (opts && opts->name && !vl_image_name_valid(opts->name))
		return vl_err_set(err, VL_E_USAGE, "image name '%s': use [a-z0-9._-], at most %d",
				  opts->name, VL_IMAGE_NAME_MAX);
	partial = path_join(cache, PARTIAL_DIR);
	if (mkdir_p(partial, err) < 0 || catalogs_load(cfg, cache, &cat, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (resolve_with(&cat, cache, refs[i], opts ? opts->name : NULL,
				 opts && (opts->sha256 || opts->insecure), &out[i], err) < 0) {
			vl_image_infos_free(NULL, 0);
			for (size_t k = 0; k <= i; k++)
				vl_image_info_release(&out[k]);
			return -1;
		}
	}
	jobs = vl_calloc(n, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		j->info = &out[i];
		j->evs = evs;
		j->cache = cache;
		j->fd = j->out_fd = j->lock_fd = j->v.dfd = -1;
		j->stall = cfg && cfg->stall_timeout ? cfg->stall_timeout : DEFAULT_STALL;
		j->state = J_LOCK;
		j->err = (struct vl_err)VL_ERR_INIT;
		/* the same image twice in one call is one download */
		for (size_t k = 0; k < i; k++)
			if (vl_streq(out[k].name, out[i].name))
				j->state = J_DONE;
		if (j->state == J_LOCK && out[i].cached && !(opts && opts->name))
			j->state = J_DONE;
		if (j->state == J_LOCK && job_lock_path_open(j) < 0)
			j->state = J_FAIL;
	}
	run_jobs(jobs, n, opts);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].state != J_DONE) {
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
			cache_lookup(cache, &out[i]);
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
		job_release(&jobs[i]);
	free(jobs);
	if (rc < 0)
		for (size_t i = 0; i < n; i++)
			vl_image_info_release(&out[i]);
	return rc;
}

int vl_image_ensure(const struct vl_config *cfg, const char *const *refs, size_t n,
		    struct vl_image_info *out, const struct vl_events *evs, struct vl_err *err)
{
	return vl_image_pull(cfg, refs, n, NULL, out, evs, err);
}

/* ---- list, rm, prune ---------------------------------------------------- */

/* Names of cached images: files <name>.qcow2 / <name>.raw in the cache. */
static char **cached_names(const char *cache, size_t *n)
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
	cached = cached_names(cache, &nc);
	v = vl_calloc(cat.n + nc + 1, sizeof(*v));
	for (size_t i = 0; i < cat.n; i++) {
		info_from_entry(&v[k], &cat.items[i]);
		v[k].in_catalog = true;
		cache_lookup(cache, &v[k]);
		k++;
	}
	for (size_t i = 0; i < nc; i++) {
		if (!vl_catalog_find(&cat, cached[i])) {
			v[k].name = vl_strdup(cached[i]);
			cache_lookup(cache, &v[k]);
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

static bool remove_cached(const char *cache, const char *name)
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
		VL_AUTOFREE char *p = path_fmt("%s/" PARTIAL_DIR "/%s.%s", cache, name, parts[i]);
		any |= unlink(p) == 0;
	}
	return any;
}

static int rm_impl(const char *cache, const char *name, bool unregister, struct vl_err *err)
{
	VL_AUTOFREE char *lock = NULL;
	bool registered = false, removed;
	int fd;

	if (!vl_image_name_valid(name))
		return vl_err_set(err, VL_E_USAGE, "'%s' is not an image name", name);
	/* not while another vmlab downloads it */
	lock = path_fmt("%s/" PARTIAL_DIR "/%s.lock", cache, name);
	fd = open(lock, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return vl_err_set(err, VL_E_LOCKED, "image %s is being pulled by another vmlab", name);
	}
	removed = remove_cached(cache, name);
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

/* Partial downloads nobody is pulling right now (their lock is free). */
static void prune_partials(const char *cache)
{
	VL_AUTOFREE char *dir = path_join(cache, PARTIAL_DIR);
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!vl_str_endswith(de->d_name, ".part.meta"))
			continue;
		VL_AUTOFREE char *name = vl_strndup(de->d_name, strlen(de->d_name) - 10);
		VL_AUTOFREE char *lock = path_fmt("%s/%s.lock", dir, name);
		int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		static const char *const parts[] = { "part", "part.meta", "img.part" };
		for (size_t i = 0; i < VL_ARRAY_SIZE(parts); i++) {
			VL_AUTOFREE char *p = path_fmt("%s/%s.%s", dir, name, parts[i]);
			unlink(p);
		}
		close(fd);
	}
	closedir(d);
}

int vl_image_prune(const struct vl_config *cfg, const char *const *keep, size_t n_keep,
		   bool dry_run, char ***removed, size_t *n_removed, struct vl_err *err)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(cfg);
	size_t nc = 0;
	char **cached = cached_names(cache, &nc);

	*removed = vl_calloc(nc + 1, sizeof(char *));
	*n_removed = 0;
	for (size_t i = 0; i < nc; i++) {
		bool kept = false;
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
		prune_partials(cache);
	return 0;
}
