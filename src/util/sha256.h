/* SHA-256 over a stream of pieces or a whole file, as lowercase hex. A thin
 * layer over OpenSSL's EVP, so callers need no OpenSSL types. */
#ifndef VL_UTIL_SHA256_H
#define VL_UTIL_SHA256_H

#include <stddef.h>

#include "util/err.h"

#define VL_SHA256_HEXLEN 64

struct vl_sha256 {
	void *md;   /* EVP_MD_CTX */
};

void vl_sha256_init(struct vl_sha256 *h);
void vl_sha256_update(struct vl_sha256 *h, const void *data, size_t n);
/* Writes 64 hex digits and a NUL into hex, and releases h. */
void vl_sha256_final(struct vl_sha256 *h, char hex[VL_SHA256_HEXLEN + 1]);
/* Releases h without a result (safe after final, and on a zeroed h). */
void vl_sha256_release(struct vl_sha256 *h);
int vl_sha256_file(const char *path, char hex[VL_SHA256_HEXLEN + 1], struct vl_err *err);

#endif
