/* Unit tests for src/cloudinit: meta-data, user-data (plain and MIME
 * multipart with the profile's extra part), network-config, YAML quoting.
 * No YAML library: lines are checked exactly where the layout matters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cloudinit.h"
#include "plan.h"
#include "util/buf.h"
#include "util/ipv4.h"
#include "util/mem.h"
#include "util/str.h"

#define PRIV "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQ==\n" \
	     "-----END OPENSSH PRIVATE KEY-----\n"
#define PUB "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost vmlab-host"
#define AUTH "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUser dev@vmlab"

static struct vl_plan g_plan;
static const struct vl_ci_keys g_keys = { AUTH, PRIV, PUB };

static int setup(void **state)
{
	static struct vl_vm_spec spec = { .name = (char *)"web", .count = 2, .cpus = 1 };
	struct vl_profile p = { .name = (char *)"webapp", .dir = (char *)"/home/dev/webapp",
				.network = VL_NET_NAT, .user = (char *)"dev", .vms = &spec, .n_vms = 1 };
	struct vl_config cfg = { 0 };
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	vl_cidr_parse("10.77.3.0/24", &p.subnet_addr, &p.subnet_prefix);
	return vl_plan_build(&g_plan, &p, &cfg, NULL, 0, &err);
}

static int teardown(void **state)
{
	(void)state;
	vl_plan_release(&g_plan);
	return 0;
}

static void has(const char *doc, const char *needle)
{
	if (!strstr(doc, needle))
		fail_msg("missing:\n%s\n--- in:\n%s", needle, doc);
}

static size_t occurrences(const char *doc, const char *needle)
{
	size_t n = 0;

	for (const char *p = doc; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_meta_data(void **state)
{
	(void)state;
	VL_AUTOFREE char *a = vl_cloudinit_meta_data(&g_plan.vms[0], "3");
	assert_string_equal(a, "instance-id: \"vmlab-webapp-fd20db9c-web-1-3\"\n"
			       "local-hostname: \"web-1\"\n");
	VL_AUTOFREE char *b = vl_cloudinit_meta_data(&g_plan.vms[1], NULL);
	assert_string_equal(b, "instance-id: \"vmlab-webapp-fd20db9c-web-2\"\n"
			       "local-hostname: \"web-2\"\n");
}

static void test_user_data_plain(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	VL_AUTOFREE char *u = vl_cloudinit_user_data(&g_plan, &g_plan.vms[0], &g_keys, NULL, &err);
	assert_non_null(u);
	assert_true(strncmp(u, "#cloud-config\n", 14) == 0);
	has(u, "\nhostname: \"web-1\"\n");
	has(u, "\nfqdn: \"web-1.webapp\"\n");
	has(u, "\nmanage_etc_hosts: true\n");
	has(u, "\ndisable_root: true\n");
	has(u, "\nusers:\n"
	       "  - name: \"dev\"\n"
	       "    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n"
	       "    shell: \"/bin/bash\"\n"
	       "    lock_passwd: true\n"
	       "    ssh_authorized_keys:\n"
	       "      - \"" AUTH "\"\n");
	has(u, "\nssh_deletekeys: true\n");
	assert_null(strstr(u, "ssh_genkeytypes"));
	/* The private key as a literal block, every line indented under the key. */
	has(u, "\nssh_keys:\n"
	       "  ed25519_private: |\n"
	       "    -----BEGIN OPENSSH PRIVATE KEY-----\n"
	       "    b3BlbnNzaC1rZXktdjEAAAAA\n"
	       "    QyNTUxOQ==\n"
	       "    -----END OPENSSH PRIVATE KEY-----\n"
	       "  ed25519_public: \"" PUB "\"\n");
	assert_null(strstr(u, "Content-Type"));

	/* Without keys nothing about them is emitted. */
	struct vl_ci_keys none = { 0 };
	VL_AUTOFREE char *n = vl_cloudinit_user_data(&g_plan, &g_plan.vms[0], &none, NULL, &err);
	assert_null(strstr(n, "ssh_keys"));
	assert_null(strstr(n, "ssh_authorized_keys"));
}

static void test_user_data_multipart(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	const char *extra = "#cloud-config\npackages:\n  - nginx\nruncmd:\n  - [touch, /x]";
	(void)state;

	VL_AUTOFREE char *u = vl_cloudinit_user_data(&g_plan, &g_plan.vms[1], &g_keys, extra, &err);
	assert_non_null(u);
	const char *head = "Content-Type: multipart/mixed; boundary=\"==vmlab-part-boundary-0==\"\n"
			   "MIME-Version: 1.0\n\n";
	assert_true(strncmp(u, head, strlen(head)) == 0);
	assert_int_equal(occurrences(u, "--==vmlab-part-boundary-0==\n"), 2);
	assert_true(vl_str_endswith(u, "\n--==vmlab-part-boundary-0==--\n"));
	/* Our part first, then the user's, with the merge rule on the user's. */
	const char *ours = strstr(u, "filename=\"vmlab.cfg\"\n\n#cloud-config\n");
	const char *theirs = strstr(u, "Content-Type: text/cloud-config; charset=\"utf-8\"\n"
				       "MIME-Version: 1.0\n"
				       "Content-Disposition: attachment; filename=\"user-data.cfg\"\n"
				       "Merge-Type: " VL_CI_MERGE_TYPE "\n\n" "#cloud-config\npackages:");
	assert_non_null(ours);
	assert_non_null(theirs);
	assert_true(ours < theirs);
	has(u, "hostname: \"web-2\"\n");
	/* The user's part is kept verbatim and ended with a newline. */
	has(u, "  - [touch, /x]\n--==vmlab-part-boundary-0==--\n");
	assert_int_equal(occurrences(u, "Merge-Type:"), 1);

	/* A shell script becomes a text/x-shellscript part, no merge header. */
	VL_AUTOFREE char *s = vl_cloudinit_user_data(&g_plan, &g_plan.vms[1], &g_keys,
						     "#!/bin/sh\necho hi\n", &err);
	has(s, "Content-Type: text/x-shellscript; charset=\"utf-8\"\n");
	has(s, "filename=\"user-data.sh\"\n\n#!/bin/sh\necho hi\n--==vmlab");
	assert_null(strstr(s, "Merge-Type"));

	/* The boundary never occurs inside a part. */
	VL_AUTOFREE char *c = vl_cloudinit_user_data(&g_plan, &g_plan.vms[1], &g_keys,
						     "#!/bin/sh\necho ==vmlab-part-boundary-0==\n",
						     &err);
	has(c, "boundary=\"==vmlab-part-boundary-1==\"");
	assert_int_equal(occurrences(c, "--==vmlab-part-boundary-1==\n"), 2);

	/* Anything else is refused, naming the file. */
	g_plan.vms[1].user_data = vl_strdup("/home/dev/webapp/extra.txt");
	assert_null(vl_cloudinit_user_data(&g_plan, &g_plan.vms[1], &g_keys, "packages: [x]\n", &err));
	assert_int_equal(err.code, VL_E_PROFILE);
	has(err.msg, "/home/dev/webapp/extra.txt of web-2 must start with");
}

static void test_yaml_quote(void **state)
{
	struct vl_buf b = VL_BUF_INIT;
	(void)state;

	vl_yaml_quote(&b, "a\"b\\c\nd\te\x01: #x");
	assert_string_equal(vl_buf_str(&b), "\"a\\\"b\\\\c\\nd\\te\\x01: #x\"");
	vl_buf_truncate(&b, 0);
	vl_yaml_quote(&b, NULL);
	assert_string_equal(vl_buf_str(&b), "\"\"");

	/* Chomping follows trailing newlines exactly. */
	vl_buf_truncate(&b, 0);
	vl_yaml_block(&b, "x\ny", 2);
	assert_string_equal(vl_buf_str(&b), "|-\n  x\n  y\n");
	vl_buf_truncate(&b, 0);
	vl_yaml_block(&b, "x\n\ny\n\n", 2);
	assert_string_equal(vl_buf_str(&b), "|+\n  x\n\n  y\n\n");
	/* Leading space, control characters or CR: quoted instead. */
	vl_buf_truncate(&b, 0);
	vl_yaml_block(&b, " x\n", 2);
	assert_string_equal(vl_buf_str(&b), "\" x\\n\"\n");
	vl_buf_truncate(&b, 0);
	vl_yaml_block(&b, "a\r\nb", 2);
	assert_string_equal(vl_buf_str(&b), "\"a\\r\\nb\"\n");
	vl_buf_release(&b);
}

static void test_user_name_quoted(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_plan odd = g_plan;
	(void)state;

	/* A user name that would be YAML syntax if it were not quoted. */
	odd.user = (char *)"x\"\n  - name: root";
	VL_AUTOFREE char *u = vl_cloudinit_user_data(&odd, &odd.vms[0], &g_keys, NULL, &err);
	has(u, "  - name: \"x\\\"\\n  - name: root\"\n");
	assert_int_equal(occurrences(u, "\n  - name:"), 1);
}

static void test_network_config(void **state)
{
	(void)state;
	const struct vl_plan_vm *vm = &g_plan.vms[0];
	VL_AUTOFREE char *d = vl_cloudinit_network_config(vm);
	struct vl_buf want = VL_BUF_INIT;

	/* DHCP only: the address comes from the network's reservation, DNS and
	 * the search domain with it, whatever the guest's network stack */
	vl_buf_printf(&want, "version: 2\nethernets:\n  lab0:\n    match:\n"
			     "      macaddress: \"%s\"\n    dhcp4: true\n"
			     "    dhcp4-overrides:\n      use-domains: true\n", vm->mac);
	assert_string_equal(d, vl_buf_str(&want));
	assert_null(strstr(d, "addresses:"));
	vl_buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_data),
		cmocka_unit_test(test_user_data_plain),
		cmocka_unit_test(test_user_data_multipart),
		cmocka_unit_test(test_yaml_quote),
		cmocka_unit_test(test_user_name_quoted),
		cmocka_unit_test(test_network_config),
	};
	return cmocka_run_group_tests_name("cloudinit", tests, setup, teardown);
}
