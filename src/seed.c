/* Build the NoCloud seed ISO in memory with libisofs (no genisoimage shell-out)
 * and write it atomically. libisofs keeps global state (init, message queue),
 * so its calls are serialised here; a seed is a few KiB, that costs nothing. */
#include "seed.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* We drain libisofs' burn_source ourselves (no libburn): this makes
 * libisofs.h declare that struct. Its old-style iso_init()/iso_finish()
 * declarations trip -Wstrict-prototypes. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <libisofs.h>
#pragma GCC diagnostic pop

#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

static pthread_once_t iso_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t iso_lock = PTHREAD_MUTEX_INITIALIZER;
static int iso_init_rc;

static void iso_lib_init(void)
{
	/* bit0: leave the process locale alone (names here are ASCII) */
	iso_init_rc = iso_init_with_flag(1);
	if (iso_init_rc >= 0)
		iso_set_msgs_severities((char *)"NEVER", (char *)"NEVER", (char *)"vmlab");
}

static int iso_fail(struct vl_err *err, int rc, const char *what)
{
	return vl_err_set(err, VL_E_FAIL, "seed ISO: %s: %s", what, iso_error_to_msg(rc));
}

static int add_files(IsoImage *image, const struct vl_seed_file *files, size_t n,
		     struct vl_err *err)
{
	IsoDir *root = iso_image_get_root(image);

	for (size_t i = 0; i < n; i++) {
		const struct vl_seed_file *f = &files[i];
		IsoStream *stream = NULL;
		int rc;

		if (!f->name || !*f->name || strchr(f->name, '/') || vl_streq(f->name, ".") ||
		    vl_streq(f->name, ".."))
			return vl_err_set(err, VL_E_USAGE, "seed ISO: bad file name '%s'",
					  f->name ? f->name : "(null)");
		/* the stream takes the buffer and free()s it; 0 bytes still need one */
		unsigned char *copy = vl_malloc(f->len ? f->len : 1);
		if (f->len)
			memcpy(copy, f->data, f->len);
		rc = iso_memory_stream_new(copy, f->len, &stream);
		if (rc < 0) {
			free(copy);
			return iso_fail(err, rc, f->name);
		}
		rc = iso_image_add_new_file(image, root, f->name, stream, NULL);
		if (rc < 0) {
			iso_stream_unref(stream);
			return iso_fail(err, rc, f->name);
		}
	}
	return 0;
}

/* Drain the generator into fd; on failure cancel it so its thread ends. */
static int write_image(IsoImage *image, int fd, const char *tmp, struct vl_err *err)
{
	IsoWriteOpts *opts = NULL;
	struct burn_source *src = NULL;
	unsigned char block[2048];
	int rc, ret = -1;

	rc = iso_write_opts_new(&opts, 0);
	if (rc < 0)
		return iso_fail(err, rc, "write options");
	iso_write_opts_set_iso_level(opts, 3);
	iso_write_opts_set_rockridge(opts, 1);
	iso_write_opts_set_joliet(opts, 1);
	iso_write_opts_set_always_gmt(opts, 1);
	/* keep the volume id lowercase "cidata" in the primary descriptor, as
	 * genisoimage -V does for cloud-localds (strict ISO9660 would uppercase) */
	iso_write_opts_set_relaxed_vol_atts(opts, 1);
	rc = iso_image_create_burn_source(image, opts, &src);
	iso_write_opts_free(opts);
	if (rc < 0)
		return iso_fail(err, rc, "start writer");

	for (;;) {
		int got = src->read_xt(src, block, (int)sizeof(block));
		if (got == 0) {
			ret = 0;
			break;
		}
		if (got < 0) {
			vl_err_set(err, VL_E_FAIL, "seed ISO: image generation failed");
			break;
		}
		size_t off = 0;
		while (off < (size_t)got) {
			ssize_t w = write(fd, block + off, (size_t)got - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				vl_err_sys(err, VL_E_IO, errno, "write %s", tmp);
				goto out;
			}
			off += (size_t)w;
		}
	}
out:
	if (ret < 0)
		src->cancel(src);
	src->free_data(src);
	free(src);
	return ret;
}

static int build_and_write(const struct vl_seed_file *files, size_t n, int fd,
			   const char *tmp, struct vl_err *err)
{
	IsoImage *image = NULL;
	int rc, ret;

	rc = iso_image_new(VL_SEED_LABEL, &image);
	if (rc < 0)
		return iso_fail(err, rc, "new image");
	iso_image_set_volume_id(image, VL_SEED_LABEL);
	iso_image_set_application_id(image, "vmlab");
	ret = add_files(image, files, n, err);
	if (ret == 0)
		ret = write_image(image, fd, tmp, err);
	iso_image_unref(image);
	return ret;
}

int vl_seed_write_iso(const char *path, const struct vl_seed_file *files, size_t n,
		      struct vl_err *err)
{
	VL_AUTOFREE char *tmp = NULL;
	int fd, ret;

	pthread_once(&iso_once, iso_lib_init);
	if (iso_init_rc < 0)
		return iso_fail(err, iso_init_rc, "libisofs init");

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		abort();
	fd = mkostemp(tmp, O_CLOEXEC); /* 0600, O_EXCL */
	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "create %s", tmp);

	pthread_mutex_lock(&iso_lock);
	ret = build_and_write(files, n, fd, tmp, err);
	pthread_mutex_unlock(&iso_lock);

	if (ret == 0 && fsync(fd) < 0)
		ret = vl_err_sys(err, VL_E_IO, errno, "fsync %s", tmp);
	if (close(fd) < 0 && ret == 0)
		ret = vl_err_sys(err, VL_E_IO, errno, "close %s", tmp);
	if (ret == 0 && rename(tmp, path) < 0)
		ret = vl_err_sys(err, VL_E_IO, errno, "rename %s to %s", tmp, path);
	if (ret < 0)
		unlink(tmp);
	return ret;
}
