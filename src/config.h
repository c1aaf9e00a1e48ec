/* vmlab.conf: global settings (libvirt URI, accelerator, storage, image cache,
 * subnet pool, parallelism, timeouts), with environment overrides. */
#ifndef VL_CONFIG_H
#define VL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "subnet.h"
#include "util/diag.h"
#include "util/err.h"

enum vl_accel { VL_ACCEL_AUTO, VL_ACCEL_KVM, VL_ACCEL_TCG };

struct vl_config {
	char *path;              /* file that was loaded, NULL: built-in defaults */
	char *uri;               /* [libvirt] uri, VMLAB_URI */
	enum vl_accel accel;     /* [vm] accel, VMLAB_ACCEL */
	char *pool_name;         /* [storage] pool */
	char *pool_dir;          /* [storage] pool_dir */
	char *log_dir;           /* [storage] log_dir: VMs' serial console logs */
	char *cache_dir;         /* [images] cache, VMLAB_CACHE */
	char **catalogs;         /* [images] catalog = a.ini, b.ini (extra catalogs) */
	size_t n_catalogs;
	unsigned stall_timeout;  /* [images] stall_timeout, seconds without a byte */
	char *ca_file;           /* [images] ca_file: CA bundle for https, NULL: system's */
	uint64_t max_image_size; /* [images] max_image_size: bytes a pull may write (xz bombs) */
	uint32_t pool_addr;      /* [network] subnet_pool, host order, e.g. 10.77.0.0 */
	unsigned pool_prefix;    /* ... /16 */
	unsigned lab_prefix;     /* [network] lab_prefix: size of each lab's subnet, /24 */
	/* [network] allow_subnets: public ranges a lab may use besides RFC 1918 */
	struct vl_subnet *allow_subnets;
	size_t n_allow_subnets;
	bool allow_outside;      /* [profile] allow_outside: paths out of the project dir */
	unsigned parallel;       /* [up] parallel: VMs brought up at once */
	unsigned boot_timeout;   /* [up] boot_timeout: seconds until SSH must answer */
	unsigned halt_timeout;   /* [halt] timeout: ACPI shutdown grace before force */
	/* [hosts] NAME = URI: the libvirt hosts a class spreads its seats over
	 * (in file order); none: the one connection of [libvirt] uri */
	char **host_names, **host_uris;
	size_t n_hosts;
};

/* Load from explicit path (--config) or the search order of docs/design.md:
 * $VMLAB_CONFIG, ~/.config/vmlab/vmlab.conf, /etc/vmlab/vmlab.conf, then
 * built-in defaults; environment overrides apply last. Problems go to diags
 * as FILE:LINE and the call fails with VL_E_CONFIG. */
int vl_config_load(struct vl_config *cfg, const char *explicit_path, struct vl_diags *diags,
		   struct vl_err *err);
void vl_config_release(struct vl_config *cfg);
const char *vl_accel_name(enum vl_accel a);
/* A lab subnet may be private (RFC 1918) or inside one of allow_subnets: a
 * lab network takes over the host's route to its range. cfg may be NULL. Pure. */
bool vl_config_subnet_allowed(const struct vl_config *cfg, uint32_t addr, unsigned prefix);
/* The accelerator a VM gets on a host that offers KVM or not: "kvm", "tcg",
 * "tcg (no kvm)" (auto on a host without KVM), or "kvm (not offered)"
 * (accel = kvm there: up refuses). Pure. */
const char *vl_accel_effective(enum vl_accel a, bool kvm_offered);

#endif
