/* Unit tests for src/catalog.c: catalog files, checksum files, names from
 * URLs, cache metadata and the qcow2 header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "util/mem.h"
#include "util/str.h"

#define H256A "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define H256B "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static char *write_tmp(const char *text)
{
	char *path = vl_strdup("/tmp/vmlab-test-catalog-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_catalog_load(void **state)
{
	struct vl_catalog c = VL_CATALOG_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *user = write_tmp(
		"[debian-12]\nurl = https://example.org/mine.qcow2\nsha256 = " H256A "\nuser = me\n");
	VL_AUTOFREE char *shipped = write_tmp(
		"; shipped\n[debian-12]\nurl = https://cloud.debian.org/x.qcow2\n"
		"checksum_url = https://cloud.debian.org/SHA512SUMS\nchecksum_type = sha512\n"
		"user = debian\n\n[alpine-3.23]\nurl = https://a.org/alpine.qcow2.xz\n"
		"insecure = yes\nformat = raw\nboot = uefi\ncloud_init = no\n");
	(void)state;
	assert_int_equal(vl_catalog_load(&c, user, false, &err), 0);
	assert_int_equal(vl_catalog_load(&c, shipped, false, &err), 0);
	assert_int_equal(c.n, 2);
	const struct vl_catalog_entry *d = vl_catalog_find(&c, "debian-12");
	assert_non_null(d);
	assert_string_equal(d->url, "https://example.org/mine.qcow2"); /* user wins */
	assert_string_equal(d->digest, H256A);
	assert_int_equal(d->hash, VL_HASH_SHA256);
	assert_string_equal(d->user, "me");
	const struct vl_catalog_entry *a = vl_catalog_find(&c, "alpine-3.23");
	assert_non_null(a);
	assert_true(a->insecure);
	assert_int_equal(a->comp, VL_COMP_XZ);
	assert_int_equal(a->format, VL_IMG_RAW);
	assert_false(a->bios);
	assert_false(a->cloud_init);
	assert_int_equal(vl_catalog_load(&c, "/nonexistent/x.ini", true, &err), 0);
	assert_int_equal(vl_catalog_load(&c, "/nonexistent/x.ini", false, &err), -1);
	vl_catalog_release(&c);
	unlink(user);
	unlink(shipped);
}

static void test_catalog_errors(void **state)
{
	static const char *const bad[] = {
		"[x]\nurl = https://a/b\n",                                  /* no checksum */
		"[x]\nurl = https://a/b\nsha256 = 1234\n",                   /* short digest */
		"[x]\nurl = https://a/b\ninsecure = yes\nformat = vmdk\n",   /* format */
		"[x]\nurl = https://a/b\ninsecure = yes\nusr = me\n",        /* typo */
		"[x]\ninsecure = yes\n",                                     /* no url */
		"[x]\nurl = relative/path\ninsecure = yes\n",                /* relative */
	};
	static const char *const want[] = { "no checksum source", "64 hex", "format", "did you mean 'user'",
					    "missing url", "absolute path" };
	(void)state;
	for (size_t i = 0; i < VL_ARRAY_SIZE(bad); i++) {
		struct vl_catalog c = VL_CATALOG_INIT;
		struct vl_err err = VL_ERR_INIT;
		VL_AUTOFREE char *p = write_tmp(bad[i]);
		assert_int_equal(vl_catalog_load(&c, p, false, &err), -1);
		if (!strstr(err.msg, want[i]))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, want[i]);
		assert_non_null(strstr(err.msg, "[x]"));
		vl_catalog_release(&c);
		unlink(p);
	}
}

static void test_entry_roundtrip(void **state)
{
	char name[] = "mine", url[] = "https://h/a.img.xz", digest[] = H256B, user[] = "me";
	struct vl_catalog_entry e = { .name = name, .url = url, .hash = VL_HASH_SHA256,
				      .digest = digest, .format = VL_IMG_RAW, .comp = VL_COMP_XZ,
				      .user = user, .bios = true, .cloud_init = true };
	struct vl_catalog c = VL_CATALOG_INIT;
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *text = vl_catalog_entry_format(&e);
	VL_AUTOFREE char *p = write_tmp(text);
	(void)state;
	assert_int_equal(vl_catalog_load(&c, p, false, &err), 0);
	const struct vl_catalog_entry *r = vl_catalog_find(&c, "mine");
	assert_non_null(r);
	assert_string_equal(r->url, e.url);
	assert_string_equal(r->digest, H256B);
	assert_int_equal(r->format, VL_IMG_RAW);
	assert_int_equal(r->comp, VL_COMP_XZ);
	vl_catalog_release(&c);
	unlink(p);
}

static void test_checksum_gnu(void **state)
{
	const char *text = H256A "  other.img\n"
			   H256B " *ubuntu-24.04-server-cloudimg-amd64.img\n"
			   "# comment\n";
	(void)state;
	VL_AUTOFREE char *d = vl_checksum_find(text, "ubuntu-24.04-server-cloudimg-amd64.img",
					       VL_HASH_SHA256);
	assert_non_null(d);
	assert_string_equal(d, H256B);
	VL_AUTOFREE char *o = vl_checksum_find(text, "other.img", VL_HASH_SHA256);
	assert_string_equal(o, H256A);
	assert_null(vl_checksum_find(text, "missing.img", VL_HASH_SHA256));
	/* a sha256 file never satisfies a sha512 request */
	assert_null(vl_checksum_find(text, "other.img", VL_HASH_SHA512));
}

static void test_checksum_bsd_pgp(void **state)
{
	const char *text =
		"-----BEGIN PGP SIGNED MESSAGE-----\n"
		"Hash: SHA256\n\n"
		"# Fedora-Cloud-Base-Generic-43-1.6.x86_64.qcow2: 536870912 bytes\n"
		"SHA256 (Fedora-Cloud-Base-Generic-43-1.6.x86_64.qcow2) = " H256B "\n"
		"SHA256 (Fedora-Cloud-Base-Generic-43-1.6.x86_64.raw.xz) = " H256A "\n"
		"-----BEGIN PGP SIGNATURE-----\n\n"
		"iQIzBAEBCAAdFiEE" "ABCDEF\n"
		"-----END PGP SIGNATURE-----\n";
	(void)state;
	VL_AUTOFREE char *d = vl_checksum_find(text, "Fedora-Cloud-Base-Generic-43-1.6.x86_64.qcow2",
					       VL_HASH_SHA256);
	assert_non_null(d);
	assert_string_equal(d, H256B);
	assert_null(vl_checksum_find(text, "nope.qcow2", VL_HASH_SHA256));
}

static void test_checksum_single(void **state)
{
	char sha512[129];
	(void)state;
	memset(sha512, 'A', 128);
	sha512[128] = '\0';
	/* Alpine: one bare digest */
	VL_AUTOFREE char *a = vl_checksum_find(sha512, "nocloud_alpine.qcow2", VL_HASH_SHA512);
	assert_non_null(a);
	assert_int_equal(a[0], 'a');   /* lowercased */
	/* openSUSE: one line naming the versioned file behind a "latest" URL */
	VL_AUTOFREE char *s = vl_checksum_find(H256A "  openSUSE-Leap-15.6-Build1.2.qcow2\n",
					       "openSUSE-Leap-15.6-Cloud.qcow2", VL_HASH_SHA256);
	assert_string_equal(s, H256A);
	/* CRLF line ends */
	VL_AUTOFREE char *c = vl_checksum_find(H256A " *x.img\r\n" H256B " *y.img\r\n", "y.img",
					       VL_HASH_SHA256);
	assert_string_equal(c, H256B);
	assert_null(vl_checksum_find("", "x", VL_HASH_SHA256));
	assert_null(vl_checksum_find("not a checksum\n", "x", VL_HASH_SHA256));
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(vl_image_ref_kind("debian-12"), VL_REF_NAME);
	assert_int_equal(vl_image_ref_kind("https://a/b.qcow2"), VL_REF_URL);
	assert_int_equal(vl_image_ref_kind("file:///a/b.qcow2"), VL_REF_FILE_URL);
	assert_int_equal(vl_image_ref_kind("./b.qcow2"), VL_REF_PATH);
	assert_true(vl_image_name_valid("ubuntu-24.04"));
	assert_false(vl_image_name_valid(".hidden"));
	assert_false(vl_image_name_valid("a/b"));
	assert_false(vl_image_name_valid("Upper"));
	VL_AUTOFREE char *b = vl_url_basename("https://h/p/Foo_Bar.qcow2.xz?x=1#f");
	assert_string_equal(b, "Foo_Bar.qcow2.xz");
	VL_AUTOFREE char *n1 = vl_image_name_from_url("https://h/p/Foo_Bar.qcow2.xz");
	VL_AUTOFREE char *n2 = vl_image_name_from_url("https://other/p/Foo_Bar.qcow2.xz");
	assert_true(vl_str_startswith(n1, "foo_bar-"));
	assert_int_equal(strlen(n1), strlen("foo_bar-") + 8);
	assert_string_not_equal(n1, n2);
	assert_true(vl_image_name_valid(n1));
	VL_AUTOFREE char *n3 = vl_image_name_from_url("https://h/");
	assert_true(vl_image_name_valid(n3));
	VL_AUTOFREE char *f = vl_file_url_path("file:///tmp/a%20b.img");
	assert_string_equal(f, "/tmp/a b.img");
	assert_null(vl_file_url_path("file://host/x"));
	VL_AUTOFREE char *ip = vl_cache_image_path("/c", "debian-12", VL_IMG_QCOW2);
	assert_string_equal(ip, "/c/debian-12.qcow2");
}

static void test_meta_and_qcow2(void **state)
{
	unsigned char hdr[32] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	uint64_t v = 0;
	char name[] = "x", url[] = "https://h/x", digest[] = "ab";
	struct vl_cache_meta m = { .name = name, .url = url, .format = VL_IMG_QCOW2,
				   .hash = VL_HASH_SHA512, .digest = digest, .size = 10,
				   .virtual_size = 2147483648ull, .pulled = 1700000000 };
	struct vl_cache_meta r;
	(void)state;
	hdr[28] = 0x80; /* 2 GiB at bytes 24..31 big-endian */
	assert_true(vl_qcow2_virtual_size(hdr, sizeof(hdr), &v));
	assert_int_equal(v, 2147483648ull);
	assert_false(vl_qcow2_virtual_size(hdr, 16, &v));
	assert_int_equal(vl_image_detect(hdr, 4), VL_IMG_QCOW2);
	assert_int_equal(vl_image_detect((const unsigned char *)"\0\0\0\0", 4), VL_IMG_RAW);
	VL_AUTOFREE char *text = vl_cache_meta_format(&m);
	assert_int_equal(vl_cache_meta_parse(&r, text, NULL), 0);
	assert_string_equal(r.url, m.url);
	assert_int_equal(r.virtual_size, m.virtual_size);
	assert_int_equal(r.pulled, m.pulled);
	assert_int_equal(r.hash, VL_HASH_SHA512);
	vl_cache_meta_release(&r);
	assert_int_equal(vl_cache_meta_parse(&r, "garbage", NULL), -1);
}

static void test_shipped_catalog(void **state)
{
	struct vl_catalog c = VL_CATALOG_INIT;
	struct vl_err err = VL_ERR_INIT;
	static const char *const need[] = { "debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04",
					    "almalinux-9", "rocky-9" };
	(void)state;
	if (vl_catalog_load(&c, "images/catalog.ini", false, &err) < 0)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < VL_ARRAY_SIZE(need); i++)
		assert_non_null(vl_catalog_find(&c, need[i]));
	for (size_t i = 0; i < c.n; i++) {
		assert_true(vl_str_startswith(c.items[i].url, "https://"));
		assert_true(c.items[i].digest || c.items[i].checksum_url);
		assert_false(c.items[i].insecure);
	}
	vl_catalog_release(&c);
}

static void test_entry_usable(void **state)
{
	struct vl_catalog_entry e = { .name = (char *)"img", .bios = true, .cloud_init = true };
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	assert_int_equal(vl_catalog_entry_usable(&e, &err), 0);
	e.bios = false;
	assert_int_equal(vl_catalog_entry_usable(&e, &err), -1);
	assert_int_equal(err.code, VL_E_PROFILE);
	assert_non_null(strstr(err.msg, "image img boots with UEFI (boot = uefi)"));
	e.bios = true;
	e.cloud_init = false;
	vl_err_clear(&err);
	assert_int_equal(vl_catalog_entry_usable(&e, &err), -1);
	assert_non_null(strstr(err.msg, "image img has no cloud-init (cloud_init = no)"));
}

/* A qcow2 header as qemu-img writes it: version 3, 104 bytes, no backing. */
static void qcow2_header(unsigned char *h, size_t n)
{
	memset(h, 0, n);
	memcpy(h, "QFI\xfb\0\0\0\3", 8);
	h[23] = 16;   /* cluster_bits */
	h[103] = 104; /* header_length */
}

static void test_qcow2_unsafe(void **state)
{
	unsigned char h[VL_QCOW2_HEADER_MIN];
	uint64_t off;
	uint32_t len;
	(void)state;

	qcow2_header(h, sizeof(h));
	assert_null(vl_qcow2_unsafe(h, sizeof(h), &off, &len));
	/* raw images have no header to distrust */
	assert_null(vl_qcow2_unsafe((const unsigned char *)"\0\0\0\0", 4, &off, &len));
	/* backing file "/etc/shadow" (11 bytes) at offset 0x70 */
	h[15] = 0x70;
	h[19] = 11;
	assert_string_equal(vl_qcow2_unsafe(h, sizeof(h), &off, &len), "it has a backing file");
	assert_int_equal(off, 0x70);
	assert_int_equal(len, 11);
	/* a name length without an offset still means "backing file" */
	h[15] = 0;
	assert_non_null(vl_qcow2_unsafe(h, sizeof(h), &off, &len));
	qcow2_header(h, sizeof(h));
	h[79] = 1u << 2; /* incompatible feature: external data file */
	assert_string_equal(vl_qcow2_unsafe(h, sizeof(h), &off, &len), "it has an external data file");
	h[79] = 1;       /* dirty bit: harmless */
	assert_null(vl_qcow2_unsafe(h, sizeof(h), &off, &len));
	qcow2_header(h, sizeof(h));
	h[35] = 1;       /* AES */
	assert_string_equal(vl_qcow2_unsafe(h, sizeof(h), &off, &len), "it is encrypted");
	qcow2_header(h, sizeof(h));
	h[7] = 4;
	assert_string_equal(vl_qcow2_unsafe(h, sizeof(h), &off, &len), "it is an unknown qcow2 version");
	qcow2_header(h, sizeof(h));
	assert_string_equal(vl_qcow2_unsafe(h, 80, &off, &len), "its qcow2 header is cut short");
	h[7] = 2;        /* version 2 has a 72-byte header */
	assert_null(vl_qcow2_unsafe(h, 72, &off, &len));
	assert_non_null(vl_qcow2_unsafe(h, 40, &off, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_usable),
		cmocka_unit_test(test_catalog_load),
		cmocka_unit_test(test_catalog_errors),
		cmocka_unit_test(test_entry_roundtrip),
		cmocka_unit_test(test_checksum_gnu),
		cmocka_unit_test(test_checksum_bsd_pgp),
		cmocka_unit_test(test_checksum_single),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_meta_and_qcow2),
		cmocka_unit_test(test_qcow2_unsafe),
		cmocka_unit_test(test_shipped_catalog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
