/* The address layout of a lab subnet, in one place: the planner assigns VM
 * addresses from it and the profile validator checks fixed addresses and
 * capacity against it, so `validate` and `plan` cannot disagree. Pure. */
#ifndef VL_LAYOUT_H
#define VL_LAYOUT_H

#include <stdint.h>

/* Inside a lab subnet of S = 2^(32-prefix) addresses:
 *   .0 network, .1 gateway (host side: DNS, DHCP), last address broadcast;
 *   S >= 64:  .2-.9 reserved for future host-side services, VMs from .10;
 *   S <  64:  VMs from .2 (there is no room to reserve);
 *   S >= 16:  the upper half (S/2 .. S-2) is the dynamic DHCP range, for
 *             guests that are not in the plan; every planned VM has a static
 *             reservation below it;
 *   S <  16:  no dynamic range (every VM has a reservation; libvirt then
 *             runs dnsmasq in static-only mode).
 * So a /24 holds 118 VMs (.10-.127), a /29 holds 5 (.2-.6). */
#define VL_LAYOUT_RESERVED_MIN_SIZE 64u
#define VL_LAYOUT_FIRST_VM_HOST 10u
#define VL_LAYOUT_DHCP_MIN_SIZE 16u
#define VL_LAYOUT_PREFIX_MAX 30u

struct vl_layout {
	uint32_t subnet;            /* network address, host bits clear */
	unsigned prefix;
	uint32_t gateway, broadcast;
	uint32_t vm_first, vm_last; /* the static range VMs get addresses from */
	uint32_t dhcp_start, dhcp_end;  /* 0: no dynamic range */
};

/* addr's host bits are ignored; prefix at most VL_LAYOUT_PREFIX_MAX. */
void vl_layout_init(struct vl_layout *l, uint32_t addr, unsigned prefix);
/* How many VMs the static range holds. */
uint32_t vl_layout_capacity(const struct vl_layout *l);
/* Why ip cannot be a VM's fixed address ("is inside the dynamic DHCP
 * range"), or NULL when it can. */
const char *vl_layout_ip_problem(const struct vl_layout *l, uint32_t ip);

#endif
