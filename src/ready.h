/* When is a VM ready? SSH answers with the pinned key and, where the image
 * runs cloud-init, cloud-init has finished. Pure: the text a guest's
 * `cloud-init status --long` printed goes in, a decision comes out. */
#ifndef VL_READY_H
#define VL_READY_H

#include <stdbool.h>
#include <stddef.h>

enum vl_ci_state {
	VL_CI_UNKNOWN,    /* no status line understood */
	VL_CI_NONE,       /* the image has no cloud-init */
	VL_CI_DISABLED,   /* installed, but disabled on this boot */
	VL_CI_RUNNING,    /* a stage still runs (or none has started) */
	VL_CI_DONE,
	VL_CI_ERROR,      /* finished, with errors */
};

struct vl_ci_error {
	char *module;     /* "locale", "scripts-user"; NULL if the text names none */
	char *message;    /* one line */
};

struct vl_ci_status {
	enum vl_ci_state state;
	struct vl_ci_error *errors;
	size_t n_errors;
};

/* Parse `cloud-init status --long` (cloud-init 22.x: errors under
 * "detail:"; 23.x and later: under "errors:"), or the probe's own
 * "status: none". Errors are "('module', Exception(...))" lines. */
void vl_ci_parse(const char *text, struct vl_ci_status *out);
void vl_ci_status_release(struct vl_ci_status *st);
const char *vl_ci_state_name(enum vl_ci_state s);

enum vl_ready {
	VL_READY_WAIT,    /* not yet: poll again */
	VL_READY_OK,
	VL_READY_ERRORS,  /* ready, but cloud-init reported errors: warn */
	VL_READY_FAILED,  /* cloud-init errors and strict: the VM failed */
};

/* ssh_ok: a login with the pinned host key and the project key worked. */
enum vl_ready vl_ready_decide(bool ssh_ok, const struct vl_ci_status *ci, bool strict);

/* The remote probe (POSIX sh, busybox too): waits up to wait_s seconds on
 * the guest for cloud-init's end-of-boot marker, then prints the status
 * text vl_ci_parse reads. Caller frees. */
char *vl_ci_probe_script(unsigned wait_s);

#endif
