/* Tests for src/seed: write a NoCloud seed, read it back with libisofs' own
 * reader (Rock Ridge tree and, separately, the Joliet tree), and ask blkid
 * (util-linux, what cloud-init uses to find "cidata") for the label. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIBISOFS_WITHOUT_LIBBURN 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <libisofs.h>
#pragma GCC diagnostic pop

#include "fixture.h"
#include "seed.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

static char dir[] = "/tmp/vmlab-test-seed-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static const char user_data[] =
	"#cloud-config\n"
	"ssh_keys:\n"
	"  ed25519_private: |\n"
	"    -----BEGIN OPENSSH PRIVATE KEY-----\n"
	"    b3BlbnNzaC1rZXktdjEAAAAA\n"
	"    -----END OPENSSH PRIVATE KEY-----\n";
static const char meta_data[] = "instance-id: vmlab-web-1\nlocal-hostname: web-1\n";
static const char net_config[] = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";

/* Read the image at path with libisofs; return "name=contents;" for each
 * root file, sorted as libisofs lists them, and the volume id in *volid. */
static char *read_back(const char *path, int no_rockridge, char **volid, int *joliet, int *rr)
{
	IsoImage *img = NULL;
	IsoDataSource *src = NULL;
	IsoReadOpts *ro = NULL;
	IsoReadImageFeatures *feat = NULL;
	IsoDirIter *it = NULL;
	IsoNode *node;
	struct vl_buf out = VL_BUF_INIT;

	assert_true(iso_image_new("x", &img) >= 0);
	assert_true(iso_data_source_new_from_file(path, &src) >= 0);
	assert_true(iso_read_opts_new(&ro, 0) >= 0);
	iso_read_opts_set_no_rockridge(ro, no_rockridge);
	assert_true(iso_image_import(img, src, ro, &feat) >= 0);
	*joliet = iso_read_image_features_has_joliet(feat);
	/* 1: has Rock Ridge and the tree came from it; 0: read through Joliet */
	*rr = iso_read_image_features_has_rockridge(feat) &&
	      iso_read_image_features_rr_loaded(feat);
	*volid = vl_strdup(iso_image_get_volume_id(img));

	assert_int_equal(iso_dir_get_children(iso_image_get_root(img), &it), 1);
	while (iso_dir_iter_next(it, &node) == 1) {
		assert_true(ISO_NODE_IS_FILE(node));
		IsoStream *s = iso_file_get_stream((IsoFile *)node);
		char chunk[256];
		int n;
		vl_buf_printf(&out, "%s=", iso_node_get_name(node));
		assert_int_equal(iso_stream_open(s), 1);
		while ((n = iso_stream_read(s, chunk, sizeof(chunk))) > 0)
			vl_buf_appendn(&out, chunk, (size_t)n);
		assert_true(n == 0);
		iso_stream_close(s);
		vl_buf_putc(&out, ';');
	}
	iso_dir_iter_free(it);
	iso_read_image_features_destroy(feat);
	iso_read_opts_free(ro);
	iso_data_source_unref(src);
	iso_image_unref(img);
	return vl_buf_steal(&out);
}

static void test_seed_round_trip(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	const struct vl_seed_file files[] = {
		{ "meta-data", meta_data, strlen(meta_data) },
		{ "user-data", user_data, strlen(user_data) },
		{ "network-config", net_config, strlen(net_config) },
	};
	char path[256];
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/web-1-seed.iso", dir);
	assert_int_equal(vl_seed_write_iso(path, files, 3, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size % 2048, 0);

	struct vl_buf want = VL_BUF_INIT;
	vl_buf_printf(&want, "meta-data=%s;network-config=%s;user-data=%s;", meta_data,
		      net_config, user_data);
	for (int no_rr = 0; no_rr <= 1; no_rr++) {
		VL_AUTOFREE char *volid = NULL;
		int joliet, rr;
		VL_AUTOFREE char *got = read_back(path, no_rr, &volid, &joliet, &rr);
		assert_string_equal(volid, "cidata");
		assert_true(joliet);
		assert_int_equal(rr, !no_rr);
		/* exact names, contents byte for byte, in the RR and the Joliet tree */
		assert_string_equal(got, vl_buf_str(&want));
	}
	vl_buf_release(&want);

	/* what cloud-init's ds-identify does: blkid finds an iso9660 "cidata" */
	if (access("/usr/sbin/blkid", X_OK) == 0) {
		char *const argv[] = { (char *)"/usr/sbin/blkid", (char *)"-p", (char *)"-o",
				       (char *)"export", path, NULL };
		int status;
		VL_AUTOFREE char *out = vl_test_run(argv, false, &status);
		assert_int_equal(status, 0);
		assert_non_null(strstr(out, "\nLABEL=cidata\n"));
		assert_non_null(strstr(out, "\nTYPE=iso9660\n"));
	}

	/* a second write replaces the file atomically and leaves no temp file */
	assert_int_equal(vl_seed_write_iso(path, files, 2, &err), 0);
	DIR *d = opendir(dir);
	struct dirent *e;
	int entries = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			entries++;
	closedir(d);
	assert_int_equal(entries, 1);
}

static void test_seed_empty_and_binary(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	const char bin[] = { 'a', 0, 'b', '\n' };
	const struct vl_seed_file files[] = {
		{ "meta-data", "", 0 },
		{ "user-data", bin, sizeof(bin) },
	};
	char path[256];
	(void)state;

	snprintf(path, sizeof(path), "%s/empty.iso", dir);
	assert_int_equal(vl_seed_write_iso(path, files, 2, &err), 0);
	VL_AUTOFREE char *volid = NULL;
	int joliet, rr;
	VL_AUTOFREE char *got = read_back(path, 0, &volid, &joliet, &rr);
	assert_memory_equal(got, "meta-data=;user-data=a\0b\n;", 27);
	unlink(path);
}

static void test_seed_bad_names(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	const struct vl_seed_file slash[] = { { "a/b", "x", 1 } };
	const struct vl_seed_file dup[] = { { "user-data", "x", 1 }, { "user-data", "y", 1 } };
	char path[256];
	(void)state;

	snprintf(path, sizeof(path), "%s/bad.iso", dir);
	assert_int_equal(vl_seed_write_iso(path, slash, 1, &err), -1);
	assert_int_equal(err.code, VL_E_USAGE);
	assert_non_null(strstr(err.msg, "a/b"));
	assert_int_equal(vl_seed_write_iso(path, dup, 2, &err), -1);
	assert_int_equal(err.code, VL_E_FAIL);
	assert_non_null(strstr(err.msg, "user-data"));
	assert_int_equal(access(path, F_OK), -1);

	assert_int_equal(vl_seed_write_iso("/nonexistent-dir/x.iso", dup, 1, &err), -1);
	assert_int_equal(err.code, VL_E_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_round_trip),
		cmocka_unit_test(test_seed_empty_and_binary),
		cmocka_unit_test(test_seed_bad_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
