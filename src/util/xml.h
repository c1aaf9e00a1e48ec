/* libxml2's process-wide initialisation, once. xmlInitParser() is not safe to
 * race, and render.c, meta.c and the libvirt adapter use libxml2 from worker
 * threads: vl_init() (lab.h) calls this before any thread exists, and each
 * libxml2 user calls it again on entry so a caller that skipped vl_init()
 * (a unit test) is still safe. */
#ifndef VL_UTIL_XML_H
#define VL_UTIL_XML_H

void vl_xml_init(void);

#endif
