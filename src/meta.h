/* Reading vmlab's own <metadata> back out of a libvirt domain or network
 * XML document: libvirt is the source of truth, so gc and status learn from
 * it which project an object belongs to. Pure: XML text in, fields out. */
#ifndef VL_META_H
#define VL_META_H

#include <stdbool.h>

struct vl_meta {
	char *id, *name, *project, *user;   /* lab */
	char *vm, *spec, *ip, *mac;         /* domains only */
	char *subnet;                       /* networks only */
	char *owner_machine, *owner_user;   /* NULL on objects made before owners */
	char *instance;                     /* NULL: the project's own lab */
};

/* false when xml has no vmlab metadata (or is not XML): not ours. */
bool vl_meta_parse(const char *xml, struct vl_meta *m);
/* The same from vmlab's <lab> element alone, as the adapter hands it out
 * after asking libvirt for vmlab's namespace (vl_virt_domain_list_meta,
 * vl_virt_network_list_meta): libvirt drops the namespace of a domain's, so
 * names are matched without one. */
bool vl_meta_parse_element(const char *xml, struct vl_meta *m);
void vl_meta_release(struct vl_meta *m);

#endif
