/* Unit tests for src/util: strings, suggestions, buffers, JSON, IPv4. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/sha256.h"
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/ipv4.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/str.h"

static void test_suggest(void **state)
{
	const char *const cands[] = { "memory", "cpus", "disk", "image", "provision" };
	(void)state;
	assert_string_equal(vl_str_suggest("memroy", cands, 5), "memory");
	assert_string_equal(vl_str_suggest("cpu", cands, 5), "cpus");
	assert_null(vl_str_suggest("zzzzzz", cands, 5));
	assert_int_equal(vl_str_distance("kitten", "sitting"), 3);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(vl_str_is_name("web-1", 40));
	assert_false(vl_str_is_name("Web", 40));
	assert_false(vl_str_is_name("-web", 40));
	assert_false(vl_str_is_name("web_1", 40));
	assert_false(vl_str_is_name("", 40));
	assert_false(vl_str_is_name("abcdefghijklmnopqrstuvwxyz0123456789abcde", 40));
}

static void test_buf(void **state)
{
	struct vl_buf b = VL_BUF_INIT;
	(void)state;
	assert_string_equal(vl_buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		vl_buf_printf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.s));
	assert_true(vl_str_endswith(b.s, "998,999,"));
	VL_AUTOFREE char *s = vl_buf_steal(&b);
	assert_null(b.s);
	assert_int_equal(s[0], '0');
}

static void test_json_escape(void **state)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;
	(void)state;
	vl_json_init(&j, &b, false);
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "a\"b", "line\nnext\x01");
	vl_json_key(&j, "list");
	vl_json_arr_begin(&j);
	vl_json_int(&j, -3);
	vl_json_bool(&j, true);
	vl_json_null(&j);
	vl_json_arr_end(&j);
	vl_json_obj_end(&j);
	assert_string_equal(b.s, "{\"a\\\"b\":\"line\\nnext\\u0001\",\"list\":[-3,true,null]}");
	vl_buf_release(&b);
}

static void test_ipv4(void **state)
{
	uint32_t a, n;
	unsigned p;
	char s[VL_CIDR_STRLEN];
	(void)state;
	assert_true(vl_ipv4_parse("10.77.3.20", &a));
	assert_int_equal(a, 0x0a4d0314);
	assert_false(vl_ipv4_parse("10.77.3", &a));
	assert_false(vl_ipv4_parse("10.77.3.256", &a));
	assert_false(vl_ipv4_parse("010.1.1.1", &a));
	assert_false(vl_ipv4_parse("1.2.3.4 ", &a));
	assert_true(vl_cidr_parse("10.77.3.0/24", &n, &p));
	assert_int_equal(p, 24);
	assert_false(vl_cidr_parse("10.77.3.1/24", &n, &p));
	assert_false(vl_cidr_parse("10.77.3.0/33", &n, &p));
	assert_false(vl_cidr_parse("10.77.3.0", &n, &p));
	assert_true(vl_ipv4_in(a, n, p));
	vl_cidr_format(n, p, s);
	assert_string_equal(s, "10.77.3.0/24");
	assert_true(vl_cidr_overlap(0x0a4d0000, 16, n, 24));
	assert_false(vl_cidr_overlap(0x0a4e0000, 16, n, 24));
}

static void test_err(void **state)
{
	struct vl_err e = VL_ERR_INIT;
	(void)state;
	assert_int_equal(vl_err_set(&e, VL_E_CONNECT, "no %s", "daemon"), -1);
	vl_err_prefix(&e, "while %s", "connecting");
	assert_string_equal(e.msg, "while connecting: no daemon");
	assert_int_equal(vl_err_exit_status(&e), 3);
	vl_err_set(&e, VL_E_PROFILE, "x");
	assert_int_equal(vl_err_exit_status(&e), 2);
}

static void test_sha256(void **state)
{
	char hex[VL_SHA256_HEXLEN + 1];
	char path[] = "/tmp/vmlab-test-sha-XXXXXX";
	struct vl_sha256 h;
	struct vl_err err = VL_ERR_INIT;
	int fd = mkstemp(path);
	(void)state;

	/* FIPS 180-2's "abc", fed in two pieces */
	vl_sha256_init(&h);
	vl_sha256_update(&h, "a", 1);
	vl_sha256_update(&h, "bc", 2);
	vl_sha256_final(&h, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(fd >= 0, 1);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(vl_sha256_file(path, hex, &err), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(path);
	assert_int_equal(vl_sha256_file(path, hex, &err), -1);
	assert_int_equal(err.code, VL_E_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_suggest), cmocka_unit_test(test_names),
		cmocka_unit_test(test_buf), cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_ipv4), cmocka_unit_test(test_err),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
