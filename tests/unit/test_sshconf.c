/* Unit tests for src/sshconf: the Host blocks read back by OpenSSH itself
 * (`ssh -G`, which resolves a config without connecting), quoting of awkward
 * paths, and the known_hosts lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "sshconf.h"
#include "util/mem.h"

static const struct vl_sshconf_vm vms[] = {
	{ "web-1", "web-1.shop", "10.77.3.10", "vmlab-shop-1a2b3c4d-web-1",
	  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv1 vmlab-host-web-1" },
	{ "db", "db.shop", "10.77.3.20", "vmlab-shop-1a2b3c4d-db", "ssh-ed25519 AAAAdb" },
};

/* What `ssh -G -F config host` resolves, one "key value" per line. */
static char *resolve(const char *config, const char *host)
{
	char path[] = "/tmp/vl-sshconf-XXXXXX";
	int fd = mkstemp(path);
	int status = -1;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, config, strlen(config)), (ssize_t)strlen(config));
	close(fd);
	char *const argv[] = { (char *)"/usr/bin/ssh", (char *)"-T", (char *)"-G", (char *)"-F", path,
			       (char *)host, NULL };
	char *out = vl_test_run(argv, false, &status);
	unlink(path);
	assert_int_equal(status, 0);
	return out;
}

static void has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
			return;
	fail_msg("missing '%s' in ssh -G output", line);
}

static void test_blocks_read_by_openssh(void **state)
{
	struct vl_sshconf c = { "dev", "/home/u/my proj/.vmlab/id_ed25519",
				"/home/u/100%/.vmlab/known_hosts", NULL };
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *text = NULL;
	(void)state;
	if (access("/usr/bin/ssh", X_OK) != 0)
		skip();
	assert_int_equal(vl_sshconf_render(&c, vms, 2, &text, &err), 0);
	assert_non_null(strstr(text, "Host web-1.shop web-1\n"));

	const char *aliases[] = { "web-1", "web-1.shop" };
	for (size_t i = 0; i < 2; i++) {
		VL_AUTOFREE char *g = resolve(text, aliases[i]);
		has_line(g, "hostname 10.77.3.10");
		has_line(g, "user dev");
		has_line(g, "identityfile /home/u/my proj/.vmlab/id_ed25519");
		has_line(g, "userknownhostsfile /home/u/100%/.vmlab/known_hosts");
		has_line(g, "stricthostkeychecking true");
		has_line(g, "identitiesonly yes");
		has_line(g, "hostkeyalias vmlab-shop-1a2b3c4d-web-1");
	}
	VL_AUTOFREE char *g = resolve(text, "db");
	has_line(g, "hostname 10.77.3.20");
	has_line(g, "hostkeyalias vmlab-shop-1a2b3c4d-db");
}

/* VMs of a host reached over SSH: ProxyJump through its sshd, whose key is
 * checked in vmlab's own known_hosts. */
static void test_jump_block(void **state)
{
	struct vl_sshconf_jump j = { "shop-1a2b3c4d-jump", "lab2.example.org", "root",
				     "/home/u/.ssh/id_ed25519", "/home/u/.config/vmlab/known_hosts",
				     2222 };
	struct vl_sshconf c = { "dev", "/p/.vmlab/id_ed25519", "/p/.vmlab/known_hosts", &j };
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *text = NULL;
	(void)state;
	if (access("/usr/bin/ssh", X_OK) != 0)
		skip();
	assert_int_equal(vl_sshconf_render(&c, vms, 2, &text, &err), 0);
	VL_AUTOFREE char *g = resolve(text, "web-1");
	has_line(g, "hostname 10.77.3.10");
	has_line(g, "proxyjump shop-1a2b3c4d-jump");
	VL_AUTOFREE char *h = resolve(text, "shop-1a2b3c4d-jump");
	has_line(h, "hostname lab2.example.org");
	has_line(h, "port 2222");
	has_line(h, "user root");
	has_line(h, "userknownhostsfile /home/u/.config/vmlab/known_hosts");
	has_line(h, "stricthostkeychecking true");
	j.server = "a b";
	free(text);
	text = NULL;
	assert_int_equal(vl_sshconf_render(&c, vms, 2, &text, &err), -1);
	assert_int_equal(err.code, VL_E_USAGE);
}

static void test_refuses_unquotable(void **state)
{
	struct vl_sshconf c = { "dev", "/tmp/a\"b/id", "/tmp/kh", NULL };
	struct vl_err err = VL_ERR_INIT;
	char *text = NULL;
	(void)state;
	assert_int_equal(vl_sshconf_render(&c, vms, 1, &text, &err), -1);
	assert_int_equal(err.code, VL_E_USAGE);
	assert_null(text);
	assert_null(strchr(err.msg, '\n'));
	c.identity = "/tmp/id";
	c.user = "a\nb";
	assert_int_equal(vl_sshconf_render(&c, vms, 1, &text, &err), -1);
}

static void test_known_hosts(void **state)
{
	VL_AUTOFREE char *kh = vl_sshconf_known_hosts(vms, 2);
	(void)state;
	assert_string_equal(kh, "vmlab-shop-1a2b3c4d-web-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv1\n"
				"vmlab-shop-1a2b3c4d-db ssh-ed25519 AAAAdb\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_read_by_openssh),
		cmocka_unit_test(test_jump_block),
		cmocka_unit_test(test_refuses_unquotable),
		cmocka_unit_test(test_known_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
