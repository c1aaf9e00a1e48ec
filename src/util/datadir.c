/* Locate shipped data directories (profiles/, images/) the same way for every
 * module: environment override, source tree next to the binary, install dir. */
#include "util/datadir.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/mem.h"

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *vl_datadir_find(const char *sub, struct vl_err *err)
{
	struct vl_buf var = VL_BUF_INIT, b = VL_BUF_INIT;
	const char *env;
	char exe[PATH_MAX];
	ssize_t n;

	vl_buf_append(&var, "VMLAB_");
	for (const char *c = sub; *c; c++)
		vl_buf_putc(&var, (char)toupper((unsigned char)*c));
	env = getenv(var.s);
	if (env && *env) {
		char *abs = realpath(env, NULL);
		if (!abs || !is_dir(abs)) {
			free(abs);
			vl_err_set(err, VL_E_NOTFOUND, "$%s=%s is not a directory", var.s, env);
			vl_buf_release(&var);
			return NULL;
		}
		vl_buf_release(&var);
		return abs;
	}

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (int up = 1; up <= 2; up++) {
			vl_buf_truncate(&b, 0);
			vl_buf_append(&b, exe);
			for (int i = 0; i < up; i++)
				vl_buf_append(&b, "/..");
			vl_buf_printf(&b, "/%s", sub);
			if (is_dir(b.s)) {
				char *abs = realpath(b.s, NULL);
				vl_buf_release(&var);
				if (!abs)
					return vl_buf_steal(&b);
				vl_buf_release(&b);
				return abs;
			}
		}
	}
	/* an installed tree moved elsewhere (DESTDIR, another prefix): bin/../share/vmlab */
	if (n > 0) {
		vl_buf_truncate(&b, 0);
		vl_buf_printf(&b, "%s/../share/vmlab/%s", exe, sub);
		if (is_dir(b.s)) {
			char *abs = realpath(b.s, NULL);
			vl_buf_release(&var);
			if (!abs)
				return vl_buf_steal(&b);
			vl_buf_release(&b);
			return abs;
		}
	}
	vl_buf_truncate(&b, 0);
	vl_buf_printf(&b, "%s/%s", VL_DATADIR, sub);
	if (is_dir(b.s)) {
		vl_buf_release(&var);
		return vl_buf_steal(&b);
	}
	vl_err_set(err, VL_E_NOTFOUND, "cannot find vmlab's %s directory (looked next to the "
		   "binary and in %s; set $%s)", sub, b.s, var.s);
	vl_buf_release(&b);
	vl_buf_release(&var);
	return NULL;
}
