/* Unit tests for the pure parts of forwards and the held session: forward
 * specs (src/forward.c), the wire format and the idle decision
 * (src/held_proto.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "forward.h"
#include "held_proto.h"
#include "util/buf.h"
#include "util/err.h"

static void test_fwd_forms(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_fwd_spec f;
	char s[64];
	(void)state;

	assert_int_equal(vl_fwd_parse("80", &f, &err), 0);
	assert_string_equal(f.bind, "127.0.0.1");
	assert_int_equal(f.local, 80);
	assert_int_equal(f.remote, 80);
	assert_int_equal(vl_fwd_parse("8080:80", &f, &err), 0);
	assert_int_equal(f.local, 8080);
	assert_int_equal(f.remote, 80);
	assert_int_equal(vl_fwd_parse("0.0.0.0:8080:80", &f, &err), 0);
	assert_string_equal(f.bind, "0.0.0.0");
	assert_int_equal(vl_fwd_parse("localhost:1:65535", &f, &err), 0);
	assert_string_equal(f.bind, "127.0.0.1");
	assert_int_equal(f.local, 1);
	assert_int_equal(f.remote, 65535);
	vl_fwd_format(&f, s, sizeof(s));
	assert_string_equal(s, "127.0.0.1:1 -> 65535");
}

static void test_fwd_errors(void **state)
{
	static const struct { const char *spec, *msg; } bad[] = {
		{ "", "write [[BIND:]LOCAL:]REMOTE" },
		{ "a:b:c:d", "write [[BIND:]LOCAL:]REMOTE" },
		{ "0", "remote port must be 1 to 65535, not '0'" },
		{ "65536", "remote port must be 1 to 65535" },
		{ "x:80", "local port must be 1 to 65535, not 'x'" },
		{ ":80", "local port must be 1 to 65535, not ''" },
		{ "8080:", "remote port must be 1 to 65535, not ''" },
		{ "10.0.0:8080:80", "bind address '10.0.0' is not an IPv4 address" },
		{ "-1:80", "local port" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vl_err err = VL_ERR_INIT;
		struct vl_fwd_spec f;
		assert_int_equal(vl_fwd_parse(bad[i].spec, &f, &err), -1);
		assert_int_equal(err.code, VL_E_USAGE);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s': got '%s'", bad[i].spec, err.msg);
	}
}

static void test_proto_roundtrip(void **state)
{
	const char *const fields[] = { VL_HELD_VERSION, "exec", "web", "sh", "-c", "",
				       "a\nb c" };
	struct vl_buf b = VL_BUF_INIT;
	struct vl_err err = VL_ERR_INIT;
	struct vl_held_msg m;
	(void)state;

	vl_held_encode(&b, fields, 7);
	assert_int_equal(vl_held_decode(b.s, b.len, &m, &err), 0);
	assert_int_equal(m.n, 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(m.f[i], fields[i]);
	assert_true(vl_held_is(&m, 1, "exec"));
	assert_false(vl_held_is(&m, 7, "exec"));
	vl_held_msg_release(&m);
	vl_buf_release(&b);
}

static void test_proto_malformed(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_held_msg m;
	static char many[2 * VL_HELD_FIELDS_MAX + 2];
	(void)state;

	assert_int_equal(vl_held_decode("", 0, &m, &err), -1);
	assert_int_equal(vl_held_decode("abc", 3, &m, &err), -1);  /* no final NUL */
	assert_non_null(strstr(err.msg, "malformed"));
	memset(many, 0, sizeof(many));   /* VL_HELD_FIELDS_MAX + 1 empty fields */
	assert_int_equal(vl_held_decode(many, VL_HELD_FIELDS_MAX + 1, &m, &err), -1);
	assert_int_equal(vl_held_decode(many, VL_HELD_FIELDS_MAX, &m, &err), 0);
	assert_int_equal(m.n, VL_HELD_FIELDS_MAX);
	vl_held_msg_release(&m);
}

static void test_idle(void **state)
{
	(void)state;
	assert_false(vl_held_idle_over(10000, 5000, 60, 0));
	assert_true(vl_held_idle_over(65000, 5000, 60, 0));
	assert_false(vl_held_idle_over(650000, 5000, 60, 1));  /* a forward keeps it */
	assert_true(vl_held_idle_over(5000, 5000, 0, 0));      /* persist = 0: at once */
}

static void test_rides(void **state)
{
	(void)state;
	assert_true(vl_held_rides(60, NULL));
	assert_true(vl_held_rides(1, NULL));
	assert_false(vl_held_rides(0, NULL));        /* persist = 0: direct each time */
	assert_false(vl_held_rides(60, "seat-1"));   /* class seats connect directly */
	assert_false(vl_held_rides(0, "seat-1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fwd_forms),
		cmocka_unit_test(test_fwd_errors),
		cmocka_unit_test(test_proto_roundtrip),
		cmocka_unit_test(test_proto_malformed),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_rides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
