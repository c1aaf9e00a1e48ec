/* The held session's wire format (docs/held-session.md): one message per
 * SOCK_SEQPACKET packet, fields separated by NUL bytes, the first field of a
 * request the protocol version. Plus the master's idle decision. Pure. */
#ifndef VL_HELD_PROTO_H
#define VL_HELD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define VL_HELD_VERSION "vmlab-held/1"
#define VL_HELD_MSG_MAX (64 * 1024)
#define VL_HELD_FIELDS_MAX 1024
#define VL_HELD_SOCK "held.sock"
#define VL_HELD_LOCK "held.lock"
#define VL_HELD_LOG "held.log"

/* A decoded message; fields point into data (owned). */
struct vl_held_msg {
	char *data;
	const char *f[VL_HELD_FIELDS_MAX];
	size_t n;
};

/* Append fields[0..n) to b, each followed by a NUL. */
void vl_held_encode(struct vl_buf *b, const char *const *fields, size_t n);
/* Split len bytes into fields: every field must end in a NUL, at most
 * VL_HELD_FIELDS_MAX of them, at least one. VL_E_FAIL otherwise. */
int vl_held_decode(const void *data, size_t len, struct vl_held_msg *m, struct vl_err *err);
void vl_held_msg_release(struct vl_held_msg *m);
/* Whether field i exists and equals s. */
bool vl_held_is(const struct vl_held_msg *m, size_t i, const char *s);

/* The master ends when nothing uses it (no forward, no request running)
 * and the last use was persist_s or more ago. */
bool vl_held_idle_over(int64_t now_ms, int64_t last_use_ms, unsigned persist_s, size_t in_use);

/* Whether commands to a lab ride its held session: persist on, and the
 * project's own lab (a class seat, instance set, may live on another host
 * or behind a jump host the master is not told about: it connects
 * directly). ssh, exec, cp and provisioners all decide here. */
bool vl_held_rides(unsigned persist_s, const char *instance);

#endif
