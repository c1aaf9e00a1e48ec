/* Drawing: compose each screen line as text and styled spans, compare it
 * with the line on screen, and write only what differs (tmux's dirty
 * marks). State is always a word and a symbol, never colour alone. */
#include "draw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "util/mem.h"
#include "util/str.h"

#define JOB_LINES_MAX 3

enum { P_HEADER = 1, P_RUNNING, P_OFF, P_PAUSED, P_CRASHED, P_ERR, P_BANNER, P_LAB };

void ui_draw_init(struct ui_draw *d, bool color, bool utf8)
{
	memset(d, 0, sizeof(*d));
	d->color = color;
	d->utf8 = utf8;
}

void ui_draw_release(struct ui_draw *d)
{
	free(d->cache);
	free(d->valid);
	d->cache = NULL;
	d->valid = NULL;
}

void ui_draw_colors(struct ui_draw *d)
{
	if (!d->color || !has_colors()) {
		d->color = false;
		return;
	}
	start_color();
	use_default_colors();   /* -1: the terminal's own fore- and background */
	init_pair(P_HEADER, -1, -1);
	init_pair(P_RUNNING, COLOR_GREEN, -1);
	init_pair(P_OFF, -1, -1);
	init_pair(P_PAUSED, COLOR_YELLOW, -1);
	init_pair(P_CRASHED, COLOR_RED, -1);
	init_pair(P_ERR, COLOR_RED, -1);
	init_pair(P_BANNER, COLOR_RED, -1);
	init_pair(P_LAB, COLOR_BLUE, -1);
}

void ui_draw_invalidate(struct ui_draw *d)
{
	if (d->valid)
		memset(d->valid, 0, (size_t)d->rows * sizeof(*d->valid));
}

static attr_t style_attr(const struct ui_draw *d, unsigned style)
{
	static const attr_t plain[UI_ST_N] = {
		[UI_ST_HEADER] = A_REVERSE, [UI_ST_TITLE] = A_UNDERLINE, [UI_ST_LAB] = A_BOLD,
		[UI_ST_SEL] = A_REVERSE, [UI_ST_RECENT] = A_BOLD, [UI_ST_ERR] = A_BOLD,
		[UI_ST_BANNER] = A_BOLD | A_REVERSE, [UI_ST_DIM] = A_DIM, [UI_ST_CRASHED] = A_BOLD,
	};
	static const short pair[UI_ST_N] = {
		[UI_ST_RUNNING] = P_RUNNING, [UI_ST_PAUSED] = P_PAUSED, [UI_ST_CRASHED] = P_CRASHED,
		[UI_ST_ERR] = P_ERR, [UI_ST_BANNER] = P_BANNER, [UI_ST_LAB] = P_LAB,
	};

	return plain[style] | (d->color && pair[style] ? COLOR_PAIR(pair[style]) : 0);
}

/* ---- composing a line ---- */

static size_t cols_of(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n && s[i]; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* Append s to the line, at most width columns, padded to width when pad. */
static void put(struct ui_line *l, const char *s, size_t width, bool pad)
{
	size_t len = strlen(l->text), room = UI_LINE_MAX - 1 - len, n = 0, c = 0;

	while (s[n] && n < room) {
		bool lead = ((unsigned char)s[n] & 0xc0) != 0x80;
		if (lead && c == width)
			break;
		c += lead;
		n++;
	}
	while (n && n < strlen(s) && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;    /* never cut a character in two */
	for (size_t i = 0; i < n; i++)   /* a tab or newline (an error, a guest) would move the cursor */
		l->text[len + i] = (unsigned char)s[i] < 32 ? ' ' : s[i];
	len += n;
	for (; pad && c < width && len < UI_LINE_MAX - 1; c++)
		l->text[len++] = ' ';
	l->text[len] = '\0';
}

static void putf(struct ui_line *l, size_t width, bool pad, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void putf(struct ui_line *l, size_t width, bool pad, const char *fmt, ...)
{
	char tmp[UI_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(l, tmp, width, pad);
}

static void span(struct ui_line *l, size_t start, unsigned style)
{
	if (l->n_spans < UI_SPANS)
		l->spans[l->n_spans++] = (struct ui_span){ (unsigned short)start,
							   (unsigned short)strlen(l->text),
							   (unsigned char)style };
}

static void line_reset(struct ui_line *l, unsigned base)
{
	l->text[0] = '\0';
	l->base = (unsigned char)base;
	l->n_spans = 0;
}

static void fmt_bytes(char *out, size_t n, uint64_t b)
{
	if (b >= (10ULL << 30))
		snprintf(out, n, "%lluG", (unsigned long long)(b >> 30));
	else if (b >= (1ULL << 30))
		snprintf(out, n, "%.1fG", (double)b / (1 << 30));
	else
		snprintf(out, n, "%lluM", (unsigned long long)(b >> 20));
}

static void fmt_secs(char *out, size_t n, int64_t ms)
{
	long s = (long)(ms / 1000);

	if (s >= 86400)
		snprintf(out, n, "%ldd%02ldh", s / 86400, s / 3600 % 24);
	else if (s >= 3600)
		snprintf(out, n, "%ldh%02ldm", s / 3600, s / 60 % 60);
	else
		snprintf(out, n, "%ldm%02lds", s / 60, s % 60);
}

static const char *state_word(enum vl_vm_state s)
{
	static const char *const w[] = {
		[VL_VM_MISSING] = "not created", [VL_VM_RUNNING] = "running", [VL_VM_PAUSED] = "paused",
		[VL_VM_SHUTOFF] = "shut off", [VL_VM_CRASHED] = "crashed", [VL_VM_OTHER] = "other",
	};
	return w[s];
}

static const char *state_sym(const struct ui_draw *d, enum vl_vm_state s)
{
	static const char *const u[] = {
		[VL_VM_MISSING] = "?", [VL_VM_RUNNING] = "●", [VL_VM_PAUSED] = "‖",
		[VL_VM_SHUTOFF] = "○", [VL_VM_CRASHED] = "✗", [VL_VM_OTHER] = "·",
	};
	static const char *const a[] = {
		[VL_VM_MISSING] = "?", [VL_VM_RUNNING] = "*", [VL_VM_PAUSED] = "=",
		[VL_VM_SHUTOFF] = "o", [VL_VM_CRASHED] = "!", [VL_VM_OTHER] = ".",
	};
	return d->utf8 ? u[s] : a[s];
}

static unsigned state_style(enum vl_vm_state s)
{
	switch (s) {
	case VL_VM_RUNNING: return UI_ST_RUNNING;
	case VL_VM_PAUSED: return UI_ST_PAUSED;
	case VL_VM_CRASHED: return UI_ST_CRASHED;
	case VL_VM_SHUTOFF: return UI_ST_OFF;
	default: return UI_ST_DIM;
	}
}

static void compose_header(const struct ui_draw *d, const struct ui_view *v, struct ui_line *l)
{
	char mem[16] = "?", total[16] = "?";

	line_reset(l, UI_ST_HEADER);
	if (v->free_mem)
		fmt_bytes(mem, sizeof(mem), v->free_mem);
	if (v->mem_total)
		fmt_bytes(total, sizeof(total), v->mem_total);
	/* the URI last: a long one (a socket path) cuts nothing else */
	putf(l, (size_t)d->cols, true, " vmlab%s  running %zu  free %s of %s  accel %s  %s",
	     v->readonly ? " [readonly]" : "", ui_model_n_running(v->m), mem, total,
	     v->accel ? v->accel : "?", v->uri && *v->uri ? v->uri : "(libvirt default)");
}

/* The column titles; while the connection is lost, the banner instead
 * (the status line stays free for what a refused key says). */
static void compose_title(const struct ui_draw *d, const struct ui_view *v, struct ui_line *l)
{
	if (!v->m->connected) {
		line_reset(l, UI_ST_BANNER);
		putf(l, (size_t)d->cols, true, "libvirt connection lost (%s): reconnecting; actions off",
		     v->m->lost_reason ? v->m->lost_reason : "?");
		return;
	}
	line_reset(l, UI_ST_TITLE);
	putf(l, (size_t)d->cols, true, "    %-16s %-11s %-15s %4s %6s %6s %7s %-3s", "NAME",
	     "STATE", "IP", "VCPU", "MEM", "CPU%", "UPTIME", "CHG");
}

/* A class: its seats and their VMs up, totalled. */
static void compose_class(const struct ui_draw *d, const struct ui_view *v, size_t li, bool sel,
			  struct ui_line *l)
{
	const struct ui_lab *first = &v->m->labs[li];
	const struct ui_class *c = &v->m->classes[first->cls];
	const char *arrow = d->utf8 ? (c->expanded ? "▾" : "▸") : (c->expanded ? "v" : ">");
	size_t seats = 0, up = 0, vms = 0, at;

	for (size_t i = 0; i < v->m->n_labs; i++) {
		const struct ui_lab *lab = &v->m->labs[i];
		if (!lab->seat || lab->cls != first->cls)
			continue;
		seats++;
		up += ui_lab_n_up(lab);
		vms += lab->n_vms;
	}
	line_reset(l, sel ? UI_ST_SEL : UI_ST_NORMAL);
	put(l, arrow, 2, true);
	at = strlen(l->text);
	putf(l, 30, false, "class %s", c->name);
	span(l, at, UI_ST_LAB);
	putf(l, (size_t)d->cols, true, "  %zu seats  %zu/%zu VMs up%s", seats, up, vms,
	     first->here ? "  (here)" : "");
}

static void compose_lab(const struct ui_draw *d, const struct ui_view *v, size_t li, bool sel,
			struct ui_line *l)
{
	const struct ui_lab *lab = &v->m->labs[li];
	const char *arrow = d->utf8 ? (lab->expanded ? "▾" : "▸") : (lab->expanded ? "v" : ">");
	char snaps[32] = "";

	line_reset(l, sel ? UI_ST_SEL : UI_ST_NORMAL);
	if (lab->n_snapshots >= 0)
		snprintf(snaps, sizeof(snaps), "  snaps %d", lab->n_snapshots);
	if (lab->seat)   /* a sub-group of its class */
		put(l, " ", 1, true);
	put(l, arrow, 2, true);
	size_t at = strlen(l->text);
	if (lab->seat)
		putf(l, 23, false, "seat %s", lab->seat);
	else
		put(l, lab->name, 24, false);
	span(l, at, UI_ST_LAB);
	if (!lab->exists)   /* only planned: u creates it */
		putf(l, (size_t)d->cols, true, "  0/%zu up  not created%s", lab->n_vms,
		     lab->here ? "  (here)" : "");
	else
		putf(l, (size_t)d->cols, true, "  %zu/%zu up%s  net %s %s%s%s", ui_lab_n_up(lab),
		     lab->n_vms, snaps, lab->subnet ? lab->subnet : "-",
		     lab->net_active ? "active" : "inactive", lab->here ? "  (here)" : "",
		     lab->mine ? "" : "  (other owner)");
}

static void compose_vm(const struct ui_draw *d, const struct ui_view *v, const struct ui_row *r,
		       bool sel, struct ui_line *l)
{
	const struct ui_vm *vm = &v->m->labs[r->lab].vms[r->vm];
	char mem[32] = "-", cpu[32] = "-", up[48] = "-";
	bool recent = ui_vm_recent(vm, v->now_ms);
	size_t at;

	line_reset(l, sel ? UI_ST_SEL : recent ? UI_ST_RECENT : UI_ST_NORMAL);
	if (vm->memory)
		fmt_bytes(mem, sizeof(mem), vm->memory);
	if (vm->cpu >= 0)
		snprintf(cpu, sizeof(cpu), "%.1f", vm->cpu);
	if (vm->up_since_ms && vm->state == VL_VM_RUNNING)
		fmt_secs(up, sizeof(up), v->now_ms - vm->up_since_ms);
	put(l, vm->marked ? " +" : "  ", 2, true);
	at = strlen(l->text);
	putf(l, 2, true, "%s ", state_sym(d, vm->state));
	span(l, at, state_style(vm->state));
	put(l, vm->name, 16, true);
	put(l, " ", 1, false);
	at = strlen(l->text);
	put(l, state_word(vm->state), 11, true);
	span(l, at, state_style(vm->state));
	/* changed since the newest snapshot: a word, blank when unknown */
	putf(l, (size_t)d->cols, true, " %-15s %4u %6s %6s %7s %-3s%s", vm->ip ? vm->ip : "-",
	     vm->cpus, mem, cpu, up, vm->dirty == VL_CHANGED_UNKNOWN ? "" : vl_changed_name(vm->dirty),
	     recent ? (d->utf8 ? " ◂" : " <") : "");
}

static size_t job_lines(const struct ui_view *v)
{
	size_t n = 0;

	if (!v->jobs)
		return 0;
	for (size_t i = 0; i < v->jobs->n_jobs && n < JOB_LINES_MAX; i++)
		n += ui_job_is_operation(v->jobs->jobs[i]->kind) && !v->jobs->jobs[i]->archived;
	return n;
}

static void compose_job(const struct ui_draw *d, const struct ui_view *v, const struct ui_job *j,
			struct ui_line *l)
{
	char t[48];
	size_t at;

	fmt_secs(t, sizeof(t), (j->running ? v->now_ms : j->ended_ms) - j->started_ms);
	line_reset(l, UI_ST_NORMAL);
	at = strlen(l->text);
	putf(l, (size_t)d->cols, false, "%s %s %s %s", j->running ? "[job]" : j->failed ? "[fail]" :
	     "[done]", ui_job_kind_name(j->kind), j->lab_name, t);
	span(l, at, j->failed ? UI_ST_ERR : UI_ST_LAB);
	if (j->failed) {
		putf(l, (size_t)d->cols, false, "  %s", j->err.msg);
	} else {
		for (size_t i = 0; i < j->n_items; i++) {
			const struct ui_job_item *it = &j->items[i];
			if (it->phase == UI_PH_DOWNLOAD && it->total)
				putf(l, (size_t)d->cols, false, "  %s download %llu%%", it->subject,
				     (unsigned long long)(it->done * 100 / it->total));
			else
				putf(l, (size_t)d->cols, false, "  %s %s", it->subject,
				     ui_phase_name(it->phase));
		}
	}
	put(l, "", (size_t)d->cols, true);
}

int ui_draw_list_height(const struct ui_draw *d, const struct ui_view *v)
{
	int h = d->rows - 4 - (int)job_lines(v);
	return h > 1 ? h : 1;
}

static void compose_footer(const struct ui_draw *d, const struct ui_view *v, struct ui_line *l)
{
	const struct ui_row *r = ui_model_selected(v->m);
	struct vl_buf b = VL_BUF_INIT;
	unsigned ctx = r ? ui_key_row_ctx(r->kind == UI_ROW_CLASS, r->kind == UI_ROW_LAB,
					  v->m->labs[r->lab].seat) : 0;
	struct ui_range off[UI_SPANS];
	size_t n_off = 0;

	if (r && v->jobs && ui_jobs_running(v->jobs, v->m->labs[r->lab].id))
		ctx |= UI_CTX_JOB;
	/* lost: the actions stay where they were, greyed out */
	ui_keys_footer(ui_keys, ui_n_keys, ctx, v->readonly, (size_t)d->cols, &b,
		       v->m->connected ? NULL : off, UI_SPANS, &n_off);
	line_reset(l, UI_ST_TITLE);
	put(l, vl_buf_str(&b), (size_t)d->cols, true);
	for (size_t i = 0; i < n_off && off[i].end <= strlen(l->text); i++)
		if (l->n_spans < UI_SPANS)
			l->spans[l->n_spans++] = (struct ui_span){ (unsigned short)off[i].start,
								   (unsigned short)off[i].end,
								   UI_ST_DIM };
	vl_buf_release(&b);
}

static void compose_status(const struct ui_draw *d, const struct ui_view *v, struct ui_line *l)
{
	line_reset(l, v->status_err ? UI_ST_ERR : UI_ST_NORMAL);
	if (v->prompt && v->status && v->status_err)  /* what is wrong with the input */
		putf(l, (size_t)d->cols, true, "%s_  %s", v->prompt, v->status);
	else if (v->prompt)
		putf(l, (size_t)d->cols, true, "%s_", v->prompt);
	else if (v->status)
		put(l, v->status, (size_t)d->cols, true);
	else if (v->m->filter_src)
		putf(l, (size_t)d->cols, true, "filter: %s  (Esc clears)", v->m->filter_src);
	else
		put(l, "", (size_t)d->cols, true);
}

/* ---- writing ---- */

static bool line_eq(const struct ui_line *a, const struct ui_line *b)
{
	return a->base == b->base && a->n_spans == b->n_spans &&
	       !memcmp(a->spans, b->spans, a->n_spans * sizeof(*a->spans)) &&
	       vl_streq(a->text, b->text);
}

static void write_line(struct ui_draw *d, WINDOW *w, int y, const struct ui_line *l)
{
	attr_t base = style_attr(d, l->base);
	size_t pos = 0, len = strlen(l->text);

	wmove(w, y, 0);
	for (unsigned i = 0; i <= l->n_spans; i++) {
		size_t end = i < l->n_spans ? l->spans[i].start : len;
		if (end > pos) {
			wattrset(w, base);
			waddnstr(w, l->text + pos, (int)(end - pos));
		}
		if (i == l->n_spans)
			break;
		/* the selection's reverse stays over a span; a span adds its own */
		wattrset(w, base | style_attr(d, l->spans[i].style));
		waddnstr(w, l->text + l->spans[i].start, l->spans[i].end - l->spans[i].start);
		pos = l->spans[i].end;
	}
	wattrset(w, base);
	if (cols_of(l->text, len) < (size_t)d->cols)
		wclrtoeol(w);
	wattrset(w, A_NORMAL);
}

static void fit(struct ui_draw *d, WINDOW *w)
{
	int rows, cols;

	getmaxyx(w, rows, cols);
	if (rows == d->rows && cols == d->cols && d->cache)
		return;
	d->rows = rows;
	d->cols = cols < UI_LINE_MAX - 1 ? cols : UI_LINE_MAX - 1;
	free(d->cache);
	free(d->valid);
	d->cache = vl_calloc((size_t)(rows > 0 ? rows : 1), sizeof(*d->cache));
	d->valid = vl_calloc((size_t)(rows > 0 ? rows : 1), sizeof(*d->valid));
	wclear(w);
}

/* Cut a line at the screen's width: curses would wrap the rest onto the
 * next row, which the cache then believes unchanged (a garbled footer under
 * a long job error). */
static void clip(struct ui_line *l, size_t cols)
{
	size_t i = 0, c = 0;

	for (; l->text[i]; i++) {
		if (((unsigned char)l->text[i] & 0xc0) != 0x80 && c++ == cols)
			break;
	}
	l->text[i] = '\0';
	for (unsigned k = 0; k < l->n_spans; k++) {
		if (l->spans[k].end > i)
			l->spans[k].end = (unsigned short)i;
		if (l->spans[k].start > l->spans[k].end)
			l->spans[k].start = l->spans[k].end;
	}
}

static int emit(struct ui_draw *d, WINDOW *w, int y, struct ui_line *l)
{
	if (y < 0 || y >= d->rows)
		return 0;
	clip(l, (size_t)d->cols);
	if (d->valid[y] && line_eq(&d->cache[y], l))
		return 0;
	/* the last column of the last line would scroll some terminals */
	write_line(d, w, y, l);
	d->cache[y] = *l;
	d->valid[y] = true;
	return 1;
}

int ui_draw_frame(struct ui_draw *d, WINDOW *w, const struct ui_view *v)
{
	struct ui_line l;
	int n = 0, list_h, y;
	size_t jl;

	fit(d, w);
	if (d->rows < 5 || d->cols < 20) {
		line_reset(&l, UI_ST_NORMAL);
		put(&l, "vmlab: terminal too small", (size_t)d->cols, true);
		n = emit(d, w, 0, &l);
		goto out;
	}
	list_h = ui_draw_list_height(d, v);
	/* keep the selection in view */
	if (v->m->sel < d->top)
		d->top = v->m->sel;
	if (v->m->sel >= d->top + (size_t)list_h)
		d->top = v->m->sel - (size_t)list_h + 1;
	if (d->top + (size_t)list_h > v->m->n_rows)
		d->top = v->m->n_rows > (size_t)list_h ? v->m->n_rows - (size_t)list_h : 0;

	compose_header(d, v, &l);
	n += emit(d, w, 0, &l);
	compose_title(d, v, &l);
	n += emit(d, w, 1, &l);
	for (y = 0; y < list_h; y++) {
		size_t i = d->top + (size_t)y;
		if (i < v->m->n_rows) {
			const struct ui_row *r = &v->m->rows[i];
			if (r->kind == UI_ROW_CLASS)
				compose_class(d, v, r->lab, i == v->m->sel, &l);
			else if (r->kind == UI_ROW_LAB)
				compose_lab(d, v, r->lab, i == v->m->sel, &l);
			else
				compose_vm(d, v, r, i == v->m->sel, &l);
		} else {
			line_reset(&l, UI_ST_NORMAL);
			if (i == 0 && !v->m->n_rows)
				put(&l, v->m->filter_src ? "  nothing matches the filter" :
				    "  no vmlab labs on this connection", (size_t)d->cols, true);
		}
		n += emit(d, w, 2 + y, &l);
	}
	jl = job_lines(v);
	if (jl) {
		size_t shown = 0;
		pthread_mutex_lock(&v->jobs->lock);
		/* the newest jobs, one line each */
		for (size_t i = v->jobs->n_jobs; i-- > 0 && shown < jl;) {
			const struct ui_job *j = v->jobs->jobs[i];
			if (!ui_job_is_operation(j->kind) || j->archived)
				continue;
			compose_job(d, v, j, &l);
			n += emit(d, w, 2 + list_h + (int)shown++, &l);
		}
		pthread_mutex_unlock(&v->jobs->lock);
	}
	compose_footer(d, v, &l);
	n += emit(d, w, d->rows - 2, &l);
	compose_status(d, v, &l);
	n += emit(d, w, d->rows - 1, &l);
out:
	if (n) {
		wnoutrefresh(w);
		doupdate();
		d->lines_written += (unsigned long)n;
	}
	d->frames++;
	return n;
}

int ui_draw_text(struct ui_draw *d, WINDOW *w, const char *title, const char *text,
		 size_t first_line, const char *footer)
{
	struct ui_line l;
	const char *p = text;
	int n = 0;

	fit(d, w);
	line_reset(&l, UI_ST_HEADER);
	put(&l, title, (size_t)d->cols, true);
	n += emit(d, w, 0, &l);
	for (size_t skip = 0; skip < first_line && p && *p; skip++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	for (int y = 1; y < d->rows - 1; y++) {
		char buf[UI_LINE_MAX];
		size_t len = 0;
		line_reset(&l, UI_ST_NORMAL);
		if (p && *p) {
			const char *e = strchr(p, '\n');
			len = e ? (size_t)(e - p) : strlen(p);
			if (len >= sizeof(buf))
				len = sizeof(buf) - 1;
			memcpy(buf, p, len);
			buf[len] = '\0';
			for (size_t i = 0; i < len; i++)  /* control characters from a guest */
				if ((unsigned char)buf[i] < 32)
					buf[i] = ' ';
			put(&l, buf, (size_t)d->cols, true);
			p = e ? e + 1 : NULL;
		} else {
			put(&l, "", (size_t)d->cols, true);
		}
		n += emit(d, w, y, &l);
	}
	line_reset(&l, UI_ST_TITLE);
	put(&l, footer, (size_t)d->cols, true);
	n += emit(d, w, d->rows - 1, &l);
	if (n) {
		wnoutrefresh(w);
		doupdate();
		d->lines_written += (unsigned long)n;
	}
	d->frames++;
	return n;
}
