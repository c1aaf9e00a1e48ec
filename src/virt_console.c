/* A VM's serial console through libvirt's console stream (virt.h): the
 * engine's view of console output that works for a remote host as well as a
 * local one, and the byte pipe of `vmlab console`. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mem.h"
#include "virt_priv.h"

/* What is kept of the output for a tail: enough for the last screenfuls. */
#define KEEP (64 * 1024)

struct vl_virt_console {
	pthread_mutex_t mu;
	virStreamPtr st;
	char *kept;          /* the last KEEP bytes received */
	size_t n_kept;
	int pipe_rd, pipe_wr;/* -1 unless asked for */
	bool ended;          /* the stream ended (VM off, console taken over) */
	bool closing;
};

/* n is at most one read (4 KiB), far below KEEP */
static void keep(struct vl_virt_console *c, const char *p, size_t n)
{
	if (c->n_kept + n > KEEP) {
		size_t drop = c->n_kept + n - KEEP;
		memmove(c->kept, c->kept + drop, c->n_kept - drop);
		c->n_kept -= drop;
	}
	memcpy(c->kept + c->n_kept, p, n);
	c->n_kept += n;
}

/* Runs on libvirt's event loop thread (vl_init): drain what has arrived. */
static void on_stream(virStreamPtr st, int events, void *opaque)
{
	struct vl_virt_console *c = opaque;
	char buf[4096];
	int n;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		if (c->closing || c->ended)
			break;
		n = virStreamRecv(st, buf, sizeof(buf));
		if (n == -2)
			break;          /* nothing more for now */
		if (n <= 0) {
			c->ended = true;/* 0: the console closed; -1: the stream failed */
			virStreamEventRemoveCallback(st);
			if (c->pipe_wr >= 0) {
				close(c->pipe_wr);  /* the reader sees EOF */
				c->pipe_wr = -1;
			}
			break;
		}
		keep(c, buf, (size_t)n);
		/* a reader too slow for the console loses output, never stalls the loop */
		if (c->pipe_wr >= 0 && write(c->pipe_wr, buf, (size_t)n) < 0 && errno != EAGAIN)
			c->pipe_wr = (close(c->pipe_wr), -1);
	}
	if ((events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) && !c->ended) {
		c->ended = true;
		virStreamEventRemoveCallback(st);
		if (c->pipe_wr >= 0)
			c->pipe_wr = (close(c->pipe_wr), -1);
	}
	pthread_mutex_unlock(&c->mu);
}

static void console_free(struct vl_virt_console *c)
{
	if (c->st)
		virStreamFree(c->st);
	if (c->pipe_rd >= 0)
		close(c->pipe_rd);
	if (c->pipe_wr >= 0)
		close(c->pipe_wr);
	pthread_mutex_destroy(&c->mu);
	free(c->kept);
	free(c);
}

/* Waits until libvirt's event loop thread has finished what it was
 * dispatching: a timeout is dispatched on that thread after any stream
 * callback already under way. */
struct loop_barrier {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool passed;
};

static void barrier_fire(int timer, void *opaque)
{
	struct loop_barrier *b = opaque;

	virEventRemoveTimeout(timer);
	pthread_mutex_lock(&b->mu);
	b->passed = true;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static bool loop_barrier(void)
{
	struct loop_barrier b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
	struct timespec until;
	bool passed;

	if (virEventAddTimeout(0, barrier_fire, &b, NULL) < 0)
		return false;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&b.mu);
	while (!b.passed && pthread_cond_timedwait(&b.cv, &b.mu, &until) == 0)
		;
	passed = b.passed;
	pthread_mutex_unlock(&b.mu);
	return passed;
}

int vl_virt_console_open(struct vl_virt *v, const char *domain, bool force, bool with_fd,
			 struct vl_virt_console **out, struct vl_err *err)
{
	AUTO_LV(virDomainPtr) d = virt_dom_get(v, domain, err);
	struct vl_virt_console *c;
	int fds[2];

	*out = NULL;
	if (!d)
		return -1;
	c = vl_calloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->kept = vl_malloc(KEEP);
	c->pipe_rd = c->pipe_wr = -1;
	if (with_fd) {
		if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
			console_free(c);
			return vl_err_sys(err, VL_E_IO, errno, "domain %s: console pipe", domain);
		}
		c->pipe_rd = fds[0];
		c->pipe_wr = fds[1];
		/* the reader blocks or polls as it likes */
		fcntl(c->pipe_rd, F_SETFL, fcntl(c->pipe_rd, F_GETFL) & ~O_NONBLOCK);
	}
	c->st = virStreamNew(v->conn, VIR_STREAM_NONBLOCK);
	if (!c->st) {
		virt_err(err, "domain %s: console", domain);
		console_free(c);
		return -1;
	}
	if (virDomainOpenConsole(d, NULL, c->st, force ? VIR_DOMAIN_CONSOLE_FORCE : 0) < 0) {
		virt_err(err, "domain %s: console", domain);
		console_free(c);
		return -1;
	}
	/* No free callback: libvirt's remote driver (Debian 12's 9.0 among
	 * them) never calls it, so the console's lifetime is ours: close waits
	 * for the event loop instead (vl_virt_console_close). */
	if (virStreamEventAddCallback(c->st, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
				      VIR_STREAM_EVENT_HANGUP, on_stream, c, NULL) < 0) {
		virt_err(err, "domain %s: console events (is libvirt's event loop running?)", domain);
		virStreamAbort(c->st);
		console_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int vl_virt_console_fd(const struct vl_virt_console *c)
{
	return c->pipe_rd;
}

char *vl_virt_console_tail(struct vl_virt_console *c, size_t *len)
{
	char *s;

	pthread_mutex_lock(&c->mu);
	s = vl_malloc(c->n_kept + 1);
	memcpy(s, c->kept, c->n_kept);
	s[c->n_kept] = '\0';
	*len = c->n_kept;
	pthread_mutex_unlock(&c->mu);
	return s;
}

bool vl_virt_console_ended(struct vl_virt_console *c)
{
	bool ended;

	pthread_mutex_lock(&c->mu);
	ended = c->ended;
	pthread_mutex_unlock(&c->mu);
	return ended;
}

int vl_virt_console_send(struct vl_virt_console *c, const char *buf, size_t len,
			 struct vl_err *err)
{
	while (len) {
		pthread_mutex_lock(&c->mu);
		int n = c->ended ? -1 : virStreamSend(c->st, buf, len);
		pthread_mutex_unlock(&c->mu);
		if (n == -2) {  /* the stream's buffer is full: let the loop drain it */
			usleep(2000);
			continue;
		}
		if (n < 0)
			return vl_err_set(err, VL_E_FAIL, "console: the stream has ended");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

void vl_virt_console_close(struct vl_virt_console *c)
{
	bool registered;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	registered = !c->ended;
	pthread_mutex_unlock(&c->mu);
	/* outside c->mu: a dispatch under way takes it, then sees closing */
	if (registered)
		virStreamEventRemoveCallback(c->st);
	virStreamAbort(c->st);
	/* If the loop is gone or stuck, a dispatch may still hold c: keep it. */
	if (loop_barrier())
		console_free(c);
}
