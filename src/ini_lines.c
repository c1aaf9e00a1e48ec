/* INI line scanner: one pass over the text, recording sections, keys, values
 * and line numbers, and reporting every malformed line instead of stopping at
 * the first (see ini_lines.h for why this is not iniparser). */
#include "ini_lines.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

static bool is_comment_start(const char *p, const char *start)
{
	/* ';' or '#' starts a comment at the beginning of a value or after
	 * white space, so "http://host/a#b" keeps its '#' */
	return (*p == ';' || *p == '#') && (p == start || isspace((unsigned char)p[-1]));
}

static bool only_comment_left(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return *p == '\0' || *p == ';' || *p == '#';
}

/* "vm   web" -> "vm web": section names compare with runs of blanks as one */
static char *squeeze(const char *s, size_t n)
{
	struct vl_buf b = VL_BUF_INIT;
	bool space = false;

	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)s[i])) {
			space = true;
			continue;
		}
		if (space && b.len)
			vl_buf_putc(&b, ' ');
		space = false;
		vl_buf_putc(&b, s[i]);
	}
	return b.s ? vl_buf_steal(&b) : vl_strdup("");
}

static bool valid_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!(isalnum((unsigned char)*k) || *k == '-' || *k == '_' || *k == '.'))
			return false;
	return true;
}

/* Short, printable rendering of a bad line for a message. */
static char *excerpt(const char *s)
{
	struct vl_buf b = VL_BUF_INIT;
	size_t i;

	while (isspace((unsigned char)*s))
		s++;
	for (i = 0; s[i] && i < 40; i++)
		vl_buf_putc(&b, isprint((unsigned char)s[i]) ? s[i] : '?');
	if (s[i])
		vl_buf_append(&b, "...");
	return vl_buf_steal(&b);
}

static void add_sec(struct vl_ini_lines *ini, char *name, int line, const char *file,
		    struct vl_diags *diags, unsigned *problems)
{
	bool dup = false;

	for (size_t i = 0; i < ini->n_secs; i++) {
		if (vl_streq(ini->secs[i].name, name) && !ini->secs[i].dup) {
			vl_diags_add(diags, file, line, "duplicate section [%s] (first at line %d)",
				     name, ini->secs[i].line);
			(*problems)++;
			dup = true;
			break;
		}
	}
	ini->secs = vl_realloc(ini->secs, (ini->n_secs + 1) * sizeof(*ini->secs));
	ini->secs[ini->n_secs++] = (struct vl_ini_sec){ .name = name, .line = line, .dup = dup };
}

static bool is_list(const struct vl_ini_lines *ini, const char *key)
{
	for (size_t i = 0; ini->lists && ini->lists[i]; i++)
		if (vl_streq(ini->lists[i], key))
			return true;
	return false;
}

static void add_key(struct vl_ini_lines *ini, size_t sec, char *key, char *value, int line,
		    const char *file, struct vl_diags *diags, unsigned *problems)
{
	bool dup = false;

	if (sec == VL_INI_NOSEC) {
		vl_diags_add(diags, file, line, "key '%s' is outside any section; put it under "
			     "a [section] header", key);
		(*problems)++;
	} else if (!is_list(ini, key)) {
		/* a section's keys are contiguous at the end: look back only there */
		for (size_t i = ini->n_keys; i-- > 0 && ini->keys[i].sec == sec;) {
			if (vl_streq(ini->keys[i].key, key) && !ini->keys[i].dup) {
				vl_diags_add(diags, file, line, "duplicate key '%s' in [%s] (first at line %d)",
					     key, ini->secs[sec].name, ini->keys[i].line);
				(*problems)++;
				dup = true;
				break;
			}
		}
	}
	ini->keys = vl_realloc(ini->keys, (ini->n_keys + 1) * sizeof(*ini->keys));
	ini->keys[ini->n_keys++] = (struct vl_ini_key){
		.sec = sec, .key = key, .value = value, .line = line, .dup = dup,
	};
}

/* One trimmed, non-empty, non-comment line. */
static void scan_line(struct vl_ini_lines *ini, size_t *cur, char *s, int line, const char *file,
		      struct vl_diags *diags, unsigned *problems)
{
	char *eq, *v, *end;

	if (s[0] == '[') {
		char *close = strchr(s, ']');
		if (!close) {
			vl_diags_add(diags, file, line, "section header without closing ']'");
			goto syntax;
		}
		if (!only_comment_left(close + 1)) {
			VL_AUTOFREE char *ex = excerpt(close + 1);
			vl_diags_add(diags, file, line, "unexpected text '%s' after section header", ex);
			goto syntax;
		}
		char *name = squeeze(s + 1, (size_t)(close - s - 1));
		if (!*name) {
			free(name);
			vl_diags_add(diags, file, line, "empty section name '[]'");
			goto syntax;
		}
		add_sec(ini, name, line, file, diags, problems);
		*cur = ini->n_secs - 1;
		return;
	}
	eq = strchr(s, '=');
	if (!eq) {
		VL_AUTOFREE char *ex = excerpt(s);
		vl_diags_add(diags, file, line, "expected 'key = value' or '[section]', got '%s'", ex);
		goto syntax;
	}
	*eq = '\0';
	vl_str_trim(s);
	if (!valid_key(s)) {
		VL_AUTOFREE char *ex = excerpt(s);
		if (*s)
			vl_diags_add(diags, file, line, "invalid key '%s' (letters, digits, '-', '_')", ex);
		else
			vl_diags_add(diags, file, line, "missing key before '='");
		goto syntax;
	}
	v = eq + 1;
	while (isspace((unsigned char)*v))
		v++;
	if (*v == '"') {
		end = strchr(v + 1, '"');
		if (!end) {
			vl_diags_add(diags, file, line, "value of '%s' has no closing '\"'", s);
			goto syntax;
		}
		if (!only_comment_left(end + 1)) {
			VL_AUTOFREE char *ex = excerpt(end + 1);
			vl_diags_add(diags, file, line, "unexpected text '%s' after the quoted value of '%s'",
				     ex, s);
			goto syntax;
		}
		add_key(ini, *cur, vl_strdup(s), vl_strndup(v + 1, (size_t)(end - v - 1)), line, file,
			diags, problems);
		return;
	}
	for (end = v; *end && !is_comment_start(end, v); end++)
		;
	*end = '\0';
	add_key(ini, *cur, vl_strdup(s), vl_str_trim(vl_strdup(v)), line, file, diags, problems);
	return;
syntax:
	ini->syntax_errors++;
	(*problems)++;
}

unsigned vl_ini_scan(struct vl_ini_lines *ini, const char *text, size_t len, const char *file,
		     struct vl_diags *diags)
{
	unsigned problems = 0;
	size_t cur = VL_INI_NOSEC, pos = 0;
	int line = 0;
	const char *const *lists = ini->lists;

	*ini = (struct vl_ini_lines)VL_INI_LINES_INIT;
	ini->lists = lists;
	while (pos < len) {
		size_t eol = pos;
		while (eol < len && text[eol] != '\n')
			eol++;
		line++;
		if (memchr(text + pos, '\0', eol - pos)) {
			vl_diags_add(diags, file, line, "NUL byte in line: not a text file?");
			ini->syntax_errors++;
			problems++;
		} else if (eol - pos > VL_INI_LINE_MAX) {
			vl_diags_add(diags, file, line, "line longer than %d characters", VL_INI_LINE_MAX);
			ini->syntax_errors++;
			problems++;
		} else {
			VL_AUTOFREE char *s = vl_strndup(text + pos, eol - pos);
			vl_str_trim(s);
			if (*s && *s != ';' && *s != '#')
				scan_line(ini, &cur, s, line, file, diags, &problems);
		}
		pos = eol + 1;
	}
	return problems;
}

const struct vl_ini_key *vl_ini_get(const struct vl_ini_lines *ini, size_t sec, const char *key)
{
	const struct vl_ini_key *found = NULL;

	for (size_t i = 0; i < ini->n_keys; i++)
		if (ini->keys[i].sec == sec && vl_streq(ini->keys[i].key, key))
			found = &ini->keys[i];
	return found;
}

void vl_ini_unknown(struct vl_diags *diags, const char *file, int line, const char *what,
		    const char *word, const char *sec, const char *const *known, size_t n)
{
	const char *s = vl_str_suggest(word, known, n);
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "unknown %s '%s'", what, word);
	if (sec)
		vl_buf_printf(&b, " in [%s]", sec);
	if (s)
		vl_buf_printf(&b, "; did you mean '%s'?", s);
	else {
		vl_buf_append(&b, "; known: ");
		for (size_t i = 0; i < n; i++)
			vl_buf_printf(&b, "%s%s", i ? ", " : "", known[i]);
	}
	vl_diags_add(diags, file, line, "%s", vl_buf_str(&b));
	vl_buf_release(&b);
}

void vl_ini_lines_release(struct vl_ini_lines *ini)
{
	for (size_t i = 0; i < ini->n_secs; i++)
		free(ini->secs[i].name);
	for (size_t i = 0; i < ini->n_keys; i++) {
		free(ini->keys[i].key);
		free(ini->keys[i].value);
	}
	free(ini->secs);
	free(ini->keys);
	*ini = (struct vl_ini_lines)VL_INI_LINES_INIT;
}
