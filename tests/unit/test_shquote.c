/* Unit tests for src/util/shquote: the exact quoted form, and a round trip
 * through a real /bin/sh (run with execv, never system()). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/shquote.h"

static void test_quote_forms(void **state)
{
	const char *const argv[] = { "sh", "-c", "make && make test" };
	(void)state;
	VL_AUTOFREE char *q = vl_shell_quote_argv(argv, 3);
	assert_string_equal(q, "sh -c 'make && make test'");

	struct { const char *in, *out; } cases[] = {
		{ "", "''" },
		{ "plain-word_1.2/x:y,z@h%+", "plain-word_1.2/x:y,z@h%+" },
		{ "a b", "'a b'" },
		{ "c'd", "'c'\\''d'" },
		{ "'", "''\\'''" },
		{ "$HOME", "'$HOME'" },
		{ "back\\slash", "'back\\slash'" },
		{ "line\nnext", "'line\nnext'" },
		{ "FOO=1", "'FOO=1'" },
		{ "~", "'~'" },
		{ "*", "'*'" },
		{ "#x", "'#x'" },
		{ "`id`", "'`id`'" },
	};
	for (size_t i = 0; i < VL_ARRAY_SIZE(cases); i++) {
		struct vl_buf b = VL_BUF_INIT;
		vl_shell_quote(&b, cases[i].in);
		assert_string_equal(vl_buf_str(&b), cases[i].out);
		vl_buf_release(&b);
	}
	VL_AUTOFREE char *empty = vl_shell_quote_argv(NULL, 0);
	assert_string_equal(empty, "");
}

/* Run /bin/sh -c SCRIPT and return what it wrote to stdout (caller frees). */
static char *run_sh(const char *script)
{
	char *const argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)script, NULL };
	int status;
	char *out = vl_test_run(argv, false, &status);

	assert_int_equal(status, 0);
	return out;
}

static void test_round_trip_sh(void **state)
{
	const char *const words[] = {
		"printf", "[%s]", "", "a b", "c'd", "$HOME", "back\\slash", "line\nnext",
		"\"dq\"", "`id`", "$(id)", "*", "~", "#x", "FOO=1", "-n", "tab\there",
		"x;y|z&w>v<u", "''", "\\'", "utf8-\xc3\xa9", "!", "{a,b}", "[a]",
	};
	(void)state;
	VL_AUTOFREE char *script = vl_shell_quote_argv(words, VL_ARRAY_SIZE(words));
	VL_AUTOFREE char *out = run_sh(script);

	struct vl_buf want = VL_BUF_INIT;
	for (size_t i = 2; i < VL_ARRAY_SIZE(words); i++)
		vl_buf_printf(&want, "[%s]", words[i]);
	assert_string_equal(out, vl_buf_str(&want));
	vl_buf_release(&want);
}

/* The docs/design.md example: `sh -c 'make && make test'` arrives as one word. */
static void test_round_trip_nested(void **state)
{
	const char *const argv[] = { "sh", "-c", "printf '%s|' \"$@\"; echo ok && echo yes",
				     "zero", "one two", "" };
	(void)state;
	VL_AUTOFREE char *script = vl_shell_quote_argv(argv, VL_ARRAY_SIZE(argv));
	VL_AUTOFREE char *out = run_sh(script);
	assert_string_equal(out, "one two||ok\nyes\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_forms),
		cmocka_unit_test(test_round_trip_sh),
		cmocka_unit_test(test_round_trip_nested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
