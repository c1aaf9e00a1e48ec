/* vmlab class plan|up|status|reset|ssh|exec|destroy: one lab copy per
 * student seat of the profile's [class] (src/class.h). */
#include "cmd/cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "class.h"
#include "cmd/output.h"
#include "cmd/status_watch.h"
#include "host.h"
#include "lab.h"
#include "plan.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/parallel.h"
#include "util/size.h"
#include "util/str.h"

static const struct vl_opt opts[] = {
	{ "json", 0, VL_OPT_FLAG, NULL, "plan: machine-readable output, also status (see vmlab(1))" },
	{ "all", 'a', VL_OPT_FLAG, NULL, "exec: on every seat" },
	{ "vm", 0, VL_OPT_VALUE, "VM", "exec: only this VM of each seat (default: every VM)" },
	{ "force", 'f', VL_OPT_FLAG, NULL, "destroy: do not ask for confirmation" },
	{ "watch", 'w', VL_OPT_FLAG, NULL, "status: then print each change of a seat, until Ctrl-C" },
	VL_OPT_END,
};

static const struct vl_subcmd subs[] = {
	{ "plan", NULL, "[--json]", 0, 0 },
	{ "up", NULL, "", 0, 0 },
	{ "status", "st", "[--json] [--watch]", 0, 0 },
	{ "reset", NULL, "[SEAT...]", 0, -1 },
	{ "ssh", NULL, "SEAT VM [-- CMD ARG...]", 2, 2 },
	{ "exec", NULL, "(SEAT... | --all) [--vm VM] -- CMD ARG...", 0, -1 },
	{ "export", NULL, "DIR", 1, 1 },
	{ "destroy", NULL, "[--force]", 0, 0 },
	VL_SUB_END,
};

static void human(char *buf, size_t n, uint64_t bytes)
{
	vl_human_bytes(buf, n, (double)bytes, VL_SIZE_IEC);
}

/* ---- plan ---- */

static void plan_json(const struct vl_ctx *ctx, const struct vl_class_plan *p)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, true);
	vl_json_obj_begin(&j);
	vl_json_kstr(&j, "class", ctx->profile.name);
	vl_json_kstr(&j, "baseline", ctx->profile.klass.baseline);
	vl_json_kbool(&j, "fits", !p->refusal);
	vl_json_kstr(&j, "refusal", p->refusal);
	vl_json_key(&j, "seat_needs");
	vl_json_obj_begin(&j);
	vl_json_kuint(&j, "vms", p->need.vms);
	vl_json_kuint(&j, "memory", vl_class_need_memory(&p->need));
	vl_json_kuint(&j, "vcpus", p->need.vcpus);
	vl_json_kuint(&j, "disk", p->need.disk);
	vl_json_obj_end(&j);
	vl_json_key(&j, "hosts");
	vl_json_arr_begin(&j);
	for (size_t h = 0; h < p->n_hosts; h++) {
		const struct vl_class_host_info *x = &p->hosts[h];
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "name", x->name);
		vl_json_kstr(&j, "uri", x->uri);
		vl_json_kbool(&j, "up", x->cap.up);
		vl_json_kstr(&j, "error", x->error);
		vl_json_kuint(&j, "memory", x->cap.mem_total);
		vl_json_kuint(&j, "memory_committed", x->cap.mem_committed);
		vl_json_kuint(&j, "memory_class", x->load.memory);
		vl_json_kuint(&j, "cpus", x->cap.cpus);
		vl_json_kuint(&j, "vcpus_committed", x->cap.vcpus_committed);
		vl_json_kuint(&j, "vcpus_class", x->load.vcpus);
		vl_json_key(&j, "pool_free");
		if (x->cap.pool_known)
			vl_json_uint(&j, x->cap.pool_free);
		else
			vl_json_null(&j);
		vl_json_kuint(&j, "disk_class", x->load.disk);
		vl_json_kuint(&j, "free_subnets", x->cap.free_subnets);
		vl_json_kuint(&j, "seats", x->load.seats);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_key(&j, "seats");
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < p->n_seats; i++) {
		const struct vl_class_seat_info *s = &p->seats[i];
		static const char *const moves[] = { "stays", "new", "moved" };
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "id", s->id);
		vl_json_kstr(&j, "student", s->student);
		vl_json_kstr(&j, "email", s->email);
		vl_json_kstr(&j, "host", s->host >= 0 ? p->hosts[s->host].name : NULL);
		vl_json_kstr(&j, "action", !s->in_roster ? "remove" : moves[s->move]);
		vl_json_kstr(&j, "lab_id", s->lab_id);
		vl_json_kstr(&j, "network", s->network);
		vl_json_kstr(&j, "subnet", s->subnet);
		vl_json_key(&j, "vms");
		vl_json_arr_begin(&j);
		for (size_t k = 0; k < s->n_vms; k++) {
			vl_json_obj_begin(&j);
			vl_json_kstr(&j, "name", s->vms[k].name);
			vl_json_kstr(&j, "domain", s->vms[k].domain);
			vl_json_kstr(&j, "ip", s->vms[k].ip);
			vl_json_obj_end(&j);
		}
		vl_json_arr_end(&j);
		vl_json_obj_end(&j);
	}
	vl_json_arr_end(&j);
	vl_json_obj_end(&j);
	fputs(vl_buf_str(&b), stdout);
	vl_buf_release(&b);
}

static void plan_text(const struct vl_class_plan *p)
{
	char a[32], b[32], c[32];

	printf("%-16s %-20s %-10s %-8s %-16s %s\n", "SEAT", "STUDENT", "HOST", "ACTION", "SUBNET",
	       "VMS");
	for (size_t i = 0; i < p->n_seats; i++) {
		const struct vl_class_seat_info *s = &p->seats[i];
		static const char *const moves[] = { "keep", "create", "move" };
		printf("%-16s %-20s %-10s %-8s %-16s", s->id, s->student ? s->student : "-",
		       s->host >= 0 ? p->hosts[s->host].name : "(none)",
		       !s->in_roster ? "remove" : moves[s->move], s->subnet ? s->subnet : "-");
		for (size_t k = 0; k < s->n_vms; k++)
			printf("%s%s %s", k ? ", " : " ", s->vms[k].name, s->vms[k].ip);
		putchar('\n');
	}
	human(a, sizeof(a), vl_class_need_memory(&p->need));
	human(b, sizeof(b), p->need.disk);
	printf("\nper seat: %u VMs, %s memory with overhead, %u vCPUs, %s pool space, 1 subnet\n\n",
	       p->need.vms, a, p->need.vcpus, b);
	printf("%-10s %-5s %-30s %-14s %-22s %-8s %s\n", "HOST", "STATE", "MEMORY (other+class/total)",
	       "VCPUS", "POOL (class/free)", "SUBNETS", "SEATS");
	for (size_t h = 0; h < p->n_hosts; h++) {
		const struct vl_class_host_info *x = &p->hosts[h];
		char mem[112], cpu[40], pool[80];
		if (!x->cap.up) {
			printf("%-10s %-5s %s\n", x->name, "down", x->error ? x->error : "");
			continue;
		}
		human(a, sizeof(a), x->cap.mem_committed);
		human(b, sizeof(b), x->load.memory);
		human(c, sizeof(c), x->cap.mem_total);
		snprintf(mem, sizeof(mem), "%s+%s/%s", a, b, c);
		snprintf(cpu, sizeof(cpu), "%u+%u/%u", x->cap.vcpus_committed, x->load.vcpus,
			 x->cap.cpus * VL_CLASS_VCPU_RATIO);
		human(a, sizeof(a), x->load.disk);
		if (x->cap.pool_known) {
			human(b, sizeof(b), x->cap.pool_free);
			snprintf(pool, sizeof(pool), "%s/%s", a, b);
		} else {
			snprintf(pool, sizeof(pool), "%s/(no pool yet)", a);
		}
		printf("%-10s %-5s %-30s %-14s %-22s %-8u %u\n", x->name, "up", mem, cpu, pool,
		       x->cap.free_subnets, x->load.seats);
	}
}

static int do_plan(struct vl_ctx *ctx, bool json, struct vl_err *err)
{
	struct vl_class_plan p;
	int rc = 0;

	if (vl_class_plan(ctx, &p, err) < 0)
		return -1;
	if (json)
		plan_json(ctx, &p);
	else
		plan_text(&p);
	if (p.refusal)
		rc = vl_err_set(err, VL_E_FAIL, "%s", p.refusal);
	vl_class_plan_release(&p);
	return rc;
}

/* ---- up, reset, destroy ---- */

static void print_report(const char *what, const struct vl_class_report *r)
{
	for (size_t i = 0; i < r->n_seats; i++)
		if (!r->seats[i].ok)
			fprintf(stderr, "seat %s: %s failed: %s\n", r->seats[i].seat, what,
				r->seats[i].error ? r->seats[i].error : "?");
}

static int do_reset(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_class_report r;
	int rc = vl_class_reset(ctx, a->pos + 1, (size_t)(a->npos - 1), &r, err);

	if (r.n_seats) {
		print_report("reset", &r);
		printf("reset %zu seat%s in %.1f s (%zu failed)\n", r.n_seats,
		       r.n_seats == 1 ? "" : "s", r.total_s, r.failed);
	}
	vl_class_report_release(&r);
	return rc;
}

static int do_up(struct vl_ctx *ctx, struct vl_err *err)
{
	struct vl_class_report r;
	int rc = vl_class_up(ctx, &r, err);

	print_report("up", &r);
	vl_class_report_release(&r);
	return rc;
}

static int do_destroy(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_class_report r;
	int rc;

	if (!vl_args_has(a, "force")) {
		char q[256];
		snprintf(q, sizeof(q), "Destroy every seat of class '%s', with disks and snapshots?",
			 ctx->profile.name);
		if (!vl_out_confirm(ctx, q))
			return vl_err_set(err, VL_E_CANCELLED, "class destroy cancelled");
	}
	rc = vl_class_destroy(ctx, &r, err);
	print_report("destroy", &r);
	vl_class_report_release(&r);
	return rc;
}

/* ---- export ---- */

static int do_export(struct vl_ctx *ctx, const char *dir, struct vl_err *err)
{
	struct vl_class_export e;

	if (vl_class_export(ctx, dir, &e, err) < 0)
		return -1;
	printf("%zu seat bundle%s and class.csv in %s\n", e.n_seats, e.n_seats == 1 ? "" : "s", dir);
	for (size_t k = 0; k < e.n_jumps; k++) {
		const struct vl_class_export_jump *j = &e.jumps[k];
		if (j->installed) {
			printf("the jump account %s is on this machine: 'class up' keeps its keys "
			       "(%s/%s has the same block)\n", j->user, dir, j->file);
			continue;
		}
		printf("jump host key%s%s from %s\n", j->host ? " of host " : "",
		       j->host ? j->host : "", j->key_from);
		printf("add this block to ~%s/.ssh/authorized_keys on %s (also in %s/%s):\n",
		       j->user, j->addr, dir, j->file);
		fputs(j->block, stdout);
	}
	vl_class_export_release(&e);
	return 0;
}

/* ---- status ---- */

/* class status --watch: the seats' changes on every host that has one */
static int do_status_watch(struct vl_ctx *ctx, bool json, struct vl_err *err)
{
	struct vl_class_plan p;
	const char **uris, **ids;
	char **labels;
	size_t nu = 0, ns = 0;
	int rc;

	if (vl_class_plan(ctx, &p, err) < 0)
		return -1;
	uris = vl_calloc(p.n_hosts + 1, sizeof(*uris));
	ids = vl_calloc(p.n_seats + 1, sizeof(*ids));
	labels = vl_calloc(p.n_seats + 1, sizeof(*labels));
	for (size_t i = 0; i < p.n_hosts; i++)
		if (!p.hosts[i].error)
			uris[nu++] = p.hosts[i].uri;
	for (size_t i = 0; i < p.n_seats; i++) {
		ids[ns] = p.seats[i].lab_id;
		labels[ns++] = vl_strfmt("seat %s", p.seats[i].id);
	}
	struct vl_watch_what w = { uris, nu, ids, (const char *const *)labels, ns };
	rc = nu ? vl_status_watch(ctx, &w, json, err)
		: vl_err_set(err, VL_E_CONNECT, "class status --watch: no host answers");
	free(uris);
	free(ids);
	for (size_t i = 0; i < ns; i++)
		free(labels[i]);
	free(labels);
	vl_class_plan_release(&p);
	return rc;
}

static int do_status(struct vl_ctx *ctx, bool json, struct vl_err *err)
{
	struct vl_class_seat_status *s = NULL;
	size_t n = 0;
	unsigned up = 0, total = 0, ssh = 0, made = 0;
	uint64_t disk = 0;

	if (vl_class_status(ctx, &s, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		up += s[i].vms_up;
		total += s[i].vms_total;
		ssh += s[i].ssh_ok;
		disk += s[i].disk;
		made += s[i].host != NULL;
	}
	if (json) {
		struct vl_buf b = VL_BUF_INIT;
		struct vl_json j;
		vl_json_init(&j, &b, true);
		vl_json_obj_begin(&j);
		vl_json_kstr(&j, "class", ctx->profile.name);
		vl_json_kstr(&j, "baseline", ctx->profile.klass.baseline);
		vl_json_key(&j, "seats");
		vl_json_arr_begin(&j);
		for (size_t i = 0; i < n; i++) {
			vl_json_obj_begin(&j);
			vl_json_kstr(&j, "id", s[i].id);
			vl_json_kstr(&j, "student", s[i].student);
			vl_json_kstr(&j, "host", s[i].host);
			vl_json_kuint(&j, "vms_up", s[i].vms_up);
			vl_json_kuint(&j, "vms_total", s[i].vms_total);
			vl_json_kuint(&j, "ssh_ok", s[i].ssh_ok);
			vl_json_kuint(&j, "disk", s[i].disk);
			vl_json_kbool(&j, "baseline", s[i].has_baseline);
			vl_json_key(&j, "last_reset");
			if (s[i].last_reset)
				vl_json_int(&j, (int64_t)s[i].last_reset);
			else
				vl_json_null(&j);
			vl_json_obj_end(&j);
		}
		vl_json_arr_end(&j);
		vl_json_key(&j, "totals");
		vl_json_obj_begin(&j);
		vl_json_kuint(&j, "seats", n);
		vl_json_kuint(&j, "seats_made", made);
		vl_json_kuint(&j, "vms_up", up);
		vl_json_kuint(&j, "vms_total", total);
		vl_json_kuint(&j, "ssh_ok", ssh);
		vl_json_kuint(&j, "disk", disk);
		vl_json_obj_end(&j);
		vl_json_obj_end(&j);
		fputs(vl_buf_str(&b), stdout);
		vl_buf_release(&b);
	} else {
		char d[32], when[32];
		printf("%-16s %-20s %-10s %-6s %-5s %-10s %-8s %s\n", "SEAT", "STUDENT", "HOST", "VMS",
		       "SSH", "DISK", "BASELINE", "LAST RESET");
		for (size_t i = 0; i < n; i++) {
			char vms[16], sshs[16];
			human(d, sizeof(d), s[i].disk);
			snprintf(vms, sizeof(vms), "%u/%u", s[i].vms_up, s[i].vms_total);
			snprintf(sshs, sizeof(sshs), "%u/%u", s[i].ssh_ok, s[i].vms_up);
			if (s[i].last_reset) {
				struct tm tm;
				localtime_r(&s[i].last_reset, &tm);
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			} else {
				snprintf(when, sizeof(when), "never");
			}
			printf("%-16s %-20s %-10s %-6s %-5s %-10s %-8s %s\n", s[i].id,
			       s[i].student ? s[i].student : "-", s[i].host ? s[i].host : "(not made)",
			       vms, sshs, d, s[i].has_baseline ? "yes" : "no", when);
		}
		human(d, sizeof(d), disk);
		printf("total: %zu seats (%u made), %u/%u VMs up, %u answer SSH, %s disk\n", n, made,
		       up, total, ssh, d);
	}
	vl_class_status_free(s, n);
	return 0;
}

/* ---- ssh, exec ---- */

static int do_ssh(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_ctx sc;
	int rc;

	if (vl_class_seat_ctx(ctx, a->pos[1], &sc, err) < 0)
		return -1;
	rc = vl_cmd_ssh_vm(&sc, a->pos[2], a, err);
	vl_class_seat_ctx_release(&sc);
	return rc;
}

struct exec_job {
	struct vl_ctx *ctx;
	const struct vl_args *a;
	const char *seat, *vm;
	int out, errfd;            /* memfds: output kept per job, printed in order */
	int status;                /* remote status; -1: not reached */
	char *error;
};

static int exec_one(void *ud, size_t i, struct vl_err *err)
{
	struct exec_job *j = &((struct exec_job *)ud)[i];
	struct vl_ctx sc;
	int rc;

	j->status = -1;
	if (vl_class_seat_ctx(j->ctx, j->seat, &sc, err) < 0) {
		j->error = vl_strdup(err->msg);
		return -1;
	}
	rc = vl_lab_ssh_exec(&sc, j->vm, (const char *const *)j->a->rest, (size_t)j->a->nrest, -1,
			     j->out, j->errfd, &j->status, err);
	vl_class_seat_ctx_release(&sc);
	if (rc < 0) {
		j->status = -1;
		j->error = vl_strdup(err->msg);
	}
	return rc;
}

/* A memfd's text on f, each line prefixed "[seat/vm] ". */
static void dump(int fd, FILE *f, const char *seat, const char *vm)
{
	char buf[4096];
	ssize_t r;
	bool bol = true;

	lseek(fd, 0, SEEK_SET);
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t k = 0; k < r; k++) {
			if (bol)
				fprintf(f, "[%s/%s] ", seat, vm);
			fputc(buf[k], f);
			bol = buf[k] == '\n';
		}
	}
	if (!bol)
		fputc('\n', f);
}

static int do_exec(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const struct vl_profile *p = &ctx->profile;
	bool all = vl_args_has(a, "all");
	const char *only = vl_args_get(a, "vm");
	size_t n_seats = all ? p->klass.n_seats : (size_t)(a->npos - 1), n = 0, vms = 0;
	struct exec_job *jobs;
	struct vl_plan plan = { 0 };
	int worst = 0;
	bool unreachable = false;

	/* the VMs of a seat: the lab's, named as in the plan */
	if (vl_plan_build(&plan, p, &ctx->config, NULL, 0, err) < 0)
		return -1;
	if (only && !vl_plan_find_vm(&plan, only)) {
		vl_plan_release(&plan);
		return vl_err_set(err, VL_E_USAGE, "no VM '%s' in lab %s", only, p->name);
	}
	vms = only ? 1 : plan.n_vms;
	jobs = vl_calloc(n_seats * vms + 1, sizeof(*jobs));
	for (size_t s = 0; s < n_seats; s++) {
		const char *seat = all ? p->klass.seats[s].id : a->pos[1 + s];
		for (size_t k = 0; k < plan.n_vms; k++) {
			if (only && !vl_streq(only, plan.vms[k].name))
				continue;
			jobs[n++] = (struct exec_job){ ctx, a, seat, plan.vms[k].name,
						      memfd_create("out", MFD_CLOEXEC),
						      memfd_create("err", MFD_CLOEXEC), -1, NULL };
		}
	}
	struct vl_err *errs = vl_calloc(n + 1, sizeof(*errs));
	size_t first;
	vl_parallel_run(n, ctx->config.parallel * 2, exec_one, jobs, errs, &first);
	for (size_t i = 0; i < n; i++) {
		struct exec_job *j = &jobs[i];
		fflush(stdout);
		dump(j->out, stdout, j->seat, j->vm);
		fflush(stdout);
		dump(j->errfd, stderr, j->seat, j->vm);
		if (j->status < 0) {
			fprintf(stderr, "[%s/%s] vmlab: %s\n", j->seat, j->vm,
				j->error ? j->error : "not reached");
			unreachable = true;
		} else if (j->status > worst) {
			worst = j->status;
		}
		close(j->out);
		close(j->errfd);
		free(j->error);
	}
	free(errs);
	free(jobs);
	vl_plan_release(&plan);
	if (unreachable || worst) {
		err->code = VL_E_REMOTE;
		err->status = unreachable ? 255 : worst;
		err->msg[0] = '\0';
		return -1;
	}
	return 0;
}

/* ---- the command ---- */

static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const char *verb = a->sub->name;
	bool takes_rest = vl_streq(verb, "ssh") || vl_streq(verb, "exec");

	if (a->has_rest && !takes_rest)
		return vl_err_set(err, VL_E_USAGE, "class %s takes no '-- CMD'", verb);
	if (vl_args_has(a, "json") && !vl_streq(verb, "plan") && !vl_streq(verb, "status"))
		return vl_err_set(err, VL_E_USAGE, "class %s: --json goes with plan and status", verb);
	if ((vl_args_has(a, "all") || vl_args_has(a, "vm")) && !vl_streq(verb, "exec"))
		return vl_err_set(err, VL_E_USAGE, "class %s: --all and --vm go with exec", verb);
	if (vl_args_has(a, "watch") && !vl_streq(verb, "status"))
		return vl_err_set(err, VL_E_USAGE, "class %s: --watch goes with status", verb);
	if (vl_args_has(a, "force") && !vl_streq(verb, "destroy"))
		return vl_err_set(err, VL_E_USAGE, "class %s: --force goes with destroy", verb);
	if (vl_streq(verb, "exec")) {
		if (!a->has_rest || a->nrest == 0)
			return vl_err_set(err, VL_E_USAGE, "usage: vmlab class exec (SEAT... | --all) "
					  "-- CMD ARG...");
		if (vl_args_has(a, "all") == (a->npos > 1))
			return vl_err_set(err, VL_E_USAGE, "class exec: name seats or give --all, "
					  "not both or neither");
	}
	if (vl_streq(verb, "ssh") && a->has_rest && a->nrest == 0)
		return vl_err_set(err, VL_E_USAGE, "usage: vmlab class ssh SEAT VM [-- CMD ARG...]");
	if (vl_streq(verb, "destroy") && !vl_args_has(a, "force") && !vl_out_interactive(ctx))
		return vl_out_refuse_without_terminal("class destroy", NULL, err);
	return 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const char *verb = a->sub->name;
	bool json = ctx->json || vl_args_has(a, "json");

	if (!ctx->profile.klass.line)
		return vl_err_set(err, VL_E_USAGE, "%s has no [class] section (seats = N or "
				  "roster = FILE); see vmlab.ini(5)", ctx->profile.path);
	/* seat names are checked before libvirt is asked anything */
	for (int i = 1; i < a->npos && (vl_streq(verb, "reset") || vl_streq(verb, "exec") ||
					vl_streq(verb, "ssh")); i++) {
		bool known = false;
		if (vl_streq(verb, "ssh") && i == 2)
			break;
		for (size_t k = 0; k < ctx->profile.klass.n_seats; k++)
			known |= vl_streq(ctx->profile.klass.seats[k].id, a->pos[i]);
		if (!known)
			return vl_err_set(err, VL_E_USAGE, "no seat '%s' in the class", a->pos[i]);
	}
	/* one host: the command's connection, shared by every seat (exit 3 when
	 * unreachable); with [hosts] the engine opens each and reports those down */
	if ((!ctx->config.n_hosts || ctx->uri) && !ctx->host) {
		const char *uri = ctx->uri ? ctx->uri : ctx->config.uri;
		ctx->events.host = uri;
		ctx->host = vl_host_open(uri, err);
		if (!ctx->host)
			return -1;
	}
	if (vl_streq(verb, "plan"))
		return do_plan(ctx, json, err);
	if (vl_streq(verb, "up"))
		return do_up(ctx, err);
	if (vl_streq(verb, "status") && vl_args_has(a, "watch"))
		return do_status_watch(ctx, json, err);
	if (vl_streq(verb, "status"))
		return do_status(ctx, json, err);
	if (vl_streq(verb, "reset"))
		return do_reset(ctx, a, err);
	if (vl_streq(verb, "ssh"))
		return do_ssh(ctx, a, err);
	if (vl_streq(verb, "exec"))
		return do_exec(ctx, a, err);
	if (vl_streq(verb, "export"))
		return do_export(ctx, a->pos[1], err);
	return do_destroy(ctx, a, err);
}

const struct vl_cmd vl_cmd_class = {
	.name = "class",
	.usage = "class plan [--json] | up | status [--json] | reset [SEAT...] | "
		 "ssh SEAT VM [-- CMD...] | exec (SEAT... | --all) -- CMD... | export DIR | "
		 "destroy [--force]",
	.summary = "one lab copy per student seat",
	.description =
		"The profile's [class] section (seats = N, or roster = FILE with id,name[,email]\n"
		"lines) makes one instance of the lab per seat, each with its own network,\n"
		"subnet, user key and host keys. plan shows each seat's host, subnet and VMs and\n"
		"the capacity check, touching nothing. up makes every seat in parallel, then\n"
		"takes the baseline snapshot of each; seats that left the roster are destroyed.\n"
		"reset brings seats back to the baseline (same IPs, MACs and keys) and prints its\n"
		"time. exec exits 0 when every command did, else the highest remote status, or\n"
		"255 when a VM could not be reached. export writes each seat's handout (key,\n"
		"pinned known_hosts, ssh_config through the jump host, how-to) and class.csv.",
	.opts = opts,
	.subs = subs,
	.flags = VL_CMD_NEEDS_PROFILE | VL_CMD_CHECK_LAB,
	.takes_rest = true,
	.check_args = check_args,
	.run = run,
};
