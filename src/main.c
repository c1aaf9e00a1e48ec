/* vmlab's entry point: global options, then the dispatcher. The only place
 * (with the dispatcher) that turns an error into a message and exit status. */
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "cmd/cmd.h"
#include "cmd/output.h"
#include "util/mem.h"
#include "util/str.h"
#include "lab.h"
#include "virt.h"

static int usage_error(const char *msg)
{
	fprintf(stderr, "vmlab: %s\nusage: %s\n", msg, VL_GLOBAL_USAGE);
	return 2;
}

/* Ctrl-C (or SIGTERM) asks the running operation to stop: every wait and
 * transfer of the engine checks the flag and gives up cleanly, leaving what
 * the next up or destroy converges from. A second one ends vmlab at once. */
static atomic_bool cancel_requested;

static void on_stop_signal(int sig)
{
	static const char msg[] = "\nvmlab: stopping (again to quit at once)\n";
	ssize_t w;

	(void)sig;
	atomic_store(&cancel_requested, true);
	w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESETHAND };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void ctx_release(struct vl_ctx *ctx)
{
	vl_host_unref(ctx->host);
	if (ctx->have_profile)
		vl_profile_release(&ctx->profile);
	if (ctx->have_config)
		vl_config_release(&ctx->config);
	free(ctx->project_dir);
}

int main(int argc, char **argv)
{
	struct vl_ctx ctx = { 0 };
	struct vl_err err = VL_ERR_INIT;
	const char *dir = NULL;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (vl_streq(a, "--help") || vl_streq(a, "-h")) {
			vl_cmd_print_help(NULL, stdout);
			return 0;
		} else if (vl_streq(a, "--version")) {
			printf("vmlab %s\n", VL_VERSION);
			return 0;
		} else if (vl_streq(a, "--json")) {
			ctx.json = true;
		} else if (vl_streq(a, "--allow-outside")) {
			ctx.allow_outside = true;
		} else if (vl_streq(a, "--insecure")) {
			ctx.insecure = true;
		} else if (vl_streq(a, "-q") || vl_streq(a, "--quiet")) {
			ctx.quiet = true;
		} else if (vl_streq(a, "-v") || vl_streq(a, "--verbose")) {
			ctx.verbose = true;
		} else if (vl_streq(a, "--uri") || vl_streq(a, "--config") || vl_streq(a, "-C")) {
			if (i + 1 >= argc) {
				char msg[128];
				snprintf(msg, sizeof(msg), "option '%s' needs a value (%s)", a,
					 vl_global_opt_find(a)->metavar);
				return usage_error(msg);
			}
			if (a[1] == 'C')
				dir = argv[++i];
			else if (a[2] == 'u')
				ctx.uri = argv[++i];
			else
				ctx.config_path = argv[++i];
		} else if (vl_str_startswith(a, "--uri=")) {
			ctx.uri = a + 6;
		} else if (vl_str_startswith(a, "--config=")) {
			ctx.config_path = a + 9;
		} else {
			char msg[256];
			snprintf(msg, sizeof(msg), "unknown global option '%s'", a);
			return usage_error(msg);
		}
	}
	if (i >= argc)
		return usage_error("no command given");

	if (dir) {
		char *abs = realpath(dir, NULL);
		if (!abs) {
			fprintf(stderr, "vmlab: -C %s: no such directory\n", dir);
			return 2;
		}
		ctx.project_dir = abs;
	} else {
		ctx.project_dir = getcwd(NULL, 0);
		if (!ctx.project_dir) {
			perror("vmlab: getcwd");
			return 1;
		}
	}
	ctx.tty_in = isatty(STDIN_FILENO);
	ctx.tty_out = isatty(STDOUT_FILENO);
	ctx.tty_err = isatty(STDERR_FILENO);
	vl_out_init(&ctx);
	ctx.events.cancel = &cancel_requested;
	catch_stop_signals();

	/* Before the dispatcher opens a connection or starts a worker. */
	if (vl_init(&err) < 0)
		rc = -1;
	else
		rc = vl_cmd_dispatch(&ctx, argc - i, argv + i, &err);
	if (rc < 0) {
		if (err.msg[0])   /* ssh and exec pass a remote status on silently */
			fprintf(stderr, "vmlab: %s\n", err.msg);
		rc = vl_err_exit_status(&err);
		if (rc == 0)
			rc = 1;
	}
	fflush(stdout);
	ctx_release(&ctx);
	vl_fini();
	return rc;
}
