/* vmlab.ini: the project's declarative lab description. Loading finds the
 * file (walking up like git), parses it with iniparser, recovers line numbers,
 * and validates every key, reporting all problems as FILE:LINE. */
#ifndef VL_PROFILE_H
#define VL_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "class_plan.h"
#include "config.h"
#include "forward.h"
#include "provision.h"
#include "sync.h"
#include "util/diag.h"
#include "util/err.h"

#define VL_NAME_MAX 40          /* lab and VM names: [a-z0-9-], at most this */
#define VL_PROFILE_FILE "vmlab.ini"
#define VL_PERSIST_DEFAULT 60
#define VL_PERSIST_MAX 86400

enum vl_net_mode { VL_NET_NAT, VL_NET_ISOLATED };

struct vl_vm_spec {
	char *name;          /* [vm NAME] */
	int line;            /* line of the section header */
	unsigned count;      /* 1..VL_COUNT_MAX; >1 expands to NAME-1..NAME-N */
	unsigned cpus;
	uint64_t memory;     /* bytes */
	uint64_t disk;       /* bytes */
	char *image;         /* catalog name, URL, or path (absolute after load) */
	int image_line;      /* line of its image key ([vm] or [defaults]), 0: default */
	char *ip;            /* fixed IPv4 or NULL; with count > 1, the first of a run */
	struct vl_prov *provision;  /* provision entries, in order (docs/provision.md) */
	size_t n_provision;
	char *user_data;     /* absolute path of extra cloud-config, or NULL */
	struct vl_fwd_spec *forwards;  /* forward = ..., started by up */
	size_t n_forwards;
	struct vl_sync_spec *sync;  /* sync entries, in order (docs/sync.md) */
	size_t n_sync;
};

/* [class]: one lab instance per seat (class_plan.h). line 0: no class. */
struct vl_class_spec {
	int line;            /* the [class] header */
	struct vl_seat_spec *seats;  /* from roster = FILE, or "1".."N" from seats = N */
	size_t n_seats;
	char *roster;        /* absolute path, or NULL */
	char *baseline;      /* the snapshot every reset returns to, default "baseline" */
	char *jump_user, *jump_host;  /* jump = USER@HOST[:PORT]; NULL: none */
	unsigned jump_port;  /* 22 unless given */
	char *jump_key;      /* jump_key = FILE: the jump host's host public key (absolute), or NULL */
	int jump_line;
	struct vl_class_jump jump_view;  /* jump and jump_key as a vl_class_jump (host NULL;
					    borrows the fields above) */
	/* jump.HOST = USER@ADDR[:PORT] and jump_key.HOST = FILE: the account of
	 * the seats on libvirt host HOST (docs/class.md) */
	struct vl_class_jump *host_jumps;
	size_t n_host_jumps;
};

struct vl_profile {
	char *path;          /* absolute path of vmlab.ini */
	char *dir;           /* absolute project directory (dirname of path) */
	/* The lab instance: NULL for the project's own lab, else a name such as
	 * "seat-3": one profile, several isolated labs (class seats), each with
	 * its own id, keys, lock, network and objects (see vl_plan_instance_id
	 * and vl_plan_state_dir). Set by the caller, never read from the file. */
	char *instance;
	char *name;          /* [lab] name, default: directory name sanitized */
	enum vl_net_mode network;
	bool subnet_auto;
	uint32_t subnet_addr;   /* host byte order, when !subnet_auto */
	unsigned subnet_prefix;
	char *user;          /* login user, default "vmlab" */
	unsigned persist;    /* held session's idle seconds, default 60; 0: none */
	struct vl_vm_spec *vms;
	size_t n_vms;
	struct vl_class_spec klass;
};

/* What a profile may reach beyond its project: a profile often comes from a
 * cloned repository or a handout, so by default every path it names must
 * resolve inside the project directory and every subnet be private. */
struct vl_profile_trust {
	bool allow_outside;              /* --allow-outside, or [profile] allow_outside */
	const struct vl_config *config;  /* its allow_subnets; NULL: RFC 1918 only */
};

/* Walk up from start_dir to find vmlab.ini; returns malloc'd absolute path. */
char *vl_profile_find(const char *start_dir, struct vl_err *err);
/* Load and validate. On problems every one is added to diags and the call
 * fails with VL_E_PROFILE ("N problems in FILE"). */
int vl_profile_load(struct vl_profile *p, const char *path, struct vl_diags *diags,
		    struct vl_err *err);
/* The same under trust (NULL: none, as vl_profile_load). */
int vl_profile_load_trusted(struct vl_profile *p, const char *path,
			    const struct vl_profile_trust *trust, struct vl_diags *diags,
			    struct vl_err *err);
void vl_profile_release(struct vl_profile *p);

/* "512M", "2G", "1.5G" etc. to bytes; see profile.c for the exact rules. */
int vl_parse_size(const char *s, uint64_t *out, struct vl_err *err);

#endif
