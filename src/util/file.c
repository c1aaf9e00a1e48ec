/* Whole-file I/O for the core: bounded reads into memory and atomic writes
 * (temporary file, fsync, rename or link). Streams and tails live elsewhere
 * (util/tail.c, util/sha256.c). */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/mem.h"

int vl_file_read(const char *path, size_t max, char **text, size_t *len, struct vl_err *err)
{
	struct vl_buf b = VL_BUF_INIT;
	char chunk[4096];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*text = NULL;
	*len = 0;
	if (fd < 0)
		return vl_err_sys(err, errno == ENOENT ? VL_E_NOTFOUND : VL_E_IO, errno, "%s", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return vl_err_sys(err, VL_E_IO, EISDIR, "%s", path);
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			vl_buf_release(&b);
			return vl_err_sys(err, VL_E_IO, e, "reading %s", path);
		}
		if (n == 0)
			break;
		if ((size_t)n > max - b.len) {
			close(fd);
			vl_buf_release(&b);
			return vl_err_set(err, VL_E_IO, "%s: larger than %zu bytes", path, max);
		}
		vl_buf_appendn(&b, chunk, (size_t)n);
	}
	close(fd);
	*len = b.len;
	*text = b.s ? vl_buf_steal(&b) : vl_strdup("");
	return 0;
}

int vl_fd_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int vl_dir_private_ensure(const char *path, struct vl_err *err)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return vl_err_sys(err, VL_E_IO, errno, "cannot create %s", path);
	if (lstat(path, &st) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "%s", path);
	if (S_ISLNK(st.st_mode))
		return vl_err_set(err, VL_E_IO, "%s is a symlink: vmlab keeps keys there and does "
				  "not follow it; remove it", path);
	if (!S_ISDIR(st.st_mode))
		return vl_err_set(err, VL_E_IO, "%s is not a directory; remove it", path);
	if (st.st_uid != geteuid())
		return vl_err_set(err, VL_E_IO, "%s is owned by uid %u, not by you (uid %u); "
				  "vmlab keeps keys there: remove it", path, (unsigned)st.st_uid,
				  (unsigned)geteuid());
	return 0;
}

static int write_via_temp(const char *path, const void *data, size_t len, mode_t mode,
			  bool exclusive, struct vl_err *err)
{
	struct vl_buf tmp = VL_BUF_INIT;
	int fd, ret = 0;

	vl_buf_printf(&tmp, "%s.tmp.XXXXXX", path);
	/* 0600, O_EXCL: unique across threads too; never through a symlink */
	fd = mkostemp(tmp.s, O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = vl_err_sys(err, VL_E_IO, errno, "cannot create %s", tmp.s);
		vl_buf_release(&tmp);
		return ret;
	}
	if (fchmod(fd, mode) < 0 || vl_fd_write_all(fd, data, len) < 0 || fsync(fd) < 0)
		ret = vl_err_sys(err, VL_E_IO, errno, "cannot write %s", tmp.s);
	if (close(fd) < 0 && ret == 0)
		ret = vl_err_sys(err, VL_E_IO, errno, "cannot write %s", tmp.s);
	if (ret == 0 && exclusive && link(tmp.s, path) < 0)
		ret = vl_err_sys(err, errno == EEXIST ? VL_E_EXISTS : VL_E_IO, errno,
				 "cannot create %s", path);
	else if (ret == 0 && !exclusive && rename(tmp.s, path) < 0)
		ret = vl_err_sys(err, VL_E_IO, errno, "cannot rename %s to %s", tmp.s, path);
	if (ret < 0 || exclusive)
		unlink(tmp.s);   /* after link(), or on failure */
	vl_buf_release(&tmp);
	return ret;
}

int vl_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct vl_err *err)
{
	return write_via_temp(path, data, len, mode, false, err);
}

int vl_file_write_new(const char *path, const void *data, size_t len, mode_t mode,
		      struct vl_err *err)
{
	return write_via_temp(path, data, len, mode, true, err);
}
