/* libxml2 initialised once per process (util/xml.h). */
#include "util/xml.h"

#include <pthread.h>

#include <libxml/parser.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
	xmlInitParser();
}

void vl_xml_init(void)
{
	pthread_once(&once, init);
}
