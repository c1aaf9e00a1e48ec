/* Running things inside VMs, the pure part: remote output cut into lines
 * (prefixed per VM by the CLI, so lines of VMs running at once never mix)
 * and the exit status of a command run on several VMs. */
#ifndef VL_REMOTE_H
#define VL_REMOTE_H

#include <stddef.h>

/* Bytes of a partial line held back at most: when full they go out as a
 * piece (a line that arrives whole goes out whole, however long). */
#define VL_LINE_MAX 4096

typedef void (*vl_line_fn)(void *ud, const char *line, size_t len);

/* Feed chunks as they arrive; fn gets each complete line with its '\n'. */
struct vl_lines {
	char buf[VL_LINE_MAX];
	size_t len;
	vl_line_fn fn;
	void *ud;
};

void vl_lines_init(struct vl_lines *l, vl_line_fn fn, void *ud);
void vl_lines_feed(struct vl_lines *l, const char *data, size_t len);
/* At the end: what is left, a last line without '\n' (none if empty). */
void vl_lines_flush(struct vl_lines *l);

/* A VM exec could not run on at all (not running, SSH failed). */
#define VL_EXEC_UNREACHABLE 255

/* exec's exit status from each VM's: 0 when all are 0, 255 when one was
 * unreachable (status VL_EXEC_UNREACHABLE, or negative), else the highest. */
int vl_exec_exit_status(const int *status, size_t n);

#endif
