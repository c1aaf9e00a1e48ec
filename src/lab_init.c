/* The engine's process-wide initialisation (vl_init in lab.h). */
#include "lab.h"

#include <signal.h>

#include "util/xml.h"
#include "virt.h"

int vl_init(struct vl_err *err)
{
	/* A libvirt connection whose daemon goes away is written to (keepalives,
	 * the next call): SIGPIPE would end the process where libvirt expects
	 * EPIPE and reports the connection closed (as virsh does, ignore it). */
	signal(SIGPIPE, SIG_IGN);
	vl_xml_init();
	return vl_virt_events_init(err);
}

void vl_fini(void)
{
	vl_virt_events_shutdown();
}
