/* The command table: every CLI command is data (name, usage, options, flags,
 * run), one file each; the dispatcher enforces flags as preconditions. */
#ifndef VL_CMD_H
#define VL_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"
#include "util/err.h"

enum vl_cmd_flags {
	VL_CMD_NEEDS_PROFILE = 1u << 0, /* load + validate vmlab.ini first (implies config) */
	VL_CMD_NEEDS_CONFIG = 1u << 1,  /* load vmlab.conf first */
	VL_CMD_NEEDS_LIBVIRT = 1u << 2, /* connect first; failure exits 3 */
	VL_CMD_UNAVAILABLE = 1u << 3,   /* declared, built by a later issue */
	VL_CMD_HIDDEN = 1u << 4,        /* not listed in help */
	VL_CMD_VM_ARGS = 1u << 5,       /* positional arguments (after a subcommand word) are
					 * VM names, checked before connecting: unknown is exit 2 */
	VL_CMD_CHECK_LAB = 1u << 6,     /* vl_lab_check before connecting: plan and images */
};

enum vl_opt_type {
	VL_OPT_FLAG,
	VL_OPT_VALUE,
	VL_OPT_VMS,     /* a value: VM[,VM...] of the lab, checked like VL_CMD_VM_ARGS */
};

struct vl_opt {
	const char *name;       /* long name without "--" */
	char short_name;        /* 0 if none */
	enum vl_opt_type type;
	const char *metavar;    /* VL_OPT_VALUE: "NAME", "HEX" */
	const char *help;
};

#define VL_OPT_END { NULL, 0, VL_OPT_FLAG, NULL, NULL }

/* A subcommand word (snapshot save, image pull): the dispatcher checks the
 * word and the number of arguments after it before anything is loaded. */
struct vl_subcmd {
	const char *name;
	const char *alias;      /* NULL if none */
	const char *args;       /* usage after the word, e.g. "NAME [--vm VM,...]" */
	int min_args, max_args; /* arguments after the word; max -1: any */
};

#define VL_SUB_END { NULL, NULL, NULL, 0, 0 }

/* An option that changes what a command needs before it runs: when given,
 * flags replace the command's own (status --all reads every lab from
 * libvirt and needs no profile). */
struct vl_opt_flags {
	const char *opt;        /* long name of one of the command's options */
	unsigned flags;         /* enum vl_cmd_flags */
};

#define VL_OPT_FLAGS_END { NULL, 0 }

struct vl_args;

struct vl_cmd {
	const char *name;
	const char *alias;
	const char *usage;      /* after "vmlab ", e.g. "up [VM...] [--dry-run]" */
	const char *summary;    /* one line for the command list */
	const char *description;/* a paragraph for `vmlab help CMD`, or NULL */
	const struct vl_opt *opts;
	const struct vl_subcmd *subs;   /* NULL: no subcommand word */
	unsigned flags;
	const struct vl_opt_flags *opt_flags;  /* the first given wins; NULL: none */
	int min_args, max_args; /* positional arguments; max -1: any (unused with subs) */
	bool takes_rest;        /* accepts "-- CMD ARG..." */
	/* Usage checks beyond the tables (options that exclude each other, a
	 * name's syntax, --force without a terminal), run before anything is
	 * loaded: ctx has the global options only. NULL: none. */
	int (*check_args)(const struct vl_ctx *ctx, const struct vl_args *args, struct vl_err *err);
	int (*run)(struct vl_ctx *ctx, const struct vl_args *args, struct vl_err *err);
};

struct vl_args {
	const struct vl_cmd *cmd;
	const struct vl_subcmd *sub;    /* with cmd->subs: the one given (pos[0]) */
	const char *values[32]; /* per opt index: the value, "" for a given flag, NULL */
	char **pos;
	int npos;
	char **rest;            /* words after "--" */
	int nrest;
	bool has_rest;
};

#define VL_CMD(sym) extern const struct vl_cmd vl_cmd_##sym;
#include "cmd/commands.def"
#undef VL_CMD

extern const struct vl_cmd *const vl_commands[];
extern const size_t vl_n_commands;

/* Find by exact name, alias or unique prefix. On failure err says why,
 * listing candidates when ambiguous or a suggestion for a typo. */
const struct vl_cmd *vl_cmd_find(const char *name, struct vl_err *err);
/* cmd's subcommand named word (name or alias), or NULL. */
const struct vl_subcmd *vl_cmd_find_sub(const struct vl_cmd *cmd, const char *word);
/* Parse argv (after the command word) against cmd's options, subcommands
 * and argument counts. The dispatcher then runs cmd->check_args: every
 * usage error comes before anything is loaded. */
int vl_args_parse(struct vl_args *a, const struct vl_cmd *cmd, int argc, char **argv,
		  struct vl_err *err);
const char *vl_args_get(const struct vl_args *a, const char *opt_name);
bool vl_args_has(const struct vl_args *a, const char *opt_name);
/* "vmlab [--uri URI] ... COMMAND [ARGS]" and the global options, once for
 * --help, usage errors and completion. */
struct vl_global_opt {
	const char *name;       /* "--uri", "-C" */
	const char *alias;      /* "-q" for "--quiet", or NULL */
	const char *metavar;    /* NULL: a flag */
	const char *help;
};
extern const struct vl_global_opt vl_global_opts[];
#define VL_GLOBAL_USAGE "vmlab [--uri URI] [--config FILE] [-C DIR] [--json] [--allow-outside] " \
	"[--insecure] [-q] [-v] COMMAND [ARGS]"
/* The global option named by word ("-q", "--uri=x"), or NULL. */
const struct vl_global_opt *vl_global_opt_find(const char *word);
/* Print the help of one command, or the command list (cmd NULL), to f. */
void vl_cmd_print_help(const struct vl_cmd *cmd, void *file);
/* The flags the dispatcher enforces for parsed args: the command's, or
 * those of an option given that changes them (cmd->opt_flags). */
unsigned vl_args_flags(const struct vl_args *a);
/* Run a command with argv[0] the command word: parse, preconditions, run. */
int vl_cmd_dispatch(struct vl_ctx *ctx, int argc, char **argv, struct vl_err *err);

/* `ssh VM [-- CMD ARG...]` on ctx's lab (cmd_ssh.c; class ssh too): a
 * shell, or the command with a's rest; a remote status other than 0 is
 * VL_E_REMOTE with that status. */
int vl_cmd_ssh_vm(struct vl_ctx *ctx, const char *vm, const struct vl_args *a,
		  struct vl_err *err);

#endif
