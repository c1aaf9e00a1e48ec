/* vmlab ssh-config's text: Host blocks and the known_hosts lines they point
 * to. Pure, so the quoting rules are tested without a lab. */
#include "sshconf.h"

#include <stdbool.h>
#include <string.h>

#include "util/buf.h"
#include "util/str.h"

/* A value as ssh_config reads it: double-quoted, '%' doubled where ssh
 * expands tokens. */
static int put_value(struct vl_buf *b, const char *key, const char *v, bool tokens,
		     struct vl_err *err)
{
	if (strpbrk(v, "\"\n\r"))
		return vl_err_set(err, VL_E_USAGE, "ssh-config: %s '%s' holds a character "
				  "OpenSSH cannot quote", key, v);
	vl_buf_printf(b, "    %s \"", key);
	for (const char *p = v; *p; p++) {
		if (tokens && *p == '%')
			vl_buf_putc(b, '%');
		vl_buf_putc(b, *p);
	}
	vl_buf_append(b, "\"\n");
	return 0;
}

/* The jump host's block: its key checked in vmlab's own known_hosts. */
static int put_jump(struct vl_buf *b, const struct vl_sshconf_jump *j, struct vl_err *err)
{
	if (!vl_str_is_name(j->alias, 64) || strpbrk(j->server, " \t\"\n"))
		return vl_err_set(err, VL_E_USAGE, "ssh-config: jump host '%s' has a name OpenSSH "
				  "cannot take", j->server);
	vl_buf_printf(b, "Host %s\n    HostName %s\n    Port %u\n", j->alias, j->server,
		      j->port ? j->port : 22);
	if (put_value(b, "User", j->user, false, err) < 0 ||
	    (j->identity && put_value(b, "IdentityFile", j->identity, true, err) < 0) ||
	    put_value(b, "UserKnownHostsFile", j->known_hosts, true, err) < 0)
		return -1;
	vl_buf_append(b, "    StrictHostKeyChecking yes\n\n");
	return 0;
}

int vl_sshconf_render(const struct vl_sshconf *c, const struct vl_sshconf_vm *vms, size_t n,
		      char **out, struct vl_err *err)
{
	struct vl_buf b = VL_BUF_INIT;

	if (c->jump && put_jump(&b, c->jump, err) < 0) {
		vl_buf_release(&b);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vl_sshconf_vm *vm = &vms[i];
		if (!vl_str_is_name(vm->name, 64) || strpbrk(vm->fqdn, " \t\"\n") ||
		    strpbrk(vm->key_alias, " \t\"\n") || strpbrk(vm->ip, " \t\"\n")) {
			vl_buf_release(&b);
			return vl_err_set(err, VL_E_USAGE, "ssh-config: VM '%s' has a name OpenSSH "
					  "cannot take", vm->name);
		}
		if (i)
			vl_buf_putc(&b, '\n');
		vl_buf_printf(&b, "Host %s %s\n", vm->fqdn, vm->name);
		vl_buf_printf(&b, "    HostName %s\n", vm->ip);
		if (put_value(&b, "User", c->user, false, err) < 0 ||
		    put_value(&b, "IdentityFile", c->identity, true, err) < 0 ||
		    put_value(&b, "UserKnownHostsFile", c->known_hosts, true, err) < 0) {
			vl_buf_release(&b);
			return -1;
		}
		vl_buf_append(&b, "    IdentitiesOnly yes\n"
				  "    StrictHostKeyChecking yes\n"
				  "    CheckHostIP no\n");
		vl_buf_printf(&b, "    HostKeyAlias %s\n", vm->key_alias);
		if (c->jump)
			vl_buf_printf(&b, "    ProxyJump %s\n", c->jump->alias);
	}
	vl_buf_append(&b, "");
	*out = vl_buf_steal(&b);
	return 0;
}

char *vl_sshconf_known_hosts(const struct vl_sshconf_vm *vms, size_t n)
{
	struct vl_buf b = VL_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		const char *k = vms[i].host_key;
		const char *sp = strchr(k, ' ');
		const char *end = sp ? strchr(sp + 1, ' ') : NULL;
		vl_buf_printf(&b, "%s ", vms[i].key_alias);
		vl_buf_appendn(&b, k, end ? (size_t)(end - k) : strcspn(k, "\n"));
		vl_buf_putc(&b, '\n');
	}
	vl_buf_append(&b, "");
	return vl_buf_steal(&b);
}
