/* Unit tests for src/sync: `sync = SRC:DST` entries, the guest's manifest
 * written and read back, and the diff into deletes and copies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"
#include "util/mem.h"

static void test_spec(void **state)
{
	struct vl_sync_spec s;
	struct vl_err err = VL_ERR_INIT;

	(void)state;
	assert_int_equal(vl_sync_spec_parse("./src:/home/dev/src/", "/p", &s, &err), 0);
	assert_string_equal(s.src, "/p/./src");
	assert_string_equal(s.dst, "/home/dev/src");
	vl_sync_spec_release(&s);
	assert_int_equal(vl_sync_spec_parse("/abs/d://srv//x", "/p", &s, &err), 0);
	assert_string_equal(s.src, "/abs/d");
	assert_string_equal(s.dst, "/srv/x");
	vl_sync_spec_release(&s);

	const char *bad[][2] = {
		{ "./src", "HOST_DIR:GUEST_DIR" },
		{ ":/x", "HOST_DIR:GUEST_DIR" },
		{ "./src:", "HOST_DIR:GUEST_DIR" },
		{ "./src:rel", "must be absolute" },
		{ "./src:/", "may not be /" },
		{ "./src:/home/../etc", "'..'" },
		{ "./src:/home/./x", "'..'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vl_err_clear(&err);
		assert_int_equal(vl_sync_spec_parse(bad[i][0], "/p", &s, &err), -1);
		assert_int_equal(err.code, VL_E_PROFILE);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("'%s': %s", bad[i][0], err.msg);
		vl_sync_spec_release(&s);
	}
}

static void test_paths(void **state)
{
	(void)state;
	assert_true(vl_sync_path_ok("a"));
	assert_true(vl_sync_path_ok("a b/c.txt"));
	assert_true(vl_sync_path_ok(".hidden/..x"));
	assert_false(vl_sync_path_ok(""));
	assert_false(vl_sync_path_ok("/etc"));
	assert_false(vl_sync_path_ok("a//b"));
	assert_false(vl_sync_path_ok("a/"));
	assert_false(vl_sync_path_ok("../x"));
	assert_false(vl_sync_path_ok("a/./b"));
	assert_false(vl_sync_path_ok("a\nb"));
}

static void test_manifest_roundtrip(void **state)
{
	struct vl_sync_manifest m = VL_SYNC_MANIFEST_INIT, back;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *text = NULL;
	VL_AUTOFREE char *again = NULL;

	(void)state;
	vl_sync_manifest_add(&m, "a b", 'f', 0100644, 3, 1700000000, 5);
	vl_sync_manifest_add(&m, "a/x", 'f', 0755, 0, 1, 999999999);
	vl_sync_manifest_add(&m, "a", 'd', 040755, 0, 2, 0);
	vl_sync_manifest_add(&m, "l", 'l', 0777, 4, -1, 0);
	vl_sync_manifest_sort(&m);
	/* a directory is followed by what is under it, before "a b" */
	assert_string_equal(m.e[0].path, "a");
	assert_string_equal(m.e[1].path, "a/x");
	assert_string_equal(m.e[2].path, "a b");
	text = vl_sync_manifest_format(&m);
	assert_non_null(strstr(text, "f 0644 3 1700000000.000000005 a b\n"));
	assert_int_equal(vl_sync_manifest_parse(text, strlen(text), &back, &err), 0);
	assert_int_equal(back.n, 4);
	assert_int_equal(back.e[1].mode, 0755);
	assert_int_equal(back.e[1].mtime_ns, 999999999);
	assert_int_equal(back.e[3].mtime_s, -1);
	again = vl_sync_manifest_format(&back);
	assert_string_equal(text, again);
	vl_sync_manifest_release(&back);
	vl_sync_manifest_release(&m);

	assert_int_equal(vl_sync_manifest_parse("", 0, &back, &err), 0);
	assert_int_equal(back.n, 0);
}

static void test_manifest_bad(void **state)
{
	const char *bad[] = {
		"something else\n",
		"vmlab-sync 1\nf 0644 3 1.0 a",            /* cut short */
		"vmlab-sync 1\nx 0644 3 1.0 a\n",
		"vmlab-sync 1\nf 0644 3 1.0 ../etc/passwd\n",
		"vmlab-sync 1\nf 0644 3 1.0 /etc/passwd\n",
		"vmlab-sync 1\nf 0644 3 1 a\n",
		"vmlab-sync 1\nf 99999 3 1.0 a\n",
		"vmlab-sync 1\nf 0644 -3 1.0 a\n",
		"vmlab-sync 1\nf 0644 3 1.0 \n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vl_sync_manifest m;
		struct vl_err err = VL_ERR_INIT;
		if (vl_sync_manifest_parse(bad[i], strlen(bad[i]), &m, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err.msg, "sync manifest line"));
		assert_null(m.e);
	}
}

/* A manifest from "TYPE PATH SIZE MTIME" quadruples (mode 0644, dirs 0755). */
static void build(struct vl_sync_manifest *m, const char *const *spec, size_t n)
{
	*m = (struct vl_sync_manifest)VL_SYNC_MANIFEST_INIT;
	for (size_t i = 0; i < n; i += 4)
		vl_sync_manifest_add(m, spec[i + 1], spec[i][0], spec[i][0] == 'd' ? 0755 : 0644,
				     strtoull(spec[i + 2], NULL, 10),
				     strtoll(spec[i + 3], NULL, 10), 0);
	vl_sync_manifest_sort(m);
}

static void expect(const char *const *got, size_t n, const char *want)
{
	char buf[1024] = "";

	for (size_t i = 0; i < n; i++) {
		strcat(buf, got[i]);
		strcat(buf, "|");
	}
	assert_string_equal(buf, want);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_diff(void **state)
{
	static const char *const old_s[] = {
		"f", "keep.txt", "3", "10",
		"f", "edit.txt", "3", "10",
		"f", "gone.txt", "3", "10",
		"f", "old name", "5", "10",
		"d", "dir", "0", "10",
		"f", "dir/a", "1", "10",
		"d", "dir/sub", "0", "10",
		"f", "dir/sub/b", "1", "10",
		"f", "was-file", "1", "10",
		"d", "was-dir", "0", "10",
		"f", "was-dir/x", "1", "10",
		"l", "link", "3", "10",
	};
	static const char *const new_s[] = {
		"f", "keep.txt", "3", "10",
		"f", "edit.txt", "3", "11",          /* same size, newer */
		"f", "new name", "5", "10",          /* the rename */
		"d", "dir", "0", "99",               /* dir mtime: not mirrored */
		"f", "dir/a", "2", "10",
		"d", "fresh", "0", "10",             /* a new tree: one copy */
		"f", "fresh/1", "1", "10",
		"d", "fresh/2", "0", "10",
		"f", "fresh/2/3", "1", "10",
		"d", "was-file", "0", "10",          /* type changes */
		"f", "was-file/y", "1", "10",
		"f", "was-dir", "1", "10",
		"l", "link", "3", "10",
	};
	struct vl_sync_manifest o, n;
	struct vl_sync_diff d;

	(void)state;
	build(&o, old_s, N(old_s));
	build(&n, new_s, N(new_s));
	vl_sync_diff(&o, &n, &d);
	expect(d.del, d.n_del, "dir/sub|gone.txt|old name|was-dir|was-file|");
	expect(d.copy, d.n_copy, "dir/a|edit.txt|fresh|new name|was-dir|was-file|");
	vl_sync_diff_release(&d);

	/* nothing changed: nothing to do */
	vl_sync_diff(&n, &n, &d);
	assert_int_equal(d.n_copy + d.n_del, 0);
	vl_sync_diff_release(&d);

	/* from nothing: the top-level entries */
	struct vl_sync_manifest empty = VL_SYNC_MANIFEST_INIT;
	vl_sync_diff(&empty, &n, &d);
	expect(d.copy, d.n_copy, "dir|edit.txt|fresh|keep.txt|link|new name|was-dir|was-file|");
	assert_int_equal(d.n_del, 0);
	vl_sync_diff_release(&d);
	/* to nothing: everything goes */
	vl_sync_diff(&o, &empty, &d);
	expect(d.del, d.n_del, "dir|edit.txt|gone.txt|keep.txt|link|old name|was-dir|was-file|");
	vl_sync_diff_release(&d);
	vl_sync_manifest_release(&o);
	vl_sync_manifest_release(&n);
}

static void test_diff_mode(void **state)
{
	struct vl_sync_manifest o = VL_SYNC_MANIFEST_INIT, n = VL_SYNC_MANIFEST_INIT;
	struct vl_sync_diff d;

	(void)state;
	vl_sync_manifest_add(&o, "run.sh", 'f', 0644, 1, 1, 0);
	vl_sync_manifest_add(&n, "run.sh", 'f', 0755, 1, 1, 0);
	vl_sync_manifest_add(&o, "t", 'f', 0644, 1, 1, 0);
	vl_sync_manifest_add(&n, "t", 'f', 0644, 1, 1, 1);   /* nanoseconds count */
	vl_sync_diff(&o, &n, &d);
	expect(d.copy, d.n_copy, "run.sh|t|");
	vl_sync_diff_release(&d);
	vl_sync_manifest_release(&o);
	vl_sync_manifest_release(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_manifest_roundtrip),
		cmocka_unit_test(test_manifest_bad),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
