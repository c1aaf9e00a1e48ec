/* SHA-256 helpers over OpenSSL's EVP interface (see sha256.h). */
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/mem.h"

void vl_sha256_init(struct vl_sha256 *h)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	/* EVP only fails on allocation: out of memory, as vl_malloc treats it */
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort();
	h->md = md;
}

void vl_sha256_update(struct vl_sha256 *h, const void *data, size_t n)
{
	if (EVP_DigestUpdate(h->md, data, n) != 1)
		abort();
}

void vl_sha256_final(struct vl_sha256 *h, char hex[VL_SHA256_HEXLEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->md, md, &n) != 1 || n != 32)
		abort();
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	vl_sha256_release(h);
}

void vl_sha256_release(struct vl_sha256 *h)
{
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

int vl_sha256_file(const char *path, char hex[VL_SHA256_HEXLEN + 1], struct vl_err *err)
{
	static const size_t chunk = 1 << 20;
	VL_AUTOFREE char *buf = vl_malloc(chunk);
	struct vl_sha256 h;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "cannot read %s", path);
	vl_sha256_init(&h);
	while ((r = read(fd, buf, chunk)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			vl_sha256_release(&h);
			return vl_err_sys(err, VL_E_IO, e, "cannot read %s", path);
		}
		vl_sha256_update(&h, buf, (size_t)r);
	}
	close(fd);
	vl_sha256_final(&h, hex);
	return 0;
}
