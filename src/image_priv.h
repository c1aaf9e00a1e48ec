/* What the image files share: cache paths and files (image_cache.c), one
 * download job, fetched by image_fetch.c and verified by image_verify.c.
 * Not for outside src/image*.c; only image_fetch.c includes libcurl. */
#ifndef VL_IMAGE_PRIV_H
#define VL_IMAGE_PRIV_H

#include <lzma.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "util/err.h"

#define IMAGE_PARTIAL_DIR "partial"
#define IMAGE_IO_BUF (1u << 20)
#define IMAGE_RING_N 16      /* IMAGE_IO_BUF slots between the receiver and the hasher */

/* ---- the cache (image_cache.c) ------------------------------------------ */

struct image_job;

char *image_path_join(const char *a, const char *b);
int image_mkdir_p(const char *path, struct vl_err *err);
/* A small cache file (metadata, a sidecar), or NULL if missing or unreadable. */
char *image_read_small(const char *path);
/* Small files of the cache (metadata, registrations), by rename. */
int image_write_atomic(const char *path, const char *text, struct vl_err *err);
void image_fsync_dir(const char *dir);
/* Fill the cached part of info from <cache>/<name>.{qcow2,raw} + .meta. */
void image_cache_lookup(const char *cache, struct vl_image_info *info);
/* Names of cached images: files <name>.qcow2 / <name>.raw in the cache. */
char **image_cached_names(const char *cache, size_t *n);
/* Remove an image's files, metadata and partial download; true if any was there. */
bool image_cache_remove(const char *cache, const char *name);
/* Bytes free for us on dir's filesystem, UINT64_MAX if unknown. */
uint64_t image_free_bytes(const char *dir);
/* A write into the cache failed with errno en: one line naming the path,
 * and with ENOSPC what was needed and what is free. */
int image_job_write_failed(struct image_job *j, struct vl_err *e, const char *path, int en);
/* Partial downloads nobody is pulling right now (their lock is free). */
void image_prune_partials(const char *cache);

/* ---- one download -------------------------------------------------------- */

enum image_job_state { IMAGE_JOB_LOCK, IMAGE_JOB_RUN, IMAGE_JOB_DONE, IMAGE_JOB_FAIL };

struct image_job {
	struct vl_image_info *info;
	const struct vl_events *evs;
	const char *cache;
	const char *register_as;       /* --name */
	const char *ca_file;           /* [images] ca_file, NULL: the system's CAs */
	uint64_t max_size;             /* [images] max_image_size: published and decompressed */
	uint64_t expect_total;         /* bytes .part will hold (Content-Length), 0: unknown */
	enum image_job_state state;
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
	unsigned char head[VL_QCOW2_HEADER_MIN];
	size_t headlen;

	/* The verifier. The thread running curl only copies arriving bytes
	 * into a ring of IMAGE_IO_BUF slots; a hasher thread hashes (and
	 * decompresses) each slot while a writer thread stores it in .part, with
	 * O_DIRECT where the filesystem allows (no second copy through the page
	 * cache, and the data is on disk by the time it is verified). So
	 * verifying costs no time on the receiving path. Until drained
	 * (image_verify_drain) only the hasher touches md, lz, out_fd and head,
	 * and only the writer v.woff. */
	struct {
		pthread_t hasher, writer;
		bool running;
		pthread_mutex_t mu;
		pthread_cond_t cv_data, cv_space;
		unsigned char *buf[IMAGE_RING_N];
		size_t len[IMAGE_RING_N];
		bool store[IMAGE_RING_N]; /* write this slot (not for a resumed prefix) */
		uint64_t produced, hashed, stored;
		size_t fill;             /* bytes in the slot being filled */
		bool stop;
		int dfd;                 /* O_DIRECT descriptor of .part, -1: buffered */
		uint64_t woff;           /* .part offset of the next slot */
		uint64_t unsynced;       /* buffered bytes whose writeback is not started */
		struct vl_err err;       /* the first failure of hasher or writer */
	} v;

	/* the transfer: image_fetch.c only */
	void *h;                       /* CURL * (libcurl's CURL is void) */
	bool body_started;
	long range_start;              /* from Content-Range, -1 if none */
	bool keep_part;                /* failure worth resuming */
	double t0, last_ev;
	char curl_err[256];            /* CURL_ERROR_SIZE, checked in image_fetch.c */
	struct vl_err err;
};

/* The first failure of a job wins: later ones are consequences. */
int image_job_fail(struct image_job *j, enum vl_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Unlink .part, its sidecar and the decompressed .img.part. */
void image_job_remove_partial(struct image_job *j);

/* ---- verifying while it arrives (image_verify.c) ------------------------- */

/* Start (or restart) hash, xz decoder and head at offset 0. */
int image_job_reset_stream(struct image_job *j);
int image_verify_start(struct image_job *j);
void image_verify_stop(struct image_job *j);
/* Hand the slot being filled to the hasher and (if store_it) the writer,
 * then wait for a slot both are done with. */
int image_verify_submit(struct image_job *j, bool store_it);
/* Wait until hasher and writer caught up; their failure becomes the job's. */
int image_verify_drain(struct image_job *j);
/* Received bytes: into the ring, a full slot at a time to writer and hasher. */
int image_verify_put(struct image_job *j, const unsigned char *p, size_t n);
/* Stop the threads, close the files, free hash and decoder. */
void image_job_close_files(struct image_job *j);
/* After the last byte: verify, then rename into the cache. */
int image_job_finish(struct image_job *j);

/* ---- downloads (image_fetch.c) ------------------------------------------- */

/* libcurl's global init, once per process. */
void image_fetch_init(void);
int image_job_lock_open(struct image_job *j);
/* Run every job in IMAGE_JOB_LOCK to IMAGE_JOB_DONE or IMAGE_JOB_FAIL, in
 * parallel on one curl multi handle. */
int image_fetch_run(struct image_job *jobs, size_t n, const struct vl_image_pull_opts *opts);
void image_job_release(struct image_job *j);

#endif
