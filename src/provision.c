/* Provisioners, the pure part: entries parsed from vmlab.ini, their hash,
 * environment and remote command, and whether the guest's records say one
 * already ran. The engine (lab_provision.c) does the I/O. */
#include "provision.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/mem.h"
#include "util/sha256.h"
#include "util/str.h"

/* Runs a script that arrives on stdin; $1 index, $2 hash, $3 domain uuid.
 * The temporary file lives in the home (a /tmp mounted noexec is common). */
static const char script_sh[] =
	"cd || exit 125\n"
	"f=$(mktemp \"$HOME/.vmlab-prov.XXXXXX\") || exit 125\n"
	"cat > \"$f\" && chmod 700 \"$f\" && \"$f\" </dev/null\n"
	"rc=$?\n"
	"rm -f \"$f\"\n";

/* Installs the file that arrives on stdin; $4 dest, $5 mode, $6 owner, $7
 * group (empty: the owner's primary group). As root: a copy next to the
 * target, owner and mode set, renamed over it, so the target is never
 * half-written (no install(1): minimal images lack it). */
static const char file_sh[] =
	"cd || exit 125\n"
	"f=$(mktemp \"$HOME/.vmlab-prov.XXXXXX\") || exit 125\n"
	"g=$7; [ -n \"$g\" ] || g=$(id -gn \"$6\") || g=$6\n"
	"cat > \"$f\" && sudo sh -c '"
	"t=$1.vmlab-tmp; mkdir -p \"$(dirname \"$1\")\" && cp \"$2\" \"$t\" && "
	"chown \"$3:$4\" \"$t\" && chmod \"$5\" \"$t\" && mv -f \"$t\" \"$1\" || "
	"{ rm -f \"$t\"; exit 1; }' sh \"$4\" \"$f\" \"$6\" \"$g\" \"$5\"\n"
	"rc=$?\n"
	"rm -f \"$f\"\n";

/* Appends the record once the provisioner exited 0. */
static const char record_sh[] =
	"[ $rc -eq 0 ] || exit $rc\n"
	"r=$HOME/" VL_PROV_RECORDS "\n"
	"{ grep -v \"^$1 \" \"$r\" 2>/dev/null; echo \"$1 $2 $3\"; } > \"$r.tmp\" && mv \"$r.tmp\" \"$r\"\n";

static bool valid_account(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static char *host_path(const char *dir, const char *v)
{
	struct vl_buf b = VL_BUF_INIT;

	if (v[0] == '/')
		vl_buf_append(&b, v);
	else
		vl_buf_printf(&b, "%s/%s", dir, v);
	return vl_buf_steal(&b);
}

/* The words of a file entry, split on blanks (paths with blanks are not
 * supported there: said in vmlab.ini(5)). */
static int parse_file(const char *rest, const char *dir, struct vl_prov *p, struct vl_err *err)
{
	VL_AUTOFREE char *copy = vl_strdup(rest);
	char *save = NULL, *w;
	int n = 0;

	p->mode = 0644;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save), n++) {
		if (n == 0) {
			p->src = host_path(dir, w);
		} else if (n == 1) {
			if (w[0] != '/')
				return vl_err_set(err, VL_E_PROFILE, "provision '%s': the target '%s' "
						  "must be an absolute path in the VM", p->spec, w);
			p->dest = vl_strdup(w);
		} else if (vl_str_startswith(w, "mode=")) {
			char *end;
			unsigned long m = strtoul(w + 5, &end, 8);
			if (!w[5] || *end || m > 07777)
				return vl_err_set(err, VL_E_PROFILE, "provision '%s': mode '%s' is not "
						  "octal permission bits such as 0644", p->spec, w + 5);
			p->mode = (unsigned)m;
		} else if (vl_str_startswith(w, "owner=")) {
			char *colon = strchr(w + 6, ':');
			if (colon)
				*colon = '\0';
			if (!valid_account(w + 6) || (colon && !valid_account(colon + 1))) {
				if (colon)
					*colon = ':';
				return vl_err_set(err, VL_E_PROFILE, "provision '%s': owner '%s' is not "
						  "USER or USER:GROUP (lowercase names)", p->spec, w + 6);
			}
			free(p->owner);
			free(p->group);
			p->owner = vl_strdup(w + 6);
			p->group = colon ? vl_strdup(colon + 1) : NULL;
		} else {
			return vl_err_set(err, VL_E_PROFILE, "provision '%s': unknown word '%s' "
					  "(file:SRC DEST [mode=OCTAL] [owner=USER[:GROUP]])", p->spec, w);
		}
	}
	if (n < 2)
		return vl_err_set(err, VL_E_PROFILE, "provision '%s': a file entry is "
				  "file:SRC DEST [mode=OCTAL] [owner=USER[:GROUP]]", p->spec);
	return 0;
}

int vl_prov_parse(const char *value, const char *dir, struct vl_prov *out, struct vl_err *err)
{
	struct vl_prov p = { .spec = vl_strdup(value) };

	if (vl_str_startswith(value, "file:")) {
		p.kind = VL_PROV_FILE;
		if (parse_file(value + 5, dir, &p, err) < 0) {
			vl_prov_release(&p);
			return -1;
		}
	} else {
		const char *path = vl_str_startswith(value, "script:") ? value + 7 : value;
		if (!*path) {
			vl_prov_release(&p);
			return vl_err_set(err, VL_E_PROFILE, "provision '%s': no script path", value);
		}
		p.kind = VL_PROV_SCRIPT;
		p.src = host_path(dir, path);
	}
	*out = p;
	return 0;
}

void vl_prov_release(struct vl_prov *p)
{
	if (!p)
		return;
	free(p->spec);
	free(p->src);
	free(p->dest);
	free(p->owner);
	free(p->group);
	memset(p, 0, sizeof(*p));
}

static char *dup_or_null(const char *s)
{
	return s ? vl_strdup(s) : NULL;
}

void vl_prov_copy(struct vl_prov *dst, const struct vl_prov *src)
{
	*dst = *src;
	dst->spec = dup_or_null(src->spec);
	dst->src = dup_or_null(src->src);
	dst->dest = dup_or_null(src->dest);
	dst->owner = dup_or_null(src->owner);
	dst->group = dup_or_null(src->group);
}

void vl_provs_free(struct vl_prov *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		vl_prov_release(&p[i]);
	free(p);
}

void vl_prov_hash(const struct vl_prov *p, const void *content, size_t len, char hex[65])
{
	struct vl_sha256 h;
	char head[64];

	vl_sha256_init(&h);
	if (p->kind == VL_PROV_FILE) {
		snprintf(head, sizeof(head), "file %04o", p->mode);
		vl_sha256_update(&h, head, strlen(head) + 1);
		vl_sha256_update(&h, p->dest, strlen(p->dest) + 1);
		vl_sha256_update(&h, p->owner ? p->owner : "", strlen(p->owner ? p->owner : "") + 1);
		vl_sha256_update(&h, p->group ? p->group : "", strlen(p->group ? p->group : "") + 1);
	} else {
		vl_sha256_update(&h, "script", 7);
	}
	vl_sha256_update(&h, content, len);
	vl_sha256_final(&h, hex);
}

bool vl_prov_done(const char *records, unsigned index, const char *hash, const char *domain_uuid)
{
	char want[200];
	size_t n;

	if (!records)
		return false;
	n = (size_t)snprintf(want, sizeof(want), "%u %s %s", index, hash, domain_uuid);
	for (const char *l = records; *l;) {
		const char *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		if (len == n && memcmp(l, want, n) == 0)
			return true;
		if (!eol)
			break;
		l = eol + 1;
	}
	return false;
}

static void push(char ***v, size_t *n, char *s)
{
	*v = vl_realloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

char **vl_prov_env_words(const struct vl_prov_env *env, size_t *n)
{
	struct vl_buf vms = VL_BUF_INIT;
	char **v = NULL;

	*n = 0;
	push(&v, n, vl_strfmt("VMLAB_VM=%s", env->vm));
	push(&v, n, vl_strfmt("VMLAB_LAB=%s", env->lab));
	push(&v, n, vl_strfmt("VMLAB_INDEX=%u", env->index));
	push(&v, n, vl_strfmt("VMLAB_IP=%s", env->ip));
	push(&v, n, vl_strfmt("VMLAB_USER=%s", env->user));
	vl_buf_append(&vms, "VMLAB_VMS=");
	for (size_t i = 0; i < env->n_peers; i++)
		vl_buf_printf(&vms, "%s%s=%s", i ? " " : "", env->peers[i].name, env->peers[i].ip);
	push(&v, n, vl_buf_steal(&vms));
	for (size_t i = 0; i < env->n_peers; i++) {
		char *w = vl_strfmt("VMLAB_IP_%s=%s", env->peers[i].name, env->peers[i].ip);
		for (char *c = w + 9; *c != '='; c++)
			*c = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
		push(&v, n, w);
	}
	return v;
}

char **vl_prov_command(const struct vl_prov *p, unsigned index, const char *hash,
		       const char *domain_uuid, const struct vl_prov_env *env, size_t *argc)
{
	size_t n_env, n = 0;
	char **envw = vl_prov_env_words(env, &n_env);
	char **v = NULL;

	push(&v, &n, vl_strdup("env"));
	for (size_t i = 0; i < n_env; i++)
		push(&v, &n, envw[i]);
	free(envw);
	push(&v, &n, vl_strdup("sh"));
	push(&v, &n, vl_strdup("-c"));
	push(&v, &n, vl_strfmt("%s%s", p->kind == VL_PROV_FILE ? file_sh : script_sh, record_sh));
	push(&v, &n, vl_strdup("vmlab-provision"));   /* $0 */
	push(&v, &n, vl_strfmt("%u", index));
	push(&v, &n, vl_strdup(hash));
	push(&v, &n, vl_strdup(domain_uuid));
	if (p->kind == VL_PROV_FILE) {
		push(&v, &n, vl_strdup(p->dest));
		push(&v, &n, vl_strfmt("%04o", p->mode));
		push(&v, &n, vl_strdup(p->owner ? p->owner : env->user));
		push(&v, &n, vl_strdup(p->group ? p->group : ""));
	}
	*argc = n;
	return v;
}

void vl_prov_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}
