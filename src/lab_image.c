/* vmlab image save VM NAME: a VM's disk as a template image. The guest's
 * identity is cleared over SSH (cloud-init state, host keys, machine id,
 * the lab's login key), the VM halted, its overlay copied into a new
 * volume in the pool (flat: the copy reads through the backing image),
 * downloaded through libvirt into the cache and registered under NAME. */
#include "host.h"
#include "lab_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "image.h"
#include "render.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/str.h"

/* As root: cloud-init's own clean where it runs, then what makes a
 * machine itself (host keys of OpenSSH and dropbear, the machine id, the
 * lab user's authorized keys: a clone's lab brings its own). */
static const char clear_sh[] =
	"if command -v cloud-init >/dev/null 2>&1; then\n"
	"  cloud-init clean --logs --machine-id >/dev/null 2>&1 || cloud-init clean --logs || exit 1\n"
	"fi\n"
	"rm -f /etc/ssh/ssh_host_*key /etc/ssh/ssh_host_*key.pub /etc/dropbear/dropbear_*_host_key\n"
	"if [ -s /etc/machine-id ] && [ ! -L /etc/machine-id ]; then : > /etc/machine-id; fi\n"
	"h=$(awk -F: -v u=\"$1\" '$1 == u { print $6 }' /etc/passwd)\n"
	"if [ -n \"$h\" ]; then rm -f \"$h/.ssh/authorized_keys\"; fi\n"
	"sync\n";

static int clear_identity(struct lab *lab, const struct vl_plan_vm *vm, struct vl_err *err)
{
	const char *argv[] = { "sudo", "-n", "sh", "-c", clear_sh, "sh", lab->plan.user };
	struct vl_buf errs = VL_BUF_INIT;
	const struct lab_out o = { .log_fd = -1, .err = &errs };
	VL_AUTOFREE char *host_pub = NULL;
	struct vl_ssh_target t;
	struct vl_ssh *s = NULL;
	int status = 0, rc = -1;

	lab_ssh_target(lab, vm, &t, &host_pub);
	if (vl_ssh_connect(&t, &s, err) < 0)
		return -1;
	if (lab_run(lab, s, vm, argv, VL_ARRAY_SIZE(argv), -1, &o, &status, err) < 0)
		goto out;
	if (status != 0) {
		char *nl = strchr(vl_buf_str(&errs), '\n');
		if (nl)
			*nl = '\0';
		vl_err_set(err, VL_E_FAIL, "%s: clearing its identity failed (status %d)%s%s", vm->name,
			   status, errs.len ? ": " : "", errs.len ? errs.s : "");
		goto out;
	}
	rc = 0;
out:
	vl_buf_release(&errs);
	vl_ssh_free(s);
	return rc;
}

static int mkdir_p(const char *path, struct vl_err *err)
{
	VL_AUTOFREE char *p = vl_strdup(path);

	for (char *s = p + 1; ; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return vl_err_sys(err, VL_E_IO, errno, "image save: %s", p);
		if (!c)
			return 0;
		*s = c;
	}
}

struct sink {
	int fd;
	const struct vl_events *evs;
	const char *subject;
	uint64_t done, total;
	int64_t start_ms, last_ms;
};

static int to_file(void *ud, const char *buf, size_t n, struct vl_err *err)
{
	struct sink *k = ud;
	int64_t now = vl_now_mono_ms();

	if (vl_fd_write_all(k->fd, buf, n) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "image save: writing the image");
	k->done += n;
	if (now - k->last_ms >= 100 || k->done >= k->total) {
		double secs = (double)(now - k->start_ms) / 1000.0;
		k->last_ms = now;
		vl_event_progress(k->evs, k->subject, "download", k->done,
				  k->total > k->done ? k->total : k->done,
				  secs > 0 ? (double)k->done / secs : 0);
	}
	return 0;
}

/* The flat copy of vm's disk into a new file under dir (*path, caller
 * unlinks and frees); the pool's temporary volume is gone on return. */
static int flatten(struct lab *lab, const struct vl_plan_vm *vm, const char *dir, char **path,
		   struct vl_err *err)
{
	struct vl_ctx *ctx = lab->ctx;
	struct vl_virt *v = ctx->host->virt;
	const char *pool = ctx->config.pool_name;
	VL_AUTOFREE char *vol = NULL, *xml = NULL;
	struct sink k = { .fd = -1, .evs = &ctx->events, .subject = vm->name };
	struct vl_err derr = VL_ERR_INIT;
	uint64_t cap = 0, alloc = 0;
	int rc = -1;

	*path = NULL;
	if (vl_virt_volume_capacity(v, pool, vm->volume, &cap, &alloc, err) < 0)
		return -1;
	if (asprintf(&vol, "vmlab-save-%s-%ld.qcow2", vm->domain + strlen("vmlab-"),
		     (long)getpid()) < 0)
		abort();
	xml = vl_render_qcow2_volume(vol, cap, err);
	if (!xml)
		return -1;
	vl_event_info(&ctx->events, vm->name, "copying its disk into a flat image");
	if (vl_virt_volume_clone(v, pool, xml, vm->volume, err) < 0)
		return -1;
	if (vl_virt_volume_physical(v, pool, vol, &k.total, err) < 0)
		goto out;
	if (asprintf(path, "%s/.vmlab-save.XXXXXX", dir) < 0)
		abort();
	k.fd = mkostemp(*path, O_CLOEXEC);
	if (k.fd < 0) {
		vl_err_sys(err, VL_E_IO, errno, "image save: %s", dir);
		free(*path);
		*path = NULL;
		goto out;
	}
	k.start_ms = vl_now_mono_ms();
	if (vl_virt_volume_download(v, &ctx->events, pool, vol, 0, 0, to_file, &k, err) < 0)
		goto out;
	if (fsync(k.fd) < 0) {
		vl_err_sys(err, VL_E_IO, errno, "image save: %s", *path);
		goto out;
	}
	rc = 0;
out:
	if (k.fd >= 0)
		close(k.fd);
	if (rc < 0 && *path) {
		unlink(*path);
		free(*path);
		*path = NULL;
	}
	if (vl_virt_volume_delete(v, pool, vol, &derr) < 0)
		vl_event_warn(&ctx->events, vm->name, "%s", derr.msg);
	return rc;
}

int vl_lab_image_save(struct vl_ctx *ctx, const char *vm_name, const char *name,
		      struct vl_image_info *out, struct vl_err *err)
{
	const struct vl_config *cfg = &ctx->config;
	struct vl_image_info base = { 0 }, probe = { 0 };
	struct vl_err perr = VL_ERR_INIT;
	const struct vl_plan_vm *vm = NULL;
	VL_AUTOFREE char *cache = NULL, *tmp = NULL;
	struct lab lab;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!vl_image_name_valid(name))
		return vl_err_set(err, VL_E_USAGE, "image name '%s': use [a-z0-9._-], at most %d",
				  name, VL_IMAGE_NAME_MAX);
	if (vl_image_resolve(cfg, name, &probe, &perr) == 0) {
		vl_image_info_release(&probe);
		return vl_err_set(err, VL_E_EXISTS, "image %s exists already; choose another name "
				  "(or 'vmlab image rm %s' first)", name, name);
	}
	if (lab_open(&lab, ctx, LAB_LOCK, NULL, err) < 0)
		return -1;
	if (lab_running_vm(&lab, vm_name, &vm, err) < 0) {
		if (err->code == VL_E_FAIL)   /* not running: say why it must */
			vl_err_set(err, VL_E_FAIL, "%s is not running; image save clears its identity "
				   "over SSH before halting it: 'vmlab up %s' first", vm_name, vm_name);
		goto out;
	}
	if (vl_keys_open(&lab.keys, lab.state_dir, err) < 0 ||
	    vl_image_resolve(cfg, vm->image, &base, err) < 0)
		goto out;
	cache = vl_image_cache_dir(cfg);
	if (mkdir_p(cache, err) < 0)
		goto out;
	vl_event_info(&ctx->events, vm->name, "clearing cloud-init state, host keys and machine id");
	if (clear_identity(&lab, vm, err) < 0 || lab_halt_vm(&lab, vm, NULL, err) < 0)
		goto out;
	if (flatten(&lab, vm, cache, &tmp, err) < 0)
		goto out;
	rc = vl_image_import(cfg, tmp, name, &base, out, &ctx->events, err);
	unlink(tmp);
	if (rc == 0)
		vl_event_info(&ctx->events, vm->name, "saved as image %s; it stays halted ('vmlab up "
			      "%s' starts it again)", name, vm->name);
out:
	vl_image_info_release(&base);
	lab_close(&lab);
	return rc;
}
