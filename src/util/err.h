/* The error type every fallible core function fills: a code that maps to an
 * exit status, the errno if one applies, and one human-readable line. */
#ifndef VL_UTIL_ERR_H
#define VL_UTIL_ERR_H

#include <stdarg.h>

enum vl_errcode {
	VL_OK = 0,
	VL_E_FAIL,        /* the operation failed (exit 1) */
	VL_E_USAGE,       /* bad command line (exit 2) */
	VL_E_PROFILE,     /* bad vmlab.ini (exit 2) */
	VL_E_CONFIG,      /* bad vmlab.conf (exit 2) */
	VL_E_CONNECT,     /* libvirt unreachable (exit 3) */
	VL_E_NOTFOUND,    /* no such VM, image, snapshot, profile (exit 1) */
	VL_E_EXISTS,      /* refusing to overwrite (exit 1) */
	VL_E_IO,          /* files and directories (exit 1) */
	VL_E_NET,         /* download or HTTP (exit 1) */
	VL_E_CHECKSUM,    /* image checksum mismatch (exit 1) */
	VL_E_SSH,         /* SSH transport or host-key failure (exit 1) */
	VL_E_TIMEOUT,     /* waited too long (exit 1) */
	VL_E_LOCKED,      /* another vmlab holds the project lock (exit 1) */
	VL_E_UNAVAILABLE, /* command declared but not built yet (exit 1) */
	VL_E_REMOTE,      /* remote command's status is the exit status */
	VL_E_CANCELLED,   /* user said no at a prompt (exit 1) */
};

struct vl_err {
	enum vl_errcode code;
	int sys_errno;       /* errno at the failure, 0 if none */
	int status;          /* exit status for VL_E_REMOTE */
	char msg[1024];
};

#define VL_ERR_INIT { VL_OK, 0, 0, { 0 } }

/* Fill err (if not NULL) and return -1, so `return vl_err_set(...)` reads
 * like git's `return error(...)`. */
int vl_err_set(struct vl_err *err, enum vl_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vl_err_setv(struct vl_err *err, enum vl_errcode code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* As vl_err_set, appending ": strerror(errnum)" and recording errnum. */
int vl_err_sys(struct vl_err *err, enum vl_errcode code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prefix the existing message with context: "while X: <old message>". */
int vl_err_prefix(struct vl_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vl_err_clear(struct vl_err *err);
int vl_err_exit_status(const struct vl_err *err);
const char *vl_err_code_name(enum vl_errcode code);

#endif
