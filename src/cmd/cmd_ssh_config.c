/* vmlab ssh-config: print an OpenSSH config for the lab's VMs. Declared now; a later issue builds it. */
#include "cmd/cmd.h"

const struct vl_cmd vl_cmd_ssh_config = {
	.name = "ssh-config",
	.usage = "ssh-config [VM...]",
	.summary = "print an OpenSSH config for the lab's VMs",
	.flags = VL_CMD_UNAVAILABLE,
	.max_args = -1,
};
