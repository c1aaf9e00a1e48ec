/* Whole files: read one into memory with a bound, write one so that readers
 * see the old content or the new, never half of it. */
#ifndef VL_UTIL_FILE_H
#define VL_UTIL_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"

/* Read all of path into *text (NUL-terminated, caller frees; "" for an empty
 * file) and its length into *len (without the NUL; may count embedded NULs).
 * More than max bytes fails (SIZE_MAX: no bound). Errors: a missing file is
 * VL_E_NOTFOUND, a directory, a read error or a file over max VL_E_IO; the
 * message names path ("PATH: No such file or directory", "reading PATH: ...",
 * "PATH: larger than MAX bytes"); err->sys_errno is 0 only for the last. */
int vl_file_read(const char *path, size_t max, char **text, size_t *len, struct vl_err *err);

/* Write len bytes of data to path with the given mode: a temporary file next
 * to it (mkostemp), fsync, then rename over path. The directory is not
 * synced. VL_E_IO on failure, and nothing at path changed. */
int vl_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct vl_err *err);

/* The same, but path must not exist yet: published with link(), so of two
 * writers exactly one wins. VL_E_EXISTS when path exists. */
int vl_file_write_new(const char *path, const void *data, size_t len, mode_t mode,
		      struct vl_err *err);

/* A directory only this user writes through (a project's .vmlab/, its key
 * store): made 0700 when missing; one that is a symlink, not a directory, or
 * owned by another user is refused (VL_E_IO), because keys written there
 * would land where someone else chose. */
int vl_dir_private_ensure(const char *path, struct vl_err *err);

/* write() all of n bytes, again after EINTR and short writes: 0, or -1 with
 * errno set. */
int vl_fd_write_all(int fd, const void *data, size_t n);

#endif
