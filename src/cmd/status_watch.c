/* vmlab status --watch: libvirt's lifecycle events for vmlab's labs as
 * they happen, one line each (JSON lines with --json), through the
 * engine's watch (lab.h): a lost connection is said, retried and followed
 * by a full resync. Runs until Ctrl-C. */
#include "cmd/status_watch.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "lab.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/str.h"

struct watch_out {
	const char *lab_id;   /* only this lab; NULL: every lab */
	bool json;
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

static void print_json(const struct vl_watch_change *c, const char *when)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, false);
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "time", when);
	vl_json_kstr(&j, "event", kind_word(c->kind));
	if (c->lab)
		vl_json_kstr(&j, "lab", c->lab);
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

static void print_plain(const struct vl_watch_change *c, const char *when)
{
	switch (c->kind) {
	case VL_WATCH_LAB_APPEARED:
		printf("%s %s: lab seen\n", when, c->lab);
		break;
	case VL_WATCH_LAB_VANISHED:
		printf("%s %s: lab gone\n", when, c->lab);
		break;
	case VL_WATCH_VM_STATE:
		printf("%s %s: %s %s\n", when, c->lab, c->vm, vl_vm_state_name(c->state));
		break;
	case VL_WATCH_NET_STARTED:
	case VL_WATCH_NET_STOPPED:
		printf("%s %s: network %s %s\n", when, c->lab, c->network,
		       c->kind == VL_WATCH_NET_STARTED ? "active" : "inactive");
		break;
	case VL_WATCH_SYNCED:
		printf("%s in sync with libvirt\n", when);
		break;
	case VL_WATCH_LOST:
		printf("%s connection lost: %s (retrying in %.1f s)\n", when, c->reason,
		       c->retry_ms / 1000.0);
		break;
	case VL_WATCH_RECONNECTED:
		printf("%s reconnected\n", when);
		break;
	case VL_WATCH_STATS:
		break;
	}
}

static void on_change(void *ud, const struct vl_watch_change *c)
{
	const struct watch_out *o = ud;
	char when[16];
	time_t t = time(NULL);
	struct tm tm;

	if (c->kind == VL_WATCH_STATS || (o->lab_id && c->lab && !vl_streq(c->lab, o->lab_id)))
		return;
	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
	if (o->json)
		print_json(c, when);
	else
		print_plain(c, when);
	fflush(stdout);
}

int vl_status_watch(struct vl_ctx *ctx, const char *lab_id, bool json, struct vl_err *err)
{
	struct watch_out o = { lab_id, json };
	struct vl_watch_opts wo = { .on_change = on_change, .ud = &o, .stats_ms = 60000 };
	struct vl_watch *w = vl_lab_watch_start(ctx->host->uri, &wo, err);

	if (!w)
		return -1;
	while (!vl_cancelled(&ctx->events))
		usleep(100 * 1000);
	vl_watch_stop(w);
	return 0;
}
