/* Provisioning a VM (docs/provision.md): its entries in order over one SSH
 * session, each skipped when the guest's records say it ran to exit 0 with
 * this content on this domain, its output streamed and kept in
 * .vmlab/logs/VM-provision-N.log. up runs it after readiness; vmlab
 * provision on demand. */
#include "host.h"
#include "lab_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provision.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/str.h"

#define PROV_MAX_BYTES (64u << 20)   /* a provisioner is read whole to hash it */

/* The guest's records ("" when it has none yet). */
static int read_records(struct lab *lab, struct vl_ssh *s, const struct vl_plan_vm *vm,
			char **out, struct vl_err *err)
{
	static const char *const argv[] = { "cat", VL_PROV_RECORDS };
	struct vl_buf b = VL_BUF_INIT;
	const struct lab_out o = { .log_fd = -1, .out = &b };
	int status;

	if (lab_run(lab, s, vm, argv, VL_ARRAY_SIZE(argv), -1, &o, &status, err) < 0) {
		vl_buf_release(&b);
		return -1;
	}
	if (status != 0)
		vl_buf_truncate(&b, 0);   /* none yet */
	*out = vl_strdup(vl_buf_str(&b));
	vl_buf_release(&b);
	return 0;
}

static char *log_path(const struct lab *lab, const struct vl_plan_vm *vm, size_t n)
{
	struct vl_buf b = VL_BUF_INIT;

	vl_buf_printf(&b, "%s/logs/%s-provision-%zu.log", lab->state_dir, vm->name, n);
	return vl_buf_steal(&b);
}

static int open_log(const struct lab *lab, const char *path, struct vl_err *err)
{
	struct vl_buf dir = VL_BUF_INIT;
	int fd;

	vl_buf_printf(&dir, "%s/logs", lab->state_dir);
	if (mkdir(dir.s, 0700) < 0 && errno != EEXIST) {
		vl_err_sys(err, VL_E_IO, errno, "cannot create %s", dir.s);
		vl_buf_release(&dir);
		return -1;
	}
	vl_buf_release(&dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return vl_err_sys(err, VL_E_IO, errno, "cannot write %s", path);
	return fd;
}

/* Every VM's name and address, for the cluster's scripts. */
static void fill_env(const struct lab *lab, const struct vl_plan_vm *vm, struct vl_prov_env *env,
		     struct vl_prov_peer *peers)
{
	for (size_t i = 0; i < lab->plan.n_vms; i++)
		peers[i] = (struct vl_prov_peer){ lab->plan.vms[i].name, lab->plan.vms[i].ip_str };
	*env = (struct vl_prov_env){
		.vm = vm->name, .lab = lab->plan.lab_name, .ip = vm->ip_str, .user = lab->plan.user,
		.index = vm->index ? vm->index : 1, .peers = peers, .n_peers = lab->plan.n_vms,
	};
}

/* Run entry number n (1-based) unless recorded; *ran says whether it did. */
static int run_entry(struct lab *lab, struct vl_ssh *s, const struct vl_plan_vm *vm, size_t n,
		     const char *records, const char *uuid, const struct vl_prov_env *env,
		     bool force, struct vl_err *err)
{
	const struct vl_prov *p = &vm->provision[n - 1];
	const struct vl_events *evs = &lab->ctx->events;
	VL_AUTOFREE char *content = NULL, *log = NULL;
	char **argv = NULL;
	char hash[65];
	size_t len = 0, argc = 0;
	int in_fd = -1, log_fd = -1, status = 0, rc = -1;

	if (vl_file_read(p->src, PROV_MAX_BYTES, &content, &len, err) < 0)
		return vl_err_prefix(err, "provisioner %zu (%s)", n, p->spec);
	vl_prov_hash(p, content, len, hash);
	if (!force && vl_prov_done(records, (unsigned)n, hash, uuid)) {
		vl_event_debug(evs, vm->name, "provisioner %zu (%s): done already", n, p->spec);
		return 0;
	}
	vl_event_info(evs, vm->name, "provisioning %zu/%zu: %s", n, vm->n_provision, p->spec);
	log = log_path(lab, vm, n);
	log_fd = open_log(lab, log, err);
	if (log_fd < 0)
		return -1;
	/* the content goes on stdin from a pipe-free source: the file itself */
	in_fd = open(p->src, O_RDONLY | O_CLOEXEC);
	if (in_fd < 0) {
		vl_err_sys(err, VL_E_IO, errno, "cannot read %s", p->src);
		goto out;
	}
	argv = vl_prov_command(p, (unsigned)n, hash, uuid, env, &argc);
	const struct lab_out o = { .events = true, .log_fd = log_fd };
	if (lab_run(lab, s, vm, (const char *const *)argv, argc, in_fd, &o, &status, err) < 0) {
		vl_err_prefix(err, "provisioner %zu (%s)", n, p->spec);
		goto out;
	}
	if (status != 0) {
		vl_err_set(err, VL_E_REMOTE, "provisioner %zu (%s) exited with status %d; log: %s", n,
			   p->spec, status, log);
		err->status = status > 255 ? 255 : status;
		goto out;
	}
	rc = 0;
out:
	vl_prov_argv_free(argv);
	if (in_fd >= 0)
		close(in_fd);
	close(log_fd);
	return rc;
}

int lab_provision_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	const struct lab_prov_opts *po = ud;
	VL_AUTOFREE char *host_pub = NULL, *records = NULL;
	VL_AUTOFREE struct vl_prov_peer *peers = NULL;
	char uuid[VL_UUID_STRLEN];
	struct vl_ssh_target t;
	struct vl_prov_env env;
	struct vl_ssh *s = NULL;
	int rc = -1;

	if (vm->n_provision == 0)
		return 0;
	/* the domain's identity: a record from another domain's disk (a
	 * template's) does not count here */
	if (vl_virt_domain_get_uuid(lab->ctx->host->virt, vm->domain, uuid, err) < 0)
		return -1;
	/* over the held session when the lab has one (s stays NULL): a
	 * provision again with nothing to do costs one round trip, not a
	 * handshake */
	if (!lab->held) {
		lab_ssh_target(lab, vm, &t, &host_pub);
		if (vl_ssh_connect(&t, &s, err) < 0)
			return -1;
	}
	if (read_records(lab, s, vm, &records, err) < 0)
		goto out;
	peers = vl_calloc(lab->plan.n_vms + 1, sizeof(*peers));
	fill_env(lab, vm, &env, peers);
	for (size_t n = 1; n <= vm->n_provision; n++) {
		if (vl_cancelled(&lab->ctx->events)) {
			vl_err_set(err, VL_E_CANCELLED, "cancelled");
			goto out;
		}
		if (run_entry(lab, s, vm, n, records, uuid, &env, po && po->force, err) < 0)
			goto out;
	}
	rc = 0;
out:
	vl_ssh_free(s);
	return rc;
}

int vl_lab_provision(struct vl_ctx *ctx, const struct vl_provision_opts *o, struct vl_err *err)
{
	struct lab_prov_opts po = { .force = o->force };
	struct lab lab;
	int rc = -1;

	if (lab_open(&lab, ctx, LAB_LOCK, &o->sel, err) < 0)
		return -1;
	if (vl_keys_open(&lab.keys, lab.state_dir, err) < 0)
		goto out;
	for (size_t i = 0; i < lab.plan.n_vms; i++) {
		const struct vl_plan_vm *vm = &lab.plan.vms[i];
		enum vl_vm_state st;
		if (!lab.chosen[i])
			continue;
		st = lab_vm_state(&lab, vm, err);
		if (err->code != VL_OK)
			goto out;
		if (st != VL_VM_RUNNING) {
			vl_err_set(err, VL_E_FAIL, "%s is %s; 'vmlab up %s' starts it (and provisions)",
				   vm->name, vl_vm_state_name(st), vm->name);
			goto out;
		}
	}
	lab_held_use(&lab);
	rc = lab_for_each_vm(&lab, ctx->config.parallel, lab_provision_vm, &po, "provision", err);
out:
	lab_close(&lab);
	return rc;
}
