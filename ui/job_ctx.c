/* How a TUI job gets its context, in one place: the lead's host object will
 * replace the shared connection here and nowhere else. */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "plan.h"
#include "util/mem.h"
#include "util/str.h"

/* The instance the lab id names: NULL for the project's own lab, else the
 * suffix of "<name>-<instance>-<8 hex>" whose id is exactly lab_id. */
static int find_instance(const struct vl_profile *p, const char *lab_id, char **out,
			 struct vl_err *err)
{
	VL_AUTOFREE char *own = vl_plan_instance_id(p->name, p->dir, NULL);
	size_t n = strlen(lab_id);

	*out = NULL;
	if (vl_streq(own, lab_id))
		return 0;
	for (size_t i = 0; n > 9 && i < n - 9; i++) {
		if (lab_id[i] != '-')
			continue;
		VL_AUTOFREE char *cand = vl_strndup(lab_id + i + 1, n - 9 - i - 1);
		if (!vl_plan_instance_ok(cand))
			continue;
		VL_AUTOFREE char *id = vl_plan_instance_id(p->name, p->dir, cand);
		if (vl_streq(id, lab_id)) {
			*out = vl_steal(&cand);
			return 0;
		}
	}
	return vl_err_set(err, VL_E_PROFILE, "lab %s: %s/%s describes another lab (%s)", lab_id,
			  p->dir, VL_PROFILE_FILE, own);
}

int ui_job_ctx_init(struct vl_ctx *jc, const struct vl_ctx *base, struct vl_host *host,
		    const char *project, const char *lab_id, const struct vl_events *evs,
		    struct vl_err *err)
{
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	VL_AUTOFREE char *path = NULL;

	memset(jc, 0, sizeof(*jc));
	if (!project)
		return vl_err_set(err, VL_E_NOTFOUND, "lab %s: its project directory is not recorded",
				  lab_id);
	jc->project_dir = vl_strdup(project);
	jc->config_path = base->config_path;
	jc->uri = base->uri;
	jc->config = base->config;      /* shared and read-only: never released here */
	jc->have_config = base->have_config;
	jc->allow_outside = base->allow_outside;
	jc->insecure = base->insecure;
	jc->host = vl_host_ref(host);   /* shared: operations and threads use one host at once */
	jc->events = *evs;
	path = vl_strdup(project);
	path = vl_realloc(path, strlen(project) + sizeof("/" VL_PROFILE_FILE));
	strcat(path, "/" VL_PROFILE_FILE);
	struct vl_profile_trust trust = vl_ctx_trust(jc);
	if (vl_profile_load_trusted(&jc->profile, path, &trust, &diags, err) < 0) {
		if (diags.n) {  /* the first problem says more than "N problems" */
			VL_AUTOFREE char *first = vl_diag_format(&diags.items[0]);
			vl_err_set(err, VL_E_PROFILE, "%s", first);
		}
		ui_job_ctx_release(jc);
		return -1;
	}
	jc->have_profile = true;
	if (find_instance(&jc->profile, lab_id, &jc->profile.instance, err) < 0) {
		ui_job_ctx_release(jc);
		return -1;
	}
	return 0;
}

void ui_job_ctx_release(struct vl_ctx *jc)
{
	if (jc->have_profile)
		vl_profile_release(&jc->profile);
	free(jc->project_dir);
	vl_host_unref(jc->host);
	memset(jc, 0, sizeof(*jc));
}

int ui_here_plan(const struct vl_ctx *base, const char *project, struct vl_plan *out,
		 struct vl_err *err)
{
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	size_t size = strlen(project) + sizeof("/" VL_PROFILE_FILE);
	VL_AUTOFREE char *path = vl_malloc(size);
	struct vl_profile p;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	snprintf(path, size, "%s/%s", project, VL_PROFILE_FILE);
	struct vl_profile_trust trust = vl_ctx_trust(base);
	if (vl_profile_load_trusted(&p, path, &trust, &diags, err) < 0) {
		if (diags.n) {  /* the first problem says more than "N problems" */
			VL_AUTOFREE char *first = vl_diag_format(&diags.items[0]);
			vl_err_set(err, VL_E_PROFILE, "%s", first);
		}
		return -1;
	}
	rc = vl_plan_build(out, &p, &base->config, NULL, 0, err);
	vl_profile_release(&p);
	return rc;
}
