/* vmlab status --watch and class status --watch: libvirt's lifecycle
 * events for vmlab's labs as they happen, one line each (JSON lines with
 * --json), through the engine's watch (lab.h), one per host: a lost
 * connection is said, retried and followed by a full resync. Runs until
 * Ctrl-C. */
#include "cmd/status_watch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/str.h"

struct watch_out {
	const struct vl_watch_what *what;
	bool json;
	pthread_mutex_t mu;   /* each host's watch calls from its own thread */
};

struct watch_host {
	struct watch_out *out;
	const char *uri;
};

static const char *kind_word(enum vl_watch_kind k)
{
	switch (k) {
	case VL_WATCH_LAB_APPEARED: return "lab";
	case VL_WATCH_LAB_VANISHED: return "lab-gone";
	case VL_WATCH_VM_STATE: return "vm";
	case VL_WATCH_NET_STARTED: return "network-started";
	case VL_WATCH_NET_STOPPED: return "network-stopped";
	case VL_WATCH_SYNCED: return "synced";
	case VL_WATCH_LOST: return "lost";
	case VL_WATCH_RECONNECTED: return "reconnected";
	case VL_WATCH_STATS: return "stats";
	}
	return "?";
}

static void print_json(const struct vl_watch_change *c, const char *when, const char *label,
		       size_t n_uris)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, false);
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "time", when);
	vl_json_kstr(&j, "event", kind_word(c->kind));
	if (n_uris > 1)
		vl_json_kstr(&j, "host", c->host);
	if (c->lab)
		vl_json_kstr(&j, "lab", c->lab);
	if (label)
		vl_json_kstr(&j, "label", label);
	if (c->kind == VL_WATCH_VM_STATE) {
		vl_json_kstr(&j, "vm", c->vm);
		vl_json_kstr(&j, "domain", c->domain);
		vl_json_kstr(&j, "state", vl_vm_state_name(c->state));
	}
	if (c->network)
		vl_json_kstr(&j, "network", c->network);
	if (c->kind == VL_WATCH_LOST) {
		vl_json_kstr(&j, "reason", c->reason);
		vl_json_kuint(&j, "retry_ms", c->retry_ms);
	}
	vl_json_obj_end(&j);
	printf("%s\n", b.s);
	vl_buf_release(&b);
}

static void print_plain(const struct vl_watch_change *c, const char *when, const char *who,
			const char *host)
{
	switch (c->kind) {
	case VL_WATCH_LAB_APPEARED:
		printf("%s %s: lab seen\n", when, who);
		break;
	case VL_WATCH_LAB_VANISHED:
		printf("%s %s: lab gone\n", when, who);
		break;
	case VL_WATCH_VM_STATE:
		printf("%s %s: %s %s\n", when, who, c->vm, vl_vm_state_name(c->state));
		break;
	case VL_WATCH_NET_STARTED:
	case VL_WATCH_NET_STOPPED:
		printf("%s %s: network %s %s\n", when, who, c->network,
		       c->kind == VL_WATCH_NET_STARTED ? "active" : "inactive");
		break;
	case VL_WATCH_SYNCED:
		printf("%s in sync with libvirt%s\n", when, host);
		break;
	case VL_WATCH_LOST:
		printf("%s connection lost%s: %s (retrying in %.1f s)\n", when, host, c->reason,
		       c->retry_ms / 1000.0);
		break;
	case VL_WATCH_RECONNECTED:
		printf("%s reconnected%s\n", when, host);
		break;
	case VL_WATCH_STATS:
		break;
	}
}

static void on_change(void *ud, const struct vl_watch_change *c)
{
	const struct watch_host *wh = ud;
	struct watch_out *o = wh->out;
	const struct vl_watch_what *w = o->what;
	const char *label = NULL;
	VL_AUTOFREE char *host = NULL;
	char when[16];
	time_t t = time(NULL);
	struct tm tm;

	if (c->kind == VL_WATCH_STATS)
		return;
	if (c->lab && w->n_labs) {
		size_t i = 0;
		while (i < w->n_labs && !vl_streq(w->lab_ids[i], c->lab))
			i++;
		if (i == w->n_labs)
			return;
		label = w->labels ? w->labels[i] : NULL;
	}
	/* with several hosts, the lines about a connection say which */
	host = w->n_uris > 1 ? vl_strfmt(" (%s)", wh->uri ? wh->uri : "default") : vl_strdup("");
	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
	pthread_mutex_lock(&o->mu);
	if (o->json)
		print_json(c, when, label, w->n_uris);
	else
		print_plain(c, when, label ? label : c->lab, host);
	fflush(stdout);
	pthread_mutex_unlock(&o->mu);
}

int vl_status_watch(struct vl_ctx *ctx, const struct vl_watch_what *what, bool json,
		    struct vl_err *err)
{
	struct watch_out o = { .what = what, .json = json };
	struct watch_host *hosts = vl_calloc(what->n_uris ? what->n_uris : 1, sizeof(*hosts));
	struct vl_watch **w = vl_calloc(what->n_uris ? what->n_uris : 1, sizeof(*w));
	int rc = 0;

	pthread_mutex_init(&o.mu, NULL);
	for (size_t i = 0; i < what->n_uris && rc == 0; i++) {
		struct vl_watch_opts wo = { .on_change = on_change, .ud = &hosts[i],
					    .stats_ms = 60000 };
		hosts[i] = (struct watch_host){ &o, what->uris[i] };
		if (!(w[i] = vl_lab_watch_start(what->uris[i], &wo, err)))
			rc = -1;
	}
	while (rc == 0 && !vl_cancelled(&ctx->events))
		usleep(100 * 1000);
	for (size_t i = 0; i < what->n_uris; i++)
		vl_watch_stop(w[i]);
	pthread_mutex_destroy(&o.mu);
	free(w);
	free(hosts);
	return rc;
}
