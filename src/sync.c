/* vmlab sync's pure half: `sync = SRC:DST` entries, the manifest of what a
 * sync wrote into the guest (kept there, next to the files), and the diff of
 * the guest's manifest against the host's tree into deletes and copies. */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

#define MANIFEST_HEADER "vmlab-sync 1"

/* ---- sync = SRC:DST ------------------------------------------------------ */

/* DST with repeated and trailing slashes dropped; NULL if a component is
 * "." or "..", or nothing is left but "/". */
static char *norm_dst(const char *d)
{
	struct vl_buf b = VL_BUF_INIT;
	const char *p = d;

	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			vl_buf_release(&b);
			return NULL;
		}
		vl_buf_putc(&b, '/');
		vl_buf_appendn(&b, p, len);
		p += len;
	}
	if (!b.len) {
		vl_buf_release(&b);
		return NULL;
	}
	return vl_buf_steal(&b);
}

int vl_sync_spec_parse(const char *value, const char *project_dir, struct vl_sync_spec *out,
		       struct vl_err *err)
{
	const char *colon = strchr(value, ':');
	VL_AUTOFREE char *src = NULL;

	*out = (struct vl_sync_spec){ 0 };
	if (!colon || colon == value || !colon[1])
		return vl_err_set(err, VL_E_PROFILE, "sync '%s': write HOST_DIR:GUEST_DIR, such as "
				  "./src:/home/dev/src", value);
	if (strchr(value, '\n'))
		return vl_err_set(err, VL_E_PROFILE, "sync: a path with a newline");
	if (colon[1] != '/')
		return vl_err_set(err, VL_E_PROFILE, "sync '%s': the guest directory '%s' must be "
				  "absolute", value, colon + 1);
	out->dst = norm_dst(colon + 1);
	if (!out->dst)
		return vl_err_set(err, VL_E_PROFILE, "sync '%s': the guest directory may not be / "
				  "or contain '.' or '..'", value);
	src = vl_strndup(value, (size_t)(colon - value));
	if (src[0] == '/')
		out->src = vl_steal(&src);
	else if (asprintf(&out->src, "%s/%s", project_dir, src) < 0)
		abort();
	out->spec = vl_strdup(value);
	return 0;
}

void vl_sync_spec_release(struct vl_sync_spec *s)
{
	if (!s)
		return;
	free(s->spec);
	free(s->src);
	free(s->dst);
	*s = (struct vl_sync_spec){ 0 };
}

void vl_sync_spec_copy(struct vl_sync_spec *dst, const struct vl_sync_spec *src)
{
	*dst = (struct vl_sync_spec){ vl_strdup(src->spec), vl_strdup(src->src),
				      vl_strdup(src->dst), src->line };
}

void vl_sync_specs_free(struct vl_sync_spec *s, size_t n)
{
	for (size_t i = 0; i < n && s; i++)
		vl_sync_spec_release(&s[i]);
	free(s);
}

/* ---- manifests ----------------------------------------------------------- */

bool vl_sync_path_ok(const char *path)
{
	const char *p = path;

	if (!*p || strchr(p, '\n'))
		return false;
	for (;;) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[len])
			return true;
		p += len + 1;
	}
}

void vl_sync_manifest_add(struct vl_sync_manifest *m, const char *path, char type, unsigned mode,
			  uint64_t size, int64_t mtime_s, long mtime_ns)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->e = vl_realloc(m->e, m->cap * sizeof(*m->e));
	}
	m->e[m->n++] = (struct vl_sync_entry){ vl_strdup(path), type, mode & 07777, size, mtime_s,
					       mtime_ns };
}

/* '/' below every other byte, the end below '/'. */
static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ka = *a == '/' ? 1 : *a ? (unsigned char)*a + 1 : 0;
		int kb = *b == '/' ? 1 : *b ? (unsigned char)*b + 1 : 0;
		if (ka != kb || !ka)
			return ka - kb;
	}
}

static int entry_cmp(const void *a, const void *b)
{
	return path_cmp(((const struct vl_sync_entry *)a)->path,
			((const struct vl_sync_entry *)b)->path);
}

void vl_sync_manifest_sort(struct vl_sync_manifest *m)
{
	if (m->n > 1)
		qsort(m->e, m->n, sizeof(*m->e), entry_cmp);
}

char *vl_sync_manifest_format(const struct vl_sync_manifest *m)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_append(&b, MANIFEST_HEADER "\n");
	for (size_t i = 0; i < m->n; i++) {
		const struct vl_sync_entry *e = &m->e[i];
		vl_buf_printf(&b, "%c %04o %llu %lld.%09ld %s\n", e->type, e->mode,
			      (unsigned long long)e->size, (long long)e->mtime_s, e->mtime_ns, e->path);
	}
	return vl_buf_steal(&b);
}

/* "f 0644 12 1700000000.000000001 a b.txt" */
static bool parse_line(char *line, struct vl_sync_manifest *m)
{
	char *p = line, *end;
	char type = *p;
	unsigned long mode;
	unsigned long long size;
	long long sec;
	long nsec;

	if ((type != 'f' && type != 'd' && type != 'l') || p[1] != ' ')
		return false;
	p += 2;
	mode = strtoul(p, &end, 8);
	if (end == p || *end != ' ' || mode > 07777)
		return false;
	p = end + 1;
	if (*p < '0' || *p > '9')
		return false;
	size = strtoull(p, &end, 10);
	if (*end != ' ')
		return false;
	p = end + 1;
	sec = strtoll(p, &end, 10);
	if (end == p || *end != '.')
		return false;
	p = end + 1;
	if (*p < '0' || *p > '9')
		return false;
	nsec = strtol(p, &end, 10);
	if (*end != ' ' || nsec < 0 || nsec > 999999999)
		return false;
	p = end + 1;
	if (!vl_sync_path_ok(p))
		return false;
	vl_sync_manifest_add(m, p, type, (unsigned)mode, size, sec, nsec);
	return true;
}

int vl_sync_manifest_parse(const char *text, size_t len, struct vl_sync_manifest *m,
			   struct vl_err *err)
{
	const char *p = text, *end = text + len;
	unsigned n = 0;

	*m = (struct vl_sync_manifest)VL_SYNC_MANIFEST_INIT;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		VL_AUTOFREE char *line = NULL;
		bool ok;
		n++;
		if (!nl) {   /* a last line without newline: cut short */
			vl_sync_manifest_release(m);
			return vl_err_set(err, VL_E_FAIL, "sync manifest line %u: cut short", n);
		}
		line = vl_strndup(p, (size_t)(nl - p));
		ok = n == 1 ? vl_streq(line, MANIFEST_HEADER) : parse_line(line, m);
		if (!ok) {
			vl_sync_manifest_release(m);
			return vl_err_set(err, VL_E_FAIL, "sync manifest line %u: not understood", n);
		}
		p = nl + 1;
	}
	vl_sync_manifest_sort(m);
	return 0;
}

void vl_sync_manifest_release(struct vl_sync_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].path);
	free(m->e);
	*m = (struct vl_sync_manifest)VL_SYNC_MANIFEST_INIT;
}

/* ---- the diff ------------------------------------------------------------ */

static bool under(const char *path, const char *root)
{
	size_t n;

	if (!root)
		return false;
	n = strlen(root);
	return strncmp(path, root, n) == 0 && path[n] == '/';
}

static void push(const char ***v, size_t *n, const char *path)
{
	*v = vl_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = path;
}

static bool changed(const struct vl_sync_entry *a, const struct vl_sync_entry *b)
{
	return a->size != b->size || a->mode != b->mode || a->mtime_s != b->mtime_s ||
	       a->mtime_ns != b->mtime_ns;
}

void vl_sync_diff(const struct vl_sync_manifest *old, const struct vl_sync_manifest *new,
		  struct vl_sync_diff *out)
{
	const char *del_root = NULL, *copy_root = NULL;
	size_t i = 0, j = 0;

	*out = (struct vl_sync_diff){ 0 };
	while (i < old->n || j < new->n) {
		const struct vl_sync_entry *o = i < old->n ? &old->e[i] : NULL;
		const struct vl_sync_entry *n = j < new->n ? &new->e[j] : NULL;
		int c = o && n ? path_cmp(o->path, n->path) : o ? -1 : 1;
		bool del = c < 0 || (c == 0 && o->type != n->type);
		bool copy = c > 0 || (c == 0 && (o->type != n->type ||
						 (n->type != 'd' && changed(o, n))));

		if (del && !under(o->path, del_root)) {
			push(&out->del, &out->n_del, o->path);
			if (o->type == 'd')
				del_root = o->path;
		}
		if (copy && !under(n->path, copy_root)) {
			push(&out->copy, &out->n_copy, n->path);
			if (n->type == 'd')
				copy_root = n->path;
		}
		i += c <= 0;
		j += c >= 0;
	}
}

void vl_sync_diff_release(struct vl_sync_diff *d)
{
	if (!d)
		return;
	free(d->copy);
	free(d->del);
	*d = (struct vl_sync_diff){ 0 };
}
