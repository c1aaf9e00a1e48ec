/* vl_err: fill, prefix and map errors to exit statuses (docs/design.md: 0 done,
 * 1 failed, 2 bad usage or profile, 3 libvirt unreachable). */
#include "util/err.h"

#include <stdio.h>
#include <string.h>

#include "util/str.h"

int vl_err_setv(struct vl_err *err, enum vl_errcode code, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	err->code = code;
	err->sys_errno = 0;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int vl_err_set(struct vl_err *err, enum vl_errcode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vl_err_setv(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int vl_err_sys(struct vl_err *err, enum vl_errcode code, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vl_err_setv(err, code, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	if (len < sizeof(err->msg))
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	err->sys_errno = errnum;
	return -1;
}

int vl_err_prefix(struct vl_err *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* both parts may be long: concatenate with explicit truncation */
	size_t lp = strlen(prefix); /* < sizeof(prefix) == 512 */
	memcpy(err->msg, prefix, lp);
	memcpy(err->msg + lp, ": ", 2);
	vl_strlcpy(err->msg + lp + 2, old, sizeof(err->msg) - lp - 2);
	return -1;
}

void vl_err_clear(struct vl_err *err)
{
	if (!err)
		return;
	err->code = VL_OK;
	err->sys_errno = 0;
	err->status = 0;
	err->msg[0] = '\0';
}

int vl_err_exit_status(const struct vl_err *err)
{
	switch (err->code) {
	case VL_OK:
		return 0;
	case VL_E_USAGE:
	case VL_E_PROFILE:
	case VL_E_CONFIG:
		return 2;
	case VL_E_CONNECT:
		return 3;
	case VL_E_REMOTE:
		return err->status;
	default:
		return 1;
	}
}

const char *vl_err_code_name(enum vl_errcode code)
{
	static const char *const names[] = {
		[VL_OK] = "ok", [VL_E_FAIL] = "failed", [VL_E_USAGE] = "usage",
		[VL_E_PROFILE] = "profile", [VL_E_CONFIG] = "config",
		[VL_E_CONNECT] = "connect", [VL_E_NOTFOUND] = "not-found",
		[VL_E_EXISTS] = "exists", [VL_E_IO] = "io", [VL_E_NET] = "network",
		[VL_E_CHECKSUM] = "checksum", [VL_E_SSH] = "ssh",
		[VL_E_TIMEOUT] = "timeout", [VL_E_LOCKED] = "locked",
		[VL_E_UNAVAILABLE] = "unavailable", [VL_E_REMOTE] = "remote",
		[VL_E_CANCELLED] = "cancelled",
	};

	if ((unsigned)code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}
