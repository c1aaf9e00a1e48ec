/* placeholder: replaced by the real vmlab.ini loader */
#include "profile.h"

#include <stddef.h>

char *vl_profile_find(const char *start_dir, struct vl_err *err)
{
	(void)start_dir;
	vl_err_set(err, VL_E_UNAVAILABLE, "profiles are not available yet");
	return NULL;
}

int vl_profile_load(struct vl_profile *p, const char *path, struct vl_diags *diags, struct vl_err *err)
{
	(void)p; (void)path; (void)diags;
	return vl_err_set(err, VL_E_UNAVAILABLE, "profiles are not available yet");
}

void vl_profile_release(struct vl_profile *p) { (void)p; }
