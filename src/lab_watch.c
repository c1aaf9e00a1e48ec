/* The lab watch (lab.h): a thread with a libvirt connection of its own that
 * follows a host's labs. libvirt calls us on its event loop thread, where no
 * libvirt call may be made: those callbacks only queue what happened into the
 * inbox and wake the watch's thread, which reads metadata, delivers changes,
 * samples stats on a timer, and reconnects with a backoff when the
 * connection is lost (what to do when: watch_sched.c, pure). lab_watch_sync.c
 * keeps the picture of the host. */
#include "lab_watch_priv.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "plan.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"
#include "watch_sched.h"

#define KEEPALIVE_S 5        /* ping the daemon every 5 s ... */
#define KEEPALIVE_COUNT 3    /* ... and give up after 3 unanswered: about 20 s */

/* One event from libvirt, waiting for the watch's thread. */
struct item {
	struct item *next;
	bool net;
	int ev;              /* enum vl_dom_state, or enum vl_virt_net_event */
	char name[];
};

/* Shared with libvirt's callbacks, which may outlive the watch by a dispatch
 * in flight: counted, and freed by whoever lets go last. */
struct inbox {
	atomic_int refs;
	pthread_mutex_t mu;
	pthread_cond_t cond;     /* CLOCK_MONOTONIC */
	struct item *head, **tail;
	unsigned gen;            /* the connection's generation: older ones are ignored */
	bool stop;
	bool lost;
	enum vl_virt_close_reason why;
};

/* The ud of one libvirt registration. */
struct tap {
	struct inbox *in;
	unsigned gen;
};

struct vl_watch {
	char *uri;
	struct vl_watch_opts o;
	struct inbox *in;
	pthread_t thread;
	struct vl_virt *v;           /* NULL while the connection is lost */
	int dom_id, net_id;
	struct vl_watch_sched sched;
	struct wstate st;
};

/* ---- the inbox ---- */

static struct inbox *inbox_new(void)
{
	struct inbox *in = vl_calloc(1, sizeof(*in));
	pthread_condattr_t ca;

	atomic_init(&in->refs, 1);
	pthread_mutex_init(&in->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&in->cond, &ca);
	pthread_condattr_destroy(&ca);
	in->tail = &in->head;
	return in;
}

static void items_free(struct item *it)
{
	while (it) {
		struct item *next = it->next;

		free(it);
		it = next;
	}
}

static void inbox_unref(struct inbox *in)
{
	if (atomic_fetch_sub(&in->refs, 1) != 1)
		return;
	items_free(in->head);
	pthread_cond_destroy(&in->cond);
	pthread_mutex_destroy(&in->mu);
	free(in);
}

static struct tap *tap_new(struct inbox *in)
{
	struct tap *t = vl_malloc(sizeof(*t));

	atomic_fetch_add(&in->refs, 1);
	t->in = in;
	pthread_mutex_lock(&in->mu);
	t->gen = in->gen;
	pthread_mutex_unlock(&in->mu);
	return t;
}

static void tap_free(void *ud)
{
	struct tap *t = ud;

	inbox_unref(t->in);
	free(t);
}

static void push(struct tap *t, const char *name, bool net, int ev)
{
	size_t len = strlen(name) + 1;
	struct item *it = vl_malloc(sizeof(*it) + len);

	it->next = NULL;
	it->net = net;
	it->ev = ev;
	memcpy(it->name, name, len);
	pthread_mutex_lock(&t->in->mu);
	if (t->gen == t->in->gen) {
		*t->in->tail = it;
		t->in->tail = &it->next;
		it = NULL;
		pthread_cond_signal(&t->in->cond);
	}
	pthread_mutex_unlock(&t->in->mu);
	free(it);
}

/* libvirt's event loop thread: queue, wake, nothing else. */
static void on_domain(void *ud, const char *domain, enum vl_dom_state state)
{
	push(ud, domain, false, (int)state);
}

static void on_network(void *ud, const char *network, enum vl_virt_net_event ev)
{
	push(ud, network, true, (int)ev);
}

static void on_close(void *ud, enum vl_virt_close_reason why)
{
	struct tap *t = ud;

	pthread_mutex_lock(&t->in->mu);
	if (t->gen == t->in->gen && !t->in->lost) {
		t->in->lost = true;
		t->in->why = why;
		pthread_cond_signal(&t->in->cond);
	}
	pthread_mutex_unlock(&t->in->mu);
}

/* ---- the connection ---- */

static void disconnect(struct vl_watch *w)
{
	if (!w->v)
		return;
	/* On a dead connection these fail; libvirt forgets them locally anyway. */
	if (w->dom_id >= 0)
		vl_virt_unwatch(w->v, w->dom_id, NULL);
	if (w->net_id >= 0)
		vl_virt_unwatch_networks(w->v, w->net_id, NULL);
	vl_virt_close(w->v);
	w->v = NULL;
	w->dom_id = w->net_id = -1;
	/* Whatever the old connection queued is stale: a resync follows. */
	pthread_mutex_lock(&w->in->mu);
	w->in->gen++;
	items_free(w->in->head);
	w->in->head = NULL;
	w->in->tail = &w->in->head;
	w->in->lost = false;
	pthread_mutex_unlock(&w->in->mu);
}

static int connect_host(struct vl_watch *w, struct vl_err *err)
{
	VL_AUTOFREE char *uri = vl_host_prepare_uri(w->uri[0] ? w->uri : NULL, NULL, err);
	bool ka;
	struct tap *t;

	if (w->uri[0] && !uri)
		return -1;
	w->v = vl_virt_open(uri, err);
	if (!w->v)
		return -1;
	w->dom_id = w->net_id = -1;
	t = tap_new(w->in);
	if (vl_virt_on_close(w->v, on_close, t, tap_free, err) < 0)
		goto fail;   /* the adapter freed t */
	if (vl_virt_keepalive(w->v, KEEPALIVE_S, KEEPALIVE_COUNT, &ka, err) < 0)
		goto fail;
	t = tap_new(w->in);
	if (vl_virt_watch_domains(w->v, VL_NAME_PREFIX, on_domain, t, tap_free, &w->dom_id,
				  err) < 0)
		goto fail;
	t = tap_new(w->in);
	if (vl_virt_watch_networks(w->v, VL_NAME_PREFIX, on_network, t, tap_free, &w->net_id,
				   err) < 0)
		goto fail;
	return 0;
fail:
	disconnect(w);
	return -1;
}

/* ---- the thread ---- */

static void lose(struct vl_watch *w, const char *reason)
{
	struct vl_watch_change c = { .kind = VL_WATCH_LOST, .reason = reason };
	int64_t now = vl_now_mono_ms();

	disconnect(w);
	vl_watch_sched_lost(&w->sched, now);
	c.retry_ms = vl_watch_backoff_ms(&w->sched, 0);
	wstate_emit(&w->st, &c);
}

/* Deliver what libvirt queued; -1 if reading it failed (connection lost). */
static int drain(struct vl_watch *w, struct item *items, struct vl_err *err)
{
	int r = 0;

	for (struct item *it = items; it && r == 0; it = it->next)
		r = it->net ? wstate_network_event(&w->st, w->v, it->name,
						   (enum vl_virt_net_event)it->ev, err)
			    : wstate_domain_event(&w->st, w->v, it->name,
						  (enum vl_dom_state)it->ev, err);
	items_free(items);
	return r;
}

static void do_step(struct vl_watch *w, enum vl_watch_step step)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_watch_change c = { .kind = VL_WATCH_RECONNECTED };
	int r = 0;

	switch (step) {
	case VL_WSTEP_RECONNECT:
		if (connect_host(w, &err) < 0) {
			vl_watch_sched_retry_failed(&w->sched, vl_now_mono_ms());
			return;
		}
		vl_watch_sched_connected(&w->sched, vl_now_mono_ms());
		wstate_emit(&w->st, &c);
		return;
	case VL_WSTEP_RESYNC:
		r = wstate_resync(&w->st, w->v, &err);
		break;
	case VL_WSTEP_STATS:
		r = wstate_sample(&w->st, w->v, &err);
		break;
	case VL_WSTEP_WAIT:
		return;
	}
	/* A failed listing or sample: take the connection for lost, so the
	 * next attempt starts afresh with a full resync. */
	if (r < 0)
		lose(w, err.msg);
	else
		vl_watch_sched_done(&w->sched, step, vl_now_mono_ms());
}

static void wait_for(struct inbox *in, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&in->mu);
	while (!in->stop && !in->head && !in->lost)
		if (pthread_cond_timedwait(&in->cond, &in->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&in->mu);
}

static void *watch_main(void *arg)
{
	struct vl_watch *w = arg;
	sigset_t all;

	/* Signals are for the thread that drives the program. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	for (;;) {
		struct vl_err err = VL_ERR_INIT;
		struct item *items;
		enum vl_watch_step step;
		bool lost;
		enum vl_virt_close_reason why;
		int64_t wait_ms;

		pthread_mutex_lock(&w->in->mu);
		if (w->in->stop) {
			pthread_mutex_unlock(&w->in->mu);
			break;
		}
		items = w->in->head;
		w->in->head = NULL;
		w->in->tail = &w->in->head;
		lost = w->in->lost;
		why = w->in->why;
		pthread_mutex_unlock(&w->in->mu);

		if (lost) {
			items_free(items);
			lose(w, vl_virt_close_reason_name(why));
		} else if (items && w->v && !w->sched.resync && drain(w, items, &err) < 0) {
			lose(w, err.msg);
		} else if (items && (!w->v || w->sched.resync)) {
			items_free(items);   /* the resync due reads it all anyway */
		}
		step = vl_watch_sched_next(&w->sched, vl_now_mono_ms(), &wait_ms);
		if (step == VL_WSTEP_WAIT)
			wait_for(w->in, wait_ms);
		else
			do_step(w, step);
	}
	disconnect(w);
	return NULL;
}

struct vl_watch *vl_lab_watch_start(const char *uri, const struct vl_watch_opts *o,
				    struct vl_err *err)
{
	struct vl_watch *w;
	int r;

	if (!o || !o->on_change)
		return vl_err_set(err, VL_E_USAGE, "watch: no change callback"), NULL;
	if (vl_virt_events_init(err) < 0)
		return NULL;
	w = vl_calloc(1, sizeof(*w));
	w->uri = vl_strdup(uri ? uri : "");
	w->o = *o;
	w->in = inbox_new();
	w->st.host = w->uri;
	w->st.o = &w->o;
	vl_watch_sched_init(&w->sched, o->stats_ms, o->backoff_min_ms, o->backoff_max_ms,
			    vl_now_mono_ms());
	if (connect_host(w, err) < 0)
		goto fail;
	r = pthread_create(&w->thread, NULL, watch_main, w);
	if (r) {
		vl_err_sys(err, VL_E_FAIL, r, "watch: thread");
		disconnect(w);
		goto fail;
	}
	return w;
fail:
	inbox_unref(w->in);
	free(w->uri);
	free(w);
	return NULL;
}

void vl_watch_stop(struct vl_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->in->mu);
	w->in->stop = true;
	pthread_cond_signal(&w->in->cond);
	pthread_mutex_unlock(&w->in->mu);
	pthread_join(w->thread, NULL);
	wstate_release(&w->st);
	inbox_unref(w->in);
	free(w->uri);
	free(w);
}
