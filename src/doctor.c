/* The doctor's checks: libvirt reachable, KVM, QEMU, dnsmasq, storage pool,
 * free space. Each finding says what to do about it. */
#include "doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "host.h"
#include "util/buf.h"
#include "util/mem.h"
#include "virt.h"

#define LOW_SPACE (5ull << 30)

static void add(struct vl_checks *c, const char *name, enum vl_check_level level, const char *fix,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(struct vl_checks *c, const char *name, enum vl_check_level level, const char *fix,
		const char *fmt, ...)
{
	struct vl_buf detail = VL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vl_buf_vprintf(&detail, fmt, ap);
	va_end(ap);
	c->items = vl_realloc(c->items, (c->n + 1) * sizeof(*c->items));
	c->items[c->n++] = (struct vl_check){
		.name = vl_strdup(name),
		.level = level,
		.detail = vl_buf_steal(&detail),
		.fix = fix && level != VL_CHECK_OK ? vl_strdup(fix) : NULL,
	};
}

static bool in_path(const char *prog, char *found, size_t n)
{
	const char *path = getenv("PATH");
	VL_AUTOFREE char *copy = vl_strdup(path && *path ? path : "/usr/bin:/bin");
	char *save = NULL;

	/* daemons live in sbin, which a user's PATH may lack */
	for (const char *extra = "/usr/sbin:/sbin"; extra; extra = NULL) {
		struct vl_buf all = VL_BUF_INIT;
		vl_buf_printf(&all, "%s:%s", copy, extra);
		for (char *dir = strtok_r(all.s, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
			snprintf(found, n, "%s/%s", dir, prog);
			if (access(found, X_OK) == 0) {
				vl_buf_release(&all);
				return true;
			}
		}
		vl_buf_release(&all);
	}
	return false;
}

static void check_space(struct vl_checks *c, const char *what, const char *dir)
{
	struct statvfs vfs;
	VL_AUTOFREE char *probe = vl_strdup(dir);

	/* the directory may not exist yet: measure its nearest existing parent */
	while (statvfs(probe, &vfs) < 0) {
		char *slash = strrchr(probe, '/');
		if (!slash || slash == probe) {
			strcpy(probe, "/");
			if (statvfs(probe, &vfs) < 0)
				return;
			break;
		}
		*slash = '\0';
	}
	unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	add(c, what, avail < LOW_SPACE ? VL_CHECK_WARN : VL_CHECK_OK,
	    "free space there, or point vmlab.conf at a bigger file system",
	    "%s: %.1f GiB free", dir, (double)avail / (1 << 30));
}

void vl_doctor_run(struct vl_ctx *ctx, struct vl_checks *out)
{
	const struct vl_config *cfg = &ctx->config;
	const char *uri = ctx->uri ? ctx->uri : cfg->uri;
	VL_AUTOFREE char *curi = NULL;
	struct vl_err err = VL_ERR_INIT;
	char path[512];
	struct vl_virt *v = NULL;
	bool own_command = false;

	*out = (struct vl_checks){ 0 };
	curi = vl_host_prepare_uri(uri, &own_command, &err);
	if (own_command)
		add(out, "host key", VL_CHECK_WARN,
		    "drop command= to have vmlab's ssh check the key in its own known_hosts",
		    "%s: its own command= runs ssh; the hypervisor's key is checked as that "
		    "command does, not in vmlab's known_hosts", uri);
	if (curi || !uri)
		v = vl_virt_open(curi, &err);
	if (!v) {
		add(out, "libvirt", VL_CHECK_FAIL,
		    "install libvirt-daemon-system and start libvirtd (or set [libvirt] uri / --uri)",
		    "%s", err.msg);
	} else {
		struct vl_virt_host h;
		if (vl_virt_host_info(v, &h, &err) == 0)
			add(out, "libvirt", VL_CHECK_OK, NULL, "%s: libvirt %s, %s %s", h.uri,
			    h.daemon[0] ? h.daemon : h.libvirt, h.driver, h.hypervisor);
		else
			add(out, "libvirt", VL_CHECK_WARN, NULL, "%s: connected; %s", uri, err.msg);
	}

	bool offered = false;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int kvm_errno = errno;
	if (fd >= 0)
		close(fd);
	if (v)
		vl_virt_kvm_usable(v, &offered, &err);
	if (fd >= 0 && offered)
		add(out, "kvm", VL_CHECK_OK, NULL, "/dev/kvm usable and offered by libvirt%s",
		    cfg->accel == VL_ACCEL_TCG ? " (but vmlab.conf forces accel = tcg)" : "");
	else
		add(out, "kvm", cfg->accel == VL_ACCEL_KVM ? VL_CHECK_FAIL : VL_CHECK_WARN,
		    "enable virtualization in the firmware and load kvm_intel or kvm_amd; "
		    "without it VMs run under TCG, many times slower",
		    "%s", fd < 0 ? strerror(kvm_errno) : "libvirt offers no KVM domain type");

	if (in_path("qemu-system-x86_64", path, sizeof(path)))
		add(out, "qemu", VL_CHECK_OK, NULL, "%s", path);
	else
		add(out, "qemu", VL_CHECK_FAIL, "apt-get install qemu-system-x86", "qemu-system-x86_64 not found");
	if (in_path("dnsmasq", path, sizeof(path)))
		add(out, "dnsmasq", VL_CHECK_OK, NULL, "%s", path);
	else
		add(out, "dnsmasq", VL_CHECK_FAIL, "apt-get install dnsmasq-base",
		    "dnsmasq not found: lab networks get no DHCP or DNS");
	if (in_path("qemu-img", path, sizeof(path)))
		add(out, "qemu-img", VL_CHECK_OK, NULL, "%s", path);
	else
		add(out, "qemu-img", VL_CHECK_FAIL, "apt-get install qemu-utils",
		    "qemu-img not found: libvirt cannot create disk overlays");

	if (v) {
		bool exists = false;
		if (vl_virt_pool_exists(v, cfg->pool_name, &exists, &err) < 0)
			add(out, "pool", VL_CHECK_FAIL, NULL, "%s", err.msg);
		else if (exists)
			add(out, "pool", VL_CHECK_OK, NULL, "storage pool '%s' exists", cfg->pool_name);
		else
			add(out, "pool", VL_CHECK_OK, NULL,
			    "storage pool '%s' will be created in %s by the first 'vmlab up'",
			    cfg->pool_name, cfg->pool_dir);
	}
	check_space(out, "pool space", cfg->pool_dir);
	check_space(out, "cache space", cfg->cache_dir);
	vl_virt_close(v);
}

void vl_checks_release(struct vl_checks *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].name);
		free(c->items[i].detail);
		free(c->items[i].fix);
	}
	free(c->items);
	*c = (struct vl_checks){ 0 };
}
