/* vmlab metadata parser: XPath over the namespace the renderer writes. */
#include "meta.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

#include "render.h"
#include "util/mem.h"

static char *field(xmlXPathContextPtr ctx, const char *name)
{
	char expr[128];
	xmlXPathObjectPtr o;
	char *out = NULL;

	/* a whole domain or network document, or the element alone (what
	 * virDomainGetMetadata returns) */
	snprintf(expr, sizeof(expr), "string((/*/metadata/v:lab | /v:lab)[1]/v:%s)", name);
	o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	if (o && o->type == XPATH_STRING && o->stringval && o->stringval[0])
		out = vl_strdup((const char *)o->stringval);
	xmlXPathFreeObject(o);
	return out;
}

bool vl_meta_parse(const char *xml, struct vl_meta *m)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;

	*m = (struct vl_meta){ 0 };
	doc = xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return false;
	ctx = xmlXPathNewContext(doc);
	if (ctx && xmlXPathRegisterNs(ctx, (const xmlChar *)"v", (const xmlChar *)VL_XMLNS_URI) == 0) {
		m->id = field(ctx, "id");
		m->name = field(ctx, "name");
		m->project = field(ctx, "project");
		m->user = field(ctx, "user");
		m->vm = field(ctx, "vm");
		m->spec = field(ctx, "spec");
		m->ip = field(ctx, "ip");
		m->mac = field(ctx, "mac");
		m->subnet = field(ctx, "subnet");
		m->owner_machine = field(ctx, "owner-machine");
		m->owner_user = field(ctx, "owner-user");
	}
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	if (!m->id) {
		vl_meta_release(m);
		return false;
	}
	return true;
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
	*m = (struct vl_meta){ 0 };
}
