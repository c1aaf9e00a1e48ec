/* The cloud-init NoCloud seed: meta-data, user-data and network-config as an
 * ISO9660 image labelled "cidata" (docs/design.md "Up", step 5). */
#ifndef VL_SEED_H
#define VL_SEED_H

#include <stddef.h>

struct vl_err;

/* One file in the seed's root directory. data holds len bytes (may hold NULs). */
struct vl_seed_file {
	const char *name;   /* e.g. "meta-data"; no '/', kept exactly (Rock Ridge + Joliet) */
	const char *data;
	size_t len;
};

#define VL_SEED_LABEL "cidata"

/* Write an ISO9660 image with volume id "cidata", Rock Ridge and Joliet, holding
 * the n files in its root, to path. The file appears atomically (temp file in
 * the same directory, then rename) with mode 0600: the seed carries the VM's
 * SSH host private key. Thread-safe. VL_E_USAGE for a bad file name, VL_E_IO
 * for file errors, VL_E_FAIL for libisofs errors. */
int vl_seed_write_iso(const char *path, const struct vl_seed_file *files, size_t n,
		      struct vl_err *err);

#endif
