/* Provisioners (docs/provision.md): a VM's `provision` entries parsed, the
 * environment each one gets, its content hash, the remote command that runs
 * it and records its success in the guest, and the run-or-skip decision from
 * those records. Pure: no I/O, so every decision is unit-tested. */
#ifndef VL_PROVISION_H
#define VL_PROVISION_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

enum vl_prov_kind { VL_PROV_SCRIPT, VL_PROV_FILE };

struct vl_prov {
	enum vl_prov_kind kind;
	char *spec;          /* the entry as written, for messages */
	char *src;           /* absolute path on the host */
	char *dest;          /* FILE: absolute path in the VM */
	unsigned mode;       /* FILE: permission bits, default 0644 */
	char *owner, *group; /* FILE: NULL: the lab user, its primary group */
	int line;            /* of its key in vmlab.ini; 0 if unknown */
};

/* Where the guest keeps its records, relative to the lab user's home. */
#define VL_PROV_RECORDS ".vmlab-provision"

/* Parse one entry: "PATH" or "script:PATH" (a script), or
 * "file:SRC DEST [mode=OCTAL] [owner=USER[:GROUP]]". Relative host paths are
 * made absolute under dir; whether they exist is the caller's business.
 * VL_E_PROFILE with one line saying what is wrong. */
int vl_prov_parse(const char *value, const char *dir, struct vl_prov *out, struct vl_err *err);
void vl_prov_release(struct vl_prov *p);
void vl_prov_copy(struct vl_prov *dst, const struct vl_prov *src);
/* Release n entries and the array. */
void vl_provs_free(struct vl_prov *p, size_t n);

/* What identifies a provisioner's content: SHA-256 (hex) of its kind, its
 * target and mode/owner for a file, and the bytes it sends. */
void vl_prov_hash(const struct vl_prov *p, const void *content, size_t len, char hex[65]);

/* Whether records (the guest's VL_PROV_RECORDS text, may be NULL) hold
 * provisioner number index (1-based) with this hash for this domain: then
 * it ran to exit 0 on this very disk and is skipped. A record made for
 * another domain (a disk cloned from a template) does not count. */
bool vl_prov_done(const char *records, unsigned index, const char *hash, const char *domain_uuid);

/* The environment of every provisioner, as NAME=VALUE words: VMLAB_VM,
 * VMLAB_LAB, VMLAB_INDEX (the VM's number in its [vm] section, 1 without
 * count), VMLAB_IP, VMLAB_USER, VMLAB_VMS ("a=10.0.0.2 b=10.0.0.3", every VM
 * of the lab) and VMLAB_IP_<NAME> per VM (upper case, '-' as '_'). */
struct vl_prov_peer {
	const char *name, *ip;
};

struct vl_prov_env {
	const char *vm, *lab, *ip, *user;
	unsigned index;
	const struct vl_prov_peer *peers;
	size_t n_peers;
};

/* A NULL-terminated array of *n words; vl_prov_argv_free frees it. */
char **vl_prov_env_words(const struct vl_prov_env *env, size_t *n);

/* The remote argv (words kept by vl_ssh_run's quoting) that runs provisioner
 * number index with the environment; its content comes on stdin. On exit 0
 * it appends "INDEX HASH UUID" to ~/VL_PROV_RECORDS, replacing that index's
 * old record, so success is recorded only after it. Scripts run as the lab
 * user in its home, stdin from /dev/null; files are installed with sudo. */
char **vl_prov_command(const struct vl_prov *p, unsigned index, const char *hash,
		       const char *domain_uuid, const struct vl_prov_env *env, size_t *argc);
void vl_prov_argv_free(char **argv);

#endif
