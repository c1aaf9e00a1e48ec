/* vmlab.ini: find it (walking up like git), read it with the INI scanner,
 * and validate every section and key, reporting each problem as FILE:LINE in
 * one run. Only a profile without a single problem is handed back. */
#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "ini_lines.h"
#include "layout.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/ipv4.h"
#include "util/mem.h"
#include "util/str.h"

#define PROFILE_MAX_BYTES (64u * 1024)
#define VL_COUNT_MAX 64
#define VL_CPUS_MAX 256
#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)
#define MEMORY_MIN (128 * MiB)
#define MEMORY_MAX TiB
#define DISK_MIN GiB
#define DISK_MAX (64 * TiB)
#define SUBNET_PREFIX_MIN 16
#define SUBNET_PREFIX_MAX 29

/* ---- sizes ---------------------------------------------------------- */

int vl_parse_size(const char *s, uint64_t *out, struct vl_err *err)
{
	static const struct { const char *name; uint64_t mult; } units[] = {
		{ "K", 1ull << 10 }, { "KiB", 1ull << 10 }, { "M", 1ull << 20 }, { "MiB", 1ull << 20 },
		{ "G", 1ull << 30 }, { "GiB", 1ull << 30 }, { "T", 1ull << 40 }, { "TiB", 1ull << 40 },
	};
	uint64_t whole = 0, frac = 0, scale = 1, mult = 0;
	const char *p = s;
	int nfrac = 0;

	if (!isdigit((unsigned char)*p))
		return vl_err_set(err, VL_E_PROFILE, "'%s' is not a size (examples: 512M, 2G, 1.5G)", s);
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return vl_err_set(err, VL_E_PROFILE, "size '%s' is too large", s);
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (++nfrac > 6)
				return vl_err_set(err, VL_E_PROFILE,
						  "size '%s' has too many decimals", s);
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
		if (nfrac == 0)
			return vl_err_set(err, VL_E_PROFILE, "'%s' is not a size (digits after '.')", s);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return vl_err_set(err, VL_E_PROFILE,
				  "size '%s' needs a unit: K, M, G or T", s);
	for (size_t i = 0; i < VL_ARRAY_SIZE(units); i++)
		if (strcasecmp(p, units[i].name) == 0)
			mult = units[i].mult;
	if (!mult) {
		if (strcasecmp(p, "B") == 0 || strcasecmp(p, "KB") == 0 || strcasecmp(p, "MB") == 0 ||
		    strcasecmp(p, "GB") == 0 || strcasecmp(p, "TB") == 0)
			return vl_err_set(err, VL_E_PROFILE, "size '%s': use binary units K, M, G, T "
					  "(or KiB, MiB, GiB, TiB)", s);
		return vl_err_set(err, VL_E_PROFILE, "size '%s' has an unknown unit '%s' "
				  "(K, M, G, T or KiB, MiB, GiB, TiB)", s, p);
	}
	if (whole > UINT64_MAX / mult)
		return vl_err_set(err, VL_E_PROFILE, "size '%s' is too large", s);
	whole *= mult;
	if (nfrac) {
		/* frac < 10^6 and mult <= 2^40: the product fits in 64 bits */
		uint64_t f = frac * mult;
		if (f % scale != 0 || (whole + f / scale) % MiB != 0)
			return vl_err_set(err, VL_E_PROFILE, "size '%s' is not a whole number of MiB; "
					  "write it in M (for example %lluM)", s,
					  (unsigned long long)((whole + f / scale) / MiB));
		if (whole > UINT64_MAX - f / scale)
			return vl_err_set(err, VL_E_PROFILE, "size '%s' is too large", s);
		whole += f / scale;
	}
	*out = whole;
	return 0;
}

/* ---- loader state --------------------------------------------------- */

struct loader {
	struct vl_profile *p;
	const char *file;          /* as shown in diagnostics */
	struct vl_diags *diags;
	const struct vl_ini_lines *ini;
	struct vl_profile_trust trust;
	int subnet_line, name_line;
	bool subnet_ok;            /* subnet parsed (auto or a CIDR) */
	bool vm_header;            /* some [vm ...] header, even a bad one */
	int *fwd_lines;            /* per VM: line of its forward key (0: none) */
};

static void problem(struct loader *l, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vl_diags_addv(l->diags, l->file, line, fmt, ap);
	va_end(ap);
}

static const char *const lab_keys[] = { "name", "network", "subnet", "user", "persist" };
static const char *const defaults_keys[] = { "image", "cpus", "memory", "disk" };
static const char *const vm_keys[] = { "image", "cpus", "memory", "disk", "count", "ip",
				       "provision", "user-data", "forward", "sync" };
static const char *const class_keys[] = { "seats", "roster", "baseline", "jump", "jump_key" };
static const char *const section_kinds[] = { "lab", "defaults", "vm", "class" };

static bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vl_streq(w, list[i]))
			return true;
	return false;
}

static bool parse_uint_range(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long n;

	if (!vl_str_to_u64(v, &n) || n < min || n > max)
		return false;
	*out = (unsigned)n;
	return true;
}

/* Path relative to the project directory, made absolute (no symlink
 * resolution: the user's spelling stays recognisable). */
static char *project_path(const struct vl_profile *p, const char *v)
{
	struct vl_buf b = VL_BUF_INIT;

	if (v[0] == '/')
		vl_buf_append(&b, v);
	else
		vl_buf_printf(&b, "%s/%s", p->dir, v);
	return vl_buf_steal(&b);
}

/* An existing path the profile names must resolve (symlinks followed)
 * inside the project directory unless trusted: a cloned profile could
 * otherwise copy any file the user can read into a VM or the image cache.
 * Reported (with both ways to allow it) when not. */
static bool inside_project(struct loader *l, const struct vl_ini_key *k, const char *path)
{
	VL_AUTOFREE char *real = realpath(path, NULL);
	const char *dir = l->p->dir;
	size_t n = strlen(dir);

	if (l->trust.allow_outside)
		return true;
	if (real && strncmp(real, dir, n) == 0 && (real[n] == '/' || real[n] == '\0' || n == 1))
		return true;
	problem(l, k->line, "%s '%s' resolves to %s, outside the project directory %s; pass "
		"--allow-outside or set allow_outside = yes in [profile] of vmlab.conf", k->key,
		k->value, real ? real : path, dir);
	return false;
}

/* A file the profile names must exist, be a regular file, and lie inside
 * the project (inside_project). */
static char *project_file(struct loader *l, const struct vl_ini_key *k)
{
	char *path = project_path(l->p, k->value);
	struct stat st;

	if (stat(path, &st) != 0) {
		problem(l, k->line, "%s '%s': %s", k->key, k->value, strerror(errno));
		free(path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(l, k->line, "%s '%s' is not a regular file", k->key, k->value);
		free(path);
		return NULL;
	}
	if (!inside_project(l, k, path)) {
		free(path);
		return NULL;
	}
	return path;
}

/* image = file:///PATH: a local file as a URL, held to the same rule. */
static bool file_url_ok(struct loader *l, const struct vl_ini_key *k)
{
	VL_AUTOFREE char *path = vl_file_url_path(k->value);
	struct stat st;

	if (!path || path[0] != '/') {
		problem(l, k->line, "image '%s': a file URL is file:///ABSOLUTE/PATH", k->value);
		return false;
	}
	if (stat(path, &st) != 0) {
		problem(l, k->line, "image '%s': %s", k->value, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(l, k->line, "image '%s' is not a regular file", k->value);
		return false;
	}
	return inside_project(l, k, path);
}

static bool image_is_path(const char *v)
{
	return v[0] == '/' || vl_str_startswith(v, "./") || vl_str_startswith(v, "../");
}

/* ---- per-section validation ----------------------------------------- */

/* For a bare number ("2048"), a suggestion that is itself valid: the
 * smallest of M, G and T that puts it in [min, max]; "" if none does. */
static void unit_hint(char *out, size_t n, const char *v, uint64_t min, uint64_t max)
{
	static const struct { char unit; uint64_t mult; } units[] = {
		{ 'M', MiB }, { 'G', GiB }, { 'T', TiB },
	};
	uint64_t num = 0;

	out[0] = '\0';
	for (const char *p = v; *p; p++) {
		if (!isdigit((unsigned char)*p) || num > UINT32_MAX)
			return;
		num = num * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; i < VL_ARRAY_SIZE(units); i++) {
		if (num * units[i].mult >= min && num * units[i].mult <= max) {
			snprintf(out, n, " (for example %llu%c)", (unsigned long long)num,
				 units[i].unit);
			return;
		}
	}
}

/* Apply one key shared by [defaults] and [vm] to spec; false if unknown. */
static bool machine_key(struct loader *l, struct vl_vm_spec *spec, const struct vl_ini_key *k)
{
	struct vl_err e = VL_ERR_INIT;
	uint64_t size;

	if (vl_streq(k->key, "image")) {
		char *img;
		if (image_is_path(k->value)) {
			img = project_file(l, k);
			if (!img)
				return true;
		} else if (vl_str_startswith(k->value, "file:")) {
			if (!file_url_ok(l, k))
				return true;
			img = vl_strdup(k->value);
		} else if (strchr(k->value, '/') && !strstr(k->value, "://")) {
			problem(l, k->line, "image '%s': a local path starts with '/', './' or '../'; "
				"a catalog name has no '/'", k->value);
			return true;
		} else {
			img = vl_strdup(k->value);
		}
		free(spec->image);
		spec->image = img;
		spec->image_line = k->line;
	} else if (vl_streq(k->key, "cpus")) {
		if (!parse_uint_range(k->value, 1, VL_CPUS_MAX, &spec->cpus))
			problem(l, k->line, "cpus must be a whole number from 1 to %d, not '%s'",
				VL_CPUS_MAX, k->value);
	} else if (vl_streq(k->key, "memory")) {
		if (vl_parse_size(k->value, &size, &e) < 0) {
			char hint[48];
			unit_hint(hint, sizeof(hint), k->value, MEMORY_MIN, MEMORY_MAX);
			problem(l, k->line, "memory: %s%s", e.msg, hint);
		}
		else if (size < MEMORY_MIN || size > MEMORY_MAX)
			problem(l, k->line, "memory %s is out of range: 128M to 1T", k->value);
		else if (size % MiB)
			problem(l, k->line, "memory %s is not a whole number of MiB", k->value);
		else
			spec->memory = size;
	} else if (vl_streq(k->key, "disk")) {
		if (vl_parse_size(k->value, &size, &e) < 0) {
			char hint[48];
			unit_hint(hint, sizeof(hint), k->value, DISK_MIN, DISK_MAX);
			problem(l, k->line, "disk: %s%s", e.msg, hint);
		}
		else if (size < DISK_MIN || size > DISK_MAX)
			problem(l, k->line, "disk %s is out of range: 1G to 64T", k->value);
		else if (size % MiB)
			problem(l, k->line, "disk %s is not a whole number of MiB", k->value);
		else
			spec->disk = size;
	} else {
		return false;
	}
	return true;
}

/* One provision entry (the key may come several times, in order): parsed,
 * and the host file it sends must exist. */
static void provision_key(struct loader *l, struct vl_vm_spec *vm, const struct vl_ini_key *k)
{
	struct vl_err e = VL_ERR_INIT;
	struct vl_prov p;
	struct stat st;

	if (vl_prov_parse(k->value, l->p->dir, &p, &e) < 0) {
		problem(l, k->line, "%s", e.msg);
		return;
	}
	p.line = k->line;
	if (stat(p.src, &st) != 0)
		problem(l, k->line, "provision '%s': %s", k->value, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		problem(l, k->line, "provision '%s': not a regular file", k->value);
	else if (inside_project(l, k, p.src)) {
		vm->provision = vl_realloc(vm->provision, (vm->n_provision + 1) * sizeof(p));
		vm->provision[vm->n_provision++] = p;
		return;
	}
	vl_prov_release(&p);
}

/* forward = SPEC[, SPEC...] (commas or blanks): [[BIND:]LOCAL:]REMOTE each. */
static void forward_key(struct loader *l, struct vl_vm_spec *vm, const struct vl_ini_key *k)
{
	VL_AUTOFREE char *copy = vl_strdup(k->value);
	char *save = NULL;

	for (char *w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
		struct vl_err e = VL_ERR_INIT;
		struct vl_fwd_spec f;
		if (vl_fwd_parse(w, &f, &e) < 0) {
			problem(l, k->line, "%s", e.msg);
			continue;
		}
		vm->forwards = vl_realloc(vm->forwards, (vm->n_forwards + 1) * sizeof(f));
		vm->forwards[vm->n_forwards++] = f;
	}
	l->fwd_lines[l->p->n_vms] = k->line;
}

/* One sync entry (several allowed): parsed, and its host side must be a
 * directory; two entries may not write the same guest directory. */
static void sync_key(struct loader *l, struct vl_vm_spec *vm, const struct vl_ini_key *k)
{
	struct vl_err e = VL_ERR_INIT;
	struct vl_sync_spec sp;
	struct stat st;

	if (vl_sync_spec_parse(k->value, l->p->dir, &sp, &e) < 0) {
		problem(l, k->line, "%s", e.msg);
		return;
	}
	sp.line = k->line;
	for (size_t i = 0; i < vm->n_sync; i++)
		if (vl_streq(vm->sync[i].dst, sp.dst)) {
			problem(l, k->line, "sync '%s': %s is already synced (line %d)", k->value,
				sp.dst, vm->sync[i].line);
			goto bad;
		}
	if (stat(sp.src, &st) != 0)
		problem(l, k->line, "sync '%s': %s", k->value, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		problem(l, k->line, "sync '%s': not a directory", k->value);
	else if (inside_project(l, k, sp.src)) {
		vm->sync = vl_realloc(vm->sync, (vm->n_sync + 1) * sizeof(sp));
		vm->sync[vm->n_sync++] = sp;
		return;
	}
bad:
	vl_sync_spec_release(&sp);
}

static void vm_key(struct loader *l, struct vl_vm_spec *vm, const struct vl_ini_key *k,
		   int *ip_line)
{
	if (machine_key(l, vm, k))
		return;
	if (vl_streq(k->key, "count")) {
		if (!parse_uint_range(k->value, 1, VL_COUNT_MAX, &vm->count))
			problem(l, k->line, "count must be a whole number from 1 to %d, not '%s'",
				VL_COUNT_MAX, k->value);
	} else if (vl_streq(k->key, "ip")) {
		uint32_t a;
		if (!vl_ipv4_parse(k->value, &a)) {
			problem(l, k->line, "ip '%s' is not an IPv4 address such as 10.77.3.20", k->value);
			return;
		}
		free(vm->ip);   /* a duplicate key was reported; keep the last */
		vm->ip = vl_strdup(k->value);
		*ip_line = k->line;
	} else if (vl_streq(k->key, "provision")) {
		provision_key(l, vm, k);
	} else if (vl_streq(k->key, "sync")) {
		sync_key(l, vm, k);
	} else if (vl_streq(k->key, "user-data")) {
		free(vm->user_data);
		vm->user_data = project_file(l, k);
	} else if (vl_streq(k->key, "forward")) {
		forward_key(l, vm, k);
	}
}

static bool valid_user(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 32 || !(islower((unsigned char)u[0]) || u[0] == '_'))
		return false;
	for (const char *c = u; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_' ||
		      *c == '-'))
			return false;
	return true;
}

static void lab_key(struct loader *l, const struct vl_ini_key *k)
{
	struct vl_profile *p = l->p;

	if (vl_streq(k->key, "name")) {
		l->name_line = k->line;
		if (!vl_str_is_name(k->value, VL_NAME_MAX))
			problem(l, k->line, "lab name '%s': use lowercase letters, digits and '-', "
				"at most %d characters, not starting or ending with '-'", k->value,
				VL_NAME_MAX);
		else {
			free(p->name);
			p->name = vl_strdup(k->value);
		}
	} else if (vl_streq(k->key, "network")) {
		if (vl_streq(k->value, "nat"))
			p->network = VL_NET_NAT;
		else if (vl_streq(k->value, "isolated"))
			p->network = VL_NET_ISOLATED;
		else
			problem(l, k->line, "network must be nat or isolated, not '%s'", k->value);
	} else if (vl_streq(k->key, "subnet")) {
		l->subnet_line = k->line;
		if (vl_streq(k->value, "auto")) {
			p->subnet_auto = true;
			l->subnet_ok = true;
		} else if (!vl_cidr_parse(k->value, &p->subnet_addr, &p->subnet_prefix)) {
			problem(l, k->line, "subnet must be auto or a CIDR such as 10.77.3.0/24 "
				"(no host bits set), not '%s'", k->value);
		} else if (p->subnet_prefix < SUBNET_PREFIX_MIN || p->subnet_prefix > SUBNET_PREFIX_MAX) {
			problem(l, k->line, "subnet %s: the prefix must be /%d to /%d", k->value,
				SUBNET_PREFIX_MIN, SUBNET_PREFIX_MAX);
		} else if (!vl_config_subnet_allowed(l->trust.config, p->subnet_addr,
						     p->subnet_prefix)) {
			problem(l, k->line, "subnet %s is not private address space (10.0.0.0/8, "
				"172.16.0.0/12, 192.168.0.0/16): a lab network takes over the host's "
				"route to it; add it to [network] allow_subnets in vmlab.conf to use it",
				k->value);
		} else {
			p->subnet_auto = false;
			l->subnet_ok = true;
		}
	} else if (vl_streq(k->key, "persist")) {
		if (!parse_uint_range(k->value, 0, VL_PERSIST_MAX, &p->persist))
			problem(l, k->line, "persist must be whole seconds from 0 (no held session) "
				"to %d, not '%s'", VL_PERSIST_MAX, k->value);
	} else if (vl_streq(k->key, "user")) {
		if (!valid_user(k->value))
			problem(l, k->line, "user '%s': a login name of lowercase letters, digits, "
				"'_' and '-', starting with a letter, at most 32 characters", k->value);
		else if (vl_streq(k->value, "root"))
			problem(l, k->line, "user must not be root: vmlab creates this user");
		else {
			free(p->user);
			p->user = vl_strdup(k->value);
		}
	}
}

/* ---- [class] -------------------------------------------------------- */

#define ROSTER_MAX_BYTES (256u * 1024)

static bool host_ok(const char *h)
{
	if (!*h || strlen(h) > 253 || *h == '-' || *h == '.')
		return false;
	for (const char *c = h; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '.'))
			return false;
	return true;
}

/* USER@HOST[:PORT]: the sshd account students jump through. */
static bool parse_jump(struct loader *l, const struct vl_ini_key *k, char **user, char **addr,
		       unsigned *port_out)
{
	VL_AUTOFREE char *v = vl_strdup(k->value);
	char *at = strchr(v, '@'), *colon;
	unsigned port = 22;

	if (!at) {
		problem(l, k->line, "%s '%s': write USER@HOST[:PORT], for example "
			"lab@lab.example.org", k->key, k->value);
		return false;
	}
	*at = '\0';
	colon = strchr(at + 1, ':');
	if (colon) {
		*colon = '\0';
		if (!parse_uint_range(colon + 1, 1, 65535, &port)) {
			problem(l, k->line, "%s '%s': the port must be 1 to 65535", k->key, k->value);
			return false;
		}
	}
	if (!valid_user(v)) {
		problem(l, k->line, "%s '%s': '%s' is not a login name", k->key, k->value, v);
		return false;
	}
	if (!host_ok(at + 1)) {
		problem(l, k->line, "%s '%s': '%s' is not a host name or IPv4 address", k->key,
			k->value, at + 1);
		return false;
	}
	free(*user);
	free(*addr);
	*user = vl_strdup(v);
	*addr = vl_strdup(at + 1);
	*port_out = port;
	return true;
}

/* jump.HOST / jump_key.HOST: the entry of libvirt host HOST, made on first
 * use; NULL (reported) for a name that cannot be a host's. */
static struct vl_class_jump *host_jump(struct loader *l, const struct vl_ini_key *k,
				       const char *name)
{
	struct vl_class_spec *c = &l->p->klass;

	if (!vl_str_is_name(name, VL_CLASS_HOST_NAME_MAX)) {
		problem(l, k->line, "%s: '%s' is not a host name of vmlab.conf [hosts] (lowercase "
			"letters, digits and '-')", k->key, name);
		return NULL;
	}
	for (size_t i = 0; i < c->n_host_jumps; i++)
		if (vl_streq(c->host_jumps[i].host, name))
			return &c->host_jumps[i];
	if (c->n_host_jumps == VL_CLASS_JUMPS_MAX) {
		problem(l, k->line, "%s: more than %d hosts with a jump of their own", k->key,
			VL_CLASS_JUMPS_MAX);
		return NULL;
	}
	c->host_jumps = vl_realloc(c->host_jumps, (c->n_host_jumps + 1) * sizeof(*c->host_jumps));
	c->host_jumps[c->n_host_jumps] = (struct vl_class_jump){ .host = vl_strdup(name) };
	return &c->host_jumps[c->n_host_jumps++];
}

static void read_roster(struct loader *l, const struct vl_ini_key *k)
{
	struct vl_class_spec *c = &l->p->klass;
	struct vl_err e = VL_ERR_INIT;
	VL_AUTOFREE char *text = NULL;
	char *path = project_file(l, k);
	size_t len = 0;

	if (!path)
		return;
	if (vl_file_read(path, ROSTER_MAX_BYTES, &text, &len, &e) < 0) {
		problem(l, k->line, "roster: %s", e.msg);
		free(path);
		return;
	}
	free(c->roster);
	c->roster = path;
	vl_seat_specs_free(c->seats, c->n_seats);
	vl_class_roster_parse(text, len, k->value, l->diags, &c->seats, &c->n_seats);
}

static void class_key(struct loader *l, const struct vl_ini_key *k, int *seats_line,
		      int *roster_line)
{
	struct vl_class_spec *c = &l->p->klass;

	if (vl_streq(k->key, "seats")) {
		unsigned n;
		*seats_line = k->line;
		if (!parse_uint_range(k->value, 1, VL_CLASS_SEATS_MAX, &n)) {
			problem(l, k->line, "seats must be a whole number from 1 to %d, not '%s'",
				VL_CLASS_SEATS_MAX, k->value);
			return;
		}
		if (*roster_line)
			return;   /* reported once both are known */
		vl_seat_specs_free(c->seats, c->n_seats);
		c->seats = vl_class_seats_numbered(n);
		c->n_seats = n;
	} else if (vl_streq(k->key, "roster")) {
		*roster_line = k->line;
		read_roster(l, k);
	} else if (vl_streq(k->key, "baseline")) {
		bool ok = strlen(k->value) <= 64 && k->value[0] != '.' && k->value[0] != '-';
		for (const char *ch = k->value; *ch && ok; ch++)
			ok = isalnum((unsigned char)*ch) || *ch == '.' || *ch == '_' || *ch == '-';
		if (!ok) {
			problem(l, k->line, "baseline '%s': a snapshot name of letters, digits, '.', '_' "
				"and '-', at most 64 characters", k->value);
			return;
		}
		free(c->baseline);
		c->baseline = vl_strdup(k->value);
	} else if (vl_streq(k->key, "jump")) {
		if (parse_jump(l, k, &c->jump_user, &c->jump_host, &c->jump_port))
			c->jump_line = k->line;
	} else if (vl_streq(k->key, "jump_key")) {
		free(c->jump_key);
		c->jump_key = project_file(l, k);
	} else if (strncmp(k->key, "jump.", 5) == 0) {
		struct vl_class_jump *j = host_jump(l, k, k->key + 5);
		if (j && parse_jump(l, k, &j->user, &j->addr, &j->port))
			j->line = k->line;
	} else if (strncmp(k->key, "jump_key.", 9) == 0) {
		struct vl_class_jump *j = host_jump(l, k, k->key + 9);
		if (j) {
			free(j->key);
			j->key = project_file(l, k);
			j->key_line = k->line;
		}
	}
}

static void class_done(struct loader *l, int seats_line, int roster_line)
{
	struct vl_class_spec *c = &l->p->klass;

	if (!c->line)
		return;
	if (seats_line && roster_line) {
		problem(l, seats_line > roster_line ? seats_line : roster_line,
			"[class] takes seats = N or roster = FILE, not both");
	} else if (!seats_line && !roster_line) {
		problem(l, c->line, "[class] needs seats = N or roster = FILE (id,name[,email] "
			"per line)");
	}
	if (!c->baseline)
		c->baseline = vl_strdup("baseline");
	c->jump_view = (struct vl_class_jump){
		.user = c->jump_user, .addr = c->jump_host, .port = c->jump_port,
		.key = c->jump_key, .line = c->jump_line,
	};
	for (size_t i = 0; i < c->n_host_jumps; i++)
		if (!c->host_jumps[i].user && c->host_jumps[i].key_line)
			problem(l, c->host_jumps[i].key_line, "jump_key.%s without jump.%s = "
				"USER@HOST[:PORT]", c->host_jumps[i].host, c->host_jumps[i].host);
}

/* ---- sections ------------------------------------------------------- */

static void vm_spec_release(struct vl_vm_spec *vm)
{
	free(vm->name);
	free(vm->image);
	free(vm->ip);
	vl_provs_free(vm->provision, vm->n_provision);
	vl_sync_specs_free(vm->sync, vm->n_sync);
	free(vm->user_data);
	free(vm->forwards);
}

enum sec_kind { SEC_UNKNOWN, SEC_LAB, SEC_DEFAULTS, SEC_VM, SEC_CLASS };

/* A section's kind. *bad: a duplicate or a bad header (reported); its keys
 * are still checked, so every mistake shows in one run, but a bad [vm] is
 * not kept. */
static enum sec_kind classify(struct loader *l, const struct vl_ini_sec *s, const char **vm_name,
			      bool *bad)
{
	const char *name = s->name, *sp = strchr(name, ' ');
	size_t wlen = sp ? (size_t)(sp - name) : strlen(name);
	VL_AUTOFREE char *word = vl_strndup(name, wlen);
	const char *sugg;

	*bad = s->dup;   /* reported by the scanner */
	if (vl_streq(word, "vm")) {
		l->vm_header = true;
		*vm_name = sp ? sp + 1 : "";
		if (!sp) {
			problem(l, s->line, "[vm] needs a name: [vm NAME], for example [vm web]");
			*bad = true;
		} else if (!vl_str_is_name(*vm_name, VL_NAME_MAX)) {
			problem(l, s->line, "VM name '%s': use lowercase letters, digits and '-', "
				"at most %d characters, not starting or ending with '-'", *vm_name,
				VL_NAME_MAX);
			*bad = true;
		}
		return SEC_VM;
	}
	if (vl_streq(word, "lab") || vl_streq(word, "defaults") || vl_streq(word, "class")) {
		if (sp) {
			problem(l, s->line, "[%s] takes no name: write [%s]", word, word);
			*bad = true;
		}
		return word[0] == 'l' ? SEC_LAB : word[0] == 'd' ? SEC_DEFAULTS : SEC_CLASS;
	}
	sugg = vl_str_suggest(word, section_kinds, VL_ARRAY_SIZE(section_kinds));
	if (sugg && vl_streq(sugg, "vm") && sp)
		problem(l, s->line, "unknown section [%s]; did you mean [vm %s]?", name, sp + 1);
	else if (sugg && !vl_streq(sugg, "vm"))
		problem(l, s->line, "unknown section [%s]; did you mean [%s]?", name, sugg);
	else
		problem(l, s->line, "unknown section [%s]; sections are [lab], [defaults], "
			"[vm NAME] and [class]", name);
	return SEC_UNKNOWN;
}

/* Check one key's name for its section; false (and reported) if unknown or
 * empty. */
static bool key_ok(struct loader *l, const struct vl_ini_key *k, enum sec_kind kind,
		   const char *secname)
{
	const char *const *keys = kind == SEC_LAB ? lab_keys : kind == SEC_DEFAULTS ? defaults_keys :
				  kind == SEC_CLASS ? class_keys : vm_keys;
	size_t n = kind == SEC_LAB ? VL_ARRAY_SIZE(lab_keys) :
		   kind == SEC_DEFAULTS ? VL_ARRAY_SIZE(defaults_keys) :
		   kind == SEC_CLASS ? VL_ARRAY_SIZE(class_keys) : VL_ARRAY_SIZE(vm_keys);

	if (!in_list(k->key, keys, n) &&
	    !(kind == SEC_CLASS && (strncmp(k->key, "jump.", 5) == 0 ||
				    strncmp(k->key, "jump_key.", 9) == 0))) {
		if (kind == SEC_DEFAULTS && in_list(k->key, vm_keys, VL_ARRAY_SIZE(vm_keys)))
			problem(l, k->line, "'%s' is set per VM: move it to a [vm NAME] section",
				k->key);
		else
			vl_ini_unknown(l->diags, l->file, k->line, "key", k->key, secname, keys, n);
		return false;
	}
	if (!k->value[0]) {
		problem(l, k->line, "empty value for '%s' in [%s]", k->key, secname);
		return false;
	}
	return true;
}

/* Default lab name: the directory's name, lowercased, other characters
 * turned into '-', runs of '-' squeezed, trimmed, cut to VL_NAME_MAX. */
static char *name_from_dir(const char *dir)
{
	const char *base = strrchr(dir, '/');
	struct vl_buf b = VL_BUF_INIT;

	base = base ? base + 1 : dir;
	for (const char *c = base; *c; c++) {
		char ch = (char)tolower((unsigned char)*c);
		if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch)))
			ch = '-';
		if (ch == '-' && (b.len == 0 || b.s[b.len - 1] == '-'))
			continue;
		vl_buf_putc(&b, ch);
	}
	if (b.len > VL_NAME_MAX)
		vl_buf_truncate(&b, VL_NAME_MAX);
	while (b.len && b.s[b.len - 1] == '-')
		vl_buf_truncate(&b, b.len - 1);
	if (!b.len) {
		vl_buf_release(&b);
		return NULL;
	}
	return vl_buf_steal(&b);
}

/* ---- cross checks --------------------------------------------------- */

struct owner {
	char name[VL_NAME_MAX + 8];
	const struct vl_vm_spec *vm;
	int line;          /* line that made this name or address */
};

static void check_names(struct loader *l)
{
	struct vl_profile *p = l->p;
	size_t total = 0, n = 0;
	struct owner *names;

	for (size_t i = 0; i < p->n_vms; i++)
		total += p->vms[i].count;
	names = vl_calloc(total + 1, sizeof(*names));
	for (size_t i = 0; i < p->n_vms; i++) {
		const struct vl_vm_spec *vm = &p->vms[i];
		for (unsigned c = 1; c <= vm->count; c++) {
			struct owner *o = &names[n];
			if (vm->count == 1)
				snprintf(o->name, sizeof(o->name), "%s", vm->name);
			else
				snprintf(o->name, sizeof(o->name), "%s-%u", vm->name, c);
			if (strlen(o->name) > VL_NAME_MAX) {
				problem(l, vm->line, "VM name '%s' (from count = %u) is longer than %d "
					"characters; shorten [vm %s]", o->name, vm->count, VL_NAME_MAX,
					vm->name);
				break;
			}
			o->vm = vm;
			bool clash = false;
			for (size_t j = 0; j < n && !clash; j++) {
				if (!vl_streq(names[j].name, o->name))
					continue;
				clash = true;
				problem(l, vm->line, "VM name '%s' of [vm %s] clashes with '%s' of "
					"[vm %s] at line %d", o->name, vm->name, names[j].name,
					names[j].vm->name, names[j].vm->line);
			}
			if (clash)
				break;
			n++;
		}
	}
	free(names);
}

/* Fixed addresses and capacity against the layout the planner uses
 * (layout.h), so every problem `plan` would hit is reported here with its
 * line. With subnet = auto the subnet's size is vmlab.conf's lab_prefix,
 * which the plan checks (vl_lab_check). */
static void check_addresses(struct loader *l, const int *ip_lines)
{
	struct vl_profile *p = l->p;
	struct vl_layout lay;
	size_t total = 0, n = 0;
	struct { uint32_t ip; size_t vm; } *used;
	char cidr[VL_CIDR_STRLEN], a[VL_IPV4_STRLEN], b[VL_IPV4_STRLEN];

	for (size_t i = 0; i < p->n_vms; i++)
		total += p->vms[i].count;
	if (!l->subnet_ok)
		return;   /* the subnet itself was reported */
	if (p->subnet_auto) {
		for (size_t i = 0; i < p->n_vms; i++)
			if (p->vms[i].ip)
				problem(l, ip_lines[i], "ip needs a fixed [lab] subnet (a CIDR such as "
					"10.77.3.0/24), not subnet = auto");
		return;
	}
	vl_layout_init(&lay, p->subnet_addr, p->subnet_prefix);
	vl_cidr_format(lay.subnet, p->subnet_prefix, cidr);
	vl_ipv4_format(lay.vm_first, a);
	vl_ipv4_format(lay.vm_last, b);
	if (total > vl_layout_capacity(&lay))
		problem(l, l->subnet_line, "subnet %s is too small: it holds %u VMs (%s to %s; the "
			"rest is gateway, reserved or DHCP range), the lab has %zu", cidr,
			vl_layout_capacity(&lay), a, b, total);
	used = vl_calloc(total + 1, sizeof(*used));
	for (size_t i = 0; i < p->n_vms; i++) {
		const struct vl_vm_spec *vm = &p->vms[i];
		uint32_t first;
		if (!vm->ip || !vl_ipv4_parse(vm->ip, &first))
			continue;
		for (unsigned c = 0; c < vm->count; c++) {
			uint32_t ip = first + c;
			char s[VL_IPV4_STRLEN];
			const char *why;
			bool clash = false;
			vl_ipv4_format(ip, s);
			if (ip < first || (c > 0 && !vl_ipv4_in(ip, lay.subnet, lay.prefix))) {
				problem(l, ip_lines[i], "ip %s with count = %u runs past the end of "
					"subnet %s", vm->ip, vm->count, cidr);
				break;
			}
			why = vl_layout_ip_problem(&lay, ip);
			if (why) {
				problem(l, ip_lines[i], "ip %s%s %s (subnet %s: VMs use %s to %s)", s,
					c ? " (from count)" : "", why, cidr, a, b);
				break;
			}
			for (size_t j = 0; j < n && !clash; j++) {
				if (used[j].ip != ip)
					continue;
				clash = true;
				problem(l, ip_lines[i], "ip %s of [vm %s] is also used by [vm %s] "
					"(line %d)", s, vm->name, p->vms[used[j].vm].name,
					ip_lines[used[j].vm]);
			}
			if (clash)
				break;
			used[n].ip = ip;
			used[n++].vm = i;
		}
	}
	free(used);
}

/* A local port serves one VM: not with count > 1, not twice in the lab. */
static void check_forwards(struct loader *l)
{
	struct vl_profile *p = l->p;

	for (size_t i = 0; i < p->n_vms; i++) {
		const struct vl_vm_spec *vm = &p->vms[i];
		if (vm->n_forwards && vm->count > 1) {
			problem(l, l->fwd_lines[i], "forward with count = %u: the VMs cannot share "
				"local ports; forward from one VM each", vm->count);
			continue;
		}
		for (size_t a = 0; a < vm->n_forwards; a++) {
			const struct vl_fwd_spec *f = &vm->forwards[a];
			for (size_t j = 0; j <= i; j++) {
				const struct vl_vm_spec *o = &p->vms[j];
				size_t upto = j == i ? a : o->n_forwards;
				for (size_t b = 0; b < upto; b++) {
					const struct vl_fwd_spec *g = &o->forwards[b];
					if (g->local == f->local && (vl_streq(g->bind, f->bind) ||
					    vl_streq(g->bind, "0.0.0.0") || vl_streq(f->bind, "0.0.0.0")))
						problem(l, l->fwd_lines[i], "forward: local port %u is also "
							"forwarded by [vm %s] (line %d)", f->local, o->name,
							l->fwd_lines[j]);
				}
			}
		}
	}
}

/* ---- load ----------------------------------------------------------- */

static void validate(struct loader *l, const struct vl_ini_lines *ini)
{
	struct vl_profile *p = l->p;
	struct vl_vm_spec defaults = {
		.count = 1, .cpus = 1, .memory = GiB, .disk = 10 * GiB,
	};
	enum sec_kind *kinds = vl_calloc(ini->n_secs + 1, sizeof(*kinds));
	const char **vm_names = vl_calloc(ini->n_secs + 1, sizeof(*vm_names));
	bool *bad = vl_calloc(ini->n_secs + 1, sizeof(*bad));
	int *ip_lines;
	int seats_line = 0, roster_line = 0;

	p->network = VL_NET_NAT;
	p->subnet_auto = true;
	l->subnet_ok = true;
	p->user = vl_strdup("vmlab");
	p->persist = VL_PERSIST_DEFAULT;
	defaults.image = vl_strdup("debian-12");

	for (size_t i = 0; i < ini->n_secs; i++)
		kinds[i] = classify(l, &ini->secs[i], &vm_names[i], &bad[i]);
	/* [lab] and [defaults] first: a [vm] may come before them in the file */
	for (size_t i = 0; i < ini->n_keys; i++) {
		const struct vl_ini_key *k = &ini->keys[i];
		if (k->sec == VL_INI_NOSEC)
			continue;
		enum sec_kind kind = kinds[k->sec];
		if (kind == SEC_LAB && key_ok(l, k, kind, "lab"))
			lab_key(l, k);
		else if (kind == SEC_DEFAULTS && key_ok(l, k, kind, "defaults"))
			machine_key(l, &defaults, k);
		else if (kind == SEC_CLASS && key_ok(l, k, kind, "class"))
			class_key(l, k, &seats_line, &roster_line);
	}
	for (size_t i = 0; i < ini->n_secs; i++)
		if (kinds[i] == SEC_CLASS)
			p->klass.line = ini->secs[i].line;
	class_done(l, seats_line, roster_line);
	ip_lines = vl_calloc(ini->n_secs + 1, sizeof(*ip_lines));
	l->fwd_lines = vl_calloc(ini->n_secs + 1, sizeof(*l->fwd_lines));
	for (size_t i = 0; i < ini->n_secs; i++) {
		struct vl_vm_spec *vm, scratch;
		VL_AUTOFREE char *secname = NULL;
		if (kinds[i] != SEC_VM)
			continue;
		if (bad[i]) {
			vm = &scratch;
		} else {
			p->vms = vl_realloc(p->vms, (p->n_vms + 1) * sizeof(*p->vms));
			vm = &p->vms[p->n_vms];
		}
		*vm = defaults;
		vm->name = vl_strdup(vm_names[i]);
		vm->line = ini->secs[i].line;
		vm->image = vl_strdup(defaults.image);
		secname = vl_strdup(ini->secs[i].name);
		for (size_t k = 0; k < ini->n_keys; k++)
			if (ini->keys[k].sec == i && key_ok(l, &ini->keys[k], SEC_VM, secname))
				vm_key(l, vm, &ini->keys[k], &ip_lines[p->n_vms]);
		if (bad[i]) {
			vm_spec_release(&scratch);
			ip_lines[p->n_vms] = l->fwd_lines[p->n_vms] = 0;
			continue;
		}
		p->n_vms++;
	}
	if (p->n_vms == 0 && !l->vm_header)
		problem(l, 0, "no [vm NAME] section: a lab needs at least one VM");
	if (!p->name && !l->name_line) {
		p->name = name_from_dir(p->dir);
		if (!p->name)
			problem(l, 0, "cannot make a lab name from the directory name '%s'; "
				"set name = ... in [lab]", p->dir);
	}
	check_names(l);
	check_addresses(l, ip_lines);
	check_forwards(l);
	free(ip_lines);
	free(l->fwd_lines);
	l->fwd_lines = NULL;
	free(defaults.image);
	free(kinds);
	free(bad);
	free(vm_names);
}

/* Readers go top-down: order this load's diagnostics by line (stable, so
 * problems of one line keep their order; line 0, file-wide, goes last). */
static void sort_diags(struct vl_diags *d, size_t from)
{
	for (size_t i = from + 1; i < d->n; i++) {
		struct vl_diag x = d->items[i];
		int kx = x.line ? x.line : __INT_MAX__;
		size_t j = i;
		while (j > from && (d->items[j - 1].line ? d->items[j - 1].line : __INT_MAX__) > kx) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = x;
	}
}

int vl_profile_load(struct vl_profile *p, const char *path, struct vl_diags *diags,
		    struct vl_err *err)
{
	return vl_profile_load_trusted(p, path, NULL, diags, err);
}

int vl_profile_load_trusted(struct vl_profile *p, const char *path,
			    const struct vl_profile_trust *trust, struct vl_diags *diags,
			    struct vl_err *err)
{
	struct loader l = { .p = p, .file = path, .diags = diags };
	static const char *const lists[] = { "provision", "sync", NULL };
	VL_AUTO(vl_ini_lines) ini = VL_INI_LINES_INIT;
	VL_AUTOFREE char *text = NULL;
	size_t len = 0, before = diags->n, problems;
	char *slash;

	*p = (struct vl_profile){ 0 };
	p->path = realpath(path, NULL);
	if (!p->path)
		return vl_err_sys(err, VL_E_PROFILE, errno, "%s", path);
	if (vl_file_read(p->path, PROFILE_MAX_BYTES, &text, &len, err) < 0) {
		vl_profile_release(p);
		if (err)
			err->code = VL_E_PROFILE;
		return -1;
	}
	p->dir = vl_strdup(p->path);
	slash = strrchr(p->dir, '/');
	slash[slash == p->dir] = '\0';   /* realpath: always absolute */
	if (trust)
		l.trust = *trust;
	ini.lists = lists;
	vl_ini_scan(&ini, text, len, path, diags);
	validate(&l, &ini);
	problems = diags->n - before;
	sort_diags(diags, before);
	if (problems) {
		vl_profile_release(p);
		return vl_err_set(err, VL_E_PROFILE, "%zu problem%s in %s", problems,
				  problems == 1 ? "" : "s", path);
	}
	return 0;
}

void vl_profile_release(struct vl_profile *p)
{
	if (p)
		free(p->instance);
	if (!p)
		return;
	for (size_t i = 0; i < p->n_vms; i++)
		vm_spec_release(&p->vms[i]);
	free(p->vms);
	vl_seat_specs_free(p->klass.seats, p->klass.n_seats);
	free(p->klass.roster);
	free(p->klass.baseline);
	free(p->klass.jump_user);
	free(p->klass.jump_host);
	free(p->klass.jump_key);
	for (size_t i = 0; i < p->klass.n_host_jumps; i++) {
		free(p->klass.host_jumps[i].host);
		free(p->klass.host_jumps[i].user);
		free(p->klass.host_jumps[i].addr);
		free(p->klass.host_jumps[i].key);
	}
	free(p->klass.host_jumps);
	free(p->path);
	free(p->dir);
	free(p->name);
	free(p->user);
	*p = (struct vl_profile){ 0 };
}

char *vl_profile_find(const char *start_dir, struct vl_err *err)
{
	VL_AUTOFREE char *dir = realpath(start_dir, NULL);
	struct vl_buf b = VL_BUF_INIT;
	struct stat st;

	if (!dir) {
		vl_err_sys(err, VL_E_PROFILE, errno, "%s", start_dir);
		return NULL;
	}
	for (char *end = dir + strlen(dir);;) {
		vl_buf_truncate(&b, 0);
		vl_buf_printf(&b, "%.*s/%s", (int)(end - dir), dir, VL_PROFILE_FILE);
		if (stat(b.s, &st) == 0 && S_ISREG(st.st_mode))
			return vl_buf_steal(&b);
		if (end == dir)
			break;
		while (end > dir && end[-1] != '/')
			end--;
		if (end > dir)
			end--;    /* drop the '/' too; "" stands for the root */
	}
	vl_buf_release(&b);
	vl_err_set(err, VL_E_PROFILE, "no %s in %s or any parent directory; run 'vmlab init'",
		   VL_PROFILE_FILE, start_dir);
	return NULL;
}
