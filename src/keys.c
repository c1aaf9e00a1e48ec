/* .vmlab/ key store: one user key for the lab, one host key per VM.
 * Generation goes through the ssh adapter; this file only decides paths. */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssh.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"

static char *path_join(const char *a, const char *b)
{
	struct vl_buf p = VL_BUF_INIT;

	vl_buf_printf(&p, "%s/%s", a, b);
	return vl_buf_steal(&p);
}

static int ensure_pair(const char *priv, const char *pub, const char *comment, struct vl_err *err)
{
	if (access(priv, R_OK) == 0 && access(pub, R_OK) == 0)
		return 0;
	return vl_ssh_keygen_ed25519(priv, pub, comment, err);
}

int vl_keys_open(struct vl_keys *k, const char *state_dir, struct vl_err *err)
{
	*k = (struct vl_keys){ 0 };
	k->dir = vl_strdup(state_dir);
	k->user_key = path_join(k->dir, "id_ed25519");
	k->user_pub = path_join(k->dir, "id_ed25519.pub");
	VL_AUTOFREE char *hostdir = path_join(k->dir, "hostkeys");
	if (vl_dir_private_ensure(k->dir, err) < 0 || vl_dir_private_ensure(hostdir, err) < 0 ||
	    ensure_pair(k->user_key, k->user_pub, "vmlab-user", err) < 0) {
		vl_keys_release(k);
		return -1;
	}
	return 0;
}

char *vl_keys_host_pub_path(const struct vl_keys *k, const char *vm)
{
	struct vl_buf p = VL_BUF_INIT;

	vl_buf_printf(&p, "%s/hostkeys/%s_ed25519.pub", k->dir, vm);
	return vl_buf_steal(&p);
}

int vl_keys_host(const struct vl_keys *k, const char *vm, char **priv, char **pub,
		 struct vl_err *err)
{
	struct vl_buf p = VL_BUF_INIT;
	char comment[96];

	vl_buf_printf(&p, "%s/hostkeys/%s_ed25519", k->dir, vm);
	*priv = vl_buf_steal(&p);
	*pub = vl_keys_host_pub_path(k, vm);
	snprintf(comment, sizeof(comment), "vmlab-host-%s", vm);
	if (ensure_pair(*priv, *pub, comment, err) < 0) {
		free(vl_steal(priv));
		free(vl_steal(pub));
		return -1;
	}
	return 0;
}

void vl_keys_release(struct vl_keys *k)
{
	free(k->dir);
	free(k->user_key);
	free(k->user_pub);
	*k = (struct vl_keys){ 0 };
}
