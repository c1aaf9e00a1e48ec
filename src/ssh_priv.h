/* What the libssh adapter's files (src/ssh*.c) share: the session handle and
 * a few helpers. Only src/ssh*.c include this; the rest of vmlab sees ssh.h.
 * Shared helpers are external symbols named sshx_ (libssh owns ssh_). */
#ifndef VL_SSH_PRIV_H
#define VL_SSH_PRIV_H

#include <stddef.h>

#include <libssh/libssh.h>

#include "ssh.h"

struct vl_ssh {
	ssh_session sess;
	char where[300];  /* "web-1 (10.77.3.10)" for messages */
	const struct vl_events *evs;  /* the operation's (cancel flag), may be NULL */
};

/* All of data to a pipe or terminal that may be non-blocking (waits on
 * EAGAIN); -1 with errno set on failure. */
int sshx_write_all(int fd, const void *data, size_t len);

#endif
