/* Unit tests for src/snapmark: the "changed since the newest snapshot"
 * decision and the record it reads back from the domain's metadata. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "snapmark.h"

static enum vl_changed decide(struct vl_snapmark m, int boot, bool has_wr, uint64_t wr)
{
	struct vl_snapmark_now now = { boot, has_wr, wr };
	return vl_snapmark_changed(&m, &now);
}

static void test_decide(void **state)
{
	const struct vl_snapmark running = { true, 7, 1200 }, off = { true, -1, 0 }, none = { 0 };
	(void)state;

	/* no record: unknown, whatever the VM does */
	assert_int_equal(decide(none, 7, true, 1200), VL_CHANGED_UNKNOWN);
	assert_int_equal(decide(none, -1, false, 0), VL_CHANGED_UNKNOWN);
	/* same process, same writes: unchanged; one more write: changed */
	assert_int_equal(decide(running, 7, true, 1200), VL_CHANGED_NO);
	assert_int_equal(decide(running, 7, true, 1201), VL_CHANGED_YES);
	/* fewer writes in "the same" process: a new one that reused the id */
	assert_int_equal(decide(running, 7, true, 3), VL_CHANGED_YES);
	/* no counters in the sample: cannot tell */
	assert_int_equal(decide(running, 7, false, 0), VL_CHANGED_UNKNOWN);
	/* halted since, or restarted (a new id): changed */
	assert_int_equal(decide(running, -1, false, 0), VL_CHANGED_YES);
	assert_int_equal(decide(running, 8, true, 0), VL_CHANGED_YES);
	/* snapshot of a shut-off VM: unchanged while it stays off */
	assert_int_equal(decide(off, -1, false, 0), VL_CHANGED_NO);
	assert_int_equal(decide(off, 3, true, 0), VL_CHANGED_YES);
	assert_string_equal(vl_changed_name(VL_CHANGED_YES), "yes");
	assert_string_equal(vl_changed_name(VL_CHANGED_NO), "no");
	assert_string_equal(vl_changed_name(VL_CHANGED_UNKNOWN), "unknown");
}

static void test_round_trip(void **state)
{
	const struct vl_snapmark in[] = { { true, 42, 18446744073709551615ull }, { true, -1, 0 } };
	struct vl_snapmark out;
	(void)state;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *xml = vl_snapmark_format(&in[i]);
		assert_true(vl_snapmark_parse(xml, &out));
		assert_true(out.known);
		assert_int_equal(out.boot, in[i].boot);
		assert_true(out.wr == in[i].wr);
		free(xml);
	}
	/* as libvirt hands it back: the namespace prefix dropped, quotes changed */
	assert_true(vl_snapmark_parse("<mark boot='3' wr='99'/>", &out));
	assert_int_equal(out.boot, 3);
	assert_int_equal(out.wr, 99);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		NULL, "", "not xml", "<lab boot='1' wr='2'/>", "<mark wr='2'/>", "<mark boot='1'/>",
		"<mark boot='-2' wr='0'/>", "<mark boot='1' wr='-1'/>", "<mark boot='1x' wr='0'/>",
		"<mark boot='99999999999' wr='0'/>", "<mark boot='' wr='0'/>",
	};
	struct vl_snapmark m;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(vl_snapmark_parse(bad[i], &m));
		assert_false(m.known);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
