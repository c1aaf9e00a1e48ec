/* libvirt XML for a plan: network, domain, volumes, snapshot. Written with
 * libxml2's xmlTextWriter (never printf), so any value is escaped correctly.
 * Pure: each function returns a malloc'd document or NULL with err set. */
#ifndef VL_RENDER_H
#define VL_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"
#include "util/err.h"

/* Namespace of the <metadata> element vmlab puts on its domains and networks;
 * status, destroy and gc find a lab's objects again through it. */
#define VL_XMLNS_URI "https://vmlab.dev/xmlns/1"
#define VL_XMLNS_PREFIX "vmlab"

enum vl_domain_type { VL_DOMAIN_KVM, VL_DOMAIN_QEMU };

struct vl_domain_opts {
	enum vl_domain_type type;   /* the accelerator, resolved by the caller */
	const char *uuid;           /* existing domain's uuid (redefining needs it), or NULL */
	const char *pool;           /* storage pool holding the volumes */
	const char *serial_log;     /* absolute path the serial console is logged to, or NULL */
	unsigned tb_cache_mib;      /* QEMU (TCG) only: translation cache cap, 0: QEMU default */
	const char *filter;         /* libvirt nwfilter on the NIC (vl_render_isolation), or NULL */
};

/* <network> with bridge, NAT or isolated, DHCP range + one reservation per
 * VM, and DNS so VM and VM.<lab> resolve between the lab's VMs. */
char *vl_render_network(const struct vl_plan *plan, const char *uuid, struct vl_err *err);
char *vl_render_domain(const struct vl_plan *plan, const struct vl_plan_vm *vm,
		       const struct vl_domain_opts *opts, struct vl_err *err);
/* The nwfilter that keeps a lab's guests out of every other lab's subnet
 * in the subnet pool: IPv4 from the guest to its own subnet passes, to the
 * rest of the pool is dropped (the host's side of another lab's network
 * too, which libvirt's NAT rules leave open). Named vl_name_filter(). */
char *vl_render_isolation(const struct vl_plan *plan, uint32_t pool_addr, unsigned pool_prefix,
			  struct vl_err *err);
/* qcow2 volume backed by backing_path (format "qcow2" or "raw"). */
char *vl_render_overlay_volume(const char *name, uint64_t capacity, const char *backing_path,
			       const char *backing_format, struct vl_err *err);
/* Plain raw volume (the cloud-init seed ISO is uploaded into it). */
char *vl_render_raw_volume(const char *name, uint64_t capacity, struct vl_err *err);
/* Plain qcow2 volume with no backing file (image save clones into it). */
char *vl_render_qcow2_volume(const char *name, uint64_t capacity, struct vl_err *err);
/* <domainsnapshot>; memory: include RAM state (needed for a running domain's
 * internal snapshot), else disk only (shut-off domains). description NULL:
 * "vmlab lab snapshot". */
char *vl_render_snapshot(const char *name, const char *description, bool memory,
			 struct vl_err *err);

#endif
