/* vmlab ssh-config: the lab's VMs as OpenSSH Host blocks with host-key
 * checking on, against a known_hosts file of the keys vmlab pinned. */
#include "lab_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "sshconf.h"
#include "util/file.h"
#include "util/mem.h"

int vl_lab_ssh_config(struct vl_ctx *ctx, const struct vl_lab_sel *sel, char **out,
		      struct vl_err *err)
{
	struct vl_sshconf_vm *vms = NULL;
	char **keys = NULL;
	size_t n = 0, n_chosen = 0;
	VL_AUTOFREE char *kh_path = NULL;
	VL_AUTOFREE char *kh = NULL;
	VL_AUTOFREE char *alias = NULL;
	const struct vl_ssh_target *jt = ctx->host ? ctx->host->jump : NULL;
	struct vl_sshconf_jump jump;
	struct lab lab;
	int ret = -1;

	if (lab_open(&lab, ctx, 0, sel, err) < 0)
		return -1;
	if (vl_keys_open(&lab.keys, lab.state_dir, err) < 0)
		goto out;
	vms = vl_calloc(lab.plan.n_vms, sizeof(*vms));
	keys = vl_calloc(lab.plan.n_vms, sizeof(*keys));
	/* every VM with a key goes into known_hosts; the chosen ones come first */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < lab.plan.n_vms; i++) {
			const struct vl_plan_vm *vm = &lab.plan.vms[i];
			if (lab.chosen[i] != (pass == 0))
				continue;
			VL_AUTOFREE char *pub = vl_keys_host_pub_path(&lab.keys, vm->name);
			struct vl_err kerr = VL_ERR_INIT;
			char *line = NULL;
			if (access(pub, R_OK) != 0 || vl_ssh_pubkey_line(pub, &line, &kerr) < 0) {
				if (pass == 0)
					vl_event_warn(&ctx->events, vm->name, "no host key yet (never "
						      "created): left out; 'vmlab up %s' makes it",
						      vm->name);
				continue;
			}
			keys[n] = line;
			vms[n] = (struct vl_sshconf_vm){ vm->name, vm->fqdn, vm->ip_str, vm->domain,
							 line };
			n++;
			if (pass == 0)
				n_chosen++;
		}
	}
	if (n_chosen == 0) {
		vl_err_set(err, VL_E_NOTFOUND, "no VM of lab %s has been created yet; 'vmlab up' "
			   "first", lab.plan.lab_name);
		goto out;
	}
	if (asprintf(&kh_path, "%s/known_hosts", lab.keys.dir) < 0)
		abort();
	struct vl_sshconf c = { lab.plan.user, lab.keys.user_key, kh_path, NULL };
	if (jt) {
		/* the guests' networks are not routed here: through the host's sshd */
		alias = vl_strfmt("%s-jump", lab.plan.lab_id);
		jump = (struct vl_sshconf_jump){ alias, jt->host, jt->user, jt->identity_path,
						 jt->known_hosts_path, jt->port };
		c.jump = &jump;
	}
	if (vl_sshconf_render(&c, vms, n_chosen, out, err) < 0)
		goto out;
	kh = vl_sshconf_known_hosts(vms, n);
	if (vl_file_write_atomic(kh_path, kh, strlen(kh), 0600, err) < 0) {
		free(*out);
		*out = NULL;
		goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(vms);
	lab_close(&lab);
	return ret;
}
