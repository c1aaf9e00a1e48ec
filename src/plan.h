/* The plan: everything `up` will create, derived purely from the profile, the
 * config and the subnets already in use (names, MACs, IPs, subnet, DHCP range).
 * No I/O: the same inputs give the same plan on every machine. */
#ifndef VL_PLAN_H
#define VL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "profile.h"
#include "subnet.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/ipv4.h"

/* Lab id = name part + "-" + 8 hex. The name part is cut to this many
 * characters (then trailing '-' dropped) so the whole id stays within
 * VL_NAME_MAX (31 + 1 + 8 = 40). */
#define VL_LAB_ID_NAME_MAX (VL_NAME_MAX - 9)
#define VL_PLAN_DEFAULT_USER "vmlab"

/* The address layout inside a lab subnet (gateway, reserved addresses, the
 * VMs' static range, the DHCP range) is layout.h's. */


struct vl_plan_vm {
	char *name;          /* web-1 (or web when count = 1) */
	char *spec_name;     /* web */
	char *domain;        /* vmlab-<labid>-web-1 */
	char *hostname;      /* web-1 */
	char *fqdn;          /* web-1.<lab name> */
	char mac[18];        /* 52:54:00:xx:xx:xx */
	uint32_t ip;
	char ip_str[VL_IPV4_STRLEN];
	unsigned cpus;
	uint64_t memory, disk;   /* bytes */
	char *image;
	char *volume;        /* vmlab-<labid>-web-1.qcow2 */
	char *seed_volume;   /* vmlab-<labid>-web-1-seed.iso */
	char *user_data;     /* copied from the spec, may be NULL */
	struct vl_prov *provision;     /* copied from the spec */
	size_t n_provision;
	unsigned index;      /* its number in the [vm] section: 2 for web-2, 1 without count */
	bool fixed_ip;       /* ip came from the profile */
};

struct vl_plan {
	char *lab_name;      /* sanitized lab name, also the DNS domain of the lab */
	char *lab_id;        /* <name part>-<8 hex of SHA-256(project dir)> */
	char *network;       /* vmlab-<labid> */
	char *bridge;        /* vl + 8 hex of SHA-256(lab id) */
	enum vl_net_mode mode;
	uint32_t subnet;
	unsigned prefix;
	uint32_t gateway, dhcp_start, dhcp_end, broadcast;  /* dhcp_* 0: no range */
	char subnet_str[VL_CIDR_STRLEN], gateway_str[VL_IPV4_STRLEN];
	char netmask_str[VL_IPV4_STRLEN];
	char *user;
	char *project_dir;
	/* who made the lab, recorded in its metadata so gc on a libvirt host
	 * shared by several machines and users removes only its own (NULL: not
	 * recorded; set by the engine, vl_plan_build leaves them NULL) */
	char *owner_machine, *owner_user;
	char *instance;      /* the lab instance (profile.instance), NULL: the project's lab */
	struct vl_plan_vm *vms;
	size_t n_vms;
};

/* What the caller knows about the host: subnets in use (other libvirt
 * networks, host routes; never the default route) and, when re-planning a lab
 * whose network already exists, that network's subnet, which is kept. */
struct vl_plan_opts {
	const struct vl_subnet *used;
	size_t n_used;
	const struct vl_subnet *existing;   /* NULL: the lab has no network yet */
};

/* Sanitized name part (see VL_LAB_ID_NAME_MAX) + "-" + first 8 hex of
 * SHA-256(abs_project_dir). Never NULL. */
char *vl_plan_lab_id(const char *lab_name, const char *abs_project_dir);
/* A lab instance's identity, derived here and nowhere else. instance NULL:
 * the project's own lab (vl_plan_lab_id). Else the id is
 * <name part>-<instance> + "-" + 8 hex of SHA-256(dir "\n" instance), and
 * the state dir (keys, known hosts, lock) <dir>/.vmlab/instances/<instance>
 * instead of <dir>/.vmlab. Callers free. */
char *vl_plan_instance_id(const char *lab_name, const char *abs_project_dir, const char *instance);
char *vl_plan_state_dir(const char *abs_project_dir, const char *instance);
/* An instance name: [a-z0-9-], 1 to 20 characters, not starting with '-'. */
bool vl_plan_instance_ok(const char *instance);
/* Lowercase, anything outside [a-z0-9] becomes '-', runs of '-' collapse,
 * no leading/trailing '-', empty becomes "lab", at most max characters. */
char *vl_plan_sanitize_name(const char *s, size_t max);
/* "52:54:00:" + 3 bytes of SHA-256(lab_id "/" vm_name [ "#" n ]); salt 0 = no "#n". */
void vl_plan_mac(const char *lab_id, const char *vm_name, unsigned salt, char out[18]);

int vl_plan_build(struct vl_plan *plan, const struct vl_profile *p, const struct vl_config *cfg,
		  const struct vl_subnet *used, size_t n_used, struct vl_err *err);
int vl_plan_build_opts(struct vl_plan *plan, const struct vl_profile *p,
		       const struct vl_config *cfg, const struct vl_plan_opts *opts,
		       struct vl_err *err);
void vl_plan_release(struct vl_plan *plan);
/* The names of a lab's libvirt objects (docs/design.md "Names"), made here
 * and nowhere else. Each returns a new string. vl_name_domain(id, "") is the
 * prefix every domain of the lab starts with. */
#define VL_NAME_PREFIX "vmlab-"   /* every object vmlab makes starts with it */
char *vl_name_network(const char *lab_id);                    /* vmlab-<id> */
char *vl_name_domain(const char *lab_id, const char *vm);     /* vmlab-<id>-<vm> */
char *vl_name_disk(const char *domain);                       /* <domain>.qcow2 */
char *vl_name_seed(const char *domain);                       /* <domain>-seed.iso */
char *vl_name_filter(const char *lab_id);                     /* vmlab-<id> (an nwfilter) */
/* The domain a VM's disk or seed volume belongs to; NULL for other names. */
char *vl_name_volume_domain(const char *volume);

/* Base images in a pool are named by the SHA-256 of the image file, so every
 * lab of every project shares one copy: "vmlab-base-<16 hex>.<qcow2|raw>".
 * Caller frees. */
#define VL_PLAN_BASE_PREFIX "vmlab-base-"
char *vl_plan_base_volume(const char *content_sha256, const char *format);
/* Whether a volume name is a base image's (gc must not take it for a VM's). */
bool vl_plan_is_base_volume(const char *volume);

const struct vl_plan_vm *vl_plan_find_vm(const struct vl_plan *plan, const char *name);
/* Keep only the VMs names select (a VM's name, or its [vm NAME] for all of
 * NAME-1..NAME-N); n 0 keeps every VM. Names that select nothing are ignored
 * (vl_lab_check_names reports them). */
void vl_plan_select(struct vl_plan *plan, char *const *names, size_t n);

/* The subnet an auto lab would get: first /cfg->lab_prefix of the pool that
 * overlaps nothing in used, scanning from an offset derived from lab_id. */
int vl_plan_choose_subnet(const char *lab_id, const struct vl_config *cfg,
			  const struct vl_subnet *used, size_t n_used, struct vl_subnet *out,
			  struct vl_err *err);

/* The stable JSON document of `vmlab plan --json` (schema in plan.c). */
void vl_plan_to_json(const struct vl_plan *plan, struct vl_buf *out, bool pretty);

#endif
