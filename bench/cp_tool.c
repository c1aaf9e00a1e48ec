/* cp_tool: vmlab cp's transfers (src/ssh_copy.c) against any OpenSSH server,
 * for bench/cp.sh, which compares them with scp and rsync on a server on
 * 127.0.0.1 (a TCG guest would measure its emulated CPU, not the copy).
 *   cp_tool HOST PORT USER KEY HOSTKEY.pub put LOCAL REMOTE_DIR NAME   (tar stream)
 *   cp_tool HOST PORT USER KEY HOSTKEY.pub get REMOTE LOCAL_DIR NAME   (pipelined SFTP)
 *   cp_tool HOST PORT USER KEY HOSTKEY.pub gettar REMOTE LOCAL_DIR NAME
 * Built by `make bench-tools`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh.h"
#include "util/err.h"

int main(int argc, char **argv)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_ssh *s = NULL;
	struct vl_ssh_xfer x = { .subject = "bench" };
	int rc;

	if (argc != 10) {
		fprintf(stderr, "usage: cp_tool HOST PORT USER KEY HOSTKEY.pub put|get|gettar "
			"FROM TO_DIR NAME\n");
		return 2;
	}
	struct vl_ssh_target t = {
		.host = argv[1], .port = (unsigned)atoi(argv[2]), .user = argv[3],
		.identity_path = argv[4], .host_pubkey_path = argv[5], .connect_timeout = 10,
	};
	if (vl_ssh_connect(&t, &s, &err) < 0) {
		fprintf(stderr, "cp_tool: %s\n", err.msg);
		return 1;
	}
	if (strcmp(argv[6], "put") == 0) {
		struct vl_ssh_put_item item = { argv[7], argv[9] };
		rc = vl_ssh_put_tar(s, &x, argv[8], &item, 1, &err);
	} else if (strcmp(argv[6], "get") == 0) {
		rc = vl_ssh_get_sftp(s, &x, argv[7], -1, argv[8], argv[9], &err);
	} else {
		rc = vl_ssh_get_tar(s, &x, argv[7], argv[8], argv[9], &err);
	}
	vl_ssh_free(s);
	if (rc < 0) {
		fprintf(stderr, "cp_tool: %s\n", err.msg);
		return 1;
	}
	return 0;
}
