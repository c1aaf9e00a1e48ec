/* Unit tests for vmlab.conf loading: search order, environment overrides,
 * every key, and FILE:LINE diagnostics for mistakes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fixture.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

/* A fresh directory as HOME, and none of vmlab's variables. */
static int setup(void **state)
{
	vl_test_tmp_setup(state);
	setenv("HOME", vl_test_tmp, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("VMLAB_CONFIG");
	unsetenv("VMLAB_URI");
	unsetenv("VMLAB_ACCEL");
	unsetenv("VMLAB_CACHE");
	return 0;
}


/* Is there a diagnostic at line with msg containing needle? */
static bool has_diag(const struct vl_diags *d, int line, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].line == line && strstr(d->items[i].msg, needle))
			return true;
	return false;
}

static void test_defaults(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	(void)state;
	if (access(VL_SYSCONFDIR "/vmlab/vmlab.conf", F_OK) == 0)
		skip();
	assert_int_equal(vl_config_load(&c, NULL, &d, &err), 0);
	assert_null(c.path);
	assert_string_equal(c.uri, "qemu:///system");
	assert_int_equal(c.accel, VL_ACCEL_AUTO);
	assert_string_equal(c.pool_name, "vmlab");
	assert_string_equal(c.pool_dir, "/var/lib/vmlab/pool");
	assert_string_equal(c.log_dir, "/var/log/libvirt/qemu");
	if (geteuid() == 0) {
		assert_string_equal(c.cache_dir, "/var/cache/vmlab/images");
	} else {
		VL_AUTOFREE char *want = NULL;
		struct vl_buf b = VL_BUF_INIT;
		vl_buf_printf(&b, "%s/.cache/vmlab/images", vl_test_tmp);
		want = vl_buf_steal(&b);
		assert_string_equal(c.cache_dir, want);
	}
	assert_int_equal(c.n_catalogs, 0);
	assert_int_equal(c.stall_timeout, 60);
	assert_null(c.ca_file);
	assert_int_equal(c.max_image_size, 64ull << 30);
	assert_int_equal(c.pool_addr, 0x0a4d0000);
	assert_int_equal(c.pool_prefix, 16);
	assert_int_equal(c.lab_prefix, 24);
	assert_int_equal(c.parallel, 4);
	assert_int_equal(c.boot_timeout, 300);
	assert_int_equal(c.halt_timeout, 60);
	assert_int_equal(d.n, 0);
	assert_string_equal(vl_accel_name(c.accel), "auto");
	vl_config_release(&c);
	vl_config_release(&c); /* idempotent */
	vl_config_release(NULL);
}

static void test_every_key(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *path = vl_test_write(vl_test_tmp, "conf/vmlab.conf",
		"; a comment\n"
		"[libvirt]\nuri = qemu+ssh://host/system ; remote\n"
		"[vm]\naccel = tcg\n"
		"[storage]\npool = labs\npool_dir = ~/pool\n"
		"[images]\ncache = /srv/cache\ncatalog = extra.ini, /etc/x.ini\nstall_timeout = 5\n"
		"ca_file = /etc/hostname\nmax_image_size = 2G\n"
		"[network]\nsubnet_pool = 172.20.0.0/14\nlab_prefix = 26\n"
		"[up]\nparallel = 8\nboot_timeout = 100\n"
		"[halt]\ntimeout = 0\n");
	VL_AUTOFREE char *pool = NULL, *cat0 = NULL;
	struct vl_buf b = VL_BUF_INIT;
	(void)state;

	assert_int_equal(vl_config_load(&c, path, &d, &err), 0);
	assert_string_equal(c.path, path);
	assert_string_equal(c.uri, "qemu+ssh://host/system");
	assert_int_equal(c.accel, VL_ACCEL_TCG);
	assert_string_equal(c.pool_name, "labs");
	vl_buf_printf(&b, "%s/pool", vl_test_tmp);
	pool = vl_buf_steal(&b);
	assert_string_equal(c.pool_dir, pool);
	assert_string_equal(c.cache_dir, "/srv/cache");
	assert_int_equal(c.n_catalogs, 2);
	vl_buf_printf(&b, "%s/conf/extra.ini", vl_test_tmp);
	cat0 = vl_buf_steal(&b);
	assert_string_equal(c.catalogs[0], cat0);
	assert_string_equal(c.catalogs[1], "/etc/x.ini");
	assert_int_equal(c.stall_timeout, 5);
	assert_string_equal(c.ca_file, "/etc/hostname");
	assert_int_equal(c.max_image_size, 2ull << 30);
	assert_int_equal(c.pool_addr, 0xac140000);
	assert_int_equal(c.pool_prefix, 14);
	assert_int_equal(c.lab_prefix, 26);
	assert_int_equal(c.parallel, 8);
	assert_int_equal(c.boot_timeout, 100);
	assert_int_equal(c.halt_timeout, 0);
	vl_config_release(&c);
	vl_diags_release(&d);
}

static void test_search_order(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *home = vl_test_write(vl_test_tmp, ".config/vmlab/vmlab.conf",
					       "[libvirt]\nuri = test:///home\n");
	VL_AUTOFREE char *envf = vl_test_write(vl_test_tmp, "env.conf", "[libvirt]\nuri = test:///env\n");
	VL_AUTOFREE char *expl = vl_test_write(vl_test_tmp, "explicit.conf",
					       "[libvirt]\nuri = test:///explicit\n");
	VL_AUTOFREE char *xdg = vl_test_write(vl_test_tmp, "xdg/vmlab/vmlab.conf",
					      "[libvirt]\nuri = test:///xdg\n");
	VL_AUTOFREE char *xdgdir = NULL;
	struct vl_buf b = VL_BUF_INIT;
	(void)state;

	assert_int_equal(vl_config_load(&c, NULL, &d, &err), 0);
	assert_string_equal(c.uri, "test:///home");
	assert_string_equal(c.path, home);
	vl_config_release(&c);

	vl_buf_printf(&b, "%s/xdg", vl_test_tmp);
	xdgdir = vl_buf_steal(&b);
	setenv("XDG_CONFIG_HOME", xdgdir, 1);
	assert_int_equal(vl_config_load(&c, NULL, &d, &err), 0);
	assert_string_equal(c.uri, "test:///xdg");
	vl_config_release(&c);
	unsetenv("XDG_CONFIG_HOME");

	setenv("VMLAB_CONFIG", envf, 1);
	assert_int_equal(vl_config_load(&c, NULL, &d, &err), 0);
	assert_string_equal(c.uri, "test:///env");
	vl_config_release(&c);

	assert_int_equal(vl_config_load(&c, expl, &d, &err), 0);
	assert_string_equal(c.uri, "test:///explicit");
	vl_config_release(&c);

	/* an empty VMLAB_CONFIG does not count; /dev/null is an empty config */
	assert_int_equal(vl_config_load(&c, "/dev/null", &d, &err), 0);
	assert_string_equal(c.uri, "qemu:///system");
	vl_config_release(&c);
	assert_int_equal(d.n, 0);
}

static void test_missing_explicit(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	assert_int_equal(vl_config_load(&c, "/nonexistent/vmlab.conf", &d, &err), -1);
	assert_int_equal(err.code, VL_E_CONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/vmlab.conf"));
	assert_non_null(strstr(err.msg, "No such file"));

	setenv("VMLAB_CONFIG", "/nonexistent/env.conf", 1);
	assert_int_equal(vl_config_load(&c, NULL, &d, &err), -1);
	assert_int_equal(err.code, VL_E_CONFIG);
	assert_null(c.uri);
	vl_config_release(&c);
	vl_diags_release(&d);
}

static void test_env_overrides(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *path = vl_test_write(vl_test_tmp, "c.conf",
		"[libvirt]\nuri = test:///file\n[vm]\naccel = kvm\n[images]\ncache = /file/cache\n");
	(void)state;

	setenv("VMLAB_URI", "test:///default", 1);
	setenv("VMLAB_ACCEL", "tcg", 1);
	setenv("VMLAB_CACHE", "/env/cache", 1);
	assert_int_equal(vl_config_load(&c, path, &d, &err), 0);
	assert_string_equal(c.uri, "test:///default");
	assert_int_equal(c.accel, VL_ACCEL_TCG);
	assert_string_equal(c.cache_dir, "/env/cache");
	vl_config_release(&c);

	setenv("VMLAB_ACCEL", "hvf", 1);
	setenv("VMLAB_CACHE", "relative", 1);
	assert_int_equal(vl_config_load(&c, path, &d, &err), -1);
	assert_int_equal(err.code, VL_E_CONFIG);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.items[0].file, "VMLAB_ACCEL");
	assert_non_null(strstr(d.items[0].msg, "auto, kvm or tcg"));
	assert_string_equal(d.items[1].file, "VMLAB_CACHE");
	vl_diags_release(&d);
}

/* Ranges a lab may use besides RFC 1918, the pool held to the same rule,
 * and allow_outside. */
static void test_trust(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *good = vl_test_write(vl_test_tmp, "good.conf",
		"[network]\nallow_subnets = 100.64.0.0/10, 8.8.8.0/24\nsubnet_pool = 100.64.0.0/16\n"
		"[profile]\nallow_outside = yes\n");
	VL_AUTOFREE char *bad = vl_test_write(vl_test_tmp, "bad.conf",
		"[network]\n"                      /* 1 */
		"subnet_pool = 100.64.0.0/16\n"    /* 2 public, not allowed */
		"allow_subnets = 1.2.3.4, 0.0.0.0/0\n" /* 3 two bad entries */
		"[profile]\n"                      /* 4 */
		"allow_outside = sometimes\n");    /* 5 */
	(void)state;

	assert_int_equal(vl_config_load(&c, good, &d, &err), 0);
	assert_int_equal(c.n_allow_subnets, 2);
	assert_true(c.allow_outside);
	assert_true(vl_config_subnet_allowed(&c, (100u << 24) | (64u << 16) | (7u << 8), 24));
	assert_true(vl_config_subnet_allowed(&c, (8u << 24) | (8u << 16) | (8u << 8), 25));
	assert_false(vl_config_subnet_allowed(&c, (8u << 24) | (8u << 16), 16));  /* wider */
	assert_false(vl_config_subnet_allowed(&c, (9u << 24), 24));
	assert_true(vl_config_subnet_allowed(&c, (172u << 24) | (31u << 16), 16));
	assert_false(vl_config_subnet_allowed(&c, (172u << 24) | (32u << 16), 16));
	vl_config_release(&c);

	assert_int_equal(vl_config_load(&c, bad, &d, &err), -1);
	assert_int_equal(d.n, 4);
	assert_true(has_diag(&d, 2, "subnet_pool 100.64.0.0/16 is not private address space"));
	assert_true(has_diag(&d, 3, "allow_subnets: '1.2.3.4'"));
	assert_true(has_diag(&d, 3, "allow_subnets: '0.0.0.0/0'"));
	assert_true(has_diag(&d, 5, "allow_outside must be yes or no, not 'sometimes'"));
	vl_diags_release(&d);
}

static void test_errors(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *path = vl_test_write(vl_test_tmp, "bad.conf",
		"[libvirt]\n"              /* 1 */
		"urii = x\n"               /* 2 unknown key */
		"[vm]\n"                   /* 3 */
		"accel = fast\n"           /* 4 bad accel */
		"[storag]\n"               /* 5 unknown section */
		"pool = x\n"               /* 6 (inside unknown section: not reported again) */
		"[up]\n"                   /* 7 */
		"parallel = 0\n"           /* 8 out of range */
		"boot_timeout = 10s\n"     /* 9 junk */
		"parallel = 2\n"           /* 10 duplicate */
		"[network]\n"              /* 11 */
		"subnet_pool = 10.77.0.1/16\n" /* 12 host bits */
		"lab_prefix = 30\n"        /* 13 out of range */
		"not a key\n"              /* 14 syntax */
		"[images]\n"               /* 15 */
		"cache = relative/dir\n"   /* 16 not absolute */
		"stall_timeout =\n"       /* 17 empty */
		"ca_file = /nonexistent/ca.pem\n" /* 18 unreadable */
		"max_image_size = 100K\n"); /* 19 below 1M */
	(void)state;

	assert_int_equal(vl_config_load(&c, path, &d, &err), -1);
	assert_int_equal(err.code, VL_E_CONFIG);
	assert_int_equal(d.n, 13);
	assert_true(has_diag(&d, 2, "unknown key 'urii' in [libvirt]; did you mean 'uri'?"));
	assert_true(has_diag(&d, 4, "accel must be auto, kvm or tcg, not 'fast'"));
	assert_true(has_diag(&d, 5, "unknown section 'storag'; did you mean 'storage'?"));
	assert_true(has_diag(&d, 8, "parallel must be a whole number from 1 to 256"));
	assert_true(has_diag(&d, 9, "boot_timeout must be a whole number"));
	assert_true(has_diag(&d, 10, "duplicate key 'parallel' in [up] (first at line 8)"));
	assert_true(has_diag(&d, 12, "subnet_pool must be a CIDR"));
	assert_true(has_diag(&d, 13, "lab_prefix must be a prefix length from 16 to 29"));
	assert_true(has_diag(&d, 14, "expected 'key = value'"));
	assert_true(has_diag(&d, 16, "cache must be an absolute path"));
	assert_true(has_diag(&d, 17, "empty value for 'stall_timeout' in [images]"));
	assert_true(has_diag(&d, 18, "ca_file /nonexistent/ca.pem: No such file or directory"));
	assert_true(has_diag(&d, 19, "max_image_size must be a size of at least 1M"));
	for (size_t i = 0; i < d.n; i++)
		assert_string_equal(d.items[i].file, path);
	assert_non_null(strstr(err.msg, "13 problems in "));
	vl_diags_release(&d);
	vl_config_release(&c);
}

static void test_prefix_order(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *path = vl_test_write(vl_test_tmp, "p.conf",
		"[network]\nsubnet_pool = 10.0.0.0/20\nlab_prefix = 16\n");
	(void)state;

	assert_int_equal(vl_config_load(&c, path, &d, &err), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.items[0].msg, "lab_prefix /16 is larger than subnet_pool /20"));
	vl_diags_release(&d);
}

/* An empty entry in the catalog list is a mistake, wherever it is. */
static void test_catalog_empty_entry(void **state)
{
	static const char *const lists[] = { "a.ini,,b.ini", "a.ini,", ",a.ini", "a.ini, ,b.ini" };
	(void)state;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct vl_config c;
		struct vl_diags d = VL_DIAGS_INIT;
		struct vl_err err = VL_ERR_INIT;
		struct vl_buf text = VL_BUF_INIT;
		vl_buf_printf(&text, "[images]\ncatalog = %s\n", lists[i]);
		VL_AUTOFREE char *path = vl_test_write(vl_test_tmp, "cat.conf", vl_buf_str(&text));
		vl_buf_release(&text);
		assert_int_equal(vl_config_load(&c, path, &d, &err), -1);
		assert_int_equal(err.code, VL_E_CONFIG);
		assert_int_equal(d.n, 1);
		assert_true(has_diag(&d, 2, "empty entry in the catalog list"));
		vl_diags_release(&d);
	}
}

/* The shipped example must load and say exactly the built-in defaults. */
/* [hosts]: the libvirt hosts of a class, in file order, checked. */
static void test_hosts(void **state)
{
	struct vl_config c;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *good = vl_test_write(vl_test_tmp, "hosts.conf",
		"[hosts]\nlab1 = qemu:///system\nlab2 = qemu+ssh://lab2.example.org/system\n"
		"ns = qemu+unix:///system?socket=/run/x/libvirt-sock\n");
	VL_AUTOFREE char *bad = vl_test_write(vl_test_tmp, "badhosts.conf",
		"[hosts]\nLab = qemu:///system\nb = nothing\nc = qemu+ssh://c/system?no_verify=1\n"
		"d = qemu:///system\nd2 = test:///default\n");
	(void)state;

	assert_int_equal(vl_config_load(&c, good, &d, &err), 0);
	assert_int_equal(c.n_hosts, 3);
	assert_string_equal(c.host_names[1], "lab2");
	assert_string_equal(c.host_uris[1], "qemu+ssh://lab2.example.org/system");
	assert_string_equal(c.host_uris[2], "qemu+unix:///system?socket=/run/x/libvirt-sock");
	vl_config_release(&c);
	assert_int_equal(vl_config_load(&c, bad, &d, &err), -1);
	assert_true(has_diag(&d, 2, "host name 'Lab'"));
	assert_true(has_diag(&d, 3, "'nothing' is not a libvirt URI"));
	assert_true(has_diag(&d, 4, "no_verify"));
	assert_int_equal(d.n, 3);
	vl_diags_release(&d);
}

static void test_example(void **state)
{
	struct vl_config c, def;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	if (access("vmlab.conf.example", R_OK) != 0)
		skip();   /* not run from the repository root */
	assert_int_equal(vl_config_load(&c, "vmlab.conf.example", &d, &err), 0);
	assert_int_equal(vl_config_load(&def, "/dev/null", &d, &err), 0);
	assert_string_equal(c.uri, def.uri);
	assert_int_equal(c.accel, def.accel);
	assert_string_equal(c.pool_name, def.pool_name);
	assert_string_equal(c.pool_dir, def.pool_dir);
	assert_string_equal(c.log_dir, def.log_dir);
	assert_string_equal(c.cache_dir, def.cache_dir);
	assert_int_equal(c.n_catalogs, 0);
	assert_int_equal(c.stall_timeout, def.stall_timeout);
	assert_int_equal(c.pool_addr, def.pool_addr);
	assert_int_equal(c.pool_prefix, def.pool_prefix);
	assert_int_equal(c.lab_prefix, def.lab_prefix);
	assert_int_equal(c.parallel, def.parallel);
	assert_int_equal(c.boot_timeout, def.boot_timeout);
	assert_int_equal(c.halt_timeout, def.halt_timeout);
	assert_int_equal(c.n_hosts, 0);
	vl_config_release(&c);
	vl_config_release(&def);
}

/* The header's accelerator: what VMs get, not the config word. */
static void test_accel_effective(void **state)
{
	(void)state;
	assert_string_equal(vl_accel_effective(VL_ACCEL_AUTO, true), "kvm");
	assert_string_equal(vl_accel_effective(VL_ACCEL_AUTO, false), "tcg (no kvm)");
	assert_string_equal(vl_accel_effective(VL_ACCEL_TCG, true), "tcg");
	assert_string_equal(vl_accel_effective(VL_ACCEL_TCG, false), "tcg");
	assert_string_equal(vl_accel_effective(VL_ACCEL_KVM, true), "kvm");
	assert_string_equal(vl_accel_effective(VL_ACCEL_KVM, false), "kvm (not offered)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, vl_test_tmp_teardown),
		cmocka_unit_test(test_accel_effective),
		cmocka_unit_test_setup_teardown(test_every_key, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_search_order, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_missing_explicit, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_env_overrides, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_trust, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_prefix_order, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_catalog_empty_entry, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hosts, setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_example, setup, vl_test_tmp_teardown),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
