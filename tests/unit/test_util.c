/* Unit tests for src/util: strings, suggestions, buffers, JSON, IPv4, whole
 * files, the monotonic clock, human sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/sha256.h"
#include <string.h>

#include "fixture.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/file.h"
#include "util/ipv4.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/size.h"
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

static void test_file_read(void **state)
{
	char dir[] = "/tmp/vmlab-test-file-XXXXXX";
	struct vl_err err = VL_ERR_INIT;
	char *text = (char *)"x";
	size_t len = 7;
	(void)state;

	assert_non_null(mkdtemp(dir));
	VL_AUTOFREE char *path = NULL;
	assert_true(asprintf(&path, "%s/f", dir) > 0);

	/* missing: NOTFOUND with errno, outputs cleared */
	assert_int_equal(vl_file_read(path, 100, &text, &len, &err), -1);
	assert_int_equal(err.code, VL_E_NOTFOUND);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_null(text);
	assert_int_equal(len, 0);

	/* empty file: "" not NULL */
	assert_int_equal(vl_file_write_atomic(path, "", 0, 0644, &err), 0);
	assert_int_equal(vl_file_read(path, 100, &text, &len, &err), 0);
	assert_string_equal(text, "");
	assert_int_equal(len, 0);
	free(text);

	/* embedded NUL counts; exactly max is fine, one more is not */
	assert_int_equal(vl_file_write_atomic(path, "ab\0cd", 5, 0644, &err), 0);
	assert_int_equal(vl_file_read(path, 5, &text, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(text, "ab\0cd", 6);
	free(text);
	vl_err_clear(&err);
	assert_int_equal(vl_file_read(path, 4, &text, &len, &err), -1);
	assert_int_equal(err.code, VL_E_IO);
	assert_int_equal(err.sys_errno, 0);
	assert_non_null(strstr(err.msg, "larger than 4 bytes"));
	assert_null(text);

	/* a file larger than one read chunk, unbounded */
	VL_AUTOFREE char *big = vl_malloc(10000);
	for (size_t i = 0; i < 10000; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(vl_file_write_atomic(path, big, 10000, 0644, &err), 0);
	assert_int_equal(vl_file_read(path, SIZE_MAX, &text, &len, &err), 0);
	assert_int_equal(len, 10000);
	assert_memory_equal(text, big, 10000);
	assert_int_equal(text[10000], '\0');
	free(text);

	/* a directory */
	assert_int_equal(vl_file_read(dir, 100, &text, &len, &err), -1);
	assert_int_equal(err.code, VL_E_IO);
	assert_int_equal(err.sys_errno, EISDIR);
	unlink(path);
	rmdir(dir);
}

static void test_file_write(void **state)
{
	char dir[] = "/tmp/vmlab-test-file-XXXXXX";
	struct vl_err err = VL_ERR_INIT;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	VL_AUTOFREE char *path = NULL;
	assert_true(asprintf(&path, "%s/f", dir) > 0);

	/* the mode is the one asked for, whatever the umask */
	mode_t old = umask(077);
	assert_int_equal(vl_file_write_atomic(path, "one\n", 4, 0644, &err), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* replaces */
	assert_int_equal(vl_file_write_atomic(path, "two\n", 4, 0600, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(vl_file_read(path, 100, &text, &len, &err), 0);
	assert_string_equal(text, "two\n");
	free(text);

	/* write_new refuses an existing file and keeps it */
	assert_int_equal(vl_file_write_new(path, "three\n", 6, 0600, &err), -1);
	assert_int_equal(err.code, VL_E_EXISTS);
	assert_int_equal(vl_file_read(path, 100, &text, &len, &err), 0);
	assert_string_equal(text, "two\n");
	free(text);
	unlink(path);
	assert_int_equal(vl_file_write_new(path, "three\n", 6, 0600, &err), 0);
	assert_int_equal(vl_file_read(path, 100, &text, &len, &err), 0);
	assert_string_equal(text, "three\n");
	free(text);
	unlink(path);

	/* into a missing directory: an error, no file */
	VL_AUTOFREE char *bad = NULL;
	assert_true(asprintf(&bad, "%s/no/f", dir) > 0);
	assert_int_equal(vl_file_write_atomic(bad, "x", 1, 0644, &err), -1);
	assert_int_equal(err.code, VL_E_IO);
	assert_int_equal(err.sys_errno, ENOENT);

	/* no temporary files left behind */
	assert_int_equal(rmdir(dir), 0);
}

static void test_clock(void **state)
{
	(void)state;
	double a = vl_now_mono();
	int64_t ma = vl_now_mono_ms();
	struct timespec ts = { 0, 20 * 1000000 };
	nanosleep(&ts, NULL);
	double b = vl_now_mono();
	int64_t mb = vl_now_mono_ms();
	assert_true(b - a >= 0.019);
	assert_true(b - a < 5);
	assert_true(mb - ma >= 19);
	assert_true(ma >= (int64_t)(a * 1000) - 1 && ma <= (int64_t)(b * 1000) + 1);
}

static void test_human_bytes(void **state)
{
	char s[32];
	(void)state;

	vl_human_bytes(s, sizeof(s), 0, VL_SIZE_IEC);
	assert_string_equal(s, "0 B");
	vl_human_bytes(s, sizeof(s), 1023, VL_SIZE_IEC);
	assert_string_equal(s, "1023 B");
	vl_human_bytes(s, sizeof(s), 1024, VL_SIZE_IEC);
	assert_string_equal(s, "1.0 KiB");
	vl_human_bytes(s, sizeof(s), 1.5 * 1024 * 1024 * 1024, VL_SIZE_IEC);
	assert_string_equal(s, "1.5 GiB");
	vl_human_bytes(s, sizeof(s), 2048.0 * 1024 * 1024 * 1024 * 1024, VL_SIZE_IEC);
	assert_string_equal(s, "2048.0 TiB");
	vl_human_bytes(s, sizeof(s), 80.4 * 1024 * 1024, VL_SIZE_IEC);
	assert_string_equal(s, "80.4 MiB");

	vl_human_bytes(s, sizeof(s), 512, VL_SIZE_SHORT);
	assert_string_equal(s, "512B");
	vl_human_bytes(s, sizeof(s), 3 * 1024 * 1024, VL_SIZE_SHORT);
	assert_string_equal(s, "3.0M");
	vl_human_bytes(s, sizeof(s), 2361393152.0, VL_SIZE_SHORT);
	assert_string_equal(s, "2.2G");

	vl_human_bytes_exact(s, sizeof(s), 2147483648ull);
	assert_string_equal(s, "2 GiB");
	vl_human_bytes_exact(s, sizeof(s), 1610612736ull);
	assert_string_equal(s, "1.5 GiB");
	vl_human_bytes_exact(s, sizeof(s), 1000);
	assert_string_equal(s, "1000 B");
	vl_human_bytes_exact(s, sizeof(s), 1ull << 50);
	assert_string_equal(s, "1 PiB");
	vl_human_bytes_exact(s, sizeof(s), 1025);
	assert_string_equal(s, "1.0 KiB");

	/* truncated, still terminated */
	vl_human_bytes(s, 4, 1.5 * 1024 * 1024 * 1024, VL_SIZE_IEC);
	assert_string_equal(s, "1.5");
}

/* The private directory check behind .vmlab/: made 0700, reused, and
 * refused as a symlink or a file, with the path in the message. */
static void test_dir_private(void **state)
{
	VL_AUTOFREE char *dir = vl_test_tmpdir();
	struct vl_buf d = VL_BUF_INIT, link = VL_BUF_INIT, file = VL_BUF_INIT;
	struct vl_err err = VL_ERR_INIT;
	struct stat st;
	(void)state;

	vl_buf_printf(&d, "%s/.vmlab", dir);
	vl_buf_printf(&link, "%s/link", dir);
	vl_buf_printf(&file, "%s/file", dir);
	assert_int_equal(vl_dir_private_ensure(d.s, &err), 0);
	assert_int_equal(stat(d.s, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(vl_dir_private_ensure(d.s, &err), 0);   /* exists: fine */
	assert_int_equal(symlink(d.s, link.s), 0);
	assert_int_equal(vl_dir_private_ensure(link.s, &err), -1);
	assert_non_null(strstr(err.msg, "is a symlink"));
	assert_non_null(strstr(err.msg, link.s));
	assert_int_equal(close(creat(file.s, 0600)), 0);
	assert_int_equal(vl_dir_private_ensure(file.s, &err), -1);
	assert_non_null(strstr(err.msg, "is not a directory"));
	vl_buf_release(&d);
	vl_buf_release(&link);
	vl_buf_release(&file);
	vl_test_rmdir(vl_steal(&dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_suggest), cmocka_unit_test(test_names),
		cmocka_unit_test(test_buf), cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_ipv4), cmocka_unit_test(test_err),
		cmocka_unit_test(test_file_read), cmocka_unit_test(test_file_write),
		cmocka_unit_test(test_clock), cmocka_unit_test(test_human_bytes),
		cmocka_unit_test(test_dir_private),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
