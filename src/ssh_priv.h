/* What the libssh adapter's files (src/ssh*.c) share: the session handle and
 * a few helpers. Only src/ssh*.c include this; the rest of vmlab sees ssh.h.
 * Shared helpers are external symbols named sshx_ (libssh owns ssh_). */
#ifndef VL_SSH_PRIV_H
#define VL_SSH_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>

#include "ssh.h"

struct vl_ssh {
	ssh_session sess;
	char where[300];  /* "web-1 (10.77.3.10)" for messages */
	const struct vl_events *evs;  /* the operation's (cancel flag), may be NULL */
};

/* Transfer progress for vmlab cp (ssh_copy.c, ssh_sftp.c): at most ten
 * events a second, none when the copy asked for none. */
struct sshx_meter {
	const struct vl_events *evs;   /* NULL: no progress wanted */
	const char *subject, *what;
	uint64_t done, total;
	int64_t start_ms, last_ms;
};

void sshx_meter_init(struct sshx_meter *m, struct vl_ssh *s, const struct vl_ssh_xfer *x,
		     const char *what, uint64_t total);
/* n more bytes; last: the final event, whatever the time. */
void sshx_meter_add(struct sshx_meter *m, uint64_t n, bool last);

/* All of data to a pipe or terminal that may be non-blocking (waits on
 * EAGAIN); -1 with errno set on failure. */
int sshx_write_all(int fd, const void *data, size_t len);
/* The number of a signal as SSH names it ("TERM"), 0 if unknown. */
int sshx_signal_number(const char *name);

#endif
