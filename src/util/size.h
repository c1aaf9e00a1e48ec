/* Byte counts for people: "1.5 GiB", "1.5G", "2 GiB". */
#ifndef VL_UTIL_SIZE_H
#define VL_UTIL_SIZE_H

#include <stddef.h>
#include <stdint.h>

enum vl_size_style {
	VL_SIZE_IEC,    /* "512 B", "1.5 KiB" ... "1.0 TiB" (progress bars, rates) */
	VL_SIZE_SHORT,  /* "512B", "1.5K" ... "1.0T" (ls -h, image list columns) */
};

/* Scale by 1024 up to TiB: bytes with no decimals, larger units with one
 * ("1.0 MiB" for exactly 1 MiB). Writes at most n bytes into buf. */
void vl_human_bytes(char *buf, size_t n, double bytes, enum vl_size_style style);

/* Scale by 1024 up to PiB while the value stays at least 1024: whole numbers
 * without decimals ("2 GiB", "1000 B"), others with one ("1.5 GiB"). For sizes
 * a user wrote (memory, disk), so "2 GiB" reads back as written. */
void vl_human_bytes_exact(char *buf, size_t n, uint64_t bytes);

#endif
