/* Host routes from /proc/net/route as subnets: a pure parser plus a tiny
 * reader, so subnet choice can avoid networks the host already reaches. */
#include "hostroutes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"
#include "util/mem.h"

#define RTF_UP_FLAG 0x0001u

/* A netmask to its prefix length, or -1 when the bits are not contiguous. */
static int mask_prefix(uint32_t mask)
{
	int p = 0;

	while (p < 32 && (mask & (0x80000000u >> p)))
		p++;
	if (p < 32 && (mask << p) != 0)
		return -1;
	return p;
}

static bool parse_hex32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long x;

	if (!*s)
		return false;
	errno = 0;
	x = strtoul(s, &end, 16);
	if (errno || *end || x > 0xffffffffUL)
		return false;
	*out = (uint32_t)x;
	return true;
}

int vl_hostroutes_parse(const char *text, struct vl_subnet **out, size_t *n)
{
	struct vl_subnet *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *line = text;

	*out = NULL;
	*n = 0;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		VL_AUTOFREE char *copy = vl_strndup(line, len);
		char *f[11], *save = NULL, *tok;
		int nf = 0;
		uint32_t dst, flags, mask;
		int prefix;

		line = nl ? nl + 1 : NULL;
		for (tok = strtok_r(copy, " \t", &save); tok && nf < 11; tok = strtok_r(NULL, " \t", &save))
			f[nf++] = tok;
		/* Iface Destination Gateway Flags RefCnt Use Metric Mask ...; the
		 * header line fails the hex parse and is skipped like junk. */
		if (nf < 8 || !parse_hex32(f[1], &dst) || !parse_hex32(f[3], &flags) ||
		    !parse_hex32(f[7], &mask))
			continue;
		if (!(flags & RTF_UP_FLAG))
			continue;
		/* The kernel prints the raw big-endian words with %08X. */
		dst = ntohl(dst);
		mask = ntohl(mask);
		prefix = mask_prefix(mask);
		if (prefix <= 0)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			v = vl_realloc(v, cap * sizeof(*v));
		}
		v[cnt].addr = dst & mask;
		v[cnt].prefix = (unsigned)prefix;
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int vl_hostroutes_read(const char *path, struct vl_subnet **out, size_t *n, struct vl_err *err)
{
	VL_AUTOFREE char *text = NULL;
	struct vl_err e = VL_ERR_INIT;
	size_t len;

	*out = NULL;
	*n = 0;
	if (!path)
		path = "/proc/net/route";
	if (vl_file_read(path, SIZE_MAX, &text, &len, &e) < 0) {
		if (e.code == VL_E_NOTFOUND)
			return 0;
		if (err)
			*err = e;
		return -1;
	}
	return vl_hostroutes_parse(text, out, n);
}
