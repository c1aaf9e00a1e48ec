/* A class: one lab instance per student seat. Pure: the roster, seat
 * identities and the placement of whole seats on libvirt hosts by what
 * they commit, with the capacity check. No I/O. */
#ifndef VL_CLASS_PLAN_H
#define VL_CLASS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "subnet.h"
#include "util/diag.h"
#include "util/err.h"

#define VL_CLASS_SEAT_ID_MAX 15       /* "seat-" + id stays an instance name (20) */
#define VL_CLASS_SEATS_MAX 200
#define VL_CLASS_INSTANCE_PREFIX "seat-"
#define VL_CLASS_HOST_NAME_MAX 20       /* vmlab.conf [hosts] names */
#define VL_CLASS_JUMPS_MAX 32           /* jump.HOST keys */
/* What a host must hold beyond the guests' own memory: QEMU's overhead per
 * VM (device model, TCG's translation cache) and a reserve for the host. */
#define VL_CLASS_VM_OVERHEAD (128ull << 20)
#define VL_CLASS_HOST_RESERVE (1ull << 30)
/* vCPUs a host may carry per CPU: classes idle most of the time. */
#define VL_CLASS_VCPU_RATIO 4
/* Pool space per VM: overlays are thin, so not the virtual disk size but
 * the writes of an exercise and the baseline's memory state. */
#define VL_CLASS_DISK_GROWTH (1ull << 30)

struct vl_seat_spec {
	char *id;            /* [a-z0-9-], at most VL_CLASS_SEAT_ID_MAX */
	char *name;          /* the student; NULL with seats = N */
	char *email;         /* NULL if none */
	int line;            /* roster line, 0 with seats = N */
};

/* "id,name[,email]" per line; blank lines and lines starting with '#' are
 * skipped, a first line "id,name..." is a header. Fields are trimmed and
 * may be double-quoted ("" for a quote). Every problem goes to diags as
 * file:LINE; returns the number of problems. *out is allocated either way. */
size_t vl_class_roster_parse(const char *text, size_t len, const char *file,
			     struct vl_diags *diags, struct vl_seat_spec **out, size_t *n);
/* Seats "1".."n". */
struct vl_seat_spec *vl_class_seats_numbered(unsigned n);
void vl_seat_specs_free(struct vl_seat_spec *s, size_t n);
bool vl_class_seat_id_ok(const char *id);
/* The seat's lab instance name: "seat-<id>". Caller frees. */
char *vl_class_instance(const char *seat_id);

/* What one seat needs (every seat of a class is the same lab). */
struct vl_class_need {
	unsigned vms;
	uint64_t memory;     /* guests' memory, bytes */
	unsigned vcpus;
	uint64_t disk;       /* pool space, bytes */
};

/* Count one VM of the lab: its memory and vCPUs, and as pool space its
 * memory (the baseline keeps it) plus VL_CLASS_DISK_GROWTH. */
void vl_class_need_add_vm(struct vl_class_need *need, uint64_t memory, unsigned vcpus);
/* Memory a host must have free for it: guests plus overhead per VM. */
uint64_t vl_class_need_memory(const struct vl_class_need *need);

/* A host as placement sees it. committed: domains that are not this
 * class's (other labs, other VMs). */
struct vl_class_host {
	const char *name;
	bool up;                       /* reachable now */
	uint64_t mem_total, mem_committed;
	unsigned cpus, vcpus_committed;
	bool pool_known;               /* false: the pool does not exist yet (no disk check) */
	uint64_t pool_free;
	unsigned free_subnets;         /* lab subnets still free on the host */
};

/* A host after placement: what the class adds. */
struct vl_class_load {
	unsigned seats;
	unsigned new_seats;            /* seats to create there (each takes a subnet) */
	uint64_t memory;               /* the class's memory with overhead */
	unsigned vcpus;
	uint64_t disk;
};

enum vl_seat_move {
	VL_SEAT_STAYS,                 /* exists on an up host, kept there */
	VL_SEAT_NEW,                   /* not made yet */
	VL_SEAT_MOVED,                 /* its host is down: made again elsewhere */
};

/* Place whole seats on hosts. current[i]: the host seat i exists on, or
 * -1. A seat on an up host stays. Each other seat goes to the up host
 * where it fits with the lowest share of memory in use after it (so seats
 * spread by size), ties to the host with fewer seats, then the first.
 * host_of[i] gets the host (-1: no room), moves[i] what happens, load[h]
 * the class's load per host. Fails (VL_E_FAIL) when some seat has no room,
 * with the numbers in one line; host_of, moves and load are filled anyway
 * for the capacity table. */
int vl_class_place(const struct vl_class_need *need, size_t n_seats, const int *current,
		   const struct vl_class_host *hosts, size_t n_hosts, int *host_of,
		   enum vl_seat_move *moves, struct vl_class_load *load, struct vl_err *err);

/* ---- handouts (class export) ---- */

struct vl_class_bundle_vm {
	const char *name, *ip;
};

/* What a student's bundle says: the seat's VMs and how to reach them. */
struct vl_class_bundle {
	const char *class_name, *seat, *student;   /* student may be NULL */
	const char *user;                          /* the VMs' login user */
	const char *jump_user, *jump_host;         /* NULL: no jump host, VMs reached directly */
	unsigned jump_port;
	const struct vl_class_bundle_vm *vms;
	size_t n_vms;
};

/* A jump account students go through: [class] jump = USER@ADDR[:PORT]
 * (host NULL, the class's default) or jump.HOST = ... for the seats placed
 * on libvirt host HOST (vmlab.conf [hosts]), whose networks only that
 * host's sshd reaches. key: jump_key[.HOST], the sshd's public host key
 * (absolute), or NULL. line: where it is set in vmlab.ini. */
struct vl_class_jump {
	char *host;
	char *user, *addr;
	unsigned port;
	char *key;
	int line, key_line;
};

/* The jump of a seat placed on host_name: its jump.HOST, else dflt (NULL:
 * no jump). Pure. */
const struct vl_class_jump *vl_class_jump_for(const struct vl_class_jump *jumps, size_t n,
					      const struct vl_class_jump *dflt,
					      const char *host_name);
/* The first per-host jump that names none of hosts, or NULL. Pure. */
const struct vl_class_jump *vl_class_jump_stray(const struct vl_class_jump *jumps, size_t n,
						const char *const *hosts, size_t n_hosts);

/* ssh_config for `ssh -F ssh_config VM` run in the bundle's directory:
 * the seat's key, known_hosts pinned, StrictHostKeyChecking yes, each VM
 * through ProxyJump. Caller frees. */
char *vl_class_ssh_config(const struct vl_class_bundle *b);
/* The one-page how-to. Caller frees. */
char *vl_class_howto(const struct vl_class_bundle *b);
/* The jump account's authorized_keys line for the seat's key: no shell,
 * no pty, no forwarding but to the seat's VMs' port 22. key_line is
 * "TYPE BASE64[ COMMENT]". Caller frees. */
char *vl_class_authorized_line(const char *key_line, const struct vl_class_bundle *b);
/* existing authorized_keys text (may be NULL) with the block between
 * "# MARKER begin" and "# MARKER end" lines replaced by block (NULL or "":
 * removed); everything else kept as it was. Caller frees. */
char *vl_class_authorized_merge(const char *existing, const char *marker, const char *block);

/* Lab subnets (cfg->lab_prefix) of the pool that overlap nothing in used. */
unsigned vl_class_free_subnets(const struct vl_config *cfg, const struct vl_subnet *used,
			       size_t n_used);

#endif
