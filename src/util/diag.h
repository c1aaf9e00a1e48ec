/* A list of located diagnostics ("vmlab.ini:12: unknown key 'cpu'"), so a
 * validator can report every problem in one run instead of the first. */
#ifndef VL_UTIL_DIAG_H
#define VL_UTIL_DIAG_H

#include <stdarg.h>
#include <stddef.h>

struct vl_diag {
	char *file;   /* as shown to the user */
	int line;     /* 1-based; 0 when the problem has no line */
	char *msg;
};

struct vl_diags {
	struct vl_diag *items;
	size_t n, cap;
};

#define VL_DIAGS_INIT { NULL, 0, 0 }

void vl_diags_add(struct vl_diags *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void vl_diags_addv(struct vl_diags *d, const char *file, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* "FILE:LINE: msg" (or "FILE: msg" without a line), caller frees. */
char *vl_diag_format(const struct vl_diag *diag);
void vl_diags_release(struct vl_diags *d);

static inline void vl_diags_autoptr(struct vl_diags *d)
{
	vl_diags_release(d);
}

#endif
