/* The project's key store in .vmlab/: the lab user's SSH key pair and one
 * SSH host key pair per VM, generated once (0600), so the host key can be
 * injected through cloud-init and the first SSH connection is already pinned. */
#ifndef VL_KEYS_H
#define VL_KEYS_H

#include "util/err.h"

struct vl_keys {
	char *dir;          /* <project>/.vmlab */
	char *user_key;     /* <dir>/id_ed25519 */
	char *user_pub;     /* <dir>/id_ed25519.pub */
};

/* Create .vmlab (0700) and the user key pair if missing. */
/* Keys of a lab instance in its state dir (vl_plan_state_dir: the project's
 * .vmlab, or .vmlab/instances/NAME), made on first use. */
int vl_keys_open(struct vl_keys *k, const char *state_dir, struct vl_err *err);
/* Paths of a VM's host key pair, generated if missing; caller frees both. */
int vl_keys_host(const struct vl_keys *k, const char *vm, char **priv, char **pub,
		 struct vl_err *err);
/* Paths only, no generation (for ssh to an existing VM); caller frees. */
char *vl_keys_host_pub_path(const struct vl_keys *k, const char *vm);
void vl_keys_release(struct vl_keys *k);

#endif
