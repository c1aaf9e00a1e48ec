/* vl_buf: append, format, steal. Growth doubles so appends are amortised O(1). */
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

#include "util/mem.h"

static void grow(struct vl_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->s = vl_realloc(b->s, cap);
	b->cap = cap;
}

void vl_buf_appendn(struct vl_buf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void vl_buf_append(struct vl_buf *b, const char *s)
{
	vl_buf_appendn(b, s, strlen(s));
}

void vl_buf_putc(struct vl_buf *b, char c)
{
	vl_buf_appendn(b, &c, 1);
}

void vl_buf_vprintf(struct vl_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	grow(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void vl_buf_printf(struct vl_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vl_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void vl_buf_truncate(struct vl_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->s[len] = '\0';
	}
}

const char *vl_buf_str(const struct vl_buf *b)
{
	return b->s ? b->s : "";
}

char *vl_buf_steal(struct vl_buf *b)
{
	char *s = b->s ? b->s : vl_strdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void vl_buf_release(struct vl_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

char *vl_strfmt(const char *fmt, ...)
{
	struct vl_buf b = VL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vl_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return vl_buf_steal(&b);
}
