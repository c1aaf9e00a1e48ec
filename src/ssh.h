/* SSH to lab VMs (docs/design.md: keys, host-key pinning, exec, PTY shell). The
 * only door to libssh: nothing here exposes a libssh type. Every function may
 * be called from worker threads (one session per call or per struct vl_ssh). */
#ifndef VL_SSH_H
#define VL_SSH_H

#include <stdbool.h>
#include <stddef.h>

struct vl_err;
struct vl_events;

/* Where and how to log in. Pinning: the server must present exactly the host
 * key vmlab generated and injected through cloud-init; an unknown key is never
 * accepted (no trust on first use, no known_hosts lookup). */
struct vl_ssh_target {
	const char *host;             /* IP address or name */
	unsigned port;                /* 0: 22 */
	const char *user;
	const char *identity_path;    /* OpenSSH private key (vl_ssh_keygen_ed25519) */
	const char *host_pubkey;      /* expected host key as "TYPE BASE64 [comment]", or NULL */
	const char *host_pubkey_path; /* ... or a file holding that line (a .pub file) */
	const char *label;            /* VM name for messages ("web-1"); NULL: host */
	unsigned connect_timeout;     /* seconds per connection attempt; 0: 10 */
	/* vl_ssh_connect (and exec, shell) keep retrying a refused, reset or
	 * timed-out connection or a not-yet-accepted login for this many seconds
	 * (a guest restarting sshd, a VM just reverted); 0: one attempt. A host
	 * key mismatch is never retried. */
	unsigned retry_timeout;
	const struct vl_events *evs;  /* debug events for each retry (may be NULL) */
	/* The server's key looked up in this OpenSSH known_hosts file instead
	 * of host_pubkey(_path): a libvirt host's, in vmlab's own file. A server
	 * missing there or with another key is refused, never added. */
	const char *known_hosts_path;
	/* Reach host:port through this server's sshd (a direct-tcpip channel
	 * on a session to it, bridged to the inner session's socket), for
	 * guests whose networks are not routed here: those of a libvirt host
	 * reached over SSH. NULL: connect directly. Each connection attempt
	 * opens its own jump session (one attempt, connect_timeout). */
	const struct vl_ssh_target *jump;
};

/* An authenticated session whose host key matched; reuse it for several
 * commands (provisioning). Not to be shared between threads at once. */
struct vl_ssh;

/* Keys ------------------------------------------------------------------ */

/* Generate an Ed25519 key pair: priv_path gets the OpenSSH private key format
 * ("BEGIN OPENSSH PRIVATE KEY", what ssh, sshd and dropbearconvert read), mode
 * 0600 from the first byte (temp file + link, never world-readable), and
 * VL_E_EXISTS if priv_path already exists (a pinned key is never replaced
 * behind the user's back). pub_path (may be NULL) gets "ssh-ed25519 BASE64
 * COMMENT\n", mode 0644, replaced atomically. comment may be NULL. */
int vl_ssh_keygen_ed25519(const char *priv_path, const char *pub_path, const char *comment,
			  struct vl_err *err);
/* The public key line "TYPE BASE64[ COMMENT]" (no newline) of path, which may
 * hold a public key line or an OpenSSH private key (then without comment).
 * Caller frees *out. */
int vl_ssh_pubkey_line(const char *path, char **out, struct vl_err *err);
/* The private key file's text, checked to parse as an unencrypted private key,
 * for cloud-init's `ssh_keys: ed25519_private: |`. Caller frees *out. */
int vl_ssh_private_key_text(const char *path, char **out, struct vl_err *err);
/* OpenSSH-style fingerprint "SHA256:BASE64" of a key line or key file (as
 * vl_ssh_pubkey_line accepts). Caller frees *out. */
int vl_ssh_fingerprint(const char *key_line_or_path, char **out, struct vl_err *err);

/* Sessions -------------------------------------------------------------- */

/* Connect, check the host key, log in with the identity. A host key that does
 * not match fails with VL_E_SSH naming both fingerprints; other failures are
 * VL_E_SSH with libssh's reason. */
int vl_ssh_connect(const struct vl_ssh_target *t, struct vl_ssh **out, struct vl_err *err);
void vl_ssh_free(struct vl_ssh *s);

/* Retry vl_ssh_connect until it logs in or timeout_s seconds pass (the VM
 * boots meanwhile: refused, unreachable, no banner yet, user not created yet
 * all count as "not yet"). Backoff 0.25 s doubling to 1 s. VL_E_TIMEOUT with
 * the last reason; a host-key mismatch or an unusable local key file fails at
 * once. evs (may be NULL) gets a debug event per failed attempt. */
int vl_ssh_wait_ready(const struct vl_ssh_target *t, unsigned timeout_s,
		      const struct vl_events *evs, struct vl_err *err);
/* vl_ssh_wait_ready that keeps the session it logged in with. */
int vl_ssh_connect_retry(const struct vl_ssh_target *t, unsigned timeout_s,
			 const struct vl_events *evs, struct vl_ssh **out, struct vl_err *err);

/* Run argv[0..argc) on the VM with each word quoted for the remote POSIX
 * shell (vl_shell_quote_argv), so the words arrive exactly. Remote stdout and
 * stderr are copied to out_fd and err_fd as they arrive (-1: discarded); in_fd
 * (-1: none, the remote sees EOF at once) feeds the remote stdin until EOF.
 * Returns 0 when the command ran to an end, with *exit_status its status, or
 * 128+N if a signal N killed it (then err, if given, holds VL_E_REMOTE and a
 * message naming the signal; otherwise err is cleared). -1 on transport errors. */
int vl_ssh_run(struct vl_ssh *s, const char *const *argv, size_t argc, int in_fd, int out_fd,
	       int err_fd, int *exit_status, struct vl_err *err);
/* vl_ssh_connect + vl_ssh_run + vl_ssh_free. */
int vl_ssh_exec(const struct vl_ssh_target *t, const char *const *argv, size_t argc, int in_fd,
		int out_fd, int err_fd, int *exit_status, struct vl_err *err);

/* Interactive login shell on the process' terminal (`vmlab ssh VM`). With a
 * terminal on stdin: a PTY with $TERM and the window size, the local terminal
 * in raw mode (restored on every return), resizes forwarded on SIGWINCH.
 * Without one: no PTY, stdin/stdout/stderr streamed (like `ssh -T`). Returns 0
 * with the remote shell's exit status (128+N for a signal). SIGWINCH, SIGTERM
 * and SIGHUP are taken through a signalfd while it runs (SIGTERM/SIGHUP end
 * the session: VL_E_CANCELLED); call it from the main thread, and block
 * SIGWINCH in other threads. The one function in src/ that touches the
 * terminal, as it must. */
int vl_ssh_shell(const struct vl_ssh_target *t, int *exit_status, struct vl_err *err);

/* Copying (ssh_copy.c, ssh_sftp.c; for vmlab cp) --------------------------- */

/* How a copy runs: the remote side under `sudo -n` (root-owned paths), and
 * symlinks followed (-L) or kept. With progress, progress events (at most ten
 * a second) name subject. */
struct vl_ssh_xfer {
	bool sudo;
	bool follow;
	bool progress;
	const char *subject;
};

/* Something else that runs a command on the VM with our fds, as vl_ssh_exec
 * does (the held session): *status is the remote exit status. */
struct vl_ssh_runner {
	int (*run)(void *ud, const char *const *argv, size_t argc, int in_fd, int out_fd,
		   int err_fd, int *status, struct vl_err *err);
	void *ud;
};

/* A handle for the copy functions below whose remote scripts (probe, tar
 * streams, cat) go through r instead of a session of ours: no SFTP, so
 * regular files go by tar or cat too. where names the VM in messages. Free
 * with vl_ssh_free. */
struct vl_ssh *vl_ssh_via(const struct vl_ssh_runner *r, const char *where,
			  const struct vl_events *evs);
/* Whether s can do SFTP (a session, not vl_ssh_via). */
bool vl_ssh_has_sftp(const struct vl_ssh *s);

/* What is at each remote path (lstat, or stat with follow), as 'f' regular
 * file, 'l' symlink, 'd' directory, 'o' other, 'n' nothing, into kinds[i];
 * sizes[i] the size of a regular file (may be NULL). *has_tar: the guest has
 * a tar (GNU or busybox) for the stream paths. One exec round trip. */
int vl_ssh_probe(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *const *paths,
		 size_t n, char *kinds, unsigned long long *sizes, bool *has_tar,
		 struct vl_err *err);

/* One source of an upload: the local path, and the name it gets in the
 * remote directory. */
struct vl_ssh_put_item {
	const char *local;
	const char *name;
};

/* Upload items into remote_dir as one tar stream (libarchive writes it, the
 * guest's tar reads it) over an exec channel: extracted into a temporary
 * directory inside remote_dir, checked complete (a last marker entry), then
 * each file renamed into place. Modes, mtimes and symlinks kept (follow:
 * copied as what they point to). A copy cut short leaves nothing behind: the
 * remote side removes its temporary directory when the stream ends early. */
int vl_ssh_put_tar(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote_dir,
		   const struct vl_ssh_put_item *items, size_t n, struct vl_err *err);
/* Upload one regular file over SFTP (the fallback where the guest has no
 * tar): written to a temporary name in remote_dir, mode and mtime set, then
 * renamed onto name. */
int vl_ssh_put_sftp(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *local,
		    const char *remote_dir, const char *name, struct vl_err *err);
/* Download remote (any kind) into local_dir/name through a tar stream read
 * by libarchive: extracted into a temporary directory inside local_dir, then
 * renamed into place file by file (into an existing directory: merged). */
int vl_ssh_get_tar(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote,
		   const char *local_dir, const char *name, struct vl_err *err);
/* Download one regular file with pipelined SFTP reads (several requests of
 * 64 KiB in flight) to fd, or (fd < 0) to local_dir/name via an unnamed
 * temporary file linked and renamed into place with the remote mode and
 * mtime, so even a killed copy leaves no partial file. */
int vl_ssh_get_sftp(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote, int fd,
		    const char *local_dir, const char *name, struct vl_err *err);
/* One regular file into local_dir/name without SFTP (vl_ssh_via): `cat`
 * after a line with its mode and mtime, landing as vl_ssh_get_sftp's does
 * (unseen until complete). size (0: unknown) is for progress. */
int vl_ssh_get_file(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote,
		    unsigned long long size, const char *local_dir, const char *name,
		    struct vl_err *err);
/* Remote file to fd through `cat` (under sudo: SFTP runs as the user). */
int vl_ssh_get_cat(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote, int fd,
		   struct vl_err *err);

/* Hubs (ssh_forward.c) ---------------------------------------------------- */

/* One session serving many channels at once from one thread (the held
 * session's, docs/held-session.md): forwarded TCP connections as
 * direct-tcpip channels and commands pumping to caller fds. Nothing blocks
 * on a slow local reader or writer: data waits in the channel's window. The
 * caller polls what vl_ssh_hub_pollfds gives and calls vl_ssh_hub_step. Not
 * thread-safe: one thread per hub. */
struct vl_ssh_hub;
struct pollfd;

/* A command that ended: status as vl_ssh_run gives it, or err set (the
 * session died, the client went away). Called from vl_ssh_hub_step or
 * vl_ssh_hub_free; the hub never closes the command's fds. */
typedef void (*vl_ssh_hub_done_fn)(void *ud, int status, const struct vl_err *err);

/* Takes s (freed with the hub). */
struct vl_ssh_hub *vl_ssh_hub_new(struct vl_ssh *s);
/* Ends every channel (commands reported as failed) and the session. */
void vl_ssh_hub_free(struct vl_ssh_hub *h);
/* Forward an accepted TCP connection to port remote on the guest's
 * loopback. On success the hub owns sock; on failure the caller still does:
 * VL_E_FAIL when the guest refused (nothing listens; the session is fine),
 * VL_E_SSH when the session is in trouble (reconnect and try again). */
int vl_ssh_hub_forward(struct vl_ssh_hub *h, int sock, unsigned remote, struct vl_err *err);
/* Start argv (quoted as vl_ssh_run does) with the caller's fds (in_fd -1:
 * none). watch_fd (-1: none) is the requester's connection: readable or hung
 * up ends the command (the client went away). done is called once. */
int vl_ssh_hub_exec(struct vl_ssh_hub *h, const char *const *argv, size_t argc, int in_fd,
		    int out_fd, int err_fd, int watch_fd, vl_ssh_hub_done_fn done, void *ud,
		    struct vl_err *err);
/* Fill at most max pollfds for the next poll; returns how many. */
size_t vl_ssh_hub_pollfds(struct vl_ssh_hub *h, struct pollfd *pfd, size_t max);
/* After poll on those pollfds: move data, end finished channels. Returns 1
 * when data moved (poll again without sleeping: libssh may hold more), 0
 * when idle, -1 when the session is dead (every channel ended; free the hub
 * and reconnect). */
int vl_ssh_hub_step(struct vl_ssh_hub *h, const struct pollfd *pfd, size_t n, struct vl_err *err);
/* Open channels (forwarded connections and commands). */
size_t vl_ssh_hub_channels(const struct vl_ssh_hub *h);

#endif
