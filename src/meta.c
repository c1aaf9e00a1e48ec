/* vmlab metadata parser: XPath over the namespace the renderer writes. */
#include "meta.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

#include "render.h"
#include "util/mem.h"
#include "util/xml.h"

/* The XPath string() of path[0] + name + path[1]. */
static char *field(xmlXPathContextPtr ctx, const char *const path[2], const char *name)
{
	char expr[160];
	xmlXPathObjectPtr o;
	char *out = NULL;

	snprintf(expr, sizeof(expr), "string(%s%s%s)", path[0], name, path[1]);
	o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (o && o->type == XPATH_STRING && o->stringval && o->stringval[0])
		out = vl_strdup((const char *)o->stringval);
	xmlXPathFreeObject(o);
	return out;
}

static bool parse(const char *xml, const char *const path[2], struct vl_meta *m)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;

	*m = (struct vl_meta){ 0 };
	vl_xml_init();
	doc = xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return false;
	ctx = xmlXPathNewContext(doc);
	if (ctx && xmlXPathRegisterNs(ctx, (const xmlChar *)"v", (const xmlChar *)VL_XMLNS_URI) == 0) {
		m->id = field(ctx, path, "id");
		m->name = field(ctx, path, "name");
		m->project = field(ctx, path, "project");
		m->user = field(ctx, path, "user");
		m->vm = field(ctx, path, "vm");
		m->spec = field(ctx, path, "spec");
		m->ip = field(ctx, path, "ip");
		m->mac = field(ctx, path, "mac");
		m->subnet = field(ctx, path, "subnet");
		m->owner_machine = field(ctx, path, "owner-machine");
		m->owner_user = field(ctx, path, "owner-user");
		m->instance = field(ctx, path, "instance");
	}
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	if (!m->id) {
		vl_meta_release(m);
		return false;
	}
	return true;
}

bool vl_meta_parse(const char *xml, struct vl_meta *m)
{
	static const char *const path[2] = { "/*/metadata/v:lab/v:", "" };

	return parse(xml, path, m);
}

bool vl_meta_parse_element(const char *xml, struct vl_meta *m)
{
	/* virDomainGetMetadata hands the element out without its namespace */
	static const char *const path[2] = { "/*[local-name()='lab']/*[local-name()='", "']" };

	return parse(xml, path, m);
}

void vl_meta_release(struct vl_meta *m)
{
	free(m->id);
	free(m->name);
	free(m->project);
	free(m->user);
	free(m->vm);
	free(m->spec);
	free(m->ip);
	free(m->mac);
	free(m->subnet);
	free(m->owner_machine);
	free(m->owner_user);
	free(m->instance);
	*m = (struct vl_meta){ 0 };
}
