/* libFuzzer target: any bytes as a checksum file (SHA256SUMS, BSD style,
 * PGP-signed, a bare digest). A digest found must be lowercase hex of the
 * hash's length. */
#include <ctype.h>

#include "catalog.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text, const char *entry, enum vl_hash h)
{
	char *hex = vl_checksum_find(text, entry, h);

	if (!hex)
		return;
	if (strlen(hex) != vl_hash_hexlen(h))
		abort();
	for (const char *c = hex; *c; c++)
		if (!isxdigit((unsigned char)*c) || isupper((unsigned char)*c))
			abort();
	free(hex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);

	check(text, "debian-12-genericcloud-amd64.qcow2", VL_HASH_SHA256);
	check(text, "debian-12-genericcloud-amd64.qcow2", VL_HASH_SHA512);
	check(text, "x", VL_HASH_SHA256);
	check(text, "", VL_HASH_SHA512);
	free(text);
	return 0;
}
