/* vmlab cp's decisions: operands (VM:PATH, local, "-") and cp(1)'s rule for
 * where each source lands. Pure: the adapters stat, this decides. */
#include "copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/str.h"

static bool vm_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int vl_cp_operand_parse(const char *arg, struct vl_cp_operand *out, struct vl_err *err)
{
	const char *colon = strchr(arg, ':');
	const char *p;

	*out = (struct vl_cp_operand){ 0 };
	if (!arg[0])
		return vl_err_set(err, VL_E_USAGE, "cp: empty path");
	if (vl_streq(arg, "-")) {
		out->path = vl_strdup("-");
		out->stdio = true;
		return 0;
	}
	for (p = arg; colon && p < colon; p++)
		if (!vm_char(*p))
			break;
	if (!colon || p != colon || colon == arg) {
		out->path = vl_strdup(arg);
		return 0;
	}
	out->vm = vl_strndup(arg, (size_t)(colon - arg));
	/* "VM:" is the home directory, where a remote relative path starts */
	out->path = vl_strdup(colon[1] ? colon + 1 : ".");
	return 0;
}

void vl_cp_operand_release(struct vl_cp_operand *o)
{
	free(o->vm);
	free(o->path);
	*o = (struct vl_cp_operand){ 0 };
}

int vl_cp_plan_parse(char *const *args, size_t n, struct vl_cp_plan *out, struct vl_err *err)
{
	size_t n_remote = 0;

	*out = (struct vl_cp_plan){ 0 };
	if (n < 2)
		return vl_err_set(err, VL_E_USAGE, "cp: needs a source and a destination");
	out->n_srcs = n - 1;
	out->srcs = vl_calloc(out->n_srcs, sizeof(*out->srcs));
	for (size_t i = 0; i < out->n_srcs; i++) {
		if (vl_cp_operand_parse(args[i], &out->srcs[i], err) < 0)
			goto fail;
		if (out->srcs[i].vm)
			n_remote++;
	}
	if (vl_cp_operand_parse(args[n - 1], &out->dst, err) < 0)
		goto fail;
	if (out->dst.vm && n_remote) {
		vl_err_set(err, VL_E_USAGE, "cp: copying between VMs is not supported; "
			   "one side must be local");
		goto fail;
	}
	if (!out->dst.vm && !n_remote) {
		vl_err_set(err, VL_E_USAGE, "cp: both sides are local; name a VM as VM:PATH");
		goto fail;
	}
	if (n_remote && n_remote != out->n_srcs) {
		vl_err_set(err, VL_E_USAGE, "cp: sources must all be on one side (all VM:PATH or "
			   "all local)");
		goto fail;
	}
	out->dir = out->dst.vm ? VL_CP_UP : VL_CP_DOWN;
	out->vm = out->dst.vm ? out->dst.vm : out->srcs[0].vm;
	for (size_t i = 0; i < out->n_srcs; i++) {
		if (out->srcs[i].vm && !vl_streq(out->srcs[i].vm, out->vm)) {
			vl_err_set(err, VL_E_USAGE, "cp: sources name two VMs (%s, %s); copy from "
				   "one at a time", out->vm, out->srcs[i].vm);
			goto fail;
		}
		if (out->srcs[i].stdio && out->n_srcs > 1) {
			vl_err_set(err, VL_E_USAGE, "cp: '-' (stdin) must be the only source");
			goto fail;
		}
	}
	if (out->dst.stdio && out->n_srcs > 1) {
		vl_err_set(err, VL_E_USAGE, "cp: '-' (stdout) takes one source file");
		goto fail;
	}
	return 0;
fail:
	vl_cp_plan_release(out);
	return -1;
}

void vl_cp_plan_release(struct vl_cp_plan *p)
{
	for (size_t i = 0; i < p->n_srcs; i++)
		vl_cp_operand_release(&p->srcs[i]);
	free(p->srcs);
	vl_cp_operand_release(&p->dst);
	*p = (struct vl_cp_plan){ 0 };
}

char *vl_cp_basename(const char *path)
{
	size_t end = strlen(path);
	size_t start;

	while (end > 0 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (end == start)
		return NULL;
	if ((end - start == 1 && path[start] == '.') ||
	    (end - start == 2 && path[start] == '.' && path[start + 1] == '.'))
		return NULL;
	return vl_strndup(path + start, end - start);
}

/* The directory part of path: "a/b" -> "a", "b" -> ".", "/b" -> "/". */
static char *dir_of(const char *path)
{
	size_t end = strlen(path);

	while (end > 1 && path[end - 1] == '/')
		end--;
	while (end > 0 && path[end - 1] != '/')
		end--;
	if (end == 0)
		return vl_strdup(".");
	while (end > 1 && path[end - 1] == '/')
		end--;
	return vl_strndup(path, end);
}

static const char *label(const struct vl_cp_side *s, char *buf, size_t size)
{
	if (!s->vm)
		return s->path;
	snprintf(buf, size, "%s:%s", s->vm, s->path);
	return buf;
}

int vl_cp_target(const struct vl_cp_side *src, bool recursive, const struct vl_cp_side *dst,
		 size_t n_srcs, char **dir, char **name, struct vl_err *err)
{
	char sl[4200], dl[4200];
	bool dst_slash = vl_str_endswith(dst->path, "/");
	VL_AUTOFREE char *base = vl_cp_basename(src->path);

	*dir = *name = NULL;
	if (src->kind == VL_CP_NONE)
		return vl_err_set(err, VL_E_NOTFOUND, "cp: %s: no such file or directory",
				  label(src, sl, sizeof(sl)));
	if (src->kind == VL_CP_OTHER)
		return vl_err_set(err, VL_E_USAGE, "cp: %s: not a regular file, directory or "
				  "symlink", label(src, sl, sizeof(sl)));
	if (src->kind == VL_CP_DIR && !recursive)
		return vl_err_set(err, VL_E_USAGE, "cp: %s is a directory (not copied without -r)",
				  label(src, sl, sizeof(sl)));
	if (dst->kind == VL_CP_DIR) {
		if (!base)
			return vl_err_set(err, VL_E_USAGE, "cp: %s: cannot name the copy after '%s'",
					  label(src, sl, sizeof(sl)), src->path);
		*dir = vl_strdup(dst->path[0] ? dst->path : ".");
		*name = vl_steal(&base);
		return 0;
	}
	if (n_srcs > 1)
		return vl_err_set(err, dst->kind == VL_CP_NONE ? VL_E_NOTFOUND : VL_E_USAGE,
				  "cp: %s: not a directory (several sources need one)",
				  label(dst, dl, sizeof(dl)));
	if (dst_slash)
		return vl_err_set(err, dst->kind == VL_CP_NONE ? VL_E_NOTFOUND : VL_E_USAGE,
				  "cp: %s: not a directory (a trailing '/' names one)",
				  label(dst, dl, sizeof(dl)));
	if (dst->kind == VL_CP_FILE && src->kind == VL_CP_DIR)
		return vl_err_set(err, VL_E_USAGE, "cp: cannot overwrite non-directory %s with "
				  "directory %s", label(dst, dl, sizeof(dl)),
				  label(src, sl, sizeof(sl)));
	if (dst->kind == VL_CP_OTHER)
		return vl_err_set(err, VL_E_USAGE, "cp: %s: not a regular file or directory",
				  label(dst, dl, sizeof(dl)));
	*name = vl_cp_basename(dst->path);
	if (!*name)
		return vl_err_set(err, VL_E_USAGE, "cp: %s: not a file name",
				  label(dst, dl, sizeof(dl)));
	*dir = dir_of(dst->path);
	return 0;
}
