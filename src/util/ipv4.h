/* IPv4 addresses and CIDR subnets in host byte order: parse, format, test. */
#ifndef VL_UTIL_IPV4_H
#define VL_UTIL_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#define VL_IPV4_STRLEN 16   /* "255.255.255.255" + NUL */
#define VL_CIDR_STRLEN 19   /* + "/32" */

/* Strict dotted quad: four decimal octets 0-255, no leading zeros, nothing else. */
bool vl_ipv4_parse(const char *s, uint32_t *out);
/* "a.b.c.d/N", N in 0..32; false also when host bits are set ("10.0.0.1/24"). */
bool vl_cidr_parse(const char *s, uint32_t *addr, unsigned *prefix);
void vl_ipv4_format(uint32_t ip, char out[VL_IPV4_STRLEN]);
void vl_cidr_format(uint32_t addr, unsigned prefix, char out[VL_CIDR_STRLEN]);
uint32_t vl_ipv4_mask(unsigned prefix);
bool vl_ipv4_in(uint32_t ip, uint32_t net, unsigned prefix);
bool vl_cidr_overlap(uint32_t a, unsigned pa, uint32_t b, unsigned pb);

#endif
