/* vmlab ssh-config's text, pure: OpenSSH Host blocks that keep host-key
 * checking on (the keys vmlab pinned, in a known_hosts file of its own, under
 * a HostKeyAlias so a reused IP never matches another VM's key). */
#ifndef VL_SSHCONF_H
#define VL_SSHCONF_H

#include <stddef.h>

#include "util/err.h"

struct vl_sshconf_vm {
	const char *name;        /* web-1: a bare Host alias */
	const char *fqdn;        /* web-1.LAB: the other alias */
	const char *ip;
	const char *key_alias;   /* HostKeyAlias: the domain name, unique per lab and VM */
	const char *host_key;    /* "TYPE BASE64[ COMMENT]" */
};

/* The libvirt host's sshd the VMs are reached through (a host over SSH:
 * its lab networks are not routed here), its key in vmlab's own file. */
struct vl_sshconf_jump {
	const char *alias;       /* its Host block's name, for ProxyJump */
	const char *server, *user, *identity, *known_hosts;
	unsigned port;
};

struct vl_sshconf {
	const char *user;
	const char *identity;    /* the project's private key */
	const char *known_hosts; /* the file vl_sshconf_known_hosts fills */
	const struct vl_sshconf_jump *jump;  /* NULL: the VMs directly */
};

/* One block per VM (and, with a jump, one for the jump host first, which
 * every VM's block names in ProxyJump). Paths are quoted and '%' doubled (ssh expands tokens in
 * IdentityFile and UserKnownHostsFile); a path or name OpenSSH cannot take
 * (a '"' or a newline) is VL_E_USAGE. Caller frees *out. */
int vl_sshconf_render(const struct vl_sshconf *c, const struct vl_sshconf_vm *vms, size_t n,
		      char **out, struct vl_err *err);
/* "KEY_ALIAS TYPE BASE64" per VM (comment dropped). Caller frees. */
char *vl_sshconf_known_hosts(const struct vl_sshconf_vm *vms, size_t n);

#endif
