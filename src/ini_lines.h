/* The INI reader for vmlab.ini and vmlab.conf: keeps what iniparser 4.1
 * throws away (the line of every section and key, keys as written) and
 * reports, all at once, the mistakes iniparser silently accepts (duplicates,
 * keys outside sections) or refuses at the first one (bad lines). */
#ifndef VL_INI_LINES_H
#define VL_INI_LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/diag.h"

#define VL_INI_NOSEC ((size_t)-1)
#define VL_INI_LINE_MAX 1000    /* iniparser 4.1 gives up on lines of 1024 */

struct vl_ini_sec {
	char *name;     /* between the brackets, trimmed, as written */
	int line;
	bool dup;       /* same name as an earlier section (already reported) */
};

struct vl_ini_key {
	size_t sec;     /* index in secs, VL_INI_NOSEC before any section */
	char *key;      /* as written, trimmed */
	char *value;    /* comment and quotes removed, trimmed; may be "" */
	int line;
	bool dup;       /* same key earlier in the section (already reported) */
};

struct vl_ini_lines {
	struct vl_ini_sec *secs;
	size_t n_secs;
	struct vl_ini_key *keys;
	size_t n_keys;
	unsigned syntax_errors;  /* lines iniparser itself would refuse */
	/* Set before the scan: keys that may be given several times in a
	 * section, in order (a VM's provision entries); NULL-terminated. */
	const char *const *lists;
};

#define VL_INI_LINES_INIT { NULL, 0, NULL, 0, 0, NULL }

/* Scan text (len bytes, need not be NUL-terminated); ini->lists is kept. Every problem found goes
 * to diags as file:line; returns the number of problems. Pure: no I/O. */
unsigned vl_ini_scan(struct vl_ini_lines *ini, const char *text, size_t len, const char *file,
		     struct vl_diags *diags);
void vl_ini_lines_release(struct vl_ini_lines *ini);

/* The last key named key in section index sec (duplicates are reported by
 * the scan), or NULL. */
const struct vl_ini_key *vl_ini_get(const struct vl_ini_lines *ini, size_t sec, const char *key);

/* Add "unknown WHAT 'word' in [sec]; did you mean 'x'?" (WHAT e.g. "key"). */
void vl_ini_unknown(struct vl_diags *diags, const char *file, int line, const char *what,
		    const char *word, const char *sec, const char *const *known, size_t n);

static inline void vl_ini_lines_autoptr(struct vl_ini_lines *ini)
{
	vl_ini_lines_release(ini);
}

#endif
