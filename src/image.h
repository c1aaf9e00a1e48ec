/* Images for the engine and `vmlab image`: resolve a reference (catalog name,
 * URL, local path) to the cache; pull what is missing in parallel (libcurl
 * multi), verified while downloading, resumable, entering the cache only by
 * atomic rename; list, remove and prune cached images.
 *
 * Thread use: every function may run in a worker thread; there is no global
 * state except libcurl's own, initialised once through pthread_once. */
#ifndef VL_IMAGE_H
#define VL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "catalog.h"
#include "config.h"
#include "event.h"
#include "util/err.h"

struct vl_image_info {
	char *name;                 /* cache name (catalog name, --name, or derived from URL) */
	char *url;                  /* where it comes from */
	char *path;                 /* cached image file, NULL when not cached */
	enum vl_image_format format;/* of the cached file (qcow2 | raw); catalog's until pulled */
	uint64_t size;              /* bytes of the cached file */
	uint64_t virtual_size;      /* disk size the guest sees (qcow2 header, or raw size) */
	time_t pulled;              /* when it entered the cache, 0 if not cached */
	char *content_sha256;       /* SHA-256 of the cached file, once known (vl_image_content_sha256) */
	char *user;                 /* default login user */
	bool bios, cloud_init;      /* what the image needs */
	bool cached;
	bool in_catalog;            /* a catalog (or registered) entry, not an ad-hoc URL */
	struct vl_catalog_entry entry; /* the resolved entry (checksum source etc.) */
};

void vl_image_info_release(struct vl_image_info *info);
void vl_image_infos_free(struct vl_image_info *infos, size_t n);

struct vl_image_pull_opts {
	const char *sha256;  /* --sha256 HEX: expected digest, overrides the catalog's */
	bool insecure;       /* --insecure: accept an image without a checksum source */
	const char *name;    /* --name NAME: register a URL or path under NAME */
	bool keep_catalog;   /* with insecure: a URL the catalog knows keeps its checksum */
};

/* The cache directory: cfg->cache_dir, else $VMLAB_CACHE, else
 * $XDG_CACHE_HOME/vmlab/images or ~/.cache/vmlab/images. Caller frees. */
char *vl_image_cache_dir(const struct vl_config *cfg);

/* Catalog lookup, no download: which entry, and whether and where it is
 * cached. ref is a catalog name, http(s):// or file:// URL, or a path. */
int vl_image_resolve(const struct vl_config *cfg, const char *ref, struct vl_image_info *out,
		     struct vl_err *err);

/* Make every ref cached, downloading the missing ones in parallel; out[i]
 * (n entries, caller releases) describes refs[i] when the call succeeds.
 * opts may be NULL. On failure err holds the first failure as one line
 * ("debian-12 (https://...): HTTP 404"); other failures went out as warnings. */
int vl_image_pull(const struct vl_config *cfg, const char *const *refs, size_t n,
		  const struct vl_image_pull_opts *opts, struct vl_image_info *out,
		  const struct vl_events *evs, struct vl_err *err);

/* Import a local image file (image save's flattened disk) into the cache as
 * name and register it for image = NAME, booting as base does (login user,
 * BIOS or UEFI, cloud-init). out as vl_image_pull fills it. */
int vl_image_import(const struct vl_config *cfg, const char *path, const char *name,
		    const struct vl_image_info *base, struct vl_image_info *out,
		    const struct vl_events *evs, struct vl_err *err);

/* What the engine calls before `up`: vl_image_pull without options, but
 * insecure (up's --insecure) fetches URLs that have no checksum source. */
int vl_image_ensure(const struct vl_config *cfg, const char *const *refs, size_t n,
		    bool insecure, struct vl_image_info *out, const struct vl_events *evs,
		    struct vl_err *err);

/* The SHA-256 of the cached file itself (not of the published, maybe
 * compressed one): it names the image's copy in a libvirt pool. Computed
 * once and kept in the cache metadata; fills info->content_sha256. */
int vl_image_content_sha256(const struct vl_config *cfg, struct vl_image_info *info,
			    struct vl_err *err);

/* Refuse (VL_E_FAIL, naming the image if name is not NULL, and what it
 * points at) an image file
 * QEMU must not open: a qcow2 with a backing file or an external data file
 * (vl_qcow2_unsafe). Called before a file enters the cache and again before
 * a cached one is uploaded into a pool, so libvirt never sees such a file. */
int vl_image_file_check(const char *path, const char *name, struct vl_err *err);

/* Every catalog entry and every cached image (cached ones without an entry
 * too), sorted by name. */
int vl_image_list(const struct vl_config *cfg, struct vl_image_info **out, size_t *n,
		  struct vl_err *err);

/* Remove a cached image (and its metadata, partial download and --name
 * registration). VL_E_NOTFOUND if nothing of it is cached. */
int vl_image_rm(const struct vl_config *cfg, const char *name, struct vl_err *err);

/* Remove cached images whose names are not in keep[] (and stale partial
 * downloads). The names removed (or that would be, with dry_run) are
 * returned in *removed (caller frees each and the array). */
int vl_image_prune(const struct vl_config *cfg, const char *const *keep, size_t n_keep,
		   bool dry_run, char ***removed, size_t *n_removed, struct vl_err *err);

#endif
