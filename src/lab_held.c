/* The held session, client side (docs/held-session.md): find the lab's
 * master behind its 0600 socket (same uid, checked with SO_PEERCRED), start
 * one when there is none or it is stale, and ride it: commands with the
 * caller's fds passed over SCM_RIGHTS, forwards, the list, stop and reset. */
#include "lab_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "held_proto.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"

/* A live master acknowledges a request at once; silence this long is a
 * stale one (stopped, wedged), which is killed and replaced. */
#define ACK_MS 3000
#define START_MS 30000

char *lab_held_path(const char *state_dir, const char *name)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/%s", state_dir, name);
	return vl_buf_steal(&b);
}

int lab_held_send(int fd, const char *const *f, size_t n, const int *fds, size_t nfds,
		  struct vl_err *err)
{
	struct vl_buf b = VL_BUF_INIT;
	union { char buf[CMSG_SPACE(3 * sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t w;

	vl_held_encode(&b, f, n);
	if (b.len > VL_HELD_MSG_MAX) {
		vl_buf_release(&b);
		return vl_err_set(err, VL_E_USAGE, "the command is too long for the held session "
				  "(over %d bytes)", VL_HELD_MSG_MAX);
	}
	iov = (struct iovec){ b.s, b.len };
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do
		w = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	vl_buf_release(&b);
	if (w < 0)
		return vl_err_sys(err, VL_E_IO, errno, "held session: send");
	return 0;
}

int lab_held_recv(int fd, int timeout_ms, struct vl_held_msg *m, int *fds, size_t *nfds,
		  struct vl_err *err)
{
	static __thread char buf[VL_HELD_MSG_MAX];
	union { char buf[CMSG_SPACE(3 * sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;
	int pr;

	if (nfds)
		*nfds = 0;
	do
		pr = poll(&p, 1, timeout_ms);
	while (pr < 0 && errno == EINTR);
	if (pr == 0)
		return vl_err_set(err, VL_E_TIMEOUT, "held session: no answer");
	do
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return vl_err_sys(err, VL_E_IO, errno, "held session: receive");
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[3];
		memcpy(got, CMSG_DATA(cm), (k > 3 ? 3 : k) * sizeof(int));
		for (size_t i = 0; i < k && i < 3; i++) {
			if (fds && nfds)
				fds[(*nfds)++] = got[i];
			else
				close(got[i]);
		}
	}
	if (r == 0)
		return 1;
	if (vl_held_decode(buf, (size_t)r, m, err) < 0) {
		if (fds && nfds)
			for (size_t i = 0; i < *nfds; i++)
				close(fds[i]);
		return -1;
	}
	return 0;
}

/* Connect to the lab's master: 0 and *fd, 1 when none listens (no socket,
 * refused), -1 when what listens is not ours. */
static int held_connect(const char *state_dir, int *fd, pid_t *pid, struct vl_err *err)
{
	VL_AUTOFREE char *path = lab_held_path(state_dir, VL_HELD_SOCK);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int s;

	if (!vl_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)))
		return vl_err_set(err, VL_E_IO, "%s: path too long for a unix socket", path);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return vl_err_sys(err, VL_E_IO, errno, "socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int en = errno;
		close(s);
		if (en == ENOENT || en == ECONNREFUSED)
			return 1;
		return vl_err_sys(err, VL_E_IO, en, "connect %s", path);
	}
	/* the socket is 0600 in a 0700 directory; the peer's uid says the same
	 * once more, so nobody else's process ever gets our fds */
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid()) {
		close(s);
		return vl_err_set(err, VL_E_SSH, "%s: held session owned by uid %u, not ours; "
				  "refusing it", path, (unsigned)cred.uid);
	}
	*fd = s;
	*pid = cred.pid;
	return 0;
}

/* The binary a master runs: /proc/self/exe, the very file running now, even
 * if a build replaced it since. Under valgrind that file is valgrind's tool,
 * and only readlink() names vmlab: its path when it is another file. */
static const char *self_exe(char *path, size_t size)
{
	struct stat named, running;
	ssize_t n = readlink("/proc/self/exe", path, size - 1);

	if (n <= 0 || (size_t)n >= size - 1)
		return "/proc/self/exe";
	path[n] = '\0';
	if (stat(path, &named) < 0 || stat("/proc/self/exe", &running) < 0 ||
	    (named.st_dev == running.st_dev && named.st_ino == running.st_ino))
		return "/proc/self/exe";
	return path;
}

/* Start a master: vmlab itself, detached (a double fork, setsid), its
 * stderr to held.log; wait until it listens or says why it cannot. */
static int held_start(struct vl_ctx *ctx, const char *state_dir, struct vl_err *err)
{
	VL_AUTOFREE char *log = lab_held_path(state_dir, VL_HELD_LOG);
	const char *argv[12];
	char buf[1024], exe_buf[4096];
	const char *exe = self_exe(exe_buf, sizeof(exe_buf));
	size_t n = 0, got = 0;
	int ready[2];
	pid_t child;

	argv[n++] = "vmlab";
	if (ctx->uri) {
		argv[n++] = "--uri";
		argv[n++] = ctx->uri;
	}
	if (ctx->config_path) {
		argv[n++] = "--config";
		argv[n++] = ctx->config_path;
	}
	argv[n++] = "-C";
	argv[n++] = ctx->profile.dir;
	argv[n++] = "held-session";
	if (ctx->profile.instance) {
		argv[n++] = "--instance";
		argv[n++] = ctx->profile.instance;
	}
	argv[n] = NULL;
	/* the state dir (0700) first: the log goes there from the start */
	for (char *p = strstr(log, "/.vmlab"); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (strstr(log, "/.vmlab"))
			mkdir(log, 0700);
		*p = '/';
	}
	/* the environment made before fork: the child of a threaded caller
	 * (class exec) calls nothing that may take a lock */
	size_t n_env = 0;
	while (environ[n_env])
		n_env++;
	VL_AUTOFREE char **envp = vl_calloc(n_env + 2, sizeof(*envp));
	size_t k = 0;
	for (size_t i = 0; i < n_env; i++)
		if (!vl_str_startswith(environ[i], "VMLAB_HELD_READY_FD="))
			envp[k++] = environ[i];
	envp[k++] = (char *)"VMLAB_HELD_READY_FD=3";
	if (pipe2(ready, O_CLOEXEC) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "pipe");
	child = fork();
	if (child < 0) {
		close(ready[0]);
		close(ready[1]);
		return vl_err_sys(err, VL_E_IO, errno, "fork");
	}
	if (child == 0) {
		if (fork() != 0)
			_exit(0);
		setsid();
		int null = open("/dev/null", O_RDWR);
		int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(null, 0);
		dup2(null, 1);
		dup2(lf >= 0 ? lf : null, 2);
		dup2(ready[1], 3);
		/* nothing of ours but fd 3 crosses exec (the project lock!) */
		close_range(4, ~0u, 0);
		execve(exe, (char *const *)argv, envp);
		_exit(127);
	}
	close(ready[1]);
	waitpid(child, NULL, 0);
	int64_t deadline = vl_now_mono_ms() + START_MS;
	for (;;) {
		struct pollfd p = { .fd = ready[0], .events = POLLIN };
		int64_t left = deadline - vl_now_mono_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			close(ready[0]);
			return vl_err_set(err, VL_E_TIMEOUT, "the held session did not start within "
					  "%d s (see %s)", START_MS / 1000, log);
		}
		ssize_t r = read(ready[0], buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(buf) - 1)
			break;
	}
	close(ready[0]);
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (vl_streq(buf, "ok") || vl_streq(buf, "running"))
		return 0;
	return vl_err_set(err, VL_E_FAIL, "held session: %s", got ? buf : "exited at start (see "
			  "held.log in the lab's state dir)");
}

/* Send a request and wait for its ack. 0 with *fd open; 1 when no master
 * answers (and start is false); -1 on error. A stale master (no ack, or of
 * another protocol) is killed and replaced, once. */
static int held_request(struct vl_ctx *ctx, const char *state_dir, bool start,
			const char *const *f, size_t n, const int *fds, size_t nfds, int *fd,
			struct vl_err *err)
{
	for (int round = 0; round < 3; round++) {
		struct vl_held_msg m;
		pid_t pid = 0;
		int s = -1;
		int rc = held_connect(state_dir, &s, &pid, err);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (!start)
				return 1;
			if (held_start(ctx, state_dir, err) < 0)
				return -1;
			continue;
		}
		if (lab_held_send(s, f, n, fds, nfds, err) == 0 &&
		    lab_held_recv(s, ACK_MS, &m, NULL, NULL, err) == 0) {
			bool ack = vl_held_is(&m, 0, "ack");
			vl_held_msg_release(&m);
			if (ack) {
				*fd = s;
				return 0;
			}
		}
		/* stale: wedged, dying, or another protocol; it is ours (uid
		 * checked), so end it and take its place */
		close(s);
		if (pid > 0)
			kill(pid, SIGKILL);
		VL_AUTOFREE char *path = lab_held_path(state_dir, VL_HELD_SOCK);
		unlink(path);
		vl_err_clear(err);
		if (!start)
			return 1;
	}
	return vl_err_set(err, VL_E_FAIL, "held session: no master answers in %s", state_dir);
}

/* "err CODE MESSAGE" into err. */
static int reply_error(const struct vl_held_msg *m, struct vl_err *err)
{
	unsigned long long code = VL_E_FAIL;

	if (m->n >= 3 && vl_str_to_u64(m->f[1], &code))
		return vl_err_set(err, (enum vl_errcode)code, "%s", m->f[2]);
	return vl_err_set(err, VL_E_FAIL, "held session: unexpected answer '%s'",
			  m->n ? m->f[0] : "");
}

/* One final reply after the ack: ok, exit or err. Ctrl-C gives up: the
 * master sees the connection close and ends the command's channel. */
static int final_reply(struct vl_ctx *ctx, int fd, struct vl_held_msg *m, struct vl_err *err)
{
	int rc;

	for (;;) {
		if (vl_cancelled(&ctx->events))
			return vl_err_set(err, VL_E_CANCELLED, "cancelled");
		rc = lab_held_recv(fd, 200, m, NULL, NULL, err);
		if (rc >= 0 || err->code != VL_E_TIMEOUT)
			break;
		vl_err_clear(err);
	}
	if (rc < 0)
		return -1;
	if (rc == 1)
		return vl_err_set(err, VL_E_FAIL, "held session: the master went away");
	if (vl_held_is(m, 0, "err")) {
		reply_error(m, err);
		vl_held_msg_release(m);
		return -1;
	}
	return 0;
}

static const char *state_dir_of(struct vl_ctx *ctx, char **owned)
{
	*owned = vl_plan_state_dir(ctx->profile.dir, ctx->profile.instance);
	return *owned;
}

bool lab_rides_held(const struct vl_ctx *ctx)
{
	return vl_held_rides(ctx->profile.persist, ctx->profile.instance);
}

int lab_held_ensure(struct vl_ctx *ctx, struct vl_err *err)
{
	VL_AUTOFREE char *dir = NULL;
	const char *f[] = { VL_HELD_VERSION, "list" };
	struct vl_held_msg m;
	int fd = -1;

	/* a list is the cheapest request a master answers: asking it starts
	 * one, or replaces a stale one, before any worker thread could */
	if (held_request(ctx, state_dir_of(ctx, &dir), true, f, 2, NULL, 0, &fd, err) != 0)
		return -1;
	for (;;) {
		if (final_reply(ctx, fd, &m, err) < 0) {
			close(fd);
			return -1;
		}
		bool more = vl_held_is(&m, 0, "fwd");
		vl_held_msg_release(&m);
		if (!more)
			break;
	}
	close(fd);
	return 0;
}

void lab_held_use(struct lab *lab)
{
	struct vl_err e = VL_ERR_INIT;

	lab->held = lab_rides_held(lab->ctx);
	if (lab->held && lab_held_ensure(lab->ctx, &e) < 0) {
		vl_event_warn(&lab->ctx->events, NULL, "%s; connecting directly", e.msg);
		lab->held = false;
	}
}

int lab_held_exec(struct vl_ctx *ctx, const char *vm, const char *const *argv, size_t argc,
		  int in_fd, int out_fd, int err_fd, int *status, struct vl_err *err)
{
	VL_AUTOFREE char *dir = NULL;
	VL_AUTOFREE const char **f = vl_calloc(argc + 3, sizeof(*f));
	int fds[3] = { in_fd, out_fd, err_fd };
	struct vl_held_msg m;
	int fd = -1, rc, null = -1;

	/* SCM_RIGHTS carries only open fds: no stdin is /dev/null's EOF */
	for (size_t i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			continue;
		if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			return vl_err_sys(err, VL_E_IO, errno, "/dev/null");
		fds[i] = null;
	}
	f[0] = VL_HELD_VERSION;
	f[1] = "exec";
	f[2] = vm;
	for (size_t i = 0; i < argc; i++)
		f[3 + i] = argv[i];
	rc = held_request(ctx, state_dir_of(ctx, &dir), true, f, argc + 3, fds, 3, &fd, err);
	if (null >= 0)
		close(null);
	if (rc != 0)
		return -1;
	rc = final_reply(ctx, fd, &m, err);
	close(fd);
	if (rc < 0)
		return -1;
	unsigned long long st;
	if (!vl_held_is(&m, 0, "exit") || m.n < 2 || !vl_str_to_u64(m.f[1], &st)) {
		vl_held_msg_release(&m);
		return vl_err_set(err, VL_E_FAIL, "held session: unexpected answer to exec");
	}
	*status = (int)st;
	vl_err_clear(err);
	if (m.n >= 3 && m.f[2][0]) {
		vl_err_set(err, VL_E_REMOTE, "%s", m.f[2]);
		err->status = (int)st;
	}
	vl_held_msg_release(&m);
	return 0;
}

int lab_held_forward(struct vl_ctx *ctx, const char *vm, const struct vl_fwd_spec *spec,
		     bool from_profile, struct vl_err *err)
{
	VL_AUTOFREE char *dir = NULL;
	char local[8], remote[8];
	struct vl_held_msg m;
	int fd = -1, rc;

	snprintf(local, sizeof(local), "%u", spec->local);
	snprintf(remote, sizeof(remote), "%u", spec->remote);
	const char *f[] = { VL_HELD_VERSION, "forward", vm, spec->bind, local, remote,
			    from_profile ? "profile" : "command" };
	if (held_request(ctx, state_dir_of(ctx, &dir), true, f, VL_ARRAY_SIZE(f), NULL, 0, &fd,
			 err) != 0)
		return -1;
	rc = final_reply(ctx, fd, &m, err);
	close(fd);
	if (rc == 0)
		vl_held_msg_release(&m);
	return rc;
}

int lab_held_list(struct vl_ctx *ctx, struct vl_fwd_info **out, size_t *n, struct vl_err *err)
{
	VL_AUTOFREE char *dir = NULL;
	const char *f[] = { VL_HELD_VERSION, "list" };
	struct vl_held_msg m;
	int fd = -1, rc;

	*out = NULL;
	*n = 0;
	rc = held_request(ctx, state_dir_of(ctx, &dir), false, f, 2, NULL, 0, &fd, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	for (;;) {
		if (final_reply(ctx, fd, &m, err) < 0) {
			close(fd);
			vl_fwd_info_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -1;
		}
		if (!vl_held_is(&m, 0, "fwd") || m.n < 8) {
			vl_held_msg_release(&m);
			break;
		}
		struct vl_fwd_info *fi;
		unsigned long long l = 0, r = 0, c = 0;
		*out = vl_realloc(*out, (*n + 1) * sizeof(**out));
		fi = &(*out)[(*n)++];
		*fi = (struct vl_fwd_info){ .vm = vl_strdup(m.f[1]) };
		vl_strlcpy(fi->spec.bind, m.f[2], sizeof(fi->spec.bind));
		vl_str_to_u64(m.f[3], &l);
		vl_str_to_u64(m.f[4], &r);
		vl_str_to_u64(m.f[5], &c);
		fi->spec.local = (unsigned)l;
		fi->spec.remote = (unsigned)r;
		fi->conns = (unsigned)c;
		fi->from_profile = vl_streq(m.f[6], "profile");
		fi->connected = vl_streq(m.f[7], "up");
		fi->active = true;
		vl_held_msg_release(&m);
	}
	close(fd);
	return 0;
}

void vl_fwd_info_free(struct vl_fwd_info *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].vm);
	free(f);
}

/* stop, drop VM..., reset: to a running master only; its answer comes once
 * it has done it (a stop: sessions closed, forwards closed). */
static void held_tell(struct lab *lab, const char *const *f, size_t n)
{
	struct vl_err e = VL_ERR_INIT;
	struct vl_held_msg m;
	int fd = -1;

	if (held_request(lab->ctx, lab->state_dir, false, f, n, NULL, 0, &fd, &e) != 0) {
		if (e.code != VL_OK)
			vl_event_debug(&lab->ctx->events, NULL, "held session: %s", e.msg);
		return;
	}
	if (final_reply(lab->ctx, fd, &m, &e) == 0)
		vl_held_msg_release(&m);
	close(fd);
}

void lab_held_stop(struct lab *lab)
{
	size_t n = 0, k = 2;
	const char **f = vl_calloc(lab->plan.n_vms + 3, sizeof(*f));

	for (size_t i = 0; i < lab->plan.n_vms; i++)
		n += lab->chosen[i];
	f[0] = VL_HELD_VERSION;
	if (n == lab->plan.n_vms) {
		f[1] = "stop";
	} else {
		f[1] = "drop";
		for (size_t i = 0; i < lab->plan.n_vms; i++)
			if (lab->chosen[i])
				f[k++] = lab->plan.vms[i].name;
	}
	held_tell(lab, f, n == lab->plan.n_vms ? 2 : k);
	free(f);
}

void lab_held_reset(struct lab *lab)
{
	const char *f[] = { VL_HELD_VERSION, "reset" };

	held_tell(lab, f, 2);
}

int lab_held_profile_forwards(struct lab *lab, struct vl_err *err)
{
	const struct vl_profile *p = &lab->ctx->profile;

	for (size_t i = 0; i < lab->plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &lab->plan.vms[i];
		if (!lab->chosen[i])
			continue;
		for (size_t k = 0; k < p->n_vms; k++) {
			const struct vl_vm_spec *spec = &p->vms[k];
			if (!vl_streq(spec->name, vm->spec_name))
				continue;
			for (size_t f = 0; f < spec->n_forwards; f++) {
				char what[64];
				vl_fwd_format(&spec->forwards[f], what, sizeof(what));
				if (lab_held_forward(lab->ctx, vm->name, &spec->forwards[f], true, err) < 0)
					return vl_err_prefix(err, "%s: forward %s", vm->name, what);
				vl_event_info(&lab->ctx->events, vm->name, "forward %s", what);
			}
		}
	}
	return 0;
}

int vl_lab_forward_add(struct vl_ctx *ctx, const char *vm, const struct vl_fwd_spec *specs,
		       size_t n, struct vl_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char what[64];
		vl_fwd_format(&specs[i], what, sizeof(what));
		if (lab_held_forward(ctx, vm, &specs[i], false, err) < 0)
			return vl_err_prefix(err, "forward %s", what);
		vl_event_info(&ctx->events, vm, "forward %s", what);
	}
	return 0;
}

int vl_lab_forward_list(struct vl_ctx *ctx, struct vl_fwd_info **out, size_t *n,
			struct vl_err *err)
{
	return lab_held_list(ctx, out, n, err);
}

int lab_held_status_forwards(struct lab *lab, struct vl_fwd_info **out, size_t *n,
			     struct vl_err *err)
{
	const struct vl_profile *p = &lab->ctx->profile;

	if (lab_held_list(lab->ctx, out, n, err) < 0)
		return -1;
	for (size_t i = 0; i < lab->plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &lab->plan.vms[i];
		for (size_t k = 0; k < p->n_vms; k++) {
			const struct vl_vm_spec *spec = &p->vms[k];
			if (!vl_streq(spec->name, vm->spec_name))
				continue;
			for (size_t f = 0; f < spec->n_forwards; f++) {
				const struct vl_fwd_spec *fs = &spec->forwards[f];
				bool on = false;
				for (size_t a = 0; a < *n && !on; a++)
					on = (*out)[a].spec.local == fs->local &&
					     vl_streq((*out)[a].spec.bind, fs->bind);
				if (on)
					continue;
				*out = vl_realloc(*out, (*n + 1) * sizeof(**out));
				(*out)[(*n)++] = (struct vl_fwd_info){
					.vm = vl_strdup(vm->name), .spec = *fs, .from_profile = true,
				};
			}
		}
	}
	return 0;
}
