/* What the lab watch's two files share: lab_watch.c runs the thread and the
 * connection, lab_watch_sync.c keeps what is known of the host's labs and
 * turns libvirt's events, listings and stats into changes. Not for outside
 * src/lab_watch*.c. */
#ifndef VL_LAB_WATCH_PRIV_H
#define VL_LAB_WATCH_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab.h"
#include "virt.h"

/* One vmlab object known on the host. */
struct wobj {
	char *name;
	char *lab;
	char *vm;            /* domains */
	bool net;
	int state;           /* domain: enum vl_vm_state; network: 1 active, 0 not; -1 unknown */
	bool have_cpu;       /* cpu_ns, cpu_at hold the last sample */
	uint64_t cpu_ns;
	int64_t cpu_at_ns;
	bool mark;           /* scratch (resync, stats) */
};

/* The host as the watch knows it, and where its changes go. */
struct wstate {
	const char *host;
	const struct vl_watch_opts *o;
	struct wobj *objs;
	size_t n, cap;
};

void wstate_release(struct wstate *st);
/* Deliver a change (host filled in). */
void wstate_emit(struct wstate *st, struct vl_watch_change *c);
/* A domain or network event (v: the live connection, to read the metadata
 * of an object not seen yet). -1 (err set) only for a failed libvirt call
 * other than "not found", which the caller takes for a lost connection. */
int wstate_domain_event(struct wstate *st, struct vl_virt *v, const char *name,
			enum vl_dom_state ds, struct vl_err *err);
int wstate_network_event(struct wstate *st, struct vl_virt *v, const char *name,
			 enum vl_virt_net_event ev, struct vl_err *err);
/* Read every vmlab object and deliver the full state, what went away since,
 * then SYNCED. */
int wstate_resync(struct wstate *st, struct vl_virt *v, struct vl_err *err);
/* One stats sample of every running vmlab domain. */
int wstate_sample(struct wstate *st, struct vl_virt *v, struct vl_err *err);

#endif
