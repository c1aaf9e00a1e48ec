/* The snapshot mark: what a VM was when its newest snapshot was taken or
 * restored, and the decision whether it changed since (snapmark.h). */
#include "snapmark.h"

#include <errno.h>
#include <limits.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/xml.h"

const char *vl_changed_name(enum vl_changed c)
{
	switch (c) {
	case VL_CHANGED_NO:
		return "no";
	case VL_CHANGED_YES:
		return "yes";
	default:
		return "unknown";
	}
}

enum vl_changed vl_snapmark_changed(const struct vl_snapmark *m, const struct vl_snapmark_now *now)
{
	if (!m->known)
		return VL_CHANGED_UNKNOWN;
	/* another QEMU process (or none): it booted, stopped or was restarted */
	if (now->boot != m->boot)
		return VL_CHANGED_YES;
	if (now->boot < 0)
		return VL_CHANGED_NO;   /* shut off then and now: nothing ran */
	if (!now->has_wr)
		return VL_CHANGED_UNKNOWN;
	/* counters only grow within one process; fewer means a new one that
	 * got the same id (ids restart with the daemon) */
	return now->wr != m->wr ? VL_CHANGED_YES : VL_CHANGED_NO;
}

char *vl_snapmark_format(const struct vl_snapmark *m)
{
	/* two numbers: nothing to escape */
	char buf[96];

	snprintf(buf, sizeof(buf), "<mark boot=\"%d\" wr=\"%llu\"/>", m->boot,
		 (unsigned long long)m->wr);
	return vl_strdup(buf);
}

/* A decimal attribute: boot from -1 to INT_MAX, wr any uint64_t. */
static bool attr_num(xmlNodePtr n, const char *name, bool is_boot, uint64_t *u, int *i)
{
	xmlChar *s = xmlGetProp(n, (const xmlChar *)name);
	const char *p = (const char *)s;
	char *end;
	bool ok = false;

	if (p && *p) {
		errno = 0;
		if (is_boot) {
			long long v = strtoll(p, &end, 10);
			ok = !errno && !*end && v >= -1 && v <= INT_MAX;
			*i = ok ? (int)v : -1;
		} else if (*p != '-') {
			unsigned long long v = strtoull(p, &end, 10);
			ok = !errno && !*end;
			*u = v;
		}
	}
	xmlFree(s);
	return ok;
}

bool vl_snapmark_parse(const char *xml, struct vl_snapmark *m)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	uint64_t wr = 0;
	int boot = -1;
	bool ok = false;

	*m = (struct vl_snapmark){ .known = false, .boot = -1 };
	if (!xml)
		return false;
	vl_xml_init();
	doc = xmlReadMemory(xml, (int)strlen(xml), "mark.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return false;
	root = xmlDocGetRootElement(doc);
	if (root && xmlStrcmp(root->name, (const xmlChar *)"mark") == 0 &&
	    attr_num(root, "boot", true, NULL, &boot) && attr_num(root, "wr", false, &wr, NULL)) {
		*m = (struct vl_snapmark){ .known = true, .boot = boot, .wr = wr };
		ok = true;
	}
	xmlFreeDoc(doc);
	return ok;
}
