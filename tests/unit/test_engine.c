/* The engine (src/lab*.c) in-process against libvirt's test:///default
 * driver, no daemon: status, halt with the forced fallback, destroy, a lab
 * snapshot undone after failing half-way, gc, and lock contention.
 *
 * The test driver has no guests and no SSH, so `up` cannot run here: each
 * test defines the lab's objects itself, from the engine's own plan and
 * renderer (render.c), so names and <metadata> are exactly what up writes.
 * The only change is <domain type='test'> (the driver runs nothing else).
 * test:///default is per-process state that lives while a connection is
 * open: each test opens one connection and starts from the driver's
 * defaults.
 *
 * Also: cancel during a wait, and every lab on the connection
 * (vl_lab_list_all) with no profile. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "host.h"
#include "lab.h"
#include "lab_priv.h"
#include "owner.h"
#include "render.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/str.h"
#include "virt.h"

#define URI "test:///default"
#define POOL_DIR "/vl-etest-pool"

#define OK(call) do { \
	struct vl_err e_ = VL_ERR_INIT; \
	if ((call) != 0) fail_msg("%s: %s", #call, e_.msg); \
} while (0)
/* OK() needs the call to use &e_ as its error argument. */

/* ---- fixture: one connection and a temp dir per test ---- */

struct world {
	char *tmp;          /* this test's directory */
	char *conf;         /* vmlab.conf in it */
	struct vl_host *host;
};

/* Events the engine emitted, one "KIND SUBJECT: MSG" line each (sinks are
 * called from worker threads). */
struct sink {
	pthread_mutex_t mu;
	struct vl_buf log;
	size_t unnamed;          /* INFO/WARN events without a lab */
};

static void sink_emit(void *ud, const struct vl_event *ev)
{
	struct sink *s = ud;
	const char *kind = ev->kind == VL_EV_INFO ? "INFO" : ev->kind == VL_EV_WARN ? "WARN" : NULL;

	if (!kind)
		return;
	pthread_mutex_lock(&s->mu);
	vl_buf_printf(&s->log, "%s %s: %s\n", kind, ev->subject ? ev->subject : "-", ev->msg);
	if (!ev->lab)
		s->unnamed++;   /* an event that does not say which lab it is about */
	pthread_mutex_unlock(&s->mu);
}

/* A lab: project directory with vmlab.ini, its context and the plan. */
struct lab_fx {
	char *dir;
	struct vl_ctx ctx;
	struct sink sink;
	struct vl_plan plan;
};

static int setup(void **state)
{
	struct world *w = vl_calloc(1, sizeof(*w));
	struct vl_err err = VL_ERR_INIT;
	struct vl_buf c = VL_BUF_INIT;

	w->tmp = vl_test_tmpdir();
	/* halt's ACPI grace is 1 s so the forced fallback is quick to reach */
	vl_buf_printf(&c, "[storage]\npool = vmlab-etest\npool_dir = " POOL_DIR "\n"
		      "log_dir = %s/logs\n[halt]\ntimeout = 1\n[up]\nparallel = 4\n", w->tmp);
	w->conf = vl_test_write(w->tmp, "vmlab.conf", c.s);
	vl_buf_release(&c);
	w->host = vl_host_open(URI, &err);
	if (!w->host)
		fail_msg("open " URI ": %s", err.msg);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	vl_host_unref(w->host);
	vl_test_rmdir(w->tmp);
	free(w->conf);
	free(w);
	return 0;
}

static const char ini_main[] =
	"[lab]\nname = etest\n[defaults]\nimage = debian-12\nmemory = 128M\n"
	"[vm web]\ncount = 2\n[vm db]\ncpus = 2\n";

/* A project at tmp/rel with vmlab.ini text, its context on w's connection,
 * and the plan the engine makes for it now. */
static void lab_new(struct lab_fx *l, struct world *w, const char *rel, const char *ini)
{
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_buf p = VL_BUF_INIT;
	VL_AUTOFREE char *path = NULL;

	*l = (struct lab_fx){ 0 };
	vl_buf_printf(&p, "%s/vmlab.ini", rel);
	path = vl_test_write(w->tmp, p.s, ini);
	vl_buf_release(&p);
	vl_buf_printf(&p, "%s/%s", w->tmp, rel);
	l->dir = vl_buf_steal(&p);
	pthread_mutex_init(&l->sink.mu, NULL);
	l->ctx.project_dir = vl_strdup(l->dir);
	l->ctx.events = (struct vl_events){ .emit = sink_emit, .ud = &l->sink };
	OK(vl_config_load(&l->ctx.config, w->conf, &d, &e_));
	OK(vl_profile_load(&l->ctx.profile, path, &d, &e_));
	vl_diags_release(&d);
	l->ctx.have_config = l->ctx.have_profile = true;
	l->ctx.host = w->host;
	OK(vl_lab_plan(&l->ctx, &l->plan, &e_));
	assert_non_null(l->plan.owner_machine);   /* the engine records who made it */
}

static void lab_free(struct lab_fx *l)
{
	vl_plan_release(&l->plan);
	vl_profile_release(&l->ctx.profile);
	vl_config_release(&l->ctx.config);
	free(l->ctx.project_dir);
	vl_buf_release(&l->sink.log);
	pthread_mutex_destroy(&l->sink.mu);
	free(l->dir);
}

static bool events_have(struct lab_fx *l, const char *line)
{
	bool r;

	pthread_mutex_lock(&l->sink.mu);
	r = l->sink.log.s && strstr(l->sink.log.s, line);
	pthread_mutex_unlock(&l->sink.mu);
	return r;
}

static bool events_all_have_lab(struct lab_fx *l)
{
	bool r;

	pthread_mutex_lock(&l->sink.mu);
	r = l->sink.unnamed == 0 && l->sink.log.len > 0;
	pthread_mutex_unlock(&l->sink.mu);
	return r;
}

static void events_clear(struct lab_fx *l)
{
	pthread_mutex_lock(&l->sink.mu);
	vl_buf_truncate(&l->sink.log, 0);
	pthread_mutex_unlock(&l->sink.mu);
}

/* s with the first needle replaced (the needle must be there). */
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

static void define_network(struct lab_fx *l)
{
	VL_AUTOFREE char *xml = NULL;

	OK(((xml = vl_render_network(&l->plan, NULL, &e_)) ? 0 : -1));
	OK(vl_virt_network_define_start(l->ctx.host->virt, NULL, xml, &e_));
}

enum vm_how { VM_SHUTOFF, VM_RUNNING, VM_PAUSED };

/* What up makes for a VM: disk and seed volumes, the domain as render.c
 * writes it; stubborn: a guest that ignores ACPI shutdown (the test driver
 * keeps it running when <on_poweroff> is restart). */
/* A VM's disk and seed volumes: what up has made before the domain. */
static void define_volumes(struct lab_fx *l, const char *name)
{
	const struct vl_plan_vm *vm = vl_plan_find_vm(&l->plan, name);
	struct vl_virt *v = l->ctx.host->virt;
	const char *pool = l->ctx.config.pool_name;
	struct vl_buf disk = VL_BUF_INIT;
	char *xml = NULL;

	assert_non_null(vm);
	OK(vl_virt_pool_ensure(v, NULL, pool, POOL_DIR, &e_));
	vl_buf_printf(&disk, "<volume><name>%s</name><capacity unit='MiB'>16</capacity>"
		      "<target><format type='qcow2'/></target></volume>", vm->volume);
	OK(vl_virt_volume_create_xml(v, pool, disk.s, NULL, &e_));
	vl_buf_release(&disk);
	OK(((xml = vl_render_raw_volume(vm->seed_volume, 1 << 20, &e_)) ? 0 : -1));
	OK(vl_virt_volume_create_xml(v, pool, xml, NULL, &e_));
	free(xml);
}

static void define_vm(struct lab_fx *l, const char *name, enum vm_how how, bool stubborn)
{
	const struct vl_plan_vm *vm = vl_plan_find_vm(&l->plan, name);
	struct vl_virt *v = l->ctx.host->virt;
	struct vl_domain_opts o = { .type = VL_DOMAIN_QEMU, .pool = l->ctx.config.pool_name };
	char *xml = NULL;

	define_volumes(l, name);
	OK(((xml = vl_render_domain(&l->plan, vm, &o, &e_)) ? 0 : -1));
	xml = replace(xml, "<domain type=\"qemu\">", "<domain type=\"test\">");
	if (stubborn)
		xml = replace(xml, "<on_poweroff>destroy</on_poweroff>",
			      "<on_poweroff>restart</on_poweroff>");
	OK(vl_virt_domain_define(v, xml, NULL, &e_));
	free(xml);
	if (how != VM_SHUTOFF)
		OK(vl_virt_domain_start(v, vm->domain, false, &e_));
	if (how == VM_PAUSED)
		OK(vl_virt_domain_suspend(v, vm->domain, &e_));
}

static enum vl_dom_state dom_state(struct lab_fx *l, const char *vm_name)
{
	const struct vl_plan_vm *vm = vl_plan_find_vm(&l->plan, vm_name);
	enum vl_dom_state st = VL_DOM_OTHER;

	assert_non_null(vm);
	OK(vl_virt_domain_state(l->ctx.host->virt, vm->domain, &st, &e_));
	return st;
}

static size_t snap_count(struct lab_fx *l, const char *vm_name, const char *only)
{
	const struct vl_plan_vm *vm = vl_plan_find_vm(&l->plan, vm_name);
	struct vl_virt_snap *snaps = NULL;
	size_t n = 0, count = 0;

	OK(vl_virt_snapshot_list(l->ctx.host->virt, vm->domain, &snaps, &n, &e_));
	for (size_t i = 0; i < n; i++)
		count += !only || vl_streq(snaps[i].name, only);
	vl_virt_snap_list_free(snaps, n);
	return count;
}

static bool volume_exists(struct lab_fx *l, const char *vol)
{
	bool ex = false;

	OK(vl_virt_volume_exists(l->ctx.host->virt, l->ctx.config.pool_name, vol, &ex, &e_));
	return ex;
}

static bool network_exists(struct lab_fx *l, const char *net)
{
	bool ex = false;

	OK(vl_virt_network_exists(l->ctx.host->virt, net, &ex, &e_));
	return ex;
}

/* ---- status ---- */

static void test_status(void **state)
{
	struct world *w = *state;
	struct lab_fx l;
	struct vl_lab_status st;

	lab_new(&l, w, "main", ini_main);
	/* Nothing made yet: every planned VM is "not created", no address. */
	OK(vl_lab_status(&l.ctx, &st, &e_));
	assert_string_equal(st.lab_name, "etest");
	assert_string_equal(st.lab_id, l.plan.lab_id);
	assert_string_equal(st.network, l.plan.network);
	assert_false(st.network_active);
	assert_int_equal(st.n_vms, 3);
	assert_string_equal(st.vms[0].name, "web-1");
	assert_string_equal(st.vms[1].name, "web-2");
	assert_string_equal(st.vms[2].name, "db");
	for (size_t i = 0; i < st.n_vms; i++) {
		assert_int_equal(st.vms[i].state, VL_VM_MISSING);
		assert_null(st.vms[i].ip);
		assert_int_equal(st.vms[i].n_snapshots, 0);
	}
	vl_lab_status_release(&st);

	define_network(&l);
	define_vm(&l, "web-1", VM_RUNNING, false);
	define_vm(&l, "web-2", VM_PAUSED, false);
	define_vm(&l, "db", VM_SHUTOFF, false);
	OK(vl_virt_snapshot_create(l.ctx.host->virt, vl_plan_find_vm(&l.plan, "web-1")->domain,
				   "<domainsnapshot><name>s1</name></domainsnapshot>", 0, &e_));

	/* What libvirt has, VM by VM; the lab keeps its network's subnet. */
	OK(vl_lab_status(&l.ctx, &st, &e_));
	assert_true(st.network_active);
	assert_string_equal(st.subnet, l.plan.subnet_str);
	assert_int_equal(st.n_vms, 3);
	assert_int_equal(st.vms[0].state, VL_VM_RUNNING);
	assert_int_equal(st.vms[1].state, VL_VM_PAUSED);
	assert_int_equal(st.vms[2].state, VL_VM_SHUTOFF);
	for (size_t i = 0; i < st.n_vms; i++) {
		assert_string_equal(st.vms[i].domain, l.plan.vms[i].domain);
		assert_string_equal(st.vms[i].ip, l.plan.vms[i].ip_str);
		assert_string_equal(st.vms[i].mac, l.plan.vms[i].mac);
		assert_int_equal(st.vms[i].memory, 128u << 20);
	}
	assert_int_equal(st.vms[0].cpus, 1);
	assert_int_equal(st.vms[2].cpus, 2);
	assert_int_equal(st.vms[0].n_snapshots, 1);
	assert_int_equal(st.vms[1].n_snapshots, 0);
	assert_string_equal(vl_vm_state_name(st.vms[2].state), "shut off");
	vl_lab_status_release(&st);

	/* A VM removed behind the engine's back is "not created" again. */
	OK(lab_destroy_domain(&l.ctx, l.plan.vms[1].domain, &e_));
	OK(vl_lab_status(&l.ctx, &st, &e_));
	assert_int_equal(st.vms[1].state, VL_VM_MISSING);
	assert_null(st.vms[1].ip);
	assert_int_equal(st.vms[0].state, VL_VM_RUNNING);
	vl_lab_status_release(&st);
	lab_free(&l);
}

/* ---- halt ---- */

static void test_halt_forced(void **state)
{
	struct world *w = *state;
	struct lab_fx l;
	char *only_db[] = { (char *)"db" };
	struct vl_lab_sel sel_db = { only_db, 1 };
	double t0, took;

	lab_new(&l, w, "main", ini_main);
	assert_int_equal(l.ctx.config.halt_timeout, 1);
	define_network(&l);
	define_vm(&l, "web-1", VM_RUNNING, false);
	define_vm(&l, "web-2", VM_RUNNING, true);    /* ignores ACPI shutdown */
	define_vm(&l, "db", VM_PAUSED, false);

	/* The stubborn guest really ignores a shutdown request. */
	OK(vl_virt_domain_shutdown(l.ctx.host->virt, l.plan.vms[1].domain, &e_));
	assert_int_equal(dom_state(&l, "web-2"), VL_DOM_RUNNING);

	t0 = vl_now_mono();
	OK(vl_lab_halt(&l.ctx, NULL, &e_));
	took = vl_now_mono() - t0;
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_SHUTOFF);
	assert_int_equal(dom_state(&l, "web-2"), VL_DOM_SHUTOFF);
	assert_int_equal(dom_state(&l, "db"), VL_DOM_SHUTOFF);   /* paused: resumed, then halted */
	/* Forced only after the [halt] timeout, and only the one that needed it. */
	assert_true(took >= 1.0);
	assert_true(took < 10.0);
	assert_true(events_have(&l, "WARN web-2: did not shut down within 1 s; forcing it off\n"));
	assert_false(events_have(&l, "WARN web-1:"));
	assert_false(events_have(&l, "WARN db:"));
	assert_true(events_have(&l, "INFO web-1: halted\n"));
	assert_true(events_have(&l, "INFO web-2: halted\n"));
	assert_true(events_have(&l, "INFO db: halted\n"));
	/* Disks, network and definitions stay. */
	assert_true(volume_exists(&l, l.plan.vms[1].volume));
	assert_true(network_exists(&l, l.plan.network));

	/* Halting a halted lab does nothing, at once. */
	events_clear(&l);
	t0 = vl_now_mono();
	OK(vl_lab_halt(&l.ctx, NULL, &e_));
	assert_true(vl_now_mono() - t0 < 1.0);
	assert_false(events_have(&l, "shutting down"));

	/* A selection halts only what it names. */
	for (size_t i = 0; i < l.plan.n_vms; i++)
		OK(vl_virt_domain_start(l.ctx.host->virt, l.plan.vms[i].domain, false, &e_));
	events_clear(&l);
	OK(vl_lab_halt(&l.ctx, &sel_db, &e_));
	assert_int_equal(dom_state(&l, "db"), VL_DOM_SHUTOFF);
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_RUNNING);
	assert_int_equal(dom_state(&l, "web-2"), VL_DOM_RUNNING);
	assert_false(events_have(&l, "web-"));
	lab_free(&l);
}

/* ---- destroy ---- */

static void test_destroy(void **state)
{
	struct world *w = *state;
	struct lab_fx l, other, old;
	char *only_web[] = { (char *)"web" };
	struct vl_lab_sel sel_web = { only_web, 1 };
	struct vl_virt_dom *doms = NULL;
	size_t n = 0;
	VL_AUTOFREE char *prefix = NULL;

	lab_new(&l, w, "main", ini_main);
	define_network(&l);
	define_vm(&l, "web-1", VM_RUNNING, false);
	define_vm(&l, "web-2", VM_PAUSED, true);
	define_vm(&l, "db", VM_SHUTOFF, false);
	OK(vl_virt_snapshot_create(l.ctx.host->virt, l.plan.vms[2].domain,
				   "<domainsnapshot><name>s1</name></domainsnapshot>", 0, &e_));
	/* A VM the profile no longer names (same project, older vmlab.ini). */
	lab_new(&old, w, "main", "[lab]\nname = etest\n[defaults]\nimage = debian-12\n"
		"memory = 128M\n[vm gone]\n");
	assert_string_equal(old.plan.lab_id, l.plan.lab_id);
	define_vm(&old, "gone", VM_RUNNING, false);
	/* Another lab on the same libvirt. */
	lab_new(&other, w, "other", ini_main);
	define_network(&other);
	define_vm(&other, "web-1", VM_RUNNING, false);

	/* A selection: only those VMs go; the network stays for db. */
	OK(vl_lab_destroy(&l.ctx, &sel_web, &e_));
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_MISSING);
	assert_int_equal(dom_state(&l, "web-2"), VL_DOM_MISSING);
	assert_false(volume_exists(&l, l.plan.vms[0].volume));
	assert_false(volume_exists(&l, l.plan.vms[1].seed_volume));
	assert_int_equal(dom_state(&l, "db"), VL_DOM_SHUTOFF);
	assert_true(volume_exists(&l, l.plan.vms[2].volume));
	assert_int_equal(dom_state(&old, "gone"), VL_DOM_RUNNING);
	assert_true(network_exists(&l, l.plan.network));
	assert_true(events_have(&l, "INFO web-1: destroyed\n"));
	assert_false(events_have(&l, "lab etest destroyed"));   /* db still there */

	/* The seed ISO an up killed mid-upload left (it holds a host key). */
	struct vl_buf seed_tmp = VL_BUF_INIT;
	vl_buf_printf(&seed_tmp, "%s/.vmlab/%s.tmp", l.dir, l.plan.vms[2].seed_volume);
	FILE *f = fopen(seed_tmp.s, "w");
	assert_non_null(f);
	fclose(f);

	/* The whole lab: its VMs (with snapshots), what the profile no longer
	 * names, every volume and the network. Nothing of the other lab. */
	OK(vl_lab_destroy(&l.ctx, NULL, &e_));
	assert_int_equal(access(seed_tmp.s, F_OK), -1);
	vl_buf_release(&seed_tmp);
	prefix = vl_strdup(l.plan.network);
	OK(vl_virt_domain_list(l.ctx.host->virt, prefix, &doms, &n, &e_));
	assert_int_equal(n, 0);
	vl_virt_dom_list_free(doms, n);
	assert_false(volume_exists(&l, l.plan.vms[2].volume));
	assert_false(volume_exists(&l, l.plan.vms[2].seed_volume));
	assert_false(volume_exists(&old, old.plan.vms[0].volume));
	assert_false(volume_exists(&old, old.plan.vms[0].seed_volume));
	assert_false(network_exists(&l, l.plan.network));
	assert_true(events_have(&l, "INFO -: lab etest destroyed\n"));
	assert_int_equal(dom_state(&other, "web-1"), VL_DOM_RUNNING);
	assert_true(volume_exists(&other, other.plan.vms[0].volume));
	assert_true(network_exists(&other, other.plan.network));
	assert_int_equal(dom_state(&other, "web-2"), VL_DOM_MISSING);

	/* Again: nothing left to do, and that is success. */
	OK(vl_lab_destroy(&l.ctx, NULL, &e_));
	lab_free(&other);
	lab_free(&old);
	lab_free(&l);
}

/* ---- snapshots ---- */

static void test_snapshot_undo_half_way(void **state)
{
	struct world *w = *state;
	struct lab_fx l;
	struct vl_err err = VL_ERR_INIT;
	struct vl_snap_info *snaps = NULL;
	size_t n = 0;

	lab_new(&l, w, "main", ini_main);
	define_network(&l);
	define_vm(&l, "web-1", VM_RUNNING, false);
	define_vm(&l, "web-2", VM_RUNNING, false);
	define_vm(&l, "db", VM_SHUTOFF, false);
	/* db already has a snapshot of that name (not a lab snapshot: db alone):
	 * its snapshot cannot be taken once web-1 and web-2 have theirs. */
	OK(vl_virt_snapshot_create(l.ctx.host->virt, l.plan.vms[2].domain,
				   "<domainsnapshot><name>s1</name><description>db's own"
				   "</description></domainsnapshot>", 0, &e_));

	assert_int_equal(vl_lab_snapshot_save(&l.ctx, "s1", NULL, &err), -1);
	assert_int_equal(err.code, VL_E_EXISTS);
	assert_string_equal(err.msg, "db: already has a snapshot 's1'");
	/* Undone: the others' snapshots are gone, db keeps its own, and the
	 * VMs paused for the snapshot run again. */
	assert_int_equal(snap_count(&l, "web-1", NULL), 0);
	assert_int_equal(snap_count(&l, "web-2", NULL), 0);
	assert_int_equal(snap_count(&l, "db", NULL), 1);
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_RUNNING);
	assert_int_equal(dom_state(&l, "web-2"), VL_DOM_RUNNING);
	assert_int_equal(dom_state(&l, "db"), VL_DOM_SHUTOFF);
	assert_false(events_have(&l, "saved"));
	OK(vl_lab_snapshot_list(&l.ctx, &snaps, &n, &e_));
	assert_int_equal(n, 1);
	assert_string_equal(snaps[0].name, "s1");
	assert_int_equal(snaps[0].n_vms, 1);       /* db's own, not a lab snapshot */
	vl_snap_info_free(snaps, n);

	/* Another name goes through on every VM, memory for the running ones. */
	OK(vl_lab_snapshot_save(&l.ctx, "s2", NULL, &e_));
	assert_int_equal(snap_count(&l, "web-1", "s2"), 1);
	assert_int_equal(snap_count(&l, "web-2", "s2"), 1);
	assert_int_equal(snap_count(&l, "db", "s2"), 1);
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_RUNNING);
	assert_true(events_have(&l, "INFO -: snapshot 's2' saved\n"));
	OK(vl_lab_snapshot_list(&l.ctx, &snaps, &n, &e_));
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (vl_streq(snaps[i].name, "s2")) {
			assert_int_equal(snaps[i].n_vms, 3);
			assert_true(snaps[i].with_memory);
		}
	}
	vl_snap_info_free(snaps, n);
	/* the snapshot recorded each VM: db, shut off then and now, unchanged;
	 * started since, changed (the test driver has no disk counters, so the
	 * running ones cannot tell: unknown, never a wrong "no") */
	{
		struct vl_lab_status st;
		OK(vl_lab_status(&l.ctx, &st, &e_));
		assert_int_equal(st.vms[2].changed, VL_CHANGED_NO);
		assert_int_equal(st.vms[0].changed, VL_CHANGED_UNKNOWN);
		vl_lab_status_release(&st);
		OK(vl_virt_domain_start(l.ctx.host->virt, l.plan.vms[2].domain, false, &e_));
		OK(vl_lab_status(&l.ctx, &st, &e_));
		assert_int_equal(st.vms[2].changed, VL_CHANGED_YES);
		vl_lab_status_release(&st);
		OK(vl_virt_domain_destroy(l.ctx.host->virt, l.plan.vms[2].domain, &e_));
	}
	assert_false(events_have(&l, "unknown:"));

	/* A VM that cannot hold internal snapshots at all (a raw disk) is
	 * refused before anything is paused or taken. */
	{
		const struct vl_plan_vm *db = &l.plan.vms[2];
		VL_AUTOFREE char *xml = NULL;
		char *raw;
		OK(vl_virt_domain_get_xml(l.ctx.host->virt, db->domain, true, &xml, &e_));
		raw = replace(vl_strdup(xml), "type='qcow2'", "type='raw'");
		OK(vl_virt_domain_define(l.ctx.host->virt, raw, NULL, &e_));
		free(raw);
	}
	vl_err_clear(&err);
	assert_int_equal(vl_lab_snapshot_save(&l.ctx, "s3", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "not qcow2"));
	assert_int_equal(snap_count(&l, "web-1", "s3"), 0);
	assert_int_equal(snap_count(&l, "web-2", "s3"), 0);
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_RUNNING);
	lab_free(&l);
}

/* ---- gc ---- */

static const char ini_box[] =
	"[lab]\nname = %s\n[defaults]\nimage = debian-12\nmemory = 128M\n[vm box]\n";

static void lab_box(struct lab_fx *l, struct world *w, const char *name)
{
	struct vl_buf ini = VL_BUF_INIT;

	vl_buf_printf(&ini, ini_box, name);
	lab_new(l, w, name, ini.s);
	vl_buf_release(&ini);
}

static bool gc_has(const struct vl_gc_item *items, size_t n, enum vl_gc_kind k, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (items[i].kind == k && vl_streq(items[i].name, name))
			return true;
	return false;
}

static void unlink_ini(struct lab_fx *l)
{
	struct vl_buf p = VL_BUF_INIT;

	vl_buf_printf(&p, "%s/vmlab.ini", l->dir);
	assert_int_equal(unlink(p.s), 0);
	vl_buf_release(&p);
}

static void test_gc(void **state)
{
	struct world *w = *state;
	struct lab_fx live, gone, theirs, busy;
	struct vl_gc_item *items = NULL;
	struct vl_lab_status st;
	struct lab held;
	size_t n = 0, skipped = 99;
	VL_AUTOFREE char *stray = NULL;

	/* live: its project is there; a crash left a volume without domain */
	lab_box(&live, w, "live");
	define_network(&live);
	define_vm(&live, "box", VM_RUNNING, false);
	stray = vl_strdup(live.plan.vms[0].domain);
	stray = replace(stray, "-box", "-crashed");
	{
		struct vl_buf x = VL_BUF_INIT;
		vl_buf_printf(&x, "<volume><name>%s.qcow2</name><capacity unit='MiB'>1</capacity>"
			      "<target><format type='qcow2'/></target></volume>", stray);
		OK(vl_virt_volume_create_xml(w->host->virt, live.ctx.config.pool_name, x.s, NULL, &e_));
		vl_buf_release(&x);
	}
	/* gone: its project directory was deleted */
	lab_box(&gone, w, "gone");
	define_network(&gone);
	define_vm(&gone, "box", VM_RUNNING, false);
	/* theirs: made by another machine on this libvirt, project gone here */
	lab_box(&theirs, w, "theirs");
	free(theirs.plan.owner_machine);
	theirs.plan.owner_machine = vl_strdup("etest-another-machine");
	define_network(&theirs);
	define_vm(&theirs, "box", VM_RUNNING, false);
	/* busy: vmlab.ini removed while a vmlab command holds the lab's lock,
	 * an up half-way: network and box's volumes made, its domain not yet */
	lab_box(&busy, w, "busy");
	define_network(&busy);
	define_volumes(&busy, "box");

	VL_AUTOFREE char *gone_dir = vl_strdup(gone.dir);
	vl_test_rmdir(vl_strdup(gone.dir));
	vl_test_rmdir(vl_strdup(theirs.dir));
	OK(lab_open(&held, &busy.ctx, LAB_LOCK, NULL, &e_));
	unlink_ini(&busy);

	/* Dry run: what would go, and nothing goes. */
	OK(vl_lab_gc(&live.ctx, true, &items, &n, &skipped, &e_));
	assert_int_equal(n, 3);
	assert_true(gc_has(items, n, VL_GC_DOMAIN, gone.plan.vms[0].domain));
	assert_true(gc_has(items, n, VL_GC_NETWORK, gone.plan.network));
	{
		VL_AUTOFREE char *vol = NULL;
		struct vl_buf b = VL_BUF_INIT;
		vl_buf_printf(&b, "%s.qcow2", stray);
		vol = vl_buf_steal(&b);
		assert_true(gc_has(items, n, VL_GC_VOLUME, vol));
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].kind == VL_GC_DOMAIN)
			assert_non_null(strstr(items[i].reason, gone_dir));
	/* theirs: domain, network and its two volumes */
	assert_int_equal(skipped, 4);
	vl_gc_items_free(items, n);
	assert_int_equal(dom_state(&gone, "box"), VL_DOM_RUNNING);

	OK(vl_lab_gc(&live.ctx, false, &items, &n, &skipped, &e_));
	assert_int_equal(n, 3);
	vl_gc_items_free(items, n);
	assert_int_equal(dom_state(&gone, "box"), VL_DOM_MISSING);
	assert_false(volume_exists(&gone, gone.plan.vms[0].volume));
	assert_false(volume_exists(&gone, gone.plan.vms[0].seed_volume));
	assert_false(network_exists(&gone, gone.plan.network));
	assert_true(events_have(&live, "removed network"));
	/* the live lab, the other owner's and the busy one are untouched */
	OK(vl_lab_status(&live.ctx, &st, &e_));
	assert_int_equal(st.vms[0].state, VL_VM_RUNNING);
	assert_true(st.network_active);
	vl_lab_status_release(&st);
	assert_int_equal(dom_state(&theirs, "box"), VL_DOM_RUNNING);
	assert_true(network_exists(&theirs, theirs.plan.network));
	assert_true(volume_exists(&theirs, theirs.plan.vms[0].volume));
	assert_true(network_exists(&busy, busy.plan.network));
	assert_true(volume_exists(&busy, busy.plan.vms[0].volume));
	assert_true(volume_exists(&busy, busy.plan.vms[0].seed_volume));

	/* The command on busy ends: now it is an orphan like any other. */
	lab_close(&held);
	OK(vl_lab_gc(&live.ctx, false, &items, &n, &skipped, &e_));
	assert_int_equal(n, 3);
	assert_true(gc_has(items, n, VL_GC_NETWORK, busy.plan.network));
	assert_true(gc_has(items, n, VL_GC_VOLUME, busy.plan.vms[0].volume));
	assert_true(gc_has(items, n, VL_GC_VOLUME, busy.plan.vms[0].seed_volume));
	vl_gc_items_free(items, n);
	assert_false(network_exists(&busy, busy.plan.network));
	assert_false(volume_exists(&busy, busy.plan.vms[0].volume));

	/* Collected: nothing more to find. */
	OK(vl_lab_gc(&live.ctx, true, &items, &n, NULL, &e_));
	assert_int_equal(n, 0);
	vl_gc_items_free(items, n);
	lab_free(&busy);
	lab_free(&theirs);
	lab_free(&gone);
	lab_free(&live);
}

/* ---- lock contention ---- */

static void test_lock_contention(void **state)
{
	struct world *w = *state;
	struct lab_fx l;
	struct lab first, second;
	struct vl_err err = VL_ERR_INIT;
	struct vl_lab_status st;
	double t0;

	lab_new(&l, w, "main", ini_main);
	define_network(&l);
	define_vm(&l, "web-1", VM_RUNNING, false);

	/* Two opens of one lab with the lock: the second fails at once. */
	OK(lab_open(&first, &l.ctx, LAB_LOCK, NULL, &e_));
	t0 = vl_now_mono();
	assert_int_equal(lab_open(&second, &l.ctx, LAB_LOCK, NULL, &err), -1);
	assert_true(vl_now_mono() - t0 < 1.0);
	assert_int_equal(err.code, VL_E_LOCKED);
	{
		char pid[32];
		snprintf(pid, sizeof(pid), "(pid %ld)", (long)getpid());
		assert_non_null(strstr(err.msg, pid));   /* names the holder */
	}

	/* Every command that changes the lab is refused the same way, quickly,
	 * and changes nothing. */
	vl_err_clear(&err);
	t0 = vl_now_mono();
	assert_int_equal(vl_lab_halt(&l.ctx, NULL, &err), -1);
	assert_int_equal(err.code, VL_E_LOCKED);
	vl_err_clear(&err);
	assert_int_equal(vl_lab_destroy(&l.ctx, NULL, &err), -1);
	assert_int_equal(err.code, VL_E_LOCKED);
	vl_err_clear(&err);
	assert_int_equal(vl_lab_snapshot_save(&l.ctx, "s1", NULL, &err), -1);
	assert_int_equal(err.code, VL_E_LOCKED);
	vl_err_clear(&err);
	assert_int_equal(vl_lab_snapshot_restore(&l.ctx, NULL, &err), -1);
	assert_int_equal(err.code, VL_E_LOCKED);
	assert_true(vl_now_mono() - t0 < 1.0);
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_RUNNING);
	assert_int_equal(snap_count(&l, "web-1", NULL), 0);
	/* Reading needs no lock. */
	OK(vl_lab_status(&l.ctx, &st, &e_));
	assert_int_equal(st.vms[0].state, VL_VM_RUNNING);
	vl_lab_status_release(&st);

	/* Released: the next one gets it. */
	lab_close(&first);
	OK(lab_open(&second, &l.ctx, LAB_LOCK, NULL, &e_));
	lab_close(&second);
	OK(vl_lab_halt(&l.ctx, NULL, &e_));
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_SHUTOFF);
	lab_free(&l);
}

/* Cancel during a wait: a halt waiting out a guest that ignores ACPI stops
 * within a poll interval of the flag being set from another thread, with
 * VL_E_CANCELLED, and the next halt converges. */
static atomic_bool cancel_flag;

static void *cancel_soon(void *arg)
{
	(void)arg;
	struct timespec ts = { 0, 500 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	atomic_store(&cancel_flag, true);
	return NULL;
}

static void test_cancel_during_wait(void **state)
{
	struct world *w = *state;
	struct lab_fx l;
	struct vl_err err = VL_ERR_INIT;
	pthread_t th;
	double t0, took;

	lab_new(&l, w, "main", ini_main);
	define_network(&l);
	define_vm(&l, "web-1", VM_RUNNING, true);   /* ignores ACPI shutdown */
	l.ctx.config.halt_timeout = 60;
	atomic_store(&cancel_flag, false);
	l.ctx.events.cancel = &cancel_flag;
	/* the connection reports through the same events (the CLI's case) */
	pthread_create(&th, NULL, cancel_soon, NULL);
	t0 = vl_now_mono();
	assert_int_equal(vl_lab_halt(&l.ctx, NULL, &err), -1);
	took = vl_now_mono() - t0;
	pthread_join(th, NULL);
	assert_int_equal(err.code, VL_E_CANCELLED);
	assert_true(took < 5.0);   /* not the 60 s of the halt timeout */
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_RUNNING);
	/* not cancelled any more: the next halt converges (forced after 1 s) */
	atomic_store(&cancel_flag, false);
	l.ctx.config.halt_timeout = 1;
	OK(vl_lab_halt(&l.ctx, NULL, &e_));
	assert_int_equal(dom_state(&l, "web-1"), VL_DOM_SHUTOFF);
	/* every event named the lab it was about */
	assert_true(events_all_have_lab(&l));
	lab_free(&l);
}

/* ---- every lab on the connection ---- */

static const struct vl_lab_summary *summary_of(const struct vl_lab_summary *labs, size_t n,
					       const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (vl_streq(labs[i].id, id))
			return &labs[i];
	fail_msg("lab %s not listed", id);
	return NULL;
}

static void test_list_all(void **state)
{
	struct world *w = *state;
	struct lab_fx main_l, theirs, bare, many;
	/* what the TUI has: a connection, no config, no profile, no project */
	struct vl_ctx ctx = { .host = w->host };
	struct vl_lab_summary *labs = NULL;
	const struct vl_lab_summary *s;
	VL_AUTOFREE char *machine = NULL, *user = NULL;
	size_t n = 99;

	/* The driver's own domain "test" and network "default" are not labs. */
	OK(vl_lab_list_all(&ctx, &labs, &n, &e_));
	assert_int_equal(n, 0);
	vl_lab_summaries_free(labs, n);

	lab_new(&main_l, w, "main", ini_main);
	define_network(&main_l);
	define_vm(&main_l, "web-1", VM_RUNNING, false);
	define_vm(&main_l, "web-2", VM_PAUSED, false);
	define_vm(&main_l, "db", VM_SHUTOFF, false);
	/* another machine's lab on the same libvirt */
	lab_box(&theirs, w, "theirs");
	free(theirs.plan.owner_machine);
	theirs.plan.owner_machine = vl_strdup("etest-another-machine");
	define_network(&theirs);
	define_vm(&theirs, "box", VM_SHUTOFF, false);
	/* a lab whose VMs are gone: only its network (stopped) is left */
	lab_box(&bare, w, "bare");
	define_network(&bare);
	{
		struct vl_err e = VL_ERR_INIT;
		struct vl_virt_net *nets = NULL;
		size_t nn = 0;
		/* stop it without undefining it: define again inactive */
		OK(vl_virt_network_destroy_undefine(w->host->virt, bare.plan.network, &e_));
		VL_AUTOFREE char *xml = vl_render_network(&bare.plan, NULL, &e);
		assert_non_null(xml);
		OK(vl_virt_network_define_start(w->host->virt, NULL, xml, &e_));
		OK(vl_virt_network_list(w->host->virt, bare.plan.network, &nets, &nn, &e_));
		assert_int_equal(nn, 1);
		vl_virt_net_list_free(nets, nn);
	}
	/* VMs sort by name as people count: vm2 before vm10 */
	lab_new(&many, w, "many", "[lab]\nname = many\n[defaults]\nimage = debian-12\n"
		"memory = 256M\n[vm vm]\ncount = 10\n");
	define_network(&many);
	define_vm(&many, "vm-10", VM_SHUTOFF, false);
	define_vm(&many, "vm-2", VM_RUNNING, false);
	/* named like ours, but no vmlab metadata: not a lab */
	OK(vl_virt_domain_define(w->host->virt, "<domain type='test'><name>vmlab-stranger-x</name>"
				 "<memory unit='KiB'>65536</memory><os><type>hvm</type></os>"
				 "</domain>", NULL, &e_));

	OK(vl_lab_list_all(&ctx, &labs, &n, &e_));
	assert_int_equal(n, 4);
	/* by name: bare, etest, many, theirs */
	assert_string_equal(labs[0].name, "bare");
	assert_string_equal(labs[1].name, "etest");
	assert_string_equal(labs[2].name, "many");
	assert_string_equal(labs[3].name, "theirs");

	s = summary_of(labs, n, main_l.plan.lab_id);
	assert_string_equal(s->project, main_l.dir);
	assert_true(s->mine);
	vl_owner_self(&machine, &user);
	assert_string_equal(s->owner_machine, machine);
	assert_string_equal(s->owner_user, user);
	assert_string_equal(s->network, main_l.plan.network);
	assert_string_equal(s->subnet, main_l.plan.subnet_str);
	assert_true(s->network_exists);
	assert_true(s->network_active);
	assert_int_equal(s->n_vms, 3);
	/* by name, not the profile's order: libvirt does not know it */
	assert_string_equal(s->vms[0].name, "db");
	assert_string_equal(s->vms[1].name, "web-1");
	assert_string_equal(s->vms[2].name, "web-2");
	assert_int_equal(s->vms[0].state, VL_VM_SHUTOFF);
	assert_int_equal(s->vms[1].state, VL_VM_RUNNING);
	assert_int_equal(s->vms[2].state, VL_VM_PAUSED);
	assert_int_equal(s->vms[0].cpus, 2);
	assert_int_equal(s->vms[1].cpus, 1);
	for (size_t i = 0; i < s->n_vms; i++) {
		const struct vl_plan_vm *vm = vl_plan_find_vm(&main_l.plan, s->vms[i].name);
		assert_non_null(vm);
		assert_string_equal(s->vms[i].domain, vm->domain);
		assert_string_equal(s->vms[i].ip, vm->ip_str);
		assert_string_equal(s->vms[i].mac, vm->mac);
		assert_int_equal(s->vms[i].memory, 128u << 20);
	}

	s = summary_of(labs, n, theirs.plan.lab_id);
	assert_false(s->mine);
	assert_string_equal(s->owner_machine, "etest-another-machine");
	assert_int_equal(s->n_vms, 1);
	assert_string_equal(s->vms[0].name, "box");

	s = summary_of(labs, n, bare.plan.lab_id);
	assert_int_equal(s->n_vms, 0);
	assert_true(s->network_exists);
	assert_string_equal(s->subnet, bare.plan.subnet_str);
	assert_string_equal(s->project, bare.dir);

	s = summary_of(labs, n, many.plan.lab_id);
	assert_int_equal(s->n_vms, 2);
	assert_string_equal(s->vms[0].name, "vm-2");
	assert_string_equal(s->vms[1].name, "vm-10");
	assert_int_equal(s->vms[1].memory, 256u << 20);
	vl_lab_summaries_free(labs, n);

	/* A lab whose network is gone still lists its VMs; its network is named,
	 * not there. */
	OK(vl_virt_network_destroy_undefine(w->host->virt, theirs.plan.network, &e_));
	OK(vl_lab_list_all(&ctx, &labs, &n, &e_));
	assert_int_equal(n, 4);
	s = summary_of(labs, n, theirs.plan.lab_id);
	assert_false(s->network_exists);
	assert_false(s->network_active);
	assert_null(s->subnet);
	assert_string_equal(s->network, theirs.plan.network);
	assert_string_equal(s->name, "theirs");
	vl_lab_summaries_free(labs, n);

	lab_free(&many);
	lab_free(&bare);
	lab_free(&theirs);
	lab_free(&main_l);
}

/* One profile, several lab instances (class seats): each has its own id,
 * state dir (keys, lock), network and object names, derived in one place;
 * they can be locked at once and see only their own objects. */
static void instance_of(struct lab_fx *l, const char *instance)
{
	vl_plan_release(&l->plan);
	free(l->ctx.profile.instance);
	l->ctx.profile.instance = instance ? vl_strdup(instance) : NULL;
	OK(vl_lab_plan(&l->ctx, &l->plan, &e_));
}

static void test_instances(void **state)
{
	struct world *w = *state;
	struct lab_fx a, b, own;
	struct lab la, lb;
	struct vl_lab_status st;
	struct vl_err err = VL_ERR_INIT;

	lab_new(&own, w, "class", ini_main);
	lab_new(&a, w, "class", ini_main);
	lab_new(&b, w, "class", ini_main);
	instance_of(&a, "seat-1");
	instance_of(&b, "seat-2");
	/* identities: the project's own lab keeps its id; seats differ from it and each other */
	assert_string_not_equal(a.plan.lab_id, b.plan.lab_id);
	assert_string_not_equal(a.plan.lab_id, own.plan.lab_id);
	assert_true(vl_str_startswith(a.plan.lab_id, "etest-seat-1-"));
	assert_string_not_equal(a.plan.network, b.plan.network);
	assert_string_not_equal(a.plan.bridge, b.plan.bridge);
	assert_string_not_equal(a.plan.vms[0].domain, b.plan.vms[0].domain);
	assert_string_not_equal(a.plan.vms[0].mac, b.plan.vms[0].mac);
	/* both locked at once, keys apart */
	OK(lab_open(&la, &a.ctx, LAB_LOCK | LAB_KEYS, NULL, &e_));
	OK(lab_open(&lb, &b.ctx, LAB_LOCK | LAB_KEYS, NULL, &e_));
	assert_string_not_equal(la.keys.user_key, lb.keys.user_key);
	assert_non_null(strstr(la.keys.user_key, "/.vmlab/instances/seat-1/"));
	assert_int_equal(access(la.keys.user_key, R_OK), 0);
	/* a second open of the same seat is refused; the other seat is not affected */
	struct lab again;
	assert_int_equal(lab_open(&again, &a.ctx, LAB_LOCK, NULL, &err), -1);
	assert_int_equal(err.code, VL_E_LOCKED);
	lab_close(&la);
	lab_close(&lb);
	/* each seat sees only its own objects; the metadata names the instance */
	define_network(&a);
	define_vm(&a, "web-1", VM_RUNNING, false);
	OK(vl_lab_status(&a.ctx, &st, &e_));
	assert_true(st.network_active);
	assert_int_equal(st.vms[0].state, VL_VM_RUNNING);
	vl_lab_status_release(&st);
	OK(vl_lab_status(&b.ctx, &st, &e_));
	assert_false(st.network_active);
	assert_int_equal(st.vms[0].state, VL_VM_MISSING);
	vl_lab_status_release(&st);
	/* a bad instance name is refused before anything is made */
	free(b.ctx.profile.instance);
	b.ctx.profile.instance = vl_strdup("Seat 1");
	assert_int_equal(lab_open(&lb, &b.ctx, LAB_LOCK, NULL, &err), -1);
	assert_int_equal(err.code, VL_E_USAGE);
	OK(vl_lab_destroy(&a.ctx, NULL, &e_));
	lab_free(&a);
	lab_free(&b);
	lab_free(&own);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_halt_forced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_undo_half_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_contention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_during_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instances, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_all, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
