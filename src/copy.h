/* vmlab cp's decisions, pure (no I/O): which operand names a VM, and where
 * each source lands under cp(1)'s rules. The adapters only carry them out. */
#ifndef VL_COPY_H
#define VL_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* One operand: "VM:PATH" (vm set), a local path, or "-" (stdio: vm NULL,
 * path "-"). A colon before the first '/' after a VM name ([a-z0-9-]) makes
 * it remote, as in scp; "./a:b" names a local file. "VM:" alone is the
 * login user's home directory. */
struct vl_cp_operand {
	char *vm;             /* NULL: local */
	char *path;
	bool stdio;           /* "-" */
};

int vl_cp_operand_parse(const char *arg, struct vl_cp_operand *out, struct vl_err *err);
void vl_cp_operand_release(struct vl_cp_operand *o);

enum vl_cp_dir { VL_CP_UP, VL_CP_DOWN };

/* A whole command line: sources on one side, DST on the other, exactly one
 * side a VM (the same VM for every remote source); "-" only as the one
 * source of an upload or as DST of a download of one file. VL_E_USAGE. */
struct vl_cp_plan {
	enum vl_cp_dir dir;
	const char *vm;
	struct vl_cp_operand *srcs;
	size_t n_srcs;
	struct vl_cp_operand dst;
};

int vl_cp_plan_parse(char *const *args, size_t n, struct vl_cp_plan *out, struct vl_err *err);
void vl_cp_plan_release(struct vl_cp_plan *p);

/* What is at a path (the adapters find out; lstat, or stat with -L). */
enum vl_cp_kind { VL_CP_NONE, VL_CP_FILE, VL_CP_DIR, VL_CP_OTHER };

/* The last component of a source path, trailing slashes ignored ("a/b/" ->
 * "b"); NULL for "/", "." and ".." (nothing to name the copy by). */
char *vl_cp_basename(const char *path);

/* Where a source lands, cp(1)'s rule: DST an existing directory (or several
 * sources) -> DST/basename(SRC); otherwise DST itself, whose parent must
 * exist. A trailing slash on SRC changes nothing (unlike rsync); a trailing
 * slash on DST says it must be an existing directory. A directory source
 * needs recursive. *dir and *name are the target's directory and final name
 * (caller frees). VL_E_USAGE or VL_E_NOTFOUND with one line naming the path. */
struct vl_cp_side {
	const char *vm;       /* messages name the path "VM:PATH"; NULL: local */
	const char *path;
	enum vl_cp_kind kind;
};

int vl_cp_target(const struct vl_cp_side *src, bool recursive, const struct vl_cp_side *dst,
		 size_t n_srcs, char **dir, char **name, struct vl_err *err);

#endif
