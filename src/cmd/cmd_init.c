/* vmlab init: write vmlab.ini into the project directory from one of the
 * shipped profiles (profiles/NAME.ini), atomically and never over an existing
 * file without --force; --list shows the profiles with their descriptions. */
#include "cmd/cmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ini_lines.h"
#include "util/buf.h"
#include "util/datadir.h"
#include "util/file.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/str.h"

#define DEFAULT_PROFILE "debian"

struct shipped {
	char **names;   /* sorted, without ".ini" */
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void shipped_release(struct shipped *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
}

static int list_profiles(const char *dir, struct shipped *out, struct vl_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*out = (struct shipped){ 0 };
	if (!d)
		return vl_err_sys(err, VL_E_IO, errno, "%s", dir);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 4 || !vl_str_endswith(e->d_name, ".ini") || e->d_name[0] == '.')
			continue;
		out->names = vl_realloc(out->names, (out->n + 1) * sizeof(*out->names));
		out->names[out->n++] = vl_strndup(e->d_name, len - 4);
	}
	closedir(d);
	if (out->n)
		qsort(out->names, out->n, sizeof(*out->names), cmp_str);
	return 0;
}

/* The profile's first comment line: its one-line description. */
static char *describe(const char *path)
{
	struct vl_err e = VL_ERR_INIT;
	size_t len;
	VL_AUTOFREE char *text = NULL;
	char *line, *save = NULL;

	if (vl_file_read(path, 64 * 1024, &text, &len, &e) < 0)
		return vl_strdup("");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		vl_str_trim(line);
		if (*line != ';' && *line != '#')
			continue;
		while (*line == ';' || *line == '#' || *line == ' ' || *line == '\t')
			line++;
		if (*line)
			return vl_strdup(line);
	}
	return vl_strdup("");
}

static int print_list(const struct vl_ctx *ctx, const char *dir, const struct shipped *s)
{
	VL_AUTO(vl_buf) b = VL_BUF_INIT;
	struct vl_json j;

	if (ctx->json) {
		vl_json_init(&j, &b, true);
		vl_json_arr_begin(&j);
	}
	for (size_t i = 0; i < s->n; i++) {
		VL_AUTOFREE char *path = NULL;
		VL_AUTOFREE char *desc = NULL;
		struct vl_buf pb = VL_BUF_INIT;
		vl_buf_printf(&pb, "%s/%s.ini", dir, s->names[i]);
		path = vl_buf_steal(&pb);
		desc = describe(path);
		if (ctx->json) {
			vl_json_obj_begin(&j);
			vl_json_kstr(&j, "name", s->names[i]);
			vl_json_kstr(&j, "description", desc);
			vl_json_kbool(&j, "default", vl_streq(s->names[i], DEFAULT_PROFILE));
			vl_json_obj_end(&j);
		} else {
			printf("%-12s %s%s\n", s->names[i], desc,
			       vl_streq(s->names[i], DEFAULT_PROFILE) ? " (default)" : "");
		}
	}
	if (ctx->json) {
		vl_json_arr_end(&j);
		printf("%s\n", vl_buf_str(&b));
	}
	return 0;
}

static int unknown_profile(const char *name, const struct shipped *s, struct vl_err *err)
{
	VL_AUTO(vl_buf) all = VL_BUF_INIT;
	const char *sugg = vl_str_suggest(name, (const char *const *)s->names, s->n);

	for (size_t i = 0; i < s->n; i++)
		vl_buf_printf(&all, "%s%s", i ? ", " : "", s->names[i]);
	if (sugg)
		return vl_err_set(err, VL_E_USAGE, "unknown profile '%s'; did you mean '%s'? "
				  "(profiles: %s)", name, sugg, vl_buf_str(&all));
	return vl_err_set(err, VL_E_USAGE, "unknown profile '%s' (profiles: %s)", name,
			  vl_buf_str(&all));
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const char *name = vl_args_get(a, "profile");
	VL_AUTOFREE char *dir = vl_datadir_find("profiles", err);
	VL_AUTOFREE char *src = NULL, *dst = NULL, *text = NULL;
	struct shipped s;
	struct vl_buf b = VL_BUF_INIT;
	size_t len;
	int rc;

	if (!dir)
		return -1;
	if (list_profiles(dir, &s, err) < 0)
		return -1;
	if (vl_args_has(a, "list")) {
		rc = print_list(ctx, dir, &s);
		shipped_release(&s);
		return rc;
	}
	if (!name)
		name = DEFAULT_PROFILE;
	/* a name, never a path: only shipped profiles can be named */
	bool known = false;
	for (size_t i = 0; i < s.n; i++)
		known |= vl_streq(s.names[i], name);
	if (!known) {
		rc = unknown_profile(name, &s, err);
		shipped_release(&s);
		return rc;
	}
	shipped_release(&s);

	vl_buf_printf(&b, "%s/%s.ini", dir, name);
	src = vl_buf_steal(&b);
	vl_buf_printf(&b, "%s/%s", ctx->project_dir, VL_PROFILE_FILE);
	dst = vl_buf_steal(&b);
	if (access(dst, F_OK) == 0 && !vl_args_has(a, "force"))
		return vl_err_set(err, VL_E_EXISTS, "%s already exists; use --force to overwrite it",
				  dst);
	if (vl_file_read(src, 64 * 1024, &text, &len, err) < 0)
		return -1;
	if (vl_file_write_atomic(dst, text, len, 0644, err) < 0)
		return -1;
	if (ctx->json) {
		struct vl_json j;
		vl_json_init(&j, &b, true);
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "created", dst);
		vl_json_kstr(&j, "profile", name);
		vl_json_obj_end(&j);
		printf("%s\n", vl_buf_str(&b));
		vl_buf_release(&b);
	} else if (!ctx->quiet)
		printf("created %s from profile '%s'; edit it, then run 'vmlab up'\n", dst, name);
	return 0;
}

static const struct vl_opt opts[] = {
	{ "profile", 'p', VL_OPT_VALUE, "NAME", "start from this shipped profile (default: "
	  DEFAULT_PROFILE ")" },
	{ "force", 'f', VL_OPT_FLAG, NULL, "overwrite an existing vmlab.ini" },
	{ "list", 'l', VL_OPT_FLAG, NULL, "list the shipped profiles" },
	VL_OPT_END,
};

const struct vl_cmd vl_cmd_init = {
	.name = "init",
	.usage = "init [--profile NAME] [--force] [--list]",
	.summary = "create vmlab.ini from a shipped profile",
	.description = "Write vmlab.ini into the project directory (the current one, or -C DIR) "
		       "from profiles/NAME.ini. An existing vmlab.ini is kept unless --force is "
		       "given. The profiles are looked up in $VMLAB_PROFILES, next to the vmlab "
		       "binary, then in the installed data directory.",
	.opts = opts,
	.max_args = 0,
	.run = run,
};
