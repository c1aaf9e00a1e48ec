/* The planner: turns a validated profile into concrete names, MACs, IPs and a
 * subnet, deterministically (hashes, never randomness or the clock), so a
 * second `up` on any machine converges on the same objects. Pure: no I/O. */
#include "plan.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/str.h"

/* Where a profile problem is reported: the [vm] section's line when known. */
#define VL_PROFILE_LOC "vmlab.ini"

static void sha256(const char *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	/* EVP_Digest can only fail on allocation; treat that as out of memory. */
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		abort();
}

static void hex8(const unsigned char *md, char out[9])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 4; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[8] = '\0';
}

char *vl_plan_sanitize_name(const char *s, size_t max)
{
	char *out = vl_malloc(strlen(s ? s : "") + 4);
	size_t n = 0;

	for (const char *p = s ? s : ""; *p && n < max; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (c == '-' && (n == 0 || out[n - 1] == '-'))
			continue;
		out[n++] = c;
	}
	/* Cutting at max may leave a trailing '-' ("my-lab-" + hash would read
	 * "my-lab--1a2b..."): drop it so the result is still a valid name. */
	while (n > 0 && out[n - 1] == '-')
		n--;
	if (n == 0) {
		snprintf(out, 4, "lab");
		return out;
	}
	out[n] = '\0';
	return out;
}

char *vl_plan_lab_id(const char *lab_name, const char *abs_project_dir)
{
	unsigned char md[32];
	char hex[9];
	struct vl_buf b = VL_BUF_INIT;
	VL_AUTOFREE char *name = vl_plan_sanitize_name(lab_name, VL_LAB_ID_NAME_MAX);

	sha256(abs_project_dir, strlen(abs_project_dir), md);
	hex8(md, hex);
	vl_buf_printf(&b, "%s-%s", name, hex);
	return vl_buf_steal(&b);
}

char *vl_plan_instance_id(const char *lab_name, const char *abs_project_dir, const char *instance)
{
	unsigned char md[32];
	char hex[9];
	struct vl_buf b = VL_BUF_INIT, key = VL_BUF_INIT;

	if (!instance)
		return vl_plan_lab_id(lab_name, abs_project_dir);
	vl_buf_printf(&key, "%s\n%s", abs_project_dir, instance);
	sha256(vl_buf_str(&key), key.len, md);
	vl_buf_release(&key);
	hex8(md, hex);
	vl_buf_printf(&key, "%s-%s", lab_name, instance);
	VL_AUTOFREE char *name = vl_plan_sanitize_name(vl_buf_str(&key), VL_LAB_ID_NAME_MAX);
	vl_buf_release(&key);
	vl_buf_printf(&b, "%s-%s", name, hex);
	return vl_buf_steal(&b);
}

char *vl_plan_state_dir(const char *abs_project_dir, const char *instance)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/.vmlab", abs_project_dir);
	if (instance)
		vl_buf_printf(&b, "/instances/%s", instance);
	return vl_buf_steal(&b);
}

bool vl_plan_instance_ok(const char *instance)
{
	size_t n = instance ? strlen(instance) : 0;

	if (n == 0 || n > 20 || instance[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((instance[i] >= 'a' && instance[i] <= 'z') ||
		      (instance[i] >= '0' && instance[i] <= '9') || instance[i] == '-'))
			return false;
	return true;
}

void vl_plan_mac(const char *lab_id, const char *vm_name, unsigned salt, char out[18])
{
	unsigned char md[32];
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/%s", lab_id, vm_name);
	if (salt)
		vl_buf_printf(&b, "#%u", salt);
	sha256(vl_buf_str(&b), b.len, md);
	vl_buf_release(&b);
	/* 52:54:00 is QEMU's locally administered prefix, what libvirt uses too. */
	snprintf(out, 18, "52:54:00:%02x:%02x:%02x", md[0], md[1], md[2]);
}

static uint32_t hash32(const char *s)
{
	unsigned char md[32];

	sha256(s, strlen(s), md);
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
}

static bool overlaps_any(uint32_t addr, unsigned prefix, const struct vl_subnet *used,
			 size_t n_used, const struct vl_subnet **hit)
{
	for (size_t i = 0; i < n_used; i++) {
		if (vl_cidr_overlap(addr, prefix, used[i].addr, used[i].prefix)) {
			if (hit)
				*hit = &used[i];
			return true;
		}
	}
	return false;
}

int vl_plan_choose_subnet(const char *lab_id, const struct vl_config *cfg,
			  const struct vl_subnet *used, size_t n_used, struct vl_subnet *out,
			  struct vl_err *err)
{
	char pool[VL_CIDR_STRLEN];
	uint64_t n, start;

	vl_cidr_format(cfg->pool_addr & vl_ipv4_mask(cfg->pool_prefix), cfg->pool_prefix, pool);
	if (cfg->lab_prefix < cfg->pool_prefix || cfg->lab_prefix > 30)
		return vl_err_set(err, VL_E_CONFIG,
				  "lab_prefix /%u does not fit the subnet pool %s (need /%u to /30)",
				  cfg->lab_prefix, pool, cfg->pool_prefix);
	/* A linear scan; bound it so a silly pool (/0 of /30s) cannot spin for
	 * minutes. 2^24 candidates is already far more than anyone needs. */
	if (cfg->lab_prefix - cfg->pool_prefix > 24)
		return vl_err_set(err, VL_E_CONFIG, "subnet pool %s holds too many /%u subnets",
				  pool, cfg->lab_prefix);
	n = (uint64_t)1 << (cfg->lab_prefix - cfg->pool_prefix);
	/* Start where the lab id hash points, then wrap: deterministic for one
	 * lab, but two labs planned at the same moment (before either network
	 * exists) rarely pick the same subnet. */
	start = hash32(lab_id) % n;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t idx = (start + i) % n;
		uint32_t addr = (cfg->pool_addr & vl_ipv4_mask(cfg->pool_prefix)) +
				(uint32_t)(idx << (32 - cfg->lab_prefix));
		if (!overlaps_any(addr, cfg->lab_prefix, used, n_used, NULL)) {
			out->addr = addr;
			out->prefix = cfg->lab_prefix;
			return 0;
		}
	}
	return vl_err_set(err, VL_E_FAIL,
			  "no free /%u subnet left in the pool %s (all %llu are in use); "
			  "destroy a lab, or widen [network] subnet_pool in vmlab.conf",
			  cfg->lab_prefix, pool, (unsigned long long)n);
}

/* Fills the address layout of layout.h. */
static int set_subnet(struct vl_plan *plan, uint32_t addr, unsigned prefix, struct vl_err *err)
{
	struct vl_layout l;

	if (prefix > VL_LAYOUT_PREFIX_MAX) {
		vl_cidr_format(addr, prefix, plan->subnet_str);
		return vl_err_set(err, VL_E_PROFILE, "subnet %s is too small for a lab (at most /30)",
				  plan->subnet_str);
	}
	vl_layout_init(&l, addr, prefix);
	plan->subnet = l.subnet;
	plan->prefix = prefix;
	plan->gateway = l.gateway;
	plan->broadcast = l.broadcast;
	plan->dhcp_start = l.dhcp_start;
	plan->dhcp_end = l.dhcp_end;
	vl_cidr_format(plan->subnet, prefix, plan->subnet_str);
	vl_ipv4_format(plan->gateway, plan->gateway_str);
	vl_ipv4_format(vl_ipv4_mask(prefix), plan->netmask_str);
	return 0;
}

/* First and last address automatic assignment may use. */
static void static_range(const struct vl_plan *plan, uint32_t *first, uint32_t *last)
{
	struct vl_layout l;

	vl_layout_init(&l, plan->subnet, plan->prefix);
	*first = l.vm_first;
	*last = l.vm_last;
}

static int spec_err(struct vl_err *err, const struct vl_vm_spec *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int spec_err(struct vl_err *err, const struct vl_vm_spec *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->line > 0)
		return vl_err_set(err, VL_E_PROFILE, "%s:%d: %s", VL_PROFILE_LOC, s->line, msg);
	return vl_err_set(err, VL_E_PROFILE, "%s: [vm %s]: %s", VL_PROFILE_LOC, s->name, msg);
}

/* Why a fixed address cannot be used, or NULL if it can. */
static const char *fixed_ip_problem(const struct vl_plan *plan, uint32_t ip)
{
	struct vl_layout l;

	vl_layout_init(&l, plan->subnet, plan->prefix);
	return vl_layout_ip_problem(&l, ip);
}

static int assign_fixed_ips(struct vl_plan *plan, const struct vl_profile *p, struct vl_err *err)
{
	size_t k = 0;
	uint32_t first, last;
	char a[VL_IPV4_STRLEN], b[VL_IPV4_STRLEN];

	static_range(plan, &first, &last);
	vl_ipv4_format(first, a);
	vl_ipv4_format(last, b);
	for (size_t i = 0; i < p->n_vms; i++) {
		const struct vl_vm_spec *s = &p->vms[i];
		uint32_t base;
		unsigned count = s->count ? s->count : 1;

		if (!s->ip) {
			k += count;
			continue;
		}
		if (!vl_ipv4_parse(s->ip, &base))
			return spec_err(err, s, "ip '%s' is not an IPv4 address", s->ip);
		for (unsigned c = 0; c < count; c++, k++) {
			struct vl_plan_vm *vm = &plan->vms[k];
			uint32_t ip = base + c;
			const char *why;

			vl_ipv4_format(ip, vm->ip_str);
			why = (ip < base) ? "wraps past 255.255.255.255" : fixed_ip_problem(plan, ip);
			if (why)
				return spec_err(err, s, "ip %s of %s %s; VMs use %s to %s in %s",
						vm->ip_str, vm->name, why, a, b, plan->subnet_str);
			for (size_t j = 0; j < k; j++)
				if (plan->vms[j].fixed_ip && plan->vms[j].ip == ip)
					return spec_err(err, s, "ip %s of %s is also the ip of %s",
							vm->ip_str, vm->name, plan->vms[j].name);
			vm->ip = ip;
			vm->fixed_ip = true;
		}
	}
	return 0;
}

static bool ip_taken(const struct vl_plan *plan, uint32_t ip)
{
	for (size_t i = 0; i < plan->n_vms; i++)
		if (plan->vms[i].ip == ip)
			return true;
	return false;
}

static int assign_auto_ips(struct vl_plan *plan, struct vl_err *err)
{
	uint32_t first, last, next;

	static_range(plan, &first, &last);
	next = first;
	for (size_t i = 0; i < plan->n_vms; i++) {
		struct vl_plan_vm *vm = &plan->vms[i];

		if (vm->fixed_ip)
			continue;
		while (next <= last && ip_taken(plan, next))
			next++;
		if (next > last || next < first) {
			char a[VL_IPV4_STRLEN], b[VL_IPV4_STRLEN];
			vl_ipv4_format(first, a);
			vl_ipv4_format(last, b);
			return vl_err_set(err, VL_E_PROFILE,
					  "%s: no address left for %s: the lab's VMs use %s to %s "
					  "of %s; use a larger subnet (or lab_prefix)",
					  VL_PROFILE_LOC, vm->name, a, b, plan->subnet_str);
		}
		vm->ip = next++;
		vl_ipv4_format(vm->ip, vm->ip_str);
	}
	return 0;
}

static char *strdup_or_null(const char *s)
{
	return s ? vl_strdup(s) : NULL;
}

/* Expand count, derive names and MACs. */
static int expand_vms(struct vl_plan *plan, const struct vl_profile *p, struct vl_err *err)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < p->n_vms; i++) {
		const struct vl_vm_spec *s = &p->vms[i];
		if (!s->name || !vl_str_is_name(s->name, VL_NAME_MAX))
			return spec_err(err, s, "VM name '%s' must be [a-z0-9-], at most %d characters",
					s->name ? s->name : "", VL_NAME_MAX);
		total += s->count ? s->count : 1;
	}
	plan->vms = vl_calloc(total ? total : 1, sizeof(*plan->vms));
	for (size_t i = 0; i < p->n_vms; i++) {
		const struct vl_vm_spec *s = &p->vms[i];
		unsigned count = s->count ? s->count : 1;

		for (unsigned c = 1; c <= count; c++, k++) {
			struct vl_plan_vm *vm = &plan->vms[k];

			vm->name = count > 1 ? vl_strfmt("%s-%u", s->name, c) : vl_strdup(s->name);
			plan->n_vms = k + 1;   /* so release frees what is filled */
			for (size_t j = 0; j < k; j++)
				if (vl_streq(plan->vms[j].name, vm->name))
					return spec_err(err, s, "VM name %s is used twice (count expands "
							"NAME into NAME-1..NAME-N)", vm->name);
			vm->spec_name = vl_strdup(s->name);
			vm->domain = vl_name_domain(plan->lab_id, vm->name);
			vm->hostname = vl_strdup(vm->name);
			vm->fqdn = vl_strfmt("%s.%s", vm->name, plan->lab_name);
			vm->volume = vl_name_disk(vm->domain);
			vm->seed_volume = vl_name_seed(vm->domain);
			vm->cpus = s->cpus;
			vm->memory = s->memory;
			vm->disk = s->disk;
			vm->image = strdup_or_null(s->image);
			vm->index = c;
			vm->provision = vl_calloc(s->n_provision + 1, sizeof(*vm->provision));
			for (size_t e = 0; e < s->n_provision; e++)
				vl_prov_copy(&vm->provision[e], &s->provision[e]);
			vm->n_provision = s->n_provision;
			vm->user_data = strdup_or_null(s->user_data);
			/* 24 bits of hash can collide inside one lab; re-salt until
			 * unique, which stays deterministic. */
			for (unsigned salt = 0;; salt++) {
				bool dup = false;
				vl_plan_mac(plan->lab_id, vm->name, salt, vm->mac);
				for (size_t j = 0; j < k && !dup; j++)
					dup = vl_streq(plan->vms[j].mac, vm->mac);
				if (!dup)
					break;
			}
		}
	}
	return 0;
}

static int choose_subnet(struct vl_plan *plan, const struct vl_profile *p,
			 const struct vl_config *cfg, const struct vl_plan_opts *o, struct vl_err *err)
{
	struct vl_subnet chosen;

	if (!p->subnet_auto) {
		const struct vl_subnet *hit = NULL;
		char s[VL_CIDR_STRLEN];

		for (size_t i = 0; i < o->n_used; i++) {
			const struct vl_subnet *u = &o->used[i];
			/* The lab's own network is in use by the lab itself. */
			if (o->existing && u->addr == o->existing->addr &&
			    u->prefix == o->existing->prefix)
				continue;
			if (vl_cidr_overlap(p->subnet_addr, p->subnet_prefix, u->addr, u->prefix)) {
				hit = u;
				break;
			}
		}
		vl_cidr_format(p->subnet_addr & vl_ipv4_mask(p->subnet_prefix), p->subnet_prefix, s);
		if (hit) {
			char h[VL_CIDR_STRLEN];
			vl_cidr_format(hit->addr, hit->prefix, h);
			return vl_err_set(err, VL_E_PROFILE,
					  "%s: subnet %s overlaps %s, already used on this host "
					  "(another network or a route); choose another or 'auto'",
					  VL_PROFILE_LOC, s, h);
		}
		return set_subnet(plan, p->subnet_addr, p->subnet_prefix, err);
	}
	if (o->existing)
		return set_subnet(plan, o->existing->addr, o->existing->prefix, err);
	if (vl_plan_choose_subnet(plan->lab_id, cfg, o->used, o->n_used, &chosen, err) < 0)
		return -1;
	return set_subnet(plan, chosen.addr, chosen.prefix, err);
}

int vl_plan_build_opts(struct vl_plan *plan, const struct vl_profile *p,
		       const struct vl_config *cfg, const struct vl_plan_opts *opts,
		       struct vl_err *err)
{
	static const struct vl_plan_opts none;
	const struct vl_plan_opts *o = opts ? opts : &none;
	unsigned char md[32];
	char hex[9];

	memset(plan, 0, sizeof(*plan));
	if (!p->dir || p->dir[0] != '/')
		return vl_err_set(err, VL_E_FAIL, "plan: project directory must be absolute");
	plan->lab_name = vl_plan_sanitize_name(p->name, VL_NAME_MAX);
	if (p->instance && !vl_plan_instance_ok(p->instance))
		return vl_err_set(err, VL_E_USAGE, "instance name '%s': use a-z, 0-9 and '-', at most "
				  "20 characters", p->instance);
	plan->lab_id = vl_plan_instance_id(p->name, p->dir, p->instance);
	plan->instance = p->instance ? vl_strdup(p->instance) : NULL;
	plan->network = vl_name_network(plan->lab_id);
	/* Hash the lab id, not the path: the id already folds in the path, and
	 * renaming a lab gives it a new bridge as well as a new network. */
	sha256(plan->lab_id, strlen(plan->lab_id), md);
	hex8(md, hex);
	plan->bridge = vl_strfmt("vl%s", hex);
	plan->mode = p->network;
	plan->user = vl_strdup(p->user && *p->user ? p->user : VL_PLAN_DEFAULT_USER);
	plan->project_dir = vl_strdup(p->dir);

	if (expand_vms(plan, p, err) < 0 || choose_subnet(plan, p, cfg, o, err) < 0 ||
	    assign_fixed_ips(plan, p, err) < 0 || assign_auto_ips(plan, err) < 0) {
		vl_plan_release(plan);
		return -1;
	}
	return 0;
}

int vl_plan_build(struct vl_plan *plan, const struct vl_profile *p, const struct vl_config *cfg,
		  const struct vl_subnet *used, size_t n_used, struct vl_err *err)
{
	struct vl_plan_opts o = { .used = used, .n_used = n_used };

	return vl_plan_build_opts(plan, p, cfg, &o, err);
}

static void vm_release(struct vl_plan_vm *vm)
{
	free(vm->name);
	free(vm->spec_name);
	free(vm->domain);
	free(vm->hostname);
	free(vm->fqdn);
	free(vm->image);
	free(vm->volume);
	free(vm->seed_volume);
	vl_provs_free(vm->provision, vm->n_provision);
	free(vm->user_data);
}

void vl_plan_release(struct vl_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_vms; i++)
		vm_release(&plan->vms[i]);
	free(plan->vms);
	free(plan->lab_name);
	free(plan->lab_id);
	free(plan->network);
	free(plan->bridge);
	free(plan->user);
	free(plan->project_dir);
	free(plan->owner_machine);
	free(plan->instance);
	free(plan->owner_user);
	memset(plan, 0, sizeof(*plan));
}

const struct vl_plan_vm *vl_plan_find_vm(const struct vl_plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->n_vms; i++)
		if (vl_streq(plan->vms[i].name, name))
			return &plan->vms[i];
	return NULL;
}

void vl_plan_select(struct vl_plan *plan, char *const *names, size_t n)
{
	size_t kept = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < plan->n_vms; i++) {
		struct vl_plan_vm *vm = &plan->vms[i];
		bool chosen = false;
		for (size_t s = 0; s < n && !chosen; s++)
			chosen = vl_streq(vm->name, names[s]) || vl_streq(vm->spec_name, names[s]);
		if (chosen)
			plan->vms[kept++] = *vm;
		else
			vm_release(vm);
	}
	plan->n_vms = kept;
}

/* `vmlab plan --json`, schema 1. Fields are only ever added, never renamed:
 * {
 *   "schema": 1,
 *   "lab": { "name": str, "id": str, "project_dir": str, "user": str },
 *   "network": { "name": str, "bridge": str, "mode": "nat"|"isolated",
 *                "subnet": "a.b.c.d/N", "netmask": str, "gateway": str,
 *                "domain": str (DNS domain: VM and VM.<domain> resolve),
 *                "dhcp_range": { "start": str, "end": str } | null },
 *   "vms": [ { "name": str, "spec": str, "domain": str, "hostname": str,
 *              "fqdn": str, "mac": str, "ip": str, "ip_fixed": bool,
 *              "cpus": int, "memory_bytes": int, "disk_bytes": int,
 *              "image": str|null, "volume": str, "seed_volume": str,
 *              "provision": str|null, "user_data": str|null } ... ]
 * }
 */
void vl_plan_to_json(const struct vl_plan *plan, struct vl_buf *out, bool pretty)
{
	struct vl_json j;
	char a[VL_IPV4_STRLEN];

	vl_json_init(&j, out, pretty);
	vl_json_obj_begin(&j);
	vl_json_kint(&j, "schema", 1);
	vl_json_key(&j, "lab");
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "name", plan->lab_name);
	vl_json_kstr(&j, "id", plan->lab_id);
	vl_json_kstr(&j, "project_dir", plan->project_dir);
	vl_json_kstr(&j, "user", plan->user);
	vl_json_obj_end(&j);

	vl_json_key(&j, "network");
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "name", plan->network);
	vl_json_kstr(&j, "bridge", plan->bridge);
	vl_json_kstr(&j, "mode", plan->mode == VL_NET_NAT ? "nat" : "isolated");
	vl_json_kstr(&j, "subnet", plan->subnet_str);
	vl_json_kstr(&j, "netmask", plan->netmask_str);
	vl_json_kstr(&j, "gateway", plan->gateway_str);
	vl_json_kstr(&j, "domain", plan->lab_name);
	vl_json_key(&j, "dhcp_range");
	if (plan->dhcp_start) {
		vl_json_obj_begin(&j);
		vl_ipv4_format(plan->dhcp_start, a);
		vl_json_kstr(&j, "start", a);
		vl_ipv4_format(plan->dhcp_end, a);
		vl_json_kstr(&j, "end", a);
		vl_json_obj_end(&j);
	} else {
		vl_json_null(&j);
	}
	vl_json_obj_end(&j);

	vl_json_key(&j, "vms");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < plan->n_vms; i++) {
		const struct vl_plan_vm *vm = &plan->vms[i];
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "name", vm->name);
		vl_json_kstr(&j, "spec", vm->spec_name);
		vl_json_kstr(&j, "domain", vm->domain);
		vl_json_kstr(&j, "hostname", vm->hostname);
		vl_json_kstr(&j, "fqdn", vm->fqdn);
		vl_json_kstr(&j, "mac", vm->mac);
		vl_json_kstr(&j, "ip", vm->ip_str);
		vl_json_kbool(&j, "ip_fixed", vm->fixed_ip);
		vl_json_kuint(&j, "cpus", vm->cpus);
		vl_json_kuint(&j, "memory_bytes", vm->memory);
		vl_json_kuint(&j, "disk_bytes", vm->disk);
		vl_json_kstr(&j, "image", vm->image);
		vl_json_kstr(&j, "volume", vm->volume);
		vl_json_kstr(&j, "seed_volume", vm->seed_volume);
		vl_json_key(&j, "provision");
		vl_json_arr_begin(&j);
		for (size_t e = 0; e < vm->n_provision; e++)
			vl_json_str(&j, vm->provision[e].spec);
		vl_json_arr_end(&j);
		vl_json_kstr(&j, "user_data", vm->user_data);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_obj_end(&j);
	if (pretty)
		vl_buf_putc(out, '\n');
}

char *vl_plan_base_volume(const char *content_sha256, const char *format)
{
	struct vl_buf b = VL_BUF_INIT;

	/* 64 bits of the digest: a collision among one host's images is not a
	 * practical concern, and the name stays readable in virsh vol-list */
	vl_buf_printf(&b, VL_PLAN_BASE_PREFIX "%.16s.%s", content_sha256,
		      vl_streq(format, "raw") ? "raw" : "qcow2");
	return vl_buf_steal(&b);
}

bool vl_plan_is_base_volume(const char *volume)
{
	const char *p = volume;

	if (!vl_str_startswith(p, VL_PLAN_BASE_PREFIX))
		return false;
	p += strlen(VL_PLAN_BASE_PREFIX);
	for (int i = 0; i < 16; i++, p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return vl_streq(p, ".qcow2") || vl_streq(p, ".raw");
}

#define DISK_SUFFIX ".qcow2"
#define SEED_SUFFIX "-seed.iso"

char *vl_name_network(const char *lab_id)
{
	return vl_strfmt("vmlab-%s", lab_id);
}

char *vl_name_filter(const char *lab_id)
{
	return vl_strfmt("vmlab-%s", lab_id);
}

char *vl_name_domain(const char *lab_id, const char *vm)
{
	return vl_strfmt("vmlab-%s-%s", lab_id, vm);
}

char *vl_name_disk(const char *domain)
{
	return vl_strfmt("%s" DISK_SUFFIX, domain);
}

char *vl_name_seed(const char *domain)
{
	return vl_strfmt("%s" SEED_SUFFIX, domain);
}

char *vl_name_volume_domain(const char *volume)
{
	size_t len = strlen(volume);

	if (!vl_str_startswith(volume, "vmlab-") || vl_plan_is_base_volume(volume))
		return NULL;
	if (vl_str_endswith(volume, SEED_SUFFIX))
		return vl_strndup(volume, len - strlen(SEED_SUFFIX));
	if (vl_str_endswith(volume, DISK_SUFFIX))
		return vl_strndup(volume, len - strlen(DISK_SUFFIX));
	return NULL;
}
