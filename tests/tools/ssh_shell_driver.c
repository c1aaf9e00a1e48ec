/* Hand-driven check of vl_ssh_shell (raw mode, exit status, resize), run in
 * tmux against a test sshd; not part of `make check-unit`.
 *   ssh_shell_driver keygen PRIV PUB
 *   ssh_shell_driver shell HOST PORT USER IDENTITY HOST_PUB */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh.h"
#include "util/err.h"

int main(int argc, char **argv)
{
	struct vl_err err = VL_ERR_INIT;
	int status = -1;

	if (argc == 4 && strcmp(argv[1], "keygen") == 0) {
		if (vl_ssh_keygen_ed25519(argv[2], argv[3], "driver", &err) < 0) {
			fprintf(stderr, "keygen: %s\n", err.msg);
			return 1;
		}
		return 0;
	}
	if (argc != 7 || strcmp(argv[1], "shell") != 0) {
		fprintf(stderr, "usage: ssh_shell_driver keygen PRIV PUB\n"
				"       ssh_shell_driver shell HOST PORT USER IDENTITY HOST_PUB\n");
		return 2;
	}
	struct vl_ssh_target t = {
		.host = argv[2], .port = (unsigned)atoi(argv[3]), .user = argv[4],
		.identity_path = argv[5], .host_pubkey_path = argv[6], .label = "driver",
	};
	if (vl_ssh_shell(&t, &status, &err) < 0) {
		fprintf(stderr, "shell: %s\n", err.msg);
		return 1;
	}
	if (err.code == VL_E_REMOTE)
		fprintf(stderr, "shell: %s\n", err.msg);
	fprintf(stderr, "[driver] remote exit status %d\n", status);
	return status;
}
