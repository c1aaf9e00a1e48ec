/* The libssh adapter: Ed25519 keys in OpenSSH format, host-key pinning against
 * the key vmlab injected, command execution with separate stdout/stderr, and
 * the interactive shell. Decisions (quoting) live in util/shquote.c. */
#include "ssh_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "event.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/shquote.h"
#include "util/str.h"

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
	ssh_init(); /* libssh 0.10 also runs it from a constructor; refcounted */
}

static void ssh_key_autoptr(ssh_key *k)
{
	ssh_key_free(*k);
}
#define VL_AUTOKEY __attribute__((cleanup(ssh_key_autoptr)))

/* Files ------------------------------------------------------------------ */

/* Key files, read whole (at most 1 MiB), with this adapter's wording:
 * "open PATH: ..." or "read PATH: ...". */
static int read_small_file(const char *path, char **out, struct vl_err *err)
{
	struct vl_err e = VL_ERR_INIT;
	size_t len;
	int en;

	if (vl_file_read(path, 1u << 20, out, &len, &e) == 0)
		return 0;
	en = e.sys_errno ? e.sys_errno : EFBIG;
	return vl_err_sys(err, VL_E_IO, en, "%s %s", en == EISDIR || en == EFBIG ? "read" : "open",
			  path);
}

int sshx_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			poll(&pfd, 1, -1);
			continue;
		}
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Keys ------------------------------------------------------------------- */

/* OpenSSH wraps the base64 body of its private keys at 70 columns. */
static char *wrap_openssh_private(const char *pem)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char end[] = "-----END OPENSSH PRIVATE KEY-----";
	struct vl_buf b = VL_BUF_INIT;
	const char *body = strstr(pem, begin), *stop = strstr(pem, end);
	size_t col = 0;

	if (!body || !stop || stop < body)
		return NULL;
	vl_buf_append(&b, begin);
	vl_buf_putc(&b, '\n');
	for (const char *p = body + sizeof(begin) - 1; p < stop; p++) {
		if (*p == '\n' || *p == '\r' || *p == ' ')
			continue;
		vl_buf_putc(&b, *p);
		if (++col == 70) {
			vl_buf_putc(&b, '\n');
			col = 0;
		}
	}
	if (col)
		vl_buf_putc(&b, '\n');
	vl_buf_append(&b, end);
	vl_buf_putc(&b, '\n');
	return vl_buf_steal(&b);
}

static char *pubkey_line(const ssh_key key, const char *comment)
{
	char *b64 = NULL;
	char *line = NULL;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return NULL;
	if (asprintf(&line, "%s %s%s%s", ssh_key_type_to_char(ssh_key_type(key)), b64,
		     comment && *comment ? " " : "", comment && *comment ? comment : "") < 0)
		abort();
	ssh_string_free_char(b64);
	return line;
}

int vl_ssh_keygen_ed25519(const char *priv_path, const char *pub_path, const char *comment,
			  struct vl_err *err)
{
	VL_AUTOKEY ssh_key key = NULL;
	VL_AUTOFREE char *pem = NULL;
	VL_AUTOFREE char *pub = NULL;
	char *raw = NULL;

	pthread_once(&lib_once, lib_init);
	if (comment && strpbrk(comment, "\r\n"))
		return vl_err_set(err, VL_E_USAGE, "key comment must be one line");
	if (access(priv_path, F_OK) == 0)
		return vl_err_set(err, VL_E_EXISTS, "%s already exists; not replacing a key",
				  priv_path);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
		return vl_err_set(err, VL_E_SSH, "cannot generate an Ed25519 key");
	/* for Ed25519, libssh 0.10 exports the OpenSSH format (checked by tests
	 * with ssh-keygen, sshd and dropbearconvert) */
	if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &raw) != SSH_OK)
		return vl_err_set(err, VL_E_SSH, "cannot export the private key");
	pem = wrap_openssh_private(raw);
	explicit_bzero(raw, strlen(raw));
	ssh_string_free_char(raw);
	if (!pem)
		return vl_err_set(err, VL_E_SSH, "libssh did not export an OpenSSH private key");
	pub = pubkey_line(key, comment);
	if (!pub)
		return vl_err_set(err, VL_E_SSH, "cannot export the public key");

	if (pub_path) {
		VL_AUTOFREE char *publine = NULL;
		if (asprintf(&publine, "%s\n", pub) < 0)
			abort();
		if (vl_file_write_atomic(pub_path, publine, strlen(publine), 0644, err) < 0)
			return -1;
	}
	/* link(): of two racing writers, one wins and the other gets VL_E_EXISTS */
	int ret = vl_file_write_new(priv_path, pem, strlen(pem), 0600, err);
	explicit_bzero(pem, strlen(pem));
	return ret;
}

/* Parse "TYPE BASE64 [comment]" into a public key. */
static int parse_pubkey_line(const char *line, ssh_key *out, struct vl_err *err)
{
	char type[64], b64[8192];

	if (sscanf(line, " %63s %8191s", type, b64) != 2)
		return vl_err_set(err, VL_E_SSH, "not a public key line: '%.60s'", line);
	enum ssh_keytypes_e kt = ssh_key_type_from_name(type);
	if (kt == SSH_KEYTYPE_UNKNOWN)
		return vl_err_set(err, VL_E_SSH, "unknown public key type '%s'", type);
	if (ssh_pki_import_pubkey_base64(b64, kt, out) != SSH_OK)
		return vl_err_set(err, VL_E_SSH, "cannot parse the %s public key", type);
	return 0;
}

/* A key line, a .pub file, or a private key file -> public key. */
static int load_pubkey(const char *line_or_path, ssh_key *out, struct vl_err *err)
{
	VL_AUTOFREE char *text = NULL;

	pthread_once(&lib_once, lib_init);
	/* a project path may hold spaces: a key line is what is not a file */
	if (strchr(line_or_path, ' ') && access(line_or_path, F_OK) < 0)
		return parse_pubkey_line(line_or_path, out, err);
	if (read_small_file(line_or_path, &text, err) < 0)
		return -1;
	if (strstr(text, "PRIVATE KEY-----")) {
		VL_AUTOKEY ssh_key priv = NULL;
		int rc = ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, &priv);
		explicit_bzero(text, strlen(text));
		if (rc != SSH_OK)
			return vl_err_set(err, VL_E_SSH, "%s: not a usable private key",
					  line_or_path);
		if (ssh_pki_export_privkey_to_pubkey(priv, out) != SSH_OK)
			return vl_err_set(err, VL_E_SSH, "%s: cannot derive the public key",
					  line_or_path);
		return 0;
	}
	if (parse_pubkey_line(text, out, err) < 0)
		return vl_err_prefix(err, "%s", line_or_path);
	return 0;
}

int vl_ssh_pubkey_line(const char *path, char **out, struct vl_err *err)
{
	VL_AUTOKEY ssh_key key = NULL;
	VL_AUTOFREE char *text = NULL;

	if (load_pubkey(path, &key, err) < 0)
		return -1;
	if (read_small_file(path, &text, err) < 0)
		return -1;
	if (!strstr(text, "PRIVATE KEY-----")) {
		/* keep the file's own line (with its comment), first line only */
		text[strcspn(text, "\r\n")] = '\0';
		*out = vl_strdup(vl_str_trim(text));
		return 0;
	}
	explicit_bzero(text, strlen(text));
	*out = pubkey_line(key, NULL);
	return *out ? 0 : vl_err_set(err, VL_E_SSH, "%s: cannot export the public key", path);
}

int vl_ssh_private_key_text(const char *path, char **out, struct vl_err *err)
{
	VL_AUTOKEY ssh_key key = NULL;
	char *text = NULL;

	pthread_once(&lib_once, lib_init);
	if (read_small_file(path, &text, err) < 0)
		return -1;
	if (ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, &key) != SSH_OK) {
		explicit_bzero(text, strlen(text));
		free(text);
		return vl_err_set(err, VL_E_SSH, "%s: not an unencrypted private key", path);
	}
	*out = text;
	return 0;
}

static char *key_fingerprint(const ssh_key key)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp, *ret;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return vl_strdup("SHA256:?");
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	ret = vl_strdup(fp ? fp : "SHA256:?");
	ssh_string_free_char(fp);
	return ret;
}

int vl_ssh_fingerprint(const char *key_line_or_path, char **out, struct vl_err *err)
{
	VL_AUTOKEY ssh_key key = NULL;

	if (load_pubkey(key_line_or_path, &key, err) < 0)
		return -1;
	*out = key_fingerprint(key);
	return 0;
}

/* Sessions --------------------------------------------------------------- */

enum attempt { ATTEMPT_OK, ATTEMPT_RETRY, ATTEMPT_FATAL };

static void describe(const struct vl_ssh_target *t, char *buf, size_t size)
{
	unsigned port = t->port ? t->port : 22;
	char hostport[280];

	if (port == 22)
		snprintf(hostport, sizeof(hostport), "%s", t->host);
	else
		snprintf(hostport, sizeof(hostport), "%s:%u", t->host, port);
	if (t->label)
		snprintf(buf, size, "%s (%s)", t->label, hostport);
	else
		snprintf(buf, size, "%s", hostport);
}

static int load_expected(const struct vl_ssh_target *t, ssh_key *out, struct vl_err *err)
{
	if (t->host_pubkey)
		return parse_pubkey_line(t->host_pubkey, out, err);
	if (t->host_pubkey_path)
		return load_pubkey(t->host_pubkey_path, out, err);
	return vl_err_set(err, VL_E_SSH, "no pinned host key for %s; refusing to connect",
			  t->label ? t->label : t->host);
}

/* The server's key against a known_hosts file: there and the same, or
 * refused (never added: no trust on first use). */
static int known_server(struct vl_ssh *s, const char *path, struct vl_err *err)
{
	switch (ssh_session_is_known_server(s->sess)) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		return vl_err_set(err, VL_E_SSH, "host key for %s does not match the one in %s; "
				  "refusing to connect", s->where, path);
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		return vl_err_set(err, VL_E_SSH, "%s is not in %s: add its host key there "
				  "(checked first, e.g. ssh-keyscan); refusing to connect",
				  s->where, path);
	default:
		return vl_err_set(err, VL_E_SSH, "%s: checking its key in %s: %s", s->where, path,
				  ssh_get_error(s->sess));
	}
}

/* One connect + host-key check + login, bounded by timeout_ms. */
static enum attempt attempt(const struct vl_ssh_target *t, long timeout_ms, struct vl_ssh **out,
			    struct vl_err *err)
{
	VL_AUTOKEY ssh_key expected = NULL;
	VL_AUTOKEY ssh_key server = NULL;
	VL_AUTOKEY ssh_key identity = NULL;
	struct vl_ssh *s;
	int port = t->port ? (int)t->port : 22;
	long usec = timeout_ms * 1000;
	long sec = 0;
	int no = 0, one = 1;

	pthread_once(&lib_once, lib_init);
	if (!t->host || !t->user || !t->identity_path)
		return vl_err_set(err, VL_E_SSH, "ssh target needs host, user and identity"),
		       ATTEMPT_FATAL;
	if (!t->known_hosts_path && load_expected(t, &expected, err) < 0)
		return ATTEMPT_FATAL;
	if (ssh_pki_import_privkey_file(t->identity_path, NULL, NULL, NULL, &identity) != SSH_OK)
		return vl_err_set(err, VL_E_SSH, "%s: cannot read the private key",
				  t->identity_path),
		       ATTEMPT_FATAL;

	s = vl_calloc(1, sizeof(*s));
	s->evs = t->evs;
	describe(t, s->where, sizeof(s->where));
	s->sess = ssh_new();
	if (!s->sess)
		abort();
	/* nothing from ~/.ssh: no config, no known_hosts reordering host-key
	 * algorithms; ask for the pinned key's type first */
	ssh_options_set(s->sess, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(s->sess, SSH_OPTIONS_KNOWNHOSTS,
			t->known_hosts_path ? t->known_hosts_path : "/dev/null");
	ssh_options_set(s->sess, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	ssh_options_set(s->sess, SSH_OPTIONS_HOST, t->host);
	ssh_options_set(s->sess, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s->sess, SSH_OPTIONS_USER, t->user);
	ssh_options_set(s->sess, SSH_OPTIONS_TIMEOUT, &sec);
	ssh_options_set(s->sess, SSH_OPTIONS_TIMEOUT_USEC, &usec);
	if (expected)
		ssh_options_set(s->sess, SSH_OPTIONS_HOSTKEYS,
				ssh_key_type_to_char(ssh_key_type(expected)));
	/* small packets (the handshake, a forwarded request) go out at once,
	 * not after the peer's delayed ACK (40 ms each) */
	ssh_options_set(s->sess, SSH_OPTIONS_NODELAY, &one);
	if (t->jump) {
		bool retry = false;
		int fd = -1;
		s->bridge = sshx_bridge_open(t->jump, t->host, (unsigned)port, timeout_ms, &fd,
					     &retry, err);
		if (!s->bridge) {
			vl_err_prefix(err, "%s", s->where);
			vl_ssh_free(s);
			return retry ? ATTEMPT_RETRY : ATTEMPT_FATAL;
		}
		ssh_options_set(s->sess, SSH_OPTIONS_FD, &fd);
	}

	if (ssh_connect(s->sess) != SSH_OK) {
		vl_err_set(err, VL_E_SSH, "%s: %s", s->where, ssh_get_error(s->sess));
		vl_ssh_free(s);
		return ATTEMPT_RETRY;
	}
	if (t->known_hosts_path) {
		if (known_server(s, t->known_hosts_path, err) < 0) {
			vl_ssh_free(s);
			return ATTEMPT_FATAL;
		}
	} else if (ssh_get_server_publickey(s->sess, &server) != SSH_OK) {
		vl_err_set(err, VL_E_SSH, "%s: no host key: %s", s->where, ssh_get_error(s->sess));
		vl_ssh_free(s);
		return ATTEMPT_RETRY;
	} else if (ssh_key_cmp(server, expected, SSH_KEY_CMP_PUBLIC) != 0) {
		VL_AUTOFREE char *want = key_fingerprint(expected);
		VL_AUTOFREE char *got = key_fingerprint(server);
		vl_err_set(err, VL_E_SSH,
			   "host key for %s does not match the key vmlab injected: expected %s, "
			   "got %s; refusing to connect", s->where, want, got);
		vl_ssh_free(s);
		return ATTEMPT_FATAL;
	}
	int rc = ssh_userauth_publickey(s->sess, NULL, identity);
	if (rc != SSH_AUTH_SUCCESS) {
		/* the guest may not have created the user or its key yet */
		vl_err_set(err, VL_E_SSH, "%s: login as %s with %s failed: %s", s->where, t->user,
			   t->identity_path,
			   rc == SSH_AUTH_DENIED ? "key not accepted" : ssh_get_error(s->sess));
		vl_ssh_free(s);
		return ATTEMPT_RETRY;
	}
	*out = s;
	return ATTEMPT_OK;
}

int sshx_connect_once(const struct vl_ssh_target *t, long timeout_ms, struct vl_ssh **out,
		      bool *retry, struct vl_err *err)
{
	enum attempt r = attempt(t, timeout_ms, out, err);

	*retry = r == ATTEMPT_RETRY;
	return r == ATTEMPT_OK ? 0 : -1;
}

int vl_ssh_connect(const struct vl_ssh_target *t, struct vl_ssh **out, struct vl_err *err)
{
	unsigned tmo = t->connect_timeout ? t->connect_timeout : 10;

	if (t->retry_timeout)
		return vl_ssh_connect_retry(t, t->retry_timeout, t->evs, out, err);
	return attempt(t, (long)tmo * 1000, out, err) == ATTEMPT_OK ? 0 : -1;
}

void vl_ssh_free(struct vl_ssh *s)
{
	if (!s)
		return;
	if (s->sess) {
		if (ssh_is_connected(s->sess))
			ssh_disconnect(s->sess);
		ssh_free(s->sess);
	}
	sshx_bridge_close(s->bridge);
	free(s);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int vl_ssh_wait_ready(const struct vl_ssh_target *t, unsigned timeout_s,
		      const struct vl_events *evs, struct vl_err *err)
{
	struct vl_ssh *s = NULL;

	if (vl_ssh_connect_retry(t, timeout_s, evs, &s, err) < 0)
		return -1;
	vl_ssh_free(s);
	return 0;
}

int vl_ssh_connect_retry(const struct vl_ssh_target *t, unsigned timeout_s,
			 const struct vl_events *evs, struct vl_ssh **out, struct vl_err *err)
{
	int64_t deadline = vl_now_mono_ms() + (int64_t)timeout_s * 1000;
	int64_t per_try = (int64_t)(t->connect_timeout ? t->connect_timeout : 10) * 1000;
	int64_t backoff = 250;   /* a refused or unreachable try costs little: poll often */
	struct vl_err last = VL_ERR_INIT;
	char where[300];
	unsigned tries = 0;

	describe(t, where, sizeof(where));
	for (;;) {
		if (vl_cancelled(evs))
			return vl_err_set(err, VL_E_CANCELLED, "%s: cancelled while waiting for SSH", where);
		struct vl_ssh *s = NULL;
		int64_t left = deadline - vl_now_mono_ms();
		if (left <= 0)
			break;
		tries++;
		struct vl_err cur = VL_ERR_INIT;
		enum attempt r = attempt(t, left < per_try ? left : per_try, &s, &cur);
		/* a try cut short by the deadline says less than the one before it */
		if (r != ATTEMPT_RETRY || left >= per_try || !last.msg[0])
			last = cur;
		switch (r) {
		case ATTEMPT_OK:
			if (tries > 1)
				vl_event_debug(evs, t->label, "SSH login after %u attempts", tries);
			*out = s;
			return 0;
		case ATTEMPT_FATAL:
			if (err)
				*err = last;
			return -1;
		case ATTEMPT_RETRY:
			vl_event_debug(evs, t->label, "SSH not ready, retrying: %s", last.msg);
			break;
		}
		left = deadline - vl_now_mono_ms();
		if (left <= 0)
			break;
		sleep_ms(backoff < left ? backoff : left);
		backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
	}
	return vl_err_set(err, VL_E_TIMEOUT, "%s: no SSH login within %u s (%u attempts; last: %s)",
			  where, timeout_s, tries, last.msg[0] ? last.msg : "none");
}

/* Commands --------------------------------------------------------------- */

struct exit_info {
	char signame[32];   /* set by the exit-signal request: "TERM" */
	bool core;
};

static void on_exit_signal(ssh_session session, ssh_channel channel, const char *signal,
			   int core, const char *errmsg, const char *lang, void *userdata)
{
	struct exit_info *xi = userdata;

	(void)session, (void)channel, (void)errmsg, (void)lang;
	vl_strlcpy(xi->signame, signal ? signal : "?", sizeof(xi->signame));
	xi->core = core != 0;
}

int sshx_signal_number(const char *name)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
		{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
		{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "SYS", SIGSYS },
	};

	for (size_t i = 0; i < VL_ARRAY_SIZE(sigs); i++)
		if (vl_streq(name, sigs[i].name))
			return sigs[i].sig;
	return 0;
}

/* What the pump moves: the channel's stdout/stderr to out[0]/out[1], in_fd to
 * the channel. With a tty and sig_fd (the shell), SIGWINCH resizes the PTY. */
struct pump {
	struct vl_ssh *s;
	ssh_channel ch;
	int in_fd;      /* -1: none or EOF sent */
	int out[2];
	int sig_fd;     /* signalfd or -1 */
	int tty_fd;     /* terminal to read the window size from, or -1 */
};

static int chan_fail(struct vl_ssh *s, struct vl_err *err, const char *what)
{
	return vl_err_set(err, VL_E_SSH, "%s: %s: %s", s->where, what, ssh_get_error(s->sess));
}

static int handle_signal(struct pump *p, struct vl_err *err)
{
	struct signalfd_siginfo si;

	if (read(p->sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	if (si.ssi_signo == SIGWINCH) {
		struct winsize ws;
		if (p->tty_fd >= 0 && ioctl(p->tty_fd, TIOCGWINSZ, &ws) == 0)
			ssh_channel_change_pty_size(p->ch, ws.ws_col, ws.ws_row);
		return 0;
	}
	return vl_err_set(err, VL_E_CANCELLED, "%s: session ended by signal %s", p->s->where,
			  strsignal((int)si.ssi_signo));
}

static int pump_stdin(struct pump *p, char *buf, size_t size, struct vl_err *err)
{
	uint32_t window = ssh_channel_window_size(p->ch);
	size_t want = window < size ? window : size;
	ssize_t n;

	if (want == 0)
		return 0;
	n = read(p->in_fd, buf, want);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0)
		return vl_err_sys(err, VL_E_IO, errno, "%s: reading input", p->s->where);
	if (n == 0) {
		p->in_fd = -1;
		if (ssh_channel_send_eof(p->ch) != SSH_OK)
			return chan_fail(p->s, err, "sending EOF");
		return 0;
	}
	/* at most the window: this write never waits for the remote to read */
	if (ssh_channel_write(p->ch, buf, (uint32_t)n) != n)
		return chan_fail(p->s, err, "sending input");
	return 0;
}

/* Move data until the remote has sent EOF on both streams (or closed). */
static int pump(struct pump *p, struct vl_err *err)
{
	char buf[32768];
	bool eof[2] = { false, false };
	int sock = ssh_get_fd(p->s->sess);

	for (;;) {
		bool busy = false;
		/* the remote command is left to the closing channel (SIGHUP) */
		if (vl_cancelled(p->s->evs))
			return vl_err_set(err, VL_E_CANCELLED, "%s: cancelled", p->s->where);
		for (int st = 0; st < 2; st++) {
			if (eof[st])
				continue;
			int n = ssh_channel_read_nonblocking(p->ch, buf, sizeof(buf), st);
			if (n == SSH_EOF) {
				eof[st] = true;
			} else if (n == SSH_ERROR) {
				return chan_fail(p->s, err, "reading output");
			} else if (n > 0) {
				busy = true;
				if (p->out[st] >= 0 && sshx_write_all(p->out[st], buf, (size_t)n) < 0)
					return vl_err_sys(err, VL_E_IO, errno, "%s: writing %s",
							  p->s->where, st ? "stderr" : "stdout");
			}
		}
		if ((eof[0] && eof[1]) || (!busy && ssh_channel_is_closed(p->ch)))
			return 0;

		struct pollfd pfd[3];
		nfds_t n = 0;
		int in_i = -1, sig_i = -1;
		pfd[n++] = (struct pollfd){ .fd = sock, .events = POLLIN };
		if (p->in_fd >= 0 && ssh_channel_window_size(p->ch) > 0) {
			in_i = (int)n;
			pfd[n++] = (struct pollfd){ .fd = p->in_fd, .events = POLLIN };
		}
		if (p->sig_fd >= 0) {
			sig_i = (int)n;
			pfd[n++] = (struct pollfd){ .fd = p->sig_fd, .events = POLLIN };
		}
		/* libssh may hold decoded data we have not read: never sleep
		 * long, and not at all right after moving data */
		if (poll(pfd, n, busy ? 0 : 200) < 0) {
			if (errno == EINTR)
				continue;
			return vl_err_sys(err, VL_E_IO, errno, "%s: poll", p->s->where);
		}
		if (sig_i >= 0 && pfd[sig_i].revents && handle_signal(p, err) < 0)
			return -1;
		if (in_i >= 0 && pfd[in_i].revents && pump_stdin(p, buf, sizeof(buf), err) < 0)
			return -1;
	}
}

/* After the pump: the exit status, or 128+N for signal N. */
static int finish(struct pump *p, const struct exit_info *xi, int *exit_status,
		  struct vl_err *err)
{
	int status = ssh_channel_get_exit_status(p->ch);

	if (xi->signame[0]) {
		int sig = sshx_signal_number(xi->signame);
		*exit_status = 128 + (sig ? sig : 127);
		if (err) {
			vl_err_set(err, VL_E_REMOTE, "%s: remote command killed by signal SIG%s%s",
				   p->s->where, xi->signame, xi->core ? " (core dumped)" : "");
			err->status = *exit_status;
		}
		return 0;
	}
	if (status < 0)
		return vl_err_set(err, VL_E_SSH, "%s: remote command ended without an exit status",
				  p->s->where);
	*exit_status = status;
	vl_err_clear(err);
	return 0;
}

/* Open a session channel and hook the exit-signal callback. */
static ssh_channel open_channel(struct vl_ssh *s, struct ssh_channel_callbacks_struct *cb,
				struct exit_info *xi, struct vl_err *err)
{
	ssh_channel ch = ssh_channel_new(s->sess);

	if (!ch) {
		chan_fail(s, err, "new channel");
		return NULL;
	}
	if (ssh_channel_open_session(ch) != SSH_OK) {
		chan_fail(s, err, "open channel");
		ssh_channel_free(ch);
		return NULL;
	}
	memset(cb, 0, sizeof(*cb));
	memset(xi, 0, sizeof(*xi));
	ssh_callbacks_init(cb);
	cb->userdata = xi;
	cb->channel_exit_signal_function = on_exit_signal;
	ssh_set_channel_callbacks(ch, cb);
	return ch;
}

static void close_channel(ssh_channel ch, struct ssh_channel_callbacks_struct *cb)
{
	ssh_remove_channel_callbacks(ch, cb);
	if (ssh_channel_is_open(ch)) {
		ssh_channel_send_eof(ch);
		ssh_channel_close(ch);
	}
	ssh_channel_free(ch);
}

static int open_null(int fd, int flags, int *owned)
{
	if (fd >= 0)
		return fd;
	*owned = open("/dev/null", flags | O_CLOEXEC);
	return *owned;
}

int vl_ssh_run(struct vl_ssh *s, const char *const *argv, size_t argc, int in_fd, int out_fd,
	       int err_fd, int *exit_status, struct vl_err *err)
{
	struct ssh_channel_callbacks_struct cb;
	struct exit_info xi;
	VL_AUTOFREE char *cmd = NULL;
	int null_out = -1, null_err = -1, ret = -1;
	ssh_channel ch;

	if (argc == 0)
		return vl_err_set(err, VL_E_USAGE, "no command to run");
	cmd = vl_shell_quote_argv(argv, argc);
	ch = open_channel(s, &cb, &xi, err);
	if (!ch)
		return -1;
	struct pump p = {
		.s = s, .ch = ch, .in_fd = in_fd, .sig_fd = -1, .tty_fd = -1,
		.out = { open_null(out_fd, O_WRONLY, &null_out), open_null(err_fd, O_WRONLY, &null_err) },
	};
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		chan_fail(s, err, "starting the command");
		goto out;
	}
	if (in_fd < 0 && ssh_channel_send_eof(ch) != SSH_OK) {
		chan_fail(s, err, "sending EOF");
		goto out;
	}
	if (pump(&p, err) == 0)
		ret = finish(&p, &xi, exit_status, err);
out:
	close_channel(ch, &cb);
	if (null_out >= 0)
		close(null_out);
	if (null_err >= 0)
		close(null_err);
	return ret;
}

int vl_ssh_exec(const struct vl_ssh_target *t, const char *const *argv, size_t argc, int in_fd,
		int out_fd, int err_fd, int *exit_status, struct vl_err *err)
{
	struct vl_ssh *s = NULL;
	int ret;

	if (vl_ssh_connect(t, &s, err) < 0)
		return -1;
	ret = vl_ssh_run(s, argv, argc, in_fd, out_fd, err_fd, exit_status, err);
	vl_ssh_free(s);
	return ret;
}

/* The interactive shell --------------------------------------------------- */

int vl_ssh_shell(const struct vl_ssh_target *t, int *exit_status, struct vl_err *err)
{
	struct ssh_channel_callbacks_struct cb;
	struct exit_info xi;
	struct vl_ssh *s = NULL;
	struct termios saved, raw;
	sigset_t sigs, old_mask;
	bool tty = isatty(STDIN_FILENO), raw_on = false;
	int sig_fd = -1, ret = -1;
	ssh_channel ch = NULL;

	if (vl_ssh_connect(t, &s, err) < 0)
		return -1;
	ch = open_channel(s, &cb, &xi, err);
	if (!ch)
		goto out;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGWINCH);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, &old_mask);
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0) {
		vl_err_sys(err, VL_E_IO, errno, "signalfd");
		goto out;
	}

	if (tty) {
		struct winsize ws = { .ws_col = 80, .ws_row = 24 };
		const char *term = getenv("TERM");
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
		if (ssh_channel_request_pty_size(ch, term && *term ? term : "xterm", ws.ws_col,
						 ws.ws_row) != SSH_OK) {
			chan_fail(s, err, "requesting a terminal");
			goto out;
		}
		if (tcgetattr(STDIN_FILENO, &saved) < 0) {
			vl_err_sys(err, VL_E_IO, errno, "tcgetattr");
			goto out;
		}
	}
	if (ssh_channel_request_shell(ch) != SSH_OK) {
		chan_fail(s, err, "starting the shell");
		goto out;
	}
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0) {
			vl_err_sys(err, VL_E_IO, errno, "tcsetattr");
			goto out;
		}
		raw_on = true;
	}

	struct pump p = {
		.s = s, .ch = ch, .in_fd = STDIN_FILENO, .out = { STDOUT_FILENO, STDERR_FILENO },
		.sig_fd = sig_fd, .tty_fd = tty ? STDIN_FILENO : -1,
	};
	if (pump(&p, err) == 0)
		ret = finish(&p, &xi, exit_status, err);
out:
	if (raw_on)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	if (sig_fd >= 0) {
		close(sig_fd);
		/* drop what arrived meanwhile, so unblocking does not kill us */
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&sigs, NULL, &zero) > 0)
			;
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	}
	if (ch)
		close_channel(ch, &cb);
	vl_ssh_free(s);
	return ret;
}
