/* The engine's libvirt host (host.h): the shared connection, where its
 * daemon runs, and the facts asked of it once. */
#include "host.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "ssh.h"
#include "util/sha256.h"
#include "util/shquote.h"
#include "util/str.h"
#include "virt.h"

struct vl_host_priv {
	atomic_int refs;
	pthread_mutex_t mu;
	bool kvm_known, kvm;
	struct vl_host_jump jump;
	struct vl_ssh_target jump_target;
};

/* "%2F" and the like in a query value. */
static char *uri_unescape(const char *s, size_t n)
{
	struct vl_buf b = VL_BUF_INIT;
	unsigned v;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && sscanf(s + i + 1, "%2x", &v) == 1) {
			vl_buf_putc(&b, (char)v);
			i += 2;
		} else {
			vl_buf_putc(&b, s[i]);
		}
	}
	return vl_buf_steal(&b);
}

char *vl_host_socket_path(const char *uri, const char *runtime_dir, bool modular)
{
	const char *sep, *auth, *path, *plus;
	char driver[32], *sock = NULL;
	size_t dlen, plen;

	if (!uri || !(sep = strstr(uri, "://")))
		return NULL;
	plus = memchr(uri, '+', (size_t)(sep - uri));
	dlen = (size_t)((plus ? plus : sep) - uri);
	if (dlen == 0 || dlen >= sizeof(driver))
		return NULL;
	memcpy(driver, uri, dlen);
	driver[dlen] = '\0';
	if (plus && strncmp(plus, "+unix://", 8) != 0)
		return NULL;            /* ssh, tls, tcp, libssh, ext: no socket here */
	auth = sep + 3;
	path = strchr(auth, '/');
	if (!path || (path != auth && strncmp(auth, "localhost/", 10) != 0))
		return NULL;            /* names a server */
	for (const char *q = strchr(path, '?'); q; q = strchr(q, '&')) {
		q++;
		if (strncmp(q, "socket=", 7) == 0)
			return uri_unescape(q + 7, strcspn(q + 7, "&"));
	}
	if (vl_streq(driver, "test"))
		return NULL;            /* in-process */
	plen = strcspn(path, "?");
	if (plen == 7 && strncmp(path, "/system", 7) == 0) {
		if (modular ? asprintf(&sock, "/run/libvirt/virt%sd-sock", driver) < 0
			    : asprintf(&sock, "/run/libvirt/libvirt-sock") < 0)
			abort();
	} else if (plen == 8 && strncmp(path, "/session", 8) == 0 && runtime_dir && *runtime_dir) {
		if (modular ? asprintf(&sock, "%s/libvirt/virt%sd-sock", runtime_dir, driver) < 0
			    : asprintf(&sock, "%s/libvirt/libvirt-sock", runtime_dir) < 0)
			abort();
	}
	return sock;
}

/* The value of query parameter name (URI-unescaped), or NULL. */
static char *query_param(const char *uri, const char *name)
{
	size_t nl = strlen(name);

	for (const char *q = strchr(uri, '?'); q; q = strchr(q, '&')) {
		q++;
		if (strncmp(q, name, nl) == 0 && q[nl] == '=')
			return uri_unescape(q + nl + 1, strcspn(q + nl + 1, "&"));
	}
	return NULL;
}

bool vl_host_jump_of(const char *uri, bool routes_local, const char *local_user,
		     const char *default_keyfile, const char *default_known_hosts,
		     struct vl_host_jump *j)
{
	const char *sep, *auth, *end, *at, *colon, *host;
	size_t hlen;
	unsigned long port = 22;

	*j = (struct vl_host_jump){ 0 };
	if (routes_local || !uri || !(sep = strstr(uri, "://")))
		return false;
	if (!((size_t)(sep - uri) >= 4 && (strncmp(sep - 4, "+ssh", 4) == 0 ||
					   ((size_t)(sep - uri) >= 7 &&
					    strncmp(sep - 7, "+libssh", 7) == 0))))
		return false;
	auth = sep + 3;
	end = auth + strcspn(auth, "/?");
	at = memchr(auth, '@', (size_t)(end - auth));
	host = at ? at + 1 : auth;
	if (*host == '[') {                    /* [v6]:port */
		const char *rb = memchr(host, ']', (size_t)(end - host));
		if (!rb)
			return false;
		hlen = (size_t)(rb - host - 1);
		host++;
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hlen = (size_t)((colon ? colon : end) - host);
	}
	if (hlen == 0)
		return false;
	if (colon) {
		char *e;
		port = strtoul(colon + 1, &e, 10);
		if (e != end || port == 0 || port > 65535)
			return false;
	}
	j->server = vl_strndup(host, hlen);
	j->user = at ? vl_strndup(auth, (size_t)(at - auth))
		     : vl_strdup(local_user ? local_user : "root");
	j->port = (unsigned)port;
	if (!(j->keyfile = query_param(uri, "keyfile")) && default_keyfile)
		j->keyfile = vl_strdup(default_keyfile);
	if (!(j->known_hosts = query_param(uri, "known_hosts")) && default_known_hosts)
		j->known_hosts = vl_strdup(default_known_hosts);
	return true;
}

void vl_host_jump_clear(struct vl_host_jump *j)
{
	free(j->user);
	free(j->server);
	free(j->keyfile);
	free(j->known_hosts);
	*j = (struct vl_host_jump){ 0 };
}

/* value for a URI query: what would end or split it escaped. */
static void put_query_value(struct vl_buf *b, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (strchr("&?#%= +", *p))
			vl_buf_printf(b, "%%%02X", (unsigned char)*p);
		else
			vl_buf_putc(b, *p);
	}
}

static bool transport_is(const char *uri, const char *sep, const char *t)
{
	size_t n = strlen(t);

	return (size_t)(sep - uri) >= n && strncmp(sep - n, t, n) == 0;
}

char *vl_host_connect_uri(const char *uri, const char *known_hosts, const char *ssh_command,
			  bool *own_command)
{
	const char *sep = uri ? strstr(uri, "://") : NULL;
	VL_AUTOFREE char *have = NULL;
	struct vl_buf b = VL_BUF_INIT;
	const char *key, *val;

	if (own_command)
		*own_command = false;
	if (!uri)
		return NULL;
	if (sep && transport_is(uri, sep, "+libssh")) {
		key = "known_hosts";
		val = known_hosts;
	} else if (sep && transport_is(uri, sep, "+ssh")) {
		key = "command";
		val = ssh_command;
	} else {
		return vl_strdup(uri);
	}
	if ((have = query_param(uri, key))) {
		if (own_command && vl_streq(key, "command"))
			*own_command = true;
		return vl_strdup(uri);
	}
	if (!val)
		return vl_strdup(uri);
	vl_buf_append(&b, uri);
	vl_buf_putc(&b, strchr(uri, '?') ? '&' : '?');
	vl_buf_printf(&b, "%s=", key);
	put_query_value(&b, val);
	return vl_buf_steal(&b);
}

char *vl_host_uri_known_hosts(const char *uri, const char *default_known_hosts)
{
	char *kh = uri ? query_param(uri, "known_hosts") : NULL;

	if (!kh && default_known_hosts)
		kh = vl_strdup(default_known_hosts);
	return kh;
}

char *vl_host_ssh_wrapper_script(const char *known_hosts)
{
	struct vl_buf b = VL_BUF_INIT;
	VL_AUTOFREE char *opt = NULL;

	/* ssh splits an option's value at blanks, strips quotes and expands
	 * '%' tokens and a leading '~' in it: such a path is not passed on */
	if (!known_hosts || known_hosts[0] != '/' ||
	    known_hosts[strcspn(known_hosts, " \t\n\r\"'%\\")])
		return NULL;
	if (asprintf(&opt, "UserKnownHostsFile=%s", known_hosts) < 0)
		abort();
	vl_buf_append(&b, "#!/bin/sh\n"
			  "# Written by vmlab: libvirt runs this as ssh for qemu+ssh:// hosts, so the\n"
			  "# hypervisor's key is checked in vmlab's own known_hosts and nowhere else.\n"
			  "# ssh keeps the first value of an option: these come before libvirt's.\n"
			  "exec ssh -o ");
	vl_shell_quote(&b, opt);
	vl_buf_append(&b, " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes"
			  " -o UpdateHostKeys=no \"$@\"\n");
	return vl_buf_steal(&b);
}

char *vl_host_ssh_wrapper_path(const char *dir, const char *known_hosts)
{
	struct vl_sha256 h;
	char hex[VL_SHA256_HEXLEN + 1];
	char *p;

	vl_sha256_init(&h);
	vl_sha256_update(&h, known_hosts, strlen(known_hosts));
	vl_sha256_final(&h, hex);
	if (asprintf(&p, "%s/ssh-%.12s", dir, hex) < 0)
		abort();
	return p;
}

/* vmlab's config dir: where its known_hosts and the ssh wrappers live. */
static char *config_dir(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (xdg && xdg[0] == '/') {
		if (asprintf(&p, "%s/vmlab", xdg) < 0)
			abort();
	} else if (home && *home) {
		if (asprintf(&p, "%s/.config/vmlab", home) < 0)
			abort();
	}
	return p;
}

/* The wrapper at path with script, rewritten only when it differs (several
 * threads open hosts at once; the rename keeps each reader whole). */
static int wrapper_write(const char *dir, const char *path, const char *script,
			 struct vl_err *err)
{
	VL_AUTOFREE char *parent = NULL, *have = NULL;
	size_t len;
	struct stat st;
	char *slash;

	if (vl_file_read(path, 4096, &have, &len, NULL) == 0 && vl_streq(have, script) &&
	    stat(path, &st) == 0 && (st.st_mode & 07777) == 0700 && st.st_uid == geteuid())
		return 0;
	parent = vl_strdup(dir);
	if ((slash = strrchr(parent, '/')) && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) < 0 && errno != EEXIST)
			return vl_err_sys(err, VL_E_IO, errno, "%s", parent);
	}
	if (vl_dir_private_ensure(dir, err) < 0)
		return -1;
	/* libvirt runs what is there: nobody else may swap it */
	if (stat(dir, &st) < 0 || (st.st_mode & 022))
		return vl_err_set(err, VL_E_IO, "%s is writable by others; vmlab keeps the ssh "
				  "wrapper for qemu+ssh:// there: chmod go-w it", dir);
	return vl_file_write_atomic(path, script, strlen(script), 0700, err);
}

char *vl_host_prepare_uri(const char *uri, bool *own_command, struct vl_err *err)
{
	VL_AUTOFREE char *dir = config_dir(), *kh = vl_host_known_hosts_path();
	VL_AUTOFREE char *used = NULL, *script = NULL, *wrapper = NULL, *cmd = NULL;
	const char *sep = uri ? strstr(uri, "://") : NULL;

	if (sep && transport_is(uri, sep, "+ssh") && !(cmd = query_param(uri, "command"))) {
		if (!dir || !(used = vl_host_uri_known_hosts(uri, kh))) {
			vl_err_set(err, VL_E_CONNECT, "%s: no home directory for vmlab's known_hosts",
				   uri);
			return NULL;
		}
		if (!(script = vl_host_ssh_wrapper_script(used))) {
			vl_err_set(err, VL_E_CONNECT, "%s: known_hosts path '%s' has characters "
				   "ssh would split or expand; use another", uri, used);
			return NULL;
		}
		wrapper = vl_host_ssh_wrapper_path(dir, used);
		if (wrapper_write(dir, wrapper, script, err) < 0)
			return NULL;
	}
	return vl_host_connect_uri(uri, kh, wrapper, own_command);
}

char *vl_host_known_hosts_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (xdg && xdg[0] == '/') {
		if (asprintf(&p, "%s/vmlab/known_hosts", xdg) < 0)
			abort();
	} else if (home && *home) {
		if (asprintf(&p, "%s/.config/vmlab/known_hosts", home) < 0)
			abort();
	}
	return p;
}

/* The process at the other end of a unix socket; 0 if it cannot be told. */
static pid_t socket_peer(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pid_t pid = 0;
	int fd;

	if (strlen(path) >= sizeof(a.sun_path))
		return 0;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		pid = cred.pid;
	close(fd);
	return pid;
}

/* 1: pid's namespace ns is ours, 0: it is another, -1: cannot tell
 * (another user's process, for one). */
static int same_ns(pid_t pid, const char *ns)
{
	char path[64];
	struct stat mine, theirs;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat(path, &theirs) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	if (stat(path, &mine) < 0)
		return -1;
	return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

/* Where the daemon behind the connection runs (see host.h). A daemon on
 * this machine whose namespaces cannot be read is taken to share them. */
static void locate_daemon(struct vl_host *h, const char *canon)
{
	VL_AUTOFREE char *sock = NULL;
	pid_t pid;
	int net, mnt;

	h->routes_local = h->files_local = vl_virt_uri_is_local(canon);
	if (!h->routes_local)
		return;
	sock = vl_host_socket_path(canon, getenv("XDG_RUNTIME_DIR"), true);
	if (sock && access(sock, F_OK) < 0) {
		free(sock);
		sock = vl_host_socket_path(canon, getenv("XDG_RUNTIME_DIR"), false);
	}
	if (!sock || !(pid = socket_peer(sock)))
		return;
	net = same_ns(pid, "net");
	mnt = same_ns(pid, "mnt");
	h->routes_local = net != 0;
	h->files_local = mnt != 0;
}

/* The guests' jump through the host's sshd, when they need one. */
static void find_jump(struct vl_host *h, const char *uri)
{
	VL_AUTOFREE char *kh = vl_host_known_hosts_path();
	VL_AUTOFREE char *key = NULL;
	const char *home = getenv("HOME");
	struct passwd pwb, *pw = NULL;
	char pwbuf[1024];
	struct vl_ssh_target *t;

	if (home && *home && asprintf(&key, "%s/.ssh/id_ed25519", home) < 0)
		abort();
	/* hosts are opened from several threads at once: not getpwuid */
	if (getpwuid_r(geteuid(), &pwb, pwbuf, sizeof(pwbuf), &pw) != 0)
		pw = NULL;
	if (!vl_host_jump_of(uri, h->routes_local, pw ? pw->pw_name : NULL, key, kh,
			     &h->priv->jump))
		return;
	t = &h->priv->jump_target;
	*t = (struct vl_ssh_target){
		.host = h->priv->jump.server,
		.port = h->priv->jump.port,
		.user = h->priv->jump.user,
		.identity_path = h->priv->jump.keyfile,
		.known_hosts_path = h->priv->jump.known_hosts,
		.label = "jump host",
		.connect_timeout = 10,
	};
	h->jump = t;
}

struct vl_host *vl_host_open(const char *uri, struct vl_err *err)
{
	VL_AUTOFREE char *curi = vl_host_prepare_uri(uri, NULL, err);
	struct vl_virt_host info;
	struct vl_host *h;
	struct vl_virt *v;

	if (uri && !curi)
		return NULL;
	if (!(v = vl_virt_open(curi, err)))
		return NULL;
	if (vl_virt_host_info(v, &info, err) < 0) {
		vl_virt_close(v);
		return NULL;
	}
	h = vl_calloc(1, sizeof(*h));
	h->priv = vl_calloc(1, sizeof(*h->priv));
	atomic_init(&h->priv->refs, 1);
	pthread_mutex_init(&h->priv->mu, NULL);
	h->uri = uri ? vl_strdup(uri) : NULL;
	h->virt = v;
	locate_daemon(h, uri ? uri : info.uri);
	find_jump(h, uri ? uri : info.uri);
	return h;
}

struct vl_host *vl_host_ref(struct vl_host *h)
{
	atomic_fetch_add(&h->priv->refs, 1);
	return h;
}

void vl_host_unref(struct vl_host *h)
{
	if (!h || atomic_fetch_sub(&h->priv->refs, 1) != 1)
		return;
	vl_virt_close(h->virt);
	vl_host_jump_clear(&h->priv->jump);
	pthread_mutex_destroy(&h->priv->mu);
	free(h->priv);
	free(h->uri);
	free(h);
}

int vl_host_kvm_offered(struct vl_host *h, bool *out, struct vl_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&h->priv->mu);
	if (!h->priv->kvm_known && (rc = vl_virt_kvm_usable(h->virt, &h->priv->kvm, err)) == 0)
		h->priv->kvm_known = true;
	*out = h->priv->kvm;
	pthread_mutex_unlock(&h->priv->mu);
	return rc;
}
