/* A class on libvirt's in-process test:///default driver: 30 seats of a
 * 3-VM lab. The test driver runs no guests, so "up" is define only: each
 * seat's network, volumes and domains are made from the engine's own plan
 * and renderer (as tests/unit/test_engine.c does), <domain type='test'>.
 * Then the class engine: status finds every seat, the baseline is taken on
 * all, reset returns a seat's VMs to it, the test host's placement refuses
 * with the numbers, and destroy leaves the driver without any vmlab object.
 * Timings are printed (bench/class.sh reads them). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class.h"
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
#define POOL "vmlab-ctest"
#define SEATS 30

#define OK(call) do { \
	struct vl_err e_ = VL_ERR_INIT; \
	if ((call) != 0) fail_msg("%s: %s", #call, e_.msg); \
} while (0)

struct sink {
	pthread_mutex_t mu;
	struct vl_buf log;
};

static void sink_emit(void *ud, const struct vl_event *ev)
{
	struct sink *s = ud;

	if (ev->kind != VL_EV_INFO && ev->kind != VL_EV_WARN)
		return;
	pthread_mutex_lock(&s->mu);
	vl_buf_printf(&s->log, "%s %s: %s\n", ev->kind == VL_EV_INFO ? "INFO" : "WARN",
		      ev->subject ? ev->subject : "-", ev->msg);
	pthread_mutex_unlock(&s->mu);
}

static char *replace(char *s, const char *needle, const char *with)
{
	char *at = strstr(s, needle);
	struct vl_buf b = VL_BUF_INIT;

	if (!at)
		fail_msg("'%s' not in: %s", needle, s);
	vl_buf_appendn(&b, s, (size_t)(at - s));
	vl_buf_append(&b, with);
	vl_buf_append(&b, at + strlen(needle));
	free(s);
	return vl_buf_steal(&b);
}

/* What up makes for one seat, from the engine's plan: network, disk and
 * seed volumes, domains (defined, not started). */
static void define_seat(struct vl_ctx *ctx, const char *seat)
{
	struct vl_ctx sc = *ctx;
	struct vl_plan plan;
	struct vl_virt *v = ctx->host->virt;
	char *xml;

	sc.profile.instance = vl_class_instance(seat);
	OK(vl_lab_plan(&sc, &plan, &e_));
	OK(((xml = vl_render_network(&plan, NULL, &e_)) ? 0 : -1));
	OK(vl_virt_network_define_start(v, NULL, xml, &e_));
	free(xml);
	for (size_t i = 0; i < plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &plan.vms[i];
		struct vl_domain_opts o = { .type = VL_DOMAIN_QEMU, .pool = POOL };
		struct vl_buf disk = VL_BUF_INIT;
		vl_buf_printf(&disk, "<volume><name>%s</name><capacity unit='MiB'>16</capacity>"
			      "<target><format type='qcow2'/></target></volume>", vm->volume);
		OK(vl_virt_volume_create_xml(v, POOL, disk.s, NULL, &e_));
		vl_buf_release(&disk);
		OK(((xml = vl_render_raw_volume(vm->seed_volume, 1 << 20, &e_)) ? 0 : -1));
		OK(vl_virt_volume_create_xml(v, POOL, xml, NULL, &e_));
		free(xml);
		OK(((xml = vl_render_domain(&plan, vm, &o, &e_)) ? 0 : -1));
		xml = replace(xml, "<domain type=\"qemu\">", "<domain type=\"test\">");
		OK(vl_virt_domain_define(v, xml, NULL, &e_));
		free(xml);
	}
	vl_plan_release(&plan);
	free(sc.profile.instance);
}

static size_t count_prefixed(struct vl_virt *v, const char *what)
{
	size_t n = 0;

	if (vl_streq(what, "domains")) {
		struct vl_virt_dom *d = NULL;
		OK(vl_virt_domain_list(v, VL_NAME_PREFIX, &d, &n, &e_));
		vl_virt_dom_list_free(d, n);
	} else if (vl_streq(what, "networks")) {
		struct vl_virt_net *nets = NULL;
		OK(vl_virt_network_list(v, VL_NAME_PREFIX, &nets, &n, &e_));
		vl_virt_net_list_free(nets, n);
	} else {
		char **vols = NULL;
		OK(vl_virt_volume_list(v, POOL, VL_NAME_PREFIX, &vols, &n, &e_));
		vl_virt_name_list_free(vols, n);
	}
	return n;
}

static void test_class_30x3(void **state)
{
	VL_AUTOFREE char *tmp = vl_test_tmpdir();
	struct vl_diags d = VL_DIAGS_INIT;
	struct sink sink = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct vl_ctx ctx = { 0 };
	struct vl_class_report rep;
	struct vl_class_seat_status *st = NULL;
	struct vl_err err = VL_ERR_INIT;
	size_t n = 0;
	double t0, t_define, t_base, t_reset, t_destroy;
	(void)state;

	VL_AUTOFREE char *conf = vl_test_write(tmp, "vmlab.conf",
		"[storage]\npool = " POOL "\npool_dir = /vl-ctest-pool\n[up]\nparallel = 8\n");
	VL_AUTOFREE char *ini = vl_test_write(tmp, "proj/vmlab.ini",
		"[lab]\nname = ctest\n[defaults]\nimage = debian-12\nmemory = 128M\n"
		"[vm web]\ncount = 2\n[vm db]\n[class]\nseats = 30\n");
	ctx.project_dir = vl_strdup(tmp);
	ctx.events = (struct vl_events){ .emit = sink_emit, .ud = &sink };
	OK(vl_config_load(&ctx.config, conf, &d, &e_));
	OK(vl_profile_load(&ctx.profile, ini, &d, &e_));
	ctx.have_config = ctx.have_profile = true;
	ctx.host = vl_host_open(URI, &err);
	assert_non_null(ctx.host);
	OK(vl_virt_pool_ensure(ctx.host->virt, NULL, POOL, "/vl-ctest-pool", &e_));

	/* the test host's own numbers: 30 x 3 VMs do not fit its memory */
	struct vl_class_plan plan;
	OK(vl_class_plan(&ctx, &plan, &e_));
	assert_int_equal(plan.n_seats, SEATS);
	assert_non_null(plan.refusal);
	assert_non_null(strstr(plan.refusal, "seats have no room"));
	assert_int_equal(plan.need.vms, 3);
	/* every seat its own subnet and names */
	for (size_t i = 1; i < plan.n_seats; i++) {
		assert_string_not_equal(plan.seats[i].subnet, plan.seats[0].subnet);
		assert_string_not_equal(plan.seats[i].lab_id, plan.seats[0].lab_id);
	}
	vl_class_plan_release(&plan);

	t0 = vl_now_mono();
	for (unsigned s = 1; s <= SEATS; s++) {
		char id[8];
		snprintf(id, sizeof(id), "%u", s);
		define_seat(&ctx, id);
	}
	t_define = vl_now_mono() - t0;
	assert_int_equal(count_prefixed(ctx.host->virt, "domains"), SEATS * 3);
	assert_int_equal(count_prefixed(ctx.host->virt, "networks"), SEATS);

	/* reset before a baseline fails per seat, reported, nothing half-done */
	assert_int_equal(vl_class_reset(&ctx, NULL, 0, &rep, &err), -1);
	assert_int_equal(rep.failed, SEATS);
	assert_non_null(strstr(err.msg, "30 of 30 seats failed"));
	vl_class_report_release(&rep);

	t0 = vl_now_mono();
	OK(vl_class_baseline(&ctx, &rep, &e_));
	t_base = vl_now_mono() - t0;
	assert_int_equal(rep.n_seats, SEATS);
	assert_int_equal(rep.failed, 0);
	vl_class_report_release(&rep);
	/* idempotent: a second baseline finds it there */
	OK(vl_class_baseline(&ctx, &rep, &e_));
	vl_class_report_release(&rep);

	OK(vl_class_status(&ctx, &st, &n, &e_));
	assert_int_equal(n, SEATS);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(st[i].host, "local");
		assert_int_equal(st[i].vms_total, 3);
		assert_int_equal(st[i].vms_up, 0);
		assert_true(st[i].has_baseline);
		assert_int_equal(st[i].last_reset, 0);
	}
	vl_class_status_free(st, n);

	/* unknown seat: usage, nothing done */
	char id31[] = "31", *bad[] = { id31 };
	assert_int_equal(vl_class_reset(&ctx, bad, 1, &rep, &err), -1);
	assert_int_equal(err.code, VL_E_USAGE);
	vl_class_report_release(&rep);

	t0 = vl_now_mono();
	OK(vl_class_reset(&ctx, NULL, 0, &rep, &e_));
	t_reset = vl_now_mono() - t0;
	assert_int_equal(rep.n_seats, SEATS);
	vl_class_report_release(&rep);
	OK(vl_class_status(&ctx, &st, &n, &e_));
	assert_true(st[4].last_reset > 0);
	vl_class_status_free(st, n);

	t0 = vl_now_mono();
	OK(vl_class_destroy(&ctx, &rep, &e_));
	t_destroy = vl_now_mono() - t0;
	assert_int_equal(rep.n_seats, SEATS);
	vl_class_report_release(&rep);
	assert_int_equal(count_prefixed(ctx.host->virt, "domains"), 0);
	assert_int_equal(count_prefixed(ctx.host->virt, "networks"), 0);
	assert_int_equal(count_prefixed(ctx.host->virt, "volumes"), 0);
	/* seats events name their seat */
	assert_non_null(strstr(sink.log.s, "INFO seat 30: "));

	printf("class %dx3 on " URI ": define %.3f s (test's own, define only), baseline %.3f s, "
	       "reset %.3f s, destroy %.3f s\n", SEATS, t_define, t_base, t_reset, t_destroy);
	vl_host_unref(ctx.host);
	vl_profile_release(&ctx.profile);
	vl_config_release(&ctx.config);
	vl_diags_release(&d);
	free(ctx.project_dir);
	vl_buf_release(&sink.log);
	vl_test_rmdir(vl_steal(&tmp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_30x3),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
