/* Human-readable byte counts, in the two forms the CLI prints: scaled with
 * one decimal (progress, image list) and exact where the number is whole
 * (plan). Binary units throughout. */
#include "util/size.h"

#include <inttypes.h>
#include <stdio.h>

#include "util/mem.h"

void vl_human_bytes(char *buf, size_t n, double bytes, enum vl_size_style style)
{
	static const char *const iec[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	static const char *const shrt[] = { "B", "K", "M", "G", "T" };
	const char *const *unit = style == VL_SIZE_SHORT ? shrt : iec;
	const char *sep = style == VL_SIZE_SHORT ? "" : " ";
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f%s%s" : "%.0f%s%s", bytes, sep, unit[u]);
}

void vl_human_bytes_exact(char *buf, size_t n, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned u = 0;
	uint64_t div = 1;

	while (u + 1 < VL_ARRAY_SIZE(units) && bytes / div >= 1024) {
		div *= 1024;
		u++;
	}
	if (bytes % div == 0)
		snprintf(buf, n, "%" PRIu64 " %s", bytes / div, units[u]);
	else
		snprintf(buf, n, "%.1f %s", (double)bytes / (double)div, units[u]);
}
