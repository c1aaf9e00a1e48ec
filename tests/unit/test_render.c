/* Unit tests for src/render: every document is parsed back with libxml2 and
 * checked with XPath, including odd characters in values, and validated
 * against libvirt's own RelaxNG schemas when they are installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "meta.h"
#include "owner.h"
#include "render.h"
#include "util/ipv4.h"
#include "util/mem.h"

#define GIB (1024ull * 1024 * 1024)
#define SCHEMAS "/usr/share/libvirt/schemas"
#define ODD_DIR "/home/d&v/<lab>/it's \"here\""

static struct vl_plan g_plan;

static int setup(void **state)
{
	static struct vl_vm_spec specs[2];
	struct vl_profile p = { 0 };
	struct vl_config cfg = { 0 };
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	specs[0] = (struct vl_vm_spec){ .name = (char *)"web", .count = 2, .cpus = 2,
					.memory = 2 * GIB, .disk = 20 * GIB,
					.image = (char *)"debian-12" };
	specs[1] = (struct vl_vm_spec){ .name = (char *)"db", .count = 1, .cpus = 1,
					.memory = 768ull << 20, .disk = 10 * GIB,
					.image = (char *)"debian-12" };
	p.name = (char *)"webapp";
	p.dir = (char *)ODD_DIR;
	p.network = VL_NET_NAT;
	p.subnet_auto = false;   /* the auto choice depends on the (odd) dir */
	vl_cidr_parse("10.77.125.0/24", &p.subnet_addr, &p.subnet_prefix);
	p.user = (char *)"dev";
	p.vms = specs;
	p.n_vms = 2;
	vl_ipv4_parse("10.77.0.0", &cfg.pool_addr);
	cfg.pool_prefix = 16;
	cfg.lab_prefix = 24;
	return vl_plan_build(&g_plan, &p, &cfg, NULL, 0, &err);
}

static int teardown(void **state)
{
	(void)state;
	vl_plan_release(&g_plan);
	return 0;
}

static xmlDocPtr parse(const char *xml)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "gen.xml", NULL, XML_PARSE_NONET);

	if (!doc)
		fail_msg("generated XML does not parse:\n%s", xml);
	return doc;
}

static xmlXPathObjectPtr eval(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj;

	xmlXPathRegisterNs(ctx, (const xmlChar *)"v", (const xmlChar *)VL_XMLNS_URI);
	obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	xmlXPathFreeContext(ctx);
	if (!obj)
		fail_msg("bad XPath %s", expr);
	return obj;
}

/* string(expr) compared to want */
static void check(xmlDocPtr doc, const char *expr, const char *want)
{
	char full[512];
	xmlXPathObjectPtr obj;

	snprintf(full, sizeof(full), "string(%s)", expr);
	obj = eval(doc, full);
	if (strcmp((const char *)obj->stringval, want) != 0)
		fail_msg("%s = '%s', want '%s'", expr, obj->stringval, want);
	xmlXPathFreeObject(obj);
}

static double num(xmlDocPtr doc, const char *expr)
{
	xmlXPathObjectPtr obj = eval(doc, expr);
	double v = obj->floatval;

	xmlXPathFreeObject(obj);
	return v;
}

/* Validate against libvirt's schema; skipped (true) when not installed. */
static void validate(xmlDocPtr doc, const char *schema)
{
	char path[256];
	xmlRelaxNGParserCtxtPtr pc;
	xmlRelaxNGPtr rng;
	xmlRelaxNGValidCtxtPtr vc;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", SCHEMAS, schema);
	if (access(path, R_OK) != 0) {
		print_message("  (no %s: schema validation skipped)\n", path);
		return;
	}
	pc = xmlRelaxNGNewParserCtxt(path);
	rng = xmlRelaxNGParse(pc);
	assert_non_null(rng);
	vc = xmlRelaxNGNewValidCtxt(rng);
	rc = xmlRelaxNGValidateDoc(vc, doc);
	xmlRelaxNGFreeValidCtxt(vc);
	xmlRelaxNGFree(rng);
	xmlRelaxNGFreeParserCtxt(pc);
	if (rc != 0) {
		xmlChar *s;
		int n;
		xmlDocDumpMemory(doc, &s, &n);
		fail_msg("document does not validate against %s:\n%s", schema, s);
	}
}

static void test_network(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	VL_AUTOFREE char *xml = vl_render_network(&g_plan, NULL, &err);
	assert_non_null(xml);
	xmlDocPtr doc = parse(xml);
	check(doc, "/network/name", g_plan.network);
	assert_int_equal(num(doc, "count(/network/uuid)"), 0);
	check(doc, "/network/forward/@mode", "nat");
	check(doc, "/network/bridge/@name", g_plan.bridge);
	check(doc, "/network/bridge/@stp", "off");
	check(doc, "/network/domain/@name", "webapp");
	check(doc, "/network/domain/@localOnly", "yes");
	check(doc, "/network/ip/@address", "10.77.125.1");
	check(doc, "/network/ip/@netmask", "255.255.255.0");
	check(doc, "/network/ip/dhcp/range/@start", "10.77.125.128");
	check(doc, "/network/ip/dhcp/range/@end", "10.77.125.254");
	assert_int_equal(num(doc, "count(/network/ip/dhcp/host)"), 3);
	check(doc, "/network/ip/dhcp/host[@name='web-2']/@ip", "10.77.125.11");
	check(doc, "/network/ip/dhcp/host[@name='web-2']/@mac", g_plan.vms[1].mac);
	check(doc, "/network/ip/dhcp/host[@name='db']/@ip", "10.77.125.12");
	assert_int_equal(num(doc, "count(/network/dns/host)"), 3);
	check(doc, "/network/dns/host[@ip='10.77.125.12']/hostname[1]", "db");
	check(doc, "/network/dns/host[@ip='10.77.125.12']/hostname[2]", "db.webapp");
	check(doc, "/network/metadata/v:lab/v:project", ODD_DIR);
	check(doc, "/network/metadata/v:lab/v:id", g_plan.lab_id);
	validate(doc, "network.rng");
	xmlFreeDoc(doc);

	/* Isolated: no <forward> at all; a kept uuid; no dynamic range on a /29. */
	struct vl_plan small = g_plan;
	small.mode = VL_NET_ISOLATED;
	small.dhcp_start = small.dhcp_end = 0;
	VL_AUTOFREE char *xml2 = vl_render_network(&small, "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
						    &err);
	assert_non_null(xml2);
	doc = parse(xml2);
	assert_int_equal(num(doc, "count(/network/forward)"), 0);
	assert_int_equal(num(doc, "count(/network/ip/dhcp/range)"), 0);
	assert_int_equal(num(doc, "count(/network/ip/dhcp/host)"), 3);
	check(doc, "/network/uuid", "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
	validate(doc, "network.rng");
	xmlFreeDoc(doc);
}

static void test_domain_qemu(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_domain_opts o = { .type = VL_DOMAIN_QEMU, .pool = "vmlab",
				    .serial_log = "/var/log/vmlab/a&b.log", .tb_cache_mib = 64 };
	const struct vl_plan_vm *db = vl_plan_find_vm(&g_plan, "db");
	(void)state;

	VL_AUTOFREE char *xml = vl_render_domain(&g_plan, db, &o, &err);
	assert_non_null(xml);
	xmlDocPtr doc = parse(xml);
	check(doc, "/domain/@type", "qemu");
	check(doc, "/domain/name", db->domain);
	assert_int_equal(num(doc, "count(/domain/uuid)"), 0);
	check(doc, "/domain/memory/@unit", "KiB");
	check(doc, "/domain/memory", "786432");
	check(doc, "/domain/vcpu", "1");
	check(doc, "/domain/os/type", "hvm");
	check(doc, "/domain/os/type/@machine", "pc");
	check(doc, "/domain/os/type/@arch", "x86_64");
	check(doc, "/domain/os/boot/@dev", "hd");
	assert_int_equal(num(doc, "count(/domain/features/acpi)"), 1);
	assert_int_equal(num(doc, "count(/domain/features/apic)"), 1);
	check(doc, "/domain/features/tcg/tb-cache", "64");
	check(doc, "/domain/features/tcg/tb-cache/@unit", "MiB");
	assert_int_equal(num(doc, "count(/domain/cpu)"), 0);
	check(doc, "/domain/on_poweroff", "destroy");
	check(doc, "/domain/devices/disk[@device='disk']/@type", "volume");
	check(doc, "/domain/devices/disk[@device='disk']/source/@pool", "vmlab");
	check(doc, "/domain/devices/disk[@device='disk']/source/@volume", db->volume);
	check(doc, "/domain/devices/disk[@device='disk']/driver/@type", "qcow2");
	check(doc, "/domain/devices/disk[@device='disk']/target/@dev", "vda");
	check(doc, "/domain/devices/disk[@device='disk']/target/@bus", "virtio");
	check(doc, "/domain/devices/disk[@device='cdrom']/source/@volume", db->seed_volume);
	check(doc, "/domain/devices/disk[@device='cdrom']/target/@dev", "hdc");
	check(doc, "/domain/devices/disk[@device='cdrom']/target/@bus", "ide");
	assert_int_equal(num(doc, "count(/domain/devices/disk[@device='cdrom']/readonly)"), 1);
	check(doc, "/domain/devices/interface[@type='network']/source/@network", g_plan.network);
	check(doc, "/domain/devices/interface/mac/@address", db->mac);
	check(doc, "/domain/devices/interface/model/@type", "virtio");
	check(doc, "/domain/devices/serial[@type='pty']/log/@file", "/var/log/vmlab/a&b.log");
	check(doc, "/domain/devices/serial/log/@append", "on");
	check(doc, "/domain/devices/console/target/@type", "serial");
	check(doc, "/domain/devices/rng/@model", "virtio");
	check(doc, "/domain/metadata/v:lab/v:id", g_plan.lab_id);
	check(doc, "/domain/metadata/v:lab/v:name", "webapp");
	check(doc, "/domain/metadata/v:lab/v:project", ODD_DIR);
	check(doc, "/domain/metadata/v:lab/v:vm", "db");
	check(doc, "/domain/metadata/v:lab/v:spec", "db");
	check(doc, "/domain/metadata/v:lab/v:ip", "10.77.125.12");
	check(doc, "/domain/metadata/v:lab/v:user", "dev");
	validate(doc, "domain.rng");
	xmlFreeDoc(doc);
}

static void test_domain_kvm(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_domain_opts o = { .type = VL_DOMAIN_KVM, .pool = "vmlab", .tb_cache_mib = 64,
				    .uuid = "1b4e28ba-2fa1-11d2-883f-0016d3cca427" };
	(void)state;

	VL_AUTOFREE char *xml = vl_render_domain(&g_plan, &g_plan.vms[0], &o, &err);
	assert_non_null(xml);
	xmlDocPtr doc = parse(xml);
	check(doc, "/domain/@type", "kvm");
	check(doc, "/domain/uuid", "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
	check(doc, "/domain/cpu/@mode", "host-passthrough");
	assert_int_equal(num(doc, "count(/domain/features/tcg)"), 0);
	assert_int_equal(num(doc, "count(/domain/devices/serial/log)"), 0);
	check(doc, "/domain/memory", "2097152");
	check(doc, "/domain/vcpu", "2");
	check(doc, "/domain/metadata/v:lab/v:vm", "web-1");
	check(doc, "/domain/metadata/v:lab/v:spec", "web");
	validate(doc, "domain.rng");
	xmlFreeDoc(doc);

	/* Refusals: no pool, relative log path, a value XML cannot carry. */
	o.pool = NULL;
	assert_null(vl_render_domain(&g_plan, &g_plan.vms[0], &o, &err));
	o.pool = "vmlab";
	o.serial_log = "relative.log";
	assert_null(vl_render_domain(&g_plan, &g_plan.vms[0], &o, &err));
	o.serial_log = "/tmp/bad\x01.log";
	assert_null(vl_render_domain(&g_plan, &g_plan.vms[0], &o, &err));
	assert_non_null(strstr(err.msg, "cannot write domain XML"));
}

static void test_volumes(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	VL_AUTOFREE char *xml = vl_render_overlay_volume("vmlab-x-web-1.qcow2", 20 * GIB,
							 "/var/cache/vmlab/deb & <12>.qcow2",
							 "qcow2", &err);
	assert_non_null(xml);
	xmlDocPtr doc = parse(xml);
	check(doc, "/volume/name", "vmlab-x-web-1.qcow2");
	check(doc, "/volume/capacity", "21474836480");
	check(doc, "/volume/capacity/@unit", "bytes");
	check(doc, "/volume/target/format/@type", "qcow2");
	check(doc, "/volume/backingStore/path", "/var/cache/vmlab/deb & <12>.qcow2");
	check(doc, "/volume/backingStore/format/@type", "qcow2");
	validate(doc, "storagevol.rng");
	xmlFreeDoc(doc);

	VL_AUTOFREE char *raw = vl_render_overlay_volume("v.qcow2", GIB, "/img.raw", "raw", &err);
	assert_non_null(raw);
	doc = parse(raw);
	check(doc, "/volume/backingStore/format/@type", "raw");
	validate(doc, "storagevol.rng");
	xmlFreeDoc(doc);

	assert_null(vl_render_overlay_volume("v.qcow2", GIB, "rel.img", "qcow2", &err));
	assert_null(vl_render_overlay_volume("v.qcow2", GIB, "/i.img", "vmdk", &err));

	VL_AUTOFREE char *seed = vl_render_raw_volume("vmlab-x-web-1-seed.iso", 1 << 20, &err);
	assert_non_null(seed);
	doc = parse(seed);
	check(doc, "/volume/name", "vmlab-x-web-1-seed.iso");
	check(doc, "/volume/capacity", "1048576");
	check(doc, "/volume/target/format/@type", "raw");
	assert_int_equal(num(doc, "count(/volume/backingStore)"), 0);
	validate(doc, "storagevol.rng");
	xmlFreeDoc(doc);
}

static void test_snapshot(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	(void)state;

	VL_AUTOFREE char *xml = vl_render_snapshot("before-upgrade", NULL, true, &err);
	assert_non_null(xml);
	xmlDocPtr doc = parse(xml);
	check(doc, "/domainsnapshot/name", "before-upgrade");
	check(doc, "/domainsnapshot/description", "vmlab lab snapshot");
	check(doc, "/domainsnapshot/memory/@snapshot", "internal");
	validate(doc, "domainsnapshot.rng");
	xmlFreeDoc(doc);

	VL_AUTOFREE char *off = vl_render_snapshot("s", "a <b> & \"c\"", false, &err);
	assert_non_null(off);
	doc = parse(off);
	check(doc, "/domainsnapshot/description", "a <b> & \"c\"");
	check(doc, "/domainsnapshot/memory/@snapshot", "no");
	validate(doc, "domainsnapshot.rng");
	xmlFreeDoc(doc);
}

/* What the renderer writes, the metadata parser reads back (gc relies on it). */
/* A class seat's isolation filter: its own subnet passes, the rest of
 * the pool is dropped; the domain's NIC names it. */
static void test_isolation(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	uint32_t pool;
	(void)state;

	vl_ipv4_parse("10.77.0.0", &pool);
	VL_AUTOFREE char *xml = vl_render_isolation(&g_plan, pool, 16, &err);
	assert_non_null(xml);
	xmlDocPtr doc = parse(xml);
	VL_AUTOFREE char *name = vl_name_filter(g_plan.lab_id);
	check(doc, "/filter/@name", name);
	check(doc, "/filter/@chain", "ipv4");
	check(doc, "/filter/rule[@action='accept']/@direction", "out");
	check(doc, "/filter/rule[@action='accept']/ip/@dstipaddr", "10.77.125.0");
	check(doc, "/filter/rule[@action='accept']/ip/@dstipmask", "24");
	check(doc, "/filter/rule[@action='drop']/ip/@dstipaddr", "10.77.0.0");
	check(doc, "/filter/rule[@action='drop']/ip/@dstipmask", "16");
	assert_true(num(doc, "number(/filter/rule[@action='accept']/@priority)") <
		    num(doc, "number(/filter/rule[@action='drop']/@priority)"));
	validate(doc, "nwfilter.rng");
	xmlFreeDoc(doc);

	struct vl_domain_opts o = { .type = VL_DOMAIN_QEMU, .pool = "vmlab", .filter = name };
	VL_AUTOFREE char *dxml = vl_render_domain(&g_plan, &g_plan.vms[0], &o, &err);
	doc = parse(dxml);
	check(doc, "/domain/devices/interface/filterref/@filter", name);
	validate(doc, "domain.rng");
	xmlFreeDoc(doc);
}

static void test_metadata_roundtrip(void **state)
{
	struct vl_err err = VL_ERR_INIT;
	struct vl_domain_opts o = { .type = VL_DOMAIN_QEMU, .pool = "vmlab" };
	struct vl_meta m;
	(void)state;

	char *dom = vl_render_domain(&g_plan, &g_plan.vms[2], &o, &err);
	assert_non_null(dom);
	assert_true(vl_meta_parse(dom, &m));
	assert_string_equal(m.id, g_plan.lab_id);
	assert_string_equal(m.name, "webapp");
	assert_string_equal(m.project, ODD_DIR);
	assert_string_equal(m.vm, g_plan.vms[2].name);
	assert_string_equal(m.ip, g_plan.vms[2].ip_str);
	assert_null(m.subnet);
	vl_meta_release(&m);
	free(dom);

	char *net = vl_render_network(&g_plan, NULL, &err);
	assert_non_null(net);
	assert_true(vl_meta_parse(net, &m));
	assert_string_equal(m.subnet, "10.77.125.0/24");
	assert_null(m.vm);
	assert_null(m.owner_machine);   /* not recorded: an older vmlab's object */
	vl_meta_release(&m);
	free(net);

	/* the owner gc goes by */
	struct vl_plan owned = g_plan;
	owned.owner_machine = (char *)"0123456789abcdef0123456789abcdef";
	owned.owner_user = (char *)"dev";
	net = vl_render_network(&owned, NULL, &err);
	assert_non_null(net);
	xmlDocPtr ndoc = parse(net);
	validate(ndoc, "network.rng");
	xmlFreeDoc(ndoc);
	assert_true(vl_meta_parse(net, &m));
	assert_string_equal(m.owner_machine, "0123456789abcdef0123456789abcdef");
	assert_string_equal(m.owner_user, "dev");
	assert_false(vl_owner_other(m.owner_machine, m.owner_user,
				    "0123456789abcdef0123456789abcdef", "dev"));
	assert_true(vl_owner_other(m.owner_machine, m.owner_user,
				   "0123456789abcdef0123456789abcdef", "root"));
	assert_true(vl_owner_other(m.owner_machine, m.owner_user, "fedcba", "dev"));
	assert_false(vl_owner_other(NULL, NULL, "fedcba", "root"));
	vl_meta_release(&m);
	free(net);

	/* the element alone: as virDomainGetMetadata hands it out (no namespace)
	 * and as the network listing does (with it) */
	assert_true(vl_meta_parse_element("<lab>\n  <id>x-1</id>\n  <vm>web</vm>\n</lab>", &m));
	assert_string_equal(m.id, "x-1");
	assert_string_equal(m.vm, "web");
	vl_meta_release(&m);
	assert_true(vl_meta_parse_element("<vmlab:lab xmlns:vmlab=\"" VL_XMLNS_URI "\"><vmlab:id>x-2"
					  "</vmlab:id><vmlab:subnet>10.77.3.0/24</vmlab:subnet>"
					  "</vmlab:lab>", &m));
	assert_string_equal(m.id, "x-2");
	assert_string_equal(m.subnet, "10.77.3.0/24");
	vl_meta_release(&m);
	assert_false(vl_meta_parse_element("<lab><name>no id</name></lab>", &m));
	assert_false(vl_meta_parse_element("<vm><id>x</id></vm>", &m));
	assert_false(vl_meta_parse_element("not xml", &m));
	/* a whole document is not the element */
	net = vl_render_network(&g_plan, NULL, &err);
	assert_false(vl_meta_parse_element(net, &m));
	free(net);
	assert_false(vl_meta_parse("<domain><name>other</name></domain>", &m));
	assert_false(vl_meta_parse("not xml", &m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_domain_qemu),
		cmocka_unit_test(test_domain_kvm),
		cmocka_unit_test(test_volumes),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_isolation),
		cmocka_unit_test(test_metadata_roundtrip),
	};
	int rc = cmocka_run_group_tests_name("render", tests, setup, teardown);

	xmlCleanupParser();
	return rc;
}
