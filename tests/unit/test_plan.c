/* Unit tests for src/plan: lab id and names, MACs, subnet choice, the IP and
 * DHCP layout, and `vmlab plan --json` read back with a real JSON parser.
 * Expected hashes were computed independently with sha256sum(1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "util/buf.h"
#include "util/ipv4.h"
#include "util/mem.h"
#include "util/str.h"

#define GIB (1024ull * 1024 * 1024)

/* A hand-built profile (the loader lives on another branch). */
struct fixture {
	struct vl_profile p;
	struct vl_vm_spec specs[8];
	struct vl_config cfg;
};

static void fx_init(struct fixture *f, const char *name, const char *dir)
{
	memset(f, 0, sizeof(*f));
	f->p.name = (char *)name;
	f->p.dir = (char *)dir;
	f->p.network = VL_NET_NAT;
	f->p.subnet_auto = true;
	f->p.user = (char *)"dev";
	f->p.vms = f->specs;
	vl_ipv4_parse("10.77.0.0", &f->cfg.pool_addr);
	f->cfg.pool_prefix = 16;
	f->cfg.lab_prefix = 24;
}

static struct vl_vm_spec *fx_vm(struct fixture *f, const char *name, unsigned count, const char *ip)
{
	struct vl_vm_spec *s = &f->specs[f->p.n_vms++];

	s->name = (char *)name;
	s->line = (int)(10 * f->p.n_vms);
	s->count = count;
	s->cpus = 2;
	s->memory = 2 * GIB;
	s->disk = 20 * GIB;
	s->image = (char *)"debian-12";
	s->ip = (char *)ip;
	return s;
}

static void fx_subnet(struct fixture *f, const char *cidr)
{
	f->p.subnet_auto = false;
	assert_true(vl_cidr_parse(cidr, &f->p.subnet_addr, &f->p.subnet_prefix));
}

static struct vl_subnet sn(const char *cidr)
{
	struct vl_subnet s;

	assert_true(vl_cidr_parse(cidr, &s.addr, &s.prefix));
	return s;
}

static void test_lab_id(void **state)
{
	(void)state;
	VL_AUTOFREE char *id = vl_plan_lab_id("webapp", "/home/dev/webapp");
	assert_string_equal(id, "webapp-fd20db9c");
	/* Another checkout of the same project: another id. */
	VL_AUTOFREE char *id2 = vl_plan_lab_id("webapp", "/home/dev/webapp2");
	assert_string_not_equal(id, id2);
	assert_int_equal(strlen(id2), strlen("webapp-") + 8);
}

static void test_sanitize_and_truncate(void **state)
{
	(void)state;
	VL_AUTOFREE char *a = vl_plan_sanitize_name("My Lab__2", 40);
	assert_string_equal(a, "my-lab-2");
	VL_AUTOFREE char *b = vl_plan_sanitize_name("--", 40);
	assert_string_equal(b, "lab");
	/* Cut at 31 lands on a '-': it is dropped, not kept as "...--hash". */
	const char *longname = "abcdefghijklmnopqrstuvwxyz0123-4567890-more-words";
	VL_AUTOFREE char *id = vl_plan_lab_id(longname, "/p");
	assert_true(strlen(id) <= VL_NAME_MAX);
	assert_true(vl_str_is_name(id, VL_NAME_MAX));
	assert_memory_equal(id, "abcdefghijklmnopqrstuvwxyz0123-", 31);
	assert_null(strstr(id, "--"));
	VL_AUTOFREE char *id2 = vl_plan_lab_id("abcdefghijklmnopqrstuvwxyz01234567", "/p");
	assert_int_equal(strlen(id2), 40);
	assert_memory_equal(id2, "abcdefghijklmnopqrstuvwxyz01234-", 32);
}

static void test_full_plan(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	fx_init(&f, "webapp", "/home/dev/webapp");
	fx_vm(&f, "web", 2, NULL);
	static struct vl_prov db_prov = { .kind = VL_PROV_SCRIPT, .spec = (char *)"db.sh",
					  .src = (char *)"/home/dev/webapp/db.sh" };
	struct vl_vm_spec *dbs = fx_vm(&f, "db", 1, NULL);
	dbs->provision = &db_prov;
	dbs->n_provision = 1;
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), 0);
	assert_string_equal(plan.lab_id, "webapp-fd20db9c");
	assert_string_equal(plan.lab_name, "webapp");
	assert_string_equal(plan.network, "vmlab-webapp-fd20db9c");
	assert_string_equal(plan.bridge, "vl465ce07d");
	assert_true(strlen(plan.bridge) <= 15);
	/* Scan offset: first 4 bytes of SHA-256(lab id) mod 256 = 125. */
	assert_string_equal(plan.subnet_str, "10.77.125.0/24");
	assert_string_equal(plan.gateway_str, "10.77.125.1");
	assert_string_equal(plan.netmask_str, "255.255.255.0");
	assert_string_equal(plan.user, "dev");
	assert_int_equal(plan.n_vms, 3);

	const struct vl_plan_vm *w1 = &plan.vms[0], *w2 = &plan.vms[1], *db = &plan.vms[2];
	assert_string_equal(w1->name, "web-1");
	assert_string_equal(w1->spec_name, "web");
	assert_string_equal(w1->domain, "vmlab-webapp-fd20db9c-web-1");
	assert_string_equal(w1->hostname, "web-1");
	assert_string_equal(w1->fqdn, "web-1.webapp");
	assert_string_equal(w1->volume, "vmlab-webapp-fd20db9c-web-1.qcow2");
	assert_string_equal(w1->seed_volume, "vmlab-webapp-fd20db9c-web-1-seed.iso");
	assert_string_equal(w1->mac, "52:54:00:2b:5e:dd");
	assert_string_equal(w2->mac, "52:54:00:e5:27:96");
	assert_string_equal(db->mac, "52:54:00:a7:a3:a2");
	assert_string_equal(w1->ip_str, "10.77.125.10");
	assert_string_equal(w2->ip_str, "10.77.125.11");
	assert_string_equal(db->ip_str, "10.77.125.12");
	assert_string_equal(db->name, "db");
	assert_int_equal(db->n_provision, 1);
	assert_string_equal(db->provision[0].src, "/home/dev/webapp/db.sh");
	assert_int_equal(w2->index, 2);
	assert_int_equal(db->index, 1);
	assert_null(db->user_data);
	assert_int_equal(w1->memory, 2 * GIB);
	assert_int_equal(w1->cpus, 2);
	assert_string_equal(w1->image, "debian-12");
	assert_ptr_equal(vl_plan_find_vm(&plan, "web-2"), w2);
	assert_null(vl_plan_find_vm(&plan, "web"));

	/* Same inputs, same plan. */
	struct vl_plan again;
	assert_int_equal(vl_plan_build(&again, &f.p, &f.cfg, NULL, 0, &err), 0);
	assert_string_equal(again.vms[1].mac, w2->mac);
	assert_string_equal(again.subnet_str, plan.subnet_str);
	vl_plan_release(&again);
	vl_plan_release(&plan);
	vl_plan_release(&plan);   /* release twice is harmless */
}

static void test_default_user_and_single(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	fx_init(&f, "Demo Lab", "/srv/x");
	f.p.user = NULL;
	fx_vm(&f, "box", 0, NULL);   /* count 0 from a hand-built spec means 1 */
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), 0);
	assert_string_equal(plan.user, "vmlab");
	assert_string_equal(plan.lab_name, "demo-lab");
	assert_int_equal(plan.n_vms, 1);
	assert_string_equal(plan.vms[0].name, "box");
	vl_plan_release(&plan);
}

/* up web --dry-run: the plan of the selected VMs only, addresses unchanged. */
static void test_select(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	char *web[] = { (char *)"web" }, *two[] = { (char *)"db", (char *)"web-2" };
	(void)state;

	fx_init(&f, "sel", "/srv/sel");
	fx_vm(&f, "web", 3, NULL);
	fx_vm(&f, "db", 1, NULL);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), 0);
	vl_plan_select(&plan, NULL, 0);
	assert_int_equal(plan.n_vms, 4);
	vl_plan_select(&plan, web, 1);
	assert_int_equal(plan.n_vms, 3);
	assert_string_equal(plan.vms[2].name, "web-3");
	vl_plan_release(&plan);

	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), 0);
	char db_ip[VL_IPV4_STRLEN];
	snprintf(db_ip, sizeof(db_ip), "%s", plan.vms[3].ip_str);
	vl_plan_select(&plan, two, 2);
	assert_int_equal(plan.n_vms, 2);
	assert_string_equal(plan.vms[0].name, "web-2");
	assert_string_equal(plan.vms[1].name, "db");
	assert_string_equal(plan.vms[1].ip_str, db_ip);
	vl_plan_release(&plan);
}

static void test_fixed_ips(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	fx_init(&f, "webapp", "/home/dev/webapp");
	fx_subnet(&f, "10.77.3.0/24");
	fx_vm(&f, "web", 2, NULL);
	fx_vm(&f, "db", 1, "10.77.3.10");
	fx_vm(&f, "node", 3, "10.77.3.20");
	fx_vm(&f, "misc", 1, NULL);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), 0);
	assert_string_equal(plan.subnet_str, "10.77.3.0/24");
	/* .10 belongs to db, so the web VMs skip it. */
	assert_string_equal(vl_plan_find_vm(&plan, "web-1")->ip_str, "10.77.3.11");
	assert_string_equal(vl_plan_find_vm(&plan, "web-2")->ip_str, "10.77.3.12");
	assert_string_equal(vl_plan_find_vm(&plan, "db")->ip_str, "10.77.3.10");
	assert_true(vl_plan_find_vm(&plan, "db")->fixed_ip);
	assert_string_equal(vl_plan_find_vm(&plan, "node-1")->ip_str, "10.77.3.20");
	assert_string_equal(vl_plan_find_vm(&plan, "node-2")->ip_str, "10.77.3.21");
	assert_string_equal(vl_plan_find_vm(&plan, "node-3")->ip_str, "10.77.3.22");
	assert_string_equal(vl_plan_find_vm(&plan, "misc")->ip_str, "10.77.3.13");
	assert_false(vl_plan_find_vm(&plan, "misc")->fixed_ip);
	vl_plan_release(&plan);
}

static void expect_ip_error(const char *subnet, const char *ip, unsigned count, const char *needle)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;

	fx_init(&f, "lab", "/p");
	fx_subnet(&f, subnet);
	fx_vm(&f, "a", 1, "10.77.3.40");
	fx_vm(&f, "b", count, ip);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), -1);
	assert_int_equal(err.code, VL_E_PROFILE);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' not in '%s'", needle, err.msg);
	assert_non_null(strstr(err.msg, "vmlab.ini:20:"));
	assert_null(plan.vms);   /* released on failure */
}

static void test_fixed_ip_errors(void **state)
{
	(void)state;
	expect_ip_error("10.77.3.0/24", "10.77.3.1", 1, "gateway");
	expect_ip_error("10.77.3.0/24", "10.77.3.0", 1, "network address");
	expect_ip_error("10.77.3.0/24", "10.77.3.255", 1, "broadcast");
	expect_ip_error("10.77.3.0/24", "10.77.4.7", 1, "outside");
	expect_ip_error("10.77.3.0/24", "10.77.3.5", 1, "reserved");
	expect_ip_error("10.77.3.0/24", "10.77.3.200", 1, "DHCP range");
	expect_ip_error("10.77.3.0/24", "10.77.3.40", 1, "also the ip of a");
	expect_ip_error("10.77.3.0/24", "10.77.3.38", 3, "10.77.3.40 of b-3 is also");
	expect_ip_error("10.77.3.0/24", "10.77.3.126", 3, "10.77.3.128 of b-3 is inside the dynamic DHCP");
	expect_ip_error("10.77.3.0/24", "10.77.3.x", 1, "not an IPv4");
}

/* The layout of plan.h for every lab size from /24 to /30. */
static void test_layouts(void **state)
{
	static const struct {
		const char *subnet, *first, *last, *dhcp_start, *dhcp_end;
	} cases[] = {
		{ "10.9.0.0/24", "10.9.0.10", "10.9.0.127", "10.9.0.128", "10.9.0.254" },
		{ "10.9.0.128/25", "10.9.0.138", "10.9.0.191", "10.9.0.192", "10.9.0.254" },
		{ "10.9.0.64/26", "10.9.0.74", "10.9.0.95", "10.9.0.96", "10.9.0.126" },
		{ "10.9.0.32/27", "10.9.0.34", "10.9.0.47", "10.9.0.48", "10.9.0.62" },
		{ "10.9.0.16/28", "10.9.0.18", "10.9.0.23", "10.9.0.24", "10.9.0.30" },
		{ "10.9.0.8/29", "10.9.0.10", "10.9.0.14", NULL, NULL },
		{ "10.9.0.4/30", "10.9.0.6", "10.9.0.6", NULL, NULL },
	};
	(void)state;
	for (size_t c = 0; c < VL_ARRAY_SIZE(cases); c++) {
		struct fixture f;
		struct vl_plan plan;
		struct vl_err err = VL_ERR_INIT;
		uint32_t first, last;
		char a[VL_IPV4_STRLEN];

		assert_true(vl_ipv4_parse(cases[c].first, &first));
		assert_true(vl_ipv4_parse(cases[c].last, &last));
		fx_init(&f, "lab", "/p");
		fx_subnet(&f, cases[c].subnet);
		/* Exactly as many VMs as the static range holds: fits. */
		fx_vm(&f, "vm", last - first + 1, NULL);
		if (vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err) < 0)
			fail_msg("%s: %s", cases[c].subnet, err.msg);
		assert_string_equal(plan.vms[0].ip_str, cases[c].first);
		assert_string_equal(plan.vms[plan.n_vms - 1].ip_str, cases[c].last);
		if (cases[c].dhcp_start) {
			vl_ipv4_format(plan.dhcp_start, a);
			assert_string_equal(a, cases[c].dhcp_start);
			vl_ipv4_format(plan.dhcp_end, a);
			assert_string_equal(a, cases[c].dhcp_end);
		} else {
			assert_int_equal(plan.dhcp_start, 0);
			assert_int_equal(plan.dhcp_end, 0);
		}
		for (size_t i = 0; i < plan.n_vms; i++) {
			assert_int_not_equal(plan.vms[i].ip, plan.gateway);
			assert_int_not_equal(plan.vms[i].ip, plan.broadcast);
			assert_true(!plan.dhcp_start || plan.vms[i].ip < plan.dhcp_start);
		}
		vl_plan_release(&plan);

		/* One more does not. */
		f.specs[0].count++;
		assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), -1);
		assert_non_null(strstr(err.msg, "no address left"));
	}
}

static void test_too_small_subnet(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	fx_init(&f, "lab", "/p");
	fx_subnet(&f, "10.9.0.0/31");
	fx_vm(&f, "vm", 1, NULL);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), -1);
	assert_non_null(strstr(err.msg, "too small"));
}

static void test_subnet_skip_wrap_exhaust(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	struct vl_subnet out;
	(void)state;

	fx_init(&f, "webapp", "/home/dev/webapp");
	fx_vm(&f, "web", 1, NULL);

	/* Its first choice is 10.77.125.0/24; a used /25 inside it also blocks it. */
	struct vl_subnet used1[] = { sn("10.77.125.128/25"), sn("10.77.126.0/24"), sn("192.168.0.0/16") };
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, used1, 3, &err), 0);
	assert_string_equal(plan.subnet_str, "10.77.127.0/24");
	vl_plan_release(&plan);

	/* Everything from its start to the end of the pool used: wraps to the start. */
	struct vl_subnet used2[] = { sn("10.77.125.0/24"), sn("10.77.126.0/23"), sn("10.77.128.0/17"),
				     sn("10.77.0.0/24") };
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, used2, 4, &err), 0);
	assert_string_equal(plan.subnet_str, "10.77.1.0/24");
	vl_plan_release(&plan);

	/* A used supernet covers the whole pool. */
	struct vl_subnet used3[] = { sn("10.0.0.0/8") };
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, used3, 1, &err), -1);
	assert_non_null(strstr(err.msg, "no free /24 subnet left in the pool 10.77.0.0/16"));

	/* A small pool of 4, all used one by one. */
	vl_ipv4_parse("172.30.0.0", &f.cfg.pool_addr);
	f.cfg.pool_prefix = 22;
	struct vl_subnet used4[] = { sn("172.30.0.0/24"), sn("172.30.1.0/24"), sn("172.30.2.0/24"),
				     sn("172.30.3.0/24") };
	assert_int_equal(vl_plan_choose_subnet("x-1", &f.cfg, used4, 3, &out, &err), 0);
	assert_int_equal(out.addr, used4[3].addr);
	assert_int_equal(vl_plan_choose_subnet("x-1", &f.cfg, used4, 4, &out, &err), -1);
	assert_non_null(strstr(err.msg, "all 4 are in use"));

	/* Different labs tend to start in different places. */
	f.cfg.pool_prefix = 16;
	vl_ipv4_parse("10.77.0.0", &f.cfg.pool_addr);
	unsigned distinct = 0;
	uint32_t prev = 0;
	for (int i = 0; i < 8; i++) {
		char id[32];
		snprintf(id, sizeof(id), "lab%d-00000000", i);
		assert_int_equal(vl_plan_choose_subnet(id, &f.cfg, NULL, 0, &out, &err), 0);
		distinct += out.addr != prev;
		prev = out.addr;
		assert_int_equal(out.prefix, 24);
		assert_true(vl_ipv4_in(out.addr, f.cfg.pool_addr, 16));
	}
	assert_true(distinct >= 7);

	/* lab_prefix must fit inside the pool. */
	f.cfg.lab_prefix = 8;
	assert_int_equal(vl_plan_choose_subnet("x-1", &f.cfg, NULL, 0, &out, &err), -1);
	assert_int_equal(err.code, VL_E_CONFIG);
}

static void test_fixed_subnet_and_existing(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	fx_init(&f, "webapp", "/home/dev/webapp");
	fx_vm(&f, "web", 1, NULL);
	fx_subnet(&f, "10.77.3.0/24");
	struct vl_subnet used[] = { sn("10.1.0.0/16"), sn("10.77.3.128/25") };
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, used, 2, &err), -1);
	assert_int_equal(err.code, VL_E_PROFILE);
	assert_non_null(strstr(err.msg, "10.77.3.0/24 overlaps 10.77.3.128/25"));

	/* Re-planning the lab: its own network is in `used`, that is fine. */
	struct vl_subnet mine = sn("10.77.3.0/24");
	struct vl_subnet used2[] = { sn("10.1.0.0/16"), mine };
	struct vl_plan_opts o = { .used = used2, .n_used = 2, .existing = &mine };
	assert_int_equal(vl_plan_build_opts(&plan, &f.p, &f.cfg, &o, &err), 0);
	assert_string_equal(plan.subnet_str, "10.77.3.0/24");
	vl_plan_release(&plan);

	/* Auto lab with an existing network keeps it, even off its first choice. */
	f.p.subnet_auto = true;
	struct vl_subnet old = sn("10.77.200.0/24");
	struct vl_subnet used3[] = { old };
	o = (struct vl_plan_opts){ .used = used3, .n_used = 1, .existing = &old };
	assert_int_equal(vl_plan_build_opts(&plan, &f.p, &f.cfg, &o, &err), 0);
	assert_string_equal(plan.subnet_str, "10.77.200.0/24");
	assert_string_equal(plan.vms[0].ip_str, "10.77.200.10");
	vl_plan_release(&plan);
}

static void test_names_rejected(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	fx_init(&f, "lab", "/p");
	fx_vm(&f, "Web_1", 1, NULL);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), -1);
	assert_non_null(strstr(err.msg, "vmlab.ini:10: VM name 'Web_1'"));

	fx_init(&f, "lab", "/p");
	fx_vm(&f, "web", 2, NULL);
	fx_vm(&f, "web-2", 1, NULL);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), -1);
	assert_non_null(strstr(err.msg, "web-2 is used twice"));

	fx_init(&f, "lab", "relative/dir");
	fx_vm(&f, "web", 1, NULL);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), -1);

	/* Longest names: lab id 40, VM 40 + "-10". */
	char vm40[41];
	memset(vm40, 'v', 40);
	vm40[40] = '\0';
	fx_init(&f, "a-very-long-laboratory-name-that-goes-on-and-on", "/p");
	fx_vm(&f, vm40, 10, NULL);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), 0);
	assert_int_equal(strlen(plan.lab_id), 40);
	assert_string_equal(plan.vms[9].name + 40, "-10");
	assert_int_equal(strlen(plan.vms[9].domain), 6 + 40 + 1 + 43);
	vl_plan_release(&plan);
}

static void test_mac_salt(void **state)
{
	char a[18], b[18];
	(void)state;
	vl_plan_mac("webapp-fd20db9c", "web-1", 0, a);
	assert_string_equal(a, "52:54:00:2b:5e:dd");
	vl_plan_mac("webapp-fd20db9c", "web-1", 1, b);
	assert_string_not_equal(a, b);
	assert_memory_equal(b, "52:54:00:", 9);
}

static void test_json(void **state)
{
	struct fixture f;
	struct vl_plan plan;
	struct vl_err err = VL_ERR_INIT;
	struct vl_buf b = VL_BUF_INIT;
	json_error_t jerr;
	(void)state;

	fx_init(&f, "webapp", "/home/dev/we\"b\\app\n");
	fx_subnet(&f, "10.77.3.0/29");
	f.p.network = VL_NET_ISOLATED;
	fx_vm(&f, "web", 2, NULL);
	fx_vm(&f, "db", 1, "10.77.3.6")->user_data = (char *)"/x/db.yaml";
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), 0);

	for (int pretty = 0; pretty < 2; pretty++) {
		vl_buf_truncate(&b, 0);
		vl_plan_to_json(&plan, &b, pretty);
		json_t *root = json_loads(vl_buf_str(&b), 0, &jerr);
		if (!root)
			fail_msg("JSON does not parse: %s at line %d", jerr.text, jerr.line);
		assert_int_equal(json_integer_value(json_object_get(root, "schema")), 1);
		json_t *lab = json_object_get(root, "lab");
		assert_string_equal(json_string_value(json_object_get(lab, "id")), plan.lab_id);
		assert_string_equal(json_string_value(json_object_get(lab, "project_dir")),
				    "/home/dev/we\"b\\app\n");
		assert_string_equal(json_string_value(json_object_get(lab, "user")), "dev");
		json_t *net = json_object_get(root, "network");
		assert_string_equal(json_string_value(json_object_get(net, "mode")), "isolated");
		assert_string_equal(json_string_value(json_object_get(net, "subnet")), "10.77.3.0/29");
		assert_string_equal(json_string_value(json_object_get(net, "gateway")), "10.77.3.1");
		assert_string_equal(json_string_value(json_object_get(net, "bridge")), plan.bridge);
		assert_true(json_is_null(json_object_get(net, "dhcp_range")));
		json_t *vms = json_object_get(root, "vms");
		assert_int_equal(json_array_size(vms), 3);
		json_t *w2 = json_array_get(vms, 1);
		assert_string_equal(json_string_value(json_object_get(w2, "name")), "web-2");
		assert_string_equal(json_string_value(json_object_get(w2, "spec")), "web");
		assert_string_equal(json_string_value(json_object_get(w2, "ip")), "10.77.3.3");
		assert_string_equal(json_string_value(json_object_get(w2, "mac")), plan.vms[1].mac);
		assert_int_equal(json_integer_value(json_object_get(w2, "memory_bytes")), 2 * GIB);
		assert_int_equal(json_integer_value(json_object_get(w2, "disk_bytes")), 20 * GIB);
		assert_true(json_is_false(json_object_get(w2, "ip_fixed")));
		assert_int_equal(json_array_size(json_object_get(w2, "provision")), 0);
		json_t *db = json_array_get(vms, 2);
		assert_true(json_is_true(json_object_get(db, "ip_fixed")));
		assert_string_equal(json_string_value(json_object_get(db, "user_data")), "/x/db.yaml");
		json_decref(root);
	}
	vl_plan_release(&plan);

	/* NAT lab with a DHCP range. */
	fx_init(&f, "webapp", "/home/dev/webapp");
	fx_vm(&f, "web", 1, NULL);
	assert_int_equal(vl_plan_build(&plan, &f.p, &f.cfg, NULL, 0, &err), 0);
	vl_buf_truncate(&b, 0);
	vl_plan_to_json(&plan, &b, false);
	json_t *root = json_loads(vl_buf_str(&b), 0, &jerr);
	assert_non_null(root);
	json_t *range = json_object_get(json_object_get(root, "network"), "dhcp_range");
	assert_string_equal(json_string_value(json_object_get(range, "start")), "10.77.125.128");
	assert_string_equal(json_string_value(json_object_get(range, "end")), "10.77.125.254");
	json_decref(root);
	vl_plan_release(&plan);
	vl_buf_release(&b);
}

static void test_base_volume(void **state)
{
	static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	VL_AUTOFREE char *q = vl_plan_base_volume(sha, "qcow2");
	VL_AUTOFREE char *r = vl_plan_base_volume(sha, "raw");
	(void)state;

	assert_string_equal(q, "vmlab-base-0123456789abcdef.qcow2");
	assert_string_equal(r, "vmlab-base-0123456789abcdef.raw");
	assert_true(vl_plan_is_base_volume(q));
	assert_true(vl_plan_is_base_volume(r));
	/* a lab named "base" has VM volumes vmlab-base-<8 hex>-<vm>...: not bases */
	assert_false(vl_plan_is_base_volume("vmlab-base-1234abcd-web.qcow2"));
	assert_false(vl_plan_is_base_volume("vmlab-base-1234abcd-web-seed.iso"));
	assert_false(vl_plan_is_base_volume("vmlab-base-0123456789abcdef-x.qcow2"));
	assert_false(vl_plan_is_base_volume("vmlab-base-0123456789ABCDEF.qcow2"));
	assert_false(vl_plan_is_base_volume("vmlab-base-0123456789abcdef.iso"));
}

/* Lab instances: one profile, several identities. */
static void test_instances(void **state)
{
	VL_AUTOFREE char *own = vl_plan_instance_id("webapp", "/p", NULL);
	VL_AUTOFREE char *plain = vl_plan_lab_id("webapp", "/p");
	VL_AUTOFREE char *s1 = vl_plan_instance_id("webapp", "/p", "seat-1");
	VL_AUTOFREE char *s1b = vl_plan_instance_id("webapp", "/p", "seat-1");
	VL_AUTOFREE char *s2 = vl_plan_instance_id("webapp", "/p", "seat-2");
	VL_AUTOFREE char *other = vl_plan_instance_id("webapp", "/q", "seat-1");
	VL_AUTOFREE char *d0 = vl_plan_state_dir("/p", NULL);
	VL_AUTOFREE char *d1 = vl_plan_state_dir("/p", "seat-1");
	(void)state;

	assert_string_equal(own, plain);         /* the project's lab keeps its id */
	assert_string_equal(s1, s1b);            /* stable */
	assert_string_not_equal(s1, s2);
	assert_string_not_equal(s1, other);      /* two checkouts' seats never collide */
	assert_true(vl_str_startswith(s1, "webapp-seat-1-"));
	assert_string_equal(d0, "/p/.vmlab");
	assert_string_equal(d1, "/p/.vmlab/instances/seat-1");
	assert_true(vl_plan_instance_ok("seat-1"));
	assert_true(vl_plan_instance_ok("a"));
	assert_false(vl_plan_instance_ok(""));
	assert_false(vl_plan_instance_ok("-x"));
	assert_false(vl_plan_instance_ok("Seat"));
	assert_false(vl_plan_instance_ok("../x"));
	assert_false(vl_plan_instance_ok("a23456789012345678901"));
}

/* Object names are made in one place, and gc reads a volume's domain back. */
static void test_names(void **state)
{
	VL_AUTOFREE char *net = vl_name_network("web-1234abcd");
	VL_AUTOFREE char *dom = vl_name_domain("web-1234abcd", "db");
	VL_AUTOFREE char *prefix = vl_name_domain("web-1234abcd", "");
	VL_AUTOFREE char *disk = vl_name_disk(dom), *seed = vl_name_seed(dom);
	VL_AUTOFREE char *d1 = vl_name_volume_domain(disk), *d2 = vl_name_volume_domain(seed);
	(void)state;

	assert_string_equal(net, "vmlab-web-1234abcd");
	assert_string_equal(dom, "vmlab-web-1234abcd-db");
	assert_string_equal(prefix, "vmlab-web-1234abcd-");
	assert_string_equal(disk, "vmlab-web-1234abcd-db.qcow2");
	assert_string_equal(seed, "vmlab-web-1234abcd-db-seed.iso");
	assert_string_equal(d1, dom);
	assert_string_equal(d2, dom);
	assert_null(vl_name_volume_domain("vmlab-base-0123456789abcdef.qcow2"));
	assert_null(vl_name_volume_domain("other-db.qcow2"));
	assert_null(vl_name_volume_domain("vmlab-web-1234abcd-db.img"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_volume),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_lab_id),
		cmocka_unit_test(test_sanitize_and_truncate),
		cmocka_unit_test(test_full_plan),
		cmocka_unit_test(test_default_user_and_single),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_fixed_ips),
		cmocka_unit_test(test_fixed_ip_errors),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_too_small_subnet),
		cmocka_unit_test(test_subnet_skip_wrap_exhaust),
		cmocka_unit_test(test_fixed_subnet_and_existing),
		cmocka_unit_test(test_names_rejected),
		cmocka_unit_test(test_mac_salt),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
