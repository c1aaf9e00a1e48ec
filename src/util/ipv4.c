/* IPv4 helpers. Parsing is strict on purpose: "010.1.1.1" or "10.1.1" in a
 * profile is a mistake to report, not an address to guess at. */
#include "util/ipv4.h"

#include <stdio.h>
#include <string.h>

bool vl_ipv4_parse(const char *s, uint32_t *out)
{
	uint32_t ip = 0;

	for (int octet = 0; octet < 4; octet++) {
		unsigned v = 0;
		int digits = 0;

		if (octet > 0 && *s++ != '.')
			return false;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return false;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		ip = (ip << 8) | v;
	}
	if (*s != '\0')
		return false;
	*out = ip;
	return true;
}

uint32_t vl_ipv4_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

bool vl_cidr_parse(const char *s, uint32_t *addr, unsigned *prefix)
{
	char ip[VL_IPV4_STRLEN];
	const char *slash = strchr(s, '/');
	unsigned p = 0;
	int digits = 0;
	uint32_t a;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return false;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	for (const char *q = slash + 1; *q; q++) {
		if (*q < '0' || *q > '9' || ++digits > 2)
			return false;
		p = p * 10 + (unsigned)(*q - '0');
	}
	if (digits == 0 || p > 32 || !vl_ipv4_parse(ip, &a))
		return false;
	if (a & ~vl_ipv4_mask(p))
		return false;
	*addr = a;
	*prefix = p;
	return true;
}

void vl_ipv4_format(uint32_t ip, char out[VL_IPV4_STRLEN])
{
	snprintf(out, VL_IPV4_STRLEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
}

void vl_cidr_format(uint32_t addr, unsigned prefix, char out[VL_CIDR_STRLEN])
{
	char ip[VL_IPV4_STRLEN];

	vl_ipv4_format(addr, ip);
	snprintf(out, VL_CIDR_STRLEN, "%s/%u", ip, prefix);
}

bool vl_ipv4_in(uint32_t ip, uint32_t net, unsigned prefix)
{
	return (ip & vl_ipv4_mask(prefix)) == (net & vl_ipv4_mask(prefix));
}

bool vl_cidr_overlap(uint32_t a, unsigned pa, uint32_t b, unsigned pb)
{
	unsigned p = pa < pb ? pa : pb;

	return vl_ipv4_in(a, b, p);
}
