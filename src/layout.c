/* The address layout of a lab subnet (see layout.h): network, gateway,
 * reserved host-side addresses, the VMs' static range, the DHCP range. */
#include "layout.h"

#include <stddef.h>

#include "util/ipv4.h"

void vl_layout_init(struct vl_layout *l, uint32_t addr, unsigned prefix)
{
	uint64_t size = (uint64_t)1 << (32 - prefix);

	l->prefix = prefix;
	l->subnet = addr & vl_ipv4_mask(prefix);
	l->gateway = l->subnet + 1;
	l->broadcast = (uint32_t)(l->subnet + size - 1);
	if (size >= VL_LAYOUT_DHCP_MIN_SIZE) {
		l->dhcp_start = (uint32_t)(l->subnet + size / 2);
		l->dhcp_end = l->broadcast - 1;
	} else {
		l->dhcp_start = l->dhcp_end = 0;
	}
	l->vm_first = l->subnet + (size >= VL_LAYOUT_RESERVED_MIN_SIZE ? VL_LAYOUT_FIRST_VM_HOST : 2);
	l->vm_last = l->dhcp_start ? l->dhcp_start - 1 : l->broadcast - 1;
}

uint32_t vl_layout_capacity(const struct vl_layout *l)
{
	return l->vm_last >= l->vm_first ? l->vm_last - l->vm_first + 1 : 0;
}

const char *vl_layout_ip_problem(const struct vl_layout *l, uint32_t ip)
{
	if (!vl_ipv4_in(ip, l->subnet, l->prefix))
		return "is outside the lab subnet";
	if (ip == l->subnet)
		return "is the subnet's network address";
	if (ip == l->broadcast)
		return "is the subnet's broadcast address";
	if (ip == l->gateway)
		return "is the gateway (the host side of the lab network)";
	if (ip < l->vm_first)
		return "is reserved for host-side services";
	if (ip > l->vm_last)
		return "is inside the dynamic DHCP range";
	return NULL;
}
