/* libvirt adapter, events: the process's one libvirt event loop thread,
 * watches on domain and network lifecycle events, and the connection's own
 * health (close callback, keepalive). Every callback here runs on the loop
 * thread and makes no libvirt call. */
#include "virt_priv.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "util/mem.h"
#include "util/str.h"

static pthread_once_t impl_once = PTHREAD_ONCE_INIT;
static int impl_rc;
static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t loop_thread;
static bool loop_running;
static atomic_bool loop_quit;

static void *loop_main(void *arg)
{
	sigset_t all;

	(void)arg;
	/* Ctrl-C and SIGTERM are for the thread running the command. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!atomic_load(&loop_quit))
		if (virEventRunDefaultImpl() < 0)
			break;
	return NULL;
}

static void impl_register(void)
{
	impl_rc = virEventRegisterDefaultImpl();
}

int vl_virt_events_init(struct vl_err *err)
{
	int r = 0;

	if (virt_setup(err) < 0)
		return -1;
	/* libvirt allows one registration per process, ever. */
	pthread_once(&impl_once, impl_register);
	if (impl_rc < 0)
		return virt_err(err, "libvirt event loop");
	pthread_mutex_lock(&loop_lock);
	if (!loop_running) {
		atomic_store(&loop_quit, false);
		r = pthread_create(&loop_thread, NULL, loop_main, NULL);
		loop_running = r == 0;
	}
	pthread_mutex_unlock(&loop_lock);
	if (r)
		return vl_err_sys(err, VL_E_FAIL, r, "libvirt event loop: thread");
	return 0;
}

static void wake_cb(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

void vl_virt_events_shutdown(void)
{
	pthread_mutex_lock(&loop_lock);
	if (loop_running) {
		atomic_store(&loop_quit, true);
		/* The loop sleeps in poll(): an immediate timeout wakes it. */
		virEventAddTimeout(0, wake_cb, NULL, NULL);
		pthread_join(loop_thread, NULL);
		loop_running = false;
	}
	pthread_mutex_unlock(&loop_lock);
}

/* What libvirt holds for one registration; libvirt frees it (watch_free)
 * once no dispatch can reach it any more, and only then the caller's ud. */
struct watch {
	char *prefix;
	vl_virt_dom_cb dom_cb;
	vl_virt_net_cb net_cb;
	vl_virt_close_cb close_cb;
	void *ud;
	void (*ud_free)(void *ud);
};

static void watch_free(void *opaque)
{
	struct watch *w = opaque;

	if (w->ud_free)
		w->ud_free(w->ud);
	free(w->prefix);
	free(w);
}

static struct watch *watch_new(const char *prefix, void *ud, void (*ud_free)(void *))
{
	struct watch *w = vl_calloc(1, sizeof(*w));

	w->prefix = prefix && *prefix ? vl_strdup(prefix) : NULL;
	w->ud = ud;
	w->ud_free = ud_free;
	return w;
}

static bool watch_wants(const struct watch *w, const char *name)
{
	return name && (!w->prefix || vl_str_startswith(name, w->prefix));
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct watch *w = opaque;
	const char *name = virDomainGetName(dom);
	enum vl_dom_state st;

	(void)conn;
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
	case VIR_DOMAIN_EVENT_RESUMED:
		st = VL_DOM_RUNNING;
		break;
	case VIR_DOMAIN_EVENT_SUSPENDED:
		st = VL_DOM_PAUSED;
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
		st = VL_DOM_SHUTOFF;
		break;
	case VIR_DOMAIN_EVENT_CRASHED:
		st = VL_DOM_CRASHED;
		break;
	case VIR_DOMAIN_EVENT_UNDEFINED:
		st = VL_DOM_MISSING;
		break;
	case VIR_DOMAIN_EVENT_PMSUSPENDED:
		st = VL_DOM_OTHER;
		break;
	case VIR_DOMAIN_EVENT_DEFINED:
		/* Only a new definition says something about state; updates of a
		 * running domain do not. No API calls here: we are in the loop. */
		if (detail != VIR_DOMAIN_EVENT_DEFINED_ADDED)
			return 0;
		st = VL_DOM_SHUTOFF;
		break;
	default:
		return 0;  /* SHUTDOWN is followed by STOPPED */
	}
	if (watch_wants(w, name))
		w->dom_cb(w->ud, name, st);
	return 0;
}

int vl_virt_watch_domains(struct vl_virt *v, const char *prefix, vl_virt_dom_cb cb, void *ud,
			  void (*ud_free)(void *ud), int *id, struct vl_err *err)
{
	struct watch *w = watch_new(prefix, ud, ud_free);
	int r;

	w->dom_cb = cb;
	r = virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					     VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), w, watch_free);
	if (r < 0) {
		virt_err(err, "watch domains");
		watch_free(w);
		return -1;
	}
	*id = r;
	return 0;
}

int vl_virt_unwatch(struct vl_virt *v, int id, struct vl_err *err)
{
	if (virConnectDomainEventDeregisterAny(v->conn, id) < 0)
		return virt_err(err, "unwatch domains");
	return 0;
}

/* ---- networks ---- */

static void net_lifecycle_cb(virConnectPtr conn, virNetworkPtr net, int event, int detail,
			     void *opaque)
{
	struct watch *w = opaque;
	const char *name = virNetworkGetName(net);
	enum vl_virt_net_event ev;

	(void)conn;
	(void)detail;
	switch (event) {
	case VIR_NETWORK_EVENT_DEFINED:
		ev = VL_NET_EV_DEFINED;
		break;
	case VIR_NETWORK_EVENT_UNDEFINED:
		ev = VL_NET_EV_UNDEFINED;
		break;
	case VIR_NETWORK_EVENT_STARTED:
		ev = VL_NET_EV_STARTED;
		break;
	case VIR_NETWORK_EVENT_STOPPED:
		ev = VL_NET_EV_STOPPED;
		break;
	default:
		return;
	}
	if (watch_wants(w, name))
		w->net_cb(w->ud, name, ev);
}

int vl_virt_watch_networks(struct vl_virt *v, const char *prefix, vl_virt_net_cb cb, void *ud,
			   void (*ud_free)(void *ud), int *id, struct vl_err *err)
{
	struct watch *w = watch_new(prefix, ud, ud_free);
	int r;

	w->net_cb = cb;
	r = virConnectNetworkEventRegisterAny(v->conn, NULL, VIR_NETWORK_EVENT_ID_LIFECYCLE,
					      VIR_NETWORK_EVENT_CALLBACK(net_lifecycle_cb), w,
					      watch_free);
	if (r < 0) {
		virt_err(err, "watch networks");
		watch_free(w);
		return -1;
	}
	*id = r;
	return 0;
}

int vl_virt_unwatch_networks(struct vl_virt *v, int id, struct vl_err *err)
{
	if (virConnectNetworkEventDeregisterAny(v->conn, id) < 0)
		return virt_err(err, "unwatch networks");
	return 0;
}

/* ---- the connection ---- */

static void close_cb(virConnectPtr conn, int reason, void *opaque)
{
	struct watch *w = opaque;
	enum vl_virt_close_reason r;

	(void)conn;
	switch (reason) {
	case VIR_CONNECT_CLOSE_REASON_EOF:
		r = VL_CLOSE_EOF;
		break;
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		r = VL_CLOSE_KEEPALIVE;
		break;
	case VIR_CONNECT_CLOSE_REASON_CLIENT:
		r = VL_CLOSE_CLIENT;
		break;
	default:
		r = VL_CLOSE_ERROR;
		break;
	}
	w->close_cb(w->ud, r);
}

/* libvirt is given no free function: drivers without close callbacks (test:///)
 * accept the registration and drop it, so the handle keeps it and frees it
 * after unregistering. libvirt runs the callback under the lock that
 * unregistering takes, so none is in flight when it is freed. */
int vl_virt_on_close(struct vl_virt *v, vl_virt_close_cb cb, void *ud, void (*ud_free)(void *ud),
		     struct vl_err *err)
{
	struct watch *w = watch_new(NULL, ud, ud_free);

	if (v->on_close) {
		watch_free(w);
		return vl_err_set(err, VL_E_FAIL, "libvirt connection: close callback already set");
	}
	w->close_cb = cb;
	if (virConnectRegisterCloseCallback(v->conn, close_cb, w, NULL) < 0) {
		virt_err(err, "libvirt connection: close callback");
		watch_free(w);
		return -1;
	}
	v->on_close = w;
	return 0;
}

void virt_close_cb_remove(struct vl_virt *v)
{
	if (!v->on_close)
		return;
	/* Fails when the callback already ran (libvirt then forgot it): fine. */
	virConnectUnregisterCloseCallback(v->conn, close_cb);
	watch_free(v->on_close);
	v->on_close = NULL;
}

const char *vl_virt_close_reason_name(enum vl_virt_close_reason r)
{
	switch (r) {
	case VL_CLOSE_EOF: return "the daemon closed the connection";
	case VL_CLOSE_KEEPALIVE: return "the daemon stopped answering (keepalive)";
	case VL_CLOSE_CLIENT: return "closed by this client";
	default: return "connection error";
	}
}

int vl_virt_keepalive(struct vl_virt *v, int interval_s, unsigned count, bool *active,
		      struct vl_err *err)
{
	int r = virConnectSetKeepAlive(v->conn, interval_s, count);

	*active = r == 0;
	/* 1: the daemon does not do keepalive; no support: a local driver
	 * (test:///, which cannot lose its connection anyway). */
	if (r < 0 && virt_last_code() != VIR_ERR_NO_SUPPORT)
		return virt_err(err, "libvirt connection: keepalive");
	return 0;
}

bool vl_virt_alive(struct vl_virt *v)
{
	return virConnectIsAlive(v->conn) == 1;
}
