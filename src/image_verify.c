/* Verifying a download while it arrives: a hasher thread hashes (and xz
 * decompresses) each slot of the ring while a writer thread stores it in
 * .part; after the last byte, the digest decides and the file enters the cache. */
#include "image_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/file.h"
#include "util/mem.h"
#include "util/size.h"
#include "util/str.h"

#define WRITEBACK_CHUNK (8u << 20)

static int fail_into(struct image_job *j, struct vl_err *e, enum vl_errcode code, const char *fmt,
		     va_list ap) __attribute__((format(printf, 4, 0)));
static int fail_into(struct image_job *j, struct vl_err *e, enum vl_errcode code, const char *fmt,
		     va_list ap)
{
	char msg[768];

	if (e->code != VL_OK)
		return -1;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return vl_err_set(e, code, "%s (%s): %s", j->info->name, j->info->url, msg);
}

/* The first failure of a job wins: later ones are consequences. */
int image_job_fail(struct image_job *j, enum vl_errcode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_into(j, &j->err, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* The same, from the hasher or writer thread. */
static int hasher_fail(struct image_job *j, enum vl_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int hasher_fail(struct image_job *j, enum vl_errcode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&j->v.mu);
	fail_into(j, &j->v.err, code, fmt, ap);
	pthread_mutex_unlock(&j->v.mu);
	va_end(ap);
	return -1;
}

void image_job_close_files(struct image_job *j)
{
	image_verify_stop(j);
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

/* Decompressed (or plain) image bytes: remember the head for the format. */
static void note_head(struct image_job *j, const unsigned char *p, size_t n)
{
	size_t take = sizeof(j->head) - j->headlen;

	if (take > n)
		take = n;
	memcpy(j->head + j->headlen, p, take);
	j->headlen += take;
}

static int xz_feed(struct image_job *j, const unsigned char *p, size_t n, bool finish)
{
	j->lz.next_in = p;
	j->lz.avail_in = n;
	while (j->lz.avail_in > 0 || finish) {
		j->lz.next_out = j->lzbuf;
		j->lz.avail_out = IMAGE_IO_BUF;
		lzma_ret r = lzma_code(&j->lz, finish ? LZMA_FINISH : LZMA_RUN);
		size_t got = IMAGE_IO_BUF - j->lz.avail_out;
		if (got) {
			/* a few KiB of xz can expand without end (an xz bomb) */
			if (j->out_written + got > j->max_size) {
				char lim[32];
				vl_human_bytes(lim, sizeof(lim), (double)j->max_size, VL_SIZE_IEC);
				return hasher_fail(j, VL_E_FAIL, "decompresses to more than %s "
						   "([images] max_image_size): refused", lim);
			}
			note_head(j, j->lzbuf, got);
			if (vl_fd_write_all(j->out_fd, j->lzbuf, got) < 0) {
				int en = errno;
				pthread_mutex_lock(&j->v.mu);
				if (j->v.err.code == VL_OK)
					image_job_write_failed(j, &j->v.err, j->img_part, en);
				pthread_mutex_unlock(&j->v.mu);
				return -1;
			}
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
static int digest(struct image_job *j, const unsigned char *p, size_t n)
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
	struct image_job *j = arg;

	pthread_mutex_lock(&j->v.mu);
	for (;;) {
		while (j->v.hashed == j->v.produced && !j->v.stop)
			pthread_cond_wait(&j->v.cv_data, &j->v.mu);
		if (j->v.hashed == j->v.produced)
			break;
		int slot = (int)(j->v.hashed % IMAGE_RING_N);
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

static int store(struct image_job *j, const unsigned char *p, size_t n)
{
	/* full slots go direct; the tail (not a block multiple) through the cache */
	if (j->v.dfd >= 0 && n == IMAGE_IO_BUF) {
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
	struct image_job *j = arg;

	pthread_mutex_lock(&j->v.mu);
	for (;;) {
		while (j->v.stored == j->v.produced && !j->v.stop)
			pthread_cond_wait(&j->v.cv_data, &j->v.mu);
		if (j->v.stored == j->v.produced)
			break;
		int slot = (int)(j->v.stored % IMAGE_RING_N);
		bool failed = j->v.err.code != VL_OK, want = j->v.store[slot];
		pthread_mutex_unlock(&j->v.mu);
		if (want && !failed) {
			if (store(j, j->v.buf[slot], j->v.len[slot]) < 0) {
				int en = errno;
				pthread_mutex_lock(&j->v.mu);
				if (j->v.err.code == VL_OK)
					image_job_write_failed(j, &j->v.err, j->part, en);
				pthread_mutex_unlock(&j->v.mu);
			}
			j->v.woff += j->v.len[slot];
		}
		pthread_mutex_lock(&j->v.mu);
		j->v.stored++;
		pthread_cond_broadcast(&j->v.cv_space);
	}
	pthread_mutex_unlock(&j->v.mu);
	return NULL;
}

int image_verify_start(struct image_job *j)
{
	if (j->v.running)
		return 0;
	for (int i = 0; i < IMAGE_RING_N; i++)
		if (!j->v.buf[i] && posix_memalign((void **)&j->v.buf[i], 4096, IMAGE_IO_BUF) != 0)
			return image_job_fail(j, VL_E_FAIL, "out of memory");
	pthread_mutex_init(&j->v.mu, NULL);
	pthread_cond_init(&j->v.cv_data, NULL);
	pthread_cond_init(&j->v.cv_space, NULL);
	j->v.produced = j->v.hashed = j->v.stored = 0;
	j->v.fill = 0;
	j->v.stop = false;
	j->v.running = true;
	if (pthread_create(&j->v.hasher, NULL, hasher_main, j) != 0) {
		j->v.running = false;
		return image_job_fail(j, VL_E_FAIL, "cannot start the hashing thread");
	}
	if (pthread_create(&j->v.writer, NULL, writer_main, j) != 0) {
		pthread_mutex_lock(&j->v.mu);
		j->v.stop = true;
		pthread_cond_broadcast(&j->v.cv_data);
		pthread_mutex_unlock(&j->v.mu);
		pthread_join(j->v.hasher, NULL);
		j->v.running = false;
		return image_job_fail(j, VL_E_FAIL, "cannot start the writing thread");
	}
	return 0;
}

void image_verify_stop(struct image_job *j)
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
int image_verify_submit(struct image_job *j, bool store_it)
{
	int slot = (int)(j->v.produced % IMAGE_RING_N);

	if (j->v.fill == 0)
		return 0;
	pthread_mutex_lock(&j->v.mu);
	j->v.len[slot] = j->v.fill;
	j->v.store[slot] = store_it;
	j->v.produced++;
	pthread_cond_broadcast(&j->v.cv_data);
	while (j->v.produced - (j->v.hashed < j->v.stored ? j->v.hashed : j->v.stored) >= IMAGE_RING_N)
		pthread_cond_wait(&j->v.cv_space, &j->v.mu);
	bool failed = j->v.err.code != VL_OK;
	pthread_mutex_unlock(&j->v.mu);
	j->v.fill = 0;
	return failed ? -1 : 0;
}

/* Wait until hasher and writer caught up; their failure becomes the job's. */
int image_verify_drain(struct image_job *j)
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
int image_verify_put(struct image_job *j, const unsigned char *p, size_t n)
{
	while (n > 0) {
		unsigned char *dst = j->v.buf[j->v.produced % IMAGE_RING_N];
		size_t take = IMAGE_IO_BUF - j->v.fill;
		if (take > n)
			take = n;
		memcpy(dst + j->v.fill, p, take);
		j->v.fill += take;
		p += take;
		n -= take;
		if (j->v.fill == IMAGE_IO_BUF && image_verify_submit(j, true) < 0) {
			image_verify_drain(j);
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
int image_job_reset_stream(struct image_job *j)
{
	EVP_MD_CTX_free(j->md);
	j->md = EVP_MD_CTX_new();
	if (!j->md || EVP_DigestInit_ex(j->md, evp_md(j->hash), NULL) != 1)
		return image_job_fail(j, VL_E_FAIL, "cannot initialise the hash");
	j->headlen = 0;
	j->written = 0;
	j->out_written = 0;
	j->lz_end = false;
	if (j->info->entry.comp == VL_COMP_XZ) {
		if (j->xz)
			lzma_end(&j->lz);
		j->lz = (lzma_stream)LZMA_STREAM_INIT;
		if (lzma_stream_decoder(&j->lz, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
			return image_job_fail(j, VL_E_FAIL, "cannot start the xz decoder");
		j->xz = true;
		if (!j->lzbuf)
			j->lzbuf = vl_malloc(IMAGE_IO_BUF);
		if (j->out_fd >= 0)
			close(j->out_fd);
		j->out_fd = open(j->img_part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (j->out_fd < 0)
			return image_job_fail(j, VL_E_IO, "cannot create %s: %s", j->img_part, strerror(errno));
	}
	return 0;
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
int image_job_finish(struct image_job *j)
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
		return image_job_fail(j, VL_E_FAIL, "hashing failed");
	if (j->expect && !vl_streq(got, j->expect)) {
		image_job_remove_partial(j);
		return image_job_fail(j, VL_E_CHECKSUM, "checksum mismatch: expected %s %s, got %s",
				vl_hash_name(j->hash), j->expect, got);
	}
	if (j->xz) {
		if (xz_feed(j, NULL, 0, true) < 0 || !j->lz_end) {
			image_job_remove_partial(j);
			if (j->v.err.code != VL_OK)
				j->err = j->v.err;
			return image_job_fail(j, VL_E_FAIL, "xz stream is truncated");
		}
		src = j->img_part;
		fd = j->out_fd;
	}
	fmt = vl_image_detect(j->head, j->headlen);
	if (fmt == VL_IMG_UNKNOWN) {
		image_job_remove_partial(j);
		return image_job_fail(j, VL_E_FAIL, "the image is empty");
	}
	if (j->info->entry.format != VL_IMG_UNKNOWN && j->info->entry.format != fmt)
		vl_event_warn(j->evs, j->info->name, "catalog says %s but the file is %s",
			      vl_image_format_name(j->info->entry.format), vl_image_format_name(fmt));
	/* QEMU opens a backing file wherever it points: such an image never
	 * enters the cache */
	if (vl_image_file_check(src, NULL, &e) < 0) {
		image_job_remove_partial(j);
		return image_job_fail(j, e.code, "%s", e.msg);
	}
	/* the data must be on disk before the name says it is complete */
	if (fdatasync(fd) < 0) {
		int en = errno;
		image_job_remove_partial(j);
		if (j->err.code == VL_OK)
			image_job_write_failed(j, &j->err, src, en);
		return -1;
	}
	/* metadata first: on a full disk it fails before the image has a name,
	 * and an image never sits in the cache without it */
	vsize = j->xz ? j->out_written : j->written;
	vl_qcow2_virtual_size(j->head, j->headlen, &vsize);
	struct vl_cache_meta m = {
		.name = j->info->name, .url = j->info->url, .format = fmt, .hash = j->hash,
		.digest = j->expect ? got : NULL, .size = j->xz ? j->out_written : j->written,
		.virtual_size = vsize, .pulled = time(NULL),
	};
	meta_text = vl_cache_meta_format(&m);
	meta_path = vl_cache_meta_path(j->cache, j->info->name);
	if (image_write_atomic(meta_path, meta_text, &e) < 0) {
		image_job_remove_partial(j);
		return image_job_fail(j, e.code, "%s; nothing was cached", e.msg);
	}
	final = vl_cache_image_path(j->cache, j->info->name, fmt);
	if (rename(src, final) < 0) {
		int en = errno;
		unlink(meta_path);
		image_job_remove_partial(j);
		return image_job_fail(j, VL_E_IO, "cannot rename into the cache: %s", strerror(en));
	}
	/* a leftover of the other format would shadow or confuse lookups */
	{
		VL_AUTOFREE char *other = vl_cache_image_path(
			j->cache, j->info->name, fmt == VL_IMG_QCOW2 ? VL_IMG_RAW : VL_IMG_QCOW2);
		unlink(other);
	}
	image_job_remove_partial(j);
	image_fsync_dir(j->cache);
	image_cache_lookup(j->cache, j->info);
	vl_event_info(j->evs, j->info->name, "%s into the cache (%s%s)",
		      j->expect ? "verified and moved" : "moved (unverified)",
		      j->expect ? vl_hash_name(j->hash) : "no checksum", j->expect ? " ok" : "");
	return 0;
}
