/* libFuzzer target: any bytes as vmlab.ini through the whole loader (scanner,
 * validation, release). A crash, a sanitizer report or a leak is a bug. The
 * file lives in a private temp dir so relative paths in the input stay there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/vmlab-fuzz-XXXXXX";
static char path[sizeof(dir) + 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_profile p;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;
	FILE *f;

	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/vmlab.ini", dir);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (vl_profile_load(&p, path, &d, &err) == 0) {
		/* a valid profile must satisfy what other modules rely on */
		if (!p.name || !p.user || p.n_vms == 0 || !p.path || !p.dir)
			abort();
		for (size_t i = 0; i < p.n_vms; i++)
			if (!p.vms[i].name || !p.vms[i].image || p.vms[i].count == 0 ||
			    p.vms[i].memory == 0 || p.vms[i].disk == 0)
				abort();
		vl_profile_release(&p);
	} else if (d.n == 0 && err.code == VL_E_PROFILE && strstr(err.msg, "problem")) {
		abort();   /* "N problems" but no diagnostic to show */
	}
	vl_diags_release(&d);
	return 0;
}
