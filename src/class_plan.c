/* Classes, pure: the roster of seats and where each whole seat goes. The
 * engine (lab_class.c) reads the hosts and acts; everything decided about a
 * class is decided here and unit-tested (tests/unit/test_class_plan.c). */
#include "class_plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/mem.h"
#include "util/size.h"
#include "util/str.h"

bool vl_class_seat_id_ok(const char *id)
{
	return vl_str_is_name(id, VL_CLASS_SEAT_ID_MAX);
}

char *vl_class_instance(const char *seat_id)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s%s", VL_CLASS_INSTANCE_PREFIX, seat_id);
	return vl_buf_steal(&b);
}

struct vl_seat_spec *vl_class_seats_numbered(unsigned n)
{
	struct vl_seat_spec *s = vl_calloc(n + 1, sizeof(*s));

	for (unsigned i = 0; i < n; i++) {
		struct vl_buf b = VL_BUF_INIT;
		vl_buf_printf(&b, "%u", i + 1);
		s[i].id = vl_buf_steal(&b);
	}
	return s;
}

void vl_seat_specs_free(struct vl_seat_spec *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].id);
		free(s[i].name);
		free(s[i].email);
	}
	free(s);
}

/* ---- roster --------------------------------------------------------- */

/* Split one CSV line into at most max fields (trimmed, quotes undone);
 * returns the count, or -1 for an unterminated quote. */
static int csv_fields(const char *line, size_t len, char **f, int max)
{
	size_t i = 0;
	int n = 0;

	for (;;) {
		struct vl_buf b = VL_BUF_INIT;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i < len && line[i] == '"') {
			for (i++;; i++) {
				if (i >= len) {
					vl_buf_release(&b);
					return -1;
				}
				if (line[i] == '"' && i + 1 < len && line[i + 1] == '"')
					vl_buf_putc(&b, line[i++]);
				else if (line[i] == '"')
					break;
				else
					vl_buf_putc(&b, line[i]);
			}
			i++;
			while (i < len && line[i] != ',')
				i++;
		} else {
			while (i < len && line[i] != ',')
				vl_buf_putc(&b, line[i++]);
		}
		char *v = vl_buf_steal(&b);
		if (!v)
			v = vl_strdup("");
		vl_str_trim(v);
		if (n < max)
			f[n] = v;
		else
			free(v);
		n++;
		if (i >= len)
			return n;
		i++;   /* the ',' */
	}
}

size_t vl_class_roster_parse(const char *text, size_t len, const char *file,
			     struct vl_diags *diags, struct vl_seat_spec **out, size_t *n)
{
	size_t problems = diags->n, cnt = 0, pos = 0;
	bool first = true;
	int lineno = 0;

	*out = vl_calloc(1, sizeof(**out));
	*n = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		char *f[3] = { NULL, NULL, NULL };
		int nf;

		pos += ll + (nl ? 1 : 0);
		lineno++;
		if (ll && line[ll - 1] == '\r')
			ll--;
		size_t k = 0;
		while (k < ll && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k == ll || line[k] == '#')
			continue;
		nf = csv_fields(line, ll, f, 3);
		if (first && nf > 0 && strcasecmp(f[0], "id") == 0) {
			first = false;
			goto next;   /* the header */
		}
		first = false;
		if (nf < 0)
			vl_diags_add(diags, file, lineno, "unterminated quote");
		else if (nf < 2 || nf > 3)
			vl_diags_add(diags, file, lineno, "expected id,name[,email], found %d field%s",
				     nf, nf == 1 ? "" : "s");
		else if (!vl_class_seat_id_ok(f[0]))
			vl_diags_add(diags, file, lineno, "seat id '%s': use lowercase letters, digits "
				     "and '-', at most %d characters, not starting or ending with '-'",
				     f[0], VL_CLASS_SEAT_ID_MAX);
		else if (!f[1][0])
			vl_diags_add(diags, file, lineno, "seat %s has no name", f[0]);
		else if (nf == 3 && f[2][0] && !strchr(f[2], '@'))
			vl_diags_add(diags, file, lineno, "seat %s: '%s' is not an e-mail address",
				     f[0], f[2]);
		else {
			bool dup = false;
			for (size_t j = 0; j < cnt && !dup; j++) {
				if (!vl_streq((*out)[j].id, f[0]))
					continue;
				dup = true;
				vl_diags_add(diags, file, lineno, "seat id '%s' is also on line %d",
					     f[0], (*out)[j].line);
			}
			if (!dup && cnt == VL_CLASS_SEATS_MAX) {
				vl_diags_add(diags, file, lineno, "more than %d seats",
					     VL_CLASS_SEATS_MAX);
			} else if (!dup) {
				*out = vl_realloc(*out, (cnt + 2) * sizeof(**out));
				struct vl_seat_spec *s = &(*out)[cnt++];
				*s = (struct vl_seat_spec){ .id = vl_steal(&f[0]),
							    .name = vl_steal(&f[1]), .line = lineno };
				if (nf == 3 && f[2][0])
					s->email = vl_steal(&f[2]);
			}
		}
next:
		for (int j = 0; j < 3; j++)
			free(f[j]);
	}
	if (cnt == 0 && diags->n == problems)
		vl_diags_add(diags, file, 0, "no seats: one line id,name[,email] per student");
	*n = cnt;
	return diags->n - problems;
}

/* ---- needs and placement -------------------------------------------- */

void vl_class_need_add_vm(struct vl_class_need *need, uint64_t memory, unsigned vcpus)
{
	need->vms++;
	need->memory += memory;
	need->vcpus += vcpus;
	need->disk += memory + VL_CLASS_DISK_GROWTH;
}

uint64_t vl_class_need_memory(const struct vl_class_need *need)
{
	return need->memory + need->vms * VL_CLASS_VM_OVERHEAD;
}

static uint64_t mem_room(const struct vl_class_host *h)
{
	uint64_t used = h->mem_committed + VL_CLASS_HOST_RESERVE;

	return h->mem_total > used ? h->mem_total - used : 0;
}

static bool fits(const struct vl_class_need *need, const struct vl_class_host *h,
		 const struct vl_class_load *l)
{
	uint64_t mem = vl_class_need_memory(need);

	return h->up && l->memory + mem <= mem_room(h) &&
	       h->vcpus_committed + l->vcpus + need->vcpus <= h->cpus * VL_CLASS_VCPU_RATIO &&
	       (!h->pool_known || l->disk + need->disk <= h->pool_free) &&
	       l->new_seats < h->free_subnets;
}

static void take(const struct vl_class_need *need, struct vl_class_load *l, bool is_new)
{
	l->seats++;
	l->new_seats += is_new;
	l->memory += vl_class_need_memory(need);
	l->vcpus += need->vcpus;
	l->disk += need->disk;
}

/* Share of the host's memory in use with one more seat, in millionths
 * (integers: placement is the same on every machine). */
static uint64_t share_after(const struct vl_class_need *need, const struct vl_class_host *h,
			    const struct vl_class_load *l)
{
	uint64_t used = h->mem_committed + l->memory + vl_class_need_memory(need);

	return h->mem_total ? (uint64_t)((double)used / (double)h->mem_total * 1e6) : UINT64_MAX;
}

int vl_class_place(const struct vl_class_need *need, size_t n_seats, const int *current,
		   const struct vl_class_host *hosts, size_t n_hosts, int *host_of,
		   enum vl_seat_move *moves, struct vl_class_load *load, struct vl_err *err)
{
	size_t homeless = 0, first_homeless = 0;

	memset(load, 0, n_hosts * sizeof(*load));
	/* seats that exist on an up host stay, whatever room is left there */
	for (size_t i = 0; i < n_seats; i++) {
		int c = current ? current[i] : -1;
		host_of[i] = -1;
		moves[i] = c < 0 ? VL_SEAT_NEW : VL_SEAT_MOVED;
		if (c >= 0 && (size_t)c < n_hosts && hosts[c].up) {
			host_of[i] = c;
			moves[i] = VL_SEAT_STAYS;
			take(need, &load[c], false);
		}
	}
	for (size_t i = 0; i < n_seats; i++) {
		int best = -1;
		if (host_of[i] >= 0)
			continue;
		for (size_t h = 0; h < n_hosts; h++) {
			if (!fits(need, &hosts[h], &load[h]))
				continue;
			if (best < 0) {
				best = (int)h;
				continue;
			}
			uint64_t a = share_after(need, &hosts[h], &load[h]);
			uint64_t b = share_after(need, &hosts[best], &load[best]);
			if (a < b || (a == b && load[h].seats < load[best].seats))
				best = (int)h;
		}
		if (best < 0) {
			if (!homeless++)
				first_homeless = i;
			continue;
		}
		host_of[i] = best;
		take(need, &load[best], true);
	}
	if (!homeless)
		return 0;

	/* one line: what a seat needs, and what each host has left */
	struct vl_buf b = VL_BUF_INIT;
	char mem[32], disk[32];
	size_t up = 0;
	vl_human_bytes(mem, sizeof(mem), (double)vl_class_need_memory(need), VL_SIZE_IEC);
	vl_human_bytes(disk, sizeof(disk), (double)need->disk, VL_SIZE_IEC);
	vl_buf_printf(&b, "the class does not fit: %zu of %zu seats have no room (seat %zu first); "
		      "a seat needs %s memory with overhead, %u vCPUs, %s pool space and a subnet;",
		      homeless, n_seats, first_homeless + 1, mem, need->vcpus, disk);
	for (size_t h = 0; h < n_hosts; h++) {
		const struct vl_class_host *x = &hosts[h];
		const struct vl_class_load *l = &load[h];
		uint64_t room = mem_room(x), vroom = (uint64_t)x->cpus * VL_CLASS_VCPU_RATIO;
		if (!x->up) {
			vl_buf_printf(&b, " %s is down;", x->name);
			continue;
		}
		up++;
		vl_human_bytes(mem, sizeof(mem), (double)(room > l->memory ? room - l->memory : 0),
			       VL_SIZE_IEC);
		vl_buf_printf(&b, " %s has %s memory, %llu vCPUs", x->name, mem,
			      (unsigned long long)(vroom > x->vcpus_committed + l->vcpus ?
						   vroom - x->vcpus_committed - l->vcpus : 0));
		if (x->pool_known) {
			vl_human_bytes(disk, sizeof(disk),
				       (double)(x->pool_free > l->disk ? x->pool_free - l->disk : 0),
				       VL_SIZE_IEC);
			vl_buf_printf(&b, ", %s pool space", disk);
		}
		vl_buf_printf(&b, ", %u subnets left;", x->free_subnets > l->new_seats ?
			      x->free_subnets - l->new_seats : 0);
	}
	if (!up)
		vl_buf_append(&b, " no host is up;");
	vl_buf_truncate(&b, b.len - 1);
	vl_err_set(err, VL_E_FAIL, "%s", vl_buf_str(&b));
	vl_buf_release(&b);
	return -1;
}

unsigned vl_class_free_subnets(const struct vl_config *cfg, const struct vl_subnet *used,
			       size_t n_used)
{
	unsigned free_n = 0;
	uint64_t step, end;

	if (cfg->lab_prefix < cfg->pool_prefix || cfg->lab_prefix > 32)
		return 0;
	step = 1ull << (32 - cfg->lab_prefix);
	end = (uint64_t)cfg->pool_addr + (1ull << (32 - cfg->pool_prefix));
	for (uint64_t a = cfg->pool_addr; a < end; a += step) {
		bool taken = false;
		for (size_t i = 0; i < n_used && !taken; i++) {
			unsigned p = used[i].prefix < cfg->lab_prefix ? used[i].prefix : cfg->lab_prefix;
			uint32_t mask = p ? ~0u << (32 - p) : 0;
			taken = ((uint32_t)a & mask) == (used[i].addr & mask);
		}
		free_n += !taken;
	}
	return free_n;
}

/* ---- handouts ------------------------------------------------------- */

const struct vl_class_jump *vl_class_jump_for(const struct vl_class_jump *jumps, size_t n,
					      const struct vl_class_jump *dflt,
					      const char *host_name)
{
	for (size_t i = 0; host_name && i < n; i++)
		if (jumps[i].host && vl_streq(jumps[i].host, host_name))
			return &jumps[i];
	return dflt;
}

const struct vl_class_jump *vl_class_jump_stray(const struct vl_class_jump *jumps, size_t n,
						const char *const *hosts, size_t n_hosts)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < n_hosts && !vl_streq(hosts[k], jumps[i].host))
			k++;
		if (k == n_hosts)
			return &jumps[i];
	}
	return NULL;
}

char *vl_class_ssh_config(const struct vl_class_bundle *b)
{
	struct vl_buf o = VL_BUF_INIT;

	vl_buf_printf(&o, "# Seat %s%s%s%s of class %s. From this directory: ssh -F ssh_config VM\n",
		      b->seat, b->student ? " (" : "", b->student ? b->student : "",
		      b->student ? ")" : "", b->class_name);
	if (b->jump_host) {
		vl_buf_printf(&o, "Host jump\n\tHostName %s\n\tPort %u\n\tUser %s\n", b->jump_host,
			      b->jump_port, b->jump_user);
	}
	for (size_t i = 0; i < b->n_vms; i++) {
		vl_buf_printf(&o, "Host %s\n\tHostName %s\n\tUser %s\n", b->vms[i].name, b->vms[i].ip,
			      b->user);
		if (b->jump_host)
			vl_buf_append(&o, "\tProxyJump jump\n");
	}
	vl_buf_append(&o, "Host *\n\tIdentityFile id_ed25519\n\tIdentitiesOnly yes\n"
		      "\tUserKnownHostsFile known_hosts\n\tGlobalKnownHostsFile /dev/null\n"
		      "\tStrictHostKeyChecking yes\n\tUpdateHostKeys no\n");
	return vl_buf_steal(&o);
}

char *vl_class_howto(const struct vl_class_bundle *b)
{
	struct vl_buf o = VL_BUF_INIT;

	vl_buf_printf(&o, "Your lab: seat %s of class %s%s%s\n\n", b->seat, b->class_name,
		      b->student ? ", for " : "", b->student ? b->student : "");
	vl_buf_append(&o, "This folder holds your private key (id_ed25519: keep it to yourself),\n"
		      "the host keys of your machines (known_hosts) and an ssh configuration\n"
		      "(ssh_config). You need an OpenSSH client (Linux, macOS, Windows 10+).\n\n"
		      "1. Open a terminal in this folder. On Linux and macOS first run:\n"
		      "       chmod 600 id_ed25519\n"
		      "2. Log in to a machine of your lab:\n");
	for (size_t i = 0; i < b->n_vms; i++)
		vl_buf_printf(&o, "       ssh -F ssh_config %s        (%s)\n", b->vms[i].name,
			      b->vms[i].ip);
	if (b->jump_host)
		vl_buf_printf(&o, "\nThe connection passes through %s@%s (port %u), which only\n"
			      "forwards you to your own machines: it offers no shell.\n", b->jump_user,
			      b->jump_host, b->jump_port);
	vl_buf_append(&o, "\nCopy files with: scp -F ssh_config FILE MACHINE:\n"
		      "If ssh warns that a host key changed, stop and tell your teacher: your\n"
		      "machines keep their keys, also after a reset.\n"
		      "A reset by your teacher puts your machines back to their starting state:\n"
		      "files you made there are gone, so keep copies of your work.\n");
	return vl_buf_steal(&o);
}

char *vl_class_authorized_line(const char *key_line, const struct vl_class_bundle *b)
{
	struct vl_buf o = VL_BUF_INIT;
	const char *sp = strchr(key_line, ' ');
	const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
	size_t keylen = sp2 ? (size_t)(sp2 - key_line) : strlen(key_line);

	vl_buf_append(&o, "restrict,port-forwarding,command=\"/bin/false\"");
	for (size_t i = 0; i < b->n_vms; i++)
		vl_buf_printf(&o, ",permitopen=\"%s:22\"", b->vms[i].ip);
	vl_buf_printf(&o, " %.*s vmlab-%s-seat-%s\n", (int)keylen, key_line, b->class_name, b->seat);
	return vl_buf_steal(&o);
}

char *vl_class_authorized_merge(const char *existing, const char *marker, const char *block)
{
	struct vl_buf o = VL_BUF_INIT, begin = VL_BUF_INIT, end = VL_BUF_INIT;
	const char *p = existing ? existing : "";
	bool inside = false, placed = false;

	vl_buf_printf(&begin, "# %s begin", marker);
	vl_buf_printf(&end, "# %s end", marker);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		bool is_begin = len == begin.len && strncmp(p, begin.s, len) == 0;
		bool is_end = len == end.len && strncmp(p, end.s, len) == 0;
		if (is_begin) {
			inside = true;
			if (block && *block && !placed) {
				vl_buf_printf(&o, "%s\n%s%s\n", begin.s, block, end.s);
				placed = true;
			}
		} else if (is_end) {
			inside = false;
		} else if (!inside) {
			vl_buf_appendn(&o, p, len);
			vl_buf_putc(&o, '\n');
		}
		p += len + (nl ? 1 : 0);
	}
	if (block && *block && !placed)
		vl_buf_printf(&o, "%s\n%s%s\n", begin.s, block, end.s);
	vl_buf_release(&begin);
	vl_buf_release(&end);
	char *r = vl_buf_steal(&o);
	return r ? r : vl_strdup("");
}
