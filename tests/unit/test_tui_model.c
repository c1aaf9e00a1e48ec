/* Unit tests for the TUI's pure parts: the model (grouping, natural sort,
 * filter parsing, marks, a selection that survives re-sorting and removals,
 * watch changes), the key table (conflicts rejected, readonly, footer) and
 * the phases read from engine events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ui/jobs.h"
#include "ui/keys.h"
#include "ui/model.h"
#include "util/mem.h"
#include "util/str.h"

#define A(...) (const char *[]){ __VA_ARGS__ }

/* A lab summary as vl_lab_list_all would give it (vms in the order given). */
static struct vl_lab_summary lab(const char *name, const char *id, const char *project,
				 const char **vms, size_t n, enum vl_vm_state st)
{
	struct vl_lab_summary s = { 0 };

	s.name = (char *)name;
	s.id = (char *)id;
	s.project = (char *)project;
	s.mine = true;
	s.vms = calloc(n ? n : 1, sizeof(*s.vms));
	s.n_vms = n;
	for (size_t i = 0; i < n; i++) {
		s.vms[i].name = (char *)vms[i];
		s.vms[i].state = st;
		s.vms[i].cpus = 1;
		s.vms[i].memory = 256ull << 20;
	}
	return s;
}

static void load(struct ui_model *m, struct vl_lab_summary *labs, size_t n)
{
	ui_model_load(m, labs, n, 1000);
	for (size_t i = 0; i < n; i++)
		free(labs[i].vms);
}

/* Three labs, "shop" in the current directory. */
static void three_labs(struct ui_model *m)
{
	struct vl_lab_summary labs[] = {
		lab("zeta", "zeta-1", "/p/zeta", A("a"), 1, VL_VM_SHUTOFF),
		lab("alpha", "alpha-1", "/p/alpha", A("x", "y"), 2, VL_VM_RUNNING),
		lab("shop", "shop-1", "/p/shop", A("web-10", "db", "web-2"), 3, VL_VM_RUNNING),
	};
	ui_model_init(m, "/p/shop");
	load(m, labs, 3);
}

static const char *row_name(const struct ui_model *m, size_t i)
{
	const struct ui_row *r = &m->rows[i];
	return r->kind != UI_ROW_VM ? m->labs[r->lab].name : m->labs[r->lab].vms[r->vm].name;
}

static const char *sel_name(const struct ui_model *m)
{
	return row_name(m, m->sel);
}

static void test_natcmp(void **state)
{
	(void)state;
	assert_true(ui_natcmp("web-2", "web-10") < 0);
	assert_true(ui_natcmp("web-10", "web-2") > 0);
	assert_true(ui_natcmp("web", "web-1") < 0);
	assert_int_equal(ui_natcmp("a-02", "a-2"), 0);
	assert_true(ui_natcmp("db", "web-1") < 0);
	assert_true(ui_natcmp("seat-9", "seat-11") < 0);
}

/* Here first and expanded, the others by name and collapsed; VMs sorted. */
static void test_grouping(void **state)
{
	struct ui_model m;
	(void)state;

	three_labs(&m);
	assert_string_equal(m.labs[0].name, "shop");
	assert_true(m.labs[0].here);
	assert_true(m.labs[0].expanded);
	assert_string_equal(m.labs[1].name, "alpha");
	assert_false(m.labs[1].expanded);
	assert_string_equal(m.labs[2].name, "zeta");
	assert_int_equal(m.n_rows, 6);   /* shop, db, web-2, web-10, alpha, zeta */
	assert_string_equal(row_name(&m, 1), "db");
	assert_string_equal(row_name(&m, 2), "web-2");
	assert_string_equal(row_name(&m, 3), "web-10");
	assert_string_equal(row_name(&m, 4), "alpha");
	assert_int_equal(ui_lab_n_up(&m.labs[0]), 3);
	assert_int_equal(ui_model_n_running(&m), 5);
	ui_model_release(&m);
}

static void test_filter_parse(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct ui_filter f;
	(void)state;

	assert_int_equal(ui_filter_parse(&f, "web state:running lab:shop", &err), 0);
	assert_string_equal(f.text, "web");
	assert_int_equal(f.state, VL_VM_RUNNING);
	assert_string_equal(f.lab, "shop");
	ui_filter_release(&f);
	assert_int_equal(ui_filter_parse(&f, "  state:up ", &err), 0);
	assert_null(f.text);
	assert_true(f.state_up);
	ui_filter_release(&f);
	assert_int_equal(ui_filter_parse(&f, "", &err), 0);
	assert_null(f.text);
	assert_int_equal(f.state, -1);
	ui_filter_release(&f);
	assert_int_equal(ui_filter_parse(&f, "state:sleeping", &err), -1);
	assert_non_null(strstr(err.msg, "unknown state 'sleeping'"));
	assert_int_equal(ui_filter_parse(&f, "color:red", &err), -1);
	assert_non_null(strstr(err.msg, "unknown key 'color:'"));
	assert_int_equal(ui_filter_parse(&f, "lab:", &err), -1);
}

static void test_filter_rows(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct ui_model m;
	(void)state;

	three_labs(&m);
	/* a filter looks inside collapsed labs too */
	ui_model_move(&m, 2);
	assert_string_equal(sel_name(&m), "web-2");
	/* nothing matches: the selection is kept for when rows come back */
	assert_int_equal(ui_model_set_filter(&m, "nomatch", &err), 0);
	assert_int_equal(m.n_rows, 0);
	assert_int_equal(ui_model_set_filter(&m, NULL, &err), 0);
	assert_string_equal(sel_name(&m), "web-2");
	assert_int_equal(ui_model_set_filter(&m, "x", &err), 0);
	assert_int_equal(m.n_rows, 2);
	assert_string_equal(row_name(&m, 0), "alpha");
	assert_string_equal(row_name(&m, 1), "x");
	assert_int_equal(ui_model_set_filter(&m, "state:shutoff", &err), 0);
	assert_int_equal(m.n_rows, 2);
	assert_string_equal(row_name(&m, 1), "a");
	assert_int_equal(ui_model_set_filter(&m, "lab:shop web", &err), 0);
	assert_int_equal(m.n_rows, 3);
	assert_int_equal(ui_model_set_filter(&m, "lab:shop state:shutoff", &err), 0);
	assert_int_equal(m.n_rows, 0);
	assert_null(ui_model_selected(&m));
	/* a bad filter keeps the old one */
	assert_int_equal(ui_model_set_filter(&m, "state:nope", &err), -1);
	assert_string_equal(m.filter_src, "lab:shop state:shutoff");
	assert_int_equal(ui_model_set_filter(&m, NULL, &err), 0);
	assert_int_equal(m.n_rows, 6);
	ui_model_release(&m);
}

static void test_marks_targets(void **state)
{
	struct ui_target *t = NULL;
	struct ui_model m;
	size_t n;
	(void)state;

	three_labs(&m);
	/* no marks: the selected VM, or the whole selected lab */
	ui_model_move(&m, 2);
	assert_string_equal(sel_name(&m), "web-2");
	n = ui_model_targets(&m, &t);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].n_vms, 1);
	assert_string_equal(t[0].vms[0], "web-2");
	ui_targets_free(t, n);
	ui_model_move(&m, -5);
	n = ui_model_targets(&m, &t);
	assert_int_equal(t[0].n_vms, 0);
	ui_targets_free(t, n);
	/* a lab row marks all its VMs, again unmarks them */
	ui_model_toggle_mark(&m);
	assert_int_equal(ui_model_n_marked(&m), 3);
	ui_model_toggle_mark(&m);
	assert_int_equal(ui_model_n_marked(&m), 0);
	/* marks in two labs: one target per lab */
	ui_model_move(&m, 1);
	ui_model_toggle_mark(&m);            /* db */
	ui_model_expand(&m, true);
	m.labs[1].expanded = true;
	ui_model_rows(&m);
	for (size_t i = 0; i < m.n_rows; i++)
		if (!strcmp(row_name(&m, i), "y"))
			m.sel = i;
	ui_model_toggle_mark(&m);
	n = ui_model_targets(&m, &t);
	assert_int_equal(n, 2);
	assert_string_equal(m.labs[t[0].lab].name, "shop");
	assert_string_equal(t[0].vms[0], "db");
	assert_string_equal(m.labs[t[1].lab].name, "alpha");
	assert_string_equal(t[1].vms[0], "y");
	ui_targets_free(t, n);
	ui_model_release(&m);
}

/* The selection stays on its VM when labs re-sort, and falls back to its
 * lab when the VM goes. */
static void test_selection_survives(void **state)
{
	struct vl_watch_change c = { 0 };
	struct ui_model m;
	bool need = false;
	(void)state;

	three_labs(&m);
	ui_model_move(&m, 3);
	assert_string_equal(sel_name(&m), "web-10");
	/* a new lab "aaa" sorts before alpha; web-1 sorts before web-10 */
	c.kind = VL_WATCH_VM_STATE;
	c.lab = "aaa-1";
	c.vm = "n";
	c.state = VL_VM_RUNNING;
	assert_true(ui_model_apply(&m, &c, 2000, &need));
	assert_true(need);
	c.lab = "shop-1";
	c.vm = "web-1";
	assert_true(ui_model_apply(&m, &c, 2000, &need));
	assert_string_equal(sel_name(&m), "web-10");
	assert_string_equal(row_name(&m, 3), "web-2");
	/* web-10 undefined: the selection goes to its lab row */
	c.vm = "web-10";
	c.state = VL_VM_MISSING;
	assert_true(ui_model_apply(&m, &c, 2500, &need));
	assert_string_equal(sel_name(&m), "shop");
	/* the whole lab vanishes: the row now at its place */
	c.kind = VL_WATCH_LAB_VANISHED;
	assert_true(ui_model_apply(&m, &c, 2600, &need));
	assert_non_null(ui_model_selected(&m));
	assert_null(ui_model_find_lab(&m, "shop-1"));
	ui_model_release(&m);
}

static void test_changes(void **state)
{
	struct vl_watch_change c = { 0 };
	struct ui_model m;
	struct ui_vm *vm;
	bool need = false;
	(void)state;

	three_labs(&m);
	vm = ui_lab_find_vm(ui_model_find_lab(&m, "zeta-1"), "a");
	c.kind = VL_WATCH_VM_STATE;
	c.lab = "zeta-1";
	c.vm = "a";
	c.state = VL_VM_RUNNING;
	assert_true(ui_model_apply(&m, &c, 5000, &need));
	assert_int_equal(vm->state, VL_VM_RUNNING);
	assert_int_equal(vm->up_since_ms, 5000);
	assert_true(ui_vm_recent(vm, 5000 + UI_HIGHLIGHT_MS - 1));
	assert_false(ui_vm_recent(vm, 5000 + UI_HIGHLIGHT_MS));
	/* the same state again is no change */
	assert_false(ui_model_apply(&m, &c, 5100, &need));
	c.kind = VL_WATCH_STATS;
	c.cpu_percent = 12.5;
	c.mem_used = 100 << 20;
	assert_true(ui_model_apply(&m, &c, 6000, &need));
	assert_true(vm->cpu == 12.5);
	assert_false(ui_model_apply(&m, &c, 7500, &need));
	c.kind = VL_WATCH_LOST;
	c.lab = NULL;
	c.reason = "keepalive timeout";
	assert_true(ui_model_apply(&m, &c, 8000, &need));
	assert_false(m.connected);
	assert_string_equal(m.lost_reason, "keepalive timeout");
	c.kind = VL_WATCH_RECONNECTED;
	assert_true(ui_model_apply(&m, &c, 9000, &need));
	assert_true(m.connected);
	/* a listing keeps marks, expansion and CPU of VMs still there */
	vm->marked = true;
	{
		struct vl_lab_summary labs[] = {
			lab("zeta", "zeta-1", "/p/zeta", A("a"), 1, VL_VM_RUNNING),
		};
		load(&m, labs, 1);
	}
	vm = ui_lab_find_vm(ui_model_find_lab(&m, "zeta-1"), "a");
	assert_true(vm->marked);
	assert_true(vm->cpu == 12.5);
	assert_int_equal(vm->up_since_ms, 5000);
	assert_int_equal(m.n_labs, 1);
	ui_model_release(&m);
}

/* The current directory's lab before up made it: first, expanded, its VMs
 * not created; a listing fills in what exists; destroyed, it stays. */
/* Changed since the newest snapshot: from the listing, then live from the
 * stats samples (a disk write turns it on) and state changes (a halt). */
static void test_snapshot_changed(void **state)
{
	struct ui_model m;
	struct vl_lab_summary l = lab("shop", "shop-1", "/p/shop", A("a", "b"), 2, VL_VM_RUNNING);
	struct vl_watch_change c = { .kind = VL_WATCH_STATS, .lab = "shop-1", .vm = "a",
				     .state = VL_VM_RUNNING, .cpu_percent = -1 };
	bool need = false;
	(void)state;

	l.vms[0].mark = (struct vl_snapmark){ true, 4, 100 };
	l.vms[0].now = (struct vl_snapmark_now){ 4, true, 100 };
	l.vms[0].changed = VL_CHANGED_NO;
	l.vms[1].now = (struct vl_snapmark_now){ 5, true, 7 };   /* no record: unknown */
	ui_model_init(&m, "/p/shop");
	load(&m, &l, 1);
	struct ui_lab *lb = ui_model_find_lab(&m, "shop-1");
	assert_int_equal(ui_lab_find_vm(lb, "a")->dirty, VL_CHANGED_NO);
	assert_int_equal(ui_lab_find_vm(lb, "b")->dirty, VL_CHANGED_UNKNOWN);
	/* the same counters: nothing to redraw; one more write: changed */
	c.now = (struct vl_snapmark_now){ 4, true, 100 };
	assert_false(ui_model_apply(&m, &c, 2000, &need));
	c.now.wr = 101;
	assert_true(ui_model_apply(&m, &c, 2000, &need));
	assert_int_equal(ui_lab_find_vm(lb, "a")->dirty, VL_CHANGED_YES);
	/* b has no record: samples never make it known */
	c.vm = "b";
	c.now = (struct vl_snapmark_now){ 5, true, 9 };
	ui_model_apply(&m, &c, 2000, &need);
	assert_int_equal(ui_lab_find_vm(lb, "b")->dirty, VL_CHANGED_UNKNOWN);
	/* a fresh listing after a rollback brings the new record: unchanged */
	l = lab("shop", "shop-1", "/p/shop", A("a", "b"), 2, VL_VM_RUNNING);
	l.vms[0].mark = (struct vl_snapmark){ true, 4, 300 };
	l.vms[0].now = (struct vl_snapmark_now){ 4, true, 300 };
	l.vms[0].changed = VL_CHANGED_NO;
	load(&m, &l, 1);
	lb = ui_model_find_lab(&m, "shop-1");
	assert_int_equal(ui_lab_find_vm(lb, "a")->dirty, VL_CHANGED_NO);
	/* paused and resumed (a snapshot from the CLI): the caller lists again
	 * for the new record */
	c = (struct vl_watch_change){ .kind = VL_WATCH_VM_STATE, .lab = "shop-1", .vm = "a",
				      .state = VL_VM_PAUSED };
	need = false;
	ui_model_apply(&m, &c, 2500, &need);
	assert_false(need);
	c.state = VL_VM_RUNNING;
	ui_model_apply(&m, &c, 2600, &need);
	assert_true(need);
	/* halted from outside: its process is gone, so it changed */
	c = (struct vl_watch_change){ .kind = VL_WATCH_VM_STATE, .lab = "shop-1", .vm = "a",
				      .state = VL_VM_SHUTOFF };
	assert_true(ui_model_apply(&m, &c, 3000, &need));
	assert_int_equal(ui_lab_find_vm(lb, "a")->dirty, VL_CHANGED_YES);
	ui_model_release(&m);
}

/* A class: its seats grouped under one class row, after the project's own
 * lab, seat 2 before seat 10, each seat a sub-group with its VMs; the class
 * row collapses and keeps its selection; reset targets the class, a seat or
 * the marked seats. */
static void test_class_group(void **state)
{
	struct ui_model m;
	struct vl_lab_summary labs[] = {
		lab("cls", "cls-seat-10-aa", "/p/cls", A("a"), 1, VL_VM_RUNNING),
		lab("other", "other-1", "/p/other", A("x"), 1, VL_VM_RUNNING),
		lab("cls", "cls-seat-2-bb", "/p/cls", A("a"), 1, VL_VM_RUNNING),
		lab("cls", "cls-11", "/p/cls", A("a"), 1, VL_VM_SHUTOFF),
	};
	static const char *const want[] = { "cls", "cls", "cls", "a", "cls", "a", "other" };
	static const enum ui_row_kind kinds[] = { UI_ROW_LAB, UI_ROW_CLASS, UI_ROW_LAB, UI_ROW_VM,
						  UI_ROW_LAB, UI_ROW_VM, UI_ROW_LAB };
	struct ui_reset r;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	labs[0].instance = (char *)"seat-10";
	labs[2].instance = (char *)"seat-2";
	ui_model_init(&m, "/elsewhere");
	ui_model_load(&m, labs, 4, 1000);
	assert_int_equal(m.n_classes, 1);
	/* nothing is here: collapsed; expand the class and both seats */
	assert_int_equal(m.n_rows, 3);
	ui_model_move(&m, 1);
	assert_int_equal(ui_model_selected(&m)->kind, UI_ROW_CLASS);
	ui_model_expand(&m, true);
	assert_int_equal(m.n_rows, 5);
	ui_model_move(&m, 1);      /* seat 2 */
	ui_model_expand(&m, true);
	ui_model_move(&m, 2);      /* seat 10 */
	ui_model_expand(&m, true);
	assert_int_equal(m.n_rows, 7);
	for (size_t i = 0; i < m.n_rows; i++) {
		assert_string_equal(row_name(&m, i), want[i]);
		assert_int_equal(m.rows[i].kind, kinds[i]);
	}
	assert_string_equal(m.labs[m.rows[2].lab].seat, "2");
	assert_string_equal(m.labs[m.rows[4].lab].seat, "10");
	assert_null(m.labs[m.rows[0].lab].seat);
	/* a reload keeps the class expanded and the selection on seat 10 */
	ui_model_load(&m, labs, 4, 2000);
	assert_int_equal(m.n_rows, 7);
	assert_string_equal(m.labs[ui_model_selected(&m)->lab].seat, "10");
	/* reset: the seat (from its lab row or a VM), the class from its row */
	assert_int_equal(ui_model_reset_target(&m, &r, &err), 0);
	assert_int_equal(r.n_seats, 1);
	assert_string_equal(r.seats[0], "10");
	ui_reset_release(&r);
	ui_model_move(&m, -3);
	assert_int_equal(ui_model_selected(&m)->kind, UI_ROW_CLASS);
	assert_int_equal(ui_model_reset_target(&m, &r, &err), 0);
	assert_int_equal(r.n_seats, 0);   /* every seat */
	/* Space on the class row marks every seat's VMs: a reset of both seats */
	ui_model_toggle_mark(&m);
	assert_int_equal(ui_model_n_marked(&m), 2);
	assert_int_equal(ui_model_reset_target(&m, &r, &err), 0);
	assert_int_equal(r.n_seats, 2);
	ui_reset_release(&r);
	/* a marked VM outside the class: refused with one line */
	ui_model_move(&m, -1);
	ui_model_toggle_mark(&m);   /* the project's own lab "cls" */
	assert_int_equal(ui_model_reset_target(&m, &r, &err), -1);
	assert_string_equal(err.msg, "reset: a marked VM is not in a class seat");
	/* collapsing the class from its row hides the seats, the row stays selected */
	ui_model_toggle_mark(&m);
	ui_model_move(&m, 1);
	ui_model_expand(&m, false);
	assert_int_equal(m.n_rows, 3);
	assert_int_equal(ui_model_selected(&m)->kind, UI_ROW_CLASS);
	/* the own lab row is not a seat: no reset without marks */
	ui_model_toggle_mark(&m);   /* unmark both seats */
	ui_model_move(&m, -1);
	assert_int_equal(ui_model_reset_target(&m, &r, &err), -1);
	for (size_t i = 0; i < 4; i++)
		free(labs[i].vms);
	ui_model_release(&m);
}

static void test_planned(void **state)
{
	struct vl_watch_change c = { 0 };
	struct ui_model m;
	struct ui_lab *l;
	bool need = false;
	(void)state;

	three_labs(&m);
	free(m.here_project);
	m.here_project = strdup("/p/new");
	ui_model_set_plan(&m, "new-1", "new", (struct ui_plan_vm[]){ { "web-2", 2, 1ull << 30 },
		{ "db", 1, 512ull << 20 }, { "web-10", 2, 1ull << 30 } }, 3);
	{
		struct vl_lab_summary labs[] = {
			lab("alpha", "alpha-1", "/p/alpha", A("x"), 1, VL_VM_RUNNING),
		};
		load(&m, labs, 1);
	}
	assert_int_equal(m.n_labs, 2);
	l = &m.labs[0];
	assert_string_equal(l->id, "new-1");
	assert_string_equal(l->name, "new");
	assert_string_equal(l->project, "/p/new");
	assert_true(l->here && l->expanded && l->mine);
	assert_false(l->exists);
	assert_int_equal(l->n_vms, 3);
	assert_string_equal(l->vms[0].name, "db");
	assert_string_equal(l->vms[2].name, "web-10");
	for (size_t j = 0; j < 3; j++)
		assert_int_equal(l->vms[j].state, VL_VM_MISSING);
	assert_int_equal(l->vms[0].cpus, 1);   /* what the profile gives db */
	assert_int_equal(l->vms[0].memory, 512ull << 20);
	assert_int_equal(m.n_rows, 5);   /* new, db, web-2, web-10, alpha */
	assert_int_equal(ui_lab_n_up(l), 0);

	/* up made two of them: the listing has those, the third stays not created */
	m.labs[0].vms[1].marked = true;
	{
		struct vl_lab_summary labs[] = {
			lab("new", "new-1", "/p/new", A("db", "web-2"), 2, VL_VM_RUNNING),
		};
		load(&m, labs, 1);
	}
	l = ui_model_find_lab(&m, "new-1");
	assert_true(l->exists);
	assert_int_equal(l->n_vms, 3);
	assert_int_equal(ui_lab_find_vm(l, "db")->state, VL_VM_RUNNING);
	assert_int_equal(ui_lab_find_vm(l, "web-10")->state, VL_VM_MISSING);
	assert_true(ui_lab_find_vm(l, "web-2")->marked);
	assert_int_equal(ui_lab_n_up(l), 2);

	/* destroy: each domain goes, then the lab; it stays, not created */
	c.kind = VL_WATCH_VM_STATE;
	c.lab = "new-1";
	c.vm = "db";
	c.state = VL_VM_MISSING;
	assert_true(ui_model_apply(&m, &c, 2000, &need));
	l = ui_model_find_lab(&m, "new-1");
	assert_int_equal(l->n_vms, 3);
	assert_int_equal(ui_lab_find_vm(l, "db")->state, VL_VM_MISSING);
	assert_null(ui_lab_find_vm(l, "db")->ip);
	assert_false(ui_model_apply(&m, &c, 2100, &need));   /* already not created */
	c.kind = VL_WATCH_LAB_VANISHED;
	c.vm = NULL;
	assert_true(ui_model_apply(&m, &c, 2200, &need));
	l = ui_model_find_lab(&m, "new-1");
	assert_non_null(l);
	assert_false(l->exists);
	assert_false(l->net_active);
	assert_int_equal(ui_lab_find_vm(l, "web-2")->state, VL_VM_MISSING);
	assert_int_equal(m.n_rows, 4);
	assert_string_equal(row_name(&m, 0), "new");

	/* the next up: the watch names it again, and it exists */
	c.kind = VL_WATCH_VM_STATE;
	c.vm = "db";
	c.state = VL_VM_RUNNING;
	assert_true(ui_model_apply(&m, &c, 3000, &need));
	assert_true(l->exists);
	assert_int_equal(ui_lab_find_vm(l, "db")->state, VL_VM_RUNNING);

	/* a VM the profile no longer has is not kept when it goes */
	ui_model_set_plan(&m, "new-1", "new", (struct ui_plan_vm[]){ { "web-2", 2, 1ull << 30 },
		{ "web-10", 2, 1ull << 30 } }, 2);
	c.state = VL_VM_MISSING;
	assert_true(ui_model_apply(&m, &c, 3100, &need));
	assert_null(ui_lab_find_vm(l, "db"));
	/* collapsed by the user: a listing keeps it collapsed */
	l->expanded = false;
	load(&m, NULL, 0);
	assert_false(ui_model_find_lab(&m, "new-1")->expanded);
	ui_model_release(&m);
}

static void test_keys(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_buf b = VL_BUF_INIT;
	(void)state;

	assert_int_equal(ui_keys_check(ui_keys, ui_n_keys, &err), 0);
	assert_int_equal(ui_key_action(ui_keys, ui_n_keys, 'u', UI_CTX_VM, false), UI_A_UP);
	assert_int_equal(ui_key_action(ui_keys, ui_n_keys, 'u', UI_CTX_VM, true), UI_A_NONE);
	assert_int_equal(ui_key_action(ui_keys, ui_n_keys, 'j', UI_CTX_VM, true), UI_A_DOWN_ROW);
	assert_int_equal(ui_key_action(ui_keys, ui_n_keys, '\n', UI_CTX_VM, false), UI_A_SSH);
	assert_int_equal(ui_key_action(ui_keys, ui_n_keys, '\n', UI_CTX_LAB, false), UI_A_EXPAND);
	assert_int_equal(ui_key_action(ui_keys, ui_n_keys, 'x', UI_CTX_VM, false), UI_A_NONE);
	assert_int_equal(ui_key_action(ui_keys, ui_n_keys, 'x', UI_CTX_VM | UI_CTX_JOB, false),
			 UI_A_CANCEL_JOB);
	assert_int_equal(ui_key_action(ui_keys, ui_n_keys, 'c', UI_CTX_LAB, false), UI_A_NONE);

	/* one key, overlapping contexts, two actions: rejected */
	{
		const struct ui_key bad[] = {
			{ 'u', "u", UI_CTX_VM, UI_A_UP, "up", NULL, false },
			{ 'u', "u", UI_CTX_VM | UI_CTX_LAB, UI_A_HALT, "halt", NULL, false },
		};
		const struct ui_key fine[] = {
			{ '\n', "Enter", UI_CTX_VM, UI_A_SSH, "ssh", NULL, false },
			{ '\n', "Enter", UI_CTX_LAB, UI_A_EXPAND, "expand", NULL, true },
		};
		assert_int_equal(ui_keys_check(bad, 2, &err), -1);
		assert_non_null(strstr(err.msg, "key u bound twice"));
		assert_int_equal(ui_keys_check(fine, 2, &err), 0);
	}

	/* the footer: the selection's keys, readonly leaves actions out, fits */
	ui_keys_footer(ui_keys, ui_n_keys, UI_CTX_VM, false, 200, &b, NULL, 0, NULL);
	assert_non_null(strstr(vl_buf_str(&b), "Enter ssh"));
	assert_non_null(strstr(vl_buf_str(&b), "u up"));
	assert_null(strstr(vl_buf_str(&b), "x cancel"));
	vl_buf_truncate(&b, 0);
	ui_keys_footer(ui_keys, ui_n_keys, UI_CTX_VM, true, 200, &b, NULL, 0, NULL);
	assert_null(strstr(vl_buf_str(&b), "u up"));
	assert_non_null(strstr(vl_buf_str(&b), "q quit"));
	vl_buf_truncate(&b, 0);
	ui_keys_footer(ui_keys, ui_n_keys, UI_CTX_VM, false, 30, &b, NULL, 0, NULL);
	assert_true(b.len <= 30);
	vl_buf_truncate(&b, 0);
	/* connection lost: the actions stay, in ranges to grey out; the rest not */
	{
		struct ui_range off[8];
		size_t n_off = 99;
		const char *s;
		ui_keys_footer(ui_keys, ui_n_keys, UI_CTX_VM, false, 200, &b, off, 8, &n_off);
		s = vl_buf_str(&b);
		assert_true(n_off >= 1);
		assert_int_equal(off[0].start, 0);   /* Enter ssh ... edit: one range */
		assert_true(vl_str_startswith(s + off[0].start, "Enter ssh"));
		assert_int_equal(strncmp(s + off[0].end - strlen("e edit"), "e edit", 6), 0);
		for (size_t i = 0; i < n_off; i++) {
			assert_true(off[i].end <= b.len);
			/* no readonly-safe key inside a greyed range */
			VL_AUTOFREE char *r = strndup(s + off[i].start, off[i].end - off[i].start);
			assert_null(strstr(r, "l log"));
			assert_null(strstr(r, "? help"));
			assert_null(strstr(r, "q quit"));
		}
		vl_buf_truncate(&b, 0);
		ui_keys_footer(ui_keys, ui_n_keys, UI_CTX_VM, true, 200, &b, off, 8, &n_off);
		assert_int_equal(n_off, 0);   /* readonly: no action even to grey out */
		vl_buf_truncate(&b, 0);
	}
	/* help: every binding, once */
	ui_keys_help(ui_keys, ui_n_keys, true, &b);
	assert_non_null(strstr(vl_buf_str(&b), "Ctrl-L"));
	assert_non_null(strstr(vl_buf_str(&b), "(off: --readonly)"));
	assert_null(strstr(strstr(vl_buf_str(&b), "Enter") + 1, "Enter   SSH shell on the VM\n"));
	vl_buf_release(&b);
}

static void test_phases(void **state)
{
	(void)state;
	assert_int_equal(ui_phase_of_event(VL_EV_PROGRESS, "download"), UI_PH_DOWNLOAD);
	assert_int_equal(ui_phase_of_event(VL_EV_INFO, "starting (1 cpu, 256 MiB, x)"),
			 UI_PH_BOOTING);
	assert_int_equal(ui_phase_of_event(VL_EV_INFO, "waiting for ssh on 10.0.0.2"), UI_PH_SSH);
	assert_int_equal(ui_phase_of_event(VL_EV_INFO, "waiting for cloud-init"), UI_PH_CLOUDINIT);
	assert_int_equal(ui_phase_of_event(VL_EV_INFO, "provisioning with /p/x.sh"),
			 UI_PH_PROVISION);
	assert_int_equal(ui_phase_of_event(VL_EV_INFO, "ready: ssh u@h (1.0 s)"), UI_PH_DONE);
	assert_int_equal(ui_phase_of_event(VL_EV_INFO, "resuming"), UI_PH_BOOTING);
	assert_int_equal(ui_phase_of_event(VL_EV_INFO, "resuming at 100 bytes"), UI_PH_DOWNLOAD);
	assert_int_equal(ui_phase_of_event(VL_EV_INFO, "something else"), -1);
	assert_int_equal(ui_phase_of_event(VL_EV_DEBUG, "starting"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_natcmp),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_filter_parse),
		cmocka_unit_test(test_filter_rows),
		cmocka_unit_test(test_marks_targets),
		cmocka_unit_test(test_selection_survives),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_snapshot_changed),
		cmocka_unit_test(test_class_group),
		cmocka_unit_test(test_planned),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_phases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
