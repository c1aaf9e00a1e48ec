/* A libvirt host as the engine uses it: one connection shared by every
 * operation and thread that works on the host, and what the engine must
 * know about the host to use it without reading this machine's files for
 * facts about another one. Several hosts may be open at once.
 *
 * Threads: every function may be called from any thread; the host lives
 * until its last reference is dropped (the TUI's workers each hold one).
 * The lab watch opens a connection of its own (lab.h). */
#ifndef VL_HOST_H
#define VL_HOST_H

#include <stdbool.h>

#include "util/err.h"

struct vl_virt;

struct vl_host {
	char *uri;              /* as given; NULL: libvirt's default */
	struct vl_virt *virt;   /* the connection (libvirt connections are thread-safe) */
	/* Where the daemon is, decided once at open (host.c): whether it
	 * shares this process's network namespace (then this machine's routes
	 * are the host's: subnets are chosen around them) and its mount
	 * namespace (then a path it writes, virtlogd's console log, can be
	 * read here). A URI naming a server shares neither. */
	bool routes_local;
	bool files_local;
	/* How its guests are reached where their networks are not routed
	 * here: through the host's sshd (vl_host_jump_of). NULL: directly. */
	const struct vl_ssh_target *jump;
	struct vl_host_priv *priv;
};

/* The host's sshd as a jump to its guests, from its URI: the user (default
 * local_user), server and port (default 22) of a qemu+ssh:// or
 * qemu+libssh:// URI, its keyfile= (default default_keyfile) and
 * known_hosts= (default vmlab's own file, default_known_hosts). */
struct vl_host_jump {
	char *user, *server, *keyfile, *known_hosts;
	unsigned port;
};
/* Whether a host's guests are reached through its sshd: their lab networks
 * are not routed here (routes_local false) and the URI names a server over
 * ssh or libssh. Then fills j (free with vl_host_jump_clear). Pure. */
bool vl_host_jump_of(const char *uri, bool routes_local, const char *local_user,
		     const char *default_keyfile, const char *default_known_hosts,
		     struct vl_host_jump *j);
void vl_host_jump_clear(struct vl_host_jump *j);
/* The URI libvirt opens, so the hypervisor and its guests' jump check one
 * pinned key in vmlab's own known_hosts (libvirt's default is
 * ~/.ssh/known_hosts). qemu+libssh:// without known_hosts= gets
 * known_hosts; qemu+ssh:// (libvirt runs OpenSSH, which takes no known_hosts
 * option from libvirt) without command= gets ssh_command, the wrapper of
 * vl_host_ssh_wrapper_script (NULL: left as it is). A URI's own known_hosts=
 * or command= is kept; *own_command (may be NULL) says the latter, for the
 * caller to tell the user. Pure; caller frees. */
char *vl_host_connect_uri(const char *uri, const char *known_hosts, const char *ssh_command,
			  bool *own_command);
/* The known_hosts a host's key is checked in: the URI's known_hosts=, else
 * default_known_hosts. Pure; caller frees (NULL when both are missing). */
char *vl_host_uri_known_hosts(const char *uri, const char *default_known_hosts);
/* The wrapper libvirt runs as ssh for qemu+ssh://: a script that execs
 * ssh with UserKnownHostsFile=known_hosts, no global file,
 * StrictHostKeyChecking=yes and no key updates ahead of libvirt's own
 * arguments (ssh keeps the first value of an option, so a later
 * StrictHostKeyChecking=no cannot weaken it). NULL for a path ssh would
 * split or expand (blanks, quotes, '%', '~' first) or not absolute. Pure. */
char *vl_host_ssh_wrapper_script(const char *known_hosts);
/* Where that wrapper lives: dir/ssh-<12 hex of known_hosts' SHA-256>, one
 * per known_hosts file. Caller frees. */
char *vl_host_ssh_wrapper_path(const char *dir, const char *known_hosts);
/* vl_host_connect_uri with vmlab's known_hosts, the wrapper written (0700,
 * in vmlab's 0700 config dir) when the URI needs it. *own_command as
 * there. Caller frees; NULL with err. */
char *vl_host_prepare_uri(const char *uri, bool *own_command, struct vl_err *err);
/* vmlab's own known_hosts for libvirt hosts: $XDG_CONFIG_HOME/vmlab/known_hosts
 * or ~/.config/vmlab/known_hosts. Caller frees; NULL without a home. */
char *vl_host_known_hosts_path(void);

/* Connect (VL_E_CONNECT on failure) and find where the daemon is. */
struct vl_host *vl_host_open(const char *uri, struct vl_err *err);
struct vl_host *vl_host_ref(struct vl_host *h);
/* Drop a reference; the last one closes the connection. NULL is fine. */
void vl_host_unref(struct vl_host *h);

/* Whether libvirt offers KVM on the host (its capabilities), asked once
 * and remembered. */
int vl_host_kvm_offered(struct vl_host *h, bool *out, struct vl_err *err);

/* The daemon's unix socket for a URI without a server part: the
 * socket= parameter, or the default system or session socket of the
 * driver; NULL for a URI with a server, an in-process driver (test:///)
 * or one this cannot tell. Pure; caller frees. */
char *vl_host_socket_path(const char *uri, const char *runtime_dir, bool modular);

#endif
