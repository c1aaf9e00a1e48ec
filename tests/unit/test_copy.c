/* Unit tests for src/copy: which operand is a VM, what a command line may
 * combine, and cp(1)'s rule for where each source lands. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "util/mem.h"

static void test_operands(void **state)
{
	struct { const char *arg, *vm, *path; bool stdio; } cases[] = {
		{ "web-1:/etc/hosts", "web-1", "/etc/hosts", false },
		{ "web:", "web", ".", false },
		{ "web:src/", "web", "src/", false },
		{ "./a:b", NULL, "./a:b", false },
		{ "Web:/x", NULL, "Web:/x", false },     /* not a VM name: a local file */
		{ "a/b:c", NULL, "a/b:c", false },
		{ ":x", NULL, ":x", false },
		{ "/abs/path", NULL, "/abs/path", false },
		{ "-", NULL, "-", true },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vl_cp_operand o;
		struct vl_err err = VL_ERR_INIT;
		assert_int_equal(vl_cp_operand_parse(cases[i].arg, &o, &err), 0);
		if (cases[i].vm)
			assert_string_equal(o.vm, cases[i].vm);
		else
			assert_null(o.vm);
		assert_string_equal(o.path, cases[i].path);
		assert_int_equal(o.stdio, cases[i].stdio);
		vl_cp_operand_release(&o);
	}
}

static int parse(const char *const *args, size_t n, struct vl_cp_plan *p, struct vl_err *err)
{
	return vl_cp_plan_parse((char *const *)args, n, p, err);
}

static void test_plan(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_cp_plan p;
	(void)state;

	const char *up[] = { "a", "b/", "web:/tmp" };
	assert_int_equal(parse(up, 3, &p, &err), 0);
	assert_int_equal(p.dir, VL_CP_UP);
	assert_string_equal(p.vm, "web");
	assert_int_equal(p.n_srcs, 2);
	vl_cp_plan_release(&p);

	const char *down[] = { "web:/a", "web:b", "." };
	assert_int_equal(parse(down, 3, &p, &err), 0);
	assert_int_equal(p.dir, VL_CP_DOWN);
	assert_string_equal(p.vm, "web");
	vl_cp_plan_release(&p);

	const char *out[] = { "web:/etc/hosts", "-" };
	assert_int_equal(parse(out, 2, &p, &err), 0);
	assert_true(p.dst.stdio);
	vl_cp_plan_release(&p);

	struct { const char *args[3]; size_t n; const char *msg; } bad[] = {
		{ { "a", "b" }, 2, "both sides are local" },
		{ { "web:a", "db:b" }, 2, "between VMs" },
		{ { "web:a", "b", "c" }, 3, "one side" },
		{ { "web:a", "db:b", "." }, 3, "two VMs" },
		{ { "-", "a", "web:x" }, 3, "only source" },
		{ { "web:a", "web:b", "-" }, 3, "one source" },
		{ { "web:a" }, 1, "source and a destination" },
		{ { "", "web:x" }, 2, "empty" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vl_err_clear(&err);
		assert_int_equal(parse(bad[i].args, bad[i].n, &p, &err), -1);
		assert_int_equal(err.code, VL_E_USAGE);
		assert_non_null(strstr(err.msg, bad[i].msg));
		assert_null(strchr(err.msg, '\n'));
	}
}

static void test_basename(void **state)
{
	struct { const char *in, *out; } cases[] = {
		{ "a/b", "b" }, { "a/b/", "b" }, { "b//", "b" }, { "/x", "x" },
		{ "/", NULL }, { ".", NULL }, { "..", NULL }, { "a/..", NULL }, { "", NULL },
		{ ".hidden", ".hidden" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VL_AUTOFREE char *b = vl_cp_basename(cases[i].in);
		if (cases[i].out)
			assert_string_equal(b, cases[i].out);
		else
			assert_null(b);
	}
}

static void target_ok(const char *src, enum vl_cp_kind sk, bool r, const char *dst,
		      enum vl_cp_kind dk, size_t n, const char *dir, const char *name)
{
	struct vl_cp_side s = { NULL, src, sk };
	struct vl_cp_side d = { "web", dst, dk };
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *gdir = NULL;
	VL_AUTOFREE char *gname = NULL;

	assert_int_equal(vl_cp_target(&s, r, &d, n, &gdir, &gname, &err), 0);
	assert_string_equal(gdir, dir);
	assert_string_equal(gname, name);
}

static void target_bad(const char *src, enum vl_cp_kind sk, bool r, const char *dst,
		       enum vl_cp_kind dk, size_t n, enum vl_errcode code, const char *msg)
{
	struct vl_cp_side s = { NULL, src, sk };
	struct vl_cp_side d = { "web", dst, dk };
	struct vl_err err = VL_ERR_INIT;
	char *gdir = NULL, *gname = NULL;

	assert_int_equal(vl_cp_target(&s, r, &d, n, &gdir, &gname, &err), -1);
	assert_int_equal(err.code, code);
	assert_non_null(strstr(err.msg, msg));
	assert_null(gdir);
	assert_null(gname);
}

static void test_target(void **state)
{
	(void)state;
	/* into an existing directory: by the source's name, slashes or not */
	target_ok("a.txt", VL_CP_FILE, false, "/tmp", VL_CP_DIR, 1, "/tmp", "a.txt");
	target_ok("src/", VL_CP_DIR, true, "/tmp/", VL_CP_DIR, 1, "/tmp/", "src");
	target_ok("x/src", VL_CP_DIR, true, "dst", VL_CP_DIR, 1, "dst", "src");
	target_ok("a", VL_CP_FILE, false, "", VL_CP_DIR, 1, ".", "a");
	target_ok("a", VL_CP_FILE, false, "d", VL_CP_DIR, 3, "d", "a");
	/* otherwise DST names the copy: new, or a file replaced */
	target_ok("a.txt", VL_CP_FILE, false, "/tmp/b.txt", VL_CP_NONE, 1, "/tmp", "b.txt");
	target_ok("a.txt", VL_CP_FILE, false, "b.txt", VL_CP_FILE, 1, ".", "b.txt");
	target_ok("src/", VL_CP_DIR, true, "/srv/new", VL_CP_NONE, 1, "/srv", "new");
	target_ok("a", VL_CP_FILE, false, "/b", VL_CP_NONE, 1, "/", "b");

	target_bad("a", VL_CP_NONE, false, "/tmp", VL_CP_DIR, 1, VL_E_NOTFOUND,
		   "a: no such file");
	target_bad("d", VL_CP_DIR, false, "/tmp", VL_CP_DIR, 1, VL_E_USAGE, "without -r");
	target_bad("a", VL_CP_FILE, false, "/tmp/new/", VL_CP_NONE, 1, VL_E_NOTFOUND,
		   "web:/tmp/new/: not a directory");
	target_bad("a", VL_CP_FILE, false, "/tmp/f/", VL_CP_FILE, 1, VL_E_USAGE,
		   "not a directory");
	target_bad("a", VL_CP_FILE, false, "/tmp/f", VL_CP_FILE, 2, VL_E_USAGE,
		   "several sources");
	target_bad("a", VL_CP_FILE, false, "/tmp/n", VL_CP_NONE, 2, VL_E_NOTFOUND,
		   "several sources");
	target_bad("d", VL_CP_DIR, true, "/tmp/f", VL_CP_FILE, 1, VL_E_USAGE,
		   "cannot overwrite non-directory web:/tmp/f");
	target_bad(".", VL_CP_DIR, true, "/tmp", VL_CP_DIR, 1, VL_E_USAGE, "cannot name");
	target_bad("p", VL_CP_OTHER, false, "/tmp", VL_CP_DIR, 1, VL_E_USAGE, "not a regular");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operands),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_basename),
		cmocka_unit_test(test_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
