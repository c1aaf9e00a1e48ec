/* The CLI's event sink. Plain lines when stderr is not a terminal; on a
 * terminal, progress redraws one line in place (bytes, rate, ETA). A mutex
 * keeps lines from worker threads whole. */
#include "cmd/output.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mem.h"

struct sink {
	pthread_mutex_t lock;
	bool quiet, verbose, tty;
	bool bar_open;            /* a progress line is drawn without newline */
	double last_plain;        /* time of the last plain progress line */
};

static struct sink the_sink = { .lock = PTHREAD_MUTEX_INITIALIZER };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human_bytes(char *out, size_t n, double v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void end_bar(struct sink *s)
{
	if (s->bar_open) {
		fputc('\n', stderr);
		s->bar_open = false;
	}
}

static void progress(struct sink *s, const struct vl_event *ev)
{
	char done[32], total[32], rate[32], eta[32] = "";
	bool finished = ev->total && ev->done >= ev->total;
	double t = now();

	human_bytes(done, sizeof(done), (double)ev->done);
	human_bytes(total, sizeof(total), (double)ev->total);
	human_bytes(rate, sizeof(rate), ev->rate);
	if (ev->total && ev->rate > 0 && !finished) {
		unsigned secs = (unsigned)((double)(ev->total - ev->done) / ev->rate);
		snprintf(eta, sizeof(eta), " ETA %u:%02u", secs / 60, secs % 60);
	}
	if (s->tty) {
		int pct = ev->total ? (int)(ev->done * 100 / ev->total) : 0;
		char bar[21];
		memset(bar, ' ', 20);
		bar[20] = '\0';
		memset(bar, '#', (size_t)(pct / 5));
		if (ev->total)
			fprintf(stderr, "\r%s: %s [%s] %3d%% %s/%s %s/s%s\033[K", ev->subject ? ev->subject : "",
				ev->msg ? ev->msg : "", bar, pct, done, total, rate, eta);
		else
			fprintf(stderr, "\r%s: %s %s %s/s\033[K", ev->subject ? ev->subject : "",
				ev->msg ? ev->msg : "", done, rate);
		s->bar_open = !finished;
		if (finished)
			fputc('\n', stderr);
		return;
	}
	/* not a terminal: a line every 5 s and at the end */
	if (!finished && t - s->last_plain < 5)
		return;
	s->last_plain = t;
	if (ev->total)
		fprintf(stderr, "%s: %s %s of %s (%d%%) %s/s%s\n", ev->subject ? ev->subject : "",
			ev->msg ? ev->msg : "", done, total, (int)(ev->done * 100 / ev->total), rate, eta);
	else
		fprintf(stderr, "%s: %s %s %s/s\n", ev->subject ? ev->subject : "", ev->msg ? ev->msg : "",
			done, rate);
}

static void emit(void *ud, const struct vl_event *ev)
{
	struct sink *s = ud;

	pthread_mutex_lock(&s->lock);
	switch (ev->kind) {
	case VL_EV_PROGRESS:
		if (!s->quiet)
			progress(s, ev);
		break;
	case VL_EV_OUTPUT:
		end_bar(s);
		fwrite(ev->msg, 1, ev->len, ev->stream == 2 ? stderr : stdout);
		fflush(ev->stream == 2 ? stderr : stdout);
		break;
	case VL_EV_DEBUG:
		if (!s->verbose)
			break;
		/* fall through */
	case VL_EV_INFO:
		if (s->quiet && ev->kind != VL_EV_WARN)
			break;
		end_bar(s);
		if (ev->subject)
			fprintf(stderr, "%s: %s\n", ev->subject, ev->msg);
		else
			fprintf(stderr, "%s\n", ev->msg);
		break;
	case VL_EV_WARN:
		end_bar(s);
		fprintf(stderr, "vmlab: warning: %s%s%s\n", ev->subject ? ev->subject : "",
			ev->subject ? ": " : "", ev->msg);
		break;
	}
	pthread_mutex_unlock(&s->lock);
}

void vl_out_init(struct vl_ctx *ctx)
{
	the_sink.quiet = ctx->quiet;
	the_sink.verbose = ctx->verbose;
	the_sink.tty = ctx->tty_err;
	ctx->events.emit = emit;
	ctx->events.ud = &the_sink;
}

void vl_out_diags(const struct vl_ctx *ctx, const struct vl_diags *diags)
{
	(void)ctx;
	for (size_t i = 0; i < diags->n; i++) {
		VL_AUTOFREE char *line = vl_diag_format(&diags->items[i]);
		fprintf(stderr, "%s\n", line);
	}
}

int vl_out_confirm(const struct vl_ctx *ctx, const char *question)
{
	char answer[16];

	(void)ctx;
	if (!isatty(STDIN_FILENO))
		return 0;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return 0;
	return answer[0] == 'y' || answer[0] == 'Y';
}
