/* vmlab sync (docs/sync.md): each `sync = SRC:DST` of a VM pushed over its
 * pinned session. The host tree is scanned and diffed (sync.c) against the
 * manifest the guest keeps in DST; deletes go as one remote command, changed
 * files as one of cp's tar streams, then the new manifest. up runs it after
 * readiness, before the provisioners; --watch again after each batch of
 * inotify events on the host trees. */
#include "lab_priv.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/str.h"

#define SCAN_DEPTH_MAX 256
#define WATCH_QUIET_MS 200      /* a batch ends after this long without events */
#define WATCH_BATCH_MAX_MS 2000 /* ... or this long after its first one */
#define WATCH_RETRY_MS 2000     /* a failed push is tried again after this */

/* mkdir -p DST, then its manifest ("" where nothing was synced yet). */
static const char read_sh[] =
	"command -v tar >/dev/null 2>&1 || { echo 'the guest has no tar' >&2; exit 1; }\n"
	"mkdir -p -- \"$1\" || exit 1\n"
	"cat -- \"$1/" VL_SYNC_MANIFEST "\" 2>/dev/null || :\n";
/* One path relative to DST a line on stdin, removed with what is under it. */
static const char del_sh[] =
	"cd -- \"$1\" || exit 1\n"
	"while IFS= read -r p; do rm -rf -- \"./$p\" || exit 1; done\n";
/* The new manifest on stdin, renamed into place once whole. */
static const char manifest_sh[] =
	"cat > \"$1/" VL_SYNC_MANIFEST ".tmp\" &&\n"
	"mv -f -- \"$1/" VL_SYNC_MANIFEST ".tmp\" \"$1/" VL_SYNC_MANIFEST "\"\n";

/* ---- the host side ------------------------------------------------------- */

static int scan_dir(const char *root, const char *rel, int depth, struct vl_sync_manifest *m,
		    struct vl_err *err)
{
	VL_AUTOFREE char *dir = NULL;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (asprintf(&dir, "%s%s%s", root, *rel ? "/" : "", rel) < 0)
		abort();
	if (depth > SCAN_DEPTH_MAX)
		return vl_err_set(err, VL_E_IO, "sync: %s: nested too deep", dir);
	d = opendir(dir);
	if (!d)
		return vl_err_sys(err, VL_E_IO, errno, "sync: %s", dir);
	while (rc == 0 && (e = readdir(d))) {
		VL_AUTOFREE char *path = NULL, *full = NULL;
		struct stat st;
		char type;
		if (vl_streq(e->d_name, ".") || vl_streq(e->d_name, ".."))
			continue;
		if (!*rel && vl_streq(e->d_name, VL_SYNC_MANIFEST))
			continue;
		if (strchr(e->d_name, '\n')) {
			rc = vl_err_set(err, VL_E_IO, "sync: %s: a name with a newline cannot be "
					"synced", dir);
			break;
		}
		if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0 ||
		    asprintf(&full, "%s/%s", root, path) < 0)
			abort();
		if (lstat(full, &st) < 0) {
			if (errno == ENOENT)
				continue;     /* gone meanwhile */
			rc = vl_err_sys(err, VL_E_IO, errno, "sync: %s", full);
			break;
		}
		if (S_ISREG(st.st_mode))
			type = 'f';
		else if (S_ISDIR(st.st_mode))
			type = 'd';
		else if (S_ISLNK(st.st_mode))
			type = 'l';
		else
			continue;   /* sockets, fifos, devices stay on the host */
		vl_sync_manifest_add(m, path, type, st.st_mode, type == 'd' ? 0 : (uint64_t)st.st_size,
				     st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		if (type == 'd')
			rc = scan_dir(root, path, depth + 1, m, err);
	}
	closedir(d);
	return rc;
}

/* What the host has under src now, sorted. */
static int scan(const char *src, struct vl_sync_manifest *m, struct vl_err *err)
{
	*m = (struct vl_sync_manifest)VL_SYNC_MANIFEST_INIT;
	if (scan_dir(src, "", 0, m, err) < 0) {
		vl_sync_manifest_release(m);
		return -1;
	}
	vl_sync_manifest_sort(m);
	return 0;
}

/* text in an unnamed memory file, at offset 0: a remote command's stdin of
 * any size without a writer thread. */
static int memfd_of(const char *text, size_t len, struct vl_err *err)
{
	int fd = memfd_create("vmlab-sync", MFD_CLOEXEC);

	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "sync: memfd");
	if (vl_fd_write_all(fd, text, len) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		vl_err_sys(err, VL_E_IO, errno, "sync: memfd");
		close(fd);
		return -1;
	}
	return fd;
}

/* sh -c SCRIPT sh DST with stdin from text (NULL: none); stdout into out
 * (may be NULL). A failure is one line: the guest's first stderr line. */
static int remote(struct lab *lab, struct vl_ssh *s, const struct vl_plan_vm *vm,
		  const char *script, const char *dst, const char *text, struct vl_buf *out,
		  const char *what, struct vl_err *err)
{
	const char *argv[] = { "sh", "-c", script, "sh", dst };
	struct vl_buf errs = VL_BUF_INIT;
	const struct lab_out o = { .log_fd = -1, .out = out, .err = &errs };
	int fd = -1, status = 0, rc = -1;

	if (text && (fd = memfd_of(text, strlen(text), err)) < 0)
		return -1;
	if (lab_run(lab, s, vm, argv, VL_ARRAY_SIZE(argv), fd, &o, &status, err) < 0)
		goto out;
	if (status != 0) {
		char *nl = strchr(vl_buf_str(&errs), '\n');
		if (nl)
			*nl = '\0';
		vl_err_set(err, VL_E_FAIL, "%s: sync to %s: %s failed: %s", vm->name, dst, what,
			   errs.len ? errs.s : "no reason given");
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	vl_buf_release(&errs);
	return rc;
}

/* ---- one entry ----------------------------------------------------------- */

/* What a VM's sync entry is known to have in the guest: its manifest, kept
 * by --watch between pushes so that only the first reads it back. */
struct sync_state {
	struct vl_sync_manifest guest;
	char *text;          /* guest's manifest as written; NULL: not known */
};

static void sync_state_release(struct sync_state *st)
{
	vl_sync_manifest_release(&st->guest);
	free(st->text);
	st->text = NULL;
}

static int push(struct lab *lab, struct vl_ssh *s, const struct vl_plan_vm *vm,
		const struct vl_sync_spec *sp, struct sync_state *st, struct vl_err *err)
{
	const struct vl_events *evs = &lab->ctx->events;
	struct vl_sync_manifest host = VL_SYNC_MANIFEST_INIT;
	struct vl_sync_diff d = { 0 };
	struct vl_ssh_put_item *items = NULL;
	char **locals = NULL;
	VL_AUTOFREE char *text = NULL;
	struct vl_buf b = VL_BUF_INIT;
	int rc = -1;

	if (!st->text) {
		struct vl_buf got = VL_BUF_INIT;
		struct vl_err perr = VL_ERR_INIT;
		if (remote(lab, s, vm, read_sh, sp->dst, NULL, &got, "reading its manifest", err) < 0) {
			vl_buf_release(&got);
			return -1;
		}
		if (vl_sync_manifest_parse(vl_buf_str(&got), got.len, &st->guest, &perr) < 0)
			vl_event_warn(evs, vm->name, "%s/%s: %s; sending everything", sp->dst,
				      VL_SYNC_MANIFEST, perr.msg);
		st->text = vl_buf_steal(&got);
	}
	if (scan(sp->src, &host, err) < 0)
		goto out;
	vl_sync_diff(&st->guest, &host, &d);
	text = vl_sync_manifest_format(&host);
	if (d.n_del) {
		for (size_t i = 0; i < d.n_del; i++)
			vl_buf_printf(&b, "%s\n", d.del[i]);
		if (remote(lab, s, vm, del_sh, sp->dst, b.s, NULL, "removing", err) < 0)
			goto out;
	}
	if (d.n_copy) {
		struct vl_ssh_xfer x = { .subject = vm->name };
		items = vl_calloc(d.n_copy, sizeof(*items));
		locals = vl_calloc(d.n_copy, sizeof(*locals));
		for (size_t i = 0; i < d.n_copy; i++) {
			if (asprintf(&locals[i], "%s/%s", sp->src, d.copy[i]) < 0)
				abort();
			items[i] = (struct vl_ssh_put_item){ locals[i], d.copy[i] };
		}
		if (vl_ssh_put_tar(s, &x, sp->dst, items, d.n_copy, err) < 0) {
			vl_err_prefix(err, "%s: sync to %s", vm->name, sp->dst);
			goto out;
		}
	}
	/* the manifest last: a push cut short is diffed again from the old one */
	if (!vl_streq(text, st->text)) {
		if (remote(lab, s, vm, manifest_sh, sp->dst, text, NULL, "writing its manifest",
			   err) < 0)
			goto out;
		st->text = vl_steal(&text);
	}
	vl_sync_manifest_release(&st->guest);
	st->guest = host;
	host = (struct vl_sync_manifest)VL_SYNC_MANIFEST_INIT;
	if (d.n_copy || d.n_del)
		vl_event_info(evs, vm->name, "synced %.*s to %s: %zu sent, %zu removed",
			      (int)strcspn(sp->spec, ":"), sp->spec, sp->dst, d.n_copy, d.n_del);
	else
		vl_event_debug(evs, vm->name, "%s: up to date", sp->dst);
	rc = 0;
out:
	if (rc < 0)   /* read the guest's state again next time (GUEST_DIR may be gone) */
		sync_state_release(st);
	for (size_t i = 0; locals && i < d.n_copy; i++)
		free(locals[i]);
	free(locals);
	free(items);
	vl_buf_release(&b);
	vl_sync_diff_release(&d);
	vl_sync_manifest_release(&host);
	return rc;
}

static const struct vl_vm_spec *spec_of(const struct lab *lab, const struct vl_plan_vm *vm)
{
	const struct vl_profile *p = &lab->ctx->profile;

	for (size_t i = 0; i < p->n_vms; i++)
		if (vl_streq(p->vms[i].name, vm->spec_name))
			return &p->vms[i];
	return NULL;
}

static size_t n_sync_of(const struct lab *lab, const struct vl_plan_vm *vm)
{
	const struct vl_vm_spec *sp = spec_of(lab, vm);

	return sp ? sp->n_sync : 0;
}

int lab_sync_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	const struct vl_vm_spec *spec = spec_of(lab, vm);
	VL_AUTOFREE char *host_pub = NULL;
	struct vl_ssh_target t;
	struct vl_ssh *s = NULL;
	int rc = 0;

	(void)ud;
	if (!spec || !spec->n_sync)
		return 0;
	lab_ssh_target(lab, vm, &t, &host_pub);
	t.retry_timeout = LAB_SSH_RETRY_S;
	if (vl_ssh_connect(&t, &s, err) < 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < spec->n_sync; i++) {
		struct sync_state st = { 0 };
		if (vl_cancelled(&lab->ctx->events))
			rc = vl_err_set(err, VL_E_CANCELLED, "cancelled");
		else
			rc = push(lab, s, vm, &spec->sync[i], &st, err);
		sync_state_release(&st);
	}
	vl_ssh_free(s);
	return rc;
}

/* ---- --watch ------------------------------------------------------------- */

struct watched {
	const struct vl_plan_vm *vm;
	const struct vl_vm_spec *spec;
	struct vl_ssh *s;            /* NULL: connect at the next push */
	struct sync_state *st;       /* spec->n_sync */
};

/* Watch every directory under path (again: inotify gives a known one its
 * old descriptor), so new directories are seen too. *full: the user's
 * watch limit was reached. */
static void watch_tree(int ifd, const char *path, int depth, bool *full)
{
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
			      IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;
	struct dirent *e;
	DIR *d;

	if (depth > SCAN_DEPTH_MAX)
		return;
	if (inotify_add_watch(ifd, path, mask) < 0) {
		*full |= errno == ENOSPC;
		return;
	}
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		VL_AUTOFREE char *sub = NULL;
		if (e->d_type != DT_DIR || vl_streq(e->d_name, ".") || vl_streq(e->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s/%s", path, e->d_name) < 0)
			abort();
		watch_tree(ifd, sub, depth + 1, full);
	}
	closedir(d);
}

/* Push every entry of every watched VM, the watches renewed first; a
 * failure is a warning and the session is dropped (the VM may be
 * rebooting): *failed asks for a retry. */
static void push_all(struct lab *lab, struct watched *w, size_t n, int ifd, bool *warned,
		     bool *failed)
{
	const struct vl_events *evs = &lab->ctx->events;
	bool full = false;

	*failed = false;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < w[i].spec->n_sync; k++)
			watch_tree(ifd, w[i].spec->sync[k].src, 0, &full);
	if (full && !*warned) {   /* once: the limit is the user's to raise */
		*warned = true;
		vl_event_warn(evs, NULL, "inotify's watch limit is reached (sysctl "
			      "fs.inotify.max_user_watches): changes in some directories are pushed "
			      "only with others");
	}
	for (size_t i = 0; i < n && !vl_cancelled(evs); i++) {
		struct vl_err e = VL_ERR_INIT;
		if (!w[i].s) {
			VL_AUTOFREE char *host_pub = NULL;
			struct vl_ssh_target t;
			lab_ssh_target(lab, w[i].vm, &t, &host_pub);
			if (vl_ssh_connect(&t, &w[i].s, &e) < 0) {
				vl_event_warn(evs, w[i].vm->name, "%s", e.msg);
				*failed = true;
				continue;
			}
		}
		for (size_t k = 0; k < w[i].spec->n_sync && !vl_cancelled(evs); k++) {
			if (push(lab, w[i].s, w[i].vm, &w[i].spec->sync[k], &w[i].st[k], &e) == 0)
				continue;
			vl_event_warn(evs, w[i].vm->name, "%s", e.msg);
			*failed = true;
			if (e.code == VL_E_SSH) {
				vl_ssh_free(w[i].s);
				w[i].s = NULL;
				break;
			}
			vl_err_clear(&e);
		}
	}
}

/* Until cancelled: every batch of changes (quiet for WATCH_QUIET_MS, or
 * WATCH_BATCH_MAX_MS after its first event) pushed to every VM. */
static int watch_loop(struct lab *lab, struct watched *w, size_t n, struct vl_err *err)
{
	const struct vl_events *evs = &lab->ctx->events;
	int64_t first = 0, last = 0, retry_at = 0;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd p = { .events = POLLIN };
	bool failed = false, warned = false;

	p.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (p.fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "sync --watch: inotify");
	/* the first push adds the watches before it scans: nothing changed
	 * goes unseen */
	push_all(lab, w, n, p.fd, &warned, &failed);
	retry_at = failed ? vl_now_mono_ms() + WATCH_RETRY_MS : 0;
	vl_event_info(evs, NULL, "watching %zu VM%s for changes (Ctrl-C stops)", n,
		      n == 1 ? "" : "s");
	while (!vl_cancelled(evs)) {
		int64_t now;
		if (poll(&p, 1, 100) > 0) {
			while (read(p.fd, buf, sizeof(buf)) > 0)
				;
			last = vl_now_mono_ms();
			if (!first)
				first = last;
		}
		now = vl_now_mono_ms();
		if ((first && (now - last >= WATCH_QUIET_MS || now - first >= WATCH_BATCH_MAX_MS)) ||
		    (retry_at && now >= retry_at)) {
			first = 0;
			push_all(lab, w, n, p.fd, &warned, &failed);
			retry_at = failed ? vl_now_mono_ms() + WATCH_RETRY_MS : 0;
		}
	}
	close(p.fd);
	return 0;
}

int vl_lab_sync(struct vl_ctx *ctx, const struct vl_sync_opts *o, struct vl_err *err)
{
	struct watched *w = NULL;
	struct lab lab;
	size_t n = 0;
	int rc = -1;

	if (lab_open(&lab, ctx, 0, &o->sel, err) < 0)
		return -1;
	w = vl_calloc(lab.plan.n_vms + 1, sizeof(*w));
	for (size_t i = 0; i < lab.plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &lab.plan.vms[i];
		enum vl_vm_state st;
		if (!lab.chosen[i] || !n_sync_of(&lab, vm))
			continue;
		st = lab_vm_state(&lab, vm, err);
		if (err->code != VL_OK)
			goto out;
		if (st != VL_VM_RUNNING) {
			vl_err_set(err, VL_E_FAIL, "%s is %s; 'vmlab up %s' starts it (and syncs)",
				   vm->name, vl_vm_state_name(st), vm->name);
			goto out;
		}
		w[n].vm = vm;
		w[n].spec = spec_of(&lab, vm);
		w[n].st = vl_calloc(w[n].spec->n_sync, sizeof(*w[n].st));
		n++;
	}
	if (!n) {
		vl_err_set(err, VL_E_FAIL, "nothing to sync: no chosen VM has a sync = "
			   "HOST_DIR:GUEST_DIR entry in %s", ctx->profile.path);
		goto out;
	}
	if (vl_keys_open(&lab.keys, lab.state_dir, err) < 0)
		goto out;
	if (o->watch)
		rc = watch_loop(&lab, w, n, err);
	else
		rc = lab_for_each_vm(&lab, ctx->config.parallel, lab_sync_vm, NULL, "sync", err);
out:
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < w[i].spec->n_sync; k++)
			sync_state_release(&w[i].st[k]);
		free(w[i].st);
		vl_ssh_free(w[i].s);
	}
	free(w);
	lab_close(&lab);
	return rc;
}
