/* Copying files to and from a VM over the pinned session (vmlab cp): tar
 * streams over an exec channel for uploads and trees (libarchive on this side,
 * the guest's tar on the other), and the remote probe cp decides from. SFTP
 * transfers are in ssh_sftp.c. Every file lands through a temporary name and
 * a rename, on both sides. */
#include "ssh_priv.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "event.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/shquote.h"
#include "util/str.h"

#define READ_CHUNK 65536
#define WRITE_CHUNK 32768
#define DONE_MARK ".vmlab-cp-done"

/* Progress (ssh_priv.h) ----------------------------------------------------- */

void sshx_meter_init(struct sshx_meter *m, struct vl_ssh *s, const struct vl_ssh_xfer *x,
		     const char *what, uint64_t total)
{
	*m = (struct sshx_meter){ .evs = x->progress ? s->evs : NULL, .subject = x->subject,
				  .what = what, .total = total, .start_ms = vl_now_mono_ms() };
}

void sshx_meter_add(struct sshx_meter *m, uint64_t n, bool last)
{
	int64_t now = vl_now_mono_ms();
	double secs;

	m->done += n;
	if (!m->evs || (!last && now - m->last_ms < 100))
		return;
	m->last_ms = now;
	secs = (double)(now - m->start_ms) / 1000.0;
	vl_event_progress(m->evs, m->subject, m->what, m->done,
			  m->total > m->done ? m->total : m->done,
			  secs > 0 ? (double)m->done / secs : 0);
}

static int ssh_fail(struct vl_ssh *s, struct vl_err *err, const char *what)
{
	return vl_err_set(err, VL_E_SSH, "%s: %s: %s", s->where, what, ssh_get_error(s->sess));
}

/* Remote scripts ----------------------------------------------------------- */

/* ssh_channel_read without the session's timeout (the connect timeout),
 * whose passing would look like the end of the stream: a guest under TCG
 * may think for a while. 0 is EOF. */
static int chan_read(ssh_channel ch, void *buf, uint32_t len, int st)
{
	return ssh_channel_read_timeout(ch, buf, len, st, -1);
}

/* A remote script running: a channel of our session, or (vl_ssh_via) the
 * runner in a thread of its own with a pipe each way and stderr in an
 * unnamed file, read at the end (no third pipe to fill while we write). */
struct xchan {
	struct vl_ssh *s;
	ssh_channel ch;
	const char **argv;
	size_t argc;
	int in, out, errf;        /* via: our ends, -1 once closed */
	int r_in, r_out;          /* via: the runner's ends, closed when it returns */
	pthread_t th;
	int rc, status;
	struct vl_err rerr;
};

struct vl_ssh *vl_ssh_via(const struct vl_ssh_runner *r, const char *where,
			  const struct vl_events *evs)
{
	struct vl_ssh *s = vl_calloc(1, sizeof(*s));

	s->via = *r;
	s->evs = evs;
	vl_strlcpy(s->where, where, sizeof(s->where));
	return s;
}

bool vl_ssh_has_sftp(const struct vl_ssh *s)
{
	return s->sess != NULL;
}

static void *via_main(void *arg)
{
	struct xchan *c = arg;

	c->rc = c->s->via.run(c->s->via.ud, c->argv, c->argc, c->r_in, c->r_out, c->errf,
			      &c->status, &c->rerr);
	/* the runner's copies gone: our reads see EOF, our writes EPIPE */
	close(c->r_in);
	close(c->r_out);
	return NULL;
}

static void xchan_free(struct xchan *c)
{
	if (c->ch) {
		if (ssh_channel_is_open(c->ch))
			ssh_channel_close(c->ch);
		ssh_channel_free(c->ch);
	}
	if (!c->s->sess) {
		if (c->in >= 0)
			close(c->in);
		if (c->out >= 0)
			close(c->out);
		if (c->errf >= 0)
			close(c->errf);
	}
	free(c->argv);
	free(c);
}

static struct xchan *via_start(struct xchan *c, struct vl_err *err)
{
	int in[2], out[2];

	c->in = c->out = c->errf = -1;
	if (pipe2(in, O_CLOEXEC) < 0)
		goto sys;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		goto sys;
	}
	c->r_in = in[0];
	c->in = in[1];
	c->out = out[0];
	c->r_out = out[1];
	c->errf = memfd_create("vmlab-cp-stderr", MFD_CLOEXEC);
	if (c->errf < 0) {
		close(c->r_in);
		close(c->r_out);
		goto sys;
	}
	if (pthread_create(&c->th, NULL, via_main, c) != 0) {
		close(c->r_in);
		close(c->r_out);
		errno = EAGAIN;
		goto sys;
	}
	return c;
sys:
	vl_err_sys(err, VL_E_IO, errno, "%s: starting the remote side", c->s->where);
	xchan_free(c);
	return NULL;
}

/* `[sudo -n] sh -c SCRIPT sh ARG...` started on a new channel. */
static struct xchan *start_script(struct vl_ssh *s, const struct vl_ssh_xfer *x,
				  const char *script, const char *const *args, size_t n_args,
				  struct vl_err *err)
{
	struct xchan *c = vl_calloc(1, sizeof(*c));
	VL_AUTOFREE char *cmd = NULL;

	c->s = s;
	c->argv = vl_calloc(n_args + 6, sizeof(*c->argv));
	if (x->sudo) {
		c->argv[c->argc++] = "sudo";
		c->argv[c->argc++] = "-n";
	}
	c->argv[c->argc++] = "sh";
	c->argv[c->argc++] = "-c";
	c->argv[c->argc++] = script;
	c->argv[c->argc++] = "sh";
	for (size_t i = 0; i < n_args; i++)
		c->argv[c->argc++] = args[i];
	if (!s->sess)
		return via_start(c, err);
	cmd = vl_shell_quote_argv(c->argv, c->argc);
	c->ch = ssh_channel_new(s->sess);
	if (!c->ch) {
		ssh_fail(s, err, "new channel");
		xchan_free(c);
		return NULL;
	}
	if (ssh_channel_open_session(c->ch) != SSH_OK) {
		ssh_fail(s, err, "open channel");
		xchan_free(c);
		return NULL;
	}
	if (ssh_channel_request_exec(c->ch, cmd) != SSH_OK) {
		ssh_fail(s, err, "starting the remote side");
		xchan_free(c);
		return NULL;
	}
	return c;
}

/* Up to len bytes of the script's stdout: n, 0 at EOF, -1 on error. */
static int xchan_read(struct xchan *c, void *buf, uint32_t len)
{
	ssize_t n;

	if (c->ch)
		return chan_read(c->ch, buf, len, 0);
	do
		n = read(c->out, buf, len);
	while (n < 0 && errno == EINTR);
	return (int)n;
}

/* Some of len bytes to the script's stdin: how many, or -1. */
static int xchan_write(struct xchan *c, const void *buf, uint32_t len)
{
	ssize_t n;

	if (c->ch)
		return ssh_channel_write(c->ch, buf, len);
	do
		n = write(c->in, buf, len);
	while (n < 0 && errno == EINTR);
	return (int)n;
}

static void xchan_eof(struct xchan *c)
{
	if (c->ch) {
		ssh_channel_send_eof(c->ch);
	} else if (c->in >= 0) {
		close(c->in);
		c->in = -1;
	}
}

static const char *xchan_error(const struct xchan *c)
{
	return c->ch ? ssh_get_error(c->s->sess) : strerror(errno);
}

/* Read what is left of stdout (into out, may be NULL) and stderr, then the
 * exit status, and free c. A failure becomes one line: the remote's first
 * stderr line. */
static int end_script(struct vl_ssh *s, struct xchan *c, struct vl_buf *out, const char *what,
		      struct vl_err *err)
{
	struct vl_buf errs = VL_BUF_INIT;
	char buf[16384];
	int n, status, ret = 0;

	if (c->ch) {
		for (int st = 0; st < 2; st++) {
			while ((n = chan_read(c->ch, buf, sizeof(buf), st)) > 0) {
				if (st == 1)
					vl_buf_appendn(&errs, buf, (size_t)n);
				else if (out)
					vl_buf_appendn(out, buf, (size_t)n);
			}
			if (n == SSH_ERROR && !ssh_channel_is_eof(c->ch)) {
				ret = ssh_fail(s, err, what);
				goto out;
			}
		}
		status = ssh_channel_get_exit_status(c->ch);
	} else {
		xchan_eof(c);
		while ((n = xchan_read(c, buf, sizeof(buf))) > 0)
			if (out)
				vl_buf_appendn(out, buf, (size_t)n);
		close(c->out);
		c->out = -1;
		pthread_join(c->th, NULL);
		if (c->rc < 0) {
			*err = c->rerr;
			ret = vl_err_prefix(err, "%s: %s", s->where, what);
			goto out;
		}
		off_t off = 0;
		while ((n = (int)pread(c->errf, buf, sizeof(buf), off)) > 0) {
			vl_buf_appendn(&errs, buf, (size_t)n);
			off += n;
		}
		status = c->status;
	}
	if (status != 0) {
		vl_buf_append(&errs, "");
		char *nl = strchr(errs.s, '\n');
		if (nl)
			*nl = '\0';
		ret = vl_err_set(err, VL_E_FAIL, "%s: %s failed%s%s", s->where, what,
				 errs.len ? ": " : "", errs.len ? errs.s : "");
		if (!errs.s[0])
			vl_err_set(err, VL_E_FAIL, "%s: %s failed (status %d)", s->where, what, status);
	}
out:
	vl_buf_release(&errs);
	xchan_free(c);
	return ret;
}

static const char probe_sh[] =
	"F=$1; shift\n"
	"for p; do\n"
	"  if [ \"$F\" != 1 ] && [ -L \"$p\" ]; then echo l\n"
	"  elif [ -d \"$p\" ]; then echo d\n"
	"  elif [ -f \"$p\" ]; then echo \"f $(stat -L -c %s -- \"$p\" 2>/dev/null || wc -c < \"$p\")\"\n"
	"  elif [ -e \"$p\" ]; then echo o\n"
	"  else echo n; fi\n"
	"done\n"
	"if command -v tar >/dev/null 2>&1; then echo tar; else echo notar; fi\n";

int vl_ssh_probe(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *const *paths,
		 size_t n, char *kinds, unsigned long long *sizes, bool *has_tar,
		 struct vl_err *err)
{
	const char **args = vl_calloc(n + 1, sizeof(*args));
	struct vl_buf out = VL_BUF_INIT;
	struct xchan *ch;
	char *line, *save = NULL;
	size_t i = 0;
	int ret = -1;

	args[0] = x->follow ? "1" : "0";
	for (size_t k = 0; k < n; k++)
		args[k + 1] = paths[k];
	ch = start_script(s, x, probe_sh, args, n + 1, err);
	free(args);
	if (!ch)
		return -1;
	xchan_eof(ch);
	if (end_script(s, ch, &out, "looking at the paths", err) < 0)
		goto out;
	vl_buf_append(&out, "");
	for (line = strtok_r(out.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (i == n) {
			*has_tar = vl_streq(line, "tar");
			ret = 0;
			break;
		}
		kinds[i] = line[0];
		if (sizes)
			sizes[i] = line[0] == 'f' ? strtoull(line + 1, NULL, 10) : 0;
		i++;
	}
	if (ret < 0)
		vl_err_set(err, VL_E_SSH, "%s: looking at the paths: short answer", s->where);
out:
	vl_buf_release(&out);
	return ret;
}

/* Uploads: a tar stream ------------------------------------------------------ */

/* Extract into a temporary directory inside the target directory, check the
 * marker the stream ends with (a cut stream may look like a complete tar),
 * then rename every entry into place, merging into existing directories. On
 * any exit the temporary directory goes. umask 0: the archive's modes. */
static const char put_sh[] =
	"set -e\n"
	"D=$1\n"
	"T=$(mktemp -d \"$D/.vmlab-cp.XXXXXX\")\n"
	"trap 'rm -rf \"$T\"' EXIT\n"
	"trap 'exit 1' HUP INT TERM PIPE\n"
	"umask 0\n"
	"tar -x -o -f - -C \"$T\"\n"
	"[ -f \"$T/" DONE_MARK "\" ] || { echo 'the copy was cut short' >&2; exit 1; }\n"
	"rm -f \"$T/" DONE_MARK "\"\n"
	"put() {\n"
	"  if [ -d \"$T/$1\" ] && [ ! -L \"$T/$1\" ] && [ -d \"$D/$1\" ]; then\n"
	"    for e in \"$T/$1\"/* \"$T/$1\"/.[!.]* \"$T/$1\"/..?*; do\n"
	"      if [ -e \"$e\" ] || [ -L \"$e\" ]; then put \"$1/${e##*/}\"; fi\n"
	"    done\n"
	"  elif [ -d \"$D/$1\" ] && [ ! -L \"$D/$1\" ]; then\n"
	"    echo \"cannot overwrite directory $D/$1 with a non-directory\" >&2; exit 1\n"
	"  else\n"
	"    mv -f \"$T/$1\" \"$D/$1\"\n"
	"  fi\n"
	"}\n"
	"for e in \"$T\"/* \"$T\"/.[!.]* \"$T\"/..?*; do\n"
	"  if [ -e \"$e\" ] || [ -L \"$e\" ]; then put \"${e##*/}\"; fi\n"
	"done\n";

struct put_stream {
	struct vl_ssh *s;
	struct xchan *ch;
	struct sshx_meter m;
	bool failed;
};

static la_ssize_t put_write(struct archive *a, void *ud, const void *data, size_t len)
{
	struct put_stream *ps = ud;
	const char *p = data;
	size_t left = len;

	while (left > 0) {
		uint32_t n = left > WRITE_CHUNK ? WRITE_CHUNK : (uint32_t)left;
		int w = xchan_write(ps->ch, p, n);
		if (w < 0 || vl_cancelled(ps->s->evs)) {
			ps->failed = true;
			archive_set_error(a, EIO, "stream to the VM ended");
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	sshx_meter_add(&ps->m, len, false);
	return (la_ssize_t)len;
}

static int arc_fail(struct archive *a, struct vl_err *err, const char *what)
{
	const char *msg = archive_error_string(a);

	return vl_err_set(err, VL_E_IO, "%s: %s", what, msg ? msg : "archive error");
}

/* Bytes the regular files under path hold, for the progress total. */
static uint64_t tree_bytes(const char *path, bool follow, int depth)
{
	struct stat st;
	uint64_t sum = 0;
	DIR *d;
	struct dirent *e;

	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return 0;
	if (S_ISREG(st.st_mode))
		return (uint64_t)st.st_size;
	if (!S_ISDIR(st.st_mode) || depth > 64 || !(d = opendir(path)))
		return 0;
	while ((e = readdir(d))) {
		if (vl_streq(e->d_name, ".") || vl_streq(e->d_name, ".."))
			continue;
		VL_AUTOFREE char *sub = NULL;
		if (asprintf(&sub, "%s/%s", path, e->d_name) < 0)
			abort();
		sum += tree_bytes(sub, follow, depth + 1);
	}
	closedir(d);
	return sum;
}

/* One source into the stream, its top-level name replaced by item->name. */
static int put_item(struct archive *w, const struct vl_ssh_put_item *item, bool follow,
		    struct put_stream *ps, struct vl_err *err)
{
	struct archive *disk = archive_read_disk_new();
	size_t plen = strlen(item->local);
	char buf[65536];
	int ret = -1;

	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
					     ARCHIVE_READDISK_NO_FFLAGS |
					     ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (follow)
		archive_read_disk_set_symlink_logical(disk);
	else
		archive_read_disk_set_symlink_physical(disk);
	if (archive_read_disk_open(disk, item->local) != ARCHIVE_OK) {
		arc_fail(disk, err, item->local);
		goto out;
	}
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		int r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r < ARCHIVE_WARN) {
			arc_fail(disk, err, item->local);
			archive_entry_free(e);
			goto out;
		}
		archive_read_disk_descend(disk);
		const char *path = archive_entry_pathname(e);
		VL_AUTOFREE char *name = NULL;
		if (asprintf(&name, "%s%s", item->name,
			     strlen(path) >= plen ? path + plen : "") < 0)
			abort();
		archive_entry_set_pathname(e, name);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
		if (archive_write_header(w, e) != ARCHIVE_OK) {
			if (ps->failed)
				vl_err_set(err, VL_E_SSH, "%s: the stream to the VM ended", ps->s->where);
			else
				arc_fail(w, err, path);
			archive_entry_free(e);
			goto out;
		}
		if (archive_entry_filetype(e) == AE_IFREG) {
			la_ssize_t n;
			while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
				if (archive_write_data(w, buf, (size_t)n) != n)
					break;
			if (n != 0 || ps->failed) {
				if (ps->failed)
					vl_err_set(err, VL_E_SSH, "%s: the stream to the VM ended",
						   ps->s->where);
				else
					arc_fail(n < 0 ? disk : w, err, path);
				archive_entry_free(e);
				goto out;
			}
		}
		archive_entry_free(e);
	}
	ret = 0;
out:
	archive_read_free(disk);
	return ret;
}

/* The marker entry the remote side checks for: the stream was complete. */
static int put_mark(struct archive *w, struct vl_err *err)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_set_pathname(e, DONE_MARK);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, 0);
	archive_entry_set_mtime(e, time(NULL), 0);
	r = archive_write_header(w, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : arc_fail(w, err, "tar stream");
}

int vl_ssh_put_tar(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote_dir,
		   const struct vl_ssh_put_item *items, size_t n, struct vl_err *err)
{
	struct put_stream ps = { .s = s };
	struct archive *w = NULL;
	struct vl_err serr = VL_ERR_INIT;
	uint64_t total = 0;
	int ret = -1;

	for (size_t i = 0; i < n; i++)
		total += tree_bytes(items[i].local, x->follow, 0);
	sshx_meter_init(&ps.m, s, x, "upload", total);
	ps.ch = start_script(s, x, put_sh, &remote_dir, 1, err);
	if (!ps.ch)
		return -1;
	w = archive_write_new();
	archive_write_set_format_gnutar(w);
	archive_write_set_bytes_per_block(w, 65536);
	if (archive_write_open(w, &ps, NULL, put_write, NULL) != ARCHIVE_OK) {
		arc_fail(w, err, "tar stream");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (put_item(w, &items[i], x->follow, &ps, err) < 0)
			goto out;
	if (put_mark(w, err) < 0 || archive_write_close(w) != ARCHIVE_OK) {
		if (err->code == VL_OK)
			arc_fail(w, err, "tar stream");
		goto out;
	}
	sshx_meter_add(&ps.m, 0, true);
	ret = 0;
out:
	if (w)
		archive_write_free(w);
	if (vl_cancelled(s->evs) && ret < 0)
		vl_err_set(err, VL_E_CANCELLED, "%s: copy cancelled", s->where);
	/* EOF ends the remote tar either way: complete, or cut short (cleaned up) */
	xchan_eof(ps.ch);
	if (end_script(s, ps.ch, NULL, "copying to the VM", &serr) < 0 && ret == 0) {
		*err = serr;
		ret = -1;
	} else if (ret < 0 && serr.code != VL_OK && err->code == VL_E_SSH) {
		*err = serr;   /* the remote side's reason beats "stream ended" */
	}
	return ret;
}

/* Downloads: a tar stream ---------------------------------------------------- */

struct get_stream {
	struct vl_ssh *s;
	struct xchan *ch;
	struct sshx_meter m;
	char buf[65536];
};

static la_ssize_t get_read(struct archive *a, void *ud, const void **data)
{
	struct get_stream *gs = ud;
	int n;

	if (vl_cancelled(gs->s->evs)) {
		archive_set_error(a, ECANCELED, "cancelled");
		return -1;
	}
	n = xchan_read(gs->ch, gs->buf, sizeof(gs->buf));
	if (n < 0) {
		archive_set_error(a, EIO, "%s", xchan_error(gs->ch));
		return -1;
	}
	*data = gs->buf;
	sshx_meter_add(&gs->m, (uint64_t)n, false);
	return n;
}

/* An entry's path under the temporary directory: its first component (the
 * remote source's name) becomes name. Absolute paths and ".." are refused:
 * the guest does not choose where files land. */
static char *entry_path(const char *tmp, const char *name, const char *path)
{
	const char *rest;
	char *out = NULL;

	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (path[0] == '/' || !path[0])
		return NULL;
	for (const char *p = path; *p; ) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return NULL;
		p += len + (slash ? 1 : 0);
	}
	rest = strchr(path, '/');
	if (asprintf(&out, "%s/%s%s", tmp, name, rest ? rest : "") < 0)
		abort();
	return out;
}

/* Move src into dst: a file (or symlink) by rename, a directory by rename
 * when dst is free, else merged entry by entry (cp -r into an existing one). */
static int move_into_place(const char *src, const char *dst, struct vl_err *err)
{
	struct stat ss, ds;
	DIR *d;
	struct dirent *e;
	int ret = 0;

	if (lstat(src, &ss) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "%s", src);
	if (stat(dst, &ds) < 0 || !S_ISDIR(ds.st_mode)) {
		if (rename(src, dst) < 0)
			return vl_err_sys(err, VL_E_IO, errno, "%s", dst);
		return 0;
	}
	if (!S_ISDIR(ss.st_mode))
		return vl_err_set(err, VL_E_IO, "cannot overwrite directory %s with a non-directory",
				  dst);
	d = opendir(src);
	if (!d)
		return vl_err_sys(err, VL_E_IO, errno, "%s", src);
	while (ret == 0 && (e = readdir(d))) {
		if (vl_streq(e->d_name, ".") || vl_streq(e->d_name, ".."))
			continue;
		VL_AUTOFREE char *s2 = NULL;
		VL_AUTOFREE char *d2 = NULL;
		if (asprintf(&s2, "%s/%s", src, e->d_name) < 0 ||
		    asprintf(&d2, "%s/%s", dst, e->d_name) < 0)
			abort();
		ret = move_into_place(s2, d2, err);
	}
	closedir(d);
	return ret;
}

static void remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path))) {
		chmod(path, 0700);
		while ((e = readdir(d))) {
			if (vl_streq(e->d_name, ".") || vl_streq(e->d_name, ".."))
				continue;
			VL_AUTOFREE char *sub = NULL;
			if (asprintf(&sub, "%s/%s", path, e->d_name) < 0)
				abort();
			remove_tree(sub);
		}
		closedir(d);
		rmdir(path);
		return;
	}
	unlink(path);
}

static const char get_sh[] =
	"cd \"$1\" && exec tar -c $2 -f - \"./$3\"\n";

static int extract(struct get_stream *gs, const char *tmp, const char *name, struct vl_err *err)
{
	struct archive *a = archive_read_new();
	struct archive *disk = archive_write_disk_new();
	struct archive_entry *e;
	int r, ret = -1;

	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
					     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
					     ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	if (archive_read_open(a, gs, NULL, get_read, NULL) != ARCHIVE_OK) {
		arc_fail(a, err, "tar stream from the VM");
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		VL_AUTOFREE char *path = entry_path(tmp, name, archive_entry_pathname(e));
		VL_AUTOFREE char *link = NULL;
		if (!path) {
			vl_err_set(err, VL_E_IO, "%s: refusing entry '%s' from the VM", gs->s->where,
				   archive_entry_pathname(e));
			goto out;
		}
		archive_entry_set_pathname(e, path);
		if (archive_entry_hardlink(e)) {
			link = entry_path(tmp, name, archive_entry_hardlink(e));
			if (!link) {
				vl_err_set(err, VL_E_IO, "%s: refusing link '%s' from the VM",
					   gs->s->where, archive_entry_hardlink(e));
				goto out;
			}
			archive_entry_set_hardlink(e, link);
		}
		if (archive_write_header(disk, e) < ARCHIVE_WARN) {
			arc_fail(disk, err, path);
			goto out;
		}
		if (archive_entry_size(e) > 0) {
			const void *buf;
			size_t len;
			la_int64_t off;
			while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(disk, buf, len, off) < ARCHIVE_WARN)
					break;
			if (r != ARCHIVE_EOF) {
				arc_fail(r == ARCHIVE_OK ? disk : a, err, path);
				goto out;
			}
		}
		if (archive_write_finish_entry(disk) < ARCHIVE_WARN) {
			arc_fail(disk, err, path);
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		arc_fail(a, err, "tar stream from the VM");
		goto out;
	}
	/* directory modes and mtimes are set last, by close */
	if (archive_write_close(disk) != ARCHIVE_OK) {
		arc_fail(disk, err, tmp);
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	archive_write_free(disk);
	return ret;
}

int vl_ssh_get_tar(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote,
		   const char *local_dir, const char *name, struct vl_err *err)
{
	struct get_stream *gs = vl_calloc(1, sizeof(*gs));
	VL_AUTOFREE char *rdir = NULL;
	VL_AUTOFREE char *rbase = NULL;
	VL_AUTOFREE char *tmp = NULL;
	VL_AUTOFREE char *from = NULL;
	VL_AUTOFREE char *to = NULL;
	struct vl_err serr = VL_ERR_INIT;
	const char *slash;
	size_t end = strlen(remote);
	int ret = -1;

	while (end > 1 && remote[end - 1] == '/')
		end--;
	rdir = vl_strndup(remote, end);
	slash = strrchr(rdir, '/');
	if (slash) {
		rbase = vl_strdup(slash + 1);
		rdir[slash == rdir ? 1 : (size_t)(slash - rdir)] = '\0';
	} else {
		rbase = vl_steal(&rdir);
		rdir = vl_strdup(".");
	}
	if (asprintf(&tmp, "%s/.vmlab-cp.XXXXXX", local_dir) < 0)
		abort();
	if (!mkdtemp(tmp)) {
		free(gs);
		return vl_err_sys(err, VL_E_IO, errno, "%s", local_dir);
	}
	gs->s = s;
	sshx_meter_init(&gs->m, s, x, "download", 0);
	const char *args[] = { rdir, x->follow ? "-h" : "", rbase };
	gs->ch = start_script(s, x, get_sh, args, 3, err);
	if (!gs->ch)
		goto out;
	xchan_eof(gs->ch);   /* it reads nothing: a runner need not wait for stdin */
	ret = extract(gs, tmp, name, err);
	if (end_script(s, gs->ch, NULL, "copying from the VM", &serr) < 0) {
		if (ret == 0 || err->code == VL_E_IO)
			*err = serr;  /* the remote reason ("No such file") first */
		ret = -1;
	}
	if (ret == 0 && vl_cancelled(s->evs))
		ret = vl_err_set(err, VL_E_CANCELLED, "%s: copy cancelled", s->where);
	if (ret == 0) {
		sshx_meter_add(&gs->m, 0, true);
		if (asprintf(&from, "%s/%s", tmp, name) < 0 ||
		    asprintf(&to, "%s/%s", local_dir, name) < 0)
			abort();
		ret = move_into_place(from, to, err);
	}
out:
	remove_tree(tmp);
	free(gs);
	return ret;
}

int vl_ssh_get_cat(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote, int fd,
		   struct vl_err *err)
{
	static const char cat_sh[] = "exec cat -- \"$1\"\n";
	struct vl_err serr = VL_ERR_INIT;
	struct sshx_meter m;
	char *buf = vl_malloc(READ_CHUNK);
	struct xchan *ch;
	int n, ret = 0;

	sshx_meter_init(&m, s, x, "download", 0);
	ch = start_script(s, x, cat_sh, &remote, 1, err);
	if (!ch) {
		free(buf);
		return -1;
	}
	xchan_eof(ch);
	while ((n = xchan_read(ch, buf, READ_CHUNK)) > 0) {
		if (vl_cancelled(s->evs)) {
			ret = vl_err_set(err, VL_E_CANCELLED, "%s: copy cancelled", s->where);
			break;
		}
		if (sshx_write_all(fd, buf, (size_t)n) < 0) {
			ret = vl_err_sys(err, VL_E_IO, errno, "writing");
			break;
		}
		sshx_meter_add(&m, (uint64_t)n, false);
	}
	free(buf);
	if (end_script(s, ch, NULL, "copying from the VM", ret < 0 ? &serr : err) < 0)
		ret = -1;
	return ret;
}

/* Its mode and mtime first (set -e: a missing file fails here, with stat's
 * reason on stderr), then the bytes. */
static const char file_sh[] =
	"set -e\n"
	"m=$(stat -L -c '%a %Y' -- \"$1\")\n"
	"echo \"$m\"\n"
	"exec cat -- \"$1\"\n";

int vl_ssh_get_file(struct vl_ssh *s, const struct vl_ssh_xfer *x, const char *remote,
		    unsigned long long size, const char *local_dir, const char *name,
		    struct vl_err *err)
{
	struct sshx_landing l = { .fd = -1 };
	struct vl_err serr = VL_ERR_INIT;
	struct sshx_meter m;
	char *buf = vl_malloc(READ_CHUNK);
	char head[64];
	size_t hl = 0;
	bool have_head = false, ok = false;
	unsigned mode = 0;
	long long mtime = 0;
	struct xchan *ch;
	int n, ret = -1;

	sshx_meter_init(&m, s, x, "download", size);
	ch = start_script(s, x, file_sh, &remote, 1, err);
	if (!ch) {
		free(buf);
		return -1;
	}
	xchan_eof(ch);
	if (sshx_land_open(&l, local_dir, name, err) < 0)
		goto end;
	while ((n = xchan_read(ch, buf, READ_CHUNK)) > 0) {
		const char *p = buf;
		size_t len = (size_t)n;
		if (vl_cancelled(s->evs)) {
			vl_err_set(err, VL_E_CANCELLED, "%s: copy cancelled", s->where);
			goto end;
		}
		if (!have_head) {
			const char *nl = memchr(p, '\n', len);
			size_t take = nl ? (size_t)(nl - p) : len;
			if (hl + take >= sizeof(head)) {
				vl_err_set(err, VL_E_SSH, "%s: %s: unexpected answer", s->where, remote);
				goto end;
			}
			memcpy(head + hl, p, take);
			hl += take;
			if (!nl)
				continue;
			head[hl] = '\0';
			have_head = true;
			if (sscanf(head, "%o %lld", &mode, &mtime) != 2) {
				vl_err_set(err, VL_E_SSH, "%s: %s: unexpected answer '%s'", s->where,
					   remote, head);
				goto end;
			}
			p = nl + 1;
			len -= take + 1;
		}
		if (len && sshx_write_all(l.fd, p, len) < 0) {
			vl_err_sys(err, VL_E_IO, errno, "%s", local_dir);
			goto end;
		}
		sshx_meter_add(&m, len, false);
	}
	if (n < 0) {
		vl_err_set(err, VL_E_SSH, "%s: copying from the VM: %s", s->where, xchan_error(ch));
		goto end;
	}
	ok = true;
end:
	/* the remote side's reason ("can't stat") beats what it left us */
	if (end_script(s, ch, NULL, "copying from the VM", &serr) < 0)
		*err = serr;
	else if (ok && !have_head)
		vl_err_set(err, VL_E_SSH, "%s: %s: short answer", s->where, remote);
	else if (ok) {
		sshx_meter_add(&m, 0, true);
		ret = sshx_land_commit(&l, local_dir, name, (mode_t)mode, (time_t)mtime, err);
	}
	sshx_land_close(&l);
	free(buf);
	return ret;
}
