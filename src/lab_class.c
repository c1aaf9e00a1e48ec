/* Classes in the engine: reads the hosts, finds the seats that exist, has
 * class_plan.c place the rest, and runs the lab operations per seat (each
 * seat a lab instance with its own context) in parallel. */
#include "class.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "lab_priv.h"
#include "meta.h"
#include "ssh.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/parallel.h"
#include "util/str.h"

#define LAST_RESET_FILE "last-reset"
/* The host a seat was made on, so a seat whose host is down is known to be
 * moved (libvirt on that host cannot be asked). */
#define HOST_FILE "host"

/* ---- hosts ---------------------------------------------------------- */

struct class_run;
static void hosts_close(struct class_run *r);

struct chost {
	char *name, *uri;
	struct vl_host *h;          /* NULL: down */
	char *error;
	unsigned busy;              /* seats working on it now */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

struct class_run {
	struct vl_ctx *ctx;
	struct chost *hosts;
	size_t n_hosts;
};

/* The class's hosts: [hosts] of vmlab.conf (a host that cannot be reached
 * is down, not an error), or, without it or with --uri, the one libvirt
 * connection of the command (ctx->host, opened here if need be). */
static int hosts_open(struct class_run *r, struct vl_ctx *ctx, struct vl_err *err)
{
	const struct vl_config *cfg = &ctx->config;
	const char *uri = ctx->uri ? ctx->uri : cfg->uri;
	bool many = cfg->n_hosts && !ctx->uri;

	*r = (struct class_run){ .ctx = ctx };
	r->n_hosts = many ? cfg->n_hosts : 1;
	r->hosts = vl_calloc(r->n_hosts, sizeof(*r->hosts));
	for (size_t i = 0; i < r->n_hosts; i++) {
		struct chost *c = &r->hosts[i];
		struct vl_err e = VL_ERR_INIT;
		pthread_mutex_init(&c->mu, NULL);
		pthread_cond_init(&c->cv, NULL);
		c->name = vl_strdup(many ? cfg->host_names[i] : "local");
		c->uri = many ? vl_strdup(cfg->host_uris[i]) : uri ? vl_strdup(uri) : NULL;
		if (!many && ctx->host) {
			c->h = vl_host_ref(ctx->host);
			continue;
		}
		c->h = vl_host_open(c->uri, &e);
		if (c->h)
			continue;
		if (!many) {
			*err = e;
			hosts_close(r);
			return -1;
		}
		c->error = vl_strdup(e.msg);
	}
	return 0;
}

static void hosts_close(struct class_run *r)
{
	for (size_t i = 0; i < r->n_hosts; i++) {
		struct chost *c = &r->hosts[i];
		free(c->name);
		free(c->uri);
		free(c->error);
		vl_host_unref(c->h);
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
	}
	free(r->hosts);
	r->hosts = NULL;
}

/* At most `width` seats at work per host. */
static void host_enter(struct chost *c, unsigned width)
{
	pthread_mutex_lock(&c->mu);
	while (c->busy >= width)
		pthread_cond_wait(&c->cv, &c->mu);
	c->busy++;
	pthread_mutex_unlock(&c->mu);
}

static void host_leave(struct chost *c)
{
	pthread_mutex_lock(&c->mu);
	c->busy--;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* ---- a seat's context ------------------------------------------------- */

/* Events of a seat go to the class's sink with the seat in the subject. */
struct seat_sink {
	const struct vl_events *parent;
	char *label;                /* "seat 3" */
};

static void seat_emit(void *ud, const struct vl_event *ev)
{
	struct seat_sink *s = ud;
	struct vl_event e = *ev;
	char subject[128];

	if (ev->subject)
		snprintf(subject, sizeof(subject), "%s/%s", s->label, ev->subject);
	else
		snprintf(subject, sizeof(subject), "%s", s->label);
	e.subject = subject;
	vl_event_emit(s->parent, &e);
}

struct seat_ctx {
	struct vl_ctx ctx;
	struct seat_sink sink;
};

/* ctx with the seat's instance, host and events. The profile is the
 * class's (shared, read only) but for its instance. */
static void seat_ctx_init(struct seat_ctx *s, const struct vl_ctx *ctx, struct vl_host *h,
			  const char *uri, const char *seat_id)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "seat %s", seat_id);
	s->sink = (struct seat_sink){ &ctx->events, vl_buf_steal(&b) };
	s->ctx = *ctx;
	s->ctx.profile.instance = vl_class_instance(seat_id);
	s->ctx.host = h ? vl_host_ref(h) : NULL;
	s->ctx.events = (struct vl_events){ seat_emit, &s->sink, NULL, uri, ctx->events.cancel };
}

static void seat_ctx_release(struct seat_ctx *s)
{
	free(s->ctx.profile.instance);
	vl_host_unref(s->ctx.host);
	free(s->sink.label);
	memset(s, 0, sizeof(*s));
}

/* A file of the seat's state dir (.vmlab/instances/seat-ID). */
static char *seat_file(const struct vl_ctx *ctx, const char *seat_id, const char *name)
{
	VL_AUTOFREE char *inst = vl_class_instance(seat_id);
	VL_AUTOFREE char *dir = vl_plan_state_dir(ctx->profile.dir, inst);
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/%s", dir, name);
	return vl_buf_steal(&b);
}

/* ---- what the hosts hold ---------------------------------------------- */

/* A seat of this project found on a host. */
struct found {
	char *id;                   /* seat id (instance without "seat-") */
	size_t host;
};

struct scan {
	struct vl_class_host *caps;      /* per host */
	struct found *seats;
	size_t n_seats;
	struct vl_subnet **used;         /* per host: subnets taken */
	size_t *n_used;
	struct vl_subnet *unplaced;      /* taken by seats with no room (shown, not made) */
	size_t n_unplaced;
};

static void scan_release(struct scan *s, size_t n_hosts)
{
	for (size_t i = 0; i < s->n_seats; i++)
		free(s->seats[i].id);
	free(s->seats);
	for (size_t h = 0; s->used && h < n_hosts; h++)
		free(s->used[h]);
	free(s->used);
	free(s->n_used);
	free(s->unplaced);
	free(s->caps);
	memset(s, 0, sizeof(*s));
}

/* The seat id of an object's metadata when it is a seat of this project. */
static const char *seat_of(const struct vl_meta *m, const char *dir)
{
	if (!m->project || !vl_streq(m->project, dir) || !m->instance ||
	    !vl_str_startswith(m->instance, VL_CLASS_INSTANCE_PREFIX))
		return NULL;
	return m->instance + strlen(VL_CLASS_INSTANCE_PREFIX);
}

static void found_add(struct scan *s, const char *id, size_t host)
{
	for (size_t i = 0; i < s->n_seats; i++)
		if (vl_streq(s->seats[i].id, id) && s->seats[i].host == host)
			return;
	s->seats = vl_realloc(s->seats, (s->n_seats + 1) * sizeof(*s->seats));
	s->seats[s->n_seats++] = (struct found){ vl_strdup(id), host };
}

static bool name_in(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (vl_streq(names[i], name))
			return true;
	return false;
}

/* One host: its seats of this project, what other domains commit, pool
 * space and free subnets. A failure marks the host down. */
static int scan_host(struct class_run *r, struct scan *s, size_t hi, struct vl_err *err)
{
	struct chost *c = &r->hosts[hi];
	struct vl_class_host *cap = &s->caps[hi];
	struct vl_virt *v = c->h->virt;
	const char *dir = r->ctx->profile.dir;
	struct vl_virt_dom_meta *dm = NULL;
	struct vl_virt_net *nets = NULL;
	struct vl_virt_dom_use *use = NULL;
	char **ours = NULL;
	size_t nd = 0, nn = 0, nu = 0, n_ours = 0;
	struct vl_virt_node node;
	struct vl_subnet own;
	bool have_own;
	int rc = -1;

	if (vl_virt_node_info(v, &node, err) < 0 ||
	    vl_virt_domain_list_meta(v, VL_NAME_PREFIX, VL_METADATA_NS, NULL, &dm, &nd, err) < 0 ||
	    vl_virt_network_list_meta(v, VL_NAME_PREFIX, VL_METADATA_NS, &nets, &nn, err) < 0 ||
	    vl_virt_domain_usage(v, &use, &nu, err) < 0 ||
	    vl_virt_pool_space(v, r->ctx->config.pool_name, &cap->pool_known, &cap->pool_free,
			       err) < 0 ||
	    lab_used_subnets(c->h, "", &s->used[hi], &s->n_used[hi], &own, &have_own, err) < 0)
		goto out;
	cap->up = true;
	cap->mem_total = node.memory;
	cap->cpus = node.cpus;
	ours = vl_calloc(nd + 1, sizeof(*ours));
	for (size_t i = 0; i < nd; i++) {
		struct vl_meta m;
		const char *id;
		if (!dm[i].metadata || !vl_meta_parse_element(dm[i].metadata, &m))
			continue;
		id = seat_of(&m, dir);
		if (id) {
			found_add(s, id, hi);
			ours[n_ours++] = dm[i].name;
		}
		vl_meta_release(&m);
	}
	for (size_t i = 0; i < nn; i++) {
		struct vl_meta m;
		const char *id;
		if (!nets[i].metadata || !vl_meta_parse_element(nets[i].metadata, &m))
			continue;
		id = seat_of(&m, dir);
		if (id)
			found_add(s, id, hi);
		vl_meta_release(&m);
	}
	for (size_t i = 0; i < nu; i++) {
		if (name_in(ours, n_ours, use[i].name))
			continue;
		cap->mem_committed += use[i].memory;
		cap->vcpus_committed += use[i].vcpus;
	}
	cap->free_subnets = vl_class_free_subnets(&r->ctx->config, s->used[hi], s->n_used[hi]);
	rc = 0;
out:
	free(ours);
	vl_virt_dom_meta_list_free(dm, nd);
	vl_virt_net_list_free(nets, nn);
	vl_virt_dom_use_free(use, nu);
	return rc;
}

static int scan_hosts(struct class_run *r, struct scan *s, struct vl_err *err)
{
	size_t up = 0;

	memset(s, 0, sizeof(*s));
	s->caps = vl_calloc(r->n_hosts, sizeof(*s->caps));
	s->used = vl_calloc(r->n_hosts, sizeof(*s->used));
	s->n_used = vl_calloc(r->n_hosts, sizeof(*s->n_used));
	for (size_t h = 0; h < r->n_hosts; h++) {
		struct vl_err e = VL_ERR_INIT;
		s->caps[h].name = r->hosts[h].name;
		if (r->hosts[h].h && scan_host(r, s, h, &e) == 0) {
			up++;
			continue;
		}
		s->caps[h].up = false;
		if (!r->hosts[h].error)
			r->hosts[h].error = vl_strdup(e.msg[0] ? e.msg : "not reachable");
		vl_event_warn(&r->ctx->events, NULL, "host %s is down: %s", r->hosts[h].name,
			      r->hosts[h].error);
	}
	if (!up)
		return vl_err_set(err, VL_E_CONNECT, "no host of the class answers (%s: %s)",
				  r->hosts[0].name, r->hosts[0].error);
	return 0;
}

/* The host seat id was found on (the first up one), or -1. */
/* The host seat id is on; found on several (an old copy on a host that was
 * down when the seat was made again elsewhere), the one its note names. */
static int found_host(const struct class_run *r, const struct scan *s, const char *id)
{
	VL_AUTOFREE char *path = NULL, *name = NULL;
	struct vl_err e = VL_ERR_INIT;
	int first = -1, copies = 0;
	size_t len;

	for (size_t i = 0; i < s->n_seats; i++) {
		if (!vl_streq(s->seats[i].id, id))
			continue;
		if (first < 0)
			first = (int)s->seats[i].host;
		copies++;
	}
	if (copies < 2)
		return first;
	path = seat_file(r->ctx, id, HOST_FILE);
	if (vl_file_read(path, 256, &name, &len, &e) < 0)
		return first;
	for (size_t i = 0; i < s->n_seats; i++)
		if (vl_streq(s->seats[i].id, id) && vl_streq(r->hosts[s->seats[i].host].name, name))
			return (int)s->seats[i].host;
	return first;
}

/* ---- plan ------------------------------------------------------------ */

static int need_class(const struct vl_ctx *ctx, struct vl_err *err)
{
	if (!ctx->profile.klass.line)
		return vl_err_set(err, VL_E_USAGE, "%s has no [class] section (seats = N or "
				  "roster = FILE)", ctx->profile.path);
	return 0;
}

static bool in_roster(const struct vl_profile *p, const char *id)
{
	for (size_t i = 0; i < p->klass.n_seats; i++)
		if (vl_streq(p->klass.seats[i].id, id))
			return true;
	return false;
}

static void seat_vms(struct vl_class_seat_info *si, const struct vl_plan *plan)
{
	si->lab_id = vl_strdup(plan->lab_id);
	si->network = vl_strdup(plan->network);
	si->subnet = vl_strdup(plan->subnet_str);
	si->vms = vl_calloc(plan->n_vms + 1, sizeof(*si->vms));
	si->n_vms = plan->n_vms;
	for (size_t k = 0; k < plan->n_vms; k++) {
		si->vms[k].name = vl_strdup(plan->vms[k].name);
		si->vms[k].domain = vl_strdup(plan->vms[k].domain);
		si->vms[k].ip = vl_strdup(plan->vms[k].ip_str);
	}
}

/* The seat's plan against its host's subnets, a new seat's subnet added to
 * them so the next seat planned there takes another. */
static int plan_seat(struct class_run *r, struct scan *s, struct vl_class_seat_info *si,
		     struct vl_err *err)
{
	struct seat_ctx sc;
	struct vl_plan plan = { 0 };
	struct vl_subnet own = { 0 };
	bool have_own = false;
	VL_AUTOFREE char *net = NULL;
	int h = si->host >= 0 ? si->host : si->was_on;
	int rc;

	if (h < 0 || !s->caps[h].up)
		h = -1;
	seat_ctx_init(&sc, r->ctx, h >= 0 ? r->hosts[h].h : r->ctx->host, NULL, si->id);
	VL_AUTOFREE char *lab_id = vl_plan_instance_id(r->ctx->profile.name, r->ctx->profile.dir,
						       sc.ctx.profile.instance);
	net = vl_name_network(lab_id);
	if (h >= 0 && si->move == VL_SEAT_STAYS) {
		/* its network's subnet is kept: find it among the host's */
		VL_AUTOFREE struct vl_subnet *u = NULL;
		size_t nu = 0;
		if (lab_used_subnets(r->hosts[h].h, net, &u, &nu, &own, &have_own, err) < 0) {
			seat_ctx_release(&sc);
			return -1;
		}
	}
	/* a seat with no room still shows a subnet of its own */
	struct vl_subnet **used = h >= 0 ? &s->used[h] : &s->unplaced;
	size_t *n_used = h >= 0 ? &s->n_used[h] : &s->n_unplaced;
	struct vl_plan_opts o = { *used, *n_used, have_own ? &own : NULL };
	rc = vl_plan_build_opts(&plan, &sc.ctx.profile, &r->ctx->config, &o, err);
	if (rc == 0) {
		seat_vms(si, &plan);
		if (!have_own) {
			*used = vl_realloc(*used, (*n_used + 1) * sizeof(**used));
			(*used)[(*n_used)++] = (struct vl_subnet){ plan.subnet, plan.prefix };
		}
	}
	si->instance = vl_strdup(sc.ctx.profile.instance);
	vl_plan_release(&plan);
	seat_ctx_release(&sc);
	return rc;
}

/* A seat found on no host that answers, made on one that is down now. */
static int recorded_down_host(struct class_run *r, const struct scan *s, const char *id)
{
	VL_AUTOFREE char *path = seat_file(r->ctx, id, HOST_FILE);
	VL_AUTOFREE char *name = NULL;
	struct vl_err e = VL_ERR_INIT;
	size_t len;

	if (vl_file_read(path, 256, &name, &len, &e) < 0)
		return -1;
	for (size_t h = 0; h < r->n_hosts; h++)
		if (vl_streq(r->hosts[h].name, name) && !s->caps[h].up)
			return (int)h;
	return -1;
}

static int class_plan(struct class_run *r, struct scan *s, struct vl_class_plan *out,
		      struct vl_err *err)
{
	const struct vl_profile *p = &r->ctx->profile;
	size_t n_roster = p->klass.n_seats, n = n_roster;
	struct vl_err perr = VL_ERR_INIT;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < p->n_vms; i++)
		for (unsigned c = 0; c < p->vms[i].count; c++)
			vl_class_need_add_vm(&out->need, p->vms[i].memory, p->vms[i].cpus);
	if (scan_hosts(r, s, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_seats; i++)
		n += !in_roster(p, s->seats[i].id);
	out->seats = vl_calloc(n + 1, sizeof(*out->seats));
	for (size_t i = 0; i < n_roster; i++) {
		const struct vl_seat_spec *sp = &p->klass.seats[i];
		struct vl_class_seat_info *si = &out->seats[out->n_seats++];
		si->id = vl_strdup(sp->id);
		si->student = sp->name ? vl_strdup(sp->name) : NULL;
		si->email = sp->email ? vl_strdup(sp->email) : NULL;
		si->in_roster = true;
		si->was_on = found_host(r, s, sp->id);
		if (si->was_on < 0)
			si->was_on = recorded_down_host(r, s, sp->id);
	}
	for (size_t i = 0; i < s->n_seats; i++) {
		if (in_roster(p, s->seats[i].id))
			continue;
		bool dup = false;
		for (size_t k = n_roster; k < out->n_seats; k++)
			dup |= vl_streq(out->seats[k].id, s->seats[i].id);
		if (dup)
			continue;
		struct vl_class_seat_info *si = &out->seats[out->n_seats++];
		si->id = vl_strdup(s->seats[i].id);
		si->was_on = (int)s->seats[i].host;
		si->host = si->was_on;
		si->move = VL_SEAT_STAYS;
	}
	/* place the roster's seats */
	int *current = vl_calloc(n_roster + 1, sizeof(int));
	int *host_of = vl_calloc(n_roster + 1, sizeof(int));
	enum vl_seat_move *moves = vl_calloc(n_roster + 1, sizeof(*moves));
	struct vl_class_load *load = vl_calloc(r->n_hosts, sizeof(*load));
	for (size_t i = 0; i < n_roster; i++)
		current[i] = out->seats[i].was_on;
	if (vl_class_place(&out->need, n_roster, current, s->caps, r->n_hosts, host_of, moves, load,
			   &perr) < 0)
		out->refusal = vl_strdup(perr.msg);
	for (size_t i = 0; i < n_roster; i++) {
		out->seats[i].host = host_of[i];
		out->seats[i].move = moves[i];
	}
	out->hosts = vl_calloc(r->n_hosts, sizeof(*out->hosts));
	out->n_hosts = r->n_hosts;
	for (size_t h = 0; h < r->n_hosts; h++) {
		struct vl_class_host_info *hi = &out->hosts[h];
		hi->name = vl_strdup(r->hosts[h].name);
		hi->uri = r->hosts[h].uri ? vl_strdup(r->hosts[h].uri) : NULL;
		hi->error = r->hosts[h].error ? vl_strdup(r->hosts[h].error) : NULL;
		hi->cap = s->caps[h];
		hi->cap.name = hi->name;
		hi->load = load[h];
	}
	free(current);
	free(host_of);
	free(moves);
	free(load);
	/* seats staying first: their subnets are theirs, new seats plan around them */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < out->n_seats; i++)
			if ((out->seats[i].move == VL_SEAT_STAYS) == (pass == 0) &&
			    plan_seat(r, s, &out->seats[i], err) < 0)
				return -1;
	return 0;
}

/* The plan as things are now (after seats were made). */
static int class_plan_again(struct class_run *r, struct vl_class_plan *plan, struct vl_err *err)
{
	struct scan s = { 0 };
	int rc;

	for (size_t h = 0; h < r->n_hosts; h++) {
		free(r->hosts[h].error);
		r->hosts[h].error = NULL;
	}
	rc = class_plan(r, &s, plan, err);
	scan_release(&s, r->n_hosts);
	if (rc < 0)
		vl_class_plan_release(plan);
	return rc;
}

int vl_class_plan(struct vl_ctx *ctx, struct vl_class_plan *plan, struct vl_err *err)
{
	struct class_run r;
	struct scan s = { 0 };
	int rc;

	memset(plan, 0, sizeof(*plan));
	if (need_class(ctx, err) < 0 || hosts_open(&r, ctx, err) < 0)
		return -1;
	rc = class_plan(&r, &s, plan, err);
	scan_release(&s, r.n_hosts);
	hosts_close(&r);
	if (rc < 0)
		vl_class_plan_release(plan);
	return rc;
}

void vl_class_plan_release(struct vl_class_plan *plan)
{
	if (!plan)
		return;
	for (size_t h = 0; h < plan->n_hosts; h++) {
		free(plan->hosts[h].name);
		free(plan->hosts[h].uri);
		free(plan->hosts[h].error);
	}
	free(plan->hosts);
	for (size_t i = 0; i < plan->n_seats; i++) {
		struct vl_class_seat_info *si = &plan->seats[i];
		free(si->id);
		free(si->student);
		free(si->email);
		free(si->instance);
		free(si->lab_id);
		free(si->network);
		free(si->subnet);
		for (size_t k = 0; k < si->n_vms; k++) {
			free(si->vms[k].name);
			free(si->vms[k].domain);
			free(si->vms[k].ip);
		}
		free(si->vms);
	}
	free(plan->seats);
	free(plan->refusal);
	memset(plan, 0, sizeof(*plan));
}

/* ---- running an operation on many seats ------------------------------- */

struct seat_job {
	struct class_run *r;
	const char *id;
	int host;
	struct vl_class_result *res;
	int (*fn)(struct seat_job *j, struct vl_ctx *sctx, struct vl_err *err);
	void *ud;
};

static int seat_job_run(void *ud, size_t i, struct vl_err *err)
{
	struct seat_job *j = &((struct seat_job *)ud)[i];
	struct chost *c = &j->r->hosts[j->host];
	struct seat_ctx sc;
	double t0;
	int rc;

	host_enter(c, j->r->ctx->config.parallel);
	t0 = vl_now_mono();
	seat_ctx_init(&sc, j->r->ctx, c->h, c->uri, j->id);
	rc = vl_cancelled(&j->r->ctx->events) ?
	     vl_err_set(err, VL_E_CANCELLED, "cancelled") : j->fn(j, &sc.ctx, err);
	j->res->seconds = vl_now_mono() - t0;
	j->res->ok = rc == 0;
	if (rc < 0) {
		j->res->error = vl_strdup(err->msg);
		vl_event_warn(&sc.ctx.events, NULL, "failed: %s", err->msg);
	}
	seat_ctx_release(&sc);
	host_leave(c);
	return rc;
}

/* Run fn on n seats (jobs filled but for res), every seat to its end. */
static int run_seats(struct class_run *r, struct seat_job *jobs, size_t n,
		     struct vl_class_report *rep, struct vl_err *err)
{
	struct vl_err *errs = vl_calloc(n + 1, sizeof(*errs));
	size_t first = 0;
	unsigned width = (unsigned)(r->n_hosts * r->ctx->config.parallel);
	double t0 = vl_now_mono();

	rep->seats = vl_realloc(rep->seats, (rep->n_seats + n + 1) * sizeof(*rep->seats));
	for (size_t i = 0; i < n; i++) {
		jobs[i].res = &rep->seats[rep->n_seats + i];
		*jobs[i].res = (struct vl_class_result){ .seat = vl_strdup(jobs[i].id) };
	}
	rep->n_seats += n;
	int rc = n ? vl_parallel_run(n, width ? width : 1, seat_job_run, jobs, errs, &first) : 0;
	rep->total_s += vl_now_mono() - t0;
	if (rc < 0) {
		size_t failed = 0;
		for (size_t i = 0; i < n; i++)
			failed += !jobs[i].res->ok;
		rep->failed += failed;
		vl_err_set(err, errs[first].code == VL_E_CANCELLED ? VL_E_CANCELLED : VL_E_FAIL,
			   "%zu of %zu seats failed (seat %s: %s)", failed, n, jobs[first].id,
			   errs[first].msg);
	}
	free(errs);
	return rc;
}

void vl_class_report_release(struct vl_class_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_seats; i++) {
		free(r->seats[i].seat);
		free(r->seats[i].error);
	}
	free(r->seats);
	memset(r, 0, sizeof(*r));
}

/* ---- up --------------------------------------------------------------- */

/* The jump account (below). */
static size_t class_jumps(const struct vl_ctx *ctx, const struct vl_class_jump **out);
static int jump_stray(const struct vl_ctx *ctx, struct vl_err *err);
static int jump_block(const struct vl_ctx *ctx, const struct vl_class_plan *plan,
		      const struct vl_class_jump *j, char **out, struct vl_err *err);
static int jump_sync(const struct vl_ctx *ctx, const struct vl_class_jump *j, const char *block,
		     bool *installed, struct vl_err *err);

static int pick_seats(struct class_run *r, struct scan *s, char *const *ids, size_t n,
		      struct seat_job **jobs, size_t *n_jobs,
		      int (*fn)(struct seat_job *, struct vl_ctx *, struct vl_err *),
		      struct vl_err *err);

static int up_one(struct seat_job *j, struct vl_ctx *sctx, struct vl_err *err)
{
	struct vl_up_opts o = { .sel = { NULL, 0 }, .isolate = true };
	const char *host = j->r->hosts[j->host].name;
	struct vl_err e = VL_ERR_INIT;

	if (vl_lab_up(sctx, &o, err) < 0)
		return -1;
	VL_AUTOFREE char *path = seat_file(j->r->ctx, j->id, HOST_FILE);
	if (vl_file_write_atomic(path, host, strlen(host), 0600, &e) < 0)
		vl_event_warn(&sctx->events, NULL, "cannot note its host: %s", e.msg);
	return 0;
}

/* Whether every VM of the seat has the baseline. */
static int has_baseline(struct vl_ctx *sctx, bool *out, struct vl_err *err)
{
	struct vl_snap_info *snaps = NULL;
	size_t n = 0, vms = 0;

	*out = false;
	for (size_t i = 0; i < sctx->profile.n_vms; i++)
		vms += sctx->profile.vms[i].count;
	if (vl_lab_snapshot_list(sctx, &snaps, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (vl_streq(snaps[i].name, sctx->profile.klass.baseline) && snaps[i].n_vms == vms)
			*out = true;
	vl_snap_info_free(snaps, n);
	return 0;
}

static int baseline_one(struct seat_job *j, struct vl_ctx *sctx, struct vl_err *err)
{
	bool has;

	(void)j;
	if (has_baseline(sctx, &has, err) < 0)
		return -1;
	if (has)
		return 0;
	return vl_lab_snapshot_save(sctx, sctx->profile.klass.baseline, NULL, err);
}

static int destroy_one(struct seat_job *j, struct vl_ctx *sctx, struct vl_err *err)
{
	VL_AUTOFREE char *id = NULL, *filter = NULL;

	(void)j;
	if (vl_lab_destroy(sctx, NULL, err) < 0)
		return -1;
	/* the isolation filter, once no guest uses it */
	id = vl_plan_instance_id(sctx->profile.name, sctx->profile.dir, sctx->profile.instance);
	filter = vl_name_filter(id);
	return vl_virt_nwfilter_undefine(sctx->host->virt, filter, err);
}

static const struct vl_class_seat_info *seat_in_plan(const struct vl_class_plan *plan,
						     const char *id)
{
	for (size_t i = 0; i < plan->n_seats; i++)
		if (vl_streq(plan->seats[i].id, id))
			return &plan->seats[i];
	return NULL;
}

int vl_class_up(struct vl_ctx *ctx, struct vl_class_report *rep, struct vl_err *err)
{
	struct vl_class_plan plan;
	struct class_run r;
	struct scan s = { 0 };
	struct seat_job *jobs = NULL;
	size_t n = 0;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (need_class(ctx, err) < 0 || jump_stray(ctx, err) < 0 || hosts_open(&r, ctx, err) < 0)
		return -1;
	if (class_plan(&r, &s, &plan, err) < 0)
		goto out;
	if (plan.refusal) {
		vl_err_set(err, VL_E_FAIL, "%s", plan.refusal);
		goto out;
	}
	jobs = vl_calloc(plan.n_seats + s.n_seats + 1, sizeof(*jobs));
	/* seats that left the roster go first: their room is the class's */
	for (size_t i = 0; i < plan.n_seats; i++) {
		const struct vl_class_seat_info *si = &plan.seats[i];
		if (si->in_roster)
			continue;
		vl_event_info(&ctx->events, NULL, "seat %s left the roster: destroying it", si->id);
		jobs[n++] = (struct seat_job){ &r, si->id, si->host, NULL, destroy_one, NULL };
	}
	/* and the old copy of a seat made again elsewhere while its host was
	 * down, now that the host answers again */
	for (size_t i = 0; i < s.n_seats; i++) {
		const struct vl_class_seat_info *si = seat_in_plan(&plan, s.seats[i].id);
		if (!si || !si->in_roster || si->host < 0 || (size_t)si->host == s.seats[i].host)
			continue;
		vl_event_info(&ctx->events, NULL, "seat %s: destroying its old copy on host %s (it "
			      "runs on %s)", si->id, r.hosts[s.seats[i].host].name,
			      r.hosts[si->host].name);
		jobs[n++] = (struct seat_job){ &r, si->id, (int)s.seats[i].host, NULL, destroy_one,
					       NULL };
	}
	if (run_seats(&r, jobs, n, rep, err) < 0)
		goto out;
	n = 0;
	for (size_t i = 0; i < plan.n_seats; i++) {
		const struct vl_class_seat_info *si = &plan.seats[i];
		if (!si->in_roster)
			continue;
		if (si->move == VL_SEAT_MOVED)
			vl_event_warn(&ctx->events, NULL, "seat %s: host %s is down; making it again "
				      "on %s from the image", si->id, r.hosts[si->was_on].name,
				      r.hosts[si->host].name);
		jobs[n++] = (struct seat_job){ &r, si->id, si->host, NULL, up_one, NULL };
	}
	struct vl_err uperr = VL_ERR_INIT;
	size_t before = rep->n_seats;
	int up_rc = run_seats(&r, jobs, n, rep, &uperr);
	/* the baseline once every seat is ready, of those that are */
	size_t nb = 0;
	for (size_t i = 0; i < n; i++)
		if (rep->seats[before + i].ok)
			jobs[nb++] = (struct seat_job){ &r, jobs[i].id, jobs[i].host, NULL,
							baseline_one, NULL };
	struct vl_class_report brep = { 0 };
	struct vl_err berr = VL_ERR_INIT;
	int b_rc = run_seats(&r, jobs, nb, &brep, &berr);
	/* a seat whose baseline failed failed */
	for (size_t i = 0; i < brep.n_seats; i++) {
		if (brep.seats[i].ok)
			continue;
		for (size_t k = before; k < rep->n_seats; k++) {
			if (!vl_streq(rep->seats[k].seat, brep.seats[i].seat))
				continue;
			rep->seats[k].ok = false;
			free(rep->seats[k].error);
			rep->seats[k].error = vl_strdup(brep.seats[i].error);
			rep->failed++;
		}
	}
	rep->total_s += brep.total_s;
	vl_class_report_release(&brep);
	/* the jump accounts' keys for the seats made, for those on this machine */
	const struct vl_class_jump *jumps[1 + VL_CLASS_JUMPS_MAX];
	size_t nj = class_jumps(ctx, jumps);
	if (nj) {
		struct vl_class_plan now = { 0 };
		struct vl_err jerr = VL_ERR_INIT;
		bool planned = class_plan_again(&r, &now, &jerr) == 0;
		for (size_t k = 0; planned && k < nj; k++) {
			VL_AUTOFREE char *block = NULL;
			bool installed = false;
			if (jump_block(ctx, &now, jumps[k], &block, &jerr) < 0 ||
			    jump_sync(ctx, jumps[k], block, &installed, &jerr) < 0)
				break;
			if (!installed)
				vl_event_info(&ctx->events, NULL, "the jump account %s@%s is not on this "
					      "machine: 'vmlab class export' writes the keys to "
					      "authorize there", jumps[k]->user, jumps[k]->addr);
		}
		vl_class_plan_release(&now);
		if (jerr.msg[0] && up_rc == 0 && b_rc == 0) {
			*err = jerr;
			goto out;
		}
	}
	if (up_rc < 0) {
		*err = uperr;
		goto out;
	}
	if (b_rc < 0) {
		*err = berr;
		goto out;
	}
	vl_event_info(&ctx->events, NULL, "class %s: %zu seats up with baseline '%s' (%.1f s)",
		      ctx->profile.name, n, ctx->profile.klass.baseline, rep->total_s);
	rc = 0;
out:
	free(jobs);
	if (plan.seats || plan.hosts)
		vl_class_plan_release(&plan);
	scan_release(&s, r.n_hosts);
	hosts_close(&r);
	return rc;
}

int vl_class_baseline(struct vl_ctx *ctx, struct vl_class_report *rep, struct vl_err *err)
{
	struct class_run r;
	struct scan s = { 0 };
	struct seat_job *jobs = NULL;
	size_t nj = 0;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (need_class(ctx, err) < 0 || hosts_open(&r, ctx, err) < 0)
		return -1;
	if (scan_hosts(&r, &s, err) == 0 &&
	    pick_seats(&r, &s, NULL, 0, &jobs, &nj, baseline_one, err) == 0)
		rc = run_seats(&r, jobs, nj, rep, err);
	free(jobs);
	scan_release(&s, r.n_hosts);
	hosts_close(&r);
	return rc;
}

/* ---- reset ------------------------------------------------------------ */

static void note_reset(struct vl_ctx *sctx)
{
	VL_AUTOFREE char *dir = vl_plan_state_dir(sctx->profile.dir, sctx->profile.instance);
	struct vl_buf path = VL_BUF_INIT, text = VL_BUF_INIT;
	struct vl_err e = VL_ERR_INIT;

	vl_buf_printf(&path, "%s/%s", dir, LAST_RESET_FILE);
	vl_buf_printf(&text, "%lld\n", (long long)time(NULL));
	if (vl_file_write_atomic(path.s, text.s, text.len, 0600, &e) < 0)
		vl_event_warn(&sctx->events, NULL, "cannot note the reset time: %s", e.msg);
	vl_buf_release(&path);
	vl_buf_release(&text);
}

static int reset_one(struct seat_job *j, struct vl_ctx *sctx, struct vl_err *err)
{
	(void)j;
	if (vl_lab_snapshot_restore(sctx, sctx->profile.klass.baseline, err) < 0)
		return -1;
	note_reset(sctx);
	return 0;
}

/* Seats by id (or all of the roster) with the host each is on. */
static int pick_seats(struct class_run *r, struct scan *s, char *const *ids, size_t n,
		      struct seat_job **jobs, size_t *n_jobs,
		      int (*fn)(struct seat_job *, struct vl_ctx *, struct vl_err *),
		      struct vl_err *err)
{
	const struct vl_profile *p = &r->ctx->profile;
	size_t want = n ? n : p->klass.n_seats;

	*jobs = vl_calloc(want + 1, sizeof(**jobs));
	*n_jobs = 0;
	for (size_t i = 0; i < want; i++) {
		const char *id = n ? ids[i] : p->klass.seats[i].id;
		int h = found_host(r, s, id);
		if (h < 0)
			return vl_err_set(err, VL_E_NOTFOUND, "seat %s is on no host that answers; "
					  "'vmlab class up' makes it", id);
		(*jobs)[(*n_jobs)++] = (struct seat_job){ r, id, h, NULL, fn, NULL };
	}
	return 0;
}

static int check_ids(const struct vl_profile *p, char *const *ids, size_t n, struct vl_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!in_roster(p, ids[i]))
			return vl_err_set(err, VL_E_USAGE, "no seat '%s' in the class (%zu seats%s%s)",
					  ids[i], p->klass.n_seats, p->klass.n_seats ? ", first " : "",
					  p->klass.n_seats ? p->klass.seats[0].id : "");
	return 0;
}

int vl_class_reset(struct vl_ctx *ctx, char *const *seats, size_t n, struct vl_class_report *rep,
		   struct vl_err *err)
{
	struct class_run r;
	struct scan s = { 0 };
	struct seat_job *jobs = NULL;
	size_t nj = 0;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (need_class(ctx, err) < 0 || check_ids(&ctx->profile, seats, n, err) < 0 ||
	    hosts_open(&r, ctx, err) < 0)
		return -1;
	if (scan_hosts(&r, &s, err) < 0 ||
	    pick_seats(&r, &s, seats, n, &jobs, &nj, reset_one, err) < 0)
		goto out;
	rc = run_seats(&r, jobs, nj, rep, err);
	if (rc == 0)
		vl_event_info(&ctx->events, NULL, "%zu seat%s back at '%s' (%.1f s)", nj,
			      nj == 1 ? "" : "s", ctx->profile.klass.baseline, rep->total_s);
out:
	free(jobs);
	scan_release(&s, r.n_hosts);
	hosts_close(&r);
	return rc;
}

/* ---- destroy ---------------------------------------------------------- */

int vl_class_destroy(struct vl_ctx *ctx, struct vl_class_report *rep, struct vl_err *err)
{
	struct class_run r;
	struct scan s = { 0 };
	struct seat_job *jobs = NULL;
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	if (need_class(ctx, err) < 0 || hosts_open(&r, ctx, err) < 0)
		return -1;
	if (scan_hosts(&r, &s, err) < 0)
		goto out;
	jobs = vl_calloc(s.n_seats + 1, sizeof(*jobs));
	for (size_t i = 0; i < s.n_seats; i++)
		jobs[i] = (struct seat_job){ &r, s.seats[i].id, (int)s.seats[i].host, NULL,
					     destroy_one, NULL };
	if (run_seats(&r, jobs, s.n_seats, rep, err) < 0)
		goto out;
	/* verified: no domain or network of any seat is left on any host */
	scan_release(&s, r.n_hosts);
	if (scan_hosts(&r, &s, err) < 0)
		goto out;
	if (s.n_seats) {
		vl_err_set(err, VL_E_FAIL, "seat %s still has objects on host %s after destroy",
			   s.seats[0].id, r.hosts[s.seats[0].host].name);
		goto out;
	}
	const struct vl_class_jump *jumps[1 + VL_CLASS_JUMPS_MAX];
	size_t nj = class_jumps(ctx, jumps);
	bool installed;
	for (size_t k = 0; k < nj; k++)
		if (jump_sync(ctx, jumps[k], NULL, &installed, err) < 0)
			goto out;
	vl_event_info(&ctx->events, NULL, "class %s: %zu seat%s destroyed (%.1f s)",
		      ctx->profile.name, rep->n_seats, rep->n_seats == 1 ? "" : "s", rep->total_s);
	rc = 0;
out:
	free(jobs);
	scan_release(&s, r.n_hosts);
	hosts_close(&r);
	return rc;
}

/* ---- the jump account and handouts ------------------------------------ */

#define JUMP_LOCAL_HOST_KEY "/etc/ssh/ssh_host_ed25519_key.pub"

/* The class's jump accounts: [class] jump (its default, as a
 * vl_class_jump), then each jump.HOST; out holds 1 + VL_CLASS_JUMPS_MAX. */
static size_t class_jumps(const struct vl_ctx *ctx, const struct vl_class_jump **out)
{
	const struct vl_class_spec *c = &ctx->profile.klass;
	size_t n = 0;

	if (c->jump_user)
		out[n++] = &ctx->profile.klass.jump_view;
	for (size_t i = 0; i < c->n_host_jumps && i < VL_CLASS_JUMPS_MAX; i++)
		if (c->host_jumps[i].user)
			out[n++] = &c->host_jumps[i];
	return n;
}

/* A jump.HOST naming no host of the class: the profile and vmlab.conf
 * disagree, so no seat would use it. */
static int jump_stray(const struct vl_ctx *ctx, struct vl_err *err)
{
	const struct vl_class_spec *c = &ctx->profile.klass;
	const struct vl_config *cfg = &ctx->config;
	bool own = ctx->uri || !cfg->n_hosts;   /* the command's one connection, "local" */
	const char *local = "local";
	const struct vl_class_jump *j;

	j = own ? vl_class_jump_stray(c->host_jumps, c->n_host_jumps, &local, 1)
		: vl_class_jump_stray(c->host_jumps, c->n_host_jumps,
				      (const char *const *)cfg->host_names, cfg->n_hosts);
	if (j && own)
		return vl_err_set(err, VL_E_PROFILE, "%s:%d: jump.%s: no host %s; the class uses "
				  "one host, local (--uri, or no [hosts] in vmlab.conf)",
				  ctx->profile.path, j->line ? j->line : j->key_line, j->host, j->host);
	if (j)
		return vl_err_set(err, VL_E_PROFILE, "%s:%d: jump.%s: no host %s in vmlab.conf "
				  "[hosts]", ctx->profile.path, j->line ? j->line : j->key_line,
				  j->host, j->host);
	return 0;
}

/* The jump of a seat placed on a host of plan. */
static const struct vl_class_jump *seat_jump(const struct vl_ctx *ctx,
					     const struct vl_class_plan *plan,
					     const struct vl_class_seat_info *si)
{
	const struct vl_class_spec *c = &ctx->profile.klass;
	const char *host = si->host >= 0 ? plan->hosts[si->host].name : NULL;

	return vl_class_jump_for(c->host_jumps, c->n_host_jumps,
				 c->jump_user ? &ctx->profile.klass.jump_view : NULL, host);
}

/* The marker of a jump's block in its account's authorized_keys: one per
 * project (and host), so two classes, or two hosts' seats, share an
 * account. */
static char *jump_marker(const struct vl_ctx *ctx, const struct vl_class_jump *j)
{
	VL_AUTOFREE char *id = vl_plan_lab_id(ctx->profile.name, ctx->profile.dir);
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "vmlab class %s", id);
	if (j->host)
		vl_buf_printf(&b, " host %s", j->host);
	return vl_buf_steal(&b);
}

/* The URI of [hosts] NAME, or NULL. */
static const char *host_uri(const struct vl_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->config.n_hosts; i++)
		if (vl_streq(ctx->config.host_names[i], name))
			return ctx->config.host_uris[i];
	return NULL;
}

/* A jump account's authorized_keys when the account is on this machine:
 * its host (the class's one host for [class] jump, host HOST for
 * jump.HOST) is a daemon of this machine (a URI without a server; its
 * namespaces may differ, its users do not) and the user exists here. */
static char *jump_local_file(const struct vl_ctx *ctx, const struct vl_class_jump *j, uid_t *uid,
			     gid_t *gid)
{
	const char *uri = j->host ? host_uri(ctx, j->host) : ctx->host ? ctx->host->uri : NULL;
	struct passwd pw, *res = NULL;
	char buf[4096];
	struct vl_buf b = VL_BUF_INIT;

	if (!j->user || (j->host ? !uri : !ctx->host) || !vl_virt_uri_is_local(uri) ||
	    getpwnam_r(j->user, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return NULL;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	vl_buf_printf(&b, "%s/.ssh/authorized_keys", pw.pw_dir);
	return vl_buf_steal(&b);
}

static void bundle_of(const struct vl_ctx *ctx, const struct vl_class_plan *plan,
		      const struct vl_class_seat_info *si, struct vl_class_bundle *b,
		      struct vl_class_bundle_vm *vms)
{
	const struct vl_class_jump *j = seat_jump(ctx, plan, si);

	for (size_t k = 0; k < si->n_vms; k++)
		vms[k] = (struct vl_class_bundle_vm){ si->vms[k].name, si->vms[k].ip };
	*b = (struct vl_class_bundle){
		.class_name = ctx->profile.name, .seat = si->id, .student = si->student,
		.user = ctx->profile.user ? ctx->profile.user : VL_PLAN_DEFAULT_USER,
		.jump_user = j ? j->user : NULL, .jump_host = j ? j->addr : NULL,
		.jump_port = j ? j->port : 0, .vms = vms, .n_vms = si->n_vms,
	};
}

/* A seat made now (on a host that answers). */
static bool seat_made(const struct vl_class_seat_info *si)
{
	return si->in_roster && si->was_on >= 0 && si->move == VL_SEAT_STAYS;
}

/* A jump's block: one authorized_keys line per seat made that uses it ("":
 * none). */
static int jump_block(const struct vl_ctx *ctx, const struct vl_class_plan *plan,
		      const struct vl_class_jump *j, char **out, struct vl_err *err)
{
	struct vl_buf b = VL_BUF_INIT;

	for (size_t i = 0; i < plan->n_seats; i++) {
		const struct vl_class_seat_info *si = &plan->seats[i];
		VL_AUTOFREE struct vl_class_bundle_vm *vms = vl_calloc(si->n_vms + 1, sizeof(*vms));
		VL_AUTOFREE char *pub = NULL, *key = NULL, *line = NULL;
		struct vl_class_bundle bd;
		if (!seat_made(si) || seat_jump(ctx, plan, si) != j)
			continue;
		pub = seat_file(ctx, si->id, "id_ed25519.pub");
		if (vl_ssh_pubkey_line(pub, &key, err) < 0) {
			vl_buf_release(&b);
			return -1;
		}
		bundle_of(ctx, plan, si, &bd, vms);
		line = vl_class_authorized_line(key, &bd);
		vl_buf_append(&b, line);
	}
	*out = b.s ? vl_buf_steal(&b) : vl_strdup("");
	return 0;
}

/* Bring the marked block of a jump account on this machine up to date
 * (NULL block: remove it). Nothing to do when the account is elsewhere. */
static int jump_sync(const struct vl_ctx *ctx, const struct vl_class_jump *j, const char *block,
		     bool *installed, struct vl_err *err)
{
	uid_t uid;
	gid_t gid;
	VL_AUTOFREE char *path = jump_local_file(ctx, j, &uid, &gid);
	VL_AUTOFREE char *marker = jump_marker(ctx, j), *old = NULL, *text = NULL, *dir = NULL;
	struct vl_err e = VL_ERR_INIT;
	size_t len = 0;

	*installed = false;
	if (!path)
		return 0;
	if (vl_file_read(path, 1 << 20, &old, &len, &e) < 0 && e.code != VL_E_NOTFOUND)
		return vl_err_set(err, VL_E_IO, "jump account %s: %s", j->user, e.msg);
	text = vl_class_authorized_merge(old, marker, block);
	*installed = block != NULL;
	if (old && vl_streq(old, text))
		return 0;
	if (!old && !block)
		return 0;
	dir = vl_strdup(path);
	*strrchr(dir, '/') = '\0';
	if (mkdir(dir, 0700) == 0 && chown(dir, uid, gid) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "cannot give %s to %s", dir, j->user);
	if (vl_file_write_atomic(path, text, strlen(text), 0600, err) < 0)
		return -1;
	if (chown(path, uid, gid) < 0)
		return vl_err_sys(err, VL_E_IO, errno, "cannot give %s to %s", path, j->user);
	vl_event_info(&ctx->events, NULL, "%s: %s for %s", path,
		      block ? "class keys written" : "class keys removed", j->user);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int write_file(const char *dir, const char *name, const char *text, mode_t mode,
		      struct vl_err *err)
{
	struct vl_buf p = VL_BUF_INIT;
	int rc;

	vl_buf_printf(&p, "%s/%s", dir, name);
	rc = vl_file_write_new(p.s, text, strlen(text), mode, err);
	vl_buf_release(&p);
	return rc;
}

/* A key line without its comment ("TYPE BASE64"). */
static char *key_only(const char *line)
{
	const char *sp = strchr(line, ' ');
	const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;

	return sp2 ? vl_strndup(line, (size_t)(sp2 - line)) : vl_strdup(line);
}

static void csv_field(struct vl_buf *b, const char *v, bool last)
{
	if (v && strpbrk(v, ",\"\n")) {
		vl_buf_putc(b, '"');
		for (const char *c = v; *c; c++) {
			if (*c == '"')
				vl_buf_putc(b, '"');
			vl_buf_putc(b, *c);
		}
		vl_buf_putc(b, '"');
	} else if (v) {
		vl_buf_append(b, v);
	}
	vl_buf_putc(b, last ? '\n' : ',');
}

static int export_seat(const struct vl_ctx *ctx, const struct vl_class_plan *plan,
		       const struct vl_class_seat_info *si, const char *root, const char *jump_line,
		       struct vl_err *err)
{
	VL_AUTOFREE struct vl_class_bundle_vm *vms = vl_calloc(si->n_vms + 1, sizeof(*vms));
	VL_AUTOFREE char *key = NULL, *pub = NULL, *cfg = NULL, *howto = NULL, *priv = NULL;
	VL_AUTOFREE char *pubpath = NULL, *inst = vl_class_instance(si->id);
	VL_AUTOFREE char *state = vl_plan_state_dir(ctx->profile.dir, inst);
	struct vl_buf dir = VL_BUF_INIT, kh = VL_BUF_INIT;
	struct vl_class_bundle b;
	size_t len;
	int rc = -1;

	bundle_of(ctx, plan, si, &b, vms);
	vl_buf_printf(&dir, "%s/%s", root, si->id);
	if (mkdir(dir.s, 0700) < 0) {
		vl_err_sys(err, VL_E_IO, errno, "cannot create %s", dir.s);
		goto out;
	}
	priv = seat_file(ctx, si->id, "id_ed25519");
	pubpath = seat_file(ctx, si->id, "id_ed25519.pub");
	if (vl_file_read(priv, 64 * 1024, &key, &len, err) < 0 ||
	    vl_file_read(pubpath, 64 * 1024, &pub, &len, err) < 0)
		goto out;
	for (size_t k = 0; k < si->n_vms; k++) {
		struct vl_buf hp = VL_BUF_INIT;
		VL_AUTOFREE char *line = NULL, *bare = NULL;
		vl_buf_printf(&hp, "%s/hostkeys/%s_ed25519.pub", state, si->vms[k].name);
		int r = vl_ssh_pubkey_line(hp.s, &line, err);
		vl_buf_release(&hp);
		if (r < 0)
			goto out;
		bare = key_only(line);
		vl_buf_printf(&kh, "%s %s\n", si->vms[k].ip, bare);
	}
	if (jump_line)
		vl_buf_append(&kh, jump_line);
	cfg = vl_class_ssh_config(&b);
	howto = vl_class_howto(&b);
	if (write_file(dir.s, "id_ed25519", key, 0600, err) < 0 ||
	    write_file(dir.s, "id_ed25519.pub", pub, 0644, err) < 0 ||
	    write_file(dir.s, "known_hosts", vl_buf_str(&kh), 0644, err) < 0 ||
	    write_file(dir.s, "ssh_config", cfg, 0644, err) < 0 ||
	    write_file(dir.s, "HOWTO.txt", howto, 0644, err) < 0)
		goto out;
	rc = 0;
out:
	vl_buf_release(&dir);
	vl_buf_release(&kh);
	return rc;
}

/* "[host]:port TYPE BASE64" (or "host TYPE BASE64" on port 22) of a jump
 * host; its key from jump_key[.HOST], else the local sshd's when the
 * account is on this machine. */
static int jump_known_line(const struct vl_ctx *ctx, const struct vl_class_jump *j, char **line,
			   char **from, struct vl_err *err)
{
	VL_AUTOFREE char *keyline = NULL, *bare = NULL, *local = NULL;
	const char *path = j->key;
	struct vl_buf b = VL_BUF_INIT;
	uid_t uid;
	gid_t gid;

	*line = NULL;
	*from = NULL;
	local = jump_local_file(ctx, j, &uid, &gid);
	if (!path && local && access(JUMP_LOCAL_HOST_KEY, R_OK) == 0)
		path = JUMP_LOCAL_HOST_KEY;
	if (!path)
		return vl_err_set(err, VL_E_USAGE, "class export: set jump_key%s%s = FILE in [class], "
				  "the public host key of %s (its %s), so the bundles pin it",
				  j->host ? "." : "", j->host ? j->host : "", j->addr,
				  JUMP_LOCAL_HOST_KEY);
	if (vl_ssh_pubkey_line(path, &keyline, err) < 0)
		return vl_err_prefix(err, j->host ? "jump_key.%s" : "jump_key", j->host);
	bare = key_only(keyline);
	if (j->port == 22)
		vl_buf_printf(&b, "%s %s\n", j->addr, bare);
	else
		vl_buf_printf(&b, "[%s]:%u %s\n", j->addr, j->port, bare);
	*line = vl_buf_steal(&b);
	*from = vl_strdup(path);
	return 0;
}

int vl_class_export(struct vl_ctx *ctx, const char *dir, struct vl_class_export *out,
		    struct vl_err *err)
{
	struct vl_class_plan plan = { 0 };
	const struct vl_class_jump *jumps[1 + VL_CLASS_JUMPS_MAX];
	char *lines[1 + VL_CLASS_JUMPS_MAX] = { 0 }, *from[1 + VL_CLASS_JUMPS_MAX] = { 0 };
	size_t nj = class_jumps(ctx, jumps);
	struct vl_buf partial = VL_BUF_INIT, csv = VL_BUF_INIT;
	struct stat st;
	uid_t uid;
	gid_t gid;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (need_class(ctx, err) < 0 || jump_stray(ctx, err) < 0)
		return -1;
	if (stat(dir, &st) == 0)
		return vl_err_set(err, VL_E_EXISTS, "%s exists; class export writes a new directory",
				  dir);
	for (size_t k = 0; k < nj; k++)
		if (jump_known_line(ctx, jumps[k], &lines[k], &from[k], err) < 0)
			goto out;
	if (vl_class_plan(ctx, &plan, err) < 0)
		goto out;
	vl_buf_printf(&partial, "%s.partial", dir);
	nftw(partial.s, rm_entry, 16, FTW_DEPTH | FTW_PHYS);   /* a crashed export's */
	if (mkdir(partial.s, 0700) < 0) {
		vl_err_sys(err, VL_E_IO, errno, "cannot create %s", partial.s);
		goto out;
	}
	vl_buf_append(&csv, "seat,student,email,host,vms,bundle\n");
	for (size_t i = 0; i < plan.n_seats; i++) {
		const struct vl_class_seat_info *si = &plan.seats[i];
		const struct vl_class_jump *j = seat_jump(ctx, &plan, si);
		const char *jump_line = NULL;
		struct vl_buf vms = VL_BUF_INIT, bundle = VL_BUF_INIT;
		if (!si->in_roster)
			continue;
		if (!seat_made(si)) {
			vl_event_warn(&ctx->events, NULL, "seat %s is not made: no bundle "
				      "('vmlab class up' makes it)", si->id);
			continue;
		}
		for (size_t k = 0; k < nj; k++)
			if (jumps[k] == j)
				jump_line = lines[k];
		/* [class] jump reaches the networks of its own host: a seat on a
		 * host with a server of its own needs that host's jump */
		if (j && !j->host && !vl_virt_uri_is_local(plan.hosts[si->host].uri))
			vl_event_warn(&ctx->events, NULL, "seat %s is on host %s: its bundle jumps "
				      "through %s, which may not reach that host's networks (set "
				      "jump.%s in [class])", si->id, plan.hosts[si->host].name,
				      j->addr, plan.hosts[si->host].name);
		if (export_seat(ctx, &plan, si, partial.s, jump_line, err) < 0)
			goto out;
		for (size_t k = 0; k < si->n_vms; k++)
			vl_buf_printf(&vms, "%s%s=%s", k ? " " : "", si->vms[k].name, si->vms[k].ip);
		vl_buf_printf(&bundle, "%s/%s", dir, si->id);
		csv_field(&csv, si->id, false);
		csv_field(&csv, si->student, false);
		csv_field(&csv, si->email, false);
		csv_field(&csv, plan.hosts[si->host].name, false);
		csv_field(&csv, vl_buf_str(&vms), false);
		csv_field(&csv, bundle.s, true);
		vl_buf_release(&vms);
		vl_buf_release(&bundle);
		out->n_seats++;
	}
	if (!out->n_seats) {
		vl_err_set(err, VL_E_NOTFOUND, "no seat of the class is made; 'vmlab class up' "
			   "makes them");
		goto out;
	}
	if (write_file(partial.s, "class.csv", csv.s, 0600, err) < 0)
		goto out;
	out->jumps = vl_calloc(nj + 1, sizeof(*out->jumps));
	for (size_t k = 0; k < nj; k++) {
		VL_AUTOFREE char *block = NULL, *marker = NULL, *local = NULL;
		struct vl_class_export_jump *ej;
		if (jump_block(ctx, &plan, jumps[k], &block, err) < 0)
			goto out;
		if (!block[0])
			continue;       /* no seat made goes through it */
		ej = &out->jumps[out->n_jumps++];
		ej->host = jumps[k]->host ? vl_strdup(jumps[k]->host) : NULL;
		ej->user = vl_strdup(jumps[k]->user);
		ej->addr = vl_strdup(jumps[k]->addr);
		ej->key_from = vl_steal(&from[k]);
		if (jumps[k]->host && asprintf(&ej->file, "authorized_keys.%s", jumps[k]->host) < 0)
			abort();
		if (!jumps[k]->host)
			ej->file = vl_strdup("authorized_keys");
		marker = jump_marker(ctx, jumps[k]);
		ej->block = vl_class_authorized_merge(NULL, marker, block);
		if (write_file(partial.s, ej->file, ej->block, 0644, err) < 0)
			goto out;
		local = jump_local_file(ctx, jumps[k], &uid, &gid);
		ej->installed = local != NULL;
	}
	if (rename(partial.s, dir) < 0) {
		vl_err_sys(err, VL_E_IO, errno, "cannot rename %s to %s", partial.s, dir);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		if (partial.s)
			nftw(partial.s, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		vl_class_export_release(out);
	}
	for (size_t k = 0; k < nj; k++) {
		free(lines[k]);
		free(from[k]);
	}
	vl_buf_release(&partial);
	vl_buf_release(&csv);
	if (plan.seats || plan.hosts)
		vl_class_plan_release(&plan);
	return rc;
}

void vl_class_export_release(struct vl_class_export *e)
{
	if (!e)
		return;
	for (size_t k = 0; k < e->n_jumps; k++) {
		free(e->jumps[k].host);
		free(e->jumps[k].user);
		free(e->jumps[k].addr);
		free(e->jumps[k].block);
		free(e->jumps[k].file);
		free(e->jumps[k].key_from);
	}
	free(e->jumps);
	memset(e, 0, sizeof(*e));
}

/* ---- status ----------------------------------------------------------- */

struct status_job {
	struct class_run *r;
	const struct vl_seat_spec *spec;
	int host;
	struct vl_class_seat_status *out;
};

/* Running VMs that log in with the seat's key and their pinned host keys
 * (one attempt each: status reports, it does not wait). */
static unsigned ssh_check(struct vl_ctx *sctx)
{
	struct vl_err e = VL_ERR_INIT;
	struct lab lab;
	unsigned ok = 0;

	if (lab_open(&lab, sctx, 0, NULL, &e) < 0)
		return 0;
	if (vl_keys_open(&lab.keys, lab.state_dir, &e) == 0) {
		for (size_t i = 0; i < lab.plan.n_vms; i++) {
			const struct vl_plan_vm *vm = &lab.plan.vms[i];
			VL_AUTOFREE char *pub = NULL;
			struct vl_ssh_target t;
			struct vl_ssh *ssh = NULL;
			if (lab_vm_state(&lab, vm, &e) != VL_VM_RUNNING)
				continue;
			lab_ssh_target(&lab, vm, &t, &pub);
			t.retry_timeout = 0;
			t.connect_timeout = 3;
			if (vl_ssh_connect(&t, &ssh, &e) == 0)
				ok++;
			vl_ssh_free(ssh);
			vl_err_clear(&e);
		}
	}
	lab_close(&lab);
	return ok;
}

static int status_one(void *ud, size_t i, struct vl_err *err)
{
	struct status_job *j = &((struct status_job *)ud)[i];
	struct vl_class_seat_status *o = j->out;
	struct chost *c;
	struct seat_ctx sc;
	struct vl_lab_status st = { 0 };

	o->id = vl_strdup(j->spec->id);
	o->student = j->spec->name ? vl_strdup(j->spec->name) : NULL;
	for (size_t k = 0; k < j->r->ctx->profile.n_vms; k++)
		o->vms_total += j->r->ctx->profile.vms[k].count;
	if (j->host < 0)
		return 0;
	c = &j->r->hosts[j->host];
	o->host = vl_strdup(c->name);
	seat_ctx_init(&sc, j->r->ctx, c->h, c->uri, j->spec->id);
	if (vl_lab_status(&sc.ctx, &st, err) < 0) {
		seat_ctx_release(&sc);
		return -1;
	}
	for (size_t k = 0; k < st.n_vms; k++) {
		uint64_t cap = 0, alloc = 0;
		VL_AUTOFREE char *vol = vl_name_disk(st.vms[k].domain);
		VL_AUTOFREE char *seed = vl_name_seed(st.vms[k].domain);
		struct vl_err e = VL_ERR_INIT;
		o->vms_up += st.vms[k].state == VL_VM_RUNNING;
		if (vl_virt_volume_capacity(c->h->virt, j->r->ctx->config.pool_name, vol, &cap,
					    &alloc, &e) == 0)
			o->disk += alloc;
		if (vl_virt_volume_capacity(c->h->virt, j->r->ctx->config.pool_name, seed, &cap,
					    &alloc, &e) == 0)
			o->disk += alloc;
	}
	vl_lab_status_release(&st);
	if (o->vms_up)
		o->ssh_ok = ssh_check(&sc.ctx);
	struct vl_err e = VL_ERR_INIT;
	has_baseline(&sc.ctx, &o->has_baseline, &e);
	VL_AUTOFREE char *dir = vl_plan_state_dir(sc.ctx.profile.dir, sc.ctx.profile.instance);
	struct vl_buf path = VL_BUF_INIT;
	VL_AUTOFREE char *text = NULL;
	size_t len;
	vl_buf_printf(&path, "%s/%s", dir, LAST_RESET_FILE);
	if (vl_file_read(path.s, 64, &text, &len, &e) == 0)
		o->last_reset = (time_t)strtoll(text, NULL, 10);
	vl_buf_release(&path);
	seat_ctx_release(&sc);
	return 0;
}

int vl_class_status(struct vl_ctx *ctx, struct vl_class_seat_status **out, size_t *n,
		    struct vl_err *err)
{
	const struct vl_profile *p = &ctx->profile;
	struct class_run r;
	struct scan s = { 0 };
	struct status_job *jobs;
	struct vl_err *errs;
	size_t first = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (need_class(ctx, err) < 0 || hosts_open(&r, ctx, err) < 0)
		return -1;
	if (scan_hosts(&r, &s, err) < 0) {
		scan_release(&s, r.n_hosts);
		hosts_close(&r);
		return -1;
	}
	*out = vl_calloc(p->klass.n_seats + 1, sizeof(**out));
	jobs = vl_calloc(p->klass.n_seats + 1, sizeof(*jobs));
	errs = vl_calloc(p->klass.n_seats + 1, sizeof(*errs));
	for (size_t i = 0; i < p->klass.n_seats; i++)
		jobs[i] = (struct status_job){ &r, &p->klass.seats[i],
					       found_host(&r, &s, p->klass.seats[i].id), &(*out)[i] };
	rc = vl_parallel_run(p->klass.n_seats, 8, status_one, jobs, errs, &first);
	*n = p->klass.n_seats;
	if (rc < 0) {
		*err = errs[first];
		vl_class_status_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	free(jobs);
	free(errs);
	scan_release(&s, r.n_hosts);
	hosts_close(&r);
	return rc;
}

void vl_class_status_free(struct vl_class_seat_status *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].id);
		free(s[i].student);
		free(s[i].host);
	}
	free(s);
}

/* ---- one seat ----------------------------------------------------------- */

int vl_class_seat_ctx(struct vl_ctx *ctx, const char *seat, struct vl_ctx *out,
		      struct vl_err *err)
{
	struct class_run r;
	struct scan s = { 0 };
	struct seat_ctx *sc;
	int h, rc = -1;

	if (need_class(ctx, err) < 0 || check_ids(&ctx->profile, (char *const *)&seat, 1, err) < 0 ||
	    hosts_open(&r, ctx, err) < 0)
		return -1;
	if (scan_hosts(&r, &s, err) < 0)
		goto out;
	h = found_host(&r, &s, seat);
	if (h < 0) {
		vl_err_set(err, VL_E_NOTFOUND, "seat %s is on no host that answers; 'vmlab class up' "
			   "makes it", seat);
		goto out;
	}
	/* the seat context owns its sink: out->events.ud points at it */
	sc = vl_calloc(1, sizeof(*sc));
	seat_ctx_init(sc, ctx, r.hosts[h].h, r.hosts[h].uri, seat);
	*out = sc->ctx;
	out->events.ud = &sc->sink;
	rc = 0;
out:
	scan_release(&s, r.n_hosts);
	hosts_close(&r);
	return rc;
}

void vl_class_seat_ctx_release(struct vl_ctx *seat_ctx)
{
	struct seat_sink *sink = seat_ctx->events.ud;
	struct seat_ctx *sc = (struct seat_ctx *)((char *)sink - offsetof(struct seat_ctx, sink));

	free(seat_ctx->profile.instance);
	vl_host_unref(seat_ctx->host);
	free(sc->sink.label);
	free(sc);
	memset(seat_ctx, 0, sizeof(*seat_ctx));
}
