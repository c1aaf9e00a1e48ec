/* vmlab cp: copy between this machine and a running VM over its pinned SSH
 * session. copy.c decides where each source lands; the libssh adapter
 * (ssh_copy.c) moves the bytes. */
#include "lab_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/str.h"

static enum vl_cp_kind kind_of_probe(char k)
{
	switch (k) {
	case 'f':
	case 'l':
		return VL_CP_FILE;
	case 'd':
		return VL_CP_DIR;
	case 'o':
		return VL_CP_OTHER;
	default:
		return VL_CP_NONE;
	}
}

static enum vl_cp_kind kind_of_local(const char *path, bool follow)
{
	struct stat st;

	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return VL_CP_NONE;
	if (S_ISDIR(st.st_mode))
		return VL_CP_DIR;
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		return VL_CP_FILE;
	return VL_CP_OTHER;
}

/* The directory part of a path, as copy.c names a target's directory. */
static char *parent_of(const char *path)
{
	struct vl_cp_side src = { .path = "x", .kind = VL_CP_FILE };
	struct vl_cp_side dst = { .path = path, .kind = VL_CP_NONE };
	struct vl_err err = VL_ERR_INIT;
	char *dir = NULL, *name = NULL;

	if (vl_cp_target(&src, false, &dst, 1, &dir, &name, &err) < 0)
		return vl_strdup(".");
	free(name);
	return dir;
}

/* stdin into an unlinked temporary file, so the upload knows its size and
 * reads it like any file: mode 0666 less the umask, as a new file gets. */
static int spool_stdin(char **path, struct vl_err *err)
{
	const char *tmpdir = getenv("TMPDIR");
	char buf[65536];
	ssize_t n;
	mode_t um = umask(0);
	int fd;

	umask(um);
	if (asprintf(path, "%s/vmlab-cp-stdin.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") < 0)
		abort();
	fd = mkostemp(*path, O_CLOEXEC);
	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "temporary file for stdin");
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || vl_fd_write_all(fd, buf, (size_t)n) < 0) {
			vl_err_sys(err, VL_E_IO, errno, "reading stdin");
			close(fd);
			return -1;
		}
	}
	fchmod(fd, 0666 & ~um);
	close(fd);
	return 0;
}

static int upload(struct vl_ssh *s, const struct vl_cp_plan *p, const struct vl_ssh_xfer *x,
		  bool recursive, struct vl_err *err)
{
	VL_AUTOFREE char *parent = parent_of(p->dst.path);
	VL_AUTOFREE char *spool = NULL;
	const char *paths[2] = { p->dst.path, parent };
	struct vl_ssh_put_item *items = vl_calloc(p->n_srcs, sizeof(*items));
	char **names = vl_calloc(p->n_srcs, sizeof(*names));
	VL_AUTOFREE char *dir = NULL;
	char kinds[2];
	bool tar = false;
	int ret = -1;

	if (vl_ssh_probe(s, x, paths, 2, kinds, NULL, &tar, err) < 0)
		goto out;
	if (!tar && !vl_ssh_has_sftp(s)) {
		ret = 1;   /* SFTP it is: the caller connects a session of its own */
		goto out;
	}
	if (p->srcs[0].stdio && spool_stdin(&spool, err) < 0)
		goto out;
	struct vl_cp_side dst = { p->vm, p->dst.path, kind_of_probe(kinds[0]) };
	/* cp -L follows a symlinked DST too; without it, one naming a
	 * directory still counts as the directory (as cp does) */
	if (kinds[0] == 'l') {
		struct vl_ssh_xfer fx = *x;
		fx.follow = true;
		if (vl_ssh_probe(s, &fx, paths, 1, kinds, NULL, &tar, err) < 0)
			goto out;
		dst.kind = kind_of_probe(kinds[0]);
	}
	for (size_t i = 0; i < p->n_srcs; i++) {
		const char *local = spool ? spool : p->srcs[i].path;
		struct vl_cp_side src = { NULL, p->srcs[i].path,
					  spool ? VL_CP_FILE : kind_of_local(local, x->follow) };
		if (spool && dst.kind == VL_CP_DIR) {
			ret = vl_err_set(err, VL_E_USAGE, "cp: %s:%s is a directory; name the file "
					 "stdin goes to", p->vm, p->dst.path);
			goto out;
		}
		free(dir);
		dir = NULL;
		if (vl_cp_target(&src, recursive, &dst, p->n_srcs, &dir, &names[i], err) < 0)
			goto out;
		items[i] = (struct vl_ssh_put_item){ local, names[i] };
	}
	if (dst.kind == VL_CP_NONE && kinds[1] != 'd') {
		ret = vl_err_set(err, VL_E_NOTFOUND, "cp: %s:%s: no such directory", p->vm, parent);
		goto out;
	}
	if (tar) {
		ret = vl_ssh_put_tar(s, x, dir, items, p->n_srcs, err);
		goto out;
	}
	for (size_t i = 0; i < p->n_srcs; i++) {
		struct stat st;
		if ((x->follow ? stat(items[i].local, &st) : lstat(items[i].local, &st)) < 0 ||
		    !S_ISREG(st.st_mode)) {
			ret = vl_err_set(err, VL_E_FAIL, "cp: %s has no tar: only regular files can be "
					 "copied to it (%s is not one)", p->vm, p->srcs[i].path);
			goto out;
		}
		if (vl_ssh_put_sftp(s, x, items[i].local, dir, items[i].name, err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (spool)
		unlink(spool);
	for (size_t i = 0; i < p->n_srcs; i++)
		free(names[i]);
	free(names);
	free(items);
	return ret;
}

static int download(struct vl_ssh *s, const struct vl_cp_plan *p, const struct vl_ssh_xfer *x,
		    bool recursive, struct vl_err *err)
{
	const char **paths = vl_calloc(p->n_srcs, sizeof(*paths));
	char *kinds = vl_calloc(p->n_srcs, 1);
	unsigned long long *sizes = vl_calloc(p->n_srcs, sizeof(*sizes));
	bool tar = false, sftp = vl_ssh_has_sftp(s);
	int ret = -1;

	for (size_t i = 0; i < p->n_srcs; i++)
		paths[i] = p->srcs[i].path;
	if (vl_ssh_probe(s, x, paths, p->n_srcs, kinds, sizes, &tar, err) < 0)
		goto out;
	if (!tar && !sftp && !p->dst.stdio) {
		ret = 1;   /* SFTP it is: the caller connects a session of its own */
		goto out;
	}
	if (p->dst.stdio) {
		char sl[4200];
		snprintf(sl, sizeof(sl), "%s:%s", p->vm, p->srcs[0].path);
		if (kinds[0] == 'n')
			ret = vl_err_set(err, VL_E_NOTFOUND, "cp: %s: no such file or directory", sl);
		else if (kinds[0] != 'f')
			ret = vl_err_set(err, VL_E_USAGE, "cp: %s: only a regular file goes to stdout",
					 sl);
		else if (x->sudo || !sftp)
			ret = vl_ssh_get_cat(s, x, p->srcs[0].path, STDOUT_FILENO, err);
		else
			ret = vl_ssh_get_sftp(s, x, p->srcs[0].path, STDOUT_FILENO, NULL, NULL, err);
		goto out;
	}
	struct vl_cp_side dst = { NULL, p->dst.path, kind_of_local(p->dst.path, true) };
	for (size_t i = 0; i < p->n_srcs; i++) {
		struct vl_cp_side src = { p->vm, p->srcs[i].path, kind_of_probe(kinds[i]) };
		VL_AUTOFREE char *dir = NULL;
		VL_AUTOFREE char *name = NULL;
		struct stat st;
		if (vl_cp_target(&src, recursive, &dst, p->n_srcs, &dir, &name, err) < 0)
			goto out;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			ret = vl_err_set(err, VL_E_NOTFOUND, "cp: %s: no such directory", dir);
			goto out;
		}
		/* a regular file by pipelined SFTP (the user's rights: not with --sudo),
		 * or by cat on the held session; trees, symlinks and --sudo by tar */
		if (kinds[i] == 'f' && !sftp)
			ret = vl_ssh_get_file(s, x, src.path, sizes[i], dir, name, err);
		else if (kinds[i] == 'f' && (!x->sudo || !tar))
			ret = vl_ssh_get_sftp(s, x, src.path, -1, dir, name, err);
		else if (tar)
			ret = vl_ssh_get_tar(s, x, src.path, dir, name, err);
		else
			ret = vl_err_set(err, VL_E_FAIL, "cp: %s has no tar: only regular files can be "
					 "copied from it (%s is not one)", p->vm, src.path);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	free(paths);
	free(kinds);
	free(sizes);
	return ret;
}

/* The held session as cp's runner: the scripts ride the lab's master. */
struct held_runner {
	struct vl_ctx *ctx;
	const char *vm;
};

static int held_run(void *ud, const char *const *argv, size_t argc, int in_fd, int out_fd,
		    int err_fd, int *status, struct vl_err *err)
{
	const struct held_runner *h = ud;

	return lab_held_exec(h->ctx, h->vm, argv, argc, in_fd, out_fd, err_fd, status, err);
}

static int copy(struct vl_ssh *s, const struct vl_cp_plan *p, const struct vl_cp_opts *o,
		struct vl_err *err)
{
	struct vl_ssh_xfer x = { .sudo = o->sudo, .follow = o->follow, .progress = o->progress,
				 .subject = p->vm };

	if (p->dir == VL_CP_UP)
		return upload(s, p, &x, o->recursive, err);
	return download(s, p, &x, o->recursive, err);
}

int vl_lab_cp(struct vl_ctx *ctx, char *const *args, size_t n, const struct vl_cp_opts *o,
	      struct vl_err *err)
{
	VL_AUTOFREE char *host_pub = NULL;
	struct vl_cp_plan p;
	struct vl_ssh_target t;
	struct vl_ssh *s = NULL;
	struct lab lab;
	int ret = -1;

	if (vl_cp_plan_parse(args, n, &p, err) < 0)
		return -1;
	char *const names[] = { (char *)p.vm };
	struct vl_lab_sel sel = { names, 1 };
	if (vl_lab_check_names(ctx, &sel, err) < 0)
		goto out_plan;
	if (lab_open_target(ctx, p.vm, &lab, &t, &host_pub, err) < 0)
		goto out_plan;
	/* the held session carries the probe and the tar streams; a guest
	 * without tar needs SFTP, on a session of our own (pinned the same) */
	lab_held_use(&lab);
	if (lab.held) {
		struct held_runner h = { ctx, p.vm };
		const struct vl_ssh_runner r = { held_run, &h };
		s = vl_ssh_via(&r, p.vm, &ctx->events);
		ret = copy(s, &p, o, err);
		vl_ssh_free(s);
		s = NULL;
		if (ret <= 0)
			goto out;
	}
	if (vl_ssh_connect(&t, &s, err) < 0) {
		ret = -1;
		goto out;
	}
	ret = copy(s, &p, o, err);
	vl_ssh_free(s);
out:
	lab_close(&lab);
out_plan:
	vl_cp_plan_release(&p);
	return ret;
}
