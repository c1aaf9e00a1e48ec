/* A growable, always NUL-terminated string buffer (redis' sds idea, plain C). */
#ifndef VL_UTIL_BUF_H
#define VL_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct vl_buf {
	char *s;     /* NULL until something is appended; vl_buf_str() never is */
	size_t len;
	size_t cap;
};

#define VL_BUF_INIT { NULL, 0, 0 }

void vl_buf_append(struct vl_buf *b, const char *s);
void vl_buf_appendn(struct vl_buf *b, const char *s, size_t n);
void vl_buf_putc(struct vl_buf *b, char c);
void vl_buf_printf(struct vl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vl_buf_vprintf(struct vl_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void vl_buf_truncate(struct vl_buf *b, size_t len);
const char *vl_buf_str(const struct vl_buf *b);
/* Take the string out (caller frees); the buffer is empty again. */
char *vl_buf_steal(struct vl_buf *b);
void vl_buf_release(struct vl_buf *b);

static inline void vl_buf_autoptr(struct vl_buf *b)
{
	vl_buf_release(b);
}

/* A new string formatted like printf (never NULL; aborts when out of
 * memory like the rest of util). */
char *vl_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
