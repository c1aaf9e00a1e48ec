/* libvirt XML documents for a plan, written with xmlTextWriter so escaping is
 * libxml2's job. A small wrapper records the first failure so the builders
 * read as a straight list of elements and check once at the end. */
#include "render.h"

#include <inttypes.h>
#include <stdarg.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"
#include "util/str.h"
#include "util/xml.h"

struct w {
	xmlBufferPtr buf;
	xmlTextWriterPtr tw;
	const char *bad;   /* first problem, NULL while fine */
};

static void w_check(struct w *w, int rc, const char *what)
{
	if (rc < 0 && !w->bad)
		w->bad = what;
}

/* XML 1.0 cannot carry most control characters even as references, and
 * libxml2 would otherwise write something no parser accepts. */
static bool xml_ok(const char *s)
{
	if (!xmlCheckUTF8((const xmlChar *)s))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	return true;
}

static int w_init(struct w *w)
{
	vl_xml_init();
	memset(w, 0, sizeof(*w));
	w->buf = xmlBufferCreate();
	if (!w->buf)
		return -1;
	w->tw = xmlNewTextWriterMemory(w->buf, 0);
	if (!w->tw) {
		xmlBufferFree(w->buf);
		return -1;
	}
	xmlTextWriterSetIndent(w->tw, 1);
	xmlTextWriterSetIndentString(w->tw, (const xmlChar *)"  ");
	return 0;
}

static void w_start(struct w *w, const char *name)
{
	w_check(w, xmlTextWriterStartElement(w->tw, (const xmlChar *)name), name);
}

static void w_start_ns(struct w *w, const char *name, const char *uri)
{
	w_check(w, xmlTextWriterStartElementNS(w->tw, (const xmlChar *)VL_XMLNS_PREFIX,
					       (const xmlChar *)name,
					       (const xmlChar *)uri), name);
}

static void w_end(struct w *w)
{
	w_check(w, xmlTextWriterEndElement(w->tw), "end element");
}

static void w_attr(struct w *w, const char *name, const char *value)
{
	if (!xml_ok(value)) {
		if (!w->bad)
			w->bad = name;
		return;
	}
	w_check(w, xmlTextWriterWriteAttribute(w->tw, (const xmlChar *)name,
					       (const xmlChar *)value), name);
}

static void w_text(struct w *w, const char *s)
{
	if (!xml_ok(s)) {
		if (!w->bad)
			w->bad = "text";
		return;
	}
	w_check(w, xmlTextWriterWriteString(w->tw, (const xmlChar *)s), "text");
}

/* <name>text</name> */
static void w_elem(struct w *w, const char *name, const char *text)
{
	w_start(w, name);
	w_text(w, text);
	w_end(w);
}

static void w_elem_ns(struct w *w, const char *name, const char *text)
{
	w_start_ns(w, name, NULL);
	w_text(w, text ? text : "");
	w_end(w);
}

static void w_elem_u64(struct w *w, const char *name, const char *unit, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	w_start(w, name);
	if (unit)
		w_attr(w, "unit", unit);
	w_text(w, s);
	w_end(w);
}

/* An empty element with attribute pairs, NULL-terminated. */
static void w_empty(struct w *w, const char *name, ...) __attribute__((sentinel));

static void w_empty(struct w *w, const char *name, ...)
{
	va_list ap;
	const char *k;

	w_start(w, name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		w_attr(w, k, v);
	}
	va_end(ap);
	w_end(w);
}

/* Finish the document: the string on success, NULL with err set. */
static char *w_finish(struct w *w, const char *doc, struct vl_err *err)
{
	char *out = NULL;

	w_check(w, xmlTextWriterEndDocument(w->tw), "end document");
	xmlFreeTextWriter(w->tw);   /* flushes into buf */
	if (w->bad)
		vl_err_set(err, VL_E_FAIL, "cannot write %s XML: bad or unwritable value in '%s'",
			   doc, w->bad);
	else
		out = vl_strdup((const char *)xmlBufferContent(w->buf));
	xmlBufferFree(w->buf);
	return out;
}

static int w_begin(struct w *w, const char *doc, struct vl_err *err)
{
	if (w_init(w) < 0)
		return vl_err_set(err, VL_E_FAIL, "cannot write %s XML: out of memory", doc);
	/* No XML declaration: libvirt documents are plain fragments. */
	return 0;
}

/* <metadata><vmlab:lab xmlns:vmlab=...>...</vmlab:lab></metadata> */
static void w_metadata(struct w *w, const struct vl_plan *plan, const struct vl_plan_vm *vm)
{
	w_start(w, "metadata");
	w_start_ns(w, "lab", VL_XMLNS_URI);
	w_elem_ns(w, "id", plan->lab_id);
	w_elem_ns(w, "name", plan->lab_name);
	w_elem_ns(w, "project", plan->project_dir);
	w_elem_ns(w, "user", plan->user);
	if (plan->instance)
		w_elem_ns(w, "instance", plan->instance);
	if (plan->owner_machine && plan->owner_user) {
		w_elem_ns(w, "owner-machine", plan->owner_machine);
		w_elem_ns(w, "owner-user", plan->owner_user);
	}
	if (vm) {
		w_elem_ns(w, "vm", vm->name);
		w_elem_ns(w, "spec", vm->spec_name);
		w_elem_ns(w, "ip", vm->ip_str);
		w_elem_ns(w, "mac", vm->mac);
	} else {
		w_elem_ns(w, "subnet", plan->subnet_str);
	}
	w_end(w);
	w_end(w);
}

char *vl_render_network(const struct vl_plan *plan, const char *uuid, struct vl_err *err)
{
	struct w w;
	char a[VL_IPV4_STRLEN], b[VL_IPV4_STRLEN];

	if (w_begin(&w, "network", err) < 0)
		return NULL;
	w_start(&w, "network");
	w_elem(&w, "name", plan->network);
	if (uuid)
		w_elem(&w, "uuid", uuid);
	w_metadata(&w, plan, NULL);
	/* No <forward> at all is libvirt's isolated network: no route out. */
	if (plan->mode == VL_NET_NAT)
		w_empty(&w, "forward", "mode", "nat", NULL);
	/* A lab bridge has no loops to break. With STP on, the kernel holds
	 * every new port (a started or reverted VM's tap) in listening and
	 * learning for at least 2 s each, whatever delay libvirt asks for. */
	w_empty(&w, "bridge", "name", plan->bridge, "stp", "off", NULL);
	/* dnsmasq answers VM.<lab> itself and never forwards the lab's domain. */
	w_empty(&w, "domain", "name", plan->lab_name, "localOnly", "yes", NULL);
	w_start(&w, "dns");
	for (size_t i = 0; i < plan->n_vms; i++) {
		const struct vl_plan_vm *vm = &plan->vms[i];
		w_start(&w, "host");
		w_attr(&w, "ip", vm->ip_str);
		w_elem(&w, "hostname", vm->hostname);
		w_elem(&w, "hostname", vm->fqdn);
		w_end(&w);
	}
	w_end(&w);
	w_start(&w, "ip");
	w_attr(&w, "address", plan->gateway_str);
	w_attr(&w, "netmask", plan->netmask_str);
	w_start(&w, "dhcp");
	if (plan->dhcp_start) {
		vl_ipv4_format(plan->dhcp_start, a);
		vl_ipv4_format(plan->dhcp_end, b);
		w_empty(&w, "range", "start", a, "end", b, NULL);
	}
	for (size_t i = 0; i < plan->n_vms; i++) {
		const struct vl_plan_vm *vm = &plan->vms[i];
		w_empty(&w, "host", "mac", vm->mac, "name", vm->hostname, "ip", vm->ip_str, NULL);
	}
	w_end(&w);   /* dhcp */
	w_end(&w);   /* ip */
	w_end(&w);   /* network */
	return w_finish(&w, "network", err);
}

char *vl_render_isolation(const struct vl_plan *plan, uint32_t pool_addr, unsigned pool_prefix,
			  struct vl_err *err)
{
	VL_AUTOFREE char *name = vl_name_filter(plan->lab_id);
	char sub[VL_IPV4_STRLEN], pool[VL_IPV4_STRLEN], pfx[4], ppfx[4];
	struct w w;

	vl_ipv4_format(plan->subnet, sub);
	vl_ipv4_format(pool_addr, pool);
	snprintf(pfx, sizeof(pfx), "%u", plan->prefix);
	snprintf(ppfx, sizeof(ppfx), "%u", pool_prefix);
	if (w_begin(&w, "filter", err) < 0)
		return NULL;
	w_start(&w, "filter");
	w_attr(&w, "name", name);
	w_attr(&w, "chain", "ipv4");
	/* ebtables on the guest's port: before any routing, so the host's
	 * addresses on other bridges are covered as well as other guests */
	w_start(&w, "rule");
	w_attr(&w, "action", "accept");
	w_attr(&w, "direction", "out");
	w_attr(&w, "priority", "100");
	w_empty(&w, "ip", "dstipaddr", sub, "dstipmask", pfx, NULL);
	w_end(&w);
	w_start(&w, "rule");
	w_attr(&w, "action", "drop");
	w_attr(&w, "direction", "out");
	w_attr(&w, "priority", "200");
	w_empty(&w, "ip", "dstipaddr", pool, "dstipmask", ppfx, NULL);
	w_end(&w);
	w_end(&w);
	return w_finish(&w, "filter", err);
}

char *vl_render_domain(const struct vl_plan *plan, const struct vl_plan_vm *vm,
		       const struct vl_domain_opts *o, struct vl_err *err)
{
	struct w w;
	bool kvm = o->type == VL_DOMAIN_KVM;

	if (!o->pool)
		return vl_err_set(err, VL_E_FAIL, "domain XML: no storage pool given"), NULL;
	if (o->serial_log && o->serial_log[0] != '/')
		return vl_err_set(err, VL_E_FAIL, "domain XML: serial log path '%s' is not absolute",
				  o->serial_log), NULL;
	if (w_begin(&w, "domain", err) < 0)
		return NULL;
	w_start(&w, "domain");
	w_attr(&w, "type", kvm ? "kvm" : "qemu");
	w_elem(&w, "name", vm->domain);
	if (o->uuid)
		w_elem(&w, "uuid", o->uuid);
	w_metadata(&w, plan, vm);
	/* Round up: a 1.5 KiB request should not become 1 KiB. */
	w_elem_u64(&w, "memory", "KiB", (vm->memory + 1023) / 1024);
	w_elem_u64(&w, "vcpu", NULL, vm->cpus ? vm->cpus : 1);
	w_start(&w, "os");
	w_start(&w, "type");
	w_attr(&w, "arch", "x86_64");
	/* i440fx "pc": it has IDE, which every cloud kernel can read the seed
	 * cdrom from (Debian's cloud kernel has no AHCI, so q35's SATA fails). */
	w_attr(&w, "machine", "pc");
	w_text(&w, "hvm");
	w_end(&w);
	w_empty(&w, "boot", "dev", "hd", NULL);
	w_end(&w);
	w_start(&w, "features");
	w_empty(&w, "acpi", NULL);
	w_empty(&w, "apic", NULL);
	if (!kvm && o->tb_cache_mib) {
		/* Caps TCG's translation cache: without it each guest costs ~1 GiB RSS. */
		w_start(&w, "tcg");
		w_elem_u64(&w, "tb-cache", "MiB", o->tb_cache_mib);
		w_end(&w);
	}
	w_end(&w);
	if (kvm)
		w_empty(&w, "cpu", "mode", "host-passthrough", NULL);
	w_empty(&w, "clock", "offset", "utc", NULL);
	w_elem(&w, "on_poweroff", "destroy");
	w_elem(&w, "on_reboot", "restart");
	w_elem(&w, "on_crash", "destroy");

	w_start(&w, "devices");
	w_start(&w, "disk");
	w_attr(&w, "type", "volume");
	w_attr(&w, "device", "disk");
	w_empty(&w, "driver", "name", "qemu", "type", "qcow2", NULL);
	w_empty(&w, "source", "pool", o->pool, "volume", vm->volume, NULL);
	w_empty(&w, "target", "dev", "vda", "bus", "virtio", NULL);
	w_end(&w);
	w_start(&w, "disk");
	w_attr(&w, "type", "volume");
	w_attr(&w, "device", "cdrom");
	w_empty(&w, "driver", "name", "qemu", "type", "raw", NULL);
	w_empty(&w, "source", "pool", o->pool, "volume", vm->seed_volume, NULL);
	w_empty(&w, "target", "dev", "hdc", "bus", "ide", NULL);
	w_empty(&w, "readonly", NULL);
	w_end(&w);
	w_start(&w, "interface");
	w_attr(&w, "type", "network");
	w_empty(&w, "source", "network", plan->network, NULL);
	w_empty(&w, "mac", "address", vm->mac, NULL);
	w_empty(&w, "model", "type", "virtio", NULL);
	if (o->filter)
		w_empty(&w, "filterref", "filter", o->filter, NULL);
	w_end(&w);
	/* A pty serial keeps `virsh console` working; <log> also copies
	 * everything to a file for `vmlab logs` and boot diagnostics. */
	w_start(&w, "serial");
	w_attr(&w, "type", "pty");
	w_empty(&w, "target", "port", "0", NULL);
	if (o->serial_log)
		w_empty(&w, "log", "file", o->serial_log, "append", "on", NULL);
	w_end(&w);
	w_start(&w, "console");
	w_attr(&w, "type", "pty");
	w_empty(&w, "target", "type", "serial", "port", "0", NULL);
	w_end(&w);
	w_start(&w, "rng");
	w_attr(&w, "model", "virtio");
	w_start(&w, "backend");
	w_attr(&w, "model", "random");
	w_text(&w, "/dev/urandom");
	w_end(&w);
	w_end(&w);
	w_end(&w);   /* devices */
	w_end(&w);   /* domain */
	return w_finish(&w, "domain", err);
}

static void w_volume_head(struct w *w, const char *name, uint64_t capacity)
{
	w_start(w, "volume");
	w_attr(w, "type", "file");
	w_elem(w, "name", name);
	w_elem_u64(w, "capacity", "bytes", capacity);
}

char *vl_render_overlay_volume(const char *name, uint64_t capacity, const char *backing_path,
			       const char *backing_format, struct vl_err *err)
{
	struct w w;

	if (!backing_path || backing_path[0] != '/')
		return vl_err_set(err, VL_E_FAIL, "volume XML: backing image path must be absolute"),
		       NULL;
	if (!vl_streq(backing_format, "qcow2") && !vl_streq(backing_format, "raw"))
		return vl_err_set(err, VL_E_FAIL, "volume XML: backing format '%s' is not qcow2 or raw",
				  backing_format ? backing_format : ""), NULL;
	if (w_begin(&w, "volume", err) < 0)
		return NULL;
	w_volume_head(&w, name, capacity);
	w_start(&w, "target");
	w_empty(&w, "format", "type", "qcow2", NULL);
	w_end(&w);
	w_start(&w, "backingStore");
	w_elem(&w, "path", backing_path);
	w_empty(&w, "format", "type", backing_format, NULL);
	w_end(&w);
	w_end(&w);
	return w_finish(&w, "volume", err);
}

static char *plain_volume(const char *name, uint64_t capacity, const char *format,
			  struct vl_err *err)
{
	struct w w;

	if (w_begin(&w, "volume", err) < 0)
		return NULL;
	w_volume_head(&w, name, capacity);
	w_start(&w, "target");
	w_empty(&w, "format", "type", format, NULL);
	w_end(&w);
	w_end(&w);
	return w_finish(&w, "volume", err);
}

char *vl_render_raw_volume(const char *name, uint64_t capacity, struct vl_err *err)
{
	return plain_volume(name, capacity, "raw", err);
}

char *vl_render_qcow2_volume(const char *name, uint64_t capacity, struct vl_err *err)
{
	return plain_volume(name, capacity, "qcow2", err);
}

char *vl_render_snapshot(const char *name, const char *description, bool memory,
			 struct vl_err *err)
{
	struct w w;

	if (w_begin(&w, "snapshot", err) < 0)
		return NULL;
	w_start(&w, "domainsnapshot");
	w_elem(&w, "name", name);
	w_elem(&w, "description", description ? description : "vmlab lab snapshot");
	/* Internal snapshots (in the qcow2 itself): libvirt requires memory
	 * state for a running domain and cannot take it from a shut-off one. */
	w_empty(&w, "memory", "snapshot", memory ? "internal" : "no", NULL);
	w_end(&w);
	return w_finish(&w, "snapshot", err);
}
