/* Whether a VM changed since the newest snapshot: when vmlab takes or
 * reverts to a snapshot it records, in the domain's metadata, the QEMU
 * process it ran in (the domain id, -1 shut off) and its disks' write
 * requests so far. A VM that has written to a disk since, or that stopped or
 * started since, has changed; a VM with no record is unknown. Pure. */
#ifndef VL_SNAPMARK_H
#define VL_SNAPMARK_H

#include <stdbool.h>
#include <stdint.h>

/* the namespace of the record, apart from vmlab's own <lab> element so
 * writing it never rewrites the lab's identity */
#define VL_SNAPMARK_NS "https://vmlab.dev/xmlns/mark/1"
#define VL_SNAPMARK_KEY "vlmark"

struct vl_snapmark {
	bool known;          /* false: no record */
	int boot;            /* domain id when recorded; -1 shut off */
	uint64_t wr;         /* block.*.wr.reqs summed when recorded */
};

/* What a VM is now, as a stats sample sees it. */
struct vl_snapmark_now {
	int boot;            /* domain id; -1 shut off */
	bool has_wr;         /* the sample carried write counters */
	uint64_t wr;
};

enum vl_changed {
	VL_CHANGED_UNKNOWN,  /* no record, or nothing to compare with */
	VL_CHANGED_NO,
	VL_CHANGED_YES,
};

/* "unknown", "no", "yes" */
const char *vl_changed_name(enum vl_changed c);
enum vl_changed vl_snapmark_changed(const struct vl_snapmark *m, const struct vl_snapmark_now *now);
/* The element written into the domain's metadata; caller frees. */
char *vl_snapmark_format(const struct vl_snapmark *m);
/* The element as libvirt hands it back; false (m unknown) if it is not one. */
bool vl_snapmark_parse(const char *xml, struct vl_snapmark *m);

#endif
