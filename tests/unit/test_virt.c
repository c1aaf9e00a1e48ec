/* The libvirt adapter against libvirt's in-process test:///default driver, or
 * a real daemon when VL_TEST_URI is set (run that inside a network namespace);
 * plus the pure helpers around it (host routes, file tail). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostroutes.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"
#include "util/tail.h"
#include "host.h"
#include "virt.h"

#define NS "https://vmlab.invalid/ns/1"

static const char *uri;   /* test:///default, or VL_TEST_URI */
static bool real;         /* a real daemon: qemu domains, files on disk */
static char pooldir[256]; /* the pool's directory (real: a fresh temp dir) */
static char extdir[256];  /* real: a dir outside the pool for backing files */

static struct vl_virt *open_ok(void)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_virt *v = vl_virt_open(uri, &err);

	if (!v)
		fail_msg("open %s: %s", uri, err.msg);
	return v;
}

#define OK(call) do { \
	struct vl_err e_ = VL_ERR_INIT; \
	if ((call) != 0) fail_msg("%s: %s", #call, e_.msg); \
} while (0)
/* OK() needs the call to use &e_ as its error argument. */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	char *s;
	va_list ap;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* The backing file of the overlay test, outside the pool (real daemon). */
static const char *fmt_static_base(void)
{
	static char p[300];

	snprintf(p, sizeof(p), "%s/base.raw", extdir);
	return p;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* ---- connection and host ---- */

static void test_open_bogus(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	(void)state;
	assert_null(vl_virt_open("qemu+unix:///system?socket=/nonexistent/vl-sock", &err));
	assert_int_equal(err.code, VL_E_CONNECT);
	assert_int_equal(vl_err_exit_status(&err), 3);
	assert_non_null(strstr(err.msg, "cannot connect to libvirt"));
	vl_err_clear(&err);
	assert_null(vl_virt_open("nosuchdriver:///x", &err));
	assert_int_equal(err.code, VL_E_CONNECT);
	vl_virt_close(NULL);
}

static void test_host(void **state)
{
	struct vl_virt *v = open_ok();
	struct vl_virt_host h;
	bool kvm = true;
	(void)state;
	OK(vl_virt_host_info(v, &h, &e_));
	assert_string_equal(h.driver, real ? "QEMU" : "TEST");
	assert_true(h.libvirt[0] >= '1' && strchr(h.libvirt, '.'));
	assert_true(vl_str_startswith(h.uri, real ? "qemu" : "test"));
	OK(vl_virt_kvm_usable(v, &kvm, &e_));
	if (!real)
		assert_false(kvm);  /* the test driver lists only type='test' */
	uint64_t mem_free = 0;
	struct vl_virt_node node;
	OK(vl_virt_node_free_memory(v, &mem_free, &e_));
	OK(vl_virt_node_info(v, &node, &e_));
	assert_true(mem_free > 0);
	assert_true(mem_free <= node.memory);
	vl_virt_close(v);
}

/* ---- networks ---- */

static const char net_xml[] =
	"<network><name>vltest-net</name><bridge name='vltest0'/>"
	"<metadata><vmlab:lab xmlns:vmlab='" NS "'><vmlab:id>t-1</vmlab:id></vmlab:lab></metadata>"
	"<ip address='10.77.3.1' prefix='24'><dhcp><range start='10.77.3.100' end='10.77.3.200'/>"
	"</dhcp></ip></network>";

static void test_network(void **state)
{
	struct vl_virt *v = open_ok();
	struct vl_err err = VL_ERR_INIT;
	struct vl_virt_net *nets;
	struct vl_subnet *subs;
	struct vl_virt_lease *leases;
	size_t n, i;
	bool ex = true, seen = false;
	(void)state;

	OK(vl_virt_network_destroy_undefine(v, "vltest-net", &e_));  /* leftovers, and missing is ok */
	OK(vl_virt_network_exists(v, "vltest-net", &ex, &e_));
	assert_false(ex);
	OK(vl_virt_network_define_start(v, NULL, net_xml, &e_));
	OK(vl_virt_network_define_start(v, NULL, net_xml, &e_));  /* converge again: no-op */
	OK(vl_virt_network_exists(v, "vltest-net", &ex, &e_));
	assert_true(ex);

	OK(vl_virt_network_list(v, "vltest-", &nets, &n, &e_));
	assert_int_equal(n, 1);
	assert_string_equal(nets[0].name, "vltest-net");
	assert_string_equal(nets[0].bridge, "vltest0");
	assert_true(nets[0].active);
	assert_true(nets[0].has_subnet);
	assert_int_equal(nets[0].subnet.addr, 0x0a4d0300u);
	assert_int_equal(nets[0].subnet.prefix, 24);
	assert_null(nets[0].metadata);    /* only the _meta listing reads it out */
	vl_virt_net_list_free(nets, n);
	OK(vl_virt_network_list_meta(v, "vltest-", NS, &nets, &n, &e_));
	assert_int_equal(n, 1);
	assert_true(nets[0].active);
	assert_non_null(nets[0].metadata);
	assert_non_null(strstr(nets[0].metadata, "t-1</vmlab:id>"));
	assert_non_null(strstr(nets[0].metadata, "xmlns:vmlab=\"" NS "\""));
	vl_virt_net_list_free(nets, n);
	OK(vl_virt_network_list_meta(v, "vltest-", "https://other.invalid/", &nets, &n, &e_));
	assert_int_equal(n, 1);
	assert_null(nets[0].metadata);
	vl_virt_net_list_free(nets, n);

	OK(vl_virt_used_subnets(v, &subs, &n, &e_));
	for (i = 0; i < n; i++)
		seen |= subs[i].addr == 0x0a4d0300u && subs[i].prefix == 24;
	assert_true(seen);
	if (!real) {  /* the test driver's own "default" network, netmask form */
		seen = false;
		for (i = 0; i < n; i++)
			seen |= subs[i].addr == 0xc0a87a00u && subs[i].prefix == 24;
		assert_true(seen);
	}
	free(subs);

	/* Leases: whatever the driver supports, no crash and a clean answer. */
	if (vl_virt_network_leases(v, "vltest-net", NULL, &leases, &n, &err) == 0) {
		vl_virt_lease_list_free(leases, n);
	} else {
		assert_non_null(strstr(err.msg, "network vltest-net: DHCP leases"));
		vl_err_clear(&err);
	}
	assert_int_equal(vl_virt_network_leases(v, "vltest-nope", NULL, &leases, &n, &err), -1);
	assert_int_equal(err.code, VL_E_NOTFOUND);
	assert_string_equal(err.msg, "network vltest-nope: not found");

	OK(vl_virt_network_destroy_undefine(v, "vltest-net", &e_));
	OK(vl_virt_network_destroy_undefine(v, "vltest-net", &e_));
	OK(vl_virt_network_exists(v, "vltest-net", &ex, &e_));
	assert_false(ex);
	OK(vl_virt_network_list(v, "vltest-", &nets, &n, &e_));
	assert_int_equal(n, 0);
	vl_virt_net_list_free(nets, n);
	/* defined only: listed, not active; defined again: the same network */
	OK(vl_virt_network_define(v, net_xml, &e_));
	OK(vl_virt_network_define(v, net_xml, &e_));
	OK(vl_virt_network_list(v, "vltest-", &nets, &n, &e_));
	assert_int_equal(n, 1);
	assert_false(nets[0].active);
	vl_virt_net_list_free(nets, n);
	OK(vl_virt_network_destroy_undefine(v, "vltest-net", &e_));

	/* Bad XML names what failed and leaves nothing behind. */
	vl_err_clear(&err);
	assert_int_equal(vl_virt_network_define_start(v, NULL, "<network><name>vltest-bad</name>"
			 "<ip address='nonsense'/></network>", &err), -1);
	assert_int_equal(err.code, VL_E_FAIL);
	assert_true(vl_str_startswith(err.msg, "network vltest-bad: define: "));
	vl_virt_close(v);
}

/* ---- storage ---- */

#define POOL "vl-test-pool"

static void test_storage(void **state)
{
	struct vl_virt *v = open_ok();
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *path = NULL, *base_path = NULL, *ovl_xml = NULL, *seed = NULL;
	VL_AUTOFREE char *ovl_path = NULL;
	char **names;
	size_t n;
	uint64_t cap = 0, alloc = 0;
	bool ex;
	(void)state;

	OK(vl_virt_pool_ensure(v, NULL, POOL, pooldir, &e_));
	OK(vl_virt_pool_ensure(v, NULL, POOL, pooldir, &e_));  /* second time: already there */
	OK(vl_virt_pool_refresh(v, NULL, POOL, &e_));
	OK(vl_virt_volume_delete(v, POOL, "vltest-base.qcow2", &e_));

	OK(vl_virt_volume_create_xml(v, POOL, "<volume><name>vltest-base.qcow2</name>"
		"<capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>",
		&path, &e_));
	assert_true(vl_str_endswith(path, "/vltest-base.qcow2"));
	OK(vl_virt_volume_exists(v, POOL, "vltest-base.qcow2", &ex, &e_));
	assert_true(ex);
	OK(vl_virt_volume_capacity(v, POOL, "vltest-base.qcow2", &cap, &alloc, &e_));
	assert_int_equal(cap, 16u << 20);

	/* An overlay whose backing file lies outside the pool (the image cache). */
	if (real) {
		base_path = vl_strdup(fmt_static_base());
		int fd = open(base_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 8 << 20), 0);
		close(fd);
	} else {
		base_path = fmt("/var/cache/vmlab/images/base.raw");
	}
	ovl_xml = fmt("<volume><name>vltest-ovl.qcow2</name><capacity unit='MiB'>32</capacity>"
		      "<target><format type='qcow2'/></target><backingStore><path>%s</path>"
		      "<format type='raw'/></backingStore></volume>", base_path);
	OK(vl_virt_volume_delete(v, POOL, "vltest-ovl.qcow2", &e_));
	OK(vl_virt_volume_create_xml(v, POOL, ovl_xml, NULL, &e_));
	OK(vl_virt_volume_path(v, POOL, "vltest-ovl.qcow2", &ovl_path, &e_));
	if (real) {
		/* The qcow2 header names the backing file. */
		VL_AUTOFREE char *head = NULL;
		size_t hl;
		OK(vl_file_tail(ovl_path, 1 << 20, &head, &hl, &e_));
		assert_true(hl > 4 && memcmp(head, "QFI\xfb", 4) == 0);
		assert_non_null(memmem(head, hl, base_path, strlen(base_path)));
	}

	/* Upload: the seed ISO path. */
	seed = fmt("%s/vl-test-seed-%d.bin", real ? extdir : "/tmp", (int)getpid());
	{
		char data[300000];
		for (size_t i = 0; i < sizeof(data); i++)
			data[i] = (char)(i * 7 + 3);
		write_file(seed, data, sizeof(data));
		if (vl_virt_volume_upload(v, NULL, POOL, "vltest-seed.iso", seed, &err) == 0) {
			OK(vl_virt_volume_capacity(v, POOL, "vltest-seed.iso", &cap, NULL, &e_));
			assert_int_equal(cap, sizeof(data));
			OK(vl_virt_volume_upload(v, NULL, POOL, "vltest-seed.iso", seed, &e_)); /* replace */
			if (real) {
				VL_AUTOFREE char *vp = NULL, *got = NULL;
				size_t gl;
				OK(vl_virt_volume_path(v, POOL, "vltest-seed.iso", &vp, &e_));
				OK(vl_file_tail(vp, 1 << 20, &got, &gl, &e_));
				assert_int_equal(gl, sizeof(data));
				assert_memory_equal(got, data, sizeof(data));
			}
		} else {
			/* The test driver has no volume upload; the error must say so cleanly. */
			assert_false(real);
			assert_true(vl_str_startswith(err.msg, "volume vltest-seed.iso in pool " POOL));
			vl_err_clear(&err);
			OK(vl_virt_volume_exists(v, POOL, "vltest-seed.iso", &ex, &e_));
			assert_false(ex);  /* no half-made volume left */
		}
		unlink(seed);
	}
	assert_int_equal(vl_virt_volume_upload(v, NULL, POOL, "../evil", "/etc/hostname", &err), -1);
	vl_err_clear(&err);

	OK(vl_virt_volume_list(v, POOL, "vltest-", &names, &n, &e_));
	assert_true(n >= 2);
	assert_string_equal(names[0], "vltest-base.qcow2");
	assert_string_equal(names[1], "vltest-ovl.qcow2");
	vl_virt_name_list_free(names, n);

	OK(vl_virt_volume_delete(v, POOL, "vltest-ovl.qcow2", &e_));
	OK(vl_virt_volume_delete(v, POOL, "vltest-ovl.qcow2", &e_));
	OK(vl_virt_volume_delete(v, POOL, "vltest-seed.iso", &e_));
	OK(vl_virt_volume_exists(v, POOL, "vltest-ovl.qcow2", &ex, &e_));
	assert_false(ex);

	VL_AUTOFREE char *p2 = NULL;
	assert_int_equal(vl_virt_volume_path(v, POOL, "vltest-nope", &p2, &err), -1);
	assert_int_equal(err.code, VL_E_NOTFOUND);
	assert_string_equal(err.msg, "volume vltest-nope in pool " POOL ": not found");
	assert_int_equal(vl_virt_volume_exists(v, "vl-no-pool", "x", &ex, &err), -1);
	assert_int_equal(err.code, VL_E_NOTFOUND);
	assert_string_equal(err.msg, "pool vl-no-pool: not found");
	vl_virt_close(v);
}

/* ---- domains ---- */

/* A minimal domain: type test on the test driver, a TCG guest with one
 * qcow2 disk (nothing to boot: SeaBIOS just waits) on a real daemon. */
static char *dom_xml(const char *name, const char *disk, const char *fmtname, const char *extra_os)
{
	if (!real)
		return fmt("<domain type='test'><name>%s</name><memory unit='KiB'>65536</memory>"
			   "<vcpu>1</vcpu><metadata><vmlab:vm xmlns:vmlab='" NS "'><lab>t</lab>"
			   "</vmlab:vm></metadata><os><type>hvm</type>%s</os><devices>"
			   "<disk type='file' device='disk'><driver name='qemu' type='%s'/>"
			   "<source file='%s'/><target dev='vda' bus='virtio'/></disk></devices></domain>",
			   name, extra_os, fmtname, disk);
	return fmt("<domain type='qemu'><name>%s</name><memory unit='KiB'>65536</memory>"
		   "<vcpu>1</vcpu><metadata><vmlab:vm xmlns:vmlab='" NS "'><lab>t</lab>"
		   "</vmlab:vm></metadata><os><type arch='x86_64' machine='pc'>hvm</type>%s</os>"
		   "<features><acpi/></features><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
		   "<disk type='file' device='disk'><driver name='qemu' type='%s'/>"
		   "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
		   "</devices></domain>", name, extra_os, fmtname, disk);
}

/* A fresh qcow2 volume for a test domain; returns its path. */
static char *dom_disk(struct vl_virt *v, const char *vol)
{
	char *path = NULL;
	VL_AUTOFREE char *xml = fmt("<volume><name>%s</name><capacity unit='MiB'>16</capacity>"
				    "<target><format type='qcow2'/></target></volume>", vol);
	OK(vl_virt_pool_ensure(v, NULL, POOL, pooldir, &e_));
	OK(vl_virt_volume_delete(v, POOL, vol, &e_));
	OK(vl_virt_volume_create_xml(v, POOL, xml, &path, &e_));
	return path;
}

#define DOM "vltest-dom"

static void test_domain(void **state)
{
	struct vl_virt *v = open_ok();
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *disk = dom_disk(v, "vltest-dom.qcow2");
	VL_AUTOFREE char *xml = dom_xml(DOM, disk, "qcow2", "");
	VL_AUTOFREE char *meta = NULL, *desc = NULL;
	char uuid[VL_UUID_STRLEN], uuid2[VL_UUID_STRLEN];
	enum vl_dom_state st;
	struct vl_virt_dominfo info;
	struct vl_virt_dom *doms;
	size_t n;
	(void)state;

	OK(vl_virt_domain_destroy(v, DOM, &e_));
	OK(vl_virt_domain_undefine(v, DOM, &e_));
	OK(vl_virt_domain_state(v, DOM, &st, &e_));
	assert_int_equal(st, VL_DOM_MISSING);

	OK(vl_virt_domain_define(v, xml, uuid, &e_));
	assert_int_equal(strlen(uuid), 36);
	OK(vl_virt_domain_get_uuid(v, DOM, uuid2, &e_));
	assert_string_equal(uuid, uuid2);
	OK(vl_virt_domain_state(v, DOM, &st, &e_));
	assert_int_equal(st, VL_DOM_SHUTOFF);
	OK(vl_virt_domain_shutdown(v, DOM, &e_));  /* not running: nothing to do */

	OK(vl_virt_domain_get_metadata(v, DOM, NS, &meta, &e_));
	assert_non_null(meta);
	assert_non_null(strstr(meta, "lab>t</"));
	free(meta);
	OK(vl_virt_domain_get_metadata(v, DOM, "https://other.invalid/", &meta, &e_));
	assert_null(meta);

	OK(vl_virt_domain_start(v, DOM, false, &e_));
	OK(vl_virt_domain_start(v, DOM, false, &e_));  /* already running: ok */
	OK(vl_virt_domain_wait_state(v, NULL, DOM, VL_DOM_RUNNING, 5000, &e_));
	OK(vl_virt_domain_info(v, DOM, &info, &e_));
	assert_int_equal(info.state, VL_DOM_RUNNING);
	assert_int_equal(info.vcpus, 1);
	assert_int_equal(info.max_memory_kib, 65536);
	OK(vl_virt_domain_get_xml(v, DOM, false, &desc, &e_));
	assert_non_null(strstr(desc, "<name>" DOM "</name>"));

	OK(vl_virt_domain_suspend(v, DOM, &e_));
	OK(vl_virt_domain_suspend(v, DOM, &e_));
	OK(vl_virt_domain_state(v, DOM, &st, &e_));
	assert_int_equal(st, VL_DOM_PAUSED);
	OK(vl_virt_domain_resume(v, DOM, &e_));
	OK(vl_virt_domain_resume(v, DOM, &e_));

	OK(vl_virt_domain_list(v, "vltest-", &doms, &n, &e_));
	assert_int_equal(n, 1);
	assert_string_equal(doms[0].name, DOM);
	assert_string_equal(doms[0].uuid, uuid);
	assert_int_equal(doms[0].state, VL_DOM_RUNNING);
	vl_virt_dom_list_free(doms, n);
	{
		struct vl_virt_dom_meta *dm;

		OK(vl_virt_domain_list_meta(v, "vltest-", NS, NULL, &dm, &n, &e_));
		assert_int_equal(n, 1);
		assert_string_equal(dm[0].name, DOM);
		assert_int_equal(dm[0].state, VL_DOM_RUNNING);
		assert_int_equal(dm[0].vcpus, 1);
		assert_int_equal(dm[0].max_memory_kib, 65536);
		assert_non_null(dm[0].metadata);
		assert_non_null(strstr(dm[0].metadata, "lab>t</"));
		vl_virt_dom_meta_list_free(dm, n);
		OK(vl_virt_domain_list_meta(v, "vltest-", "https://other.invalid/", NULL, &dm, &n, &e_));
		assert_int_equal(n, 1);
		assert_null(dm[0].metadata);
		vl_virt_dom_meta_list_free(dm, n);
		OK(vl_virt_domain_list_meta(v, "vltest-nothing-", NS, NULL, &dm, &n, &e_));
		assert_int_equal(n, 0);
		vl_virt_dom_meta_list_free(dm, n);
	}

	OK(vl_virt_domain_supports_internal_snapshot(v, DOM, &e_));

	OK(vl_virt_domain_shutdown(v, DOM, &e_));
	if (real) {
		/* Nothing in the guest handles ACPI: the wait times out. */
		assert_int_equal(vl_virt_domain_wait_state(v, NULL, DOM, VL_DOM_SHUTOFF, 300, &err), -1);
		assert_int_equal(err.code, VL_E_TIMEOUT);
		vl_err_clear(&err);
	}
	OK(vl_virt_domain_destroy(v, DOM, &e_));
	OK(vl_virt_domain_destroy(v, DOM, &e_));
	OK(vl_virt_domain_wait_state(v, NULL, DOM, VL_DOM_SHUTOFF, 5000, &e_));

	/* Redefine with the same uuid: converge. */
	OK(vl_virt_domain_define(v, xml, uuid2, &e_));
	assert_string_equal(uuid, uuid2);

	OK(vl_virt_domain_undefine(v, DOM, &e_));
	OK(vl_virt_domain_undefine(v, DOM, &e_));
	OK(vl_virt_domain_state(v, DOM, &st, &e_));
	assert_int_equal(st, VL_DOM_MISSING);

	/* Missing objects: right code, object named. */
	assert_int_equal(vl_virt_domain_start(v, DOM, false, &err), -1);
	assert_int_equal(err.code, VL_E_NOTFOUND);
	assert_string_equal(err.msg, "domain " DOM ": not found");
	vl_err_clear(&err);
	assert_int_equal(vl_virt_domain_wait_state(v, NULL, DOM, VL_DOM_RUNNING, 150, &err), -1);
	assert_int_equal(err.code, VL_E_TIMEOUT);
	vl_err_clear(&err);
	assert_int_equal(vl_virt_domain_define(v, "<domain type='test'><name>vltest-x</name></domain>",
					       NULL, &err), -1);
	assert_int_equal(err.code, VL_E_FAIL);
	assert_true(vl_str_startswith(err.msg, "domain vltest-x: define: "));

	OK(vl_virt_volume_delete(v, POOL, "vltest-dom.qcow2", &e_));
	vl_virt_close(v);
}

static void test_internal_snapshot_refused(void **state)
{
	struct vl_virt *v = open_ok();
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *uefi = dom_xml("vltest-uefi", "/var/tmp/vl-none.qcow2", "qcow2",
		"<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"
		"<nvram>/var/tmp/vltest-uefi_VARS.fd</nvram>");
	VL_AUTOFREE char *raw = dom_xml("vltest-raw", "/var/tmp/vl-none.img", "raw", "");
	(void)state;

	OK(vl_virt_domain_define(v, uefi, NULL, &e_));
	assert_int_equal(vl_virt_domain_supports_internal_snapshot(v, "vltest-uefi", &err), -1);
	assert_int_equal(err.code, VL_E_FAIL);
	assert_non_null(strstr(err.msg, "vltest-uefi: uses UEFI"));
	OK(vl_virt_domain_undefine(v, "vltest-uefi", &e_));

	vl_err_clear(&err);
	OK(vl_virt_domain_define(v, raw, NULL, &e_));
	assert_int_equal(vl_virt_domain_supports_internal_snapshot(v, "vltest-raw", &err), -1);
	assert_string_equal(err.msg, "domain vltest-raw: disk vda is raw, not qcow2; internal "
			    "snapshots need qcow2 disks");
	OK(vl_virt_domain_undefine(v, "vltest-raw", &e_));
	vl_virt_close(v);
}

/* ---- snapshots ---- */

#define SDOM "vltest-snap"

static void test_snapshots(void **state)
{
	struct vl_virt *v = open_ok();
	struct vl_err err = VL_ERR_INIT;
	VL_AUTOFREE char *disk = dom_disk(v, "vltest-snap.qcow2");
	VL_AUTOFREE char *xml = dom_xml(SDOM, disk, "qcow2", "");
	struct vl_virt_snap *snaps;
	enum vl_dom_state st;
	size_t n;
	bool ex;
	(void)state;

	OK(vl_virt_domain_destroy(v, SDOM, &e_));
	OK(vl_virt_domain_undefine(v, SDOM, &e_));
	OK(vl_virt_domain_define(v, xml, NULL, &e_));
	OK(vl_virt_domain_start(v, SDOM, false, &e_));

	/* Running: a full system checkpoint (memory included). */
	OK(vl_virt_snapshot_create(v, SDOM, "<domainsnapshot><name>s1</name>"
				   "<description>first &amp; best</description></domainsnapshot>", 0, &e_));
	OK(vl_virt_domain_destroy(v, SDOM, &e_));
	/* Shut off: disk only. Creation times have 1 s resolution. */
	sleep(1);
	OK(vl_virt_snapshot_create(v, SDOM, "<domainsnapshot><name>s2</name></domainsnapshot>",
				   VL_SNAP_CREATE_ATOMIC, &e_));

	OK(vl_virt_snapshot_list(v, SDOM, &snaps, &n, &e_));
	assert_int_equal(n, 2);
	assert_string_equal(snaps[0].name, "s1");
	assert_string_equal(snaps[0].description, "first & best");
	assert_int_equal(snaps[0].state, VL_DOM_RUNNING);
	assert_null(snaps[0].parent);
	assert_false(snaps[0].current);
	assert_string_equal(snaps[1].name, "s2");
	assert_string_equal(snaps[1].parent, "s1");
	assert_int_equal(snaps[1].state, VL_DOM_SHUTOFF);
	assert_true(snaps[1].current);
	assert_true(snaps[0].created > 1600000000 && snaps[0].created < snaps[1].created);
	vl_virt_snap_list_free(snaps, n);

	OK(vl_virt_snapshot_exists(v, SDOM, "s1", &ex, &e_));
	assert_true(ex);
	OK(vl_virt_snapshot_exists(v, SDOM, "nope", &ex, &e_));
	assert_false(ex);

	OK(vl_virt_snapshot_revert(v, SDOM, "s1", 0, &e_));
	OK(vl_virt_domain_state(v, SDOM, &st, &e_));
	assert_int_equal(st, VL_DOM_RUNNING);
	OK(vl_virt_snapshot_revert(v, SDOM, "s1", VL_SNAP_REVERT_PAUSED, &e_));
	OK(vl_virt_domain_state(v, SDOM, &st, &e_));
	assert_int_equal(st, VL_DOM_PAUSED);
	OK(vl_virt_snapshot_revert(v, SDOM, "s2", 0, &e_));
	OK(vl_virt_domain_state(v, SDOM, &st, &e_));
	assert_int_equal(st, VL_DOM_SHUTOFF);
	OK(vl_virt_snapshot_revert(v, SDOM, "s2", VL_SNAP_REVERT_RUNNING, &e_));
	OK(vl_virt_domain_state(v, SDOM, &st, &e_));
	/* The test driver ignores --running for a shut-off snapshot; QEMU starts it. */
	assert_int_equal(st, real ? VL_DOM_RUNNING : VL_DOM_SHUTOFF);

	assert_int_equal(vl_virt_snapshot_revert(v, SDOM, "nope", 0, &err), -1);
	assert_int_equal(err.code, VL_E_NOTFOUND);
	assert_string_equal(err.msg, "domain " SDOM ": snapshot nope: not found");
	vl_err_clear(&err);

	OK(vl_virt_snapshot_delete(v, SDOM, "s1", &e_));
	OK(vl_virt_snapshot_delete(v, SDOM, "s1", &e_));
	OK(vl_virt_snapshot_list(v, SDOM, &snaps, &n, &e_));
	assert_int_equal(n, 1);
	assert_string_equal(snaps[0].name, "s2");
	vl_virt_snap_list_free(snaps, n);

	/* Undefine takes the remaining snapshot metadata with it. */
	OK(vl_virt_domain_destroy(v, SDOM, &e_));
	OK(vl_virt_domain_undefine(v, SDOM, &e_));
	OK(vl_virt_snapshot_delete(v, SDOM, "s2", &e_));  /* domain gone: still success */
	assert_int_equal(vl_virt_snapshot_list(v, SDOM, &snaps, &n, &err), -1);
	assert_int_equal(err.code, VL_E_NOTFOUND);
	OK(vl_virt_volume_delete(v, POOL, "vltest-snap.qcow2", &e_));
	vl_virt_close(v);
}

/* ---- one handle shared by threads ---- */

struct thr {
	struct vl_virt *v;
	int id;
	int bad;
};

/* Each thread fails on objects of its own name: the message must name them
 * (libvirt's last error is per thread, read right after the call). */
static void *thr_main(void *arg)
{
	struct thr *t = arg;

	for (int i = 0; i < 50; i++) {
		struct vl_err err = VL_ERR_INIT;
		char name[64], want[128];
		enum vl_dom_state st;
		bool ex;

		snprintf(name, sizeof(name), "vltest-thr%d-%d", t->id, i);
		snprintf(want, sizeof(want), "domain %s: not found", name);
		if (vl_virt_domain_start(t->v, name, false, &err) != -1 || !vl_streq(err.msg, want))
			t->bad++;
		snprintf(want, sizeof(want), "volume %s in pool %s: not found", name, POOL);
		if (vl_virt_volume_capacity(t->v, POOL, name, NULL, NULL, &err) != -1 ||
		    !vl_streq(err.msg, want) || err.code != VL_E_NOTFOUND)
			t->bad++;
		if (vl_virt_domain_state(t->v, name, &st, &err) != 0 || st != VL_DOM_MISSING)
			t->bad++;
		if (vl_virt_network_exists(t->v, name, &ex, &err) != 0 || ex)
			t->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct vl_virt *v = open_ok();
	struct thr t[4];
	pthread_t th[4];
	(void)state;

	OK(vl_virt_pool_ensure(v, NULL, POOL, pooldir, &e_));
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){ v, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].bad, 0);
	}
	vl_virt_close(v);
}

/* ---- lifecycle events ---- */

struct seen {
	pthread_mutex_t lock;
	enum vl_dom_state st[16];
	int n;
	int foreign;
};

static void on_dom(void *ud, const char *domain, enum vl_dom_state state)
{
	struct seen *s = ud;

	pthread_mutex_lock(&s->lock);
	if (!vl_streq(domain, "vltest-ev"))
		s->foreign++;
	else if (s->n < 16)
		s->st[s->n++] = state;
	pthread_mutex_unlock(&s->lock);
}

static void test_events(void **state)
{
	struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct vl_virt *v;
	VL_AUTOFREE char *xml = NULL, *disk = NULL;
	VL_AUTO(vl_buf) got = VL_BUF_INIT;
	int id;
	(void)state;

	OK(vl_virt_events_init(&e_));
	OK(vl_virt_events_init(&e_));  /* idempotent */
	v = open_ok();
	disk = dom_disk(v, "vltest-ev.qcow2");
	xml = dom_xml("vltest-ev", disk, "qcow2", "");
	OK(vl_virt_watch_domains(v, "vltest-ev", on_dom, &s, NULL, &id, &e_));
	OK(vl_virt_domain_define(v, xml, NULL, &e_));
	OK(vl_virt_domain_start(v, "vltest-ev", false, &e_));
	OK(vl_virt_domain_suspend(v, "vltest-ev", &e_));
	OK(vl_virt_domain_resume(v, "vltest-ev", &e_));
	OK(vl_virt_domain_destroy(v, "vltest-ev", &e_));
	OK(vl_virt_domain_undefine(v, "vltest-ev", &e_));
	for (int i = 0; i < 150; i++) {
		pthread_mutex_lock(&s.lock);
		bool done = s.n > 0 && s.st[s.n - 1] == VL_DOM_MISSING;
		pthread_mutex_unlock(&s.lock);
		if (done)
			break;
		usleep(20000);
	}
	OK(vl_virt_unwatch(v, id, &e_));
	OK(vl_virt_volume_delete(v, POOL, "vltest-ev.qcow2", &e_));
	vl_virt_close(v);
	vl_virt_events_shutdown();
	vl_virt_events_shutdown();
	/* Drivers may repeat a state (QEMU starts paused, then resumes). */
	for (int i = 0; i < s.n; i++)
		if (i == 0 || s.st[i] != s.st[i - 1])
			vl_buf_printf(&got, "%s%s", got.len ? "," : "", vl_dom_state_name(s.st[i]));
	assert_string_equal(vl_buf_str(&got), "shutoff,running,paused,running,shutoff,missing");
	assert_int_equal(s.foreign, 0);
}

/* ---- pure helpers ---- */

/* Facts about the host come from local files only when the host is local. */
static void test_uri_is_local(void **state)
{
	(void)state;
	assert_true(vl_virt_uri_is_local("qemu:///system"));
	assert_true(vl_virt_uri_is_local("qemu:///system?socket=/run/x/libvirt-sock"));
	assert_true(vl_virt_uri_is_local("qemu+unix:///system?socket=/run/x/sock"));
	assert_true(vl_virt_uri_is_local("test:///default"));
	assert_true(vl_virt_uri_is_local("qemu+ssh://localhost/system"));
	assert_false(vl_virt_uri_is_local("qemu+ssh://lab-host-3/system"));
	assert_false(vl_virt_uri_is_local("qemu+tls://10.0.0.5/system"));
	assert_false(vl_virt_uri_is_local("qemu+ssh://user@host:2222/system"));
}

/* Which daemon socket a URI reaches, to find the daemon's namespaces. */
static void test_host_socket_path(void **state)
{
	static const struct { const char *uri; bool modular; const char *want; } cases[] = {
		{ "qemu:///system", false, "/run/libvirt/libvirt-sock" },
		{ "qemu:///system", true, "/run/libvirt/virtqemud-sock" },
		{ "qemu:///session", true, "/run/user/7/libvirt/virtqemud-sock" },
		{ "qemu:///session", false, "/run/user/7/libvirt/libvirt-sock" },
		{ "qemu+unix:///system?socket=/run/x/sock", true, "/run/x/sock" },
		{ "qemu:///system?mode=legacy&socket=/a%20b/s", true, "/a b/s" },
		{ "qemu://localhost/system", false, "/run/libvirt/libvirt-sock" },
		{ "qemu+ssh://lab-3/system?socket=/run/x", true, NULL },
		{ "qemu+tls://10.0.0.5/system", true, NULL },
		{ "qemu://lab-3/system", false, NULL },
		{ "test:///default", true, NULL },
		{ "qemu:///embed?root=/x", true, NULL },
		{ "nonsense", true, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = vl_host_socket_path(cases[i].uri, "/run/user/7", cases[i].modular);
		if (cases[i].want)
			assert_string_equal(got, cases[i].want);
		else
			assert_null(got);
		free(got);
	}
	assert_null(vl_host_socket_path("qemu:///session", NULL, true));
}

/* Whether a host's guests are reached through its sshd, and how. */
static void test_host_jump(void **state)
{
	static const struct {
		const char *uri;
		bool routes_local;
		const char *user, *server, *keyfile, *known_hosts;
		unsigned port;
	} cases[] = {
		{ "qemu+ssh://lab2/system", false, "me", "lab2", "/h/.ssh/id_ed25519", "/kh", 22 },
		{ "qemu+libssh://root@10.1.2.3:2222/system?keyfile=/k%20f&known_hosts=/x",
		  false, "root", "10.1.2.3", "/k f", "/x", 2222 },
		{ "qemu+ssh://u@[fd00::5]:2200/system", false, "u", "fd00::5", "/h/.ssh/id_ed25519",
		  "/kh", 2200 },
		/* no jump: routed here, not ssh, or no server */
		{ "qemu+ssh://lab2/system", true, NULL, NULL, NULL, NULL, 0 },
		{ "qemu+tls://lab2/system", false, NULL, NULL, NULL, NULL, 0 },
		{ "qemu+unix:///system?socket=/s", false, NULL, NULL, NULL, NULL, 0 },
		{ "qemu+ssh:///system", false, NULL, NULL, NULL, NULL, 0 },
		{ "qemu+ssh://lab2:99999/system", false, NULL, NULL, NULL, NULL, 0 },
		{ "qemu+sshx://lab2/system", false, NULL, NULL, NULL, NULL, 0 },
		{ "test:///default", false, NULL, NULL, NULL, NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vl_host_jump j;
		bool got = vl_host_jump_of(cases[i].uri, cases[i].routes_local, "me",
					   "/h/.ssh/id_ed25519", "/kh", &j);
		assert_int_equal(got, cases[i].server != NULL);
		if (got) {
			assert_string_equal(j.user, cases[i].user);
			assert_string_equal(j.server, cases[i].server);
			assert_string_equal(j.keyfile, cases[i].keyfile);
			assert_string_equal(j.known_hosts, cases[i].known_hosts);
			assert_int_equal(j.port, cases[i].port);
		} else {
			assert_null(j.server);
		}
		vl_host_jump_clear(&j);
	}
}

/* libvirt's libssh transport checks vmlab's own known_hosts; its ssh
 * transport runs vmlab's wrapper, unless the URI names its own command. */
static void test_host_connect_uri(void **state)
{
	static const struct { const char *uri, *want; bool own; } cases[] = {
		{ "qemu+libssh://h/system", "qemu+libssh://h/system?known_hosts=/c/k%20h", false },
		{ "qemu+libssh://h/system?keyfile=/k",
		  "qemu+libssh://h/system?keyfile=/k&known_hosts=/c/k%20h", false },
		{ "qemu+libssh://h/system?known_hosts=/mine", "qemu+libssh://h/system?known_hosts=/mine",
		  false },
		{ "qemu+ssh://h/system", "qemu+ssh://h/system?command=/c/ssh-1%2B2", false },
		{ "qemu+ssh://u@h:2222/system?keyfile=/k&no_tty=1",
		  "qemu+ssh://u@h:2222/system?keyfile=/k&no_tty=1&command=/c/ssh-1%2B2", false },
		/* the user's own command is kept, and said */
		{ "qemu+ssh://h/system?command=/usr/local/bin/myssh",
		  "qemu+ssh://h/system?command=/usr/local/bin/myssh", true },
		/* known_hosts= on an ssh URI is not libvirt's: the wrapper uses it */
		{ "qemu+ssh://h/system?known_hosts=/x", "qemu+ssh://h/system?known_hosts=/x&command=/c/ssh-1%2B2",
		  false },
		{ "qemu:///system", "qemu:///system", false },
		{ "qemu+tls://h/system", "qemu+tls://h/system", false },
		{ "qemu+sshx://h/system", "qemu+sshx://h/system", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool own = !cases[i].own;
		char *got = vl_host_connect_uri(cases[i].uri, "/c/k h", "/c/ssh-1+2", &own);
		assert_string_equal(got, cases[i].want);
		assert_int_equal(own, cases[i].own);
		free(got);
	}
	assert_null(vl_host_connect_uri(NULL, "/k", "/w", NULL));
	/* no wrapper: the URI as it is */
	char *got = vl_host_connect_uri("qemu+ssh://h/system", "/k", NULL, NULL);
	assert_string_equal(got, "qemu+ssh://h/system");
	free(got);
}

static void test_host_uri_known_hosts(void **state)
{
	char *kh;

	(void)state;
	kh = vl_host_uri_known_hosts("qemu+ssh://h/system?known_hosts=/a%20b&x=1", "/d");
	assert_string_equal(kh, "/a b");
	free(kh);
	kh = vl_host_uri_known_hosts("qemu+ssh://h/system", "/d");
	assert_string_equal(kh, "/d");
	free(kh);
	assert_null(vl_host_uri_known_hosts("qemu+ssh://h/system", NULL));
}

/* The wrapper, run by a real shell with a stand-in ssh that prints its
 * argv: vmlab's options come first (ssh keeps the first value), then
 * libvirt's arguments exactly, a later StrictHostKeyChecking=no included. */
static void test_host_ssh_wrapper(void **state)
{
	char dir[] = "/tmp/vl-wrap-XXXXXX", *script, *path, *a, *b, cmd[512], line[512];
	struct vl_buf out = VL_BUF_INIT;
	FILE *f;

	(void)state;
	assert_null(vl_host_ssh_wrapper_script("relative/kh"));
	assert_null(vl_host_ssh_wrapper_script("/a b/kh"));
	assert_null(vl_host_ssh_wrapper_script("/a%d/kh"));
	assert_null(vl_host_ssh_wrapper_script("/a\"/kh"));
	assert_null(vl_host_ssh_wrapper_script(NULL));
	/* one wrapper per known_hosts file */
	a = vl_host_ssh_wrapper_path("/c", "/h/.config/vmlab/known_hosts");
	b = vl_host_ssh_wrapper_path("/c", "/other");
	assert_int_equal(strlen(a), strlen("/c/ssh-") + 12);
	assert_true(strncmp(a, "/c/ssh-", 7) == 0);
	assert_string_not_equal(a, b);
	free(a);
	free(b);

	assert_non_null(mkdtemp(dir));
	script = vl_host_ssh_wrapper_script("/h/.config/vmlab/known_hosts");
	assert_non_null(script);
	assert_true(strncmp(script, "#!/bin/sh\n", 10) == 0);
	if (asprintf(&path, "%s/wrap", dir) < 0)
		abort();
	f = fopen(path, "w");
	fputs(script, f);
	fclose(f);
	snprintf(line, sizeof(line), "%s/ssh", dir);
	f = fopen(line, "w");
	fputs("#!/bin/sh\nprintf '%s|' \"$@\"\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "chmod 755 %s/ssh %s && PATH=%s:/usr/bin:/bin %s -p 22 -l root "
		 "-T -e none -o StrictHostKeyChecking=no -- far sh -c 'a b'", dir, path, dir, path);
	f = popen(cmd, "r");
	while (fgets(line, sizeof(line), f))
		vl_buf_append(&out, line);
	assert_int_equal(pclose(f), 0);
	assert_string_equal(vl_buf_str(&out),
			    "-o|UserKnownHostsFile=/h/.config/vmlab/known_hosts|"
			    "-o|GlobalKnownHostsFile=/dev/null|-o|StrictHostKeyChecking=yes|"
			    "-o|UpdateHostKeys=no|-p|22|-l|root|-T|-e|none|"
			    "-o|StrictHostKeyChecking=no|--|far|sh|-c|a b|");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	vl_buf_release(&out);
	free(script);
	free(path);
}

/* prepare writes the wrapper, 0700 in a 0700 config dir, and names it in
 * the URI; a URI with its own command= gets none and says so. */
static void test_host_prepare_uri(void **state)
{
	char dir[] = "/tmp/vl-prep-XXXXXX", *got, *want, *wrapper, *kh, cmd[128];
	struct vl_err err = VL_ERR_INIT;
	const char *old = getenv("XDG_CONFIG_HOME");
	char *saved = old ? strdup(old) : NULL;
	bool own = true;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("XDG_CONFIG_HOME", dir, 1);
	if (asprintf(&kh, "%s/vmlab/known_hosts", dir) < 0)
		abort();
	if (asprintf(&wrapper, "%s/vmlab", dir) < 0)
		abort();
	want = vl_host_ssh_wrapper_path(wrapper, kh);
	free(wrapper);
	got = vl_host_prepare_uri("qemu+ssh://root@h/system", &own, &err);
	assert_non_null(got);
	assert_false(own);
	assert_non_null(strstr(got, "?command="));
	assert_non_null(strstr(got, strrchr(want, '/') + 1));
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	*strrchr(want, '/') = '\0';
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	free(got);
	/* again: the same wrapper, unchanged */
	got = vl_host_prepare_uri("qemu+ssh://root@h/system", &own, &err);
	assert_non_null(got);
	free(got);
	got = vl_host_prepare_uri("qemu+ssh://h/system?command=/bin/myssh", &own, &err);
	assert_string_equal(got, "qemu+ssh://h/system?command=/bin/myssh");
	assert_true(own);
	free(got);
	/* a config dir others can write to: refused, nothing written */
	assert_int_equal(chmod(want, 0777), 0);
	assert_null(vl_host_prepare_uri("qemu+ssh://h/system?known_hosts=/other", &own, &err));
	assert_non_null(strstr(err.msg, "writable by others"));
	assert_int_equal(chmod(want, 0700), 0);
	/* a known_hosts ssh would split: refused, in one line */
	assert_null(vl_host_prepare_uri("qemu+ssh://h/system?known_hosts=/a%20b", &own, &err));
	assert_int_equal(err.code, VL_E_CONNECT);
	assert_non_null(strstr(err.msg, "'/a b'"));
	if (saved)
		setenv("XDG_CONFIG_HOME", saved, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(saved);
	free(want);
	free(kh);
}

/* The in-process test driver shares everything with this process; a
 * socket with no daemon behind it is a connection error. */
static void test_host_locate(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_host *h;

	(void)state;
	h = vl_host_open("test:///default", &err);
	assert_non_null(h);
	assert_true(h->routes_local && h->files_local);
	assert_ptr_equal(vl_host_ref(h), h);
	vl_host_unref(h);
	vl_host_unref(h);
	assert_null(vl_host_open("qemu+unix:///system?socket=/nonexistent/vl-sock", &err));
	assert_int_equal(err.code, VL_E_CONNECT);
}

static void test_hostroutes(void **state)
{
	static const char text[] =
		"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
		"eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
		"eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
		"docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
		"down0\t00000A0A\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
		"odd0\t00000A0A\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0\n"
		"host0\t0505050A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n"
		"junk line\n";
	struct vl_subnet *s;
	struct vl_err err = VL_ERR_INIT;
	size_t n;
	(void)state;

	assert_int_equal(vl_hostroutes_parse(text, &s, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s[0].addr, 0xc0a80200u);  /* 192.168.2.0/24 */
	assert_int_equal(s[0].prefix, 24);
	assert_int_equal(s[1].addr, 0xac110000u);  /* 172.17.0.0/16 */
	assert_int_equal(s[1].prefix, 16);
	assert_int_equal(s[2].addr, 0x0a050505u);  /* 10.5.5.5/32 */
	assert_int_equal(s[2].prefix, 32);
	free(s);
	assert_int_equal(vl_hostroutes_parse("", &s, &n), 0);
	assert_int_equal(n, 0);
	assert_null(s);
	assert_int_equal(vl_hostroutes_read(NULL, &s, &n, &err), 0);
	free(s);
	assert_int_equal(vl_hostroutes_read("/nonexistent/route", &s, &n, &err), 0);
	assert_int_equal(n, 0);
}

static void test_tail(void **state)
{
	char path[] = "/tmp/vl-tail-XXXXXX";
	struct vl_err err = VL_ERR_INIT;
	char *out;
	size_t len;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	write_file(path, "line one\nline two\nline three\n", 29);
	OK(vl_file_tail(path, 1000, &out, &len, &e_));
	assert_int_equal(len, 29);
	free(out);
	OK(vl_file_tail(path, 14, &out, &len, &e_));  /* "two\nline three\n": cut to a line */
	assert_string_equal(out, "line three\n");
	assert_int_equal(len, 11);
	free(out);
	OK(vl_file_tail(path, 0, &out, &len, &e_));
	assert_string_equal(out, "");
	free(out);
	write_file(path, "no newline at all", 17);
	OK(vl_file_tail(path, 5, &out, &len, &e_));
	assert_string_equal(out, "t all");  /* nothing to cut at: keep the bytes */
	free(out);
	unlink(path);
	assert_int_equal(vl_file_tail(path, 10, &out, &len, &err), -1);
	assert_int_equal(err.code, VL_E_NOTFOUND);
	assert_null(out);
}

static int setup(void **state)
{
	(void)state;
	uri = getenv("VL_TEST_URI");
	if (!uri || !*uri)
		uri = "test:///default";
	real = !vl_str_startswith(uri, "test:");
	if (real) {
		snprintf(pooldir, sizeof(pooldir), "/var/tmp/vl-virt-pool-XXXXXX");
		snprintf(extdir, sizeof(extdir), "/var/tmp/vl-virt-ext-XXXXXX");
		if (!mkdtemp(extdir) || !mkdtemp(pooldir))
			return -1;
		chmod(extdir, 0755);  /* like an image cache QEMU's user can read */
		/* pool_ensure must make the directory itself (build). */
		rmdir(pooldir);
	} else {
		snprintf(pooldir, sizeof(pooldir), "/vl-test-pool");
	}
	return 0;
}

static int teardown(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_virt *v = vl_virt_open(uri, &err);
	char **names;
	size_t n;
	(void)state;
	if (!v)
		return -1;
	/* Leave the daemon as we found it: a real one keeps its config in /etc. */
	if (vl_virt_volume_list(v, POOL, NULL, &names, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			vl_virt_volume_delete(v, POOL, names[i], &err);
		vl_virt_name_list_free(names, n);
	}
	if (vl_virt_pool_remove(v, POOL, &err) < 0 || vl_virt_pool_remove(v, POOL, &err) < 0) {
		fprintf(stderr, "teardown: %s\n", err.msg);
		vl_virt_close(v);
		return -1;
	}
	vl_virt_close(v);
	if (real) {
		rmdir(pooldir);
		unlink(fmt_static_base());
		rmdir(extdir);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_bogus), cmocka_unit_test(test_host),
		cmocka_unit_test(test_network), cmocka_unit_test(test_storage),
		cmocka_unit_test(test_domain), cmocka_unit_test(test_internal_snapshot_refused),
		cmocka_unit_test(test_snapshots), cmocka_unit_test(test_threads),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_uri_is_local),
		cmocka_unit_test(test_host_socket_path),
		cmocka_unit_test(test_host_jump),
		cmocka_unit_test(test_host_connect_uri),
		cmocka_unit_test(test_host_uri_known_hosts),
		cmocka_unit_test(test_host_ssh_wrapper),
		cmocka_unit_test(test_host_prepare_uri),
		cmocka_unit_test(test_host_locate),
		cmocka_unit_test(test_hostroutes),
		cmocka_unit_test(test_tail),
	};
	/* VL_TEST_FILTER=test_events runs one test (cmocka's glob filter). */
	if (getenv("VL_TEST_FILTER"))
		cmocka_set_test_filter(getenv("VL_TEST_FILTER"));
	return cmocka_run_group_tests_name("virt", tests, setup, teardown);
}
