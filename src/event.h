/* Progress and messages from the engine to whoever drives it (CLI or TUI).
 * The core never prints: it emits events through a sink. Sinks may be called
 * from worker threads at once, so they must be thread-safe. */
#ifndef VL_EVENT_H
#define VL_EVENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vl_event_kind {
	VL_EV_INFO,      /* a step started or finished: "network vmlab-x created" */
	VL_EV_WARN,      /* something the user should know, not an error */
	VL_EV_DEBUG,     /* shown with -v only */
	VL_EV_PROGRESS,  /* bytes or items done of total (total 0: unknown) */
	VL_EV_OUTPUT,    /* a chunk of remote output (provisioners); msg holds it */
};

struct vl_event {
	enum vl_event_kind kind;
	const char *subject;   /* VM or image name the event is about; NULL: the lab */
	const char *msg;
	uint64_t done, total;  /* VL_EV_PROGRESS */
	double rate;           /* VL_EV_PROGRESS, units per second, 0 if unknown */
	int stream;            /* VL_EV_OUTPUT: 1 stdout, 2 stderr */
	size_t len;            /* VL_EV_OUTPUT: bytes in msg (may hold NULs) */
	const char *lab;       /* lab id of the operation (from its vl_events), or NULL */
	const char *host;      /* libvirt URI of the operation, or NULL */
};

/* An operation's link to whoever drives it: the sink its events go to, the
 * lab and host they are about (copied into every event), and a cancel flag
 * the driver may set from any thread or a signal handler. Every wait loop
 * and transfer of the engine checks it (vl_cancelled) and gives up with
 * VL_E_CANCELLED, leaving a state the next up or destroy converges from. */
struct vl_events {
	void (*emit)(void *ud, const struct vl_event *ev);
	void *ud;
	const char *lab, *host;  /* may be NULL */
	atomic_bool *cancel;     /* may be NULL: not cancellable */
};

/* Whether the operation was asked to stop. */
bool vl_cancelled(const struct vl_events *evs);

void vl_event_emit(const struct vl_events *evs, const struct vl_event *ev);
void vl_event_info(const struct vl_events *evs, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vl_event_warn(const struct vl_events *evs, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vl_event_debug(const struct vl_events *evs, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vl_event_progress(const struct vl_events *evs, const char *subject, const char *what,
		       uint64_t done, uint64_t total, double rate);

#endif
