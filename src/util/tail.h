/* The end of a file that keeps growing: the serial-console log of a VM. */
#ifndef VL_UTIL_TAIL_H
#define VL_UTIL_TAIL_H

#include <stddef.h>

#include "util/err.h"

/* Read at most the last max_bytes of path into *out (NUL-terminated, caller
 * frees; *len excludes the NUL and may count embedded NULs). When the file is
 * longer, the partial first line is dropped so the text starts at a line.
 * A missing file is VL_E_NOTFOUND, other errors VL_E_IO. */
int vl_file_tail(const char *path, size_t max_bytes, char **out, size_t *len, struct vl_err *err);

#endif
