/* The held session's messages: NUL-separated fields in one packet (argv
 * words may hold any byte but NUL, as in execve), and when the master may
 * end. Pure, unit-tested (tests/unit/test_held.c). */
#include "held_proto.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/str.h"

void vl_held_encode(struct vl_buf *b, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vl_buf_appendn(b, fields[i], strlen(fields[i]) + 1);
}

int vl_held_decode(const void *data, size_t len, struct vl_held_msg *m, struct vl_err *err)
{
	*m = (struct vl_held_msg){ 0 };
	if (len == 0 || ((const char *)data)[len - 1] != '\0')
		return vl_err_set(err, VL_E_FAIL, "held session: malformed message");
	m->data = vl_malloc(len);
	memcpy(m->data, data, len);
	for (size_t at = 0; at < len; at += strlen(m->data + at) + 1) {
		if (m->n == VL_HELD_FIELDS_MAX) {
			vl_held_msg_release(m);
			return vl_err_set(err, VL_E_FAIL, "held session: more than %d fields",
					  VL_HELD_FIELDS_MAX);
		}
		m->f[m->n++] = m->data + at;
	}
	return 0;
}

void vl_held_msg_release(struct vl_held_msg *m)
{
	free(m->data);
	m->data = NULL;
	m->n = 0;
}

bool vl_held_is(const struct vl_held_msg *m, size_t i, const char *s)
{
	return i < m->n && vl_streq(m->f[i], s);
}

bool vl_held_idle_over(int64_t now_ms, int64_t last_use_ms, unsigned persist_s, size_t in_use)
{
	return in_use == 0 && now_ms - last_use_ms >= (int64_t)persist_s * 1000;
}

bool vl_held_rides(unsigned persist_s, const char *instance)
{
	return persist_s > 0 && !instance;
}
