/* Unit tests for src/ready: parsing what `cloud-init status --long` prints
 * (22.4 as in Debian 12, and the 23.x+ layout) and the readiness decision. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ready.h"
#include "util/mem.h"

/* Debian 12's cloud-init 22.4 after a clean boot */
static const char done_22[] =
	"status: done\n"
	"time: Tue, 01 Dec 2026 10:12:41 +0000\n"
	"detail:\n"
	"DataSourceNoCloud [seed=/dev/vdb][dsmode=net]\n";

/* 22.4 when a module failed (the image has no locales package) */
static const char error_22[] =
	"status: error\n"
	"time: Tue, 01 Dec 2026 10:12:41 +0000\n"
	"detail:\n"
	"('locale', ProcessExecutionError(\"Unexpected error while running command.\\nCommand: "
	"['locale-gen', 'en_US.UTF-8']\\nExit code: -\\nReason: [Errno 2] No such file or "
	"directory: b'locale-gen'\\nStdout: -\\nStderr: -\"))\n"
	"('scripts-user', RuntimeError('Runparts: 1 failures (part-001) in 1 attempted commands'))\n";

/* 23.4 and later: an errors: list, extended status, recoverable errors */
static const char error_23[] =
	"status: error\n"
	"extended_status: error - done\n"
	"boot_status_code: enabled-by-generator\n"
	"last_update: Thu, 01 Jan 1970 00:02:41 +0000\n"
	"detail:\n"
	"DataSourceNoCloud [seed=/dev/sr0]\n"
	"errors:\n"
	"\t- ('package_update_upgrade_install', RuntimeError('Failed to install packages: "
	"[\\'nginx\\']'))\n"
	"recoverable_errors:\n"
	"WARNING:\n"
	"\t- Skipping modules 'x' because no applicable config is provided.\n";

static const char degraded_23[] =
	"status: done\n"
	"extended_status: degraded done\n"
	"detail:\n"
	"DataSourceNoCloud [seed=/dev/sr0]\n"
	"errors: []\n"
	"recoverable_errors:\n"
	"WARNING:\n"
	"\t- Something harmless\n";

static void test_parse_done(void **state)
{
	struct vl_ci_status st;
	(void)state;

	vl_ci_parse(done_22, &st);
	assert_int_equal(st.state, VL_CI_DONE);
	assert_int_equal(st.n_errors, 0);
	vl_ci_status_release(&st);
	vl_ci_parse(degraded_23, &st);
	assert_int_equal(st.state, VL_CI_DONE);
	assert_int_equal(st.n_errors, 0);
	vl_ci_status_release(&st);
}

static void test_parse_errors_22(void **state)
{
	struct vl_ci_status st;
	(void)state;

	vl_ci_parse(error_22, &st);
	assert_int_equal(st.state, VL_CI_ERROR);
	assert_int_equal(st.n_errors, 2);
	assert_string_equal(st.errors[0].module, "locale");
	/* one line: the repr's \n became "; " */
	assert_null(strchr(st.errors[0].message, '\n'));
	assert_non_null(strstr(st.errors[0].message, "Command: ['locale-gen', 'en_US.UTF-8']"));
	assert_non_null(strstr(st.errors[0].message, "No such file or directory"));
	assert_string_equal(st.errors[1].module, "scripts-user");
	assert_string_equal(st.errors[1].message,
			    "RuntimeError('Runparts: 1 failures (part-001) in 1 attempted commands')");
	vl_ci_status_release(&st);
}

static void test_parse_errors_23(void **state)
{
	struct vl_ci_status st;
	(void)state;

	vl_ci_parse(error_23, &st);
	assert_int_equal(st.state, VL_CI_ERROR);
	/* the errors: list only: not the datasource line, not the warnings */
	assert_int_equal(st.n_errors, 1);
	assert_string_equal(st.errors[0].module, "package_update_upgrade_install");
	assert_non_null(strstr(st.errors[0].message, "Failed to install packages"));
	vl_ci_status_release(&st);
}

static void test_parse_states(void **state)
{
	static const struct { const char *text; enum vl_ci_state want; } cases[] = {
		{ "status: running\n", VL_CI_RUNNING },
		{ "status: not run\n", VL_CI_RUNNING },
		{ "status: degraded running\n", VL_CI_RUNNING },
		{ "status: none\n", VL_CI_NONE },
		{ "status: disabled\n", VL_CI_DISABLED },
		{ "", VL_CI_UNKNOWN },
		{ "sh: cloud-init: Permission denied\n", VL_CI_UNKNOWN },
		{ "status: something new\n", VL_CI_UNKNOWN },
		/* an error with no detail is still an error */
		{ "status: error\ntime: x\ndetail:\n", VL_CI_ERROR },
	};
	(void)state;

	for (size_t i = 0; i < VL_ARRAY_SIZE(cases); i++) {
		struct vl_ci_status st;
		vl_ci_parse(cases[i].text, &st);
		assert_int_equal(st.state, cases[i].want);
		vl_ci_status_release(&st);
	}
	struct vl_ci_status st;
	vl_ci_parse(NULL, &st);
	assert_int_equal(st.state, VL_CI_UNKNOWN);
	assert_string_equal(vl_ci_state_name(VL_CI_ERROR), "error");
}

static void test_decide(void **state)
{
	struct vl_ci_status st = { 0 };
	(void)state;

	/* no SSH yet: wait, whatever the rest says */
	st.state = VL_CI_DONE;
	assert_int_equal(vl_ready_decide(false, &st, false), VL_READY_WAIT);
	assert_int_equal(vl_ready_decide(true, NULL, false), VL_READY_WAIT);
	assert_int_equal(vl_ready_decide(true, &st, false), VL_READY_OK);
	assert_int_equal(vl_ready_decide(true, &st, true), VL_READY_OK);
	/* an image without cloud-init is ready once SSH answers */
	st.state = VL_CI_NONE;
	assert_int_equal(vl_ready_decide(true, &st, true), VL_READY_OK);
	st.state = VL_CI_DISABLED;
	assert_int_equal(vl_ready_decide(true, &st, false), VL_READY_OK);
	/* still running, or not understood: keep waiting (the deadline decides) */
	st.state = VL_CI_RUNNING;
	assert_int_equal(vl_ready_decide(true, &st, false), VL_READY_WAIT);
	st.state = VL_CI_UNKNOWN;
	assert_int_equal(vl_ready_decide(true, &st, false), VL_READY_WAIT);
	/* errors: a warning by default, a failure with --strict */
	st.state = VL_CI_ERROR;
	assert_int_equal(vl_ready_decide(true, &st, false), VL_READY_ERRORS);
	assert_int_equal(vl_ready_decide(true, &st, true), VL_READY_FAILED);
}

static void test_probe_script(void **state)
{
	VL_AUTOFREE char *s = vl_ci_probe_script(15);
	(void)state;

	/* the end of this boot's cloud-init, polled on the guest, 30 half-seconds */
	assert_non_null(strstr(s, "/run/cloud-init/result.json"));
	assert_non_null(strstr(s, "-lt 30 ]"));
	assert_non_null(strstr(s, "echo 'status: none'"));
	assert_non_null(strstr(s, "cloud-init status --long"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_done),
		cmocka_unit_test(test_parse_errors_22),
		cmocka_unit_test(test_parse_errors_23),
		cmocka_unit_test(test_parse_states),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_probe_script),
	};
	return cmocka_run_group_tests_name("ready", tests, NULL, NULL);
}
