/* An IPv4 subnet in host byte order. Shared by the plan (subnet choice) and
 * the sources of subnets already in use (libvirt networks, host routes). */
#ifndef VL_SUBNET_H
#define VL_SUBNET_H

#include <stdint.h>

struct vl_subnet {
	uint32_t addr;    /* network address, host bits clear */
	unsigned prefix;  /* 0..32 */
};

#endif
