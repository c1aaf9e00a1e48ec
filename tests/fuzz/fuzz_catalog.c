/* libFuzzer target: any bytes as an image catalog (images.ini). A loaded
 * catalog's entries must be usable as image.c uses them: a name, a URL and
 * a checksum source; an error must say FILE:LINE. */
#include "catalog.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("images.ini", data, size);
	struct vl_catalog c = VL_CATALOG_INIT;
	struct vl_err err = VL_ERR_INIT;
	char where[4200];

	if (vl_catalog_load(&c, path, false, &err) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			const struct vl_catalog_entry *e = &c.items[i];
			if (!e->name || !e->url || !vl_image_name_valid(e->name) ||
			    (!e->digest && !e->checksum_url && !e->insecure))
				abort();
			free(vl_catalog_entry_format(e));
		}
	} else {
		snprintf(where, sizeof(where), "%s:", path);
		if (strncmp(err.msg, where, strlen(where)) != 0)
			abort();   /* every catalog error starts with FILE:LINE */
	}
	vl_catalog_release(&c);
	return 0;
}
