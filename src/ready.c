/* The readiness decision and the cloud-init status parser (see ready.h). */
#include "ready.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

static const char *const state_names[] = {
	[VL_CI_UNKNOWN] = "unknown", [VL_CI_NONE] = "none", [VL_CI_DISABLED] = "disabled",
	[VL_CI_RUNNING] = "running", [VL_CI_DONE] = "done", [VL_CI_ERROR] = "error",
};

const char *vl_ci_state_name(enum vl_ci_state s)
{
	return s <= VL_CI_ERROR ? state_names[s] : "unknown";
}

static enum vl_ci_state state_parse(const char *v)
{
	/* "degraded done" and "degraded running" (23.4+) count as their second word */
	if (vl_str_startswith(v, "degraded "))
		v += strlen("degraded ");
	if (vl_streq(v, "done"))
		return VL_CI_DONE;
	if (vl_streq(v, "error"))
		return VL_CI_ERROR;
	if (vl_streq(v, "running") || vl_streq(v, "not run") || vl_streq(v, "not started") ||
	    vl_streq(v, "not running"))
		return VL_CI_RUNNING;
	if (vl_streq(v, "disabled"))
		return VL_CI_DISABLED;
	if (vl_streq(v, "none"))
		return VL_CI_NONE;
	return VL_CI_UNKNOWN;
}

/* One line of message: the Python repr's "\n" escapes become "; ", runs of
 * blanks one space, and it is cut at 300 characters. */
static char *one_line(const char *s, size_t len)
{
	struct vl_buf b = VL_BUF_INIT;
	bool space = false;

	for (size_t i = 0; i < len && b.len < 300; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < len && s[i + 1] == 'n') {
			vl_buf_append(&b, "; ");
			i++;
			space = true;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (!space && b.len)
				vl_buf_putc(&b, ' ');
			space = true;
			continue;
		}
		vl_buf_putc(&b, c);
		space = false;
	}
	while (b.len && (b.s[b.len - 1] == ' ' || b.s[b.len - 1] == ';'))
		b.s[--b.len] = '\0';
	return vl_buf_steal(&b);
}

static void add_error(struct vl_ci_status *st, char *module, char *message)
{
	st->errors = vl_realloc(st->errors, (st->n_errors + 1) * sizeof(*st->errors));
	st->errors[st->n_errors++] = (struct vl_ci_error){ module, message };
}

/* "('locale', ProcessExecutionError(...))", maybe after "- " */
static void error_line(struct vl_ci_status *st, const char *line)
{
	const char *p = line;
	size_t len;

	while (*p == ' ' || *p == '\t' || *p == '-')
		p++;
	len = strlen(p);
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\r'))
		len--;
	if (!len)
		return;
	if (len > 4 && p[0] == '(' && (p[1] == '\'' || p[1] == '"') && p[len - 1] == ')') {
		char q = p[1];
		const char *end = memchr(p + 2, q, len - 2);
		if (end && end + 1 < p + len && end[1] == ',') {
			const char *msg = end + 2;
			add_error(st, vl_strndup(p + 2, (size_t)(end - (p + 2))),
				  one_line(msg, (size_t)(p + len - 1 - msg)));
			return;
		}
	}
	add_error(st, NULL, one_line(p, len));
}

void vl_ci_parse(const char *text, struct vl_ci_status *out)
{
	VL_AUTOFREE char *copy = vl_strdup(text ? text : "");
	enum { NONE, DETAIL, ERRORS, OTHER } section = NONE;
	char *save = NULL;

	memset(out, 0, sizeof(*out));
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool indented = line[0] == ' ' || line[0] == '\t';
		char *v;

		if (!indented && vl_str_startswith(line, "status:")) {
			v = vl_str_trim(line + strlen("status:"));
			out->state = state_parse(v);
			section = NONE;
		} else if (!indented && vl_str_startswith(line, "detail:")) {
			section = DETAIL;
		} else if (!indented && vl_str_startswith(line, "errors:")) {
			section = ERRORS;
			/* an errors: list is the authority; drop what detail: gave */
			for (size_t i = 0; i < out->n_errors; i++) {
				free(out->errors[i].module);
				free(out->errors[i].message);
			}
			out->n_errors = 0;
		} else if (!indented && strchr(line, ':') && !vl_str_startswith(line, "(") &&
			   !vl_str_startswith(line, "- ")) {
			section = OTHER;  /* time:, extended_status:, recoverable_errors: ... */
		} else if (section == ERRORS || (section == DETAIL && out->state == VL_CI_ERROR)) {
			error_line(out, line);
		}
	}
	/* "error" with nothing to show still is an error; errors under a
	 * "done" (23.x lists them there too) make it one */
	if (out->state == VL_CI_DONE && out->n_errors)
		out->state = VL_CI_ERROR;
}

void vl_ci_status_release(struct vl_ci_status *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_errors; i++) {
		free(st->errors[i].module);
		free(st->errors[i].message);
	}
	free(st->errors);
	memset(st, 0, sizeof(*st));
}

enum vl_ready vl_ready_decide(bool ssh_ok, const struct vl_ci_status *ci, bool strict)
{
	if (!ssh_ok || !ci)
		return VL_READY_WAIT;
	switch (ci->state) {
	case VL_CI_NONE:
	case VL_CI_DISABLED:
	case VL_CI_DONE:
		return VL_READY_OK;
	case VL_CI_ERROR:
		return strict ? VL_READY_FAILED : VL_READY_ERRORS;
	case VL_CI_RUNNING:
	case VL_CI_UNKNOWN:
		break;
	}
	return VL_READY_WAIT;
}

char *vl_ci_probe_script(unsigned wait_s)
{
	struct vl_buf b = VL_BUF_INIT;

	/* /run/cloud-init/result.json is written when the last stage
	 * (modules:final) ends, and /run is new every boot, so it marks the end
	 * of this boot's cloud-init (boot-finished in /var/lib/cloud survives a
	 * reboot). `cloud-init status` is a Python start: asked once, at the end. */
	vl_buf_printf(&b,
		      "command -v cloud-init >/dev/null 2>&1 || { echo 'status: none'; exit 0; }\n"
		      "[ -e /etc/cloud/cloud-init.disabled ] && { echo 'status: disabled'; exit 0; }\n"
		      "i=0\n"
		      "while [ ! -e /run/cloud-init/result.json ] && [ $i -lt %u ]; do\n"
		      "  sleep 0.5; i=$((i + 1))\n"
		      "done\n"
		      "if [ ! -e /run/cloud-init/result.json ]; then\n"
		      "  case \"$(cloud-init status 2>/dev/null)\" in\n"
		      "  *disabled*) echo 'status: disabled' ;;\n"
		      "  *) echo 'status: running' ;;\n"   /* 22.x says error while still running */
		      "  esac\n"
		      "  exit 0\n"
		      "fi\n"
		      "cloud-init status --long 2>&1\n"
		      "exit 0\n",
		      wait_s * 2);
	return vl_buf_steal(&b);
}
