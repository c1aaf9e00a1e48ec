/* vmlab cp [-r] [-L] [--sudo] SRC... DST: copy files to or from a VM
 * (VM:PATH on one side, "-" for stdin/stdout), cp(1)'s rules. */
#include "cmd/cmd.h"

#include "copy.h"
#include "lab.h"

static const struct vl_opt opts[] = {
	{ "recursive", 'r', VL_OPT_FLAG, NULL, "copy directories and what they hold" },
	{ "dereference", 'L', VL_OPT_FLAG, NULL, "copy what symlinks point to, not the links" },
	{ "sudo", 0, VL_OPT_FLAG, NULL, "the VM side runs as root (sudo -n): root-owned paths" },
	VL_OPT_END,
};

/* Operand mistakes (both sides local, two VMs) are usage errors, found
 * before the profile is loaded. */
static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_cp_plan p;

	(void)ctx;
	if (vl_cp_plan_parse(a->pos, (size_t)a->npos, &p, err) < 0)
		return -1;
	vl_cp_plan_release(&p);
	return 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_cp_opts o = {
		.recursive = vl_args_has(a, "recursive"),
		.follow = vl_args_has(a, "dereference"),
		.sudo = vl_args_has(a, "sudo"),
		/* a bar on a terminal; scripts get the copy and nothing else */
		.progress = ctx->tty_err && !ctx->quiet,
	};

	return vl_lab_cp(ctx, a->pos, (size_t)a->npos, &o, err);
}

const struct vl_cmd vl_cmd_cp = {
	.name = "cp",
	.usage = "cp [-r] [-L] [--sudo] SRC... DST",
	.summary = "copy files to or from a VM (VM:PATH, - for stdin/stdout)",
	.description =
		"One side is VM:PATH (a relative PATH starts in the user's home), the other\n"
		"local; '-' is stdin (as the only source) or stdout (for one file). cp(1)'s\n"
		"rules: a DST that is a directory (or several sources) receives each source\n"
		"by its name; otherwise DST is the copy's name. A trailing '/' on SRC changes\n"
		"nothing (not rsync's 'contents of'); on DST it must be an existing directory.\n"
		"Symlinks are copied as symlinks (-L follows them); modes and mtimes are kept.\n"
		"Every file lands under a temporary name and is renamed into place, so an\n"
		"interrupted copy leaves no partial file. Needs tar in the VM for directories,\n"
		"symlinks, uploads' speed and --sudo (SFTP otherwise).",
	.opts = opts,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_NEEDS_LIBVIRT,
	.min_args = 2,
	.max_args = -1,
	.check_args = check_args,
	.run = run,
};
