/* placeholder: replaced by the real vmlab.conf loader */
#include "config.h"

int vl_config_load(struct vl_config *cfg, const char *explicit_path, struct vl_diags *diags,
		   struct vl_err *err)
{
	(void)cfg; (void)explicit_path; (void)diags;
	return vl_err_set(err, VL_E_UNAVAILABLE, "vmlab.conf loading is not available yet");
}

void vl_config_release(struct vl_config *cfg) { (void)cfg; }
