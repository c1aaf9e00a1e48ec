/* The libvirt adapter's interface: the only way the rest of vmlab reaches
 * libvirt. Thin: connect, host facts, networks, storage, domains, snapshots. */
#ifndef VL_VIRT_H
#define VL_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "subnet.h"
#include "util/err.h"

/*
 * Threads: a struct vl_virt may be shared by any number of threads at once.
 * It holds one libvirt connection (libvirt connections are thread-safe) and
 * nothing mutable; every failing call reads libvirt's thread-local last error
 * right away. Only vl_virt_close() must not race with other calls.
 *
 * Errors: every function returns 0 on success or -1 with err filled, the
 * message one line naming the object ("network vmlab-x: ..."). A missing
 * object is VL_E_NOTFOUND, a lost connection VL_E_CONNECT, the rest
 * VL_E_FAIL (VL_E_IO for local files, VL_E_TIMEOUT for waits). Functions
 * documented as idempotent treat "already gone" as success.
 *
 * Memory: strings and arrays handed out are malloc'd and owned by the caller;
 * the *_free helpers take NULL.
 */
struct vl_virt;

/* Connect to uri (NULL: libvirt's default). Failure is VL_E_CONNECT. evs (may
 * be NULL) receives debug/progress events; it must outlive the handle. */
struct vl_virt *vl_virt_open(const char *uri, struct vl_err *err);
/* Whether the libvirt host is this machine (a URI without a server part, or
 * localhost): only then may facts about the host be read from local files. */
bool vl_virt_uri_is_local(const char *uri);
void vl_virt_close(struct vl_virt *v);

/* ---- host ---- */

struct vl_virt_host {
	char uri[256];         /* canonical URI of the connection */
	char driver[32];       /* "QEMU", "TEST", ... */
	char libvirt[32];      /* version of the libvirt library, "9.0.0" */
	char daemon[32];       /* version of the daemon's libvirt ("" if unknown) */
	char hypervisor[32];   /* version of the hypervisor, e.g. QEMU "7.2.0" ("" if unknown) */
};
int vl_virt_host_info(struct vl_virt *v, struct vl_virt_host *out, struct vl_err *err);

/* Whether libvirt's capabilities list <domain type='kvm'> for an hvm guest.
 * This is what libvirt says, not a proof KVM works (see docs/host-notes.md: KVM may be
 * listed and still hang); the engine lets the config force tcg. */
int vl_virt_kvm_usable(struct vl_virt *v, bool *out, struct vl_err *err);

/* ---- networks ---- */

struct vl_virt_net {
	char *name;
	char *bridge;        /* NULL if the XML has none */
	bool has_subnet;     /* false: no IPv4 <ip> element */
	struct vl_subnet subnet;  /* first IPv4 <ip>: network address and prefix */
	bool active;
	char *metadata;      /* vl_virt_network_list_meta only: the <metadata> child in its
			      * namespace as XML; NULL: none */
};

int vl_virt_network_exists(struct vl_virt *v, const char *name, bool *out, struct vl_err *err);
/* Define (persistent, or update the definition if the name exists) and start
 * if not active. No autostart. A redefinition keeps the existing <uuid> when
 * xml has none; an active network keeps running on its old definition until
 * restarted. If the network was new and starting fails, the definition is
 * removed again so nothing half-made is left. VL_E_EXISTS when the libvirt
 * host already routes the subnet (another interface there uses it). */
int vl_virt_network_define_start(struct vl_virt *v, const struct vl_events *evs,
			const char *xml, struct vl_err *err);
/* Define (or update the definition, keeping its <uuid>) without starting. */
int vl_virt_network_define(struct vl_virt *v, const char *xml, struct vl_err *err);
/* Stop if active, then undefine. Idempotent: a missing network is success. */
int vl_virt_network_destroy_undefine(struct vl_virt *v, const char *name, struct vl_err *err);
/* The network's XML definition (with vmlab's <metadata>); caller frees. */
int vl_virt_network_get_xml(struct vl_virt *v, const char *name, char **out, struct vl_err *err);
/* Networks whose name starts with prefix (NULL or "": all), sorted by name. */
int vl_virt_network_list(struct vl_virt *v, const char *prefix, struct vl_virt_net **out,
			 size_t *n, struct vl_err *err);
/* The same, each with its metadata element in namespace ns_uri (from the XML
 * the listing reads anyway: no extra call). */
int vl_virt_network_list_meta(struct vl_virt *v, const char *prefix, const char *ns_uri,
			      struct vl_virt_net **out, size_t *n, struct vl_err *err);
void vl_virt_net_list_free(struct vl_virt_net *list, size_t n);
/* Every IPv4 subnet of every libvirt network (any name, active or not). The
 * libvirt host's own routes are checked by libvirt when a network starts. */
int vl_virt_used_subnets(struct vl_virt *v, struct vl_subnet **out, size_t *n, struct vl_err *err);

struct vl_virt_lease {
	char mac[18];        /* "52:54:00:12:34:56" */
	char ip[16];         /* IPv4 dotted quad */
	char *hostname;      /* NULL if the guest sent none */
	long long expiry;    /* seconds since the epoch */
};
/* IPv4 DHCP leases of network; mac (NULL: all) filters. */
int vl_virt_network_leases(struct vl_virt *v, const char *network, const char *mac,
			   struct vl_virt_lease **out, size_t *n, struct vl_err *err);
void vl_virt_lease_list_free(struct vl_virt_lease *list, size_t n);

/* ---- storage ---- */

/* Make sure a `dir` pool name with target dir exists, is built (directory
 * made), active and autostarted, then refresh it. An existing pool with
 * another target path is used as is, with a warning event. */
int vl_virt_pool_ensure(struct vl_virt *v, const struct vl_events *evs,
			const char *name, const char *dir, struct vl_err *err);
/* Stop and undefine a pool; its directory and files stay. Idempotent. */
int vl_virt_pool_remove(struct vl_virt *v, const char *name, struct vl_err *err);
int vl_virt_pool_exists(struct vl_virt *v, const char *name, bool *out, struct vl_err *err);
/* Bytes free in a pool after a refresh (files written by others count:
 * vl_virt_pool_space gives libvirt's last figure) and its target
 * directory (*dir, caller frees; NULL if the pool has none). */
int vl_virt_pool_room(struct vl_virt *v, const char *name, uint64_t *avail, char **dir,
		       struct vl_err *err);
/* Rescan the pool directory: files put there by other means become volumes. */
int vl_virt_pool_refresh(struct vl_virt *v, const struct vl_events *evs,
			const char *name, struct vl_err *err);

int vl_virt_volume_exists(struct vl_virt *v, const char *pool, const char *name, bool *out,
			  struct vl_err *err);
/* Create a volume from volume XML (e.g. a qcow2 overlay whose <backingStore>
 * <path> may lie outside the pool). *path_out (if not NULL) gets its path. */
int vl_virt_volume_create_xml(struct vl_virt *v, const char *pool, const char *xml,
			      char **path_out, struct vl_err *err);
/* Create a volume from volume XML holding the data of volume src of the same
 * pool (virStorageVolCreateXMLFrom): for a qcow2 target the copy reads
 * through src's backing chain, so it stands alone (a flat image). */
int vl_virt_volume_clone(struct vl_virt *v, const char *pool, const char *xml, const char *src,
			 struct vl_err *err);
/* Idempotent: a missing volume (or pool) is success. */
int vl_virt_volume_delete(struct vl_virt *v, const char *pool, const char *name, struct vl_err *err);
/* Create raw volume name of the local file's size and stream the file into it
 * (virStorageVolUpload), emitting progress events. An existing volume of that
 * name is replaced. name must be [A-Za-z0-9._-]. */
int vl_virt_volume_upload(struct vl_virt *v, const struct vl_events *evs,
			const char *pool, const char *name,
			  const char *local_path, struct vl_err *err);
/* Stream length bytes of a volume from offset (length 0: to the end) into
 * sink; a sink returning -1 (with err set) stops the download. */
typedef int (*vl_virt_sink_fn)(void *ud, const char *buf, size_t n, struct vl_err *err);
int vl_virt_volume_download(struct vl_virt *v, const struct vl_events *evs,
			const char *pool, const char *name,
			    uint64_t offset, uint64_t length, vl_virt_sink_fn sink, void *ud,
			    struct vl_err *err);
/* Bytes the volume's file takes as a file (its size, not its allocation). */
int vl_virt_volume_physical(struct vl_virt *v, const char *pool, const char *name,
			    uint64_t *physical, struct vl_err *err);
int vl_virt_volume_path(struct vl_virt *v, const char *pool, const char *name, char **out,
			struct vl_err *err);
/* The backing file of a volume (a qcow2 overlay's base image), or *out NULL
 * when it has none. */
int vl_virt_volume_backing(struct vl_virt *v, const char *pool, const char *name, char **out,
			   struct vl_err *err);
/* Volume names starting with prefix (NULL or "": all), sorted. */
int vl_virt_volume_list(struct vl_virt *v, const char *pool, const char *prefix, char ***out,
			size_t *n, struct vl_err *err);
void vl_virt_name_list_free(char **list, size_t n);
/* Capacity (virtual size) and allocation (bytes used on disk). */
int vl_virt_volume_capacity(struct vl_virt *v, const char *pool, const char *name,
			    uint64_t *capacity, uint64_t *allocation, struct vl_err *err);

/* ---- domains ---- */

enum vl_dom_state {
	VL_DOM_MISSING,      /* no such domain */
	VL_DOM_RUNNING,
	VL_DOM_PAUSED,
	VL_DOM_SHUTOFF,
	VL_DOM_CRASHED,
	VL_DOM_OTHER,        /* blocked, shutting down, pm-suspended, unknown */
};
const char *vl_dom_state_name(enum vl_dom_state s);

#define VL_UUID_STRLEN 37

/* Define (or redefine) a persistent domain. libvirt rejects a redefinition
 * without the old <uuid> (docs/host-notes.md), so when xml has none the existing one
 * is put in. A running domain gets the new definition at its next start.
 * uuid (if not NULL) gets its UUID string. */
int vl_virt_domain_define(struct vl_virt *v, const char *xml, char uuid[VL_UUID_STRLEN],
			  struct vl_err *err);
/* Start; already running is success. paused: start with its CPUs stopped
 * (to attach the console before the first byte; resume then). */
int vl_virt_domain_start(struct vl_virt *v, const char *name, bool paused, struct vl_err *err);
/* A missing domain is not an error: *out = VL_DOM_MISSING. */
int vl_virt_domain_state(struct vl_virt *v, const char *name, enum vl_dom_state *out,
			 struct vl_err *err);
/* Ask the guest to power off (ACPI) and return at once; not running is
 * success. Use vl_virt_domain_wait_state() and fall back to destroy. */
int vl_virt_domain_shutdown(struct vl_virt *v, const char *name, struct vl_err *err);
/* Force off. Idempotent: missing or not running is success. */
int vl_virt_domain_destroy(struct vl_virt *v, const char *name, struct vl_err *err);
/* Remove the definition with its snapshot and checkpoint metadata, managed
 * save and NVRAM (retrying with fewer flags where libvirt lacks one). A
 * running domain becomes transient: destroy it first. Idempotent. */
int vl_virt_domain_undefine(struct vl_virt *v, const char *name, struct vl_err *err);
int vl_virt_domain_suspend(struct vl_virt *v, const char *name, struct vl_err *err);
int vl_virt_domain_resume(struct vl_virt *v, const char *name, struct vl_err *err);

struct vl_virt_dom {
	char *name;
	char uuid[VL_UUID_STRLEN];
	enum vl_dom_state state;
};
/* Domains (active and inactive) whose name starts with prefix, sorted. */
int vl_virt_domain_list(struct vl_virt *v, const char *prefix, struct vl_virt_dom **out,
			size_t *n, struct vl_err *err);
void vl_virt_dom_list_free(struct vl_virt_dom *list, size_t n);

/* A domain as a listing of labs sees it. */
struct vl_virt_dom_meta {
	char *name;
	enum vl_dom_state state;
	unsigned vcpus;           /* 0 if the driver did not say */
	uint64_t max_memory_kib;  /* 0 if the driver did not say */
	char *metadata;           /* the <metadata> child in ns_uri as XML (libvirt hands it
				   * out without its namespace); NULL: none */
	char *metadata2;          /* the same in ns2_uri (NULL asked: not asked) */
	int id;                   /* the running process's domain id; -1 shut off */
};
/* Domains (active and inactive) whose name starts with prefix, sorted, each
 * with its state, vCPUs, memory and metadata element in ns_uri. One bulk
 * stats call for all domains (it never waits for a domain's job), then one
 * metadata call per domain that matches prefix; drivers whose bulk stats lack
 * vCPUs or memory (the test driver) cost one more call per such domain. */
int vl_virt_domain_list_meta(struct vl_virt *v, const char *prefix, const char *ns_uri,
			     const char *ns2_uri, struct vl_virt_dom_meta **out, size_t *n,
			     struct vl_err *err);
void vl_virt_dom_meta_list_free(struct vl_virt_dom_meta *list, size_t n);

/* The <metadata> child element in namespace ns_uri, as an XML string. No such
 * element is not an error: *out = NULL. */
int vl_virt_domain_get_metadata(struct vl_virt *v, const char *name, const char *ns_uri,
				char **out, struct vl_err *err);
/* Domain XML; inactive: the persistent definition rather than the live one. */
/* Set (xml: one element) or remove (xml NULL) the element in ns_uri, in
 * the running domain and its persistent definition alike. */
int vl_virt_domain_set_metadata(struct vl_virt *v, const char *name, const char *ns_uri,
				const char *key, const char *xml, struct vl_err *err);
/* The domain's id (-1 shut off) and, when it runs, its disks' write
 * requests so far (block.N.wr.reqs summed; *has_wr false if not reported). */
int vl_virt_domain_writes(struct vl_virt *v, const char *name, int *id, bool *has_wr,
			  uint64_t *wr_reqs, struct vl_err *err);
int vl_virt_domain_get_xml(struct vl_virt *v, const char *name, bool inactive, char **out,
			   struct vl_err *err);
int vl_virt_domain_get_uuid(struct vl_virt *v, const char *name, char uuid[VL_UUID_STRLEN],
			    struct vl_err *err);

struct vl_virt_dominfo {
	enum vl_dom_state state;
	unsigned vcpus;
	uint64_t memory_kib;      /* current */
	uint64_t max_memory_kib;
	uint64_t cpu_time_ns;
};
int vl_virt_domain_info(struct vl_virt *v, const char *name, struct vl_virt_dominfo *out,
			struct vl_err *err);
/* Poll (every 100 ms) until the domain is in state want; VL_E_TIMEOUT after
 * timeout_ms. Waiting for VL_DOM_MISSING waits for the domain to vanish. */
int vl_virt_domain_wait_state(struct vl_virt *v, const struct vl_events *evs,
			const char *name, enum vl_dom_state want,
			      unsigned timeout_ms, struct vl_err *err);
/* 0 if libvirt can take internal snapshots of the domain; otherwise -1 with
 * VL_E_FAIL and a message saying why (UEFI firmware/NVRAM, or a writable disk
 * that is not qcow2), so the engine refuses before touching anything. */
int vl_virt_domain_supports_internal_snapshot(struct vl_virt *v, const char *name,
					      struct vl_err *err);

/* One bulk sample of every running domain whose name starts with prefix
 * (NULL: all), in one call (virConnectGetAllDomainStats) that takes no
 * domain job: a domain busy in a long job (snapshot, migration) gives what
 * can be read without it rather than making us wait. Fields a driver does
 * not report stay 0 / false (the test driver gives only the state). */
struct vl_virt_domstats {
	char *name;
	enum vl_dom_state state;
	bool has_cpu;
	uint64_t cpu_time_ns;          /* all vCPUs and emulator threads, since start */
	unsigned vcpus;                /* 0: not reported */
	uint64_t mem_current_kib;      /* balloon size: what the guest has now */
	uint64_t mem_max_kib;
	uint64_t mem_rss_kib;          /* what the host process holds */
	uint64_t mem_available_kib;    /* the guest's own view (balloon driver) */
	uint64_t mem_unused_kib;
	int id;                        /* domain id; -1 shut off */
	bool has_wr;
	uint64_t wr_reqs;              /* block.N.wr.reqs summed over its disks */
};
int vl_virt_domain_stats_all(struct vl_virt *v, const char *prefix,
			     struct vl_virt_domstats **out, size_t *n, struct vl_err *err);
void vl_virt_domstats_free(struct vl_virt_domstats *list, size_t n);

/* ---- snapshots (internal: state stored in the qcow2 images) ---- */

enum {
	VL_SNAP_CREATE_ATOMIC = 1 << 0,   /* all disks or nothing */
};
enum {
	VL_SNAP_REVERT_RUNNING = 1 << 0,  /* run after revert, whatever the snapshot's state */
	VL_SNAP_REVERT_PAUSED = 1 << 1,   /* leave paused after revert */
};

/* xml is <domainsnapshot> (name, description). With no flags libvirt takes
 * memory + disks of a running domain and disks only of a shut-off one. */
int vl_virt_snapshot_create(struct vl_virt *v, const char *domain, const char *xml,
			    unsigned flags, struct vl_err *err);

struct vl_virt_snap {
	char *name;
	char *parent;            /* NULL for a root */
	char *description;       /* NULL if none */
	long long created;       /* creationTime, seconds since the epoch */
	enum vl_dom_state state; /* domain state captured: RUNNING/PAUSED mean memory was saved */
	bool current;
};
/* Snapshots of domain, oldest first (then by name). */
int vl_virt_snapshot_list(struct vl_virt *v, const char *domain, struct vl_virt_snap **out,
			  size_t *n, struct vl_err *err);
void vl_virt_snap_list_free(struct vl_virt_snap *list, size_t n);
int vl_virt_snapshot_exists(struct vl_virt *v, const char *domain, const char *name, bool *out,
			    struct vl_err *err);
int vl_virt_snapshot_revert(struct vl_virt *v, const char *domain, const char *name,
			    unsigned flags, struct vl_err *err);
/* Idempotent: a missing snapshot (or domain) is success. */
int vl_virt_snapshot_delete(struct vl_virt *v, const char *domain, const char *name,
			    struct vl_err *err);

/* ---- events (for the TUI) ---- */

/* Register libvirt's default event implementation and run its loop in a
 * thread of its own. Process-wide and idempotent; vl_init() (lab.h) calls it
 * before any connection opens, because a remote connection binds to the
 * loop when it opens: one opened earlier delivers no events and answers no
 * keepalive. While registered, the loop must run: the daemon pings a
 * connection that says it has a loop, and closes it after about 30 s
 * without answers. */
int vl_virt_events_init(struct vl_err *err);
/* Stop and join the loop thread; after the watching connections are closed. */
void vl_virt_events_shutdown(void);

/* Called from the event thread, so it must be thread-safe (the TUI writes to
 * its self-pipe) and make no libvirt call. state is what the domain became:
 * RUNNING (started, resumed), PAUSED, SHUTOFF (stopped, or newly defined),
 * CRASHED, MISSING (undefined), OTHER (pm-suspended). */
typedef void (*vl_virt_dom_cb)(void *ud, const char *domain, enum vl_dom_state state);
/* Watch lifecycle changes of domains whose name starts with prefix (NULL:
 * all). *id is for vl_virt_unwatch(). ud_free (may be NULL) is called on ud
 * once libvirt can no longer call cb: after the unwatch or the close, when
 * a dispatch in flight has ended (and at once when registering fails). */
int vl_virt_watch_domains(struct vl_virt *v, const char *prefix, vl_virt_dom_cb cb, void *ud,
			  void (*ud_free)(void *ud), int *id, struct vl_err *err);
int vl_virt_unwatch(struct vl_virt *v, int id, struct vl_err *err);

enum vl_virt_net_event {
	VL_NET_EV_DEFINED,
	VL_NET_EV_UNDEFINED,
	VL_NET_EV_STARTED,
	VL_NET_EV_STOPPED,
};
/* The same for networks' lifecycle (defined, undefined, started, stopped). */
typedef void (*vl_virt_net_cb)(void *ud, const char *network, enum vl_virt_net_event ev);
int vl_virt_watch_networks(struct vl_virt *v, const char *prefix, vl_virt_net_cb cb, void *ud,
			   void (*ud_free)(void *ud), int *id, struct vl_err *err);
int vl_virt_unwatch_networks(struct vl_virt *v, int id, struct vl_err *err);

/* ---- the connection's health (for a watch that outlives a daemon restart) ---- */

enum vl_virt_close_reason {
	VL_CLOSE_ERROR,      /* socket error */
	VL_CLOSE_EOF,        /* the daemon went away */
	VL_CLOSE_KEEPALIVE,  /* the daemon stopped answering keepalives */
	VL_CLOSE_CLIENT,     /* we closed it */
};
const char *vl_virt_close_reason_name(enum vl_virt_close_reason r);
/* Called (from the event thread, no libvirt calls) when the connection
 * closes for a reason other than vl_virt_close(). One per handle;
 * vl_virt_close() removes it, then ud_free(ud) runs. A local driver that
 * cannot lose its connection accepts it and never calls it. */
typedef void (*vl_virt_close_cb)(void *ud, enum vl_virt_close_reason why);
int vl_virt_on_close(struct vl_virt *v, vl_virt_close_cb cb, void *ud, void (*ud_free)(void *ud),
		     struct vl_err *err);
/* Ping the daemon every interval_s seconds and close the connection (close
 * callback: KEEPALIVE) after count pings without an answer. Needs the event
 * loop running (vl_virt_events_init). *active is false when the connection
 * has no keepalive (a local driver, or a daemon without it): not an error. */
int vl_virt_keepalive(struct vl_virt *v, int interval_s, unsigned count, bool *active,
		      struct vl_err *err);
/* Whether the connection still works (false once the daemon is gone). */
bool vl_virt_alive(struct vl_virt *v);

/* ---- serial console ----
 *
 * A running domain's serial console through libvirt's console stream, for a
 * remote host as well as a local one. What the guest prints is kept (the
 * last 64 KiB, for a tail) and, with with_fd, also copied to a pipe whose
 * read end the caller polls (EOF when the console ends); a reader that
 * falls behind loses output rather than stalling libvirt's event loop,
 * which must be running (vl_init). force takes the console over from
 * another client (virsh console); without it a console in use is an error.
 * Thread-safe; close from any thread. */
struct vl_virt_console;

int vl_virt_console_open(struct vl_virt *v, const char *domain, bool force, bool with_fd,
			 struct vl_virt_console **out, struct vl_err *err);
int vl_virt_console_fd(const struct vl_virt_console *c);
/* A copy of what was kept (NUL-terminated; *len bytes); caller frees. */
char *vl_virt_console_tail(struct vl_virt_console *c, size_t *len);
bool vl_virt_console_ended(struct vl_virt_console *c);
/* Type into the console (waits while libvirt's buffer is full). */
int vl_virt_console_send(struct vl_virt_console *c, const char *buf, size_t len,
			 struct vl_err *err);
void vl_virt_console_close(struct vl_virt_console *c);

/* ---- capacity (virt_node.c): what class placement weighs ---- */

struct vl_virt_node {
	uint64_t memory;       /* bytes of RAM */
	unsigned cpus;
};
int vl_virt_node_info(struct vl_virt *v, struct vl_virt_node *out, struct vl_err *err);
/* Bytes of RAM free on the host now (the TUI's header). */
int vl_virt_node_free_memory(struct vl_virt *v, uint64_t *out, struct vl_err *err);

/* Every defined domain (running or not) with what it commits. */
struct vl_virt_dom_use {
	char *name;
	uint64_t memory;       /* bytes (maximum memory) */
	unsigned vcpus;
};
int vl_virt_domain_usage(struct vl_virt *v, struct vl_virt_dom_use **out, size_t *n,
			 struct vl_err *err);
void vl_virt_dom_use_free(struct vl_virt_dom_use *list, size_t n);
/* Free bytes in a pool's storage; *exists false (and 0) without the pool. */
int vl_virt_pool_space(struct vl_virt *v, const char *pool, bool *exists, uint64_t *available,
		       struct vl_err *err);

/* ---- network filters (virt_nwfilter.c) ---- */

/* Define (or redefine) a filter from its XML. */
int vl_virt_nwfilter_define(struct vl_virt *v, const char *xml, struct vl_err *err);
/* Undefine; a missing filter is fine. */
int vl_virt_nwfilter_undefine(struct vl_virt *v, const char *name, struct vl_err *err);

#endif
