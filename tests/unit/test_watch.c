/* The lab watch (lab_watch.c) in-process against libvirt's test:///default
 * driver, which emits domain and network lifecycle events once an event
 * implementation is registered (vl_init). The watch opens a connection of
 * its own; test:///default's state is shared by the connections of one
 * process while one stays open, so the test's connection makes the changes
 * and the watch sees them. Objects come from the engine's plan and renderer
 * (as in test_engine.c), so names and <metadata> are what up writes.
 *
 * Not here: losing the connection. test:///default cannot lose one (it is
 * in-process), so reconnecting needs a real daemon to stop and start; the
 * backoff and the resync-after-reconnect decisions are tested as pure code
 * (test_watch_sched.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "host.h"
#include "lab.h"
#include "plan.h"
#include "render.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"
#include "virt.h"

#define URI "test:///default"
#define POOL_DIR "/vl-wtest-pool"

#define OK(call) do { \
	struct vl_err e_ = VL_ERR_INIT; \
	if ((call) != 0) fail_msg("%s: %s", #call, e_.msg); \
} while (0)

/* ---- what the watch delivered ---- */

struct seen {
	pthread_mutex_t mu;
	struct vl_buf log;       /* one line per change, stats left out */
	size_t n_stats, n_total;
	char stats[256];         /* the last stats line */
	bool bad_host;
};

static void on_change(void *ud, const struct vl_watch_change *c)
{
	struct seen *s = ud;

	pthread_mutex_lock(&s->mu);
	s->n_total++;
	if (!c->host || !vl_streq(c->host, URI))
		s->bad_host = true;
	switch (c->kind) {
	case VL_WATCH_STATS:
		s->n_stats++;
		snprintf(s->stats, sizeof(s->stats), "%s %s %s cpu%s mem %llu/%llu", c->lab, c->vm,
			 vl_vm_state_name(c->state), c->cpu_percent < 0 ? "?" : "%",
			 (unsigned long long)c->mem_used, (unsigned long long)c->mem_total);
		break;
	case VL_WATCH_VM_STATE:
		vl_buf_printf(&s->log, "vm %s %s %s\n", c->lab, c->vm, vl_vm_state_name(c->state));
		break;
	case VL_WATCH_NET_STARTED:
	case VL_WATCH_NET_STOPPED:
		vl_buf_printf(&s->log, "%s %s %s\n", vl_watch_kind_name(c->kind), c->lab,
			      c->network);
		break;
	default:
		vl_buf_printf(&s->log, "%s%s%s\n", vl_watch_kind_name(c->kind), c->lab ? " " : "",
			      c->lab ? c->lab : "");
		break;
	}
	pthread_mutex_unlock(&s->mu);
}

/* Wait up to 1 s for the log to end with want (lines since the last take),
 * then return what came and start afresh. */
static char *take(struct seen *s, const char *want)
{
	double end = vl_now_mono() + 1.0;
	char *got;

	for (;;) {
		bool done;

		pthread_mutex_lock(&s->mu);
		done = s->log.len >= strlen(want) &&
		       vl_streq(s->log.s + s->log.len - strlen(want), want);
		pthread_mutex_unlock(&s->mu);
		if (done || vl_now_mono() > end)
			break;
		usleep(5000);
	}
	usleep(50000);   /* nothing more should follow */
	pthread_mutex_lock(&s->mu);
	got = vl_strdup(vl_buf_str(&s->log));
	vl_buf_truncate(&s->log, 0);
	pthread_mutex_unlock(&s->mu);
	return got;
}

#define EXPECT(s, want) do { \
	char *got_ = take((s), (want)); \
	assert_string_equal(got_, (want)); \
	free(got_); \
} while (0)

/* ---- labs made as up makes them ---- */

struct lab_fx {
	struct vl_ctx ctx;
	struct vl_plan plan;
	char line[160];      /* scratch for expected lines */
};

static const char conf_text[] = "[storage]\npool = vmlab-wtest\npool_dir = " POOL_DIR "\n";

static void lab_new(struct lab_fx *l, struct vl_host *h, const char *tmp, const char *rel,
		    const char *ini)
{
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_buf p = VL_BUF_INIT;
	VL_AUTOFREE char *conf = vl_test_write(tmp, "vmlab.conf", conf_text);
	VL_AUTOFREE char *path = NULL;

	*l = (struct lab_fx){ 0 };
	vl_buf_printf(&p, "%s/vmlab.ini", rel);
	path = vl_test_write(tmp, p.s, ini);
	vl_buf_truncate(&p, 0);
	vl_buf_printf(&p, "%s/%s", tmp, rel);
	l->ctx.project_dir = vl_buf_steal(&p);
	OK(vl_config_load(&l->ctx.config, conf, &d, &e_));
	OK(vl_profile_load(&l->ctx.profile, path, &d, &e_));
	vl_diags_release(&d);
	l->ctx.have_config = l->ctx.have_profile = true;
	l->ctx.host = h;
	OK(vl_lab_plan(&l->ctx, &l->plan, &e_));
}

static void lab_free(struct lab_fx *l)
{
	vl_plan_release(&l->plan);
	vl_profile_release(&l->ctx.profile);
	vl_config_release(&l->ctx.config);
	free(l->ctx.project_dir);
}

static void net_up(struct lab_fx *l)
{
	VL_AUTOFREE char *xml = NULL;

	OK(((xml = vl_render_network(&l->plan, NULL, &e_)) ? 0 : -1));
	OK(vl_virt_network_define_start(l->ctx.host->virt, NULL, xml, &e_));
}

static const struct vl_plan_vm *vm_of(struct lab_fx *l, const char *name)
{
	const struct vl_plan_vm *vm = vl_plan_find_vm(&l->plan, name);

	assert_non_null(vm);
	return vm;
}

/* The domain as render.c writes it, as <domain type='test'>. */
static void vm_define(struct lab_fx *l, const char *name)
{
	const struct vl_plan_vm *vm = vm_of(l, name);
	struct vl_domain_opts o = { .type = VL_DOMAIN_QEMU, .pool = l->ctx.config.pool_name };
	VL_AUTOFREE char *xml = NULL;
	char *at;

	OK(((xml = vl_render_domain(&l->plan, vm, &o, &e_)) ? 0 : -1));
	at = strstr(xml, "<domain type=\"qemu\">");
	assert_non_null(at);
	memcpy(at, "<domain type=\"test\">", strlen("<domain type=\"test\">"));
	OK(vl_virt_domain_define(l->ctx.host->virt, xml, NULL, &e_));
}

__attribute__((format(printf, 2, 3)))
static const char *line(struct lab_fx *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->line, sizeof(l->line), fmt, ap);
	va_end(ap);
	return l->line;
}

/* ---- tests ---- */

static const char ini_a[] = "[lab]\nname = alpha\n[defaults]\nimage = debian-12\nmemory = 128M\n"
			    "[vm web]\n";
static const char ini_b[] = "[lab]\nname = beta\n[defaults]\nimage = debian-12\nmemory = 128M\n"
			    "[vm db]\n";

/* Lab alpha exists before the watch starts, beta comes and goes under it,
 * and objects that are not vmlab's are never reported. */
static void test_watch_lifecycle(void **state)
{
	struct seen s = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct vl_watch_opts o = { .on_change = on_change, .ud = &s, .stats_ms = 100 };
	VL_AUTOFREE char *tmp = vl_test_tmpdir();
	struct lab_fx a, b;
	struct vl_buf want = VL_BUF_INIT;
	struct vl_watch *w;
	struct vl_host *h;
	struct vl_virt *v;
	size_t n_after;
	(void)state;

	OK(vl_init(&e_));
	OK(((h = vl_host_open(URI, &e_)) ? 0 : -1));
	v = h->virt;
	lab_new(&a, h, tmp, "a", ini_a);
	lab_new(&b, h, tmp, "b", ini_b);
	assert_string_not_equal(a.plan.lab_id, b.plan.lab_id);
	net_up(&a);
	vm_define(&a, "web");
	OK(vl_virt_domain_start(v, vm_of(&a, "web")->domain, false, &e_));
	/* vmlab's name without vmlab's metadata: not a lab */
	OK(vl_virt_domain_define(v, "<domain type='test'><name>vmlab-stray</name>"
			     "<memory>65536</memory><os><type>hvm</type></os></domain>", NULL, &e_));

	OK(((w = vl_lab_watch_start(URI, &o, &e_)) ? 0 : -1));

	/* the first sync: what is there, then SYNCED */
	vl_buf_printf(&want, "lab-appeared %s\n", a.plan.lab_id);
	vl_buf_append(&want, line(&a, "net-started %s vmlab-%s\n", a.plan.lab_id, a.plan.lab_id));
	vl_buf_append(&want, line(&a, "vm %s %s running\n", a.plan.lab_id, "web"));
	vl_buf_append(&want, "synced\n");
	EXPECT(&s, want.s);

	/* beta's network: defined, then started */
	net_up(&b);
	vl_buf_truncate(&want, 0);
	vl_buf_printf(&want, "lab-appeared %s\n", b.plan.lab_id);
	vl_buf_append(&want, line(&b, "net-stopped %s vmlab-%s\n", b.plan.lab_id, b.plan.lab_id));
	vl_buf_append(&want, line(&b, "net-started %s vmlab-%s\n", b.plan.lab_id, b.plan.lab_id));
	EXPECT(&s, want.s);

	/* its VM: defined (shut off), started, paused, resumed, destroyed, undefined */
	vm_define(&b, "db");
	EXPECT(&s, line(&b, "vm %s %s shut off\n", b.plan.lab_id, "db"));
	OK(vl_virt_domain_start(v, vm_of(&b, "db")->domain, false, &e_));
	EXPECT(&s, line(&b, "vm %s %s running\n", b.plan.lab_id, "db"));
	OK(vl_virt_domain_suspend(v, vm_of(&b, "db")->domain, &e_));
	EXPECT(&s, line(&b, "vm %s %s paused\n", b.plan.lab_id, "db"));
	OK(vl_virt_domain_resume(v, vm_of(&b, "db")->domain, &e_));
	EXPECT(&s, line(&b, "vm %s %s running\n", b.plan.lab_id, "db"));
	OK(vl_virt_domain_destroy(v, vm_of(&b, "db")->domain, &e_));
	EXPECT(&s, line(&b, "vm %s %s shut off\n", b.plan.lab_id, "db"));
	OK(vl_virt_domain_undefine(v, vm_of(&b, "db")->domain, &e_));
	EXPECT(&s, line(&b, "vm %s %s not created\n", b.plan.lab_id, "db"));

	/* the network goes: stopped, and with it the lab's last object */
	OK(vl_virt_network_destroy_undefine(v, b.plan.network, &e_));
	vl_buf_truncate(&want, 0);
	vl_buf_append(&want, line(&b, "net-stopped %s vmlab-%s\n", b.plan.lab_id, b.plan.lab_id));
	vl_buf_printf(&want, "lab-vanished %s\n", b.plan.lab_id);
	EXPECT(&s, want.s);

	/* objects that are not vmlab's, started and stopped: nothing */
	OK(vl_virt_domain_start(v, "vmlab-stray", false, &e_));
	OK(vl_virt_domain_destroy(v, "test", &e_));
	EXPECT(&s, "");

	vl_watch_stop(w);
	pthread_mutex_lock(&s.mu);
	n_after = s.n_total;
	assert_false(s.bad_host);
	pthread_mutex_unlock(&s.mu);
	/* stopped: no change is delivered any more */
	OK(vl_virt_domain_destroy(v, vm_of(&a, "web")->domain, &e_));
	usleep(200000);
	pthread_mutex_lock(&s.mu);
	assert_int_equal(s.n_total, n_after);
	pthread_mutex_unlock(&s.mu);

	vl_buf_release(&want);
	vl_buf_release(&s.log);
	lab_free(&a);
	lab_free(&b);
	vl_host_unref(h);
	vl_test_rmdir(vl_steal(&tmp));
}

/* A running VM gets samples on the period; the test driver reports only the
 * state (no CPU time, no balloon), so CPU% and memory are "unknown". */
static void test_watch_stats(void **state)
{
	struct seen s = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct vl_watch_opts o = { .on_change = on_change, .ud = &s, .stats_ms = 100 };
	VL_AUTOFREE char *tmp = vl_test_tmpdir();
	char want[256];
	struct lab_fx a;
	struct vl_watch *w;
	struct vl_host *h;
	struct vl_virt *v;
	double end;
	size_t n = 0;
	(void)state;

	OK(vl_init(&e_));
	OK(((h = vl_host_open(URI, &e_)) ? 0 : -1));
	v = h->virt;
	lab_new(&a, h, tmp, "a", ini_a);
	vm_define(&a, "web");
	OK(vl_virt_domain_start(v, vm_of(&a, "web")->domain, false, &e_));
	OK(((w = vl_lab_watch_start(URI, &o, &e_)) ? 0 : -1));
	for (end = vl_now_mono() + 1.0; vl_now_mono() < end && n < 2; usleep(10000)) {
		pthread_mutex_lock(&s.mu);
		n = s.n_stats;
		pthread_mutex_unlock(&s.mu);
	}
	vl_watch_stop(w);
	assert_true(n >= 2);   /* the first right after the sync, then every 100 ms */
	snprintf(want, sizeof(want), "%s web running cpu? mem 0/0", a.plan.lab_id);
	assert_string_equal(s.stats, want);
	vl_buf_release(&s.log);
	lab_free(&a);
	vl_host_unref(h);
	vl_test_rmdir(vl_steal(&tmp));
}

/* A host that cannot be reached at the start is an error, not a retry loop. */
static void test_watch_unreachable(void **state)
{
	struct seen s = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct vl_watch_opts o = { .on_change = on_change, .ud = &s };
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	assert_null(vl_lab_watch_start("qemu+unix:///system?socket=/nonexistent/vl-sock", &o, &err));
	assert_int_equal(err.code, VL_E_CONNECT);
	assert_null(vl_lab_watch_start(URI, &(struct vl_watch_opts){ 0 }, &err));
	assert_int_equal(err.code, VL_E_USAGE);
	vl_watch_stop(NULL);
	assert_int_equal(s.n_total, 0);
}

static int teardown_all(void **state)
{
	(void)state;
	vl_virt_events_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_lifecycle),
		cmocka_unit_test(test_watch_stats),
		cmocka_unit_test(test_watch_unreachable),
	};
	return cmocka_run_group_tests_name("watch", tests, NULL, teardown_all);
}
