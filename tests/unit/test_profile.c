/* Unit tests for vmlab.ini: size parsing, a valid profile's exact struct,
 * every validation rule with its FILE:LINE, many mistakes in one run, and
 * finding the file by walking up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "profile.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)


static char *cat(const char *a, const char *b)
{
	struct vl_buf buf = VL_BUF_INIT;

	vl_buf_printf(&buf, "%s%s", a, b);
	return vl_buf_steal(&buf);
}

/* Load text as <vl_test_tmp>/<sub>/vmlab.ini; returns load's result. */
static int load(const char *sub, const char *text, struct vl_profile *p, struct vl_diags *d,
		struct vl_err *err)
{
	VL_AUTOFREE char *rel = cat(sub, "/vmlab.ini");
	VL_AUTOFREE char *path = vl_test_write(vl_test_tmp, rel, text);

	return vl_profile_load(p, path, d, err);
}

/* Exactly one problem, at line, containing needle. */
static void expect_one(const char *text, int line, const char *needle)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;

	assert_int_equal(load("lab", text, &p, &d, &err), -1);
	assert_int_equal(err.code, VL_E_PROFILE);
	if (d.n != 1 || d.items[0].line != line || !strstr(d.items[0].msg, needle)) {
		for (size_t i = 0; i < d.n; i++)
			print_error("got %d: %s\n", d.items[i].line, d.items[i].msg);
		fail_msg("wanted one problem at line %d: %s", line, needle);
	}
	assert_true(strstr(err.msg, "1 problem in ") != NULL);
	assert_true(vl_str_endswith(d.items[0].file, "/lab/vmlab.ini"));
	assert_null(p.vms);   /* released on failure */
	vl_diags_release(&d);
}

static void test_sizes(void **state)
{
	uint64_t v;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	assert_int_equal(vl_parse_size("512M", &v, &err), 0);
	assert_int_equal(v, 512 * MiB);
	assert_int_equal(vl_parse_size("2G", &v, &err), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(vl_parse_size("2gib", &v, &err), 0);
	assert_int_equal(v, 2 * GiB);
	assert_int_equal(vl_parse_size("1T", &v, &err), 0);
	assert_int_equal(v, 1024 * GiB);
	assert_int_equal(vl_parse_size("64K", &v, &err), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(vl_parse_size("1.5G", &v, &err), 0);
	assert_int_equal(v, 1536 * MiB);
	assert_int_equal(vl_parse_size("0.25G", &v, &err), 0);
	assert_int_equal(v, 256 * MiB);
	assert_int_equal(vl_parse_size("2 GiB", &v, &err), 0);
	assert_int_equal(v, 2 * GiB);

	assert_int_equal(vl_parse_size("1.3G", &v, &err), -1);
	assert_non_null(strstr(err.msg, "not a whole number of MiB"));
	assert_int_equal(vl_parse_size("1.5K", &v, &err), -1);
	assert_int_equal(vl_parse_size("2", &v, &err), -1);
	assert_non_null(strstr(err.msg, "needs a unit"));
	assert_int_equal(vl_parse_size("2GB", &v, &err), -1);
	assert_non_null(strstr(err.msg, "binary units"));
	assert_int_equal(vl_parse_size("2X", &v, &err), -1);
	assert_non_null(strstr(err.msg, "unknown unit"));
	assert_int_equal(vl_parse_size("G", &v, &err), -1);
	assert_int_equal(vl_parse_size("-1G", &v, &err), -1);
	assert_int_equal(vl_parse_size("1.G", &v, &err), -1);
	assert_int_equal(vl_parse_size("2G junk", &v, &err), -1);
	assert_int_equal(vl_parse_size("99999999999999999999G", &v, &err), -1);
	assert_int_equal(vl_parse_size("16777216T", &v, &err), -1);
	assert_non_null(strstr(err.msg, "too large"));
	assert_int_equal(vl_parse_size("1.0000001G", &v, &err), -1);
}

static void test_valid(void **state)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *script = vl_test_write(vl_test_tmp, "proj/scripts/web.sh", "#!/bin/sh\n");
	VL_AUTOFREE char *ud = vl_test_write(vl_test_tmp, "proj/web.yaml", "#cloud-config\n");
	VL_AUTOFREE char *img = vl_test_write(vl_test_tmp, "proj/img/local.qcow2", "x");
	(void)state;

	assert_int_equal(load("proj",
		"; comment\n"
		"[lab]\n"
		"name    = webapp          ; inline comment\n"
		"network = isolated\n"
		"subnet  = 10.77.3.0/24\n"
		"user    = \"dev\"\n"
		"\n"
		"[defaults]                ; applies to every [vm ...]\n"
		"image  = debian-13\n"
		"cpus   = 2\n"
		"memory = 2G\n"
		"disk   = 20G\n"
		"\n"
		"[vm web]\n"
		"count     = 2\n"
		"provision = scripts/web.sh\n"
		"user-data = web.yaml\n"
		"\n"
		"[vm db]\n"
		"ip = 10.77.3.20\n"
		"memory = 1.5G\n"
		"image = ./img/local.qcow2\n"
		"[vm  cache]\n"
		"image = https://example.com/a.qcow2#frag\n",
		&p, &d, &err), 0);
	assert_int_equal(d.n, 0);
	assert_true(vl_str_endswith(p.path, "/proj/vmlab.ini"));
	assert_true(vl_str_endswith(p.dir, "/proj"));
	assert_string_equal(p.name, "webapp");
	assert_int_equal(p.network, VL_NET_ISOLATED);
	assert_false(p.subnet_auto);
	assert_int_equal(p.subnet_addr, 0x0a4d0300);
	assert_int_equal(p.subnet_prefix, 24);
	assert_string_equal(p.user, "dev");
	assert_int_equal(p.n_vms, 3);

	assert_string_equal(p.vms[0].name, "web");
	assert_int_equal(p.vms[0].line, 14);
	assert_int_equal(p.vms[0].count, 2);
	assert_int_equal(p.vms[0].cpus, 2);
	assert_int_equal(p.vms[0].memory, 2 * GiB);
	assert_int_equal(p.vms[0].disk, 20 * GiB);
	assert_string_equal(p.vms[0].image, "debian-13");
	assert_null(p.vms[0].ip);
	assert_int_equal(p.vms[0].n_provision, 1);
	assert_int_equal(p.vms[0].provision[0].kind, VL_PROV_SCRIPT);
	assert_string_equal(p.vms[0].provision[0].src, script);
	assert_string_equal(p.vms[0].user_data, ud);

	assert_string_equal(p.vms[1].name, "db");
	assert_int_equal(p.vms[1].line, 19);
	assert_int_equal(p.vms[1].count, 1);
	assert_int_equal(p.vms[1].memory, 1536 * MiB);
	assert_string_equal(p.vms[1].ip, "10.77.3.20");
	assert_true(vl_str_endswith(p.vms[1].image, "/proj/./img/local.qcow2"));
	assert_true(p.vms[1].image[0] == '/');
	assert_int_equal(p.vms[1].n_provision, 0);
	assert_null(p.vms[1].user_data);

	assert_string_equal(p.vms[2].name, "cache");
	assert_string_equal(p.vms[2].image, "https://example.com/a.qcow2#frag");
	vl_profile_release(&p);
	vl_profile_release(&p);
	vl_profile_release(NULL);
}

static void test_defaults(void **state)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	assert_int_equal(load("My Project_2", "[vm box]\n", &p, &d, &err), 0);
	assert_string_equal(p.name, "my-project-2");
	assert_int_equal(p.network, VL_NET_NAT);
	assert_true(p.subnet_auto);
	assert_string_equal(p.user, "vmlab");
	assert_int_equal(p.n_vms, 1);
	assert_int_equal(p.vms[0].count, 1);
	assert_int_equal(p.vms[0].cpus, 1);
	assert_int_equal(p.vms[0].memory, GiB);
	assert_int_equal(p.vms[0].disk, 10 * GiB);
	assert_string_equal(p.vms[0].image, "debian-12");
	vl_profile_release(&p);

	/* a directory with no usable character needs [lab] name */
	assert_int_equal(load("__", "[vm box]\n", &p, &d, &err), -1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].line, 0);
	assert_non_null(strstr(d.items[0].msg, "set name = ... in [lab]"));
	vl_diags_release(&d);
	assert_int_equal(load("__", "[lab]\nname = ok\n[vm box]\n", &p, &d, &err), 0);
	vl_profile_release(&p);
}

static void test_sections_and_keys(void **state)
{
	(void)state;
	expect_one("[lab]\n[vm a]\n[labs]\n", 3, "unknown section [labs]; did you mean [lab]?");
	expect_one("[vm a]\n[vms web]\n", 2, "unknown section [vms web]; did you mean [vm web]?");
	expect_one("[vm a]\n[zzzz]\n", 2, "sections are [lab], [defaults], [vm NAME] and [class]");
	expect_one("[vm a]\n[vm]\n", 2, "[vm] needs a name");
	expect_one("[vm a]\n[lab x]\n", 2, "[lab] takes no name");
	expect_one("[vm a]\n[vm a]\n", 2, "duplicate section [vm a] (first at line 1)");
	expect_one("[lab]\n[vm a]\n[lab]\n", 3, "duplicate section [lab] (first at line 1)");
	expect_one("[vm web]\nmemroy = 2G\n", 2,
		   "unknown key 'memroy' in [vm web]; did you mean 'memory'?");
	expect_one("[lab]\nnme = x\n[vm a]\n", 2, "unknown key 'nme' in [lab]; did you mean 'name'?");
	expect_one("[lab]\nzzzzzz = x\n[vm a]\n", 2, "known: name, network, subnet, user");
	expect_one("[defaults]\ncount = 2\n[vm a]\n", 2, "'count' is set per VM");
	expect_one("[vm a]\ncpus = 2\ncpus = 3\n", 3, "duplicate key 'cpus' in [vm a] (first at line 2)");
	/* duplicates of owned values must not leak (found by the fuzzer) */
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.15\nip = 10.77.3.16\n", 5,
		   "duplicate key 'ip' in [vm a] (first at line 4)");
	expect_one("[lab]\nname = a\nname = b\n[vm a]\n", 3, "duplicate key 'name' in [lab]");
	expect_one("cpus = 2\n[vm a]\n", 1, "key 'cpus' is outside any section");
	expect_one("[vm a]\njust words\n", 2, "expected 'key = value' or '[section]'");
	expect_one("[vm a]\n[lab\n", 2, "without closing ']'");
	expect_one("[vm a]\n = 2\n", 2, "missing key before '='");
	expect_one("[vm a]\ncpus =\n", 2, "empty value for 'cpus' in [vm a]");
	expect_one("[vm a]\nimage = \"debian-12\" x\n", 2, "unexpected text 'x' after the quoted value");
	expect_one("[vm a]\nimage = \"debian-12\n", 2, "has no closing '\"'");
	expect_one("[lab]\n", 0, "no [vm NAME] section: a lab needs at least one VM");
}

static void test_names(void **state)
{
	(void)state;
	expect_one("[vm Web]\n", 1, "VM name 'Web': use lowercase letters");
	expect_one("[vm web_1]\n", 1, "VM name 'web_1'");
	expect_one("[vm -web]\n", 1, "VM name '-web'");
	expect_one("[vm abcdefghijklmnopqrstuvwxyz0123456789abcde]\n", 1, "at most 40 characters");
	expect_one("[lab]\nname = My Lab\n[vm a]\n", 2, "lab name 'My Lab'");
	expect_one("[vm abcdefghijklmnopqrstuvwxyz0123456789abc]\ncount = 2\n", 1,
		   "VM name 'abcdefghijklmnopqrstuvwxyz0123456789abc-1' (from count = 2) is longer "
		   "than 40");
	expect_one("[vm web]\ncount = 2\n[vm web-2]\n", 3,
		   "VM name 'web-2' of [vm web-2] clashes with 'web-2' of [vm web] at line 1");
	expect_one("[lab]\nuser = Dev\n[vm a]\n", 2, "user 'Dev'");
	expect_one("[lab]\nuser = root\n[vm a]\n", 2, "user must not be root");
}

static void test_values(void **state)
{
	(void)state;
	expect_one("[vm a]\ncpus = 0\n", 2, "cpus must be a whole number from 1 to 256, not '0'");
	expect_one("[vm a]\ncpus = 257\n", 2, "cpus must be a whole number from 1 to 256");
	expect_one("[vm a]\ncpus = 2 cores\n", 2, "not '2 cores'");
	expect_one("[vm a]\ncount = 65\n", 2, "count must be a whole number from 1 to 64");
	expect_one("[vm a]\nmemory = 64M\n", 2, "memory 64M is out of range: 128M to 1T");
	expect_one("[vm a]\nmemory = 2T\n", 2, "out of range");
	expect_one("[vm a]\nmemory = 1.3G\n", 2, "memory: size '1.3G' is not a whole number of MiB");
	expect_one("[vm a]\nmemory = 131073K\n", 2, "memory 131073K is not a whole number of MiB");
	expect_one("[vm a]\nmemory = 2\n", 2, "needs a unit: K, M, G or T (for example 2G)");
	/* every suggested value is itself valid */
	expect_one("[vm a]\nmemory = 2048\n", 2, "needs a unit: K, M, G or T (for example 2048M)");
	expect_one("[vm a]\ndisk = 20\n", 2, "(for example 20G)");
	expect_one("[vm a]\ndisk = 2048\n", 2, "(for example 2048M)");
	expect_one("[vm a]\nmemory = 5000000\n", 2, "needs a unit: K, M, G or T");
	expect_one("[vm a]\ndisk = 512M\n", 2, "disk 512M is out of range: 1G to 64T");
	expect_one("[vm a]\ndisk = 65T\n", 2, "out of range");
	expect_one("[lab]\nnetwork = bridge\n[vm a]\n", 2, "network must be nat or isolated");
	expect_one("[lab]\nsubnet = 10.77.3.1/24\n[vm a]\n", 2, "subnet must be auto or a CIDR");
	expect_one("[lab]\nsubnet = 10.0.0.0/8\n[vm a]\n", 2, "the prefix must be /16 to /29");
	expect_one("[lab]\nsubnet = 10.0.0.0/30\n[vm a]\n", 2, "the prefix must be /16 to /29");
	expect_one("[lab]\nsubnet = 10.0.0.0/29\n[vm a]\ncount = 6\n", 2,
		   "subnet 10.0.0.0/29 is too small: it holds 5 VMs (10.0.0.2 to 10.0.0.6;");
	expect_one("[vm a]\nimage = dir/x\n", 2, "a catalog name has no '/'");
	expect_one("[vm a]\nimage = ./missing.qcow2\n", 2, "image './missing.qcow2': No such file");
	expect_one("[vm a]\nprovision = nope.sh\n", 2, "provision 'nope.sh': No such file or directory");
	expect_one("[vm a]\nuser-data = .\n", 2, "user-data '.' is not a regular file");
	expect_one("[defaults]\nimage = ../nope\n[vm a]\n", 2, "image '../nope'");
}

static void test_ips(void **state)
{
	(void)state;
	expect_one("[vm a]\nip = 10.77.3.20\n", 2, "ip needs a fixed [lab] subnet");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.256\n", 4,
		   "ip '10.77.3.256' is not an IPv4 address");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 010.77.3.2\n", 4, "not an IPv4");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.4.2\n", 4,
		   "ip 10.77.4.2 is outside the lab subnet (subnet 10.77.3.0/24: VMs use "
		   "10.77.3.10 to 10.77.3.127)");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.0\n", 4, "network address");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.1\n", 4, "gateway");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.255\n", 4, "broadcast");
	/* the planner's layout: .2-.9 reserved, the upper half is the DHCP range */
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.5\n", 4,
		   "ip 10.77.3.5 is reserved for host-side services");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.200\n", 4,
		   "ip 10.77.3.200 is inside the dynamic DHCP range");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.126\ncount = 3\n", 4,
		   "ip 10.77.3.128 (from count) is inside the dynamic DHCP range");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\ncount = 64\n[vm b]\ncount = 55\n", 2,
		   "subnet 10.77.3.0/24 is too small: it holds 118 VMs (10.77.3.10 to 10.77.3.127;");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.20\n[vm b]\nip = 10.77.3.20\n",
		   6, "ip 10.77.3.20 of [vm b] is also used by [vm a] (line 4)");
	expect_one("[lab]\nsubnet = 10.77.3.0/24\n[vm a]\nip = 10.77.3.20\ncount = 3\n"
		   "[vm b]\nip = 10.77.3.22\n", 7, "ip 10.77.3.22 of [vm b] is also used by [vm a]");
}

/* Ten different mistakes: ten diagnostics, in line order, at the right lines. */
/* Hostile profiles (issue 12): public subnets, paths out of the project
 * (spelled with .., absolute, as file:// or through a symlink), and the
 * mistakes inside a section that is itself a mistake. */
static void test_hostile(void **state)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	struct vl_config cfg = { 0 };
	struct vl_subnet allow = { (8u << 24) | (8u << 16), 16 };
	VL_AUTOFREE char *outside = vl_test_write(vl_test_tmp, "outside.sh", "echo\n");
	VL_AUTOFREE char *outdir = cat(vl_test_tmp, "/outdir");
	VL_AUTOFREE char *link = cat(vl_test_tmp, "/lab/link.sh");
	VL_AUTOFREE char *prov_abs = cat("[vm a]\nprovision = ", outside);
	VL_AUTOFREE char *img_url = NULL;
	(void)state;

	expect_one("[lab]\nsubnet = 8.8.8.0/24\n[vm a]\n", 2, "not private address space");
	expect_one("[lab]\nsubnet = 172.32.0.0/24\n[vm a]\n", 2, "not private address space");
	/* allowed by vmlab.conf: loads */
	cfg.allow_subnets = &allow;
	cfg.n_allow_subnets = 1;
	struct vl_profile_trust t = { .config = &cfg };
	VL_AUTOFREE char *ini = vl_test_write(vl_test_tmp, "pub/vmlab.ini",
					      "[lab]\nsubnet = 8.8.8.0/24\n[vm a]\n");
	assert_int_equal(vl_profile_load_trusted(&p, ini, &t, &d, &err), 0);
	assert_int_equal(p.subnet_addr, (8u << 24) | (8u << 16) | (8u << 8));
	vl_profile_release(&p);
	assert_true(vl_config_subnet_allowed(NULL, (192u << 24) | (168u << 16) | (3u << 8), 24));
	assert_false(vl_config_subnet_allowed(NULL, 192u << 24, 8));   /* wider than 192.168/16 */

	expect_one("[vm a]\nprovision = ../outside.sh\n", 2, "outside the project directory");
	expect_one(prov_abs, 2, "--allow-outside or set allow_outside = yes");
	mkdir(outdir, 0700);
	expect_one("[vm a]\nsync = ../outdir:/srv\n", 2, "resolves to");
	expect_one("[vm a]\nuser-data = ../outside.sh\n", 2, "outside the project directory");
	assert_int_equal(symlink(outside, link), 0);
	expect_one("[vm a]\nprovision = link.sh\n", 2, "outside.sh, outside the project");
	img_url = cat("[vm a]\nimage = file://", outside);
	expect_one(img_url, 2, "outside the project directory");
	expect_one("[vm a]\nimage = file:///no/such.img\n", 2, "No such file");
	/* the flag lets them through */
	t = (struct vl_profile_trust){ .allow_outside = true };
	VL_AUTOFREE char *ini2 = vl_test_write(vl_test_tmp, "lab/vmlab.ini",
					       "[vm a]\nprovision = link.sh\nprovision = ../outside.sh\n");
	assert_int_equal(vl_profile_load_trusted(&p, ini2, &t, &d, &err), 0);
	assert_int_equal(p.vms[0].n_provision, 2);
	vl_profile_release(&p);

	/* a duplicate [vm db] and a bad header: their keys are checked too */
	assert_int_equal(load("dup", "[vm db]\n[vm db]\ndisk = 20Q\n[vm Bad]\ncpus = 0\n"
			      "[lab x]\nnetwork = bridged\n", &p, &d, &err), -1);
	assert_int_equal(d.n, 6);
	assert_int_equal(d.items[0].line, 2);
	assert_non_null(strstr(d.items[0].msg, "duplicate section [vm db]"));
	assert_int_equal(d.items[1].line, 3);
	assert_non_null(strstr(d.items[1].msg, "unknown unit 'Q'"));
	assert_int_equal(d.items[2].line, 4);
	assert_int_equal(d.items[3].line, 5);
	assert_non_null(strstr(d.items[3].msg, "cpus must be"));
	assert_int_equal(d.items[4].line, 6);
	assert_int_equal(d.items[5].line, 7);
	assert_non_null(strstr(d.items[5].msg, "network must be"));
	vl_diags_release(&d);
}

static void test_ten_mistakes(void **state)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	static const struct { int line; const char *msg; } want[] = {
		{ 2, "lab name 'Web App'" },
		{ 3, "network must be nat or isolated" },
		{ 6, "unknown key 'memroy' in [defaults]" },
		{ 7, "disk: size '20' needs a unit" },
		{ 9, "cpus must be a whole number" },
		{ 10, "memory: size '1.3G'" },
		{ 11, "provision 'missing.sh'" },
		{ 12, "ip needs a fixed [lab] subnet" },
		{ 13, "unknown section [vmm db]; did you mean [vm db]?" },
		{ 15, "duplicate section [vm web]" },
	};
	(void)state;

	assert_int_equal(load("ten",
		"[lab]\n"                  /* 1 */
		"name = Web App\n"         /* 2 */
		"network = bridged\n"      /* 3 */
		"subnet = auto\n"          /* 4 */
		"[defaults]\n"             /* 5 */
		"memroy = 2G\n"            /* 6 */
		"disk = 20\n"              /* 7 */
		"[vm web]\n"               /* 8 */
		"cpus = two\n"             /* 9 */
		"memory = 1.3G\n"          /* 10 */
		"provision = missing.sh\n" /* 11 */
		"ip = 10.77.3.20\n"        /* 12 */
		"[vmm db]\n"               /* 13 */
		"cpus = 2\n"               /* 14 */
		"[vm web]\n"               /* 15 */
		"cpus = 2\n",              /* 16 */
		&p, &d, &err), -1);
	for (size_t i = 0; i < d.n; i++)
		print_message("%d: %s\n", d.items[i].line, d.items[i].msg);
	assert_int_equal(d.n, 10);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(d.items[i].line, want[i].line);
		assert_non_null(strstr(d.items[i].msg, want[i].msg));
	}
	assert_string_equal(err.msg + strlen(err.msg) - strlen("/ten/vmlab.ini"), "/ten/vmlab.ini");
	assert_non_null(strstr(err.msg, "10 problems in "));
	vl_diags_release(&d);
}

static void test_sync(void **state)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *f = vl_test_write(vl_test_tmp, "sy/src/a.txt", "a");
	VL_AUTOFREE char *g = vl_test_write(vl_test_tmp, "lab/file", "x");
	VL_AUTOFREE char *h = vl_test_write(vl_test_tmp, "lab/src/x", "x");
	(void)state;

	assert_int_equal(load("sy", "[vm a]\nsync = ./src:/home/dev/src\nsync = src:/srv/www/\n",
			      &p, &d, &err), 0);
	assert_int_equal(p.vms[0].n_sync, 2);
	assert_true(vl_str_endswith(p.vms[0].sync[0].src, "/sy/./src"));
	assert_string_equal(p.vms[0].sync[1].dst, "/srv/www");
	assert_int_equal(p.vms[0].sync[1].line, 3);
	vl_profile_release(&p);

	expect_one("[vm a]\nsync = ./nope:/x\n", 2, "sync './nope:/x': No such file");
	expect_one("[vm a]\nsync = ./file:/x\n", 2, "not a directory");
	expect_one("[vm a]\nsync = ./src\n", 2, "HOST_DIR:GUEST_DIR");
	expect_one("[vm a]\nsync = ./src:x\n", 2, "must be absolute");
	expect_one("[vm a]\nsync = ./src:/x\nsync = src:/x/\n", 3,
		   "/x is already synced (line 2)");
	expect_one("[defaults]\nsync = ./src:/x\n[vm a]\n", 2, "'sync' is set per VM");
}

static void test_find(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *ini = vl_test_write(vl_test_tmp, "top/vmlab.ini", "[vm a]\n");
	VL_AUTOFREE char *deep = vl_test_write(vl_test_tmp, "top/a/b/c/file", "");
	VL_AUTOFREE char *c = cat(vl_test_tmp, "/top/a/b/c");
	VL_AUTOFREE char *top = cat(vl_test_tmp, "/top");
	VL_AUTOFREE char *found = NULL, *found2 = NULL, *none = NULL;
	VL_AUTOFREE char *real = realpath(ini, NULL);
	(void)state;

	found = vl_profile_find(c, &err);
	assert_non_null(found);
	assert_string_equal(found, real);
	found2 = vl_profile_find(top, &err);
	assert_string_equal(found2, real);

	/* a directory named vmlab.ini is not a profile */
	VL_AUTOFREE char *other = cat(vl_test_tmp, "/other");
	VL_AUTOFREE char *odir = cat(vl_test_tmp, "/other/vmlab.ini");
	mkdir(other, 0755);
	mkdir(odir, 0755);
	none = vl_profile_find(other, &err);
	if (none == NULL) {
		assert_int_equal(err.code, VL_E_PROFILE);
		assert_non_null(strstr(err.msg, "or any parent directory; run 'vmlab init'"));
	} /* else: a vmlab.ini above $TMPDIR; nothing to assert */

	assert_null(vl_profile_find("/nonexistent/dir", &err));
	assert_int_equal(err.code, VL_E_PROFILE);
}

static void test_missing_file(void **state)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *path = cat(vl_test_tmp, "/nope/vmlab.ini");
	(void)state;

	assert_int_equal(vl_profile_load(&p, path, &d, &err), -1);
	assert_int_equal(err.code, VL_E_PROFILE);
	assert_int_equal(d.n, 0);
}

static void test_forwards_and_persist(void **state)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	assert_int_equal(load("fwd", "[lab]\npersist = 5\n[vm a]\nforward = 8080:80, 0.0.0.0:8443:443 22\n"
			      "[vm b]\nforward = 127.0.0.2:8080:80\n", &p, &d, &err), 0);
	assert_int_equal(p.persist, 5);
	assert_int_equal(p.vms[0].n_forwards, 3);
	assert_int_equal(p.vms[0].forwards[0].local, 8080);
	assert_int_equal(p.vms[0].forwards[0].remote, 80);
	assert_string_equal(p.vms[0].forwards[1].bind, "0.0.0.0");
	assert_int_equal(p.vms[0].forwards[2].local, 22);
	assert_int_equal(p.vms[1].n_forwards, 1);
	vl_profile_release(&p);
	assert_int_equal(load("fwd", "[vm a]\n", &p, &d, &err), 0);
	assert_int_equal(p.persist, 60);
	assert_int_equal(p.vms[0].n_forwards, 0);
	vl_profile_release(&p);

	expect_one("[lab]\npersist = -1\n[vm a]\n", 2, "persist must be whole seconds from 0");
	expect_one("[lab]\npersist = 86401\n[vm a]\n", 2, "to 86400, not '86401'");
	expect_one("[vm a]\nforward = 8080:x\n", 2, "forward '8080:x': remote port must be 1 to 65535");
	expect_one("[vm a]\ncount = 2\nforward = 8080:80\n", 3,
		   "forward with count = 2: the VMs cannot share local ports");
	expect_one("[vm a]\nforward = 8080:80\n[vm b]\n\nforward = 8080:81\n", 5,
		   "local port 8080 is also forwarded by [vm a] (line 2)");
	expect_one("[vm a]\nforward = 8080:80 8080:81\n", 2, "local port 8080 is also forwarded");
	expect_one("[vm a]\nforward = 0.0.0.0:8080:80\n[vm b]\nforward = 8080:80\n", 4,
		   "local port 8080");
	expect_one("[defaults]\nforward = 80\n[vm a]\n", 2, "'forward' is set per VM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test_setup_teardown(test_valid, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_defaults, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_sections_and_keys, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_names, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_values, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_ips, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_ten_mistakes, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hostile, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_sync, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_find, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, vl_test_tmp_setup, vl_test_tmp_teardown),
		cmocka_unit_test_setup_teardown(test_forwards_and_persist, vl_test_tmp_setup, vl_test_tmp_teardown),
	};
	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
