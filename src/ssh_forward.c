/* Hubs: one pinned session carrying many channels from one thread, for the
 * held session (docs/held-session.md): forwarded TCP connections as
 * direct-tcpip channels, and commands pumping to fds a client passed. Flow
 * control is libssh's channel window: data is read from a channel only once
 * the local side took the last chunk, so a slow reader never blocks the
 * others. */
#include "ssh_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/shquote.h"
#include "util/str.h"

#define CHUNK 32768
/* Blocking libssh calls on a hub's session (opening a channel) give up
 * after this: a guest reverted under an open session never answers. */
#define HUB_TIMEOUT_S 10

struct chan {
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	bool is_exec;
	bool sock;              /* local fds are sockets (forwards) */
	int in_fd;              /* local -> channel; -1 once EOF went out */
	int out[2];             /* channel stdout/stderr -> local; -1: none */
	bool reof[2];           /* the remote's stream ended */
	char *pend[2];          /* read from the channel, not yet written */
	size_t pend_off[2], pend_len[2];
	int watch_fd;
	int exit_status;        /* -1 until the exit-status request */
	char signame[32];
	bool closed;            /* the remote closed the channel */
	vl_ssh_hub_done_fn done;
	void *ud;
	/* indexes into the last pollfds, -1: not polled */
	int i_in, i_out[2], i_watch;
};

struct vl_ssh_hub {
	struct vl_ssh *s;
	ssh_event ev;           /* to read packets no channel read asks for */
	struct chan **c;
	size_t n;
	int i_sess;
};

static void on_exit_status(ssh_session session, ssh_channel channel, int status, void *ud)
{
	struct chan *c = ud;

	(void)session, (void)channel;
	c->exit_status = status;
}

static void on_exit_signal(ssh_session session, ssh_channel channel, const char *signal,
			   int core, const char *errmsg, const char *lang, void *ud)
{
	struct chan *c = ud;

	(void)session, (void)channel, (void)core, (void)errmsg, (void)lang;
	vl_strlcpy(c->signame, signal ? signal : "?", sizeof(c->signame));
}

static void on_close(ssh_session session, ssh_channel channel, void *ud)
{
	struct chan *c = ud;

	(void)session, (void)channel;
	c->closed = true;
}

struct vl_ssh_hub *vl_ssh_hub_new(struct vl_ssh *s)
{
	struct vl_ssh_hub *h = vl_calloc(1, sizeof(*h));
	long tmo = HUB_TIMEOUT_S, zero = 0;

	h->s = s;
	/* a channel's read stops at its EOF, but its exit status (dropbear
	 * sends it after the EOF) and closes still arrive: the event reads them */
	h->ev = ssh_event_new();
	if (!h->ev || ssh_event_add_session(h->ev, s->sess) != SSH_OK)
		abort();
	ssh_options_set(s->sess, SSH_OPTIONS_TIMEOUT, &tmo);
	ssh_options_set(s->sess, SSH_OPTIONS_TIMEOUT_USEC, &zero);
	return h;
}

static int hub_fail(struct vl_ssh_hub *h, struct vl_err *err, const char *what)
{
	return vl_err_set(err, VL_E_SSH, "%s: %s: %s", h->s->where, what,
			  ssh_get_error(h->s->sess));
}

static struct chan *chan_add(struct vl_ssh_hub *h, ssh_channel ch)
{
	struct chan *c = vl_calloc(1, sizeof(*c));

	c->ch = ch;
	c->exit_status = -1;
	c->watch_fd = -1;
	c->in_fd = c->out[0] = c->out[1] = -1;
	c->i_in = c->i_out[0] = c->i_out[1] = c->i_watch = -1;
	ssh_callbacks_init(&c->cb);
	c->cb.userdata = c;
	c->cb.channel_exit_status_function = on_exit_status;
	c->cb.channel_exit_signal_function = on_exit_signal;
	c->cb.channel_close_function = on_close;
	ssh_set_channel_callbacks(ch, &c->cb);
	h->c = vl_realloc(h->c, (h->n + 1) * sizeof(*h->c));
	h->c[h->n++] = c;
	return c;
}

/* End channel i: report a command, close a forwarded socket. */
static void chan_end(struct vl_ssh_hub *h, size_t i, const struct vl_err *why)
{
	struct chan *c = h->c[i];

	ssh_remove_channel_callbacks(c->ch, &c->cb);
	if (ssh_channel_is_open(c->ch))
		ssh_channel_close(c->ch);
	ssh_channel_free(c->ch);
	if (c->sock)
		close(c->out[0]);
	if (c->done) {
		struct vl_err e = VL_ERR_INIT;
		int status = c->exit_status;
		if (why) {
			e = *why;
		} else if (c->signame[0]) {
			int sig = sshx_signal_number(c->signame);
			status = 128 + (sig ? sig : 127);
			vl_err_set(&e, VL_E_REMOTE, "%s: remote command killed by signal SIG%s",
				   h->s->where, c->signame);
			e.status = status;
		} else if (status < 0) {
			vl_err_set(&e, VL_E_SSH, "%s: remote command ended without an exit status",
				   h->s->where);
		}
		c->done(c->ud, status, e.code == VL_OK ? NULL : &e);
	}
	free(c->pend[0]);
	free(c->pend[1]);
	free(c);
	h->c[i] = h->c[--h->n];
}

void vl_ssh_hub_free(struct vl_ssh_hub *h)
{
	struct vl_err e = VL_ERR_INIT;

	if (!h)
		return;
	vl_err_set(&e, VL_E_SSH, "%s: the session ended", h->s->where);
	while (h->n)
		chan_end(h, h->n - 1, &e);
	ssh_event_remove_session(h->ev, h->s->sess);
	ssh_event_free(h->ev);
	free(h->c);
	vl_ssh_free(h->s);
	free(h);
}

size_t vl_ssh_hub_channels(const struct vl_ssh_hub *h)
{
	return h->n;
}

int vl_ssh_hub_forward(struct vl_ssh_hub *h, int sock, unsigned remote, struct vl_err *err)
{
	ssh_channel ch = ssh_channel_new(h->s->sess);
	struct chan *c;

	if (!ch)
		return hub_fail(h, err, "new channel");
	if (ssh_channel_open_forward(ch, "127.0.0.1", (int)remote, "127.0.0.1", 0) != SSH_OK) {
		char what[64];
		/* refused by the guest (nothing listens): the session is fine */
		bool refused = ssh_is_connected(h->s->sess) &&
			       strstr(ssh_get_error(h->s->sess), "Channel opening failure");
		snprintf(what, sizeof(what), "forwarding to port %u", remote);
		hub_fail(h, err, what);
		if (refused && err)
			err->code = VL_E_FAIL;
		ssh_channel_free(ch);
		return -1;
	}
	c = chan_add(h, ch);
	c->sock = true;
	c->in_fd = c->out[0] = sock;
	c->reof[1] = true;   /* direct-tcpip has one stream */
	return 0;
}

int vl_ssh_hub_exec(struct vl_ssh_hub *h, const char *const *argv, size_t argc, int in_fd,
		    int out_fd, int err_fd, int watch_fd, vl_ssh_hub_done_fn done, void *ud,
		    struct vl_err *err)
{
	VL_AUTOFREE char *cmd = NULL;
	ssh_channel ch;
	struct chan *c;

	if (argc == 0)
		return vl_err_set(err, VL_E_USAGE, "no command to run");
	cmd = vl_shell_quote_argv(argv, argc);
	ch = ssh_channel_new(h->s->sess);
	if (!ch)
		return hub_fail(h, err, "new channel");
	if (ssh_channel_open_session(ch) != SSH_OK) {
		ssh_channel_free(ch);
		return hub_fail(h, err, "open channel");
	}
	c = chan_add(h, ch);
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK ||
	    (in_fd < 0 && ssh_channel_send_eof(ch) != SSH_OK)) {
		hub_fail(h, err, "starting the command");
		h->n--;   /* just added: not reported through done */
		ssh_remove_channel_callbacks(ch, &c->cb);
		ssh_channel_free(ch);
		free(c);
		return -1;
	}
	c->is_exec = true;
	c->in_fd = in_fd;
	c->out[0] = out_fd;
	c->out[1] = err_fd;
	c->watch_fd = watch_fd;
	c->done = done;
	c->ud = ud;
	return 0;
}

size_t vl_ssh_hub_pollfds(struct vl_ssh_hub *h, struct pollfd *pfd, size_t max)
{
	size_t n = 0;

	h->i_sess = -1;
	/* an idle session is not watched: one that died meanwhile is found
	 * when the next channel fails to open, and reconnected then */
	if (h->n && n < max) {
		h->i_sess = (int)n;
		pfd[n++] = (struct pollfd){ .fd = ssh_get_fd(h->s->sess), .events = POLLIN };
	}
	for (size_t i = 0; i < h->n; i++) {
		struct chan *c = h->c[i];
		c->i_in = c->i_out[0] = c->i_out[1] = c->i_watch = -1;
		if (n + 4 > max)
			continue;
		if (c->in_fd >= 0 && ssh_channel_window_size(c->ch) > 0) {
			c->i_in = (int)n;
			pfd[n++] = (struct pollfd){ .fd = c->in_fd, .events = POLLIN };
		}
		for (int st = 0; st < 2; st++) {
			if (c->pend_len[st] > c->pend_off[st]) {
				c->i_out[st] = (int)n;
				pfd[n++] = (struct pollfd){ .fd = c->out[st], .events = POLLOUT };
			}
		}
		if (c->watch_fd >= 0) {
			c->i_watch = (int)n;
			pfd[n++] = (struct pollfd){ .fd = c->watch_fd, .events = POLLIN };
		}
	}
	return n;
}

/* Some of what is pending to local stream st; 0 or 1 (moved), -1 on error. */
static int flush_local(struct chan *c, int st, bool ready)
{
	size_t left = c->pend_len[st] - c->pend_off[st];
	const char *p = c->pend[st] + c->pend_off[st];
	ssize_t w;

	if (!left)
		return 0;
	if (c->out[st] < 0) {
		c->pend_off[st] = c->pend_len[st];
		return 1;
	}
	if (c->sock) {
		w = send(c->out[st], p, left, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		/* a client's pipe or terminal is blocking: write only what
		 * poll said fits (a pipe takes at least a page then) */
		if (!ready)
			return 0;
		w = write(c->out[st], p, left < 4096 ? left : 4096);
	}
	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->pend_off[st] += (size_t)w;
	return 1;
}

/* Move what can move on one channel; 1 moved, 0 idle, -1 local error (end
 * the channel), -2 session error. */
static int chan_step(struct vl_ssh_hub *h, struct chan *c, const struct pollfd *pfd)
{
	int moved = 0;

	for (int st = 0; st < 2; st++) {
		bool ready = c->i_out[st] >= 0 && (pfd[c->i_out[st]].revents & POLLOUT);
		int r = flush_local(c, st, ready);
		if (r < 0)
			return -1;
		moved |= r;
		if (c->pend_len[st] > c->pend_off[st] || c->reof[st])
			continue;
		if (!c->pend[st])
			c->pend[st] = vl_malloc(CHUNK);
		int n = ssh_channel_read_nonblocking(c->ch, c->pend[st], CHUNK, st);
		if (n == SSH_ERROR)
			return ssh_is_connected(h->s->sess) ? -1 : -2;
		if (n == SSH_EOF) {
			c->reof[st] = true;
			if (c->sock)
				shutdown(c->out[0], SHUT_WR);
			continue;
		}
		if (n > 0) {
			c->pend_off[st] = 0;
			c->pend_len[st] = (size_t)n;
			moved = 1;
			if (flush_local(c, st, false) < 0)
				return -1;
		}
	}
	if (c->i_in >= 0 && (pfd[c->i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
		char buf[CHUNK];
		uint32_t win = ssh_channel_window_size(c->ch);
		size_t want = win < sizeof(buf) ? win : sizeof(buf);
		ssize_t n = c->sock ? recv(c->in_fd, buf, want, MSG_DONTWAIT) : read(c->in_fd, buf, want);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			n = 0;   /* a reset connection or a broken input ends like EOF */
		if (n == 0) {
			c->in_fd = -1;
			if (ssh_channel_send_eof(c->ch) != SSH_OK)
				return -2;
		} else if (n > 0) {
			if (ssh_channel_write(c->ch, buf, (uint32_t)n) != n)
				return -2;
			moved = 1;
		}
	}
	return moved;
}

static bool chan_finished(const struct chan *c)
{
	bool flushed = c->pend_len[0] == c->pend_off[0] && c->pend_len[1] == c->pend_off[1];

	if (c->is_exec)
		return c->reof[0] && c->reof[1] && flushed &&
		       (c->exit_status >= 0 || c->signame[0] || c->closed);
	/* a forward: both directions ended, or the remote closed */
	return (c->reof[0] && flushed && c->in_fd < 0) || (c->closed && flushed);
}

int vl_ssh_hub_step(struct vl_ssh_hub *h, const struct pollfd *pfd, size_t n, struct vl_err *err)
{
	int busy = 0;

	(void)n;
	if (h->i_sess >= 0 && pfd[h->i_sess].revents && ssh_event_dopoll(h->ev, 0) == SSH_ERROR) {
		hub_fail(h, err, "session lost");
		return -1;
	}
	for (size_t i = h->n; i-- > 0;) {
		struct chan *c = h->c[i];
		if (c->i_watch >= 0 && pfd[c->i_watch].revents) {
			struct vl_err e = VL_ERR_INIT;
			vl_err_set(&e, VL_E_CANCELLED, "%s: the client went away", h->s->where);
			chan_end(h, i, &e);
			continue;
		}
		int r = chan_step(h, c, pfd);
		if (r == -2) {
			hub_fail(h, err, "session lost");
			return -1;
		}
		if (r < 0) {
			struct vl_err e = VL_ERR_INIT;
			vl_err_sys(&e, VL_E_IO, errno, "%s: local side", h->s->where);
			chan_end(h, i, &e);
			continue;
		}
		busy |= r;
		if (chan_finished(c))
			chan_end(h, i, NULL);
	}
	if (!ssh_is_connected(h->s->sess)) {
		hub_fail(h, err, "session lost");
		return -1;
	}
	return busy;
}
