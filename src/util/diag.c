/* vl_diags: collect located messages; formatting is "FILE:LINE: message". */
#include "util/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"
#include "util/mem.h"

void vl_diags_add(struct vl_diags *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vl_diags_addv(d, file, line, fmt, ap);
	va_end(ap);
}

void vl_diags_addv(struct vl_diags *d, const char *file, int line, const char *fmt, va_list ap)
{
	struct vl_buf msg = VL_BUF_INIT;

	vl_buf_vprintf(&msg, fmt, ap);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->items = vl_realloc(d->items, d->cap * sizeof(*d->items));
	}
	d->items[d->n++] = (struct vl_diag){
		.file = vl_strdup(file ? file : ""),
		.line = line,
		.msg = vl_buf_steal(&msg),
	};
}

char *vl_diag_format(const struct vl_diag *diag)
{
	struct vl_buf b = VL_BUF_INIT;

	if (diag->line > 0)
		vl_buf_printf(&b, "%s:%d: %s", diag->file, diag->line, diag->msg);
	else if (diag->file[0])
		vl_buf_printf(&b, "%s: %s", diag->file, diag->msg);
	else
		vl_buf_append(&b, diag->msg);
	return vl_buf_steal(&b);
}

void vl_diags_release(struct vl_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	free(d->items);
	d->items = NULL;
	d->n = d->cap = 0;
}
