/* cloud-init NoCloud documents for one planned VM: meta-data, user-data
 * (ours, merged with the profile's extra user-data as MIME multipart) and
 * network-config v2. Pure text rendering; src/seed.c writes them to an ISO. */
#ifndef VL_CLOUDINIT_H
#define VL_CLOUDINIT_H

#include <stdbool.h>

#include "plan.h"
#include "util/buf.h"
#include "util/err.h"

/* Merge rule for the user's cloud-config part: lists (users, runcmd,
 * packages...) are appended to ours, dicts merged recursively, and where both
 * set a scalar ours wins, so the user cannot break hostname or SSH pinning. */
#define VL_CI_MERGE_TYPE "list(append)+dict(no_replace,recurse_list)+str()"

struct vl_ci_keys {
	const char *authorized_key;   /* the lab user's public key line, or NULL */
	const char *host_private;     /* the VM's ed25519 host key (OpenSSH PEM), or NULL */
	const char *host_public;      /* its public line "ssh-ed25519 AAAA...", or NULL */
};

/* instance-id: <domain>-<generation> (generation NULL/"": just the domain;
 * a new generation makes cloud-init run again on the same disk), and
 * local-hostname. */
char *vl_cloudinit_meta_data(const struct vl_plan_vm *vm, const char *generation);
/* Our #cloud-config: hostname, fqdn, /etc/hosts, the lab user with sudo and
 * the authorized key, the injected SSH host key (no trust on first use).
 * extra: the profile's user-data file content or NULL; "#cloud-config" is
 * merged as a second text/cloud-config part (VL_CI_MERGE_TYPE), "#!" becomes
 * a text/x-shellscript part; anything else is a profile error. */
char *vl_cloudinit_user_data(const struct vl_plan *plan, const struct vl_plan_vm *vm,
			     const struct vl_ci_keys *keys, const char *extra, struct vl_err *err);
/* Network config v2 for the NIC matched by MAC: DHCP. The lab network
 * holds a reservation of the planned IP for the VM's MAC, and DHCP is the
 * one way every guest network stack (ifupdown with or without resolvconf,
 * netplan with networkd and resolved, busybox udhcpc) also takes the lab's
 * DNS server and search domain, so VM names resolve (docs/networking.md). */
char *vl_cloudinit_network_config(const struct vl_plan_vm *vm);

/* YAML scalars, exposed for tests: a double-quoted string with escapes, and
 * a literal block scalar ("|" + lines at indent) falling back to quoted when
 * the text cannot be a block (control characters, CR). */
void vl_yaml_quote(struct vl_buf *b, const char *s);
void vl_yaml_block(struct vl_buf *b, const char *s, unsigned indent);

#endif
