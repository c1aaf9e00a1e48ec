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
};

/* xml: a domain or network document, or vmlab's <metadata> element alone
 * (vl_virt_domain_list_meta). false when it has no vmlab metadata (or is not
 * XML): not ours. */
bool vl_meta_parse(const char *xml, struct vl_meta *m);
void vl_meta_release(struct vl_meta *m);

#endif
