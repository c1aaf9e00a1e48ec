/* libvirt adapter, events: the process's one libvirt event loop thread and
 * watches on domain lifecycle events. */
#include "virt_priv.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "util/mem.h"
#include "util/str.h"

static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t loop_thread;
static bool loop_running;
static atomic_bool loop_quit;

static void *loop_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&loop_quit))
		if (virEventRunDefaultImpl() < 0)
			break;
	return NULL;
}

int vl_virt_events_init(struct vl_err *err)
{
	int r = 0;

	if (vl_virt_init(err) < 0)
		return -1;
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

struct watch {
	char *prefix;
	vl_virt_dom_cb cb;
	void *ud;
};

static void watch_free(void *opaque)
{
	struct watch *w = opaque;

	free(w->prefix);
	free(w);
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
	if (name && (!w->prefix || vl_str_startswith(name, w->prefix)))
		w->cb(w->ud, name, st);
	return 0;
}

int vl_virt_watch_domains(struct vl_virt *v, const char *prefix, vl_virt_dom_cb cb, void *ud,
			  int *id, struct vl_err *err)
{
	struct watch *w = vl_calloc(1, sizeof(*w));
	int r;

	w->prefix = prefix && *prefix ? vl_strdup(prefix) : NULL;
	w->cb = cb;
	w->ud = ud;
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
