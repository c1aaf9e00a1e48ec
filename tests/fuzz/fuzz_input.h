/* Shared by the libFuzzer targets: the input written to a file of a private
 * temporary directory (the loaders read files), or as a C string. */
#ifndef VL_FUZZ_INPUT_H
#define VL_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* dir/name holding data; the directory is made once per process. */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char dir[] = "/tmp/vmlab-fuzz-XXXXXX";
	static char path[sizeof(dir) + 64];
	FILE *f;

	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	return path;
}

/* A NUL-terminated copy (embedded NULs end it early, as a file read would
 * not: the parsers taking a C string see what a C string can carry). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
