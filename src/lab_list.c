/* Every vmlab lab on the connection, from libvirt alone: the domains and
 * networks whose <metadata> vmlab wrote, grouped by lab id. No profile, no
 * project directory, no lock: the labs may belong to other projects, users
 * or machines. Few round trips, whatever the number of domains: one bulk
 * stats call for all states, then one metadata call per vmlab domain. */
#include "host.h"
#include "lab_priv.h"

#include <stdlib.h>
#include <string.h>

#include "meta.h"
#include "owner.h"
#include "util/ipv4.h"
#include "util/mem.h"
#include "util/str.h"

struct labs {
	struct vl_lab_summary *v;
	size_t n, cap;
};

/* The lab with id, made from m's lab fields when new. Domains come sorted
 * by name (vmlab-<id>-<vm>), so a lab's domains follow each other: the last
 * lab is tried first. */
static struct vl_lab_summary *lab_for(struct labs *ls, const struct vl_meta *m)
{
	struct vl_lab_summary *l;

	for (size_t i = ls->n; i-- > 0;)
		if (vl_streq(ls->v[i].id, m->id))
			return &ls->v[i];
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 16;
		ls->v = vl_realloc(ls->v, ls->cap * sizeof(*ls->v));
	}
	l = &ls->v[ls->n++];
	*l = (struct vl_lab_summary){
		.name = vl_strdup(m->name ? m->name : m->id),
		.id = vl_strdup(m->id),
		.project = m->project ? vl_strdup(m->project) : NULL,
		.owner_machine = m->owner_machine ? vl_strdup(m->owner_machine) : NULL,
		.owner_user = m->owner_user ? vl_strdup(m->owner_user) : NULL,
		.instance = m->instance ? vl_strdup(m->instance) : NULL,
		.network = vl_name_network(m->id),
	};
	return l;
}

static void add_vm(struct vl_lab_summary *l, const struct vl_virt_dom_meta *d,
		   const struct vl_meta *m, const struct vl_virt_domstats *st)
{
	struct vl_vm_summary *s;

	/* grown one VM at a time: labs are small */
	l->vms = vl_realloc(l->vms, (l->n_vms + 1) * sizeof(*l->vms));
	s = &l->vms[l->n_vms++];
	*s = (struct vl_vm_summary){
		.name = vl_strdup(m->vm ? m->vm : d->name),
		.domain = vl_strdup(d->name),
		.ip = m->ip ? vl_strdup(m->ip) : NULL,
		.mac = m->mac ? vl_strdup(m->mac) : NULL,
		.state = lab_vm_state_of(d->state),
		.cpus = d->vcpus,
		.memory = d->max_memory_kib << 10,
		.now = { .boot = d->id },
	};
	vl_snapmark_parse(d->metadata2, &s->mark);
	if (st && st->id == d->id) {
		s->now.has_wr = st->has_wr;
		s->now.wr = st->wr_reqs;
	}
	s->changed = vl_snapmark_changed(&s->mark, &s->now);
}

/* The running domain's sample (stats come sorted like the domains). */
static const struct vl_virt_domstats *stats_of(const struct vl_virt_domstats *st, size_t n,
					       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (vl_streq(st[i].name, name))
			return &st[i];
	return NULL;
}

static void set_network(struct vl_lab_summary *l, const struct vl_virt_net *net,
			const struct vl_meta *m)
{
	char cidr[VL_CIDR_STRLEN];

	free(l->network);
	l->network = vl_strdup(net->name);
	l->network_exists = true;
	l->network_active = net->active;
	free(l->subnet);
	l->subnet = NULL;
	if (net->has_subnet) {
		vl_cidr_format(net->subnet.addr, net->subnet.prefix, cidr);
		l->subnet = vl_strdup(cidr);
	} else if (m->subnet) {
		l->subnet = vl_strdup(m->subnet);
	}
}

static int cmp_vm(const void *a, const void *b)
{
	return strverscmp(((const struct vl_vm_summary *)a)->name,
			  ((const struct vl_vm_summary *)b)->name);
}

static int cmp_lab(const void *a, const void *b)
{
	const struct vl_lab_summary *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c == 0)
		c = strcmp(x->project ? x->project : "", y->project ? y->project : "");
	return c ? c : strcmp(x->id, y->id);
}

int vl_lab_list_all(struct vl_ctx *ctx, struct vl_lab_summary **out, size_t *n,
		    struct vl_err *err)
{
	struct vl_virt_dom_meta *doms = NULL;
	struct vl_virt_net *nets = NULL;
	struct vl_virt_domstats *st = NULL;
	size_t nd = 0, nn = 0, ns = 0;
	struct labs ls = { 0 };
	VL_AUTOFREE char *machine = NULL, *user = NULL;
	int rc = -1;

	*out = NULL;
	*n = 0;
	/* every object vmlab makes is named vmlab-...: others are not even asked */
	if (vl_virt_domain_list_meta(ctx->host->virt, "vmlab-", VL_METADATA_NS, VL_SNAPMARK_NS,
				     &doms, &nd, err) < 0 ||
	    vl_virt_network_list_meta(ctx->host->virt, "vmlab-", VL_METADATA_NS, &nets, &nn, err) < 0 ||
	    vl_virt_domain_stats_all(ctx->host->virt, "vmlab-", &st, &ns, err) < 0)
		goto out;
	for (size_t i = 0; i < nd; i++) {
		struct vl_meta m;

		if (!doms[i].metadata || !vl_meta_parse_element(doms[i].metadata, &m))
			continue;   /* named like ours, not made by vmlab */
		add_vm(lab_for(&ls, &m), &doms[i], &m, stats_of(st, ns, doms[i].name));
		vl_meta_release(&m);
	}
	for (size_t i = 0; i < nn; i++) {
		struct vl_meta m;

		if (!nets[i].metadata || !vl_meta_parse_element(nets[i].metadata, &m))
			continue;
		/* a lab whose VMs are all gone still has its network */
		set_network(lab_for(&ls, &m), &nets[i], &m);
		vl_meta_release(&m);
	}
	vl_owner_self(&machine, &user);
	for (size_t i = 0; i < ls.n; i++) {
		struct vl_lab_summary *l = &ls.v[i];

		l->mine = !vl_owner_other(l->owner_machine, l->owner_user, machine, user);
		if (l->n_vms > 1)
			qsort(l->vms, l->n_vms, sizeof(*l->vms), cmp_vm);
	}
	if (ls.n > 1)
		qsort(ls.v, ls.n, sizeof(*ls.v), cmp_lab);
	*out = ls.v;
	*n = ls.n;
	rc = 0;
out:
	vl_virt_dom_meta_list_free(doms, nd);
	vl_virt_net_list_free(nets, nn);
	vl_virt_domstats_free(st, ns);
	return rc;
}

void vl_lab_summaries_free(struct vl_lab_summary *labs, size_t n)
{
	for (size_t i = 0; labs && i < n; i++) {
		struct vl_lab_summary *l = &labs[i];

		for (size_t k = 0; k < l->n_vms; k++) {
			free(l->vms[k].name);
			free(l->vms[k].domain);
			free(l->vms[k].ip);
			free(l->vms[k].mac);
		}
		free(l->vms);
		free(l->name);
		free(l->id);
		free(l->project);
		free(l->owner_machine);
		free(l->owner_user);
		free(l->instance);
		free(l->network);
		free(l->subnet);
	}
	free(labs);
}
