/* vmlab image pull|list|rm|prune|save: the image cache from the command line.
 * The work is in src/image.c; this file parses, prints tables and JSON. */
#include "host.h"
#include "cmd/cmd.h"
#include "cmd/output.h"

#include "lab.h"
#include "virt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image.h"
#include "profile.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/mem.h"
#include "util/size.h"
#include "util/str.h"

static const struct vl_opt opts[] = {
	{ "sha256", 0, VL_OPT_VALUE, "HEX", "pull: expected SHA-256 of the published file" },
	{ "insecure", 0, VL_OPT_FLAG, NULL, "pull: accept an image without a checksum source" },
	{ "name", 0, VL_OPT_VALUE, "NAME", "pull: register a URL or path under NAME" },
	{ "force", 'f', VL_OPT_FLAG, NULL, "prune: go on when libvirt is unreachable" },
	{ "dry-run", 'n', VL_OPT_FLAG, NULL, "prune: only list what would be removed" },
	{ "json", 0, VL_OPT_FLAG, NULL, "machine-readable output (see vmlab(1))" },
	VL_OPT_END
};

static const struct vl_subcmd subs[] = {
	{ "pull", NULL, "NAME|URL|PATH... [--sha256 HEX | --insecure] [--name NAME] [--json]", 1, -1 },
	{ "list", "ls", "[--json]", 0, 0 },
	{ "rm", NULL, "NAME... [--json]", 1, -1 },
	{ "prune", NULL, "[--dry-run] [--force] [--json]", 0, 0 },
	{ "save", NULL, "VM NAME [--json]", 2, 2 },
	VL_SUB_END,
};

/* Which subcommand each option goes with (NULL: any). */
static const struct { const char *opt, *sub; } opt_sub[] = {
	{ "sha256", "pull" }, { "insecure", "pull" }, { "name", "pull" },
	{ "force", "prune" }, { "dry-run", "prune" },
};

static void info_json(struct vl_json *j, const struct vl_image_info *in)
{
	vl_json_obj_begin(j);
	vl_json_kstr(j, "name", in->name);
	vl_json_kstr(j, "url", in->url);
	vl_json_kbool(j, "cached", in->cached);
	vl_json_kstr(j, "path", in->path);
	vl_json_kstr(j, "format", in->format ? vl_image_format_name(in->format) : NULL);
	vl_json_kuint(j, "size", in->size);
	vl_json_kuint(j, "virtual_size", in->virtual_size);
	vl_json_kint(j, "pulled", (int64_t)in->pulled);
	vl_json_kstr(j, "user", in->user);
	vl_json_kstr(j, "boot", in->bios ? "bios" : "uefi");
	vl_json_kbool(j, "cloud_init", in->cloud_init);
	vl_json_kbool(j, "in_catalog", in->in_catalog);
	vl_json_obj_end(j);
}

static int do_list(struct vl_ctx *ctx, struct vl_err *err)
{
	struct vl_image_info *v = NULL;
	size_t n = 0;

	if (vl_image_list(&ctx->config, &v, &n, err) < 0)
		return -1;
	if (ctx->json) {
		struct vl_buf b = VL_BUF_INIT;
		struct vl_json j;
		vl_json_init(&j, &b, true);
		vl_json_arr_begin(&j);
		for (size_t i = 0; i < n; i++)
			info_json(&j, &v[i]);
		vl_json_arr_end(&j);
		printf("%s\n", vl_buf_str(&b));
		vl_buf_release(&b);
	} else {
		printf("%-28s %-6s %-8s %-8s %-17s %s\n", "NAME", "FORMAT", "SIZE", "DISK", "PULLED",
		       "USER");
		for (size_t i = 0; i < n; i++) {
			char size[16] = "-", vsize[16] = "-", when[32] = "-";
			if (v[i].cached) {
				struct tm tm;
				vl_human_bytes(size, sizeof(size), (double)v[i].size,
					       VL_SIZE_SHORT);
				vl_human_bytes(vsize, sizeof(vsize), (double)v[i].virtual_size,
					       VL_SIZE_SHORT);
				localtime_r(&v[i].pulled, &tm);
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
			}
			printf("%-28s %-6s %-8s %-8s %-17s %s\n", v[i].name,
			       v[i].format ? vl_image_format_name(v[i].format) : "-", size, vsize, when,
			       v[i].user ? v[i].user : "-");
		}
	}
	vl_image_infos_free(v, n);
	return 0;
}

static int do_pull(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_image_pull_opts o = {
		.sha256 = vl_args_get(a, "sha256"),
		.insecure = vl_args_has(a, "insecure") || ctx->insecure,   /* either place */
		.name = vl_args_get(a, "name"),
	};
	size_t n = (size_t)a->npos - 1;
	struct vl_image_info *out;
	int rc;

	out = vl_calloc(n, sizeof(*out));
	rc = vl_image_pull(&ctx->config, (const char *const *)a->pos + 1, n, &o, out, &ctx->events,
			   err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (ctx->json)
			continue;
		if (!ctx->quiet)
			printf("%s %s\n", out[i].name, out[i].path);
	}
	if (rc == 0 && ctx->json) {
		struct vl_buf b = VL_BUF_INIT;
		struct vl_json j;
		vl_json_init(&j, &b, true);
		vl_json_arr_begin(&j);
		for (size_t i = 0; i < n; i++)
			info_json(&j, &out[i]);
		vl_json_arr_end(&j);
		printf("%s\n", vl_buf_str(&b));
		vl_buf_release(&b);
	}
	/* on failure vl_image_pull released the entries already */
	vl_image_infos_free(out, rc == 0 ? n : 0);
	return rc;
}

/* Images the current project's vmlab.ini names, as cache names. */
static char **project_images(struct vl_ctx *ctx, size_t *n)
{
	struct vl_err e = VL_ERR_INIT;
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	VL_AUTOFREE char *path = vl_profile_find(ctx->project_dir, &e);
	struct vl_profile p = { 0 };
	struct vl_profile_trust trust = vl_ctx_trust(ctx);
	char **names;

	*n = 0;
	if (!path || vl_profile_load_trusted(&p, path, &trust, &diags, &e) < 0)
		return NULL;
	names = vl_calloc(p.n_vms + 1, sizeof(*names));
	for (size_t i = 0; i < p.n_vms; i++) {
		struct vl_image_info info;
		if (p.vms[i].image && vl_image_resolve(&ctx->config, p.vms[i].image, &info, &e) == 0) {
			names[(*n)++] = vl_strdup(info.name);
			vl_image_info_release(&info);
		}
	}
	vl_profile_release(&p);
	return names;
}

/* Cache names of the images lab disks are backed by: <cache>/<name>.<fmt>. */
static void add_in_use(struct vl_ctx *ctx, char ***keep, size_t *nkeep, struct vl_err *err,
		       int *rc)
{
	VL_AUTOFREE char *cache = vl_image_cache_dir(&ctx->config);
	char **paths = NULL;
	size_t n = 0;

	*rc = vl_lab_images_in_use(ctx, &paths, &n, err);
	if (*rc < 0)
		return;
	*keep = vl_realloc(*keep, (*nkeep + n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(paths[i], '/');
		size_t dlen = base ? (size_t)(base - paths[i]) : 0;
		if (!base || strlen(cache) != dlen || strncmp(paths[i], cache, dlen) != 0)
			continue; /* not an image of this cache */
		char *name = vl_strdup(base + 1);
		char *dot = strrchr(name, '.');
		if (dot)
			*dot = '\0';
		(*keep)[(*nkeep)++] = name;
	}
	vl_virt_name_list_free(paths, n);
}

/* Base images in the pool that no overlay is backed by: removed (unless dry),
 * their names appended to *names. */
static int prune_bases(struct vl_ctx *ctx, bool dry, char ***names, size_t *n_names,
		       struct vl_err *err)
{
	struct vl_base_vol *b = NULL;
	size_t n = 0;
	int rc = 0;

	if (vl_lab_base_volumes(ctx, &b, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (b[i].in_use)
			continue;
		if (!dry && (rc = vl_lab_base_remove(ctx, b[i].volume, err)) < 0)
			break;
		*names = vl_realloc(*names, (*n_names + 1) * sizeof(char *));
		(*names)[(*n_names)++] = vl_strdup(b[i].volume);
	}
	vl_base_vols_free(b, n);
	return rc;
}

/* { "dry_run": bool, "removed": [ NAME... ], "base_volumes": [ VOLUME... ] }
 * (with --dry-run: would be; dry < 0: no dry_run key; bases NULL: no base_volumes) */
static void names_json(const char *key, char **names, size_t n, int dry, char **bases,
		       size_t nb)
{
	struct vl_buf b = VL_BUF_INIT;
	struct vl_json j;

	vl_json_init(&j, &b, true);
	vl_json_obj_begin(&j);
	if (dry >= 0)
		vl_json_kbool(&j, "dry_run", dry);
	vl_json_key(&j, key);
	vl_json_arr_begin(&j);
	for (size_t i = 0; i < n; i++)
		vl_json_str(&j, names[i]);
	vl_json_arr_end(&j);
	if (bases || dry >= 0) {
		vl_json_key(&j, "base_volumes");
		vl_json_arr_begin(&j);
		for (size_t i = 0; i < nb; i++)
			vl_json_str(&j, bases[i]);
		vl_json_arr_end(&j);
	}
	vl_json_obj_end(&j);
	printf("%s\n", vl_buf_str(&b));
	vl_buf_release(&b);
}

static int do_prune(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	bool dry = vl_args_has(a, "dry-run");
	size_t nkeep = 0, nrm = 0;
	char **keep = project_images(ctx, &nkeep);
	char **rm = NULL;
	int rc = 0;

	/* libvirt knows which cached images lab disks are backed by */
	const char *uri = ctx->uri ? ctx->uri : ctx->config.uri;
	ctx->host = vl_host_open(uri, err);
	if (ctx->host)
		add_in_use(ctx, &keep, &nkeep, err, &rc);
	if (!ctx->host || rc < 0) {
		if (!vl_args_has(a, "force"))
			goto out; /* cannot tell what labs use: remove nothing (err says why) */
		vl_event_warn(&ctx->events, NULL, "libvirt could not be asked which images lab disks "
			      "use (%s); --force: pruning every image but this project's", err->msg);
		vl_err_clear(err);
		rc = 0;
	}
	rc = vl_image_prune(&ctx->config, (const char *const *)keep, nkeep, dry, &rm, &nrm, err);
	char **bases = NULL;
	size_t nbases = 0;
	if (rc == 0 && ctx->host)
		rc = prune_bases(ctx, dry, &bases, &nbases, err);
	if (rc == 0 && (ctx->json || vl_args_has(a, "json"))) {
		names_json("removed", rm, nrm, dry, bases, nbases);
	} else if (rc == 0) {
		for (size_t i = 0; i < nrm; i++)
			printf("%s %s\n", dry ? "would remove" : "removed", rm[i]);
		for (size_t i = 0; i < nbases; i++)
			printf("%s base volume %s (pool %s)\n", dry ? "would remove" : "removed",
			       bases[i], ctx->config.pool_name);
		if (nrm + nbases == 0 && !ctx->quiet)
			printf("nothing to prune\n");
	}
	for (size_t i = 0; i < nbases; i++)
		free(bases[i]);
	free(bases);
out:
	if (err->code != VL_OK)
		rc = -1;
	for (size_t i = 0; i < nkeep; i++)
		free(keep[i]);
	free(keep);
	for (size_t i = 0; i < nrm; i++)
		free(rm[i]);
	free(rm);
	return rc;
}

static int do_rm(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	size_t n = 0;
	int rc = 0;

	for (int i = 1; i < a->npos; i++) {
		if (vl_image_rm(&ctx->config, a->pos[i], err) < 0) {
			rc = -1;
			break;
		}
		n++;
		if (!ctx->json && !ctx->quiet)
			printf("removed %s\n", a->pos[i]);
	}
	/* the images removed before a failure are still reported */
	if (ctx->json)
		names_json("removed", a->pos + 1, n, -1, NULL, 0);
	return rc;
}

/* What the dispatcher does for commands that need them (the other
 * subcommands need neither): the project's profile, then libvirt. */
static int save_preconditions(struct vl_ctx *ctx, const char *vm, struct vl_err *err)
{
	VL_AUTO(vl_diags) diags = VL_DIAGS_INIT;
	VL_AUTOFREE char *path = vl_profile_find(ctx->project_dir, err);
	char *const names[] = { (char *)vm };
	const struct vl_lab_sel sel = { names, 1 };
	const char *uri = ctx->uri ? ctx->uri : ctx->config.uri;

	if (!path)
		return -1;
	if (!ctx->have_profile) {
		struct vl_profile_trust trust = vl_ctx_trust(ctx);
		if (vl_profile_load_trusted(&ctx->profile, path, &trust, &diags, err) < 0) {
			vl_out_diags(ctx, &diags);
			return -1;
		}
		ctx->have_profile = true;
	}
	if (vl_lab_check_names(ctx, &sel, err) < 0)
		return -1;
	ctx->events.host = uri;
	ctx->host = vl_host_open(uri, err);
	return ctx->host ? 0 : -1;
}

static int do_save(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	struct vl_image_info out;

	if (save_preconditions(ctx, a->pos[1], err) < 0)
		return -1;
	if (vl_lab_image_save(ctx, a->pos[1], a->pos[2], &out, err) < 0)
		return -1;
	if (ctx->json) {
		struct vl_buf b = VL_BUF_INIT;
		struct vl_json j;
		vl_json_init(&j, &b, true);
		info_json(&j, &out);
		printf("%s\n", vl_buf_str(&b));
		vl_buf_release(&b);
	} else if (!ctx->quiet) {
		printf("%s %s\n", out.name, out.path);
	}
	vl_image_info_release(&out);
	return 0;
}

static int check_args(const struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	(void)ctx;
	for (size_t i = 0; i < VL_ARRAY_SIZE(opt_sub); i++)
		if (vl_args_has(a, opt_sub[i].opt) && !vl_streq(a->sub->name, opt_sub[i].sub))
			return vl_err_set(err, VL_E_USAGE, "image %s: --%s goes with %s", a->sub->name,
					  opt_sub[i].opt, opt_sub[i].sub);
	if (vl_args_has(a, "sha256") && vl_args_has(a, "insecure"))
		return vl_err_set(err, VL_E_USAGE, "image pull: --sha256 and --insecure exclude each other");
	return 0;
}

static int run(struct vl_ctx *ctx, const struct vl_args *a, struct vl_err *err)
{
	const char *sub = a->sub->name;

	if (vl_args_has(a, "json"))
		ctx->json = true;   /* `image list --json` and `vmlab --json image list` alike */
	if (vl_streq(sub, "pull"))
		return do_pull(ctx, a, err);
	if (vl_streq(sub, "list"))
		return do_list(ctx, err);
	if (vl_streq(sub, "rm"))
		return do_rm(ctx, a, err);
	if (vl_streq(sub, "save"))
		return do_save(ctx, a, err);
	return do_prune(ctx, a, err);
}

const struct vl_cmd vl_cmd_image = {
	.name = "image",
	.usage = "image pull NAME|URL|PATH... [--sha256 HEX | --insecure] [--name NAME] | "
		 "list | rm NAME... | prune [--dry-run] [--force] | save VM NAME  (each with [--json])",
	.summary = "manage the image cache",
	.description =
		"pull   download (in parallel, resumable, verified) into the cache; a URL or path with\n"
		"       --name NAME is registered so a profile can say image = NAME. Local files and\n"
		"       file:// URLs are imported without a checksum unless --sha256 is given.\n"
		"list   catalog entries and cached images (size, disk size, when pulled; --json).\n"
		"rm     remove a cached image, its partial download and its --name registration.\n"
		"prune  remove cached images no lab uses: none of the disks in the storage pool is\n"
		"       backed by them (libvirt is asked) and this project's vmlab.ini does not name\n"
		"       them. --dry-run lists. If libvirt is unreachable nothing is removed (exit 3),\n"
		"       unless --force: then, with a warning, only this project's images are kept.\n"
		"save   turn the running VM into a template: its cloud-init state, host keys, machine\n"
		"       id and the login user's authorized keys are cleared over SSH, it is halted,\n"
		"       its disk is copied flat through libvirt into the cache and registered as\n"
		"       NAME, booting as the VM's image did. Labs then say image = NAME; their VMs\n"
		"       get their own identity and find what was installed. The VM stays halted.\n"
		"The cache is [images] cache in vmlab.conf, or $VMLAB_CACHE.",
	.opts = opts,
	.subs = subs,
	.flags = VL_CMD_NEEDS_CONFIG,
	.check_args = check_args,
	.run = run,
};
