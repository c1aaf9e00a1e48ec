/* libFuzzer target: any bytes as vmlab.conf through the whole loader
 * (scanner, every setter, environment overrides, release). A crash, a
 * sanitizer report or a leak is a bug; so is a failure with no diagnostic. */
#include "config.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("vmlab.conf", data, size);
	struct vl_config cfg;
	struct vl_diags d = VL_DIAGS_INIT;
	struct vl_err err = VL_ERR_INIT;

	if (vl_config_load(&cfg, path, &d, &err) == 0) {
		if (!cfg.uri || !cfg.pool_dir || !cfg.cache_dir || cfg.lab_prefix < cfg.pool_prefix ||
		    !vl_config_subnet_allowed(&cfg, cfg.pool_addr, cfg.pool_prefix))
			abort();   /* a loaded config keeps what the planner relies on */
		vl_config_release(&cfg);
	} else if (err.code == VL_E_CONFIG && d.n == 0 && strstr(err.msg, "problem")) {
		abort();   /* "N problems" but nothing to show */
	}
	vl_diags_release(&d);
	return 0;
}
