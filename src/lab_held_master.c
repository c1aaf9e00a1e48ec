/* The held session's master (docs/held-session.md): one process per lab
 * behind a 0600 unix socket in the lab's state dir. The main thread accepts
 * requests (same uid only), acknowledges each at once and hands it to the
 * VM's worker: one thread per VM holding its pinned session as a hub, with
 * the VM's forward listeners. The master ends after [lab] persist idle
 * seconds, on stop (halt, destroy), or on SIGTERM. */
#include "lab_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "held_proto.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/lock.h"
#include "util/mem.h"
#include "util/str.h"

/* How long a forwarded connection waits for the VM's session to come back
 * (a reboot under TCG takes a while). */
#define FWD_RECONNECT_S 120
#define MAX_POLL 2048
#define MAX_CLIENTS 64

enum job_kind { JOB_EXEC, JOB_FORWARD, JOB_RESET };

struct job {
	enum job_kind kind;
	int ctl;                    /* the requester; the answer goes there */
	int fds[3];
	char **argv;
	size_t argc;
	int listen_fd;
	struct vl_fwd_spec spec;
	bool from_profile;
	struct job *next;
};

struct listener {
	struct vl_fwd_spec spec;
	int fd;
	bool from_profile;
};

struct master;

struct worker {
	struct master *m;
	const struct vl_plan_vm *vm;
	struct vl_ssh_target t;
	char *host_pub;
	struct vl_events evs;       /* the master's sink; cancel: quit */
	atomic_bool quit;
	pthread_t th;
	int wake[2];
	pthread_mutex_t mu;         /* jobs, and ls as the main thread reads it */
	struct job *jobs;
	struct listener *ls;
	size_t n_ls;
	atomic_uint conns;
	atomic_bool up;
	struct vl_ssh_hub *hub;     /* the worker's thread only */
	char *pin;                  /* the pinned key file's text the session was checked against */
};

struct master {
	struct vl_ctx *ctx;
	struct lab lab;
	struct worker **w;
	size_t n_w;
	atomic_int busy;            /* requests queued or running */
	_Atomic int64_t last_use;
	struct stat ini;            /* vmlab.ini as the master loaded it */
	bool served;                /* some request was acknowledged */
};

static void job_free(struct job *j)
{
	for (int i = 0; i < 3; i++)
		if (j->fds[i] >= 0)
			close(j->fds[i]);
	if (j->ctl >= 0)
		close(j->ctl);
	if (j->listen_fd >= 0)
		close(j->listen_fd);
	for (size_t i = 0; i < j->argc; i++)
		free(j->argv[i]);
	free(j->argv);
	free(j);
}

static struct job *job_new(enum job_kind kind, int ctl)
{
	struct job *j = vl_calloc(1, sizeof(*j));

	j->kind = kind;
	j->ctl = ctl;
	j->fds[0] = j->fds[1] = j->fds[2] = j->listen_fd = -1;
	return j;
}

static void reply(int fd, const char *const *f, size_t n)
{
	if (fd >= 0)
		lab_held_send(fd, f, n, NULL, 0, NULL);
}

static void reply_err(int fd, const struct vl_err *e)
{
	char code[16];

	snprintf(code, sizeof(code), "%d", (int)e->code);
	const char *f[] = { "err", code, e->msg };
	reply(fd, f, 3);
}

static void reply_ok(int fd)
{
	const char *f[] = { "ok" };
	reply(fd, f, 1);
}

/* A job is over: the answer was sent, its fds are closed. */
static void job_done(struct master *m, struct job *j)
{
	job_free(j);
	atomic_store(&m->last_use, vl_now_mono_ms());
	atomic_fetch_sub(&m->busy, 1);
}

/* ---- a VM's worker ------------------------------------------------------ */

/* The pinned host key file as it is now (NULL if unreadable). */
static char *read_pin(const struct worker *w)
{
	struct vl_err e = VL_ERR_INIT;
	char *text = NULL;
	size_t len;

	if (vl_file_read(w->t.host_pubkey_path, 1u << 16, &text, &len, &e) < 0)
		return NULL;
	return text;
}

static void drop_session(struct worker *w, const char *why);

/* A held session never outlives the key it was checked against: a pinned
 * key file that changed since (a re-made VM, a hand edit) ends the session,
 * and the next connection checks the key that is pinned now. */
static void check_pin(struct worker *w)
{
	VL_AUTOFREE char *now = NULL;

	if (!w->hub)
		return;
	now = read_pin(w);
	if (!now || !w->pin || !vl_streq(now, w->pin))
		drop_session(w, "the pinned host key changed");
}

static int ensure_session(struct worker *w, unsigned retry_s, struct vl_err *err)
{
	struct vl_ssh *s = NULL;

	check_pin(w);
	if (w->hub)
		return 0;
	free(w->pin);
	w->pin = read_pin(w);   /* before connecting: what the connection checks */
	if (vl_ssh_connect_retry(&w->t, retry_s, &w->evs, &s, err) < 0)
		return -1;
	w->hub = vl_ssh_hub_new(s);
	atomic_store(&w->up, true);
	vl_event_debug(&w->evs, w->vm->name, "held session connected");
	return 0;
}

static void drop_session(struct worker *w, const char *why)
{
	if (!w->hub)
		return;
	vl_event_debug(&w->evs, w->vm->name, "held session dropped: %s", why);
	vl_ssh_hub_free(w->hub);
	w->hub = NULL;
	atomic_store(&w->up, false);
	atomic_store(&w->conns, 0);
}

/* The answer to an exec: its status, or why it could not run. */
static void exec_reply(struct job *j, int status, const struct vl_err *e)
{
	char st[16];

	if (e && e->code != VL_E_REMOTE) {
		reply_err(j->ctl, e);
		return;
	}
	snprintf(st, sizeof(st), "%d", status < 0 ? 255 : status);
	const char *f[] = { "exit", st, e ? e->msg : "" };
	reply(j->ctl, f, 3);
}

struct exec_ud {
	struct master *m;
	struct job *j;
};

static void exec_finished(void *ud, int status, const struct vl_err *e)
{
	struct exec_ud *x = ud;

	exec_reply(x->j, status, e);
	job_done(x->m, x->j);
	free(x);
}

/* Start a command; a session found dead on the way is reconnected once. */
static void run_exec(struct worker *w, struct job *j)
{
	struct vl_err e = VL_ERR_INIT;

	for (int round = 0; round < 2; round++) {
		if (ensure_session(w, LAB_SSH_RETRY_S, &e) < 0)
			break;
		struct exec_ud *x = vl_calloc(1, sizeof(*x));
		*x = (struct exec_ud){ w->m, j };
		if (vl_ssh_hub_exec(w->hub, (const char *const *)j->argv, j->argc, j->fds[0],
				    j->fds[1], j->fds[2], j->ctl, exec_finished, x, &e) == 0)
			return;
		free(x);
		drop_session(w, e.msg);
	}
	reply_err(j->ctl, &e);
	job_done(w->m, j);
}

static void run_forward(struct worker *w, struct job *j)
{
	struct vl_err e = VL_ERR_INIT;

	if (ensure_session(w, LAB_SSH_RETRY_S, &e) < 0) {
		reply_err(j->ctl, &e);
		job_done(w->m, j);
		return;
	}
	pthread_mutex_lock(&w->mu);
	w->ls = vl_realloc(w->ls, (w->n_ls + 1) * sizeof(*w->ls));
	w->ls[w->n_ls++] = (struct listener){ j->spec, j->listen_fd, j->from_profile };
	pthread_mutex_unlock(&w->mu);
	j->listen_fd = -1;
	reply_ok(j->ctl);
	job_done(w->m, j);
}

/* A connection on a forwarded port: over the session, reconnecting it
 * (a reboot, a revert) if it is gone. */
static void forward_conn(struct worker *w, int sock, unsigned remote)
{
	struct vl_err e = VL_ERR_INIT;

	for (int round = 0; round < 2; round++) {
		if (ensure_session(w, FWD_RECONNECT_S, &e) < 0)
			break;
		if (vl_ssh_hub_forward(w->hub, sock, remote, &e) == 0)
			return;
		if (e.code != VL_E_SSH)
			break;   /* nothing listens in the guest: not the session's fault */
		drop_session(w, e.msg);
	}
	vl_event_warn(&w->evs, w->vm->name, "forward to port %u: %s", remote, e.msg);
	close(sock);
}

static struct job *take_jobs(struct worker *w)
{
	struct job *j, *rev = NULL;

	pthread_mutex_lock(&w->mu);
	j = w->jobs;
	w->jobs = NULL;
	pthread_mutex_unlock(&w->mu);
	while (j) {   /* queued newest first: run them in order */
		struct job *next = j->next;
		j->next = rev;
		rev = j;
		j = next;
	}
	return rev;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[MAX_POLL];
	int busy = 0;

	while (!atomic_load(&w->quit)) {
		for (struct job *j = take_jobs(w), *next; j; j = next) {
			next = j->next;
			if (j->kind == JOB_EXEC)
				run_exec(w, j);
			else if (j->kind == JOB_FORWARD)
				run_forward(w, j);
			else {
				drop_session(w, "the VM was reverted");
				job_done(w->m, j);
			}
		}
		size_t n = 0, l0, h0;
		pfd[n++] = (struct pollfd){ .fd = w->wake[0], .events = POLLIN };
		l0 = n;
		for (size_t i = 0; i < w->n_ls && n < MAX_POLL / 2; i++)
			pfd[n++] = (struct pollfd){ .fd = w->ls[i].fd, .events = POLLIN };
		h0 = n;
		if (w->hub)
			n += vl_ssh_hub_pollfds(w->hub, pfd + h0, MAX_POLL - h0);
		if (poll(pfd, n, busy ? 0 : 1000) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			char b[64];
			while (read(w->wake[0], b, sizeof(b)) > 0)
				;
		}
		busy = 0;
		if (w->hub) {
			struct vl_err e = VL_ERR_INIT;
			int r = vl_ssh_hub_step(w->hub, pfd + h0, n - h0, &e);
			if (r < 0)
				drop_session(w, e.msg);
			busy = r > 0;
		}
		for (size_t i = 0; i < w->n_ls && l0 + i < h0; i++) {
			if (!pfd[l0 + i].revents)
				continue;
			int s;
			while ((s = accept4(w->ls[i].fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
				int one = 1;
				setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				forward_conn(w, s, w->ls[i].spec.remote);
				busy = 1;
			}
		}
		atomic_store(&w->conns, w->hub ? (unsigned)vl_ssh_hub_channels(w->hub) : 0);
	}
	drop_session(w, "stopping");
	for (struct job *j = take_jobs(w), *next; j; j = next) {
		struct vl_err e = VL_ERR_INIT;
		next = j->next;
		vl_err_set(&e, VL_E_FAIL, "%s: the held session is stopping", w->vm->name);
		reply_err(j->ctl, &e);
		job_done(w->m, j);
	}
	return NULL;
}

static void worker_post(struct worker *w, struct job *j)
{
	ssize_t wr;

	atomic_fetch_add(&w->m->busy, 1);
	pthread_mutex_lock(&w->mu);
	j->next = w->jobs;
	w->jobs = j;
	pthread_mutex_unlock(&w->mu);
	wr = write(w->wake[1], "x", 1);
	(void)wr;
}

static void worker_stop(struct worker *w)
{
	ssize_t wr;

	atomic_store(&w->quit, true);
	wr = write(w->wake[1], "x", 1);
	(void)wr;
	pthread_join(w->th, NULL);
	for (size_t i = 0; i < w->n_ls; i++)
		close(w->ls[i].fd);
	free(w->ls);
	close(w->wake[0]);
	close(w->wake[1]);
	free(w->host_pub);
	free(w->pin);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* The VM's worker, started on first use once libvirt says it runs. */
static struct worker *worker_get(struct master *m, const char *name, struct vl_err *err)
{
	const struct vl_plan_vm *vm = vl_plan_find_vm(&m->lab.plan, name);
	struct worker *w;
	enum vl_vm_state s;

	for (size_t i = 0; i < m->n_w; i++)
		if (vl_streq(m->w[i]->vm->name, name))
			return m->w[i];
	if (!vm) {
		vl_err_set(err, VL_E_NOTFOUND, "no VM '%s' in lab %s", name, m->lab.plan.lab_name);
		return NULL;
	}
	s = lab_vm_state(&m->lab, vm, err);
	if (err->code != VL_OK)
		return NULL;
	if (s != VL_VM_RUNNING) {
		vl_err_set(err, VL_E_FAIL, "%s is %s; 'vmlab up %s' starts it", name,
			   vl_vm_state_name(s), name);
		return NULL;
	}
	/* keys exist once a VM runs; opening them first would make them */
	if (!m->lab.keys.dir && vl_keys_open(&m->lab.keys, m->lab.state_dir, err) < 0)
		return NULL;
	w = vl_calloc(1, sizeof(*w));
	w->m = m;
	w->vm = vm;
	lab_ssh_target(&m->lab, vm, &w->t, &w->host_pub);
	w->evs = m->ctx->events;
	w->evs.cancel = &w->quit;
	w->t.evs = &w->evs;
	pthread_mutex_init(&w->mu, NULL);
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		abort();
	if (pthread_create(&w->th, NULL, worker_main, w) != 0)
		abort();
	m->w = vl_realloc(m->w, (m->n_w + 1) * sizeof(*m->w));
	m->w[m->n_w++] = w;
	return w;
}

/* ---- requests (main thread) --------------------------------------------- */

static int listen_tcp(const struct vl_fwd_spec *f, int *out, struct vl_err *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->local) };
	int one = 1, s;

	if (inet_pton(AF_INET, f->bind, &sa.sin_addr) != 1)
		return vl_err_set(err, VL_E_USAGE, "bind address '%s' is not IPv4", f->bind);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return vl_err_sys(err, VL_E_IO, errno, "socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 128) < 0) {
		int en = errno;
		close(s);
		if (en == EADDRINUSE)
			return vl_err_set(err, VL_E_EXISTS, "port %u on %s is already in use", f->local,
					  f->bind);
		if (en == EACCES)
			return vl_err_set(err, VL_E_FAIL, "port %u on %s: permission denied (ports "
					  "below 1024 need root)", f->local, f->bind);
		return vl_err_sys(err, VL_E_IO, en, "listen on %s:%u", f->bind, f->local);
	}
	*out = s;
	return 0;
}

/* An existing forward on the same address: the same one again is fine. */
static int forward_clash(struct master *m, const char *vm, const struct vl_fwd_spec *f,
			 bool *same, struct vl_err *err)
{
	*same = false;
	for (size_t i = 0; i < m->n_w; i++) {
		struct worker *w = m->w[i];
		pthread_mutex_lock(&w->mu);
		for (size_t k = 0; k < w->n_ls; k++) {
			const struct vl_fwd_spec *g = &w->ls[k].spec;
			if (g->local != f->local || !vl_streq(g->bind, f->bind))
				continue;
			*same = vl_streq(w->vm->name, vm) && g->remote == f->remote;
			if (!*same)
				vl_err_set(err, VL_E_EXISTS, "port %u on %s is already forwarded to %s:%u",
					   f->local, f->bind, w->vm->name, g->remote);
		}
		pthread_mutex_unlock(&w->mu);
	}
	return err->code == VL_OK ? 0 : -1;
}

static void req_forward(struct master *m, int ctl, const struct vl_held_msg *q)
{
	struct vl_err e = VL_ERR_INIT;
	struct vl_fwd_spec f = { 0 };
	unsigned long long l, r;
	struct worker *w;
	struct job *j;
	bool same;
	int s = -1;

	if (q->n < 7 || !vl_strlcpy(f.bind, q->f[3], sizeof(f.bind)) ||
	    !vl_str_to_u64(q->f[4], &l) || !vl_str_to_u64(q->f[5], &r) || !l || l > 65535 || !r ||
	    r > 65535) {
		vl_err_set(&e, VL_E_USAGE, "held session: malformed forward request");
		goto fail;
	}
	f.local = (unsigned)l;
	f.remote = (unsigned)r;
	if (forward_clash(m, q->f[2], &f, &same, &e) < 0)
		goto fail;
	if (same) {
		reply_ok(ctl);
		close(ctl);
		return;
	}
	w = worker_get(m, q->f[2], &e);
	if (!w || listen_tcp(&f, &s, &e) < 0)
		goto fail;
	j = job_new(JOB_FORWARD, ctl);
	j->spec = f;
	j->listen_fd = s;
	j->from_profile = vl_streq(q->f[6], "profile");
	worker_post(w, j);
	return;
fail:
	reply_err(ctl, &e);
	close(ctl);
}

static void req_exec(struct master *m, int ctl, const struct vl_held_msg *q, int *fds,
		     size_t nfds)
{
	struct vl_err e = VL_ERR_INIT;
	struct worker *w;
	struct job *j;

	if (q->n < 4 || nfds != 3) {
		vl_err_set(&e, VL_E_USAGE, "held session: malformed exec request");
	} else if ((w = worker_get(m, q->f[2], &e))) {
		j = job_new(JOB_EXEC, ctl);
		memcpy(j->fds, fds, sizeof(j->fds));
		j->argc = q->n - 3;
		j->argv = vl_calloc(j->argc + 1, sizeof(char *));
		for (size_t i = 0; i < j->argc; i++)
			j->argv[i] = vl_strdup(q->f[3 + i]);
		worker_post(w, j);
		return;
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	reply_err(ctl, &e);
	close(ctl);
}

static void req_list(struct master *m, int ctl)
{
	for (size_t i = 0; i < m->n_w; i++) {
		struct worker *w = m->w[i];
		char conns[16];
		snprintf(conns, sizeof(conns), "%u", atomic_load(&w->conns));
		pthread_mutex_lock(&w->mu);
		for (size_t k = 0; k < w->n_ls; k++) {
			char l[8], r[8];
			snprintf(l, sizeof(l), "%u", w->ls[k].spec.local);
			snprintf(r, sizeof(r), "%u", w->ls[k].spec.remote);
			const char *f[] = { "fwd", w->vm->name, w->ls[k].spec.bind, l, r, conns,
					    w->ls[k].from_profile ? "profile" : "command",
					    atomic_load(&w->up) ? "up" : "down" };
			reply(ctl, f, VL_ARRAY_SIZE(f));
		}
		pthread_mutex_unlock(&w->mu);
	}
	const char *end[] = { "end" };
	reply(ctl, end, 1);
}

static void drop_worker(struct master *m, const char *name)
{
	for (size_t i = 0; i < m->n_w; i++) {
		if (!vl_streq(m->w[i]->vm->name, name))
			continue;
		worker_stop(m->w[i]);
		m->w[i] = m->w[--m->n_w];
		return;
	}
}

/* The profile changed under the master: its plan may be wrong now. */
static bool ini_changed(const struct master *m)
{
	struct stat st;

	return stat(m->ctx->profile.path, &st) < 0 || st.st_mtim.tv_sec != m->ini.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != m->ini.st_mtim.tv_nsec || st.st_size != m->ini.st_size;
}

/* One request from a client; false when the master must stop. */
static bool request(struct master *m, int ctl)
{
	struct vl_err e = VL_ERR_INIT;
	struct vl_held_msg q;
	int fds[3];
	size_t nfds = 0;
	int rc = lab_held_recv(ctl, 0, &q, fds, &nfds, &e);
	bool go_on = true;

	if (rc != 0) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		close(ctl);
		return true;
	}
	/* another protocol, or a plan made from an older vmlab.ini: no ack,
	 * so the client replaces this master */
	if (!vl_held_is(&q, 0, VL_HELD_VERSION) || q.n < 2 || ini_changed(m)) {
		const char *f[] = { "nak" };
		reply(ctl, f, 1);
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		close(ctl);
		vl_held_msg_release(&q);
		return true;
	}
	const char *ack[] = { "ack" };
	reply(ctl, ack, 1);
	m->served = true;
	atomic_store(&m->last_use, vl_now_mono_ms());
	if (vl_held_is(&q, 1, "exec")) {
		req_exec(m, ctl, &q, fds, nfds);
		nfds = 0;
		ctl = -1;
	} else if (vl_held_is(&q, 1, "forward")) {
		req_forward(m, ctl, &q);
		ctl = -1;
	} else if (vl_held_is(&q, 1, "list")) {
		req_list(m, ctl);
	} else if (vl_held_is(&q, 1, "reset")) {
		for (size_t i = 0; i < m->n_w; i++)
			worker_post(m->w[i], job_new(JOB_RESET, -1));
		reply_ok(ctl);
	} else if (vl_held_is(&q, 1, "drop")) {
		for (size_t i = 2; i < q.n; i++)
			drop_worker(m, q.f[i]);
		reply_ok(ctl);
	} else if (vl_held_is(&q, 1, "stop")) {
		while (m->n_w)
			drop_worker(m, m->w[m->n_w - 1]->vm->name);
		reply_ok(ctl);
		go_on = false;
	} else {
		vl_err_set(&e, VL_E_USAGE, "held session: unknown request '%s'", q.f[1]);
		reply_err(ctl, &e);
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	if (ctl >= 0)
		close(ctl);
	vl_held_msg_release(&q);
	return go_on;
}

static size_t in_use(struct master *m)
{
	size_t n = (size_t)atomic_load(&m->busy);

	for (size_t i = 0; i < m->n_w; i++) {
		pthread_mutex_lock(&m->w[i]->mu);
		n += m->w[i]->n_ls;
		pthread_mutex_unlock(&m->w[i]->mu);
	}
	return n;
}

static void say_ready(int *fd, const char *msg)
{
	ssize_t w;

	if (*fd < 0)
		return;
	w = write(*fd, msg, strlen(msg));
	(void)w;
	close(*fd);
	*fd = -1;
}

/* Bind the socket 0600 (umask around bind: never a moment open to others). */
static int listen_unix(const char *path, int *out, struct vl_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int s, rc;

	if (!vl_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)))
		return vl_err_set(err, VL_E_IO, "%s: path too long for a unix socket", path);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return vl_err_sys(err, VL_E_IO, errno, "socket");
	unlink(path);   /* a dead master's; we hold the lock */
	old = umask(0177);
	rc = bind(s, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(s, 64) < 0) {
		vl_err_sys(err, VL_E_IO, errno, "listen on %s", path);
		close(s);
		return -1;
	}
	*out = s;
	return 0;
}

int vl_lab_held_serve(struct vl_ctx *ctx, int ready_fd, struct vl_err *err)
{
	VL_AUTOFREE char *sock_path = NULL, *lock_path = NULL;
	struct vl_lock lock = VL_LOCK_INIT;
	struct master m = { .ctx = ctx };
	int clients[MAX_CLIENTS];
	size_t n_cl = 0;
	unsigned persist = ctx->profile.persist;
	int ls = -1, rc = -1;
	struct stat own;

	signal(SIGPIPE, SIG_IGN);
	if (stat(ctx->profile.path, &m.ini) < 0) {
		vl_err_sys(err, VL_E_IO, errno, "%s", ctx->profile.path);
		say_ready(&ready_fd, err->msg);
		return -1;
	}
	if (lab_open(&m.lab, ctx, 0, NULL, err) < 0) {
		say_ready(&ready_fd, err->msg);
		return -1;
	}
	sock_path = lab_held_path(m.lab.state_dir, VL_HELD_SOCK);
	lock_path = lab_held_path(m.lab.state_dir, VL_HELD_LOCK);
	if (vl_lock_take(&lock, lock_path, 0, err) < 0) {
		/* another master won the race: the client rides that one */
		say_ready(&ready_fd, "running\n");
		vl_err_clear(err);
		lab_close(&m.lab);
		return 0;
	}
	if (listen_unix(sock_path, &ls, err) < 0) {
		say_ready(&ready_fd, err->msg);
		goto out;
	}
	stat(sock_path, &own);
	atomic_store(&m.last_use, vl_now_mono_ms());
	say_ready(&ready_fd, "ok\n");
	vl_event_debug(&ctx->events, NULL, "held session %d listening on %s (persist %u s)",
		       (int)getpid(), sock_path, persist);
	for (;;) {
		struct pollfd p[MAX_CLIENTS + 1];
		size_t n = 0;
		p[n++] = (struct pollfd){ .fd = ls, .events = POLLIN };
		for (size_t i = 0; i < n_cl; i++)
			p[n++] = (struct pollfd){ .fd = clients[i], .events = POLLIN };
		if (poll(p, n, 500) < 0 && errno != EINTR)
			break;
		if (vl_cancelled(&ctx->events))
			break;
		bool go_on = true;
		for (size_t i = n_cl; i-- > 0;) {
			if (!p[1 + i].revents)
				continue;
			int c = clients[i];
			clients[i] = clients[--n_cl];
			if (!request(&m, c))
				go_on = false;
		}
		if (!go_on)
			break;
		if (p[0].revents) {
			int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
			struct ucred cred;
			socklen_t len = sizeof(cred);
			if (c >= 0 && (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
				       cred.uid != geteuid() || n_cl == MAX_CLIENTS))
				close(c);
			else if (c >= 0)
				clients[n_cl++] = c;
		}
		/* the first request gets a grace period (persist may be 0);
		 * holding no session (every request failed): nothing to keep */
		unsigned idle = !m.served ? (persist > 5 ? persist : 5) : m.n_w ? persist : 0;
		if (vl_held_idle_over(vl_now_mono_ms(), atomic_load(&m.last_use), idle, in_use(&m)))
			break;
	}
	rc = 0;
out:
	while (m.n_w)
		drop_worker(&m, m.w[m.n_w - 1]->vm->name);
	free(m.w);
	for (size_t i = 0; i < n_cl; i++)
		close(clients[i]);
	if (ls >= 0) {
		struct stat now;
		/* only our own socket: a successor may have bound a new one */
		if (stat(sock_path, &now) == 0 && now.st_ino == own.st_ino)
			unlink(sock_path);
		close(ls);
	}
	vl_lock_release(&lock);
	lab_close(&m.lab);
	return rc;
}
