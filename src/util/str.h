/* Small string helpers used across the core. */
#ifndef VL_UTIL_STR_H
#define VL_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>

static inline bool vl_streq(const char *a, const char *b)
{
	return a && b && __builtin_strcmp(a, b) == 0;
}

bool vl_str_startswith(const char *s, const char *prefix);
bool vl_str_endswith(const char *s, const char *suffix);
/* Copy with truncation, always NUL-terminated; returns false if truncated. */
bool vl_strlcpy(char *dst, const char *src, size_t size);
/* Trim ASCII white space in place, returns s. */
char *vl_str_trim(char *s);
/* Levenshtein distance, for "did you mean" suggestions. */
size_t vl_str_distance(const char *a, const char *b);
/* Best candidate within a small distance of word, or NULL. */
const char *vl_str_suggest(const char *word, const char *const *candidates, size_t n);
/* Parse a whole decimal unsigned integer; false on junk or overflow. */
bool vl_str_to_u64(const char *s, unsigned long long *out);
/* [a-z0-9-], non-empty, not starting or ending with '-', at most max chars. */
bool vl_str_is_name(const char *s, size_t max);

#endif
