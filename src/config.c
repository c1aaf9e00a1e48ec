/* vmlab.conf: find the file (--config, $VMLAB_CONFIG, ~/.config, /etc), read
 * it with the INI scanner, check every key against the table below, then
 * apply the environment overrides. All problems are reported in one run. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini_lines.h"
#include "profile.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/ipv4.h"
#include "util/mem.h"
#include "util/str.h"

#define CONF_MAX_BYTES (64u * 1024)

struct loader {
	struct vl_config *cfg;
	const char *file;        /* as shown in diagnostics */
	char *dir;               /* directory of the file, for relative catalog paths */
	struct vl_diags *diags;
	unsigned problems;
};

static void problem(struct loader *l, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct loader *l, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vl_diags_addv(l->diags, l->file, line, fmt, ap);
	va_end(ap);
	l->problems++;
}

static const char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && *h)
		return h;
	pw = getpwuid(geteuid());
	return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
}

/* "~/x" -> "$HOME/x"; relative paths resolved against base (may be NULL:
 * then they are refused by the caller). Returns NULL when it cannot. */
static char *expand_path(const char *v, const char *base)
{
	struct vl_buf b = VL_BUF_INIT;

	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
		const char *h = home_dir();
		if (!h)
			return NULL;
		vl_buf_printf(&b, "%s%s", h, v + 1);
	} else if (v[0] == '/') {
		vl_buf_append(&b, v);
	} else if (base) {
		vl_buf_printf(&b, "%s/%s", base, v);
	} else {
		return NULL;
	}
	return vl_buf_steal(&b);
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = vl_strdup(v);
}

static bool parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long n;

	if (!vl_str_to_u64(v, &n) || n < min || n > max)
		return false;
	*out = (unsigned)n;
	return true;
}

static bool parse_accel(const char *v, enum vl_accel *out)
{
	for (int a = VL_ACCEL_AUTO; a <= VL_ACCEL_TCG; a++) {
		if (vl_streq(v, vl_accel_name((enum vl_accel)a))) {
			*out = (enum vl_accel)a;
			return true;
		}
	}
	return false;
}

typedef void (*setter)(struct loader *l, const char *v, int line);

static void set_uri(struct loader *l, const char *v, int line)
{
	(void)line;
	set_str(&l->cfg->uri, v);
}

static void set_accel(struct loader *l, const char *v, int line)
{
	if (!parse_accel(v, &l->cfg->accel))
		problem(l, line, "accel must be auto, kvm or tcg, not '%s'", v);
}

static void set_pool(struct loader *l, const char *v, int line)
{
	if (!vl_str_is_name(v, 64))
		problem(l, line, "pool '%s': use a name of [a-z0-9-]", v);
	else
		set_str(&l->cfg->pool_name, v);
}

static void set_abs_dir(struct loader *l, const char *v, int line, const char *key, char **dst)
{
	char *p = expand_path(v, NULL);

	if (!p) {
		problem(l, line, "%s must be an absolute path (or start with ~/), not '%s'", key, v);
		return;
	}
	free(*dst);
	*dst = p;
}

static void set_pool_dir(struct loader *l, const char *v, int line)
{
	set_abs_dir(l, v, line, "pool_dir", &l->cfg->pool_dir);
}

static void set_log_dir(struct loader *l, const char *v, int line)
{
	set_abs_dir(l, v, line, "log_dir", &l->cfg->log_dir);
}

static void set_cache(struct loader *l, const char *v, int line)
{
	set_abs_dir(l, v, line, "cache", &l->cfg->cache_dir);
}

static void set_catalog(struct loader *l, const char *v, int line)
{
	VL_AUTOFREE char *copy = vl_strdup(v);
	char *rest = copy, *tok;
	struct vl_config *c = l->cfg;

	/* strsep, not strtok: "a.ini,,b.ini" has an empty entry to report */
	while ((tok = strsep(&rest, ","))) {
		vl_str_trim(tok);
		if (!*tok) {
			problem(l, line, "empty entry in the catalog list");
			continue;
		}
		char *p = expand_path(tok, l->dir);
		if (!p) {
			problem(l, line, "catalog '%s': cannot resolve ~ without $HOME", tok);
			continue;
		}
		c->catalogs = vl_realloc(c->catalogs, (c->n_catalogs + 1) * sizeof(*c->catalogs));
		c->catalogs[c->n_catalogs++] = p;
	}
}

/* A CA bundle that cannot be read would fail every https pull later, with
 * a TLS message that does not say why: say it here. */
static void set_ca_file(struct loader *l, const char *v, int line)
{
	char *p = expand_path(v, l->dir);

	if (!p) {
		problem(l, line, "ca_file '%s': cannot resolve ~ without $HOME", v);
		return;
	}
	if (access(p, R_OK) < 0) {
		problem(l, line, "ca_file %s: %s", p, strerror(errno));
		free(p);
		return;
	}
	free(l->cfg->ca_file);
	l->cfg->ca_file = p;
}

static void set_max_image(struct loader *l, const char *v, int line)
{
	struct vl_err e = VL_ERR_INIT;
	uint64_t n;

	if (vl_parse_size(v, &n, &e) < 0 || n < (1u << 20))
		problem(l, line, "max_image_size must be a size of at least 1M such as 64G, not '%s'", v);
	else
		l->cfg->max_image_size = n;
}

#define UINT_SETTER(fn, field, key, min, max, unit) \
	static void fn(struct loader *l, const char *v, int line) \
	{ \
		if (!parse_uint(v, min, max, &l->cfg->field)) \
			problem(l, line, "%s must be a whole number from %u to %u%s, not '%s'", \
				key, (unsigned)(min), (unsigned)(max), unit, v); \
	}

UINT_SETTER(set_stall, stall_timeout, "stall_timeout", 1, 86400, " (seconds)")
UINT_SETTER(set_parallel, parallel, "parallel", 1, 256, "")
UINT_SETTER(set_boot, boot_timeout, "boot_timeout", 1, 86400, " (seconds)")
UINT_SETTER(set_halt, halt_timeout, "timeout", 0, 86400, " (seconds)")

static void set_subnet_pool(struct loader *l, const char *v, int line)
{
	uint32_t a;
	unsigned p;

	if (!vl_cidr_parse(v, &a, &p))
		problem(l, line, "subnet_pool must be a CIDR such as 10.77.0.0/16 "
			"(no host bits set), not '%s'", v);
	else if (p < 8 || p > 29)
		problem(l, line, "subnet_pool prefix must be /8 to /29, not /%u", p);
	else {
		l->cfg->pool_addr = a;
		l->cfg->pool_prefix = p;
	}
}

static void set_allow_subnets(struct loader *l, const char *v, int line)
{
	VL_AUTOFREE char *copy = vl_strdup(v);
	char *rest = copy, *tok;
	struct vl_config *c = l->cfg;
	struct vl_subnet s;

	while ((tok = strsep(&rest, ","))) {
		vl_str_trim(tok);
		if (!vl_cidr_parse(tok, &s.addr, &s.prefix) || s.prefix < 8) {
			problem(l, line, "allow_subnets: '%s' is not a CIDR of /8 or longer such as "
				"100.64.0.0/10 (no host bits set)", tok);
			continue;
		}
		c->allow_subnets = vl_realloc(c->allow_subnets,
					      (c->n_allow_subnets + 1) * sizeof(s));
		c->allow_subnets[c->n_allow_subnets++] = s;
	}
}

static void set_allow_outside(struct loader *l, const char *v, int line)
{
	if (vl_streq(v, "yes") || vl_streq(v, "true"))
		l->cfg->allow_outside = true;
	else if (vl_streq(v, "no") || vl_streq(v, "false"))
		l->cfg->allow_outside = false;
	else
		problem(l, line, "allow_outside must be yes or no, not '%s'", v);
}

static void set_lab_prefix(struct loader *l, const char *v, int line)
{
	const char *s = v[0] == '/' ? v + 1 : v;

	if (!parse_uint(s, 16, 29, &l->cfg->lab_prefix))
		problem(l, line, "lab_prefix must be a prefix length from 16 to 29, not '%s'", v);
}

static const struct keydef {
	const char *sec, *key;
	setter set;
} keydefs[] = {
	{ "libvirt", "uri", set_uri },
	{ "vm", "accel", set_accel },
	{ "storage", "pool", set_pool },
	{ "storage", "pool_dir", set_pool_dir },
	{ "storage", "log_dir", set_log_dir },
	{ "images", "cache", set_cache },
	{ "images", "catalog", set_catalog },
	{ "images", "stall_timeout", set_stall },
	{ "images", "ca_file", set_ca_file },
	{ "images", "max_image_size", set_max_image },
	{ "network", "subnet_pool", set_subnet_pool },
	{ "network", "lab_prefix", set_lab_prefix },
	{ "network", "allow_subnets", set_allow_subnets },
	{ "profile", "allow_outside", set_allow_outside },
	{ "up", "parallel", set_parallel },
	{ "up", "boot_timeout", set_boot },
	{ "halt", "timeout", set_halt },
};

static const char *const sections[] = { "libvirt", "vm", "storage", "images", "network", "up",
					"halt", "hosts", "profile" };

#define HOST_NAME_MAX_LEN VL_CLASS_HOST_NAME_MAX

/* [hosts] NAME = URI: any name, so not a keydef. Verification of the
 * hypervisor's host key stays on: no_verify is refused. */
static void set_host(struct loader *l, const char *name, const char *uri, int line)
{
	struct vl_config *c = l->cfg;

	if (!vl_str_is_name(name, HOST_NAME_MAX_LEN)) {
		problem(l, line, "host name '%s': use lowercase letters, digits and '-', at most %d "
			"characters", name, HOST_NAME_MAX_LEN);
		return;
	}
	if (!uri[0] || !strstr(uri, ":/")) {
		problem(l, line, "host %s: '%s' is not a libvirt URI such as "
			"qemu+ssh://lab2/system", name, uri);
		return;
	}
	if (strstr(uri, "no_verify")) {
		problem(l, line, "host %s: no_verify turns off the check of the host's key; vmlab "
			"does not allow it", name);
		return;
	}
	for (size_t i = 0; i < c->n_hosts; i++) {
		if (vl_streq(c->host_names[i], name)) {
			problem(l, line, "host %s is named twice", name);
			return;
		}
	}
	c->host_names = vl_realloc(c->host_names, (c->n_hosts + 1) * sizeof(char *));
	c->host_uris = vl_realloc(c->host_uris, (c->n_hosts + 1) * sizeof(char *));
	c->host_names[c->n_hosts] = vl_strdup(name);
	c->host_uris[c->n_hosts++] = vl_strdup(uri);
}

static char *default_cache(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home;
	struct vl_buf b = VL_BUF_INIT;

	if (geteuid() == 0)
		return vl_strdup("/var/cache/vmlab/images");
	if (xdg && xdg[0] == '/')
		vl_buf_printf(&b, "%s/vmlab/images", xdg);
	else if ((home = home_dir()))
		vl_buf_printf(&b, "%s/.cache/vmlab/images", home);
	else
		return vl_strdup("/var/cache/vmlab/images");
	return vl_buf_steal(&b);
}

static void set_defaults(struct vl_config *c)
{
	*c = (struct vl_config){
		.uri = vl_strdup("qemu:///system"),
		.accel = VL_ACCEL_AUTO,
		.pool_name = vl_strdup("vmlab"),
		.pool_dir = vl_strdup("/var/lib/vmlab/pool"),
		.log_dir = vl_strdup("/var/log/libvirt/qemu"),
		.cache_dir = default_cache(),
		.stall_timeout = 60,
		.max_image_size = 64ull << 30,
		.pool_addr = (10u << 24) | (77u << 16),
		.pool_prefix = 16,
		.lab_prefix = 24,
		.parallel = 4,
		.boot_timeout = 300,
		.halt_timeout = 60,
	};
}

static void apply_file(struct loader *l, const char *text, size_t len)
{
	VL_AUTO(vl_ini_lines) ini = VL_INI_LINES_INIT;

	l->problems += vl_ini_scan(&ini, text, len, l->file, l->diags);
	for (size_t i = 0; i < ini.n_secs; i++) {
		bool known = false;
		for (size_t s = 0; s < VL_ARRAY_SIZE(sections); s++)
			known |= vl_streq(ini.secs[i].name, sections[s]);
		if (!known) {
			vl_ini_unknown(l->diags, l->file, ini.secs[i].line, "section", ini.secs[i].name,
				       NULL, sections, VL_ARRAY_SIZE(sections));
			l->problems++;
		}
	}
	for (size_t i = 0; i < ini.n_keys; i++) {
		const struct vl_ini_key *k = &ini.keys[i];
		const char *sec, *cands[8];
		const struct keydef *def = NULL;
		size_t nc = 0;
		bool sec_known = false;

		if (k->sec == VL_INI_NOSEC)
			continue;   /* reported by the scanner */
		sec = ini.secs[k->sec].name;
		for (size_t s = 0; s < VL_ARRAY_SIZE(sections); s++)
			sec_known |= vl_streq(sec, sections[s]);
		if (!sec_known)
			continue;   /* the section was reported */
		if (vl_streq(sec, "hosts")) {
			set_host(l, k->key, k->value, k->line);
			continue;
		}
		for (size_t d = 0; d < VL_ARRAY_SIZE(keydefs); d++) {
			if (!vl_streq(keydefs[d].sec, sec))
				continue;
			cands[nc++] = keydefs[d].key;
			if (vl_streq(keydefs[d].key, k->key))
				def = &keydefs[d];
		}
		if (!def) {
			vl_ini_unknown(l->diags, l->file, k->line, "key", k->key, sec, cands, nc);
			l->problems++;
		} else if (!k->value[0]) {
			problem(l, k->line, "empty value for '%s' in [%s]", k->key, sec);
		} else {
			def->set(l, k->value, k->line);
		}
	}
	if (l->cfg->lab_prefix < l->cfg->pool_prefix)
		problem(l, 0, "[network] lab_prefix /%u is larger than subnet_pool /%u",
			l->cfg->lab_prefix, l->cfg->pool_prefix);
	/* the pool's labs are lab networks too: private or explicitly allowed */
	for (size_t i = 0; i < ini.n_keys; i++) {
		const struct vl_ini_key *k = &ini.keys[i];
		char cidr[VL_CIDR_STRLEN];
		if (k->sec == VL_INI_NOSEC || !vl_streq(ini.secs[k->sec].name, "network") ||
		    !vl_streq(k->key, "subnet_pool") ||
		    vl_config_subnet_allowed(l->cfg, l->cfg->pool_addr, l->cfg->pool_prefix))
			continue;
		vl_cidr_format(l->cfg->pool_addr, l->cfg->pool_prefix, cidr);
		problem(l, k->line, "subnet_pool %s is not private address space (10.0.0.0/8, "
			"172.16.0.0/12, 192.168.0.0/16); add it to [network] allow_subnets to use it",
			cidr);
	}
}

static void apply_env(struct loader *l)
{
	const char *v;
	struct vl_config *c = l->cfg;

	if ((v = getenv("VMLAB_URI")) && *v)
		set_str(&c->uri, v);
	if ((v = getenv("VMLAB_ACCEL")) && *v && !parse_accel(v, &c->accel)) {
		vl_diags_add(l->diags, "VMLAB_ACCEL", 0, "must be auto, kvm or tcg, not '%s'", v);
		l->problems++;
	}
	if ((v = getenv("VMLAB_CACHE")) && *v) {
		char *p = expand_path(v, NULL);
		if (!p) {
			vl_diags_add(l->diags, "VMLAB_CACHE", 0, "must be an absolute path, not '%s'", v);
			l->problems++;
		} else {
			free(c->cache_dir);
			c->cache_dir = p;
		}
	}
}

/* The first file of the search order that exists; NULL for none. With an
 * explicit path (or $VMLAB_CONFIG) a missing file is an error. */
static char *find_file(const char *explicit_path, bool *must_exist)
{
	const char *env = getenv("VMLAB_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME"), *home;
	struct vl_buf b = VL_BUF_INIT;

	*must_exist = true;
	if (explicit_path)
		return vl_strdup(explicit_path);
	if (env && *env)
		return vl_strdup(env);
	*must_exist = false;
	if (xdg && xdg[0] == '/')
		vl_buf_printf(&b, "%s/vmlab/vmlab.conf", xdg);
	else if ((home = home_dir()))
		vl_buf_printf(&b, "%s/.config/vmlab/vmlab.conf", home);
	if (b.s && access(b.s, F_OK) == 0)
		return vl_buf_steal(&b);
	vl_buf_release(&b);
	if (access(VL_SYSCONFDIR "/vmlab/vmlab.conf", F_OK) == 0)
		return vl_strdup(VL_SYSCONFDIR "/vmlab/vmlab.conf");
	return NULL;
}

int vl_config_load(struct vl_config *cfg, const char *explicit_path, struct vl_diags *diags,
		   struct vl_err *err)
{
	struct loader l = { .cfg = cfg, .diags = diags };
	bool must_exist;
	VL_AUTOFREE char *path = find_file(explicit_path, &must_exist);

	set_defaults(cfg);
	if (path) {
		size_t len = 0;
		VL_AUTOFREE char *text = NULL;
		if (vl_file_read(path, CONF_MAX_BYTES, &text, &len, err) < 0) {
			if (err && err->code == VL_E_NOTFOUND && !must_exist)
				vl_err_clear(err);
			else {
				vl_config_release(cfg);
				vl_err_prefix(err, "vmlab.conf");
				if (err)
					err->code = VL_E_CONFIG;
				return -1;
			}
		} else {
			char *slash;
			cfg->path = vl_strdup(path);
			l.file = path;
			l.dir = vl_strdup(path);
			slash = strrchr(l.dir, '/');
			if (slash)
				slash[slash == l.dir] = '\0';
			else {
				free(l.dir);
				l.dir = getcwd(NULL, 0);
			}
			apply_file(&l, text, len);
			free(l.dir);
		}
	}
	apply_env(&l);
	if (l.problems) {
		vl_err_set(err, VL_E_CONFIG, "%u problem%s in %s", l.problems, l.problems == 1 ? "" : "s",
			   path ? path : "the environment");
		vl_config_release(cfg);
		return -1;
	}
	return 0;
}

void vl_config_release(struct vl_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->uri);
	free(cfg->pool_name);
	free(cfg->pool_dir);
	free(cfg->log_dir);
	free(cfg->cache_dir);
	free(cfg->ca_file);
	for (size_t i = 0; i < cfg->n_catalogs; i++)
		free(cfg->catalogs[i]);
	free(cfg->catalogs);
	for (size_t i = 0; i < cfg->n_hosts; i++) {
		free(cfg->host_names[i]);
		free(cfg->host_uris[i]);
	}
	free(cfg->host_names);
	free(cfg->host_uris);
	free(cfg->allow_subnets);
	*cfg = (struct vl_config){ 0 };
}

bool vl_config_subnet_allowed(const struct vl_config *cfg, uint32_t addr, unsigned prefix)
{
	static const struct vl_subnet private[] = {
		{ 10u << 24, 8 }, { (172u << 24) | (16u << 16), 12 }, { (192u << 24) | (168u << 16), 16 },
	};

	for (size_t i = 0; i < VL_ARRAY_SIZE(private); i++)
		if (prefix >= private[i].prefix && vl_ipv4_in(addr, private[i].addr, private[i].prefix))
			return true;
	for (size_t i = 0; cfg && i < cfg->n_allow_subnets; i++)
		if (prefix >= cfg->allow_subnets[i].prefix &&
		    vl_ipv4_in(addr, cfg->allow_subnets[i].addr, cfg->allow_subnets[i].prefix))
			return true;
	return false;
}

const char *vl_accel_effective(enum vl_accel a, bool kvm_offered)
{
	switch (a) {
	case VL_ACCEL_TCG:
		return "tcg";
	case VL_ACCEL_KVM:
		return kvm_offered ? "kvm" : "kvm (not offered)";
	case VL_ACCEL_AUTO:
		break;
	}
	return kvm_offered ? "kvm" : "tcg (no kvm)";
}

const char *vl_accel_name(enum vl_accel a)
{
	switch (a) {
	case VL_ACCEL_AUTO:
		return "auto";
	case VL_ACCEL_KVM:
		return "kvm";
	case VL_ACCEL_TCG:
		return "tcg";
	}
	return "auto";
}
