/* The context passed down every call instead of globals: global options,
 * loaded config and profile, and the event sink progress goes to. */
#ifndef VL_CTX_H
#define VL_CTX_H

#include <stdbool.h>

#include "config.h"
#include "event.h"
#include "profile.h"

struct vl_host;

struct vl_ctx {
	char *project_dir;        /* -C DIR, else the current directory (absolute) */
	const char *config_path;  /* --config FILE, or NULL for the search order */
	const char *uri;          /* --uri, overrides config and VMLAB_URI */
	bool json, quiet, verbose;
	bool allow_outside;       /* --allow-outside: profile paths out of the project dir */
	bool insecure;            /* --insecure: images without a checksum */
	bool tty_in, tty_out, tty_err;  /* stdin / stdout / stderr are terminals */
	bool have_config, have_profile;
	struct vl_config config;
	struct vl_profile profile;
	struct vl_host *host;     /* connected when the command needs libvirt (host.h); may be
				   * shared with other operations and threads */
	struct vl_events events;
};

/* What the profile may reach beyond its project: vmlab.conf's allow_subnets
 * and allow_outside, and --allow-outside (profile.h). */
static inline struct vl_profile_trust vl_ctx_trust(const struct vl_ctx *ctx)
{
	return (struct vl_profile_trust){
		.allow_outside = ctx->allow_outside || (ctx->have_config && ctx->config.allow_outside),
		.config = ctx->have_config ? &ctx->config : NULL,
	};
}

#endif
