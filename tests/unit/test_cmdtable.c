/* Self-test of the command table (src/cmd/commands.def): every option that
 * `vmlab help CMD` shows in a usage line (the command's usage and its
 * subcommand lines) is declared in the command's options, and every declared
 * option is shown in a usage line or named in the description. An option in
 * the usage but not in the table is refused by the parser ("unknown option";
 * a global option after the command word is refused too, "put it before the
 * command"): that is how `doctor --json` went unnoticed. And every option
 * that changes a command's preconditions (opt_flags) is one it declares. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/buf.h"
#include "util/str.h"

static bool opt_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Calls fn for each "--long" or "-x" word in text: starts after a blank or
 * one of "[(|", a long name starts with a letter; "--" alone (the end of
 * options) and dashes inside words (ssh-config) are not options. */
static void each_option(const char *text, void (*fn)(const char *opt, size_t len, void *ud),
			void *ud)
{
	for (const char *p = text; p && *p; p++) {
		size_t len;

		if (*p != '-' || (p > text && !strchr(" \t\n[(|", p[-1])))
			continue;
		if (p[1] == '-' && isalpha((unsigned char)p[2])) {
			for (len = 2; opt_char(p[len]); len++)
				;
		} else if (isalnum((unsigned char)p[1]) && !opt_char(p[2])) {
			len = 2;
		} else {
			continue;
		}
		fn(p, len, ud);
		p += len - 1;
	}
}

static bool declared(const struct vl_cmd *cmd, const char *opt, size_t len)
{
	for (const struct vl_opt *o = cmd->opts; o && o->name; o++) {
		if (len == 2 && opt[1] == o->short_name)
			return true;
		if (len == strlen(o->name) + 2 && opt[1] == '-' && !strncmp(opt + 2, o->name, len - 2))
			return true;
	}
	/* The dispatcher takes --help and -h after any command word; other
	 * global options only before it. */
	return (len == 6 && !strncmp(opt, "--help", 6)) || (len == 2 && !strncmp(opt, "-h", 2));
}

struct scan {
	const struct vl_cmd *cmd;
	const char *where;
	struct vl_buf *out;
	size_t problems;
	const char *want;       /* shown(): the option looked for */
	bool found;
};

static void check_shown(const char *opt, size_t len, void *ud)
{
	struct scan *s = ud;

	if (declared(s->cmd, opt, len))
		return;
	vl_buf_printf(s->out, "%s: %s shows %.*s, which is not in its options\n",
		      s->cmd->name, s->where, (int)len, opt);
	s->problems++;
}

static void match(const char *opt, size_t len, void *ud)
{
	struct scan *s = ud;

	if (strlen(s->want) == len && !strncmp(s->want, opt, len))
		s->found = true;
}

static bool shown(const struct vl_cmd *cmd, const char *want)
{
	struct scan s = { .want = want };

	each_option(cmd->usage, match, &s);
	for (const struct vl_subcmd *sc = cmd->subs; sc && sc->name; sc++)
		each_option(sc->args, match, &s);
	each_option(cmd->description, match, &s);
	return s.found;
}

/* The problems of one command, one line each in out; their number. */
static size_t check_cmd(const struct vl_cmd *cmd, struct vl_buf *out)
{
	struct scan s = { .cmd = cmd, .out = out, .where = "usage" };
	char where[64];

	each_option(cmd->usage, check_shown, &s);
	for (const struct vl_subcmd *sc = cmd->subs; sc && sc->name; sc++) {
		snprintf(where, sizeof(where), "subcommand %s", sc->name);
		s.where = where;
		each_option(sc->args, check_shown, &s);
	}
	for (const struct vl_opt *o = cmd->opts; o && o->name; o++) {
		char lng[64], shrt[3] = { '-', o->short_name, 0 };

		snprintf(lng, sizeof(lng), "--%s", o->name);
		if (shown(cmd, lng) || (o->short_name && shown(cmd, shrt)))
			continue;
		vl_buf_printf(out, "%s: option --%s is declared but not in the usage or description\n",
			      cmd->name, o->name);
		s.problems++;
	}
	/* an option that changes the preconditions must be one the parser takes */
	for (const struct vl_opt_flags *f = cmd->opt_flags; f && f->opt; f++) {
		char lng[64];

		snprintf(lng, sizeof(lng), "--%s", f->opt);
		if (declared(cmd, lng, strlen(lng)))
			continue;
		vl_buf_printf(out, "%s: opt_flags names %s, which is not in its options\n",
			      cmd->name, lng);
		s.problems++;
	}
	return s.problems;
}

/* Commands not available yet are refused before their options are parsed:
 * what their usage sketches is printed as a note, and counts once they are
 * built (the flag goes). */
static void test_every_command(void **state)
{
	struct vl_buf out = VL_BUF_INIT, later = VL_BUF_INIT;
	size_t problems = 0, nopts = 0;

	(void)state;
	assert_true(vl_n_commands > 0);
	for (size_t i = 0; i < vl_n_commands; i++) {
		const struct vl_cmd *cmd = vl_commands[i];

		assert_non_null(cmd->usage);
		assert_true(vl_str_startswith(cmd->usage, cmd->name));
		if (cmd->flags & VL_CMD_UNAVAILABLE)
			check_cmd(cmd, &later);
		else
			problems += check_cmd(cmd, &out);
		for (const struct vl_opt *o = cmd->opts; o && o->name; o++)
			nopts++;
	}
	if (later.len)
		fprintf(stderr, "note, not available yet (not counted):\n%s", vl_buf_str(&later));
	if (problems)
		fprintf(stderr, "%s", vl_buf_str(&out));
	vl_buf_release(&out);
	vl_buf_release(&later);
	assert_int_equal(problems, 0);
	assert_true(nopts > 0);
}

/* The checker itself: it must see what it is for. */
static void test_checker_catches(void **state)
{
	static const struct vl_opt opts[] = {
		{ "dry-run", 'n', VL_OPT_FLAG, NULL, "dry" },
		{ "vm", 0, VL_OPT_VMS, "VM", "vm" },
		{ "unshown", 0, VL_OPT_FLAG, NULL, "in no usage" },
		{ "told", 0, VL_OPT_FLAG, NULL, "named in the description" },
		VL_OPT_END,
	};
	static const struct vl_subcmd subs[] = {
		{ "save", NULL, "NAME [--vm VM,...] [--bogus]", 1, 1 },
		VL_SUB_END,
	};
	static const struct vl_opt_flags opt_flags[] = {
		{ "dry-run", 0 },
		{ "missing", 0 },
		VL_OPT_FLAGS_END,
	};
	const struct vl_cmd bad = {
		.name = "fake-cmd",
		.opt_flags = opt_flags,
		.usage = "fake-cmd [-n] [-h] [--json] [-q] [-z] [--undeclared=X] [-- CMD...]|save",
		.description = "With --told, more. See also vmlab up --not-ours.",
		.opts = opts,
		.subs = subs,
	};
	struct vl_buf out = VL_BUF_INIT;

	(void)state;
	assert_int_equal(check_cmd(&bad, &out), 7);
	/* global options are not taken after the command word */
	assert_non_null(strstr(vl_buf_str(&out), "usage shows --json,"));
	assert_non_null(strstr(vl_buf_str(&out), "usage shows -q,"));
	assert_non_null(strstr(vl_buf_str(&out), "usage shows -z,"));
	assert_non_null(strstr(vl_buf_str(&out), "usage shows --undeclared,"));
	assert_non_null(strstr(vl_buf_str(&out), "subcommand save shows --bogus,"));
	assert_non_null(strstr(vl_buf_str(&out), "option --unshown is declared"));
	assert_non_null(strstr(vl_buf_str(&out), "opt_flags names --missing,"));
	vl_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command),
		cmocka_unit_test(test_checker_catches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
