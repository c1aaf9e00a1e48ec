/* What the libssh adapter's files (src/ssh*.c) share: the session handle and
 * a few helpers. Only src/ssh*.c include this; the rest of vmlab sees ssh.h.
 * Shared helpers are external symbols named sshx_ (libssh owns ssh_). */
#ifndef VL_SSH_PRIV_H
#define VL_SSH_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <libssh/libssh.h>

#include "ssh.h"

struct vl_ssh {
	ssh_session sess;
	char where[300];  /* "web-1 (10.77.3.10)" for messages */
	const struct vl_events *evs;  /* the operation's (cancel flag), may be NULL */
	struct sshx_bridge *bridge;   /* through a jump host (ssh_jump.c), or NULL */
	/* sess NULL: cp's scripts go through this runner (vl_ssh_via) */
	struct vl_ssh_runner via;
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

/* One attempt of vl_ssh_connect; *retry: a failure worth trying again
 * (refused, unreachable, login not yet accepted), not a key mismatch. */
int sshx_connect_once(const struct vl_ssh_target *t, long timeout_ms, struct vl_ssh **out,
		      bool *retry, struct vl_err *err);
/* The inner session's socket through jump: a session to the jump host, a
 * direct-tcpip channel from there to host:port, and a thread pumping it to
 * one end of a socketpair; *fd gets the other end for the inner session
 * (libssh leaves it open: sshx_bridge_close closes it). VL_E_SSH; *retry
 * tells a refused channel or an unreachable jump host (try again: the guest
 * boots) from a jump host whose key or login fails. */
struct sshx_bridge;
struct sshx_bridge *sshx_bridge_open(const struct vl_ssh_target *jump, const char *host,
				     unsigned port, long timeout_ms, int *fd, bool *retry,
				     struct vl_err *err);
/* Ends the pump and the jump session (after the inner session is freed). */
void sshx_bridge_close(struct sshx_bridge *b);

/* A downloaded file nobody can see until it is complete (ssh_sftp.c):
 * O_TMPFILE in dir, or a temporary name (removed on failure) where the
 * filesystem lacks it; commit gives it its mode and mtime, then its name. */
struct sshx_landing {
	int fd;
	char *tmp;     /* NULL with O_TMPFILE */
};

int sshx_land_open(struct sshx_landing *l, const char *dir, const char *name,
		   struct vl_err *err);
int sshx_land_commit(struct sshx_landing *l, const char *dir, const char *name, mode_t mode,
		     time_t mtime, struct vl_err *err);
void sshx_land_close(struct sshx_landing *l);

/* All of data to a pipe or terminal that may be non-blocking (waits on
 * EAGAIN); -1 with errno set on failure. */
int sshx_write_all(int fd, const void *data, size_t len);
/* The number of a signal as SSH names it ("TERM"), 0 if unknown. */
int sshx_signal_number(const char *name);

#endif
