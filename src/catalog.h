/* The image catalog and the pure decisions around the image cache: catalog
 * files (iniparser), checksum files (GNU and BSD formats, PGP-signed), names
 * derived from URLs, cache paths, cache metadata and the qcow2 header. No
 * network, no curl: image.c acts on what these functions decide. */
#ifndef VL_CATALOG_H
#define VL_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/err.h"

#define VL_IMAGE_NAME_MAX 64

enum vl_image_format { VL_IMG_UNKNOWN, VL_IMG_QCOW2, VL_IMG_RAW };
enum vl_image_comp { VL_COMP_NONE, VL_COMP_XZ };
enum vl_hash { VL_HASH_NONE, VL_HASH_SHA256, VL_HASH_SHA512 };

struct vl_catalog_entry {
	char *name;            /* section name: debian-12 */
	char *url;             /* http(s):// or file:// */
	enum vl_hash hash;     /* algorithm of the checksum below / in checksum_url */
	char *digest;          /* pinned lowercase hex, or NULL */
	char *checksum_url;    /* distribution's checksum file, or NULL */
	char *checksum_entry;  /* file name inside it (default: basename of url) */
	enum vl_image_format format;
	enum vl_image_comp comp;
	char *user;            /* default login user */
	bool bios;             /* boot = bios (else uefi) */
	bool cloud_init;
	bool insecure;         /* explicitly no checksum */
	char *origin;          /* catalog file it came from */
};

struct vl_catalog {
	struct vl_catalog_entry *items;
	size_t n, cap;
};

#define VL_CATALOG_INIT { NULL, 0, 0 }

/* Add every section of an ini file. Entries already present (by name) are
 * kept: load the catalogs that win first. A missing file is not an error
 * when optional is true. */
int vl_catalog_load(struct vl_catalog *c, const char *path, bool optional, struct vl_err *err);
const struct vl_catalog_entry *vl_catalog_find(const struct vl_catalog *c, const char *name);
void vl_catalog_release(struct vl_catalog *c);
void vl_catalog_entry_release(struct vl_catalog_entry *e);
void vl_catalog_entry_copy(struct vl_catalog_entry *dst, const struct vl_catalog_entry *src);

static inline void vl_catalog_autoptr(struct vl_catalog *c)
{
	vl_catalog_release(c);
}

/* Render one entry as an ini section (for the cache's registered.ini). */
char *vl_catalog_entry_format(const struct vl_catalog_entry *e);

/* Find the digest for `entry` in a checksum file's text: GNU coreutils
 * ("HEX  name", "HEX *name"), BSD ("SHA256 (name) = HEX"), comments and a
 * PGP cleartext signature around it. A file with exactly one digest (a
 * per-file .sha512/.sha256/.CHECKSUM, maybe naming the versioned file a
 * "latest" URL points to, or a bare hex word) matches any entry.
 * Returns malloc'd lowercase hex of the length hash wants, or NULL. */
char *vl_checksum_find(const char *text, const char *entry, enum vl_hash hash);
/* Hex digits a hash has (64 / 128), 0 for none. */
size_t vl_hash_hexlen(enum vl_hash h);
const char *vl_hash_name(enum vl_hash h);
/* Parse "sha256" / "sha512". */
enum vl_hash vl_hash_parse(const char *s);
/* Lowercase copy if s is exactly hexlen hex digits, else NULL. */
char *vl_hex_normalize(const char *s, size_t hexlen);

const char *vl_image_format_name(enum vl_image_format f);
/* qcow2 or raw from the first bytes of the (decompressed) image. */
enum vl_image_format vl_image_detect(const unsigned char *p, size_t n);
/* qcow2 virtual size from a header (>= 32 bytes): bytes 24..31 big-endian. */
bool vl_qcow2_virtual_size(const unsigned char *p, size_t n, uint64_t *out);
/* Bytes of a qcow2 header vl_qcow2_unsafe reads (version 3's fixed part). */
#define VL_QCOW2_HEADER_MIN 104
/* Why QEMU must not open this image, or NULL: a backing file (QEMU would
 * open whatever host path it names, /etc/shadow included), an external
 * data file, encryption, a version we do not know, or a header cut short.
 * p: the image's first n bytes. When there is a backing file, *bf_off and
 * *bf_len say where its name lies in the file (for the message). Pure. */
const char *vl_qcow2_unsafe(const unsigned char *p, size_t n, uint64_t *bf_off, uint32_t *bf_len);

/* What a reference in a profile or on the command line is. */
enum vl_ref_kind { VL_REF_NAME, VL_REF_URL, VL_REF_FILE_URL, VL_REF_PATH };
enum vl_ref_kind vl_image_ref_kind(const char *ref);
/* [a-z0-9._-], starts with a letter or digit, at most VL_IMAGE_NAME_MAX. */
bool vl_image_name_valid(const char *name);
/* Cache name for a URL: sanitized basename without image/compression
 * suffixes + "-" + 8 hex of sha256(url), so two URLs never collide. */
char *vl_image_name_from_url(const char *url);
/* Last path component of a URL, without query or fragment. */
char *vl_url_basename(const char *url);
/* file:///abs/path -> /abs/path (percent-decoded), or NULL. */
char *vl_file_url_path(const char *url);

/* Cache paths (caller frees). */
char *vl_cache_image_path(const char *cache, const char *name, enum vl_image_format f);
/* What `up` can boot: BIOS guests with cloud-init. A catalog entry saying
 * boot = uefi or cloud_init = no is refused with one line naming why
 * (VL_E_PROFILE: the profile chose an image vmlab cannot use). */
int vl_catalog_entry_usable(const struct vl_catalog_entry *e, struct vl_err *err);

char *vl_cache_meta_path(const char *cache, const char *name);

/* <cache>/<name>.meta: what was pulled, key=value lines. */
struct vl_cache_meta {
	char *name, *url;
	enum vl_image_format format;
	enum vl_hash hash;
	char *digest;       /* of the published (maybe compressed) file, NULL if unverified */
	uint64_t size;      /* bytes of the cached image file */
	uint64_t virtual_size;
	time_t pulled;
	char *content_sha256; /* of the cached file itself (names its pool copy), NULL: not yet */
};

char *vl_cache_meta_format(const struct vl_cache_meta *m);
int vl_cache_meta_parse(struct vl_cache_meta *m, const char *text, struct vl_err *err);
void vl_cache_meta_release(struct vl_cache_meta *m);

#endif
