/* vmlab up: images, keys, network, volumes, seeds, domains, start, wait for
 * SSH, provision (lab_provision.c). Each step checks what exists first, so a second up (or an
 * up after a crash half-way) converges instead of failing. */
#include "host.h"
#include "lab_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cloudinit.h"
#include "image.h"
#include "render.h"
#include "seed.h"
#include "ssh.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/mem.h"
#include "util/str.h"
#include "util/tail.h"

struct up_state {
	bool kvm;
	char *filter;                   /* the lab's network filter (opts->isolate), or NULL */
	struct vl_image_info *images;   /* one per plan VM */
	char **bases;                   /* one per plan VM: the pool volume its overlay is backed by */
	double upload, verify;          /* seconds uploading base images into the pool, reading back */
	pthread_mutex_t lock;           /* guards the timing below (VMs start in parallel) */
	double start_max;               /* longest libvirt domain start: QEMU launching */
	double net_start;               /* libvirt network start: bridge, dnsmasq */
};

/* Keys and user-data for the seed, read whole, as "cannot read PATH: ...". */
static int read_file(const char *path, char **out, struct vl_err *err)
{
	struct vl_err e = VL_ERR_INIT;
	size_t len;

	if (vl_file_read(path, SIZE_MAX, out, &len, &e) == 0)
		return 0;
	return vl_err_sys(err, VL_E_IO, e.sys_errno, "cannot read %s", path);
}

/* auto: KVM when the libvirt host offers it (its domain capabilities: this
 * machine's /dev/kvm says nothing about a remote host); else TCG, warned. */
static int resolve_accel(struct lab *lab, bool *kvm, struct vl_err *err)
{
	const struct vl_config *cfg = &lab->ctx->config;
	bool offered = false;

	if (cfg->accel == VL_ACCEL_TCG) {
		*kvm = false;
		return 0;
	}
	if (vl_host_kvm_offered(lab->ctx->host, &offered, err) < 0)
		return -1;
	if (cfg->accel == VL_ACCEL_KVM) {
		if (!offered)
			return vl_err_set(err, VL_E_FAIL,
					  "accel = kvm, but libvirt offers no KVM on this host (see 'vmlab doctor')");
		*kvm = true;
		return 0;
	}
	*kvm = offered;
	if (!*kvm)
		vl_event_warn(&lab->ctx->events, NULL,
			      "KVM is not available; using TCG software emulation (much slower)");
	return 0;
}

static int ensure_images(struct lab *lab, struct up_state *st, struct vl_err *err)
{
	const struct vl_plan *plan = &lab->plan;
	VL_AUTOFREE const char **names = vl_calloc(plan->n_vms + 1, sizeof(char *));
	size_t n = 0;

	st->images = vl_calloc(plan->n_vms + 1, sizeof(*st->images));
	for (size_t i = 0; i < plan->n_vms; i++)
		if (lab->chosen[i])
			names[n++] = plan->vms[i].image;
	/* refuse what cannot boot before downloading it */
	for (size_t i = 0; i < n; i++) {
		struct vl_image_info info = { 0 };
		int rc = vl_image_resolve(&lab->ctx->config, names[i], &info, err);
		if (rc == 0)
			rc = vl_catalog_entry_usable(&info.entry, err);
		vl_image_info_release(&info);
		if (rc < 0)
			return -1;
	}
	VL_AUTOFREE struct vl_image_info *got = vl_calloc(n + 1, sizeof(*got));
	if (vl_image_ensure(&lab->ctx->config, names, n, lab->ctx->insecure, got, &lab->ctx->events,
			    err) < 0)
		return -1;
	for (size_t i = 0, k = 0; i < plan->n_vms; i++)
		if (lab->chosen[i])
			st->images[i] = got[k++];
	return 0;
}

static int ensure_network(struct lab *lab, struct up_state *st, struct vl_err *err)
{
	bool exists, active;

	if (lab_network_info(lab, &exists, &active, err) < 0)
		return -1;
	if (exists && active)
		return 0;
	/* new, or defined but stopped (after a crash or a host reboot): define
	 * from the plan (the uuid is kept) and start */
	VL_AUTOFREE char *xml = vl_render_network(&lab->plan, NULL, err);
	if (!xml)
		return -1;
	vl_event_info(&lab->ctx->events, NULL, "network %s (%s, %s)", lab->plan.network,
		      lab->plan.subnet_str, lab->plan.mode == VL_NET_NAT ? "nat" : "isolated");
	double t0 = vl_now_mono();
	int rc = vl_virt_network_define_start(lab->ctx->host->virt, &lab->ctx->events, xml, err);
	st->net_start = vl_now_mono() - t0;
	return rc;
}

/* Every distinct image of the chosen VMs gets its copy in the pool, one
 * after another (each upload already streams as fast as the link goes). */
static int ensure_bases(struct lab *lab, struct up_state *st, struct vl_err *err)
{
	const struct vl_plan *plan = &lab->plan;

	st->bases = vl_calloc(plan->n_vms + 1, sizeof(char *));
	for (size_t i = 0; i < plan->n_vms; i++) {
		if (!lab->chosen[i])
			continue;
		for (size_t k = 0; k < i && !st->bases[i]; k++)
			if (st->bases[k] && vl_streq(st->images[k].path, st->images[i].path))
				st->bases[i] = vl_strdup(st->bases[k]);
		if (!st->bases[i] &&
		    lab_base_ensure(lab, &st->images[i], &st->bases[i], &st->upload, &st->verify,
				    err) < 0)
			return -1;
	}
	return 0;
}

/* Under the allocation lock: plan against what libvirt has now and start the
 * network. A new network the libvirt host refuses (it routes that subnet
 * already, say a VPN there) is chosen again, up to 16 times; an existing
 * one keeps its subnet, since its VMs' addresses depend on it. */
static int choose_and_start_network(struct lab *lab, struct up_state *st, struct vl_err *err)
{
	for (int tries = 0;; tries++) {
		bool exists, active;

		if (lab_replan(lab, err) < 0 || lab_network_info(lab, &exists, &active, err) < 0)
			return -1;
		if (ensure_network(lab, st, err) == 0)
			return 0;
		if (err->code != VL_E_EXISTS || exists || tries == 15 || !lab->ctx->profile.subnet_auto)
			return -1;
		vl_event_info(&lab->ctx->events, NULL, "the libvirt host already routes %s: "
			      "choosing another subnet", lab->plan.subnet_str);
		lab->taken = vl_realloc(lab->taken, (lab->n_taken + 1) * sizeof(*lab->taken));
		lab->taken[lab->n_taken++] = (struct vl_subnet){ lab->plan.subnet, lab->plan.prefix };
		vl_err_clear(err);
	}
}

/* The lab's isolation filter, defined (again) with its subnet as chosen. */
static int ensure_filter(struct lab *lab, struct up_state *st, struct vl_err *err)
{
	const struct vl_config *cfg = &lab->ctx->config;
	VL_AUTOFREE char *xml = vl_render_isolation(&lab->plan, cfg->pool_addr, cfg->pool_prefix,
						    err);

	if (!xml || vl_virt_nwfilter_define(lab->ctx->host->virt, xml, err) < 0)
		return -1;
	st->filter = vl_name_filter(lab->plan.lab_id);
	return 0;
}

static int create_overlay(struct lab *lab, const struct vl_plan_vm *vm,
			  const struct vl_image_info *img, const char *base, struct vl_err *err)
{
	const char *pool = lab->ctx->config.pool_name;
	uint64_t capacity = vm->disk > img->virtual_size ? vm->disk : img->virtual_size;
	bool exists;

	if (vl_virt_volume_exists(lab->ctx->host->virt, pool, vm->volume, &exists, err) < 0)
		return -1;
	if (exists)
		return 0;
	VL_AUTOFREE char *xml = vl_render_overlay_volume(vm->volume, capacity, base,
							 vl_image_format_name(img->format), err);
	if (!xml)
		return -1;
	if (vl_virt_volume_create_xml(lab->ctx->host->virt, pool, xml, NULL, err) == 0)
		return 0;
	/* a failed create may leave the file behind: it was not there before */
	struct vl_err ignore = VL_ERR_INIT;
	vl_virt_volume_delete(lab->ctx->host->virt, pool, vm->volume, &ignore);
	return lab_pool_full(lab->ctx, vm->volume, 0, err);
}

/* The seed carries the VM's host private key: it is written 0600 into
 * .vmlab, uploaded into the pool, and the local copy removed. */
static int create_seed(struct lab *lab, const struct vl_plan_vm *vm, struct vl_err *err)
{
	const char *pool = lab->ctx->config.pool_name;
	VL_AUTOFREE char *host_priv = NULL, *host_pub = NULL;
	VL_AUTOFREE char *host_priv_text = NULL, *host_pub_text = NULL, *user_pub = NULL;
	VL_AUTOFREE char *extra = NULL, *user_data = NULL, *meta = NULL, *netcfg = NULL;
	struct vl_buf tmp = VL_BUF_INIT;
	bool exists;
	int rc = -1;

	if (vl_virt_volume_exists(lab->ctx->host->virt, pool, vm->seed_volume, &exists, err) < 0)
		return -1;
	if (exists)
		return 0;
	if (vl_keys_host(&lab->keys, vm->name, &host_priv, &host_pub, err) < 0 ||
	    read_file(host_priv, &host_priv_text, err) < 0 ||
	    read_file(host_pub, &host_pub_text, err) < 0 ||
	    read_file(lab->keys.user_pub, &user_pub, err) < 0)
		return -1;
	if (vm->user_data && read_file(vm->user_data, &extra, err) < 0)
		return -1;
	struct vl_ci_keys keys = {
		.authorized_key = vl_str_trim(user_pub),
		.host_private = host_priv_text,
		.host_public = vl_str_trim(host_pub_text),
	};
	char generation[32];
	/* a new instance-id per seed: cloud-init treats a recreated VM as new */
	snprintf(generation, sizeof(generation), "%lx", (unsigned long)time(NULL));
	user_data = vl_cloudinit_user_data(&lab->plan, vm, &keys, extra, err);
	if (!user_data)
		return -1;
	meta = vl_cloudinit_meta_data(vm, generation);
	/* DHCP on the network's reservation: see vl_cloudinit_network_config */
	netcfg = vl_cloudinit_network_config(vm);
	struct vl_seed_file files[] = {
		{ "meta-data", meta, strlen(meta) },
		{ "user-data", user_data, strlen(user_data) },
		{ "network-config", netcfg, strlen(netcfg) },
	};
	vl_buf_printf(&tmp, "%s/%s.tmp", lab->keys.dir, vm->seed_volume);
	if (vl_seed_write_iso(tmp.s, files, VL_ARRAY_SIZE(files), err) < 0)
		goto out;
	/* upload creates the raw volume of the file's size, then streams it */
	if (vl_virt_volume_upload(lab->ctx->host->virt, &lab->ctx->events, pool, vm->seed_volume, tmp.s, err) < 0) {
		struct vl_err ignore = VL_ERR_INIT;
		vl_virt_volume_delete(lab->ctx->host->virt, pool, vm->seed_volume, &ignore);
		lab_pool_full(lab->ctx, vm->seed_volume, 0, err);
		goto out;
	}
	rc = 0;
out:
	if (tmp.s)
		unlink(tmp.s);
	vl_buf_release(&tmp);
	return rc;
}

static int converge_vm(struct lab *lab, const struct vl_plan_vm *vm, void *ud, struct vl_err *err)
{
	struct up_state *st = ud;
	const struct vl_events *evs = &lab->ctx->events;
	size_t i = (size_t)(vm - lab->plan.vms);
	enum vl_vm_state s;

	s = lab_vm_state(lab, vm, err);
	if (s == VL_VM_OTHER && err->code != VL_OK)
		return -1;
	if (s == VL_VM_MISSING) {
		VL_AUTOFREE char *log = lab_serial_log_path(lab, vm);
		const char *pool = lab->ctx->config.pool_name;
		/* Defining the domain is the commit point: volumes without it were
		 * left by an interrupted up (a seed may be half uploaded) and have
		 * never been booted, so they are made again rather than trusted. */
		if (vl_virt_volume_delete(lab->ctx->host->virt, pool, vm->volume, err) < 0 ||
		    vl_virt_volume_delete(lab->ctx->host->virt, pool, vm->seed_volume, err) < 0)
			return -1;
		/* -v names each step, so a test can stop up inside the one it wants */
		vl_event_debug(evs, vm->name, "volume %s", vm->volume);
		if (create_overlay(lab, vm, &st->images[i], st->bases[i], err) < 0)
			return -1;
		vl_event_debug(evs, vm->name, "seed %s", vm->seed_volume);
		if (create_seed(lab, vm, err) < 0)
			return -1;
		struct vl_domain_opts dopts = {
			.type = st->kvm ? VL_DOMAIN_KVM : VL_DOMAIN_QEMU,
			.pool = lab->ctx->config.pool_name,
			.serial_log = log,
			.tb_cache_mib = st->kvm ? 0 : 64,   /* caps TCG's RSS (docs/host-notes.md) */
			.filter = st->filter,
		};
		VL_AUTOFREE char *xml = vl_render_domain(&lab->plan, vm, &dopts, err);
		vl_event_debug(evs, vm->name, "defining %s", vm->domain);
		if (!xml || vl_virt_domain_define(lab->ctx->host->virt, xml, NULL, err) < 0)
			return -1;
		if (lab->ctx->host->files_local)
			unlink(log); /* a fresh VM starts a fresh console log (on the host) */
		s = VL_VM_SHUTOFF;
	}
	switch (s) {
	case VL_VM_RUNNING:
		vl_event_debug(evs, vm->name, "already running");
		return 0;
	case VL_VM_PAUSED:
		vl_event_info(evs, vm->name, "resuming");
		return vl_virt_domain_resume(lab->ctx->host->virt, vm->domain, err);
	default: {
		vl_event_info(evs, vm->name, "starting (%u cpu, %llu MiB, %s)", vm->cpus,
			      (unsigned long long)(vm->memory >> 20), vm->ip_str);
		double t0 = vl_now_mono();
		int rc = lab_start_vm(lab, vm, err);
		double took = vl_now_mono() - t0;
		pthread_mutex_lock(&st->lock);
		if (took > st->start_max)
			st->start_max = took;
		pthread_mutex_unlock(&st->lock);
		return rc;
	}
	}
}

void vl_up_report_release(struct vl_up_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_vms; i++) {
		struct vl_up_vm_report *v = &r->vms[i];
		free(v->name);
		free(v->ip);
		for (size_t k = 0; k < v->n_ci_errors; k++) {
			free(v->ci_errors[k].module);
			free(v->ci_errors[k].message);
		}
		free(v->ci_errors);
	}
	free(r->vms);
	free(r->lab);
	memset(r, 0, sizeof(*r));
}

static void fill_report(const struct lab *lab, const struct lab_ready *ready,
			struct vl_up_report *r)
{
	r->lab = vl_strdup(lab->plan.lab_name);
	r->vms = vl_calloc(lab->plan.n_vms + 1, sizeof(*r->vms));
	for (size_t i = 0; i < lab->plan.n_vms; i++) {
		const struct lab_ready *rd = &ready[i];
		struct vl_up_vm_report *v;
		if (!lab->chosen[i])
			continue;
		v = &r->vms[r->n_vms++];
		v->name = vl_strdup(lab->plan.vms[i].name);
		v->ip = vl_strdup(lab->plan.vms[i].ip_str);
		v->ready = rd->ssh_s > 0 && rd->ci.state != VL_CI_UNKNOWN &&
			   rd->ci.state != VL_CI_RUNNING;
		v->ssh_s = rd->ssh_s;
		v->cloud_init_s = rd->ci_s;
		v->cloud_init = vl_ci_state_name(rd->ci.state);
		v->ci_errors = vl_calloc(rd->ci.n_errors + 1, sizeof(*v->ci_errors));
		for (size_t k = 0; k < rd->ci.n_errors; k++) {
			v->ci_errors[k].module = rd->ci.errors[k].module ?
						 vl_strdup(rd->ci.errors[k].module) : NULL;
			v->ci_errors[k].message = vl_strdup(rd->ci.errors[k].message);
		}
		v->n_ci_errors = rd->ci.n_errors;
		if (rd->ssh_s > r->ssh_s)
			r->ssh_s = rd->ssh_s;
		if (rd->ci_s > r->cloud_init_s)
			r->cloud_init_s = rd->ci_s;
	}
}

int vl_lab_up(struct vl_ctx *ctx, const struct vl_up_opts *opts, struct vl_err *err)
{
	const struct vl_config *cfg = &ctx->config;
	struct up_state st = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct vl_up_report report = { 0 };
	struct lab_ready_opts ready = { .strict = opts->strict };
	struct vl_lock alloc = VL_LOCK_INIT;  /* held while the subnet is chosen and taken */
	struct lab lab;
	/* phase marks: plan, images, bases, network, converge, wait, provision */
	double t[8] = { vl_now_mono() };
	int rc = -1;

	if (lab_open(&lab, ctx, LAB_LOCK | LAB_KEYS, &opts->sel, err) < 0)
		return -1;
	ready.vms = vl_calloc(lab.plan.n_vms + 1, sizeof(*ready.vms));
	t[1] = t[2] = t[3] = t[4] = t[5] = t[6] = t[7] = vl_now_mono();
	if (resolve_accel(&lab, &st.kvm, err) < 0 || ensure_images(&lab, &st, err) < 0)
		goto out;
	t[2] = vl_now_mono();
	if (vl_virt_pool_ensure(ctx->host->virt, &ctx->events, cfg->pool_name, cfg->pool_dir, err) < 0 ||
	    ensure_bases(&lab, &st, err) < 0)
		goto out;
	t[3] = vl_now_mono();
	if (lab_alloc_lock(&lab, &alloc, err) < 0 || choose_and_start_network(&lab, &st, err) < 0)
		goto out;
	vl_lock_release(&alloc);
	if (opts->isolate && ensure_filter(&lab, &st, err) < 0)
		goto out;
	t[4] = vl_now_mono();
	if (lab_for_each_vm(&lab, cfg->parallel, converge_vm, &st, "up", err) < 0)
		goto out;
	t[5] = vl_now_mono();
	/* waiting costs nothing but a socket each: wait for every VM at once */
	if (lab_for_each_vm(&lab, (unsigned)lab.plan.n_vms, lab_wait_ready, &ready, "up", err) < 0)
		goto out;
	t[6] = vl_now_mono();
	/* sync entries first, so provisioners find the synced files */
	if (lab_for_each_vm(&lab, cfg->parallel, lab_sync_vm, NULL, "sync", err) < 0)
		goto out;
	/* provisioners start only once cloud-init is done (no dpkg lock fight) */
	if (!opts->no_provision &&
	    lab_for_each_vm(&lab, cfg->parallel, lab_provision_vm, &(struct lab_prov_opts){ 0 },
			    "provision", err) < 0)
		goto out;
	t[7] = vl_now_mono();
	if (lab_held_profile_forwards(&lab, err) < 0)
		goto out;
	rc = 0;
out:
	vl_lock_release(&alloc);
	fill_report(&lab, ready.vms, &report);
	report.plan_s = t[1] - t[0];
	report.images_s = t[2] > t[1] ? t[2] - t[1] : 0;
	report.upload_s = st.upload;
	report.verify_s = st.verify;
	report.network_s = t[4] > t[3] ? t[4] - t[3] : 0;
	report.create_s = t[5] > t[4] ? t[5] - t[4] : 0;
	report.wait_s = t[6] > t[5] ? t[6] - t[5] : 0;
	report.provision_s = t[7] > t[6] ? t[7] - t[6] : 0;
	report.total_s = vl_now_mono() - t[0];
	if (rc == 0) {
		/* for -v and bench/up.sh: what vmlab spent itself vs. waiting for
		 * guests; the libvirt figures (inside create+start and network) are
		 * the bridge and dnsmasq coming up and the longest QEMU launch */
		vl_event_debug(&ctx->events, NULL,
			       "timing: plan %.3f s, images %.3f s, base upload %.3f s, base verify %.3f s, "
			       "network %.3f s, "
			       "create+start %.3f s, wait for ssh %.3f s, wait for cloud-init %.3f s, "
			       "wait %.3f s, provision %.3f s, total %.3f s, "
			       "libvirt network start %.3f s, libvirt domain start %.3f s",
			       report.plan_s, report.images_s, report.upload_s, report.verify_s,
			       report.network_s,
			       report.create_s, report.ssh_s, report.cloud_init_s, report.wait_s,
			       report.provision_s, report.total_s, st.net_start, st.start_max);
		vl_event_info(&ctx->events, NULL, "lab %s: %zu VM%s up (%.1f s)", lab.plan.lab_name,
			      report.n_vms, report.n_vms == 1 ? "" : "s", report.total_s);
	}
	if (opts->report)
		*opts->report = report;
	else
		vl_up_report_release(&report);
	for (size_t i = 0; i < lab.plan.n_vms; i++)
		vl_ci_status_release(&ready.vms[i].ci);
	free(ready.vms);
	if (st.images)
		for (size_t i = 0; i < lab.plan.n_vms; i++)
			vl_image_info_release(&st.images[i]);
	free(st.images);
	if (st.bases)
		for (size_t i = 0; i < lab.plan.n_vms; i++)
			free(st.bases[i]);
	free(st.bases);
	free(st.filter);
	lab_close(&lab);
	return rc;
}
