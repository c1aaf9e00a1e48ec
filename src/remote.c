/* Remote output into lines, and the exit status of a command run on several
 * VMs (remote.h). Pure. */
#include "remote.h"

#include <string.h>

void vl_lines_init(struct vl_lines *l, vl_line_fn fn, void *ud)
{
	l->len = 0;
	l->fn = fn;
	l->ud = ud;
}

void vl_lines_feed(struct vl_lines *l, const char *data, size_t len)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) + 1 : len;

		if (l->len == 0 && nl) {
			l->fn(l->ud, data, take);   /* a whole line: no copy */
		} else {
			size_t room = sizeof(l->buf) - l->len;
			if (take > room)
				take = room;
			memcpy(l->buf + l->len, data, take);
			l->len += take;
			if (l->buf[l->len - 1] == '\n' || l->len == sizeof(l->buf)) {
				l->fn(l->ud, l->buf, l->len);
				l->len = 0;
			}
		}
		data += take;
		len -= take;
	}
}

void vl_lines_flush(struct vl_lines *l)
{
	if (l->len)
		l->fn(l->ud, l->buf, l->len);
	l->len = 0;
}

int vl_exec_exit_status(const int *status, size_t n)
{
	int worst = 0;

	for (size_t i = 0; i < n; i++) {
		if (status[i] < 0 || status[i] >= VL_EXEC_UNREACHABLE)
			return VL_EXEC_UNREACHABLE;
		if (status[i] > worst)
			worst = status[i];
	}
	return worst;
}
