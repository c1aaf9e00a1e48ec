/* vmlab sync's decisions, pure (no I/O): the profile's `sync = SRC:DST`, the
 * manifest the guest keeps of what sync wrote there, and the diff of two
 * manifests into what to copy and what to delete (docs/sync.md). */
#ifndef VL_SYNC_H
#define VL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The manifest's name inside the guest directory; a host file of that name
 * at the top of SRC is not synced. */
#define VL_SYNC_MANIFEST ".vmlab-sync.manifest"

/* One `sync = SRC:DST` entry: SRC a host directory (relative to the project
 * directory, or absolute; no ':' in it), DST an absolute guest path. */
struct vl_sync_spec {
	char *spec;          /* as written */
	char *src;           /* absolute host path */
	char *dst;           /* absolute guest path, normalised (no trailing '/') */
	int line;            /* in vmlab.ini; 0 unknown */
};

/* VL_E_PROFILE with one line naming what is wrong (no file:line prefix). */
int vl_sync_spec_parse(const char *value, const char *project_dir, struct vl_sync_spec *out,
		       struct vl_err *err);
void vl_sync_spec_release(struct vl_sync_spec *s);
void vl_sync_spec_copy(struct vl_sync_spec *dst, const struct vl_sync_spec *src);
void vl_sync_specs_free(struct vl_sync_spec *s, size_t n);

/* What was at a path relative to the synced root when it was scanned: a
 * regular file 'f', directory 'd' or symlink 'l', its permission bits, size
 * and mtime (nanoseconds kept: two edits within a second differ). */
struct vl_sync_entry {
	char *path;          /* "a/b c.txt": no leading '/', no "." or ".." component */
	char type;
	unsigned mode;       /* 07777 bits */
	uint64_t size;
	int64_t mtime_s;
	long mtime_ns;
};

struct vl_sync_manifest {
	struct vl_sync_entry *e;
	size_t n, cap;
};

#define VL_SYNC_MANIFEST_INIT { NULL, 0, 0 }

/* A path a manifest may hold: relative, no empty, "." or ".." component, no
 * newline (one entry a line). */
bool vl_sync_path_ok(const char *path);
void vl_sync_manifest_add(struct vl_sync_manifest *m, const char *path, char type, unsigned mode,
			  uint64_t size, int64_t mtime_s, long mtime_ns);
/* Sort by path, component by component ("a" < "a/x" < "a b"), so a
 * directory is followed by everything under it. */
void vl_sync_manifest_sort(struct vl_sync_manifest *m);
/* "vmlab-sync 1\n" then "TYPE MODE SIZE SEC.NSEC PATH\n" per entry, sorted.
 * Caller frees. */
char *vl_sync_manifest_format(const struct vl_sync_manifest *m);
/* Read back what format wrote (text need not be NUL-terminated; len 0: an
 * empty manifest, as where nothing was synced yet). Sorted on return.
 * VL_E_FAIL naming the first bad line. */
int vl_sync_manifest_parse(const char *text, size_t len, struct vl_sync_manifest *m,
			   struct vl_err *err);
void vl_sync_manifest_release(struct vl_sync_manifest *m);

/* From what the guest has (old, as last synced) to what the host has (new),
 * both sorted: del the paths to remove first (gone, or changed type; a
 * removed directory covers what was under it), copy the paths to send (new
 * or changed files and symlinks; a new directory covers its whole subtree).
 * A directory that stays a directory is never copied itself (its mode and
 * mtime are not mirrored). Paths point into new's and old's entries. */
struct vl_sync_diff {
	const char **copy;
	size_t n_copy;
	const char **del;
	size_t n_del;
};

void vl_sync_diff(const struct vl_sync_manifest *old, const struct vl_sync_manifest *new,
		  struct vl_sync_diff *out);
void vl_sync_diff_release(struct vl_sync_diff *d);

#endif
