/* Memory helpers: allocation that never returns NULL, and scope-bound cleanup
 * (libvirt's g_autofree without GLib). */
#ifndef VL_UTIL_MEM_H
#define VL_UTIL_MEM_H

#include <stddef.h>
#include <stdlib.h>

void *vl_malloc(size_t n);
void *vl_calloc(size_t nmemb, size_t size);
void *vl_realloc(void *p, size_t n);
char *vl_strdup(const char *s);
char *vl_strndup(const char *s, size_t n);

static inline void vl_freep(void *pp)
{
	free(*(void **)pp);
}

/* `VL_AUTOFREE char *s = NULL;` frees s when it goes out of scope. */
#define VL_AUTOFREE __attribute__((cleanup(vl_freep)))

/* `VL_AUTO(vl_buf) b = VL_BUF_INIT;` calls vl_buf_autoptr(&b) at scope end.
 * A type opts in by defining `static inline void TYPE_autoptr(struct TYPE *p)`. */
#define VL_AUTO(type) __attribute__((cleanup(type##_autoptr))) struct type

/* Hand ownership on: returns *pp and sets it to NULL. */
#define vl_steal(pp) \
	({ __typeof__(*(pp)) vl_steal_tmp_ = *(pp); *(pp) = NULL; vl_steal_tmp_; })

#define VL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
