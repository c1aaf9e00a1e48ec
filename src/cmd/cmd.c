/* The dispatcher: command lookup with unique prefixes and suggestions,
 * option parsing from the declared tables, help text, and preconditions
 * (config, profile, libvirt) enforced before a command runs. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/output.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"
#include "virt.h"

#define VL_CMD(sym) &vl_cmd_##sym,
const struct vl_cmd *const vl_commands[] = {
#include "cmd/commands.def"
};
#undef VL_CMD
const size_t vl_n_commands = VL_ARRAY_SIZE(vl_commands);

const struct vl_cmd *vl_cmd_find(const char *name, struct vl_err *err)
{
	const struct vl_cmd *match = NULL;
	struct vl_buf cands = VL_BUF_INIT;
	const char *names[64];
	size_t nnames = 0, nmatch = 0;

	for (size_t i = 0; i < vl_n_commands; i++) {
		const struct vl_cmd *c = vl_commands[i];
		if (vl_streq(c->name, name) || vl_streq(c->alias, name))
			return c;
	}
	for (size_t i = 0; i < vl_n_commands; i++) {
		const struct vl_cmd *c = vl_commands[i];
		if (!(c->flags & VL_CMD_HIDDEN) && nnames < VL_ARRAY_SIZE(names))
			names[nnames++] = c->name;
		if (*name && vl_str_startswith(c->name, name)) {
			vl_buf_printf(&cands, "%s%s", nmatch ? ", " : "", c->name);
			match = c;
			nmatch++;
		}
	}
	if (nmatch == 1) {
		vl_buf_release(&cands);
		return match;
	}
	if (nmatch > 1)
		vl_err_set(err, VL_E_USAGE, "'%s' is ambiguous: %s", name, vl_buf_str(&cands));
	else {
		const char *s = vl_str_suggest(name, names, nnames);
		if (s)
			vl_err_set(err, VL_E_USAGE, "unknown command '%s'; did you mean '%s'?", name, s);
		else
			vl_err_set(err, VL_E_USAGE, "unknown command '%s'; see 'vmlab --help'", name);
	}
	vl_buf_release(&cands);
	return NULL;
}

static int find_opt(const struct vl_cmd *cmd, const char *lname, char sname)
{
	for (int i = 0; cmd->opts && cmd->opts[i].name; i++) {
		if (lname && vl_streq(cmd->opts[i].name, lname))
			return i;
		if (!lname && sname && cmd->opts[i].short_name == sname)
			return i;
	}
	return -1;
}

static int unknown_opt(const struct vl_cmd *cmd, const char *word, struct vl_err *err)
{
	const char *names[32];
	size_t n = 0;
	const char *s;

	for (int i = 0; cmd->opts && cmd->opts[i].name && n < 32; i++)
		names[n++] = cmd->opts[i].name;
	s = vl_str_suggest(word + 2, names, n);
	if (word[1] == '-' && s)
		return vl_err_set(err, VL_E_USAGE, "%s: unknown option '%s'; did you mean '--%s'?",
				  cmd->name, word, s);
	return vl_err_set(err, VL_E_USAGE, "%s: unknown option '%s'; usage: vmlab %s", cmd->name,
			  word, cmd->usage);
}

int vl_args_parse(struct vl_args *a, const struct vl_cmd *cmd, int argc, char **argv,
		  struct vl_err *err)
{
	*a = (struct vl_args){ .cmd = cmd };
	a->pos = vl_calloc((size_t)argc + 1, sizeof(*a->pos));
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		int idx;

		if (vl_streq(w, "--")) {
			if (!cmd->takes_rest)
				return vl_err_set(err, VL_E_USAGE, "%s: unexpected '--'; usage: vmlab %s",
						  cmd->name, cmd->usage);
			a->has_rest = true;
			a->rest = argv + i + 1;
			a->nrest = argc - i - 1;
			break;
		}
		if (w[0] != '-' || w[1] == '\0') {
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (w[1] == '-') {
			VL_AUTOFREE char *name = vl_strdup(w + 2);
			char *eq = strchr(name, '=');
			if (eq)
				*eq = '\0';
			idx = find_opt(cmd, name, 0);
			if (idx < 0)
				return unknown_opt(cmd, w, err);
			if (cmd->opts[idx].type == VL_OPT_FLAG) {
				if (eq)
					return vl_err_set(err, VL_E_USAGE, "%s: option '--%s' takes no value",
							  cmd->name, name);
				a->values[idx] = "";
			} else if (eq) {
				a->values[idx] = w + 2 + (eq - name) + 1;
			} else if (i + 1 < argc) {
				a->values[idx] = argv[++i];
			} else {
				return vl_err_set(err, VL_E_USAGE, "%s: option '--%s' needs a value (%s)",
						  cmd->name, name, cmd->opts[idx].metavar);
			}
			continue;
		}
		/* short options, possibly bundled: -fv, or -n NAME */
		for (const char *p = w + 1; *p; p++) {
			idx = find_opt(cmd, NULL, *p);
			if (idx < 0) {
				char one[3] = { '-', *p, 0 };
				return unknown_opt(cmd, one, err);
			}
			if (cmd->opts[idx].type == VL_OPT_FLAG) {
				a->values[idx] = "";
				continue;
			}
			if (p[1])
				a->values[idx] = p + 1;
			else if (i + 1 < argc)
				a->values[idx] = argv[++i];
			else
				return vl_err_set(err, VL_E_USAGE, "%s: option '-%c' needs a value",
						  cmd->name, *p);
			break;
		}
	}
	if (a->npos < cmd->min_args || (cmd->max_args >= 0 && a->npos > cmd->max_args))
		return vl_err_set(err, VL_E_USAGE, "usage: vmlab %s", cmd->usage);
	return 0;
}

const char *vl_args_get(const struct vl_args *a, const char *opt_name)
{
	int idx = find_opt(a->cmd, opt_name, 0);

	return idx >= 0 ? a->values[idx] : NULL;
}

bool vl_args_has(const struct vl_args *a, const char *opt_name)
{
	return vl_args_get(a, opt_name) != NULL;
}

static void args_release(struct vl_args *a)
{
	free(a->pos);
	a->pos = NULL;
}

void vl_cmd_print_help(const struct vl_cmd *cmd, void *file)
{
	FILE *f = file;

	if (!cmd) {
		fprintf(f, "usage: vmlab [--uri URI] [--config FILE] [-C DIR] [--json] [-q] [-v] "
			   "COMMAND [ARGS]\n\ncommands:\n");
		for (size_t i = 0; i < vl_n_commands; i++) {
			const struct vl_cmd *c = vl_commands[i];
			if (c->flags & VL_CMD_HIDDEN)
				continue;
			fprintf(f, "  %-12s %s%s\n", c->name, c->summary,
				c->flags & VL_CMD_UNAVAILABLE ? " (not available yet)" : "");
		}
		fprintf(f, "\nglobal options:\n"
			   "  --uri URI      libvirt connection URI (default from vmlab.conf)\n"
			   "  --config FILE  use this vmlab.conf instead of the search order\n"
			   "  -C DIR         act on the project in DIR\n"
			   "  --json         machine-readable output on stdout\n"
			   "  -q, --quiet    only errors\n"
			   "  -v, --verbose  more detail\n"
			   "  --version      print the version\n"
			   "\nCommands accept unique prefixes. 'vmlab help COMMAND' for details.\n");
		return;
	}
	fprintf(f, "usage: vmlab %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->description)
		fprintf(f, "\n%s\n", cmd->description);
	if (cmd->opts && cmd->opts[0].name) {
		fprintf(f, "\noptions:\n");
		for (int i = 0; cmd->opts[i].name; i++) {
			const struct vl_opt *o = &cmd->opts[i];
			char spec[64];
			snprintf(spec, sizeof(spec), "%s%c%s--%s%s%s", o->short_name ? "-" : "",
				 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
				 o->name, o->type == VL_OPT_VALUE ? " " : "",
				 o->type == VL_OPT_VALUE ? o->metavar : "");
			fprintf(f, "  %-24s %s\n", spec + (o->short_name ? 0 : 1), o->help);
		}
	}
	if (cmd->flags & VL_CMD_UNAVAILABLE)
		fprintf(f, "\nThis command is not available yet in this version.\n");
}

static int load_preconditions(struct vl_ctx *ctx, const struct vl_cmd *cmd, struct vl_err *err)
{
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	unsigned f = cmd->flags;

	if ((f & (VL_CMD_NEEDS_CONFIG | VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT)) &&
	    !ctx->have_config) {
		if (vl_config_load(&ctx->config, ctx->config_path, &diags, err) < 0) {
			vl_out_diags(ctx, &diags);
			return -1;
		}
		ctx->have_config = true;
	}
	if ((f & VL_CMD_NEEDS_PROFILE) && !ctx->have_profile) {
		VL_AUTOFREE char *path = vl_profile_find(ctx->project_dir, err);
		if (!path)
			return -1;
		if (vl_profile_load(&ctx->profile, path, &diags, err) < 0) {
			vl_out_diags(ctx, &diags);
			return -1;
		}
		ctx->have_profile = true;
	}
	if ((f & VL_CMD_NEEDS_LIBVIRT) && !ctx->virt) {
		const char *uri = ctx->uri ? ctx->uri : ctx->config.uri;
		ctx->virt = vl_virt_open(uri, &ctx->events, err);
		if (!ctx->virt)
			return -1;
	}
	return 0;
}

int vl_cmd_dispatch(struct vl_ctx *ctx, int argc, char **argv, struct vl_err *err)
{
	const struct vl_cmd *cmd = vl_cmd_find(argv[0], err);
	struct vl_args args;
	int rc;

	if (!cmd)
		return -1;
	for (int i = 1; i < argc && !vl_streq(argv[i], "--"); i++) {
		if (vl_streq(argv[i], "--help") || vl_streq(argv[i], "-h")) {
			vl_cmd_print_help(cmd, stdout);
			return 0;
		}
	}
	if (cmd->flags & VL_CMD_UNAVAILABLE)
		return vl_err_set(err, VL_E_UNAVAILABLE, "'%s' is not available yet", cmd->name);
	rc = vl_args_parse(&args, cmd, argc - 1, argv + 1, err);
	if (rc == 0)
		rc = load_preconditions(ctx, cmd, err);
	if (rc == 0)
		rc = cmd->run(ctx, &args, err);
	args_release(&args);
	return rc;
}
