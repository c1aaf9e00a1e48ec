/* The engine's process-wide initialisation (vl_init in lab.h). */
#include "lab.h"

#include "util/xml.h"
#include "virt.h"

int vl_init(struct vl_err *err)
{
	vl_xml_init();
	return vl_virt_events_init(err);
}
