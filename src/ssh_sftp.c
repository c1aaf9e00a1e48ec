/* vmlab cp's SFTP transfers: pipelined reads for single-file downloads (libssh
 * 0.10 has no asynchronous write, so uploads go as tar streams, ssh_copy.c)
 * and a plain upload where the guest has no tar. */
#include "ssh_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "event.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

/* OpenSSH drops a session on SFTP messages over 256 KiB; 64 KiB requests,
 * 16 in flight, keep a 1 MiB window busy on a slow link. */
#define READ_CHUNK 65536
#define READ_DEPTH 16
#define WRITE_CHUNK 32768

static int ssh_fail(struct vl_ssh *s, struct vl_err *err, const char *what)
{
	return vl_err_set(err, VL_E_SSH, "%s: %s: %s", s->where, what, ssh_get_error(s->sess));
}

/* Uploads, where the guest has no tar ----------------------------------------- */

static sftp_session sftp_start(struct vl_ssh *s, struct vl_err *err)
{
	sftp_session sf;

	if (!s->sess) {
		vl_err_set(err, VL_E_SSH, "%s: SFTP needs a session of its own", s->where);
		return NULL;
	}
	sf = sftp_new(s->sess);

	if (!sf) {
		ssh_fail(s, err, "SFTP");
		return NULL;
	}
	if (sftp_init(sf) != SSH_OK) {
		vl_err_set(err, VL_E_SSH, "%s: SFTP: %s (error %d)", s->where,
			   ssh_get_error(s->sess), sftp_get_error(sf));
		sftp_free(sf);
		return NULL;
	}
	return sf;
}

static int sftp_fail(struct vl_ssh *s, sftp_session sf, struct vl_err *err, const char *what,
		     const char *path)
{
	static const char *const why[] = {
		"ok", "end of file", "no such file or directory", "permission denied",
		"failure", "bad message", "no connection", "connection lost", "unsupported",
		"invalid handle", "no such path", "file already exists", "read-only",
	};
	int e = sftp_get_error(sf);

	return vl_err_set(err, VL_E_FAIL, "%s: %s %s: %s", s->where, what, path,
			  e >= 0 && (size_t)e < VL_ARRAY_SIZE(why) ? why[e] : ssh_get_error(s->sess));
}

int vl_ssh_put_sftp(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *local,
		    const char *remote_dir, const char *name, struct vl_err *err)
{
	VL_AUTOFREE char *tmp = NULL;
	VL_AUTOFREE char *dst = NULL;
	char buf[WRITE_CHUNK];
	struct sshx_meter m;
	struct stat st;
	sftp_session sf = NULL;
	sftp_file f = NULL;
	ssize_t n;
	int fd, ret = -1;

	if (x->sudo)
		return vl_err_set(err, VL_E_FAIL, "%s: --sudo needs tar in the VM", s->where);
	fd = open(local, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "%s", local);
	if (asprintf(&tmp, "%s/.%s.vmlab-cp.%ld", remote_dir, name, (long)getpid()) < 0 ||
	    asprintf(&dst, "%s/%s", remote_dir, name) < 0)
		abort();
	sshx_meter_init(&m, s, x, "upload", (uint64_t)st.st_size);
	sf = sftp_start(s, err);
	if (!sf)
		goto out;
	f = sftp_open(sf, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (!f) {
		sftp_fail(s, sf, err, "creating", tmp);
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (vl_cancelled(s->evs)) {
			vl_err_set(err, VL_E_CANCELLED, "%s: copy cancelled", s->where);
			goto out;
		}
		if (sftp_write(f, buf, (size_t)n) != n) {
			sftp_fail(s, sf, err, "writing", tmp);
			goto out;
		}
		sshx_meter_add(&m, (uint64_t)n, false);
	}
	if (n < 0) {
		vl_err_sys(err, VL_E_IO, errno, "%s", local);
		goto out;
	}
	sftp_close(f);
	f = NULL;
	struct sftp_attributes_struct attr = {
		.flags = SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME,
		.permissions = st.st_mode & 07777,
		.atime = (uint32_t)st.st_atime, .mtime = (uint32_t)st.st_mtime,
	};
	if (sftp_setstat(sf, tmp, &attr) < 0) {
		sftp_fail(s, sf, err, "setting the mode of", tmp);
		goto out;
	}
	if (sftp_rename(sf, tmp, dst) < 0) {
		sftp_fail(s, sf, err, "renaming onto", dst);
		goto out;
	}
	sshx_meter_add(&m, 0, true);
	ret = 0;
out:
	if (f)
		sftp_close(f);
	if (ret < 0 && sf)
		sftp_unlink(sf, tmp);
	if (sf)
		sftp_free(sf);
	close(fd);
	return ret;
}

/* Downloads: pipelined reads ---------------------------------------------------- */

/* Read the whole file to fd with READ_DEPTH requests in flight. A short
 * reply before the end (a server may send less) is completed by a plain
 * read at its offset; the requests already sent stay valid. */
static int pipelined_read(struct vl_ssh *s, sftp_session sf, sftp_file f, const char *path,
			  uint64_t size, int fd, struct sshx_meter *m, struct vl_err *err)
{
	uint32_t ids[READ_DEPTH];
	char *buf = vl_malloc(READ_CHUNK);
	uint64_t requested = 0, got = 0;
	size_t head = 0, inflight = 0;
	int ret = -1;

	for (;;) {
		while (inflight < READ_DEPTH && requested < size) {
			int id = sftp_async_read_begin(f, READ_CHUNK);
			if (id < 0) {
				sftp_fail(s, sf, err, "reading", path);
				goto drain;
			}
			ids[(head + inflight) % READ_DEPTH] = (uint32_t)id;
			inflight++;
			requested += READ_CHUNK;
		}
		if (inflight == 0)
			break;
		if (vl_cancelled(s->evs)) {
			vl_err_set(err, VL_E_CANCELLED, "%s: copy cancelled", s->where);
			goto drain;
		}
		int n = sftp_async_read(f, buf, READ_CHUNK, ids[head]);
		head = (head + 1) % READ_DEPTH;
		inflight--;
		if (n < 0) {
			sftp_fail(s, sf, err, "reading", path);
			goto drain;
		}
		if (n > 0 && sshx_write_all(fd, buf, (size_t)n) < 0) {
			vl_err_sys(err, VL_E_IO, errno, "writing");
			goto drain;
		}
		got += (uint64_t)n;
		sshx_meter_add(m, (uint64_t)n, false);
		if (n < READ_CHUNK && got < size && got < requested - inflight * READ_CHUNK) {
			/* fill the gap up to the end of this request */
			uint64_t want = READ_CHUNK - (uint64_t)n;
			uint64_t pos = sftp_tell64(f);
			sftp_seek64(f, got);
			while (want > 0 && got < size) {
				ssize_t r = sftp_read(f, buf, want < READ_CHUNK ? want : READ_CHUNK);
				if (r <= 0)
					break;
				if (sshx_write_all(fd, buf, (size_t)r) < 0) {
					vl_err_sys(err, VL_E_IO, errno, "writing");
					sftp_seek64(f, pos);
					goto drain;
				}
				got += (uint64_t)r;
				want -= (uint64_t)r;
				sshx_meter_add(m, (uint64_t)r, false);
			}
			sftp_seek64(f, pos);
		}
	}
	ret = 0;
drain:
	/* replies still due must be read before the handle is closed */
	while (inflight > 0) {
		sftp_async_read(f, buf, READ_CHUNK, ids[head]);
		head = (head + 1) % READ_DEPTH;
		inflight--;
	}
	free(buf);
	return ret;
}

int sshx_land_open(struct sshx_landing *l, const char *dir, const char *name, struct vl_err *err)
{
	l->tmp = NULL;
	l->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (l->fd >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return vl_err_sys(err, VL_E_IO, errno, "%s", dir);
	if (asprintf(&l->tmp, "%s/.%s.vmlab-cp.XXXXXX", dir, name) < 0)
		abort();
	l->fd = mkostemp(l->tmp, O_CLOEXEC);
	if (l->fd < 0) {
		int e = errno;
		free(l->tmp);
		l->tmp = NULL;
		return vl_err_sys(err, VL_E_IO, e, "%s", dir);
	}
	return 0;
}

int sshx_land_commit(struct sshx_landing *l, const char *dir, const char *name, mode_t mode,
		       time_t mtime, struct vl_err *err)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_NOW }, { .tv_sec = mtime } };
	VL_AUTOFREE char *dst = NULL;
	char proc[64];

	if (asprintf(&dst, "%s/%s", dir, name) < 0)
		abort();
	if (fchmod(l->fd, mode & 07777) < 0 || futimens(l->fd, ts) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "%s", dst);
	if (!l->tmp) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", l->fd);
		if (asprintf(&l->tmp, "%s/.%s.vmlab-cp.%ld", dir, name, (long)getpid()) < 0)
			abort();
		unlink(l->tmp);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, l->tmp, AT_SYMLINK_FOLLOW) < 0) {
			int e = errno;
			free(l->tmp);
			l->tmp = NULL;
			return vl_err_sys(err, VL_E_IO, e, "%s", dst);
		}
	}
	if (rename(l->tmp, dst) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "%s", dst);
	free(l->tmp);
	l->tmp = NULL;
	return 0;
}

void sshx_land_close(struct sshx_landing *l)
{
	if (l->tmp) {
		unlink(l->tmp);
		free(l->tmp);
		l->tmp = NULL;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

int vl_ssh_get_sftp(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote, int fd,
		    const char *local_dir, const char *name, struct vl_err *err)
{
	struct sshx_landing l = { .fd = -1 };
	sftp_session sf = NULL;
	sftp_file f = NULL;
	sftp_attributes a = NULL;
	struct sshx_meter m;
	int ret = -1;

	sf = sftp_start(s, err);
	if (!sf)
		return -1;
	f = sftp_open(sf, remote, O_RDONLY, 0);
	if (!f) {
		sftp_fail(s, sf, err, "opening", remote);
		goto out;
	}
	a = sftp_fstat(f);
	if (!a) {
		sftp_fail(s, sf, err, "reading the size of", remote);
		goto out;
	}
	if (fd < 0) {
		if (sshx_land_open(&l, local_dir, name, err) < 0)
			goto out;
		fd = l.fd;
	}
	sshx_meter_init(&m, s, x, "download", a->size);
	sftp_file_set_blocking(f);
	if (pipelined_read(s, sf, f, remote, a->size, fd, &m, err) < 0)
		goto out;
	sshx_meter_add(&m, 0, true);
	if (l.fd >= 0 && sshx_land_commit(&l, local_dir, name, a->permissions, (time_t)a->mtime, err) < 0)
		goto out;
	ret = 0;
out:
	sshx_land_close(&l);
	if (a)
		sftp_attributes_free(a);
	if (f)
		sftp_close(f);
	sftp_free(sf);
	return ret;
}
