/* Allocation wrappers: out of memory is not a condition vmlab can recover from,
 * so it aborts with a message instead of spreading NULL checks everywhere. */
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

static void *oom(size_t n)
{
	fprintf(stderr, "vmlab: out of memory allocating %zu bytes\n", n);
	abort();
}

void *vl_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom(n);
}

void *vl_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	return p ? p : oom(nmemb * size);
}

void *vl_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom(n);
}

char *vl_strdup(const char *s)
{
	return vl_strndup(s, strlen(s));
}

char *vl_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = vl_malloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
