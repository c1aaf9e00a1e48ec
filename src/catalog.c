/* Pure decisions behind `vmlab image`: catalog files, checksum files, names
 * from URLs, cache paths and metadata, qcow2 header. Unit-tested without a
 * network (tests/unit/test_catalog.c); image.c does the acting. */
#include "catalog.h"

#include <ctype.h>
#include <errno.h>
#include <iniparser.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ini_lines.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/str.h"

size_t vl_hash_hexlen(enum vl_hash h)
{
	return h == VL_HASH_SHA256 ? 64 : h == VL_HASH_SHA512 ? 128 : 0;
}

const char *vl_hash_name(enum vl_hash h)
{
	return h == VL_HASH_SHA256 ? "sha256" : h == VL_HASH_SHA512 ? "sha512" : "none";
}

enum vl_hash vl_hash_parse(const char *s)
{
	if (vl_streq(s, "sha256"))
		return VL_HASH_SHA256;
	if (vl_streq(s, "sha512"))
		return VL_HASH_SHA512;
	return VL_HASH_NONE;
}

char *vl_hex_normalize(const char *s, size_t hexlen)
{
	char *out;

	if (!s || strlen(s) != hexlen || hexlen == 0)
		return NULL;
	for (size_t i = 0; i < hexlen; i++)
		if (!isxdigit((unsigned char)s[i]))
			return NULL;
	out = vl_strdup(s);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

const char *vl_image_format_name(enum vl_image_format f)
{
	return f == VL_IMG_QCOW2 ? "qcow2" : f == VL_IMG_RAW ? "raw" : "unknown";
}

static enum vl_image_format format_parse(const char *s)
{
	if (vl_streq(s, "qcow2"))
		return VL_IMG_QCOW2;
	if (vl_streq(s, "raw"))
		return VL_IMG_RAW;
	return VL_IMG_UNKNOWN;
}

enum vl_image_format vl_image_detect(const unsigned char *p, size_t n)
{
	if (n >= 4 && memcmp(p, "QFI\xfb", 4) == 0)
		return VL_IMG_QCOW2;
	return n ? VL_IMG_RAW : VL_IMG_UNKNOWN;
}

bool vl_qcow2_virtual_size(const unsigned char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n < 32 || vl_image_detect(p, n) != VL_IMG_QCOW2)
		return false;
	for (int i = 24; i < 32; i++)
		v = v << 8 | p[i];
	*out = v;
	return true;
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Offsets from QEMU's docs/interop/qcow2.txt. An image in the cache is
 * self-contained: QEMU opens a pool volume and nothing else. */
const char *vl_qcow2_unsafe(const unsigned char *p, size_t n, uint64_t *bf_off, uint32_t *bf_len)
{
	uint32_t version;

	*bf_off = 0;
	*bf_len = 0;
	if (vl_image_detect(p, n) != VL_IMG_QCOW2)
		return NULL;
	if (n < 72)
		return "its qcow2 header is cut short";
	version = be32(p + 4);
	if (version != 2 && version != 3)
		return "it is an unknown qcow2 version";
	if (be64(p + 8) != 0 || be32(p + 16) != 0) {
		*bf_off = be64(p + 8);
		*bf_len = be32(p + 16);
		return "it has a backing file";
	}
	if (be32(p + 32) != 0)
		return "it is encrypted";
	if (version == 3) {
		if (n < VL_QCOW2_HEADER_MIN)
			return "its qcow2 header is cut short";
		if (be64(p + 72) & (1u << 2))
			return "it has an external data file";
	}
	return NULL;
}

/* ---- catalog ---------------------------------------------------------- */

void vl_catalog_entry_release(struct vl_catalog_entry *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->url);
	free(e->digest);
	free(e->checksum_url);
	free(e->checksum_entry);
	free(e->user);
	free(e->origin);
	memset(e, 0, sizeof(*e));
}

static char *dup_or_null(const char *s)
{
	return s ? vl_strdup(s) : NULL;
}

void vl_catalog_entry_copy(struct vl_catalog_entry *dst, const struct vl_catalog_entry *src)
{
	*dst = *src;
	dst->name = dup_or_null(src->name);
	dst->url = dup_or_null(src->url);
	dst->digest = dup_or_null(src->digest);
	dst->checksum_url = dup_or_null(src->checksum_url);
	dst->checksum_entry = dup_or_null(src->checksum_entry);
	dst->user = dup_or_null(src->user);
	dst->origin = dup_or_null(src->origin);
}

void vl_catalog_release(struct vl_catalog *c)
{
	for (size_t i = 0; i < c->n; i++)
		vl_catalog_entry_release(&c->items[i]);
	free(c->items);
	*c = (struct vl_catalog)VL_CATALOG_INIT;
}

const struct vl_catalog_entry *vl_catalog_find(const struct vl_catalog *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (vl_streq(c->items[i].name, name))
			return &c->items[i];
	return NULL;
}

static const char *get(const dictionary *d, const char *sec, const char *key)
{
	char k[256];

	snprintf(k, sizeof(k), "%s:%s", sec, key);
	return iniparser_getstring(d, k, NULL);
}

static bool yes(const char *v, bool def, bool *ok)
{
	if (!v)
		return def;
	if (vl_streq(v, "yes") || vl_streq(v, "true") || vl_streq(v, "1"))
		return true;
	if (vl_streq(v, "no") || vl_streq(v, "false") || vl_streq(v, "0"))
		return false;
	*ok = false;
	return def;
}

static const char *const known_keys[] = {
	"url", "sha256", "sha512", "checksum_url", "checksum_type", "checksum_entry",
	"format", "compression", "user", "boot", "cloud_init", "insecure", "description",
};

#define CATALOG_MAX_BYTES (1024u * 1024)

/* The line of key in section sec (iniparser lowercases section names), or
 * of the section's header when key is NULL or absent: errors are FILE:LINE. */
static int at(const struct vl_ini_lines *ini, const char *sec, const char *key)
{
	for (size_t i = ini->n_secs; i-- > 0;) {
		if (strcasecmp(ini->secs[i].name, sec) != 0)
			continue;
		const struct vl_ini_key *k = key ? vl_ini_get(ini, i, key) : NULL;
		return k ? k->line : ini->secs[i].line;
	}
	return 0;
}

static int entry_parse(struct vl_catalog_entry *e, const dictionary *d, const char *sec,
		       const char *path, const struct vl_ini_lines *ini, struct vl_err *err)
{
	const char *v;
	bool ok = true;
	int nkeys = iniparser_getsecnkeys(d, sec);
	const char **keys = vl_calloc((size_t)(nkeys > 0 ? nkeys : 1), sizeof(*keys));

	iniparser_getseckeys(d, sec, keys);
	for (int i = 0; i < nkeys; i++) {
		const char *k = strchr(keys[i], ':') ? strchr(keys[i], ':') + 1 : keys[i];
		bool found = false;
		for (size_t j = 0; j < VL_ARRAY_SIZE(known_keys); j++)
			found |= vl_streq(k, known_keys[j]);
		if (!found) {
			const char *s = vl_str_suggest(k, known_keys, VL_ARRAY_SIZE(known_keys));
			vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: unknown key '%s'%s%s%s", path,
				   at(ini, sec, k), sec, k,
				   s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
			free(keys);
			return -1;
		}
	}
	free(keys);

	e->name = vl_strdup(sec);
	e->origin = vl_strdup(path);
	if (!vl_image_name_valid(sec))
		return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: image names are [a-z0-9._-]",
				  path, at(ini, sec, NULL), sec);
	v = get(d, sec, "url");
	if (!v || !*v)
		return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: missing url", path,
				  at(ini, sec, NULL), sec);
	e->url = vl_strdup(v);
	if (vl_image_ref_kind(e->url) == VL_REF_NAME || vl_image_ref_kind(e->url) == VL_REF_PATH) {
		if (e->url[0] != '/')
			return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: url must be http(s)://, "
					  "file:// or an absolute path", path, at(ini, sec, "url"), sec);
	}

	e->hash = VL_HASH_SHA256;
	if ((v = get(d, sec, "checksum_type"))) {
		e->hash = vl_hash_parse(v);
		if (e->hash == VL_HASH_NONE)
			return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: checksum_type must be "
					  "sha256 or sha512", path, at(ini, sec, "checksum_type"), sec);
	}
	if ((v = get(d, sec, "sha256")) || (v = get(d, sec, "sha512"))) {
		e->hash = get(d, sec, "sha256") ? VL_HASH_SHA256 : VL_HASH_SHA512;
		e->digest = vl_hex_normalize(v, vl_hash_hexlen(e->hash));
		if (!e->digest)
			return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: %s must be %zu hex digits",
					  path, at(ini, sec, vl_hash_name(e->hash)), sec,
					  vl_hash_name(e->hash), vl_hash_hexlen(e->hash));
	}
	if ((v = get(d, sec, "checksum_url")))
		e->checksum_url = vl_strdup(v);
	if ((v = get(d, sec, "checksum_entry")))
		e->checksum_entry = vl_strdup(v);
	e->insecure = yes(get(d, sec, "insecure"), false, &ok);
	if (!ok)
		return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: insecure is yes or no", path,
				  at(ini, sec, "insecure"), sec);
	if (!e->digest && !e->checksum_url && !e->insecure)
		return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: no checksum source: give "
				  "sha256=, checksum_url= or insecure = yes", path, at(ini, sec, NULL),
				  sec);

	/* without format= the file's header decides */
	e->format = VL_IMG_UNKNOWN;
	if ((v = get(d, sec, "format")) && (e->format = format_parse(v)) == VL_IMG_UNKNOWN)
		return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: format must be qcow2 or raw",
				  path, at(ini, sec, "format"), sec);
	e->comp = vl_str_endswith(e->url, ".xz") ? VL_COMP_XZ : VL_COMP_NONE;
	if ((v = get(d, sec, "compression"))) {
		if (vl_streq(v, "xz"))
			e->comp = VL_COMP_XZ;
		else if (vl_streq(v, "none"))
			e->comp = VL_COMP_NONE;
		else
			return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: compression must be none or "
					  "xz", path, at(ini, sec, "compression"), sec);
	}
	e->user = vl_strdup((v = get(d, sec, "user")) ? v : "root");
	v = get(d, sec, "boot");
	if (v && !vl_streq(v, "bios") && !vl_streq(v, "uefi"))
		return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: boot must be bios or uefi",
				  path, at(ini, sec, "boot"), sec);
	e->bios = !v || vl_streq(v, "bios");
	e->cloud_init = yes(get(d, sec, "cloud_init"), true, &ok);
	if (!ok)
		return vl_err_set(err, VL_E_CONFIG, "%s:%d: [%s]: cloud_init is yes or no", path,
				  at(ini, sec, "cloud_init"), sec);
	return 0;
}

int vl_catalog_load(struct vl_catalog *c, const char *path, bool optional, struct vl_err *err)
{
	VL_AUTO(vl_ini_lines) ini = VL_INI_LINES_INIT;
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	VL_AUTOFREE char *text = NULL;
	size_t len = 0;
	dictionary *d;
	int nsec;

	if (access(path, R_OK) < 0) {
		if (optional && errno == ENOENT)
			return 0;
		return vl_err_sys(err, VL_E_CONFIG, errno, "image catalog %s", path);
	}
	/* the line scanner first: what iniparser accepts silently (duplicates,
	 * keys before a section) or stops at is an error at its line */
	if (vl_file_read(path, CATALOG_MAX_BYTES, &text, &len, err) < 0) {
		if (err)
			err->code = VL_E_CONFIG;
		return -1;
	}
	if (vl_ini_scan(&ini, text, len, path, &diags) > 0) {
		VL_AUTOFREE char *first = vl_diag_format(&diags.items[0]);
		return vl_err_set(err, VL_E_CONFIG, "%s%s", first, diags.n > 1 ?
				  " (and more problems in this catalog)" : "");
	}
	/* iniparser reports syntax problems on stderr by default; it returns
	 * NULL only when the file cannot be read at all */
	d = iniparser_load(path);
	if (!d)
		return vl_err_set(err, VL_E_CONFIG, "%s: cannot parse image catalog", path);
	nsec = iniparser_getnsec(d);
	for (int i = 0; i < nsec; i++) {
		const char *sec = iniparser_getsecname(d, i);
		struct vl_catalog_entry e = { 0 };
		if (vl_catalog_find(c, sec))
			continue;
		if (entry_parse(&e, d, sec, path, &ini, err) < 0) {
			vl_catalog_entry_release(&e);
			iniparser_freedict(d);
			return -1;
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 16;
			c->items = vl_realloc(c->items, c->cap * sizeof(*c->items));
		}
		c->items[c->n++] = e;
	}
	iniparser_freedict(d);
	return 0;
}

char *vl_catalog_entry_format(const struct vl_catalog_entry *e)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "[%s]\nurl = %s\n", e->name, e->url);
	if (e->digest)
		vl_buf_printf(&b, "%s = %s\n", vl_hash_name(e->hash), e->digest);
	if (e->checksum_url)
		vl_buf_printf(&b, "checksum_url = %s\nchecksum_type = %s\n", e->checksum_url,
			      vl_hash_name(e->hash));
	if (e->checksum_entry)
		vl_buf_printf(&b, "checksum_entry = %s\n", e->checksum_entry);
	if (e->insecure)
		vl_buf_append(&b, "insecure = yes\n");
	if (e->format != VL_IMG_UNKNOWN)
		vl_buf_printf(&b, "format = %s\n", vl_image_format_name(e->format));
	vl_buf_printf(&b, "compression = %s\nuser = %s\nboot = %s\ncloud_init = %s\n\n",
		      e->comp == VL_COMP_XZ ? "xz" : "none",
		      e->user ? e->user : "root", e->bios ? "bios" : "uefi",
		      e->cloud_init ? "yes" : "no");
	return vl_buf_steal(&b);
}

/* ---- checksum files --------------------------------------------------- */

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* One line: the digest if it is a digest line for this hash; *named says
 * whether it names entry. */
static char *match_line(char *line, const char *entry, enum vl_hash hash, bool *named)
{
	size_t hl = vl_hash_hexlen(hash);
	char *p = vl_str_trim(line);
	size_t n;

	*named = false;
	if (!*p || *p == '#')
		return NULL;
	/* BSD: "SHA256 (name) = hex" */
	if (vl_str_startswith(p, "SHA256 (") || vl_str_startswith(p, "SHA512 (")) {
		enum vl_hash h = p[3] == '2' ? VL_HASH_SHA256 : VL_HASH_SHA512;
		char *close = strstr(p, ") = ");
		if (h != hash || !close)
			return NULL;
		*close = '\0';
		*named = vl_streq(p + 8, entry);
		return vl_hex_normalize(vl_str_trim(close + 4), hl);
	}
	/* GNU: "hex  name" or "hex *name"; or a bare digest */
	n = strcspn(p, " \t");
	if (n != hl || !all_hex(p, n))
		return NULL;
	if (p[n]) {
		char *name = p + n + 1;
		p[n] = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		if (*name == '*')
			name++;
		/* some files list "./name" */
		if (vl_str_startswith(name, "./"))
			name += 2;
		*named = vl_streq(name, entry);
	}
	return vl_hex_normalize(p, hl);
}

char *vl_checksum_find(const char *text, const char *entry, enum vl_hash hash)
{
	VL_AUTOFREE char *copy = vl_strdup(text);
	char *save = NULL, *only = NULL;
	int digests = 0;
	bool in_sig = false;

	if (!vl_hash_hexlen(hash))
		return NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool named;
		char *d;
		/* PGP cleartext: skip the armor header and the signature block;
		 * undo "- " dash-escaping of signed lines */
		if (vl_str_startswith(line, "-----BEGIN PGP SIGNED MESSAGE") ||
		    vl_str_startswith(line, "Hash: "))
			continue;
		if (vl_str_startswith(line, "-----BEGIN PGP SIGNATURE"))
			in_sig = true;
		if (in_sig) {
			if (vl_str_startswith(line, "-----END PGP SIGNATURE"))
				in_sig = false;
			continue;
		}
		if (vl_str_startswith(line, "- "))
			line += 2;
		d = match_line(line, entry, hash, &named);
		if (d && named) {
			free(only);
			return d;
		}
		if (d) {
			digests++;
			free(only);
			only = d;
		}
	}
	/* A per-file checksum (Alpine's .sha512, openSUSE's .sha256, Rocky's
	 * .CHECKSUM) holds one digest, often under the versioned file name the
	 * "latest" URL points to: one digest is the answer whatever its name. */
	if (digests == 1)
		return only;
	free(only);
	return NULL;
}

/* ---- names and references --------------------------------------------- */

enum vl_ref_kind vl_image_ref_kind(const char *ref)
{
	if (vl_str_startswith(ref, "http://") || vl_str_startswith(ref, "https://"))
		return VL_REF_URL;
	if (vl_str_startswith(ref, "file://"))
		return VL_REF_FILE_URL;
	if (strchr(ref, '/'))
		return VL_REF_PATH;
	return VL_REF_NAME;
}

bool vl_image_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > VL_IMAGE_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '.' ||
		      ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

char *vl_url_basename(const char *url)
{
	size_t end = strcspn(url, "?#");
	size_t start = end;

	while (start > 0 && url[start - 1] != '/')
		start--;
	return vl_strndup(url + start, end - start);
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

char *vl_file_url_path(const char *url)
{
	const char *p;
	struct vl_buf b = VL_BUF_INIT;

	if (!vl_str_startswith(url, "file://"))
		return NULL;
	p = url + 7;
	if (vl_str_startswith(p, "localhost/"))
		p += 9;
	if (*p != '/')
		return NULL;
	for (; *p; p++) {
		if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			vl_buf_putc(&b, (char)(hexval(p[1]) * 16 + hexval(p[2])));
			p += 2;
		} else {
			vl_buf_putc(&b, *p);
		}
	}
	return vl_buf_steal(&b);
}

char *vl_image_name_from_url(const char *url)
{
	static const char *const suffixes[] = { ".xz", ".qcow2", ".img", ".raw" };
	VL_AUTOFREE char *base = vl_url_basename(url);
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct vl_buf b = VL_BUF_INIT;
	size_t n;

	for (size_t i = 0; i < VL_ARRAY_SIZE(suffixes); i++)
		if (vl_str_endswith(base, suffixes[i]))
			base[strlen(base) - strlen(suffixes[i])] = '\0';
	for (char *p = base; *p; p++) {
		char ch = (char)tolower((unsigned char)*p);
		*p = (isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '_') ? ch : '-';
	}
	n = strlen(base);
	if (n > VL_IMAGE_NAME_MAX - 9)
		base[VL_IMAGE_NAME_MAX - 9] = '\0';
	SHA256((const unsigned char *)url, strlen(url), md);
	vl_buf_printf(&b, "%s%s%02x%02x%02x%02x", isalnum((unsigned char)base[0]) ? base : "url",
		      isalnum((unsigned char)base[0]) ? "-" : "-", md[0], md[1], md[2], md[3]);
	return vl_buf_steal(&b);
}

char *vl_cache_image_path(const char *cache, const char *name, enum vl_image_format f)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/%s.%s", cache, name, vl_image_format_name(f));
	return vl_buf_steal(&b);
}

char *vl_cache_meta_path(const char *cache, const char *name)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/%s.meta", cache, name);
	return vl_buf_steal(&b);
}

/* ---- cache metadata ---------------------------------------------------- */

char *vl_cache_meta_format(const struct vl_cache_meta *m)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "name=%s\nurl=%s\nformat=%s\nhash=%s\ndigest=%s\nsize=%llu\n"
		      "virtual_size=%llu\npulled=%lld\n", m->name, m->url,
		      vl_image_format_name(m->format), vl_hash_name(m->hash),
		      m->digest ? m->digest : "", (unsigned long long)m->size,
		      (unsigned long long)m->virtual_size, (long long)m->pulled);
	if (m->content_sha256)
		vl_buf_printf(&b, "content_sha256=%s\n", m->content_sha256);
	return vl_buf_steal(&b);
}

int vl_cache_meta_parse(struct vl_cache_meta *m, const char *text, struct vl_err *err)
{
	VL_AUTOFREE char *copy = vl_strdup(text);
	char *save = NULL;

	memset(m, 0, sizeof(*m));
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		unsigned long long u;
		if (!eq)
			continue;
		*eq = '\0';
		const char *k = line, *v = eq + 1;
		if (vl_streq(k, "name"))
			m->name = vl_strdup(v);
		else if (vl_streq(k, "url"))
			m->url = vl_strdup(v);
		else if (vl_streq(k, "format"))
			m->format = format_parse(v);
		else if (vl_streq(k, "hash"))
			m->hash = vl_hash_parse(v);
		else if (vl_streq(k, "digest") && *v)
			m->digest = vl_strdup(v);
		else if (vl_streq(k, "size") && vl_str_to_u64(v, &u))
			m->size = u;
		else if (vl_streq(k, "virtual_size") && vl_str_to_u64(v, &u))
			m->virtual_size = u;
		else if (vl_streq(k, "pulled") && vl_str_to_u64(v, &u))
			m->pulled = (time_t)u;
		else if (vl_streq(k, "content_sha256") && strlen(v) == 64 && !m->content_sha256)
			m->content_sha256 = vl_strdup(v);
	}
	if (!m->name || m->format == VL_IMG_UNKNOWN) {
		vl_cache_meta_release(m);
		return vl_err_set(err, VL_E_IO, "corrupt cache metadata");
	}
	return 0;
}

void vl_cache_meta_release(struct vl_cache_meta *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->url);
	free(m->digest);
	free(m->content_sha256);
	memset(m, 0, sizeof(*m));
}

int vl_catalog_entry_usable(const struct vl_catalog_entry *e, struct vl_err *err)
{
	if (!e->bios)
		return vl_err_set(err, VL_E_PROFILE,
				  "image %s boots with UEFI (boot = uefi), which vmlab does not support: "
				  "libvirt cannot take the memory snapshots that snapshot and rollback "
				  "use of a UEFI guest; choose a BIOS-bootable cloud image", e->name);
	if (!e->cloud_init)
		return vl_err_set(err, VL_E_PROFILE,
				  "image %s has no cloud-init (cloud_init = no): vmlab creates the user "
				  "and injects SSH keys through a cloud-init seed, so it could never log "
				  "in; choose a cloud image", e->name);
	return 0;
}
