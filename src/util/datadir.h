/* Where the data vmlab ships (profiles/, images/) lives: next to the binary
 * in a source tree, or under the installed data directory. */
#ifndef VL_UTIL_DATADIR_H
#define VL_UTIL_DATADIR_H

#include "util/err.h"

/* The first existing directory of: $VMLAB_<SUB> (sub uppercased, e.g.
 * VMLAB_PROFILES; if set it must exist), <dir of the running binary>/../sub,
 * <dir of binary>/../../sub (build/rel/vmlab in the repo), VL_DATADIR/sub.
 * Returns a malloc'd absolute path, or NULL with VL_E_NOTFOUND. */
char *vl_datadir_find(const char *sub, struct vl_err *err);

#endif
