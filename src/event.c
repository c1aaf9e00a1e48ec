/* Event helpers: format a message and hand it to the sink, if there is one. */
#include "event.h"

#include <stdarg.h>
#include <stdio.h>

bool vl_cancelled(const struct vl_events *evs)
{
	return evs && evs->cancel && atomic_load(evs->cancel);
}

void vl_event_emit(const struct vl_events *evs, const struct vl_event *ev)
{
	if (evs && evs->emit) {
		struct vl_event e = *ev;
		if (!e.lab)
			e.lab = evs->lab;
		if (!e.host)
			e.host = evs->host;
		evs->emit(evs->ud, &e);
	}
}

static void emitv(const struct vl_events *evs, enum vl_event_kind kind, const char *subject,
		  const char *fmt, va_list ap)
{
	char msg[1024];

	if (!evs || !evs->emit)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	struct vl_event ev = { .kind = kind, .subject = subject, .msg = msg };
	vl_event_emit(evs, &ev);
}

void vl_event_info(const struct vl_events *evs, const char *subject, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emitv(evs, VL_EV_INFO, subject, fmt, ap);
	va_end(ap);
}

void vl_event_warn(const struct vl_events *evs, const char *subject, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emitv(evs, VL_EV_WARN, subject, fmt, ap);
	va_end(ap);
}

void vl_event_debug(const struct vl_events *evs, const char *subject, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emitv(evs, VL_EV_DEBUG, subject, fmt, ap);
	va_end(ap);
}

void vl_event_progress(const struct vl_events *evs, const char *subject, const char *what,
		       uint64_t done, uint64_t total, double rate)
{
	struct vl_event ev = {
		.kind = VL_EV_PROGRESS, .subject = subject, .msg = what,
		.done = done, .total = total, .rate = rate,
	};
	vl_event_emit(evs, &ev);
}
