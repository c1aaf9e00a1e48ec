/* Unit tests for classes (class_plan.c and [class] in profile.c): the
 * roster with its FILE:LINE problems, roster changes that add or remove
 * just one seat, placement of 40 seats over 3 hosts of different sizes,
 * refusals with the numbers, seats that stay or move off a host that is
 * down, and the free-subnet count. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "class_plan.h"
#include "fixture.h"
#include "profile.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

#define GiB (1ull << 30)


static size_t roster(const char *text, struct vl_diags *d, struct vl_seat_spec **s, size_t *n)
{
	return vl_class_roster_parse(text, strlen(text), "students.csv", d, s, n);
}

static bool diags_have(const struct vl_diags *d, int line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].line == line && strstr(d->items[i].msg, needle) &&
		    vl_streq(d->items[i].file, "students.csv"))
			return true;
	return false;
}

static void test_roster(void **state)
{
	VL_AUTO(vl_diags) d = VL_DIAGS_INIT;
	struct vl_seat_spec *s;
	size_t n;
	(void)state;

	assert_int_equal(roster("id,name,email\r\n# first row\n\nann, Ann Lee ,ann@example.org\n"
				"bob,\"Smith, Bob \"\"B\"\"\"\n", &d, &s, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].id, "ann");
	assert_string_equal(s[0].name, "Ann Lee");
	assert_string_equal(s[0].email, "ann@example.org");
	assert_int_equal(s[0].line, 4);
	assert_string_equal(s[1].name, "Smith, Bob \"B\"");
	assert_null(s[1].email);
	vl_seat_specs_free(s, n);

	assert_int_equal(roster("ann,Ann\nAnn,Other\nbob\nann,Again\nc,C,not-mail\n"
				"d,\"open\ne,E,e@x,extra\nf,\n", &d, &s, &n), 7);
	assert_true(diags_have(&d, 2, "seat id 'Ann'"));
	assert_true(diags_have(&d, 3, "found 1 field"));
	assert_true(diags_have(&d, 4, "also on line 1"));
	assert_true(diags_have(&d, 5, "not an e-mail"));
	assert_true(diags_have(&d, 6, "unterminated quote"));
	assert_true(diags_have(&d, 7, "found 4 fields"));
	assert_true(diags_have(&d, 8, "has no name"));
	assert_int_equal(n, 1);
	vl_seat_specs_free(s, n);
	vl_diags_release(&d);

	assert_int_equal(roster("id,name\n# nobody yet\n", &d, &s, &n), 1);
	assert_true(d.n == 1 && d.items[0].line == 0 && strstr(d.items[0].msg, "no seats"));
	vl_seat_specs_free(s, n);
}

/* Seat identity is the roster id: a new row adds one instance, a removed
 * row drops one, every other seat keeps its instance (its lab id, keys and
 * network) and stays where it is. */
static void test_roster_change(void **state)
{
	VL_AUTO(vl_diags) d = VL_DIAGS_INIT;
	struct vl_seat_spec *a, *b;
	size_t na, nb;
	(void)state;

	roster("ann,Ann\nbob,Bob\ncid,Cid\n", &d, &a, &na);
	roster("ann,Ann\ncid,Cid\ndee,Dee\n", &d, &b, &nb);
	assert_int_equal(d.n, 0);
	size_t kept = 0, added = 0;
	for (size_t i = 0; i < nb; i++) {
		bool old = false;
		for (size_t j = 0; j < na; j++)
			old |= vl_streq(a[j].id, b[i].id);
		kept += old;
		added += !old;
	}
	assert_int_equal(kept, 2);
	assert_int_equal(added, 1);
	VL_AUTOFREE char *inst = vl_class_instance(b[1].id);
	assert_string_equal(inst, "seat-cid");

	/* placement: cid existed on host 1 and stays there; dee is new */
	struct vl_class_need need = { 0 };
	vl_class_need_add_vm(&need, GiB, 1);
	struct vl_class_host hosts[2] = {
		{ .name = "a", .up = true, .mem_total = 64 * GiB, .cpus = 16, .free_subnets = 50 },
		{ .name = "b", .up = true, .mem_total = 64 * GiB, .cpus = 16, .free_subnets = 50 },
	};
	int current[3] = { 0, 1, -1 }, host_of[3];
	enum vl_seat_move moves[3];
	struct vl_class_load load[2];
	struct vl_err err = VL_ERR_INIT;
	assert_int_equal(vl_class_place(&need, 3, current, hosts, 2, host_of, moves, load, &err), 0);
	assert_int_equal(host_of[0], 0);
	assert_int_equal(host_of[1], 1);
	assert_int_equal(moves[1], VL_SEAT_STAYS);
	assert_int_equal(moves[2], VL_SEAT_NEW);
	assert_int_equal(load[0].new_seats + load[1].new_seats, 1);
	vl_seat_specs_free(a, na);
	vl_seat_specs_free(b, nb);
}

/* 40 seats of a 3-VM lab (2 GiB + 1 GiB + 1 GiB, 4 vCPUs) over a big, a
 * middle and a small host that already runs other VMs. */
static void test_place_40(void **state)
{
	struct vl_class_need need = { 0 };
	struct vl_class_host hosts[3] = {
		{ .name = "big", .up = true, .mem_total = 256 * GiB, .cpus = 32,
		  .pool_known = true, .pool_free = 2000 * GiB, .free_subnets = 200 },
		{ .name = "mid", .up = true, .mem_total = 128 * GiB, .cpus = 16,
		  .pool_known = true, .pool_free = 1000 * GiB, .free_subnets = 200 },
		{ .name = "small", .up = true, .mem_total = 64 * GiB, .mem_committed = 16 * GiB,
		  .cpus = 8, .vcpus_committed = 4, .pool_known = false, .free_subnets = 200 },
	};
	int host_of[40];
	enum vl_seat_move moves[40];
	struct vl_class_load load[3];
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	vl_class_need_add_vm(&need, 2 * GiB, 2);
	vl_class_need_add_vm(&need, GiB, 1);
	vl_class_need_add_vm(&need, GiB, 1);
	assert_int_equal(need.vms, 3);
	assert_int_equal(vl_class_need_memory(&need), 4 * GiB + 3 * VL_CLASS_VM_OVERHEAD);
	assert_int_equal(vl_class_place(&need, 40, NULL, hosts, 3, host_of, moves, load, &err), 0);
	unsigned total = 0;
	for (int h = 0; h < 3; h++) {
		const struct vl_class_host *x = &hosts[h];
		total += load[h].seats;
		/* nothing over any limit */
		assert_true(x->mem_committed + load[h].memory + VL_CLASS_HOST_RESERVE <= x->mem_total);
		assert_true(x->vcpus_committed + load[h].vcpus <= x->cpus * VL_CLASS_VCPU_RATIO);
		assert_true(!x->pool_known || load[h].disk <= x->pool_free);
		assert_int_equal(load[h].new_seats, load[h].seats);
	}
	assert_int_equal(total, 40);
	/* spread by size: the big host carries most, every host some */
	assert_true(load[0].seats > load[1].seats);
	assert_true(load[1].seats > load[2].seats);
	assert_true(load[2].seats > 0);
	/* the small host is limited by vCPUs: 8 x 4 - 4 = 28, 7 seats at most */
	assert_true(load[2].seats <= 7);
	for (int i = 0; i < 40; i++)
		assert_int_equal(moves[i], VL_SEAT_NEW);
	/* the same inputs, the same placement */
	int again[40];
	assert_int_equal(vl_class_place(&need, 40, NULL, hosts, 3, again, moves, load, &err), 0);
	assert_memory_equal(again, host_of, sizeof(again));
}

static void test_refusals(void **state)
{
	struct vl_class_need need = { 0 };
	struct vl_class_host hosts[2] = {
		{ .name = "a", .up = true, .mem_total = 16 * GiB, .cpus = 64, .free_subnets = 100 },
		{ .name = "b", .up = false, .mem_total = 256 * GiB, .cpus = 64, .free_subnets = 100 },
	};
	int host_of[10];
	enum vl_seat_move moves[10];
	struct vl_class_load load[2];
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	vl_class_need_add_vm(&need, 2 * GiB, 1);
	/* memory: (16 - 1 reserve) GiB / (2 GiB + 128 MiB) = 7 seats */
	assert_int_equal(vl_class_place(&need, 10, NULL, hosts, 2, host_of, moves, load, &err), -1);
	assert_int_equal(err.code, VL_E_FAIL);
	assert_non_null(strstr(err.msg, "3 of 10 seats have no room (seat 8 first)"));
	assert_non_null(strstr(err.msg, "2.1 GiB memory with overhead"));
	assert_non_null(strstr(err.msg, "b is down"));
	assert_non_null(strstr(err.msg, "a has "));
	assert_null(strchr(err.msg, '\n'));
	assert_int_equal(load[0].seats, 7);
	assert_int_equal(host_of[9], -1);

	/* subnets */
	hosts[0].mem_total = 256 * GiB;
	hosts[0].free_subnets = 4;
	vl_err_clear(&err);
	assert_int_equal(vl_class_place(&need, 10, NULL, hosts, 2, host_of, moves, load, &err), -1);
	assert_non_null(strstr(err.msg, "6 of 10 seats"));
	assert_non_null(strstr(err.msg, "0 subnets left"));

	/* vCPUs */
	hosts[0].free_subnets = 100;
	hosts[0].cpus = 1;
	vl_err_clear(&err);
	assert_int_equal(vl_class_place(&need, 10, NULL, hosts, 2, host_of, moves, load, &err), -1);
	assert_non_null(strstr(err.msg, "6 of 10 seats"));
	assert_non_null(strstr(err.msg, "0 vCPUs"));

	/* pool space */
	hosts[0].cpus = 64;
	hosts[0].pool_known = true;
	hosts[0].pool_free = 10 * GiB;
	vl_err_clear(&err);
	assert_int_equal(vl_class_place(&need, 10, NULL, hosts, 2, host_of, moves, load, &err), -1);
	assert_non_null(strstr(err.msg, "7 of 10 seats"));
	assert_non_null(strstr(err.msg, "pool space"));

	/* no host up at all */
	hosts[0].up = false;
	vl_err_clear(&err);
	assert_int_equal(vl_class_place(&need, 2, NULL, hosts, 2, host_of, moves, load, &err), -1);
	assert_non_null(strstr(err.msg, "no host is up"));
}

/* Host b went down: its seats are made again on a, the seat on a stays. */
static void test_host_down(void **state)
{
	struct vl_class_need need = { 0 };
	struct vl_class_host hosts[2] = {
		{ .name = "a", .up = true, .mem_total = 64 * GiB, .cpus = 16, .free_subnets = 50 },
		{ .name = "b", .up = false, .mem_total = 64 * GiB, .cpus = 16, .free_subnets = 50 },
	};
	int current[3] = { 0, 1, 1 }, host_of[3];
	enum vl_seat_move moves[3];
	struct vl_class_load load[2];
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	vl_class_need_add_vm(&need, GiB, 1);
	assert_int_equal(vl_class_place(&need, 3, current, hosts, 2, host_of, moves, load, &err), 0);
	assert_int_equal(moves[0], VL_SEAT_STAYS);
	assert_int_equal(moves[1], VL_SEAT_MOVED);
	assert_int_equal(moves[2], VL_SEAT_MOVED);
	assert_int_equal(host_of[1], 0);
	assert_int_equal(host_of[2], 0);
	assert_int_equal(load[0].seats, 3);
	assert_int_equal(load[0].new_seats, 2);
	assert_int_equal(load[1].seats, 0);
}

static void test_free_subnets(void **state)
{
	struct vl_config cfg = { .pool_addr = 0x0a4d0000, .pool_prefix = 16, .lab_prefix = 24 };
	struct vl_subnet used[] = {
		{ 0x0a4d0300, 24 },     /* one lab */
		{ 0x0a4d1000, 20 },     /* 16 /24s */
		{ 0x0a000000, 8 },      /* covers the whole pool */
	};
	(void)state;

	assert_int_equal(vl_class_free_subnets(&cfg, NULL, 0), 256);
	assert_int_equal(vl_class_free_subnets(&cfg, used, 2), 256 - 1 - 16);
	assert_int_equal(vl_class_free_subnets(&cfg, used, 3), 0);
}

static void test_handouts(void **state)
{
	const struct vl_class_bundle_vm vms[] = { { "web", "10.77.5.10" }, { "db", "10.77.5.11" } };
	struct vl_class_bundle b = {
		.class_name = "net101", .seat = "ann", .student = "Ann Lee", .user = "vmlab",
		.jump_user = "lab", .jump_host = "lab.example.org", .jump_port = 2222,
		.vms = vms, .n_vms = 2,
	};
	(void)state;

	VL_AUTOFREE char *cfg = vl_class_ssh_config(&b);
	assert_non_null(strstr(cfg, "Host jump\n\tHostName lab.example.org\n\tPort 2222\n\tUser lab\n"));
	assert_non_null(strstr(cfg, "Host db\n\tHostName 10.77.5.11\n\tUser vmlab\n\tProxyJump jump\n"));
	assert_non_null(strstr(cfg, "StrictHostKeyChecking yes"));
	assert_non_null(strstr(cfg, "UserKnownHostsFile known_hosts"));
	VL_AUTOFREE char *howto = vl_class_howto(&b);
	assert_non_null(strstr(howto, "ssh -F ssh_config web"));
	assert_non_null(strstr(howto, "Ann Lee"));

	VL_AUTOFREE char *line = vl_class_authorized_line("ssh-ed25519 AAAAC3Nz seat key", &b);
	assert_string_equal(line, "restrict,port-forwarding,command=\"/bin/false\","
			    "permitopen=\"10.77.5.10:22\",permitopen=\"10.77.5.11:22\" "
			    "ssh-ed25519 AAAAC3Nz vmlab-net101-seat-ann\n");

	/* the marked block replaced in place, the user's own lines kept */
	const char *old = "ssh-rsa AAAA mine\n# vmlab class x begin\nold line\n# vmlab class x end\n"
			  "# vmlab class y begin\nother class\n# vmlab class y end\nssh-ed25519 BBBB also\n";
	VL_AUTOFREE char *m1 = vl_class_authorized_merge(old, "vmlab class x", "new line\n");
	assert_string_equal(m1, "ssh-rsa AAAA mine\n# vmlab class x begin\nnew line\n# vmlab class x end\n"
			    "# vmlab class y begin\nother class\n# vmlab class y end\n"
			    "ssh-ed25519 BBBB also\n");
	VL_AUTOFREE char *m2 = vl_class_authorized_merge(m1, "vmlab class x", NULL);
	assert_string_equal(m2, "ssh-rsa AAAA mine\n# vmlab class y begin\nother class\n"
			    "# vmlab class y end\nssh-ed25519 BBBB also\n");
	VL_AUTOFREE char *m3 = vl_class_authorized_merge(NULL, "vmlab class x", "k\n");
	assert_string_equal(m3, "# vmlab class x begin\nk\n# vmlab class x end\n");
	VL_AUTOFREE char *m4 = vl_class_authorized_merge("a\nb", "vmlab class x", "");
	assert_string_equal(m4, "a\nb\n");
}

static int load_ini(const char *sub, const char *ini, struct vl_profile *p, struct vl_diags *d)
{
	struct vl_buf rel = VL_BUF_INIT;
	struct vl_err err = VL_ERR_INIT;

	vl_buf_printf(&rel, "%s/vmlab.ini", sub);
	VL_AUTOFREE char *path = vl_test_write(vl_test_tmp, rel.s, ini);
	vl_buf_release(&rel);
	return vl_profile_load(p, path, d, &err);
}

static bool profile_diag(const struct vl_diags *d, int line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].line == line && strstr(d->items[i].msg, needle))
			return true;
	return false;
}

static void test_profile_class(void **state)
{
	VL_AUTO(vl_diags) d = VL_DIAGS_INIT;
	struct vl_profile p;
	(void)state;

	assert_int_equal(load_ini("a", "[vm web]\n[class]\nseats = 3\njump = lab@lab.example.org:2222\n",
				  &p, &d), 0);
	assert_int_equal(p.klass.line, 2);
	assert_int_equal(p.klass.n_seats, 3);
	assert_string_equal(p.klass.seats[2].id, "3");
	assert_string_equal(p.klass.baseline, "baseline");
	assert_string_equal(p.klass.jump_user, "lab");
	assert_string_equal(p.klass.jump_host, "lab.example.org");
	assert_int_equal(p.klass.jump_port, 2222);
	vl_profile_release(&p);

	free(vl_test_write(vl_test_tmp, "b/students.csv", "id,name\nann,Ann\nbob,Bob\n"));
	assert_int_equal(load_ini("b", "[vm web]\n[class]\nroster = students.csv\nbaseline = clean\n",
				  &p, &d), 0);
	assert_int_equal(p.klass.n_seats, 2);
	assert_string_equal(p.klass.seats[1].name, "Bob");
	assert_string_equal(p.klass.baseline, "clean");
	assert_null(p.klass.jump_host);
	vl_profile_release(&p);

	/* no [class]: no seats */
	assert_int_equal(load_ini("c", "[vm web]\n", &p, &d), 0);
	assert_int_equal(p.klass.line, 0);
	assert_int_equal(p.klass.n_seats, 0);
	vl_profile_release(&p);

	/* every mistake with its line, the roster's as students.csv:LINE */
	free(vl_test_write(vl_test_tmp, "d/students.csv", "ann,Ann\nann,Twice\n"));
	assert_int_equal(load_ini("d", "[vm web]\n[class]\nseats = 0\nbaseline = a b\njump = nobody\n"
				  "seat = 3\n[class x]\n", &p, &d), -1);
	assert_true(profile_diag(&d, 3, "seats must be a whole number from 1 to 200"));
	assert_true(profile_diag(&d, 4, "baseline 'a b'"));
	assert_true(profile_diag(&d, 5, "USER@HOST[:PORT]"));
	assert_true(profile_diag(&d, 6, "unknown key 'seat'"));
	assert_true(profile_diag(&d, 7, "[class] takes no name"));
	vl_diags_release(&d);
	assert_int_equal(load_ini("d", "[vm web]\n[class]\nroster = students.csv\nseats = 2\n",
				  &p, &d), -1);
	assert_true(profile_diag(&d, 4, "not both"));
	assert_true(profile_diag(&d, 2, "also on line 1"));
	vl_diags_release(&d);
	assert_int_equal(load_ini("d", "[vm web]\n[class]\njump = a@b:99999\n", &p, &d), -1);
	assert_true(profile_diag(&d, 3, "port must be 1 to 65535"));
	assert_true(profile_diag(&d, 2, "needs seats = N or roster = FILE"));
}

/* A seat jumps through its host's own account, else the class's; a
 * jump.HOST naming no host of the class is found. */
static void test_jump_choice(void **state)
{
	char lab[] = "lab", stu[] = "stu", near[] = "near.example.org", far[] = "far",
	     fara[] = "far.example.org", east[] = "east", easta[] = "10.9.0.1";
	struct vl_class_jump dflt = { .user = lab, .addr = near, .port = 22 };
	struct vl_class_jump per[] = {
		{ .host = far, .user = stu, .addr = fara, .port = 2222 },
		{ .host = east, .user = stu, .addr = easta, .port = 22 },
	};
	const char *hosts[] = { "near", "far", "east" };
	(void)state;

	assert_ptr_equal(vl_class_jump_for(per, 2, &dflt, "far"), &per[0]);
	assert_ptr_equal(vl_class_jump_for(per, 2, &dflt, "east"), &per[1]);
	assert_ptr_equal(vl_class_jump_for(per, 2, &dflt, "near"), &dflt);
	assert_ptr_equal(vl_class_jump_for(per, 2, &dflt, NULL), &dflt);
	assert_null(vl_class_jump_for(per, 2, NULL, "near"));      /* no jump at all */
	assert_ptr_equal(vl_class_jump_for(per, 2, NULL, "far"), &per[0]);
	assert_ptr_equal(vl_class_jump_for(NULL, 0, &dflt, "far"), &dflt);

	assert_null(vl_class_jump_stray(per, 2, hosts, 3));
	assert_ptr_equal(vl_class_jump_stray(per, 2, hosts, 2), &per[1]);
	assert_ptr_equal(vl_class_jump_stray(per, 2, NULL, 0), &per[0]);
	assert_null(vl_class_jump_stray(NULL, 0, hosts, 3));
}

/* jump.HOST and jump_key.HOST in [class], with their mistakes. */
static void test_profile_host_jumps(void **state)
{
	VL_AUTO(vl_diags) d = VL_DIAGS_INIT;
	struct vl_profile p;
	(void)state;

	free(vl_test_write(vl_test_tmp, "j/far.pub", "ssh-ed25519 AAAA far\n"));
	assert_int_equal(load_ini("j", "[vm web]\n[class]\nseats = 2\njump = lab@near.example.org\n"
				  "jump.far = stu@169.254.79.2:2222\njump_key.far = far.pub\n",
				  &p, &d), 0);
	assert_string_equal(p.klass.jump_view.user, "lab");
	assert_null(p.klass.jump_view.host);
	assert_int_equal(p.klass.jump_view.line, 4);
	assert_int_equal(p.klass.n_host_jumps, 1);
	assert_string_equal(p.klass.host_jumps[0].host, "far");
	assert_string_equal(p.klass.host_jumps[0].user, "stu");
	assert_string_equal(p.klass.host_jumps[0].addr, "169.254.79.2");
	assert_int_equal(p.klass.host_jumps[0].port, 2222);
	assert_int_equal(p.klass.host_jumps[0].line, 5);
	assert_non_null(strstr(p.klass.host_jumps[0].key, "/j/far.pub"));
	vl_profile_release(&p);

	assert_int_equal(load_ini("k", "[vm web]\n[class]\nseats = 2\njump.Far = a@b\n"
				  "jump.far = nobody\njump_key.east = /nonexistent.pub\n"
				  "jump_key.west = far.pub\njumps.far = a@b\n", &p, &d), -1);
	assert_true(profile_diag(&d, 4, "'Far' is not a host name"));
	assert_true(profile_diag(&d, 5, "jump.far 'nobody': write USER@HOST[:PORT]"));
	assert_true(profile_diag(&d, 6, "jump_key.east '/nonexistent.pub'"));
	assert_true(profile_diag(&d, 8, "unknown key 'jumps.far'"));
	vl_diags_release(&d);
	free(vl_test_write(vl_test_tmp, "l/far.pub", "ssh-ed25519 AAAA far\n"));
	assert_int_equal(load_ini("l", "[vm web]\n[class]\nseats = 2\njump_key.far = far.pub\n",
				  &p, &d), -1);
	assert_true(profile_diag(&d, 4, "jump_key.far without jump.far"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roster),
		cmocka_unit_test(test_roster_change),
		cmocka_unit_test(test_place_40),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_host_down),
		cmocka_unit_test(test_free_subnets),
		cmocka_unit_test(test_handouts),
		cmocka_unit_test_setup_teardown(test_profile_class, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test(test_jump_choice),
		cmocka_unit_test_setup_teardown(test_profile_host_jumps, vl_test_tmp_setup,
						vl_test_tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
