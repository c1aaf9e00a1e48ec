/* The CLI's event sink. Plain lines when stderr is not a terminal; on a
 * terminal, progress redraws one line in place (bytes, rate, ETA; several
 * downloads at once share the line). A mutex keeps lines from worker
 * threads whole. */
#include "cmd/output.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/mem.h"
#include "util/size.h"

#define MAX_BARS 8

/* One download (or other progress) in flight, by subject. */
struct bar {
	char subject[64];
	char what[32];
	uint64_t done, total;
	double rate;
	bool used;
};

struct sink {
	pthread_mutex_t lock;
	bool quiet, verbose, tty;
	bool no_prefix;           /* remote output without "VM: " (exec --no-prefix) */
	bool bar_open;            /* a progress line is drawn without newline */
	double last_plain;        /* time of the last plain progress line */
	struct bar bars[MAX_BARS];/* several pulls at once share one line */
};

static struct sink the_sink = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void end_bar(struct sink *s)
{
	if (s->bar_open) {
		fputc('\n', stderr);
		s->bar_open = false;
	}
}

static void eta_of(char *out, size_t n, uint64_t done, uint64_t total, double rate)
{
	out[0] = '\0';
	if (total && rate > 0 && done < total) {
		unsigned secs = (unsigned)((double)(total - done) / rate);
		snprintf(out, n, " ETA %u:%02u", secs / 60, secs % 60);
	}
}

/* One bar in full: "debian-12: download [####      ] 45% 1.0 GiB/2.2 GiB 80 MiB/s ETA 0:15" */
static void draw_one(const struct bar *b, bool finished)
{
	char done[32], total[32], rate[32], eta[32];
	int pct = b->total ? (int)(b->done * 100 / b->total) : 0;
	char bar[21];

	vl_human_bytes(done, sizeof(done), (double)b->done, VL_SIZE_IEC);
	vl_human_bytes(total, sizeof(total), (double)b->total, VL_SIZE_IEC);
	vl_human_bytes(rate, sizeof(rate), b->rate, VL_SIZE_IEC);
	eta_of(eta, sizeof(eta), b->done, b->total, finished ? 0 : b->rate);
	memset(bar, ' ', 20);
	bar[20] = '\0';
	memset(bar, '#', (size_t)(pct > 100 ? 20 : pct / 5));
	if (b->total)
		fprintf(stderr, "\r%s: %s [%s] %3d%% %s/%s %s/s%s\033[K", b->subject, b->what, bar, pct,
			done, total, rate, eta);
	else
		fprintf(stderr, "\r%s: %s %s %s/s\033[K", b->subject, b->what, done, rate);
}

/* Several at once: "3 downloads: debian-12 45%, ubuntu-24.04 12%, ... 120 MiB/s ETA 1:02" */
static void draw_many(const struct sink *s, size_t nused)
{
	uint64_t done = 0, total = 0;
	double rate = 0;
	char r[32], eta[32];

	fprintf(stderr, "\r%zu downloads:", nused);
	for (size_t i = 0; i < MAX_BARS; i++) {
		const struct bar *b = &s->bars[i];
		if (!b->used)
			continue;
		done += b->done;
		total += b->total;
		rate += b->rate;
		if (b->total)
			fprintf(stderr, " %s %d%%", b->subject, (int)(b->done * 100 / b->total));
		else
			fprintf(stderr, " %s", b->subject);
	}
	vl_human_bytes(r, sizeof(r), rate, VL_SIZE_IEC);
	eta_of(eta, sizeof(eta), done, total, rate);
	fprintf(stderr, ", %s/s%s\033[K", r, eta);
}

static struct bar *bar_for(struct sink *s, const char *subject)
{
	struct bar *free_slot = NULL;

	for (size_t i = 0; i < MAX_BARS; i++) {
		if (s->bars[i].used && strcmp(s->bars[i].subject, subject) == 0)
			return &s->bars[i];
		if (!s->bars[i].used && !free_slot)
			free_slot = &s->bars[i];
	}
	if (!free_slot)
		free_slot = &s->bars[0];   /* more than MAX_BARS at once: share */
	memset(free_slot, 0, sizeof(*free_slot));
	snprintf(free_slot->subject, sizeof(free_slot->subject), "%s", subject);
	free_slot->used = true;
	return free_slot;
}

static void progress(struct sink *s, const struct vl_event *ev)
{
	char done[32], total[32], rate[32], eta[32];
	bool finished = ev->total && ev->done >= ev->total;
	double t = vl_now_mono();

	if (s->tty) {
		struct bar *b = bar_for(s, ev->subject ? ev->subject : "");
		size_t nused = 0;
		snprintf(b->what, sizeof(b->what), "%s", ev->msg ? ev->msg : "");
		b->done = ev->done;
		b->total = ev->total;
		b->rate = ev->rate;
		for (size_t i = 0; i < MAX_BARS; i++)
			nused += s->bars[i].used;
		if (finished) {
			/* a finished one gets its own final line */
			draw_one(b, true);
			fputc('\n', stderr);
			b->used = false;
			s->bar_open = false;
			return;
		}
		if (nused > 1)
			draw_many(s, nused);
		else
			draw_one(b, false);
		s->bar_open = true;
		return;
	}
	/* not a terminal: a line every 5 s and at the end */
	if (!finished && t - s->last_plain < 5)
		return;
	s->last_plain = t;
	vl_human_bytes(done, sizeof(done), (double)ev->done, VL_SIZE_IEC);
	vl_human_bytes(total, sizeof(total), (double)ev->total, VL_SIZE_IEC);
	vl_human_bytes(rate, sizeof(rate), ev->rate, VL_SIZE_IEC);
	eta_of(eta, sizeof(eta), ev->done, ev->total, finished ? 0 : ev->rate);
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
	case VL_EV_OUTPUT: {
		FILE *f = ev->stream == 2 ? stderr : stdout;
		end_bar(s);
		/* the engine sends whole lines: "VM: line", as pdsh does */
		if (ev->subject && !s->no_prefix)
			fprintf(f, "%s: ", ev->subject);
		fwrite(ev->msg, 1, ev->len, f);
		if (ev->subject && !s->no_prefix && ev->len && ev->msg[ev->len - 1] != '\n')
			fputc('\n', f);
		fflush(f);
		break;
	}
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

void vl_out_set_prefix(bool on)
{
	pthread_mutex_lock(&the_sink.lock);
	the_sink.no_prefix = !on;
	pthread_mutex_unlock(&the_sink.lock);
}

void vl_out_diags(const struct vl_ctx *ctx, const struct vl_diags *diags)
{
	(void)ctx;
	for (size_t i = 0; i < diags->n; i++) {
		VL_AUTOFREE char *line = vl_diag_format(&diags->items[i]);
		fprintf(stderr, "%s\n", line);
	}
}

bool vl_out_interactive(const struct vl_ctx *ctx)
{
	return ctx->tty_in && ctx->tty_err;
}

int vl_out_refuse_without_terminal(const char *cmd, const char *alternatives, struct vl_err *err)
{
	return vl_err_set(err, VL_E_USAGE, "%s: not a terminal, nobody to ask; use --force to go "
			  "ahead%s", cmd, alternatives ? alternatives : "");
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
