/* The dispatcher: command lookup with unique prefixes and suggestions,
 * option parsing from the declared tables, help text, and preconditions
 * (config, profile, libvirt) enforced before a command runs. */
#include "host.h"
#include "cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/output.h"
#include "lab.h"
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

const struct vl_global_opt vl_global_opts[] = {
	{ "--uri", NULL, "URI", "libvirt connection URI (default from vmlab.conf)" },
	{ "--config", NULL, "FILE", "use this vmlab.conf instead of the search order" },
	{ "-C", NULL, "DIR", "act on the project in DIR" },
	{ "--json", NULL, NULL, "machine-readable output on stdout (one JSON document)" },
	{ "--allow-outside", NULL, NULL, "let the profile name paths outside its project directory" },
	{ "--insecure", NULL, NULL, "let the profile use image URLs without a checksum" },
	{ "--quiet", "-q", NULL, "only errors and warnings on stderr" },
	{ "--verbose", "-v", NULL, "more detail" },
	{ "--version", NULL, NULL, "print the version" },
	{ "--help", "-h", NULL, "this help" },
	{ NULL, NULL, NULL, NULL },
};

const struct vl_global_opt *vl_global_opt_find(const char *word)
{
	size_t len = strcspn(word, "=");

	for (const struct vl_global_opt *g = vl_global_opts; g->name; g++) {
		if ((strlen(g->name) == len && strncmp(g->name, word, len) == 0) ||
		    vl_streq(g->alias, word))
			return g;
	}
	return NULL;
}

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
		/* hidden commands answer to their exact name only */
		if (*name && !(c->flags & VL_CMD_HIDDEN) && vl_str_startswith(c->name, name)) {
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

	/* a global option after the command word: say where it goes */
	if (vl_global_opt_find(word))
		return vl_err_set(err, VL_E_USAGE, "%s: '%s' is a global option; put it before the "
				  "command: vmlab %s %s ...", cmd->name, word, word, cmd->name);
	for (int i = 0; cmd->opts && cmd->opts[i].name && n < 32; i++)
		names[n++] = cmd->opts[i].name;
	s = vl_str_suggest(word + 2, names, n);
	if (word[1] == '-' && s)
		return vl_err_set(err, VL_E_USAGE, "%s: unknown option '%s'; did you mean '--%s'?",
				  cmd->name, word, s);
	return vl_err_set(err, VL_E_USAGE, "%s: unknown option '%s'; usage: vmlab %s", cmd->name,
			  word, cmd->usage);
}

const struct vl_subcmd *vl_cmd_find_sub(const struct vl_cmd *cmd, const char *word)
{
	for (const struct vl_subcmd *sc = cmd->subs; sc && sc->name; sc++)
		if (vl_streq(sc->name, word) || vl_streq(sc->alias, word))
			return sc;
	return NULL;
}

/* Positional arguments against the table: the subcommand word and the
 * count after it, naming the word that is missing or one too many. */
static int check_positional(struct vl_args *a, const struct vl_cmd *cmd, struct vl_err *err)
{
	int min = cmd->min_args, max = cmd->max_args, skip = 0;
	char usage[512];

	snprintf(usage, sizeof(usage), "%s", cmd->usage);
	if (cmd->subs) {
		struct vl_buf words = VL_BUF_INIT;
		const struct vl_subcmd *sc;
		for (sc = cmd->subs; sc->name; sc++)
			vl_buf_printf(&words, "%s%s", sc == cmd->subs ? "" : (sc[1].name ? ", " : " or "),
				      sc->name);
		if (a->npos == 0) {
			vl_err_set(err, VL_E_USAGE, "%s: missing subcommand (%s); usage: vmlab %s",
				   cmd->name, vl_buf_str(&words), cmd->usage);
			vl_buf_release(&words);
			return -1;
		}
		a->sub = vl_cmd_find_sub(cmd, a->pos[0]);
		if (!a->sub) {
			vl_err_set(err, VL_E_USAGE, "%s: unknown subcommand '%s'; use %s", cmd->name,
				   a->pos[0], vl_buf_str(&words));
			vl_buf_release(&words);
			return -1;
		}
		vl_buf_release(&words);
		snprintf(usage, sizeof(usage), "%s %s%s%s", cmd->name, a->sub->name,
			 a->sub->args ? " " : "", a->sub->args ? a->sub->args : "");
		min = a->sub->min_args;
		max = a->sub->max_args;
		skip = 1;
	}
	if (a->npos - skip < min)
		return vl_err_set(err, VL_E_USAGE, "%s: missing argument; usage: vmlab %s",
				  cmd->name, usage);
	if (max >= 0 && a->npos - skip > max)
		return vl_err_set(err, VL_E_USAGE, "%s: unexpected argument '%s'; usage: vmlab %s",
				  cmd->name, a->pos[skip + max], usage);
	return 0;
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
				return vl_err_set(err, VL_E_USAGE, "%s: option '-%c' needs a value (%s)",
						  cmd->name, *p, cmd->opts[idx].metavar);
			break;
		}
	}
	return check_positional(a, cmd, err);
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
		fprintf(f, "usage: %s\n\ncommands:\n", VL_GLOBAL_USAGE);
		for (size_t i = 0; i < vl_n_commands; i++) {
			const struct vl_cmd *c = vl_commands[i];
			if (c->flags & VL_CMD_HIDDEN)
				continue;
			fprintf(f, "  %-12s %s%s\n", c->name, c->summary,
				c->flags & VL_CMD_UNAVAILABLE ? " (not available yet)" : "");
		}
		fprintf(f, "\nglobal options (before the command):\n");
		for (const struct vl_global_opt *g = vl_global_opts; g->name; g++) {
			char spec[64];
			snprintf(spec, sizeof(spec), "%s%s%s%s%s", g->alias ? g->alias : "",
				 g->alias ? ", " : "", g->name, g->metavar ? " " : "",
				 g->metavar ? g->metavar : "");
			fprintf(f, "  %-16s %s\n", spec, g->help);
		}
		fprintf(f, "\nCommands accept unique prefixes. 'vmlab help COMMAND' for details.\n");
		return;
	}
	fprintf(f, "usage: vmlab %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->alias)
		fprintf(f, "\nalias: %s\n", cmd->alias);
	if (cmd->subs) {
		fprintf(f, "\nsubcommands:\n");
		for (const struct vl_subcmd *sc = cmd->subs; sc->name; sc++)
			fprintf(f, "  %s %s%s%s%s%s%s\n", cmd->name, sc->name, sc->args ? " " : "",
				sc->args ? sc->args : "", sc->alias ? "   (alias: " : "",
				sc->alias ? sc->alias : "", sc->alias ? ")" : "");
	}
	if (cmd->description)
		fprintf(f, "\n%s\n", cmd->description);
	if (cmd->opts && cmd->opts[0].name) {
		fprintf(f, "\noptions:\n");
		for (int i = 0; cmd->opts[i].name; i++) {
			const struct vl_opt *o = &cmd->opts[i];
			char spec[64];
			snprintf(spec, sizeof(spec), "%s%c%s--%s%s%s", o->short_name ? "-" : "",
				 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
				 o->name, o->type != VL_OPT_FLAG ? " " : "",
				 o->type != VL_OPT_FLAG ? o->metavar : "");
			fprintf(f, "  %-24s %s\n", spec + (o->short_name ? 0 : 1), o->help);
		}
	}
	if (cmd->flags & VL_CMD_UNAVAILABLE)
		fprintf(f, "\nThis command is not available yet in this version.\n");
}

unsigned vl_args_flags(const struct vl_args *a)
{
	for (const struct vl_opt_flags *o = a->cmd->opt_flags; o && o->opt; o++)
		if (vl_args_has(a, o->opt))
			return o->flags;
	return a->cmd->flags;
}

/* VM names on the command line (positional with VL_CMD_VM_ARGS, values of
 * VL_OPT_VMS options) against the profile, before any connection. */
static int check_vm_names(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const struct vl_cmd *cmd = a->cmd;

	if (vl_args_flags(a) & VL_CMD_VM_ARGS) {
		int skip = a->sub ? 1 : 0;
		struct vl_lab_sel sel = { a->pos + skip, (size_t)(a->npos - skip) };
		if (vl_lab_check_names(ctx, &sel, err) < 0)
			return -1;
	}
	for (int i = 0; cmd->opts && cmd->opts[i].name; i++) {
		if (cmd->opts[i].type != VL_OPT_VMS || !a->values[i])
			continue;
		VL_AUTOFREE char *copy = vl_strdup(a->values[i]);
		char *names[64], *rest = copy, *tok;
		size_t n = 0;
		while ((tok = strsep(&rest, ",")) && n < VL_ARRAY_SIZE(names)) {
			if (!*tok)
				return vl_err_set(err, VL_E_USAGE, "%s: --%s '%s' has an empty VM name",
						  cmd->name, cmd->opts[i].name, a->values[i]);
			names[n++] = tok;
		}
		struct vl_lab_sel sel = { names, n };
		if (vl_lab_check_names(ctx, &sel, err) < 0)
			return -1;
	}
	return 0;
}

/* Config, profile and what can be checked without libvirt, then libvirt:
 * a bad profile or VM name is exit 2 even when libvirt is unreachable. */
static int load_preconditions(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	unsigned f = vl_args_flags(a);

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
		struct vl_profile_trust trust = vl_ctx_trust(ctx);
		if (vl_profile_load_trusted(&ctx->profile, path, &trust, &diags, err) < 0) {
			vl_out_diags(ctx, &diags);
			return -1;
		}
		ctx->have_profile = true;
	}
	if (ctx->have_profile && check_vm_names(ctx, a, err) < 0)
		return -1;
	if ((f & VL_CMD_CHECK_LAB) && vl_lab_check(ctx, &diags, err) < 0) {
		vl_out_diags(ctx, &diags);
		return -1;
	}
	if ((f & VL_CMD_NEEDS_LIBVIRT) && !ctx->host) {
		const char *uri = ctx->uri ? ctx->uri : ctx->config.uri;
		ctx->events.host = uri;   /* events name the host they are about */
		ctx->host = vl_host_open(uri, err);
		if (!ctx->host)
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
	if (rc == 0 && cmd->check_args)
		rc = cmd->check_args(ctx, &args, err);
	if (rc == 0)
		rc = load_preconditions(ctx, &args, err);
	if (rc == 0)
		rc = cmd->run(ctx, &args, err);
	args_release(&args);
	return rc;
}
