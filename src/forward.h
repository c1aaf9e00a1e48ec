/* Port forwards (`vmlab forward`, `forward =` in a VM section): the spec
 * [[BIND:]LOCAL:]REMOTE parsed and printed. Pure; the forwarding itself is
 * the held session's (lab_held.c) over libssh (ssh_forward.c). */
#ifndef VL_FORWARD_H
#define VL_FORWARD_H

#include "util/err.h"

#define VL_FWD_BIND_DEFAULT "127.0.0.1"

struct vl_fwd_spec {
	char bind[16];        /* dotted IPv4 address to listen on */
	unsigned local;       /* local port, 1..65535 */
	unsigned remote;      /* port on the guest's own loopback */
};

/* "80" (local 80 -> 80), "8080:80", "0.0.0.0:8080:80" or
 * "localhost:8080:80". VL_E_USAGE with one line naming the spec otherwise. */
int vl_fwd_parse(const char *s, struct vl_fwd_spec *out, struct vl_err *err);
/* "127.0.0.1:8080 -> 80" into out (at least 48 bytes). */
void vl_fwd_format(const struct vl_fwd_spec *f, char *out, unsigned size);

#endif
