/* libFuzzer target: any bytes as a libvirt domain or network XML document,
 * and as vmlab's <lab> element alone, through the metadata reader. A crash,
 * a sanitizer report or a leak is a bug. */
#include "fuzz_input.h"
#include "meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *xml = fuzz_string(data, size);
	struct vl_meta m;

	memset(&m, 0, sizeof(m));
	if (vl_meta_parse(xml, &m) && !m.id)
		abort();   /* "ours" means a lab id to act on */
	vl_meta_release(&m);
	memset(&m, 0, sizeof(m));
	vl_meta_parse_element(xml, &m);
	vl_meta_release(&m);
	free(xml);
	return 0;
}
