/* POSIX shell quoting of argv words (see shquote.h). Single quotes are the
 * only quoting in which every byte but ' is literal, so we use them. */
#include "util/shquote.h"

#include <stdbool.h>
#include <string.h>

#include "util/buf.h"

/* '=' is left out so a quoted first word can never turn into an
 * assignment (FOO=1 cmd); '~', '#', '*' and friends are special, so quoted. */
static bool is_plain(const char *w)
{
	static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789_@%+:,./-";

	return *w && w[strspn(w, safe)] == '\0';
}

void vl_shell_quote(struct vl_buf *b, const char *word)
{
	if (is_plain(word)) {
		vl_buf_append(b, word);
		return;
	}
	vl_buf_putc(b, '\'');
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			vl_buf_append(b, "'\\''");
		else
			vl_buf_putc(b, *p);
	}
	vl_buf_putc(b, '\'');
}

char *vl_shell_quote_argv(const char *const *argv, size_t argc)
{
	struct vl_buf b = VL_BUF_INIT;

	for (size_t i = 0; i < argc; i++) {
		if (i)
			vl_buf_putc(&b, ' ');
		vl_shell_quote(&b, argv[i]);
	}
	if (!b.s)
		vl_buf_append(&b, "");
	return vl_buf_steal(&b);
}
