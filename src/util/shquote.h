/* Quoting argv words for a remote POSIX shell, so `vmlab ssh VM -- CMD ARG...`
 * keeps every word exactly (docs/design.md "Command line"). Pure, no I/O. */
#ifndef VL_UTIL_SHQUOTE_H
#define VL_UTIL_SHQUOTE_H

#include <stddef.h>

struct vl_buf;

/* Append one word quoted for a POSIX shell: words made only of
 * [A-Za-z0-9_@%+:,./-] go as they are; anything else (including the empty
 * word) is wrapped in single quotes, a ' becoming '\''. Newlines, $, `,
 * backslashes and globs keep their literal value. */
void vl_shell_quote(struct vl_buf *b, const char *word);
/* The argc words quoted and joined with single spaces; caller frees.
 * argc 0 gives "". Never NULL. */
char *vl_shell_quote_argv(const char *const *argv, size_t argc);

#endif
