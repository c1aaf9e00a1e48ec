/* vl_file_tail: the last bytes of a log file (a VM's serial console), read
 * with one seek so a huge log costs no more than its tail. */
#include "util/tail.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mem.h"

int vl_file_tail(const char *path, size_t max_bytes, char **out, size_t *len, struct vl_err *err)
{
	struct stat st;
	char *buf;
	size_t want, got = 0;
	off_t start;
	int fd;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vl_err_sys(err, errno == ENOENT ? VL_E_NOTFOUND : VL_E_IO, errno, "%s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return vl_err_sys(err, VL_E_IO, e, "%s", path);
	}
	/* The file may grow while we read: read what was there at fstat time. */
	want = (size_t)st.st_size < max_bytes ? (size_t)st.st_size : max_bytes;
	start = st.st_size - (off_t)want;
	buf = vl_malloc(want + 1);
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, start + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			close(fd);
			return vl_err_sys(err, VL_E_IO, e, "%s", path);
		}
		if (r == 0)
			break;  /* truncated under us (log rotation): keep what we have */
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	if (start > 0) {
		/* Cut mid-line: start at the next whole line if there is one. */
		char *nl = memchr(buf, '\n', got);

		if (nl && (size_t)(nl - buf) + 1 < got) {
			size_t skip = (size_t)(nl - buf) + 1;

			memmove(buf, buf + skip, got - skip + 1);
			got -= skip;
		}
	}
	*out = buf;
	*len = got;
	return 0;
}
