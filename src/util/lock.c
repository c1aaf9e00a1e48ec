/* flock-based lock files. The holder's PID is written into the file only to
 * make the "locked by" message useful; the lock itself is the flock. */
#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* flock fd, polling every 0.1 s for up to wait_s seconds: 0, 1 when still
 * held at the end, -1 on another error (err set). */
static int lock_wait(int fd, const char *path, unsigned wait_s, struct vl_err *err)
{
	struct timespec nap = { 0, 100 * 1000 * 1000 };
	unsigned waited_ms = 0;

	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return vl_err_sys(err, VL_E_IO, errno, "cannot lock %s", path);
		if (waited_ms >= wait_s * 1000)
			return 1;
		nanosleep(&nap, NULL);
		waited_ms += 100;
	}
	return 0;
}

int vl_lock_take(struct vl_lock *l, const char *path, unsigned wait_s, struct vl_err *err)
{
	char pid[32];
	int fd, n, r;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "cannot open lock %s", path);
	if ((r = lock_wait(fd, path, wait_s, err)) != 0) {
		if (r < 0) {
			close(fd);
			return -1;
		}
		char holder[32] = "";
		ssize_t got = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[got > 0 ? got : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		close(fd);
		return vl_err_set(err, VL_E_LOCKED,
				  "another vmlab command (pid %s) is working on this lab; try again when it ends",
				  holder[0] ? holder : "?");
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) {
		/* the PID is only informational */
	}
	l->fd = fd;
	return 0;
}

int vl_lock_take_shared(struct vl_lock *l, const char *path, unsigned wait_s,
			struct vl_err *err)
{
	int fd = -1, r;

	/* open it if it exists (maybe another user's: flock needs no write
	 * access), else create it readable by all, racing creators welcome */
	for (int tries = 0; fd < 0 && tries < 3; tries++) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT) {
			fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (fd >= 0)
				fchmod(fd, 0644);   /* whatever the umask */
		}
		if (fd < 0 && errno != ENOENT && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "cannot open lock %s", path);
	if ((r = lock_wait(fd, path, wait_s, err)) != 0) {
		close(fd);
		return r < 0 ? -1 : vl_err_set(err, VL_E_LOCKED, "%s is still held after %u s "
					       "(another vmlab is choosing a subnet on this host)",
					       path, wait_s);
	}
	l->fd = fd;
	return 0;
}

void vl_lock_release(struct vl_lock *l)
{
	if (l->fd >= 0) {
		flock(l->fd, LOCK_UN);
		close(l->fd);
		l->fd = -1;
	}
}
