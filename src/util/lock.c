/* flock-based lock files. The holder's PID is written into the file only to
 * make the "locked by" message useful; the lock itself is the flock. */
#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int vl_lock_take(struct vl_lock *l, const char *path, unsigned wait_s, struct vl_err *err)
{
	struct timespec nap = { 0, 100 * 1000 * 1000 };
	unsigned waited_ms = 0;
	char pid[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "cannot open lock %s", path);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return vl_err_sys(err, VL_E_IO, errno, "cannot lock %s", path);
		}
		if (waited_ms >= wait_s * 1000) {
			char holder[32] = "";
			ssize_t r = pread(fd, holder, sizeof(holder) - 1, 0);
			holder[r > 0 ? r : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			close(fd);
			return vl_err_set(err, VL_E_LOCKED,
					  "another vmlab command (pid %s) is working on this lab; try again when it ends",
					  holder[0] ? holder : "?");
		}
		nanosleep(&nap, NULL);
		waited_ms += 100;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) {
		/* the PID is only informational */
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
