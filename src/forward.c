/* Port forward specs: [[BIND:]LOCAL:]REMOTE, like ssh -L without the remote
 * host (the guest's own loopback is what a lab VM serves on). Pure. */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ipv4.h"
#include "util/mem.h"
#include "util/str.h"

static int port(const char *spec, const char *word, const char *what, unsigned *out,
		struct vl_err *err)
{
	unsigned long long n;

	if (!vl_str_to_u64(word, &n) || n < 1 || n > 65535)
		return vl_err_set(err, VL_E_USAGE, "forward '%s': %s port must be 1 to 65535, not '%s'",
				  spec, what, word);
	*out = (unsigned)n;
	return 0;
}

int vl_fwd_parse(const char *s, struct vl_fwd_spec *out, struct vl_err *err)
{
	VL_AUTOFREE char *copy = vl_strdup(s);
	char *w[4] = { 0 };
	size_t n = 0;
	uint32_t a;

	*out = (struct vl_fwd_spec){ .bind = VL_FWD_BIND_DEFAULT };
	for (char *p = copy, *c; n < 4; p = c + 1) {
		w[n++] = p;
		c = strchr(p, ':');
		if (!c)
			break;
		*c = '\0';
	}
	if (n == 4 || n == 0 || !*s)
		return vl_err_set(err, VL_E_USAGE, "forward '%s': write [[BIND:]LOCAL:]REMOTE, "
				  "for example 8080:80", s);
	if (port(s, w[n - 1], "remote", &out->remote, err) < 0)
		return -1;
	out->local = out->remote;
	if (n >= 2 && port(s, w[n - 2], "local", &out->local, err) < 0)
		return -1;
	if (n == 3) {
		if (vl_streq(w[0], "localhost"))
			return 0;
		if (!vl_ipv4_parse(w[0], &a))
			return vl_err_set(err, VL_E_USAGE, "forward '%s': bind address '%s' is not an "
					  "IPv4 address such as 127.0.0.1 or 0.0.0.0", s, w[0]);
		vl_ipv4_format(a, out->bind);
	}
	return 0;
}

void vl_fwd_format(const struct vl_fwd_spec *f, char *out, unsigned size)
{
	snprintf(out, size, "%s:%u -> %u", f->bind, f->local, f->remote);
}
